//! Security of the HTTP API against the real `kevdb serve` binary:
//! `--token-auth-file` bearer tokens (401 without or with an unknown token,
//! 403 with the API server's message for a read-only token writing, 201/200
//! for tokens with the scope), open health endpoints, the loopback rule, and
//! hostile input that must not take the server down.

mod support;

use serde_json::{json, Value};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;
use support::client::*;

fn event(name: &str) -> Value {
    json!({
        "metadata": {"name": name, "uid": format!("uid-{name}")},
        "involvedObject": {"kind": "Pod", "namespace": "ns", "name": "p"},
        "reason": "Started",
        "message": "Started container",
        "type": "Normal",
        "lastTimestamp": "2026-11-20T10:05:00Z"
    })
}

const TOKENS: &str = "# kevdb tokens\nread-token,reader,u1\nwrite-token,writer,u2,\"dev,kevdb:write\"\nadmin-token,root,u3,\"kevdb:admin\"\nro-token,viewer,u4,kevdb:read\n";

fn start_with_tokens() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("tokens.csv");
    std::fs::write(&file, TOKENS).expect("write tokens");
    let srv = start(&["--token-auth-file", file.to_str().expect("utf-8 path")]);
    (srv, dir)
}

fn auth(token: &str) -> String {
    format!("Bearer {token}")
}

fn post(srv: &Server, path: &str, token: Option<&str>, v: &Value) -> Resp {
    let a = token.map(auth);
    let mut h = vec![("Content-Type", "application/json")];
    if let Some(a) = &a {
        h.push(("Authorization", a.as_str()));
    }
    request(srv, "POST", path, &h, v.to_string().as_bytes())
}

fn get_as(srv: &Server, path: &str, token: Option<&str>) -> Resp {
    let a = token.map(auth);
    let h: Vec<(&str, &str)> = a.as_deref().map(|a| vec![("Authorization", a)]).unwrap_or_default();
    request(srv, "GET", path, &h, b"")
}

#[test]
fn tokens_gate_reads_and_writes() {
    let (srv, _tokens) = start_with_tokens();
    let path = "/api/v1/namespaces/ns/events";
    // Health stays open.
    for p in ["/healthz", "/readyz", "/livez"] {
        assert_eq!(get_as(&srv, p, None).status, 200, "{p}");
    }
    // No token, a wrong token, a malformed header: 401 everywhere else.
    assert_status(&get_as(&srv, path, None), 401, "Unauthorized");
    assert_status(&get_as(&srv, "/metrics", None), 401, "Unauthorized");
    assert_status(&get_as(&srv, "/api", None), 401, "Unauthorized");
    assert_status(&get_as(&srv, path, Some("nope")), 401, "Unauthorized");
    assert_status(&get_as(&srv, path, Some("read-token-x")), 401, "Unauthorized");
    let r = request(&srv, "GET", path, &[("Authorization", "Basic cmVhZC10b2tlbjo=")], b"");
    assert_status(&r, 401, "Unauthorized");
    assert_status(&post(&srv, path, None, &event("a")), 401, "Unauthorized");
    assert_status(&post(&srv, path, Some("bad"), &event("a")), 401, "Unauthorized");

    // Read-only tokens (no kevdb group, or kevdb:read) cannot write.
    for t in ["read-token", "ro-token"] {
        let v = assert_status(&post(&srv, path, Some(t), &event("a")), 403, "Forbidden");
        let user = if t == "read-token" { "reader" } else { "viewer" };
        assert_eq!(
            v["message"],
            format!("events is forbidden: User \"{user}\" cannot create resource \"events\" in API group \"\" in the namespace \"ns\"")
        );
    }
    let v = assert_status(
        &post(&srv, "/apis/events.k8s.io/v1/namespaces/x/events", Some("read-token"), &event("a")),
        403,
        "Forbidden",
    );
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("in API group \"events.k8s.io\" in the namespace \"x\"")),
        "{v}"
    );
    let r = request(
        &srv,
        "POST",
        "/kevdb/v1/ingest",
        &[("Authorization", "Bearer read-token")],
        event("a").to_string().as_bytes(),
    );
    assert_status(&r, 403, "Forbidden");
    assert_eq!(get_as(&srv, path, Some("read-token")).json()["items"], json!([]), "nothing was written");

    // Write and admin tokens write; every token reads.
    assert_eq!(post(&srv, path, Some("write-token"), &event("a")).status, 201);
    assert_eq!(post(&srv, path, Some("admin-token"), &event("b")).status, 201);
    for t in ["read-token", "ro-token", "write-token", "admin-token"] {
        let r = get_as(&srv, "/api/v1/namespaces/ns/events/a", Some(t));
        assert_eq!(r.status, 200, "{t}: {}", r.text());
        assert_eq!(r.json()["reason"], "Started");
    }
    let list = get_as(&srv, path, Some("read-token"));
    assert_eq!(list.json()["items"].as_array().map(Vec::len), Some(2));
    assert!(get_as(&srv, "/metrics", Some("read-token")).text().contains("kevdb_ingest_accepted_total 2"));
}

