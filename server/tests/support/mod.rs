//! A real `kevdb serve` on loopback for tests, over an archive of
//! generated events two to four weeks old.
#![allow(dead_code)]

pub mod client;

use kevdb_gen::{GenConfig, Generator};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server; killed on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

use client::free_port;

/// Writes `n` generated observations spanning 14 days that ended 14 days ago.
pub fn archive_ndjson(n: u64) -> String {
    let now = chrono::Utc::now().timestamp();
    let cfg = GenConfig {
        observations: n,
        days: 14,
        seed: 42,
        clusters: 1,
        end_secs: now - 14 * 86_400,
        events_api_share: 0.3,
    };
    let mut s = String::new();
    for line in Generator::new(cfg) {
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// Ingests `ndjson` with the CLI, then serves the directory.
pub fn start(ndjson: &str, extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("input.ndjson");
    std::fs::write(&file, ndjson).expect("write input");
    let data = dir.path().join("db");
    let out = Command::new(env!("CARGO_BIN_EXE_kevdb"))
        .args(["ingest", "--no-progress", "--data"])
        .arg(&data)
        .arg(&file)
        .output()
        .expect("run kevdb ingest");
    assert!(out.status.success(), "ingest failed: {}", String::from_utf8_lossy(&out.stderr));
    serve(dir, &data, extra)
}

pub fn serve(dir: tempfile::TempDir, data: &Path, extra: &[&str]) -> Server {
    serve_with_env(dir, data, extra, &[])
}

/// [`serve`] with extra environment variables for the server.
pub fn serve_with_env(dir: tempfile::TempDir, data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_kevdb"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .args(extra)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kevdb serve");
    let server = Server { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(60);
    while http(port, "GET", "/healthz", None).map(|(code, _)| code) != Some(200) {
        assert!(Instant::now() < deadline, "kevdb serve did not become healthy");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// A minimal HTTP/1.1 request; returns (status, body).
pub fn http(port: u16, method: &str, path: &str, body: Option<&[u8]>) -> Option<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let body = body.unwrap_or(&[]);
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status: u16 = std::str::from_utf8(&raw[..split]).ok()?.split(' ').nth(1)?.parse().ok()?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut payload = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        payload = client::dechunk(&payload);
    }
    Some((status, payload))
}

/// The kubectl on this machine; fails loudly when it is missing.
pub fn kubectl() -> String {
    for candidate in ["/usr/bin/kubectl", "/usr/local/bin/kubectl"] {
        if Path::new(candidate).exists() {
            return candidate.to_string();
        }
    }
    panic!("kubectl is required for these tests and was not found in /usr/bin or /usr/local/bin");
}
