//! Health: whether the database can still be trusted, and what damage it
//! has found.
//!
//! - **Poison.** A write that failed to become durable, or a panic or error
//!   on a background thread, poisons the database (as fjall's "poison
//!   dart" does): every later call that writes or waits fails with
//!   [`Error::Poisoned`] carrying the first cause, until the database is
//!   reopened and recovers from its log. Nothing fails silently: a
//!   background thread that dies takes the database's health with it.
//! - **Damage.** Files or blocks that cannot be read are never served as
//!   garbage; each is reported as a [`Damage`] (file, offset, problem, what
//!   is not served) the moment it is found, at open or while serving, and
//!   kept for `/readyz`, `/metrics` and the log.

use crate::error::{Error, Result};
use parking_lot::Mutex;
use std::path::PathBuf;

/// Damage reports kept at most (later ones are counted, not kept).
const MAX_REPORTS: usize = 1000;

/// One piece of damage: what is wrong, where, and what is not served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The damaged file, when known.
    pub file: Option<PathBuf>,
    /// Where in `file` the damage starts, when known.
    pub offset: Option<u64>,
    /// What is wrong.
    pub problem: String,
    /// What is lost or not served because of it.
    pub lost: String,
}

impl Damage {
    /// Damage described by an error met while reading; `lost` says what is
    /// not served because of it.
    pub(crate) fn from_error(e: &Error, lost: impl Into<String>) -> Damage {
        let (file, offset) = match e {
            Error::Corrupt { path, offset, .. } => (Some(path.clone()), Some(*offset)),
            Error::Io { path, .. } | Error::UnsupportedVersion { path, .. } => (Some(path.clone()), None),
            _ => (None, None),
        };
        Damage { file, offset, problem: e.to_string(), lost: lost.into() }
    }

    /// Damage known only by its description.
    pub(crate) fn described(problem: impl Into<String>, lost: impl Into<String>) -> Damage {
        Damage { file: None, offset: None, problem: problem.into(), lost: lost.into() }
    }
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}; {}", self.problem, self.lost)
    }
}

/// A database's health at one moment (see [`crate::Db::health`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthReport {
    /// Why the database refuses writes, when it is poisoned.
    pub poisoned: Option<String>,
    /// Damage found at open and since, oldest first (at most 1000 kept).
    pub damage: Vec<Damage>,
    /// Damage reports found in all, including any not kept.
    pub damage_count: u64,
}

impl HealthReport {
    /// True when the database is not poisoned and has found no damage.
    pub fn is_healthy(&self) -> bool {
        self.poisoned.is_none() && self.damage_count == 0
    }
}

/// The health of an open database.
#[derive(Debug, Default)]
pub(crate) struct Health {
    poison: Mutex<Option<String>>,
    damage: Mutex<(Vec<Damage>, u64)>,
}

impl Health {
    /// Fails with [`Error::Poisoned`] once the database is poisoned.
    pub(crate) fn check(&self) -> Result<()> {
        match &*self.poison.lock() {
            Some(cause) => Err(Error::Poisoned(cause.clone())),
            None => Ok(()),
        }
    }

    /// Poisons the database with `cause`; the first cause is kept. Returns
    /// true when this call poisoned it. (Callers go through
    /// `Inner::poison`, which also wakes every waiter.)
    pub(crate) fn poison(&self, cause: String) -> bool {
        let mut poison = self.poison.lock();
        if poison.is_some() {
            return false;
        }
        tracing::error!(cause = %cause, "database poisoned: writes are refused until it is reopened");
        *poison = Some(cause);
        true
    }

    /// Records damage (once: the same damage found again is not repeated).
    pub(crate) fn report(&self, damage: Damage) {
        let mut guard = self.damage.lock();
        let (kept, count) = &mut *guard;
        if kept.contains(&damage) {
            return;
        }
        tracing::error!(
            file = ?damage.file,
            offset = ?damage.offset,
            problem = %damage.problem,
            lost = %damage.lost,
            "damage found"
        );
        *count += 1;
        if kept.len() < MAX_REPORTS {
            kept.push(damage);
        }
    }

    /// Records damage described by an error.
    pub(crate) fn report_error(&self, e: &Error, lost: impl Into<String>) {
        self.report(Damage::from_error(e, lost));
    }

    /// The damage found so far.
    pub(crate) fn damage(&self) -> Vec<Damage> {
        self.damage.lock().0.clone()
    }

    /// The latest damage report, if any.
    pub(crate) fn last_damage(&self) -> Option<Damage> {
        self.damage.lock().0.last().cloned()
    }

    pub(crate) fn report_now(&self) -> HealthReport {
        let (damage, damage_count) = self.damage.lock().clone();
        HealthReport { poisoned: self.poison.lock().clone(), damage, damage_count }
    }
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_cause_of_poison_is_kept_and_every_check_fails_with_it() {
        let h = Health::default();
        assert!(h.check().is_ok());
        assert!(h.poison("fsync failed".into()));
        assert!(!h.poison("later".into()));
        match h.check() {
            Err(Error::Poisoned(cause)) => assert_eq!(cause, "fsync failed"),
            other => panic!("{other:?}"),
        }
        assert_eq!(h.report_now().poisoned.as_deref(), Some("fsync failed"));
    }