#[test]
fn without_a_token_file_everything_is_open() {
    let srv = start(&[]);
    assert_eq!(post(&srv, "/api/v1/namespaces/ns/events", None, &event("a")).status, 201);
    assert_eq!(get_as(&srv, "/api/v1/namespaces/ns/events/a", Some("ignored")).status, 200);
}

#[test]
fn non_loopback_listen_needs_auth_or_allow_anonymous() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_kevdb"))
        .args(["serve", "--data"])
        .arg(dir.path())
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .expect("run kevdb");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("without authentication"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A bad token file is refused at start.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "only-a-token\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_kevdb"))
        .args(["serve", "--data"])
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0", "--token-auth-file"])
        .arg(&bad)
        .output()
        .expect("run kevdb");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("token-auth-file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn hostile_input_does_not_take_the_server_down() {
    let srv = start(&[]);
    let path = "/api/v1/namespaces/ns/events";
    let json_ct = [("Content-Type", "application/json")];
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bodies: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"null".to_vec(),
        b"\"string\"".to_vec(),
        deep.clone().into_bytes(),
        b"{\"metadata\":{\"name\":\"x\"},\"count\":1e400}".to_vec(),
        b"{\"metadata\":{\"name\":\"x\"},\"lastTimestamp\":\"not a time\"}".to_vec(),
        b"{\"metadata\":{\"name\":\"x\"},\"count\":99999999999}".to_vec(),
        b"{\"metadata\":{\"name\":7}}".to_vec(),
        b"{\"metadata\":{\"name\":\"x\",\"namespace\":{}}}".to_vec(),
        b"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"}}".to_vec(),
        vec![0u8; 4096],
    ];
    for b in &bodies {
        let r = request(&srv, "POST", path, &json_ct, b);
        assert!(
            (400..500).contains(&r.status),
            "{} for {:?}",
            r.status,
            String::from_utf8_lossy(&b[..b.len().min(60)])
        );
        assert_eq!(r.json()["kind"], "Status");
    }
    for b in &bodies {
        let r = request(&srv, "POST", "/kevdb/v1/ingest", &[], b);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["accepted"], 0, "{}", r.text());
    }
    // A huge Content-Length that is never sent is refused at once.
    let r =
        request(&srv, "POST", path, &[("Content-Type", "application/json"), ("Content-Length", "99999999999")], b"");
    assert!(r.status == 413 || r.status == 400, "{}", r.status);
    // Still serving.
    assert_eq!(request(&srv, "GET", "/healthz", &[], b"").status, 200);
    assert_eq!(post(&srv, path, None, &event("after")).status, 201);
}

/// A self-signed certificate for 127.0.0.1 and localhost (EC P-256, valid
/// 2026-11-24 to 2126), made with `openssl req -x509` for these tests only.
const TEST_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBvjCCAWSgAwIBAgIUJEPLBb2jw3wrSSKjgO2benaLSEEwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKa2V2ZGItdGVzdDAgFw0yNjExMjQxMDI0MDNaGA8yMTI2MTAz
MTEwMjQwM1owFTETMBEGA1UEAwwKa2V2ZGItdGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABLeAdWDovV8ULZBE7GcSrimWRS+jlZuA4ntvi/MZ214VC0PvoXqz
T9aRyVCBrxJ2oJ1ilXpe+XWKMQbgpFlmJ9qjgY8wgYwwHQYDVR0OBBYEFFJmU9hJ
nnrknnHznSA9cai8/BdcMB8GA1UdIwQYMBaAFFJmU9hJnnrknnHznSA9cai8/Bdc
MBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAMBgNVHRMBAf8EAjAAMAsGA1Ud
DwQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDATAKBggqhkjOPQQDAgNIADBFAiEA
hdIhjvnuwId2xkAiND8mBdlsOsnEIzMZYxYSDrxoHWUCICOulFWLb3s+32g5hkd9
wcTgrPRcOgSvewcuO+fhNB6e
-----END CERTIFICATE-----
";
/// The private key of [`TEST_CERT`] (test-only, never used elsewhere).
const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgymOKYrkVG05uMdv3
RtQ3OSDfcQdIRSeNNKUxwUZ8WUahRANCAAS3gHVg6L1fFC2QROxnEq4plkUvo5Wb
gOJ7b4vzGdteFQtD76F6s0/WkclQga8SdqCdYpV6Xvl1ijEG4KRZZifa
-----END PRIVATE KEY-----
";

