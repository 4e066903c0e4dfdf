//! Acknowledged appends survive `kill -9`: a child process appends in a
//! loop (with seals, compaction and WAL rotation going on in the
//! background) and is killed with SIGKILL at random moments; after every
//! kill the database must open without manual repair, hold every
//! acknowledged observation exactly once, and accept more appends.

mod common;

use common::*;
use kevdb_engine::{Db, Options};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_DIR: &str = "KEVDB_CRASH_CHILD_DIR";
const CHILD_START: &str = "KEVDB_CRASH_CHILD_START";
const ROUNDS: u64 = 24;

fn options() -> Options {
    Options {
        memtable_rows: 150,
        row_group_rows: 32,
        compaction_min_segments: 3,
        maintenance_interval: Duration::from_millis(20),
        ..Options::default()
    }
}

/// A tiny deterministic generator (no dependency needed for this).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}

/// The child: append forever, printing each acknowledged observation.
fn child(dir: &str, start: u64) -> ! {
    let db = Db::open(dir, options()).expect("child open");
    let mut rng = Lcg(start ^ 0x9e37_79b9);
    let mut counts: Vec<i64> = Vec::new();
    let stdout = std::io::stdout();
    loop {
        let mut batch = Vec::new();
        for _ in 0..1 + rng.next(20) {
            let pick = rng.next(4);
            let (i, count) = if counts.is_empty() || pick == 0 {
                counts.push(1);
                (counts.len() - 1, 1)
            } else {
                let i = rng.next(counts.len() as u64) as usize;
                if pick == 1 {
                    (i, counts[i]) // an exact re-delivery
                } else {
                    counts[i] += 1; // a newer observation
                    (i, counts[i])
                }
            };
            let uid = format!("c{start}-{i}");
            let day = (start as i64 + i as i64) % 5;
            batch.push(event(&uid, "crash", "BackOff", "Pod", &uid, count, BASE + day * DAY + count * 60_000_000));
        }
        let lines: Vec<String> = batch.iter().map(|e| format!("{} {}", e.uid(), e.observed_count() * 10)).collect();
        db.append(batch).expect("child append");
        let mut out = stdout.lock();
        for l in lines {
            let _ = writeln!(out, "ack {l}");
        }
        let _ = out.flush();
    }
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    if let (Ok(dir), Ok(start)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_START)) {
        child(&dir, start.parse().expect("start"));
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked: BTreeSet<(String, String)> = BTreeSet::new();
    let mut rng = Lcg(Instant::now().elapsed().as_nanos() as u64 ^ 0x5eed);
    let mut truncated_tails = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args(["--exact", "acknowledged_appends_survive_sigkill", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_START, (round * 100_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("ack ") {
                    let _ = tx.send(rest.to_string());
                }
            }
        });
        // Wait for the first acknowledgement, then kill at a random moment.
        let first = rx.recv_timeout(Duration::from_secs(30)).expect("child acknowledged nothing");
        std::thread::sleep(Duration::from_millis(10 + rng.next(250)));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        for line in std::iter::once(first).chain(rx.try_iter()) {
            let (uid, rv) = line.split_once(' ').unwrap();
            acked.insert((uid.to_string(), rv.to_string()));
        }

        let db = Db::open(dir.path(), Options { background: false, ..options() }).unwrap();
        let report = db.open_report().clone();
        assert!(report.is_clean(), "round {round}: {report:?}");
        truncated_tails += report.wal_truncated.len();
        let stored = history(&db);
        for key in &acked {
            assert_eq!(stored.get(key), Some(&1), "round {round}: acknowledged {key:?} missing or duplicated");
        }
        assert!(stored.values().all(|&n| n == 1), "round {round}: duplicated observations");
        // Unacknowledged appends may or may not have landed; nothing else may appear.
        db.close().unwrap();
    }
    assert!(acked.len() > 100, "only {} acknowledged observations", acked.len());
    eprintln!(
        "{} observations acknowledged over {ROUNDS} kills; {truncated_tails} torn WAL tails truncated",
        acked.len()
    );
}