    #[test]
    fn damage_is_typed_from_the_error_and_reported_once() {
        let h = Health::default();
        let e = Error::Corrupt { path: "seg".into(), offset: 42, expected: "crc 1".into(), found: "crc 2".into() };
        h.report_error(&e, "row group 3 not served");
        h.report_error(&e, "row group 3 not served");
        let report = h.report_now();
        assert_eq!(report.damage_count, 1);
        let d = &report.damage[0];
        assert_eq!((d.file.as_deref(), d.offset), (Some(std::path::Path::new("seg")), Some(42)));
        assert!(d.problem.contains("crc 2") && d.lost == "row group 3 not served", "{d:?}");
        assert!(!report.is_healthy());
    }

    #[test]
    fn panic_messages_are_read_from_either_payload_type() {
        let p = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(panic_message(&*p), "boom 1");
        let p = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(&*p), "static");
    }

    mod injected {
        //! Faults injected through failpoints on the background threads.
        use crate::db::append::tests::batch;
        use crate::failpoint::Failpoints;
        use crate::{Db, Error, Options, Query};
        use std::time::{Duration, Instant};

        fn options(failpoints: &str) -> Options {
            Options {
                memtable_rows: 100,
                maintenance_interval: Duration::from_millis(20),
                append_stall_timeout: Duration::from_secs(60),
                failpoints: Failpoints::parse(failpoints).unwrap(),
                ..Options::default()
            }
        }

        /// Appends until the database refuses; returns the rows acknowledged
        /// and the error. Fails the test if it never refuses.
        fn append_until_refused(db: &Db) -> (usize, Error) {
            let started = Instant::now();
            let mut acked = 0;
            loop {
                match db.append(batch(acked, 100)) {
                    Ok(r) => acked += r.accepted,
                    Err(e) => return (acked, e),
                }
                assert!(started.elapsed() < Duration::from_secs(20), "the database was never poisoned");
                std::thread::sleep(Duration::from_millis(5));
            }
        }

        fn poisoned_with(failpoints: &str, cause: &[&str]) {
            let dir = tempfile::tempdir().unwrap();
            let db = Db::open(dir.path(), options(failpoints)).unwrap();
            let started = Instant::now();
            let (acked, err) = append_until_refused(&db);
            // Refused at once with the cause, not `Busy` after the stall
            // timeout with no explanation.
            assert!(started.elapsed() < Duration::from_secs(20));
            match &err {
                Error::Poisoned(why) => assert!(cause.iter().all(|c| why.contains(c)), "{why}"),
                other => panic!("expected Poisoned, got {other}"),
            }
            let health = db.health();
            assert!(health.poisoned.as_deref().is_some_and(|p| cause.iter().all(|c| p.contains(c))), "{health:?}");
            // Every later write and wait fails the same way; reads still work.
            assert!(matches!(db.append(batch(10_000, 1)), Err(Error::Poisoned(_))));
            assert!(matches!(db.subscribe(&Query::new(), 0), Err(Error::Poisoned(_))));
            assert_eq!(db.query(&Query::new()).unwrap().count(), acked);
            assert!(db.close().is_err(), "close reports the poison");
            // Reopened without the fault, nothing acknowledged is missing.
            let db = Db::open(dir.path(), options("")).unwrap();
            assert_eq!(db.query(&Query::new()).unwrap().count(), acked);
            db.flush().unwrap();
            assert_eq!(db.query(&Query::new()).unwrap().count(), acked);
        }

        #[test]
        fn a_panic_on_the_maintenance_thread_poisons_the_database() {
            poisoned_with("seal=panic", &["maintenance thread panicked", "failpoint seal"]);
        }

        #[test]
        fn an_error_on_the_maintenance_thread_poisons_the_database() {
            poisoned_with("seal=error", &["background maintenance failed", "failpoint seal"]);
        }

        #[test]
        fn a_panic_on_the_commit_thread_poisons_the_database() {
            poisoned_with("commit=panic", &["commit thread panicked", "failpoint commit"]);
        }

        #[test]
        fn a_panic_on_the_compaction_thread_poisons_the_database() {
            let dir = tempfile::tempdir().unwrap();
            let opts = Options { compaction_min_segments: 2, ..options("compaction=panic") };
            let db = Db::open(dir.path(), opts).unwrap();
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut acked = 0;
            while db.health().poisoned.is_none() {
                assert!(Instant::now() < deadline, "compaction never ran");
                if let Ok(r) = db.append(batch(acked, 100)) {
                    acked += r.accepted;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let cause = db.health().poisoned.unwrap();
            assert!(cause.contains("compaction thread panicked"), "{cause}");
            assert!(matches!(db.append(batch(acked, 1)), Err(Error::Poisoned(_))));
        }

        #[test]
        fn an_append_held_back_by_sealing_is_released_by_poison_at_once() {
            let dir = tempfile::tempdir().unwrap();
            let opts = Options { maintenance_interval: Duration::from_secs(3600), ..options("") };
            let db = Db::open(dir.path(), opts).unwrap();
            // Hold sealing back until two frozen memtables wait.
            let sealing = db.inner.manifest.lock();
            let mut acked = 0;
            while db.inner.version().frozen.len() < 2 {
                acked += db.append(batch(acked, 100)).unwrap().accepted;
            }
            std::thread::scope(|s| {
                let held = s.spawn(|| db.append(batch(acked, 100)));
                std::thread::sleep(Duration::from_millis(200));
                assert!(!held.is_finished(), "the append should wait for sealing");
                let started = Instant::now();
                db.inner.poison("injected for the test".into());
                let outcome = held.join().unwrap();
                assert!(started.elapsed() < Duration::from_secs(5), "poison must wake the waiter");
                assert!(matches!(outcome, Err(Error::Poisoned(ref why)) if why == "injected for the test"));
            });
            drop(sealing);
        }
    }
}
