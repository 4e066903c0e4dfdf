//! `kevdb ingest` of the real dumps in `../shared/data/dumps` (events mixed
//! with nodes, pods, log sections, Go field names) and of event files in
//! the shapes support tools pack them: compressed with gzip or zstd, inside
//! a sonobuoy-style tar.gz, in a must-gather directory tree. Expected
//! counts come from the files themselves: every event has exactly one
//! `involvedObject` (or Go-named `InvolvedObject`) key.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data").join(rel)
}

fn kevdb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kevdb")).args(args).output().expect("run kevdb")
}

fn ingest(data: &Path, inputs: &[&Path], extra: &[&str]) -> Output {
    let mut args = vec!["ingest", "--no-progress", "--data", data.to_str().expect("utf-8")];
    args.extend_from_slice(extra);
    args.extend(inputs.iter().map(|p| p.to_str().expect("utf-8")));
    kevdb(&args)
}

/// Events stored (every observation).
fn stored(data: &Path) -> usize {
    let out = kevdb(&["query", "--data", data.to_str().expect("utf-8"), "-A", "--history", "-o", "ndjson"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count()
}

/// Events in a file, by its `involvedObject` keys.
fn events_in(text: &str) -> usize {
    text.matches("\"involvedObject\":").count() + text.matches("\"InvolvedObject\":").count()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn cluster_info_dumps_keep_the_events_and_skip_the_rest() {
    for dump in [
        "dumps/craig8__blockchain-automation-framework/cluster-dump.txt",
        "dumps/hughbrien__hugh-bank-of-anthos/cluster-info.txt",
        "dumps/wangwg2__kubernetes-vagrant-centos-cluster/cluster-info-dump.json",
    ] {
        let path = shared(dump);
        let text = std::fs::read_to_string(&path).expect("read dump");
        let expected = events_in(&text);
        assert!(expected > 50, "{dump}: the oracle found {expected} events");
        let dir = tempfile::tempdir().expect("tempdir");
        let out = ingest(dir.path(), &[&path], &[]);
        assert!(out.status.success(), "{dump}: {}", stderr(&out));
        assert!(stderr(&out).contains(&format!("{expected} accepted")), "{dump}: {}", stderr(&out));
        assert!(!stderr(&out).contains(" 0 not events"), "{dump}: other kinds were skipped: {}", stderr(&out));
        assert_eq!(stored(dir.path()), expected, "{dump}");
        // Strict mode reports the other kinds instead.
        let strict = tempfile::tempdir().expect("tempdir");
        let out = ingest(strict.path(), &[&path], &["--strict"]);
        assert_eq!(out.status.code(), Some(3), "{dump}: {}", stderr(&out));
    }
    // Go field names come back in the API's spelling.
    let dir = tempfile::tempdir().expect("tempdir");
    let go = shared("dumps/wangwg2__kubernetes-vagrant-centos-cluster/cluster-info-dump.json");
    assert!(ingest(dir.path(), &[&go], &[]).status.success());
    let out = kevdb(&["query", "--data", dir.path().to_str().expect("utf-8"), "-A", "-o", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let first = &list["items"][0];
    assert!(first["involvedObject"]["kind"].is_string() && first["metadata"]["uid"].is_string(), "{first}");
    assert!(first["reason"].is_string() && first.get("Reason").is_none(), "{first}");
}

#[test]
fn compressed_files_archives_and_directory_trees() {
    let work = tempfile::tempdir().expect("tempdir");
    let sonobuoy = shared("events/vmware-tanzu__sonobuoy");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&sonobuoy).expect("sonobuoy dir").map(|e| e.expect("entry").path()).collect();
    files.sort();
    let texts: Vec<String> = files.iter().map(|f| std::fs::read_to_string(f).expect("read")).collect();
    let total: usize = texts.iter().map(|t| events_in(t)).sum();
    assert!(total > 100);

    // gzip and zstd, told from the content (no telling file names).
    let gz = work.path().join("a.bin");
    let mut enc =
        flate2::write::GzEncoder::new(std::fs::File::create(&gz).expect("create"), flate2::Compression::default());
    enc.write_all(texts[0].as_bytes()).expect("gzip");
    enc.finish().expect("gzip");
    let zst = work.path().join("b.bin");
    std::fs::write(&zst, zstd::encode_all(texts[1].as_bytes(), 3).expect("zstd")).expect("write");
    let data = work.path().join("db1");
    let out = ingest(&data, &[&gz, &zst], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stored(&data), events_in(&texts[0]) + events_in(&texts[1]));

    // A sonobuoy results tarball: resources/ns/<ns>/Events.json among
    // other resources, plugin output and a nested archive.
    let tarball = work.path().join("results.tar.gz");
    {
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&tarball).expect("create"),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        let mut add = |path: &str, bytes: &[u8]| {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, path, bytes).expect("append");
        };
        for (i, t) in texts.iter().enumerate().take(3) {
            add(&format!("resources/ns/ns{i}/Events.json"), t.as_bytes());
        }
        add("resources/ns/ns0/Pods.json", br#"{"kind":"PodList","items":[{"metadata":{"name":"p"}}]}"#);
        add("plugins/e2e/results/junit.xml", b"<testsuite/>");
        let mut inner = Vec::new();
        {
            let mut t = tar::Builder::new(&mut inner);
            let mut h = tar::Header::new_gnu();
            h.set_size(texts[3].len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            t.append_data(&mut h, "resources/ns/late/Events.json", texts[3].as_bytes()).expect("append");
            t.finish().expect("finish");
        }
        add("meta/inner.tar", &inner);
        tar.into_inner().expect("tar").finish().expect("gzip");
    }
    let data = work.path().join("db2");
    let out = ingest(&data, &[&tarball], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stored(&data), total, "every Events.json, the nested one too: {}", stderr(&out));
    assert!(stderr(&out).contains("ingested 4 source(s)"), "only the event files were read: {}", stderr(&out));

    // A must-gather tree, kept in a folder whose own name says "events":
    // files are chosen by their path inside the tree, so its logs and pod
    // lists are still passed over.
    let tree = work.path().join("events-backup");
    let mg = shared("events/openshift__must-gather-clean/pkg__cli__testfiles__release-4.8__namespaces__kube-system__core__events.yaml");
    let events_yaml = std::fs::read_to_string(&mg).expect("must-gather events");
    let ns = tree.join("quay-io-openshift/namespaces/kube-system");
    std::fs::create_dir_all(ns.join("core")).expect("mkdir");
    std::fs::create_dir_all(ns.join("pods/etcd")).expect("mkdir");
    std::fs::write(ns.join("core/events.yaml"), &events_yaml).expect("write");
    std::fs::write(ns.join("core/pods.yaml"), "kind: PodList\nitems: []\n").expect("write");
    std::fs::write(ns.join("pods/etcd/etcd.log"), "2026-11-01 not yaml: [\n").expect("write");
    let data = work.path().join("db3");
    let out = ingest(&data, &[&tree], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = {
        let v: serde_json::Value = serde_norway::from_str(&events_yaml).expect("yaml");
        v["items"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(stored(&data), expected);

    // A file that is not there is an error, not a silent no-op.
    let out = ingest(&data, &[&work.path().join("missing.json")], &[]);
    assert_eq!(out.status.code(), Some(1));
}