fn tls_client() -> std::sync::Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let cert = rustls::pki_types::CertificateDer::from_pem_slice(TEST_CERT.as_bytes()).expect("cert");
    roots.add(cert).expect("add root");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    std::sync::Arc::new(cfg)
}

fn tls_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Resp> {
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let conn = rustls::ClientConnection::new(tls_client(), name).map_err(std::io::Error::other)?;
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    exchange(rustls::StreamOwned::new(conn, tcp), addr, method, path, headers, body)
}

#[test]
fn tls_serves_https_with_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key, tokens) = (dir.path().join("tls.crt"), dir.path().join("tls.key"), dir.path().join("tokens.csv"));
    std::fs::write(&cert, TEST_CERT).expect("write cert");
    std::fs::write(&key, TEST_KEY).expect("write key");
    std::fs::write(&tokens, TOKENS).expect("write tokens");
    let path_str = |p: &std::path::Path| p.to_str().expect("utf-8 path").to_owned();
    let (c, k, t) = (path_str(&cert), path_str(&key), path_str(&tokens));
    let srv = start_probed(&["--tls-cert-file", &c, "--tls-private-key-file", &k, "--token-auth-file", &t], |addr| {
        tls_request(addr, "GET", "/healthz", &[], b"").map(|r| r.status)
    });
    let body = event("tls").to_string();
    let r = tls_request(
        srv.addr,
        "POST",
        "/api/v1/namespaces/ns/events",
        &[("Content-Type", "application/json"), ("Authorization", "Bearer write-token")],
        body.as_bytes(),
    )
    .expect("https POST");
    assert_eq!(r.status, 201, "{}", r.text());
    let r = tls_request(
        srv.addr,
        "GET",
        "/api/v1/namespaces/ns/events/tls",
        &[("Authorization", "Bearer read-token")],
        b"",
    )
    .expect("https GET");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["reason"], "Started");
    let r = tls_request(srv.addr, "GET", "/api/v1/namespaces/ns/events/tls", &[], b"").expect("https GET");
    assert_status(&r, 401, "Unauthorized");
    // Plain HTTP to the TLS port gets no HTTP answer, and the server goes on.
    assert!(try_request(srv.addr, "GET", "/healthz", &[], b"").map_or(true, |r| r.status != 200));
    // A client that connects and says nothing does not block others.
    let _silent = TcpStream::connect(srv.addr).expect("connect");
    assert_eq!(tls_request(srv.addr, "GET", "/healthz", &[], b"").expect("https").status, 200);
}

#[test]
fn tls_flags_are_checked_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = dir.path().join("tls.crt");
    std::fs::write(&cert, TEST_CERT).expect("write cert");
    let run = |args: &[&std::ffi::OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_kevdb"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(dir.path().join("db"))
            .args(args)
            .output()
            .expect("run kevdb")
    };
    // A certificate without its key, and a "key" that is a certificate.
    let out = run(&["--tls-cert-file".as_ref(), cert.as_os_str()]);
    assert!(!out.status.success());
    let out = run(&["--tls-cert-file".as_ref(), cert.as_os_str(), "--tls-private-key-file".as_ref(), cert.as_os_str()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("tls-private-key-file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn only_admins_purge_and_purged_events_are_gone() {
    let (srv, _tokens) = start_with_tokens();
    for i in 0..4 {
        let r = post(&srv, "/api/v1/namespaces/ns/events", Some("write-token"), &event(&format!("e{i}")));
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let count = |srv: &Server| {
        get_as(srv, "/api/v1/namespaces/ns/events", Some("read-token")).json()["items"].as_array().unwrap().len()
    };
    assert_eq!(count(&srv), 4);
    let path = "/api/v1/namespaces/ns/events?fieldSelector=metadata.name%3De1";
    let auth_header = |t: &str| format!("Bearer {t}");
    let r = request(&srv, "DELETE", path, &[("Authorization", &auth_header("write-token"))], b"");
    let s = assert_status(&r, 403, "Forbidden");
    assert!(s["message"].as_str().unwrap().contains("cannot deletecollection resource \"events\""), "{s}");
    let r = request(&srv, "DELETE", "/api/v1/events", &[("Authorization", &auth_header("admin-token"))], b"");
    assert_status(&r, 400, "BadRequest");
    let r = request(&srv, "DELETE", path, &[("Authorization", &auth_header("admin-token"))], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["message"], "1 observations purged");
    assert_eq!(count(&srv), 3);
    let r = get_as(&srv, "/api/v1/namespaces/ns/events/e1", Some("read-token"));
    assert_status(&r, 404, "NotFound");
}
