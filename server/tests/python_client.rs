//! The official Kubernetes Python client (`kubernetes` from PyPI) pages and
//! watches the archive. The package is installed with pip when missing; if
//! that fails the test fails loudly rather than passing.

mod support;

use std::collections::HashSet;
use std::process::Command;
use support::{archive_ndjson, start};

fn ensure_client() {
    let has = |py: &str| Command::new(py).args(["-c", "import kubernetes"]).status().is_ok_and(|s| s.success());
    if has("python3") {
        return;
    }
    let out = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "kubernetes"])
        .output()
        .expect("python3 is required for this test");
    assert!(out.status.success(), "pip install kubernetes failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(has("python3"), "the kubernetes package is still not importable after pip install");
}

#[test]
fn the_python_client_pages_and_resumes_watches_without_gaps() {
    ensure_client();
    let input = archive_ndjson(800);
    let uids: HashSet<String> = input
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["metadata"]["uid"].as_str().unwrap().to_string())
        .collect();
    let server = start(&input, &[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client_check.py");
    let out = Command::new("python3").arg(script).arg(server.url()).arg(uids.len().to_string()).output().unwrap();
    assert!(
        out.status.success(),
        "client_check.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok "));
}
