//! The background threads and how they are reached: the commit thread's
//! queue, the maintenance and compaction threads' wake-up channels, the
//! signals waiters sleep on, and the wrapper that turns a panic on any of
//! these threads into poison instead of a silently dead thread.

use super::Inner;
use crate::db::health::panic_message;
use crate::error::{Error, Result};
use crossbeam_channel::Sender;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

/// A message to the maintenance or compaction thread.
#[derive(Debug)]
pub(crate) enum WorkerMsg {
    Wake,
    Stop,
}

/// The channels to the background threads.
#[derive(Debug)]
pub(crate) struct Workers {
    pub commit: Sender<super::commit::CommitMsg>,
    maintenance: Mutex<Option<Sender<WorkerMsg>>>,
    compaction: Mutex<Option<Sender<WorkerMsg>>>,
    /// Set when the database closes: a merge in progress gives up.
    closing: AtomicBool,
}

impl Workers {
    pub(crate) fn new(commit: Sender<super::commit::CommitMsg>) -> Workers {
        Workers { commit, maintenance: Mutex::new(None), compaction: Mutex::new(None), closing: AtomicBool::new(false) }
    }

    /// Registers the channels of the maintenance and compaction threads.
    pub(crate) fn attach(&self, maintenance: Sender<WorkerMsg>, compaction: Sender<WorkerMsg>) {
        *self.maintenance.lock() = Some(maintenance);
        *self.compaction.lock() = Some(compaction);
    }

    pub(crate) fn wake_maintenance(&self) {
        if let Some(tx) = &*self.maintenance.lock() {
            let _ = tx.try_send(WorkerMsg::Wake);
        }
    }

    pub(crate) fn wake_compaction(&self) {
        if let Some(tx) = &*self.compaction.lock() {
            let _ = tx.try_send(WorkerMsg::Wake);
        }
    }

    /// Asks the maintenance and compaction threads to stop.
    pub(crate) fn stop_background(&self) {
        self.closing.store(true, Ordering::Release);
        for slot in [&self.maintenance, &self.compaction] {
            if let Some(tx) = slot.lock().take() {
                let _ = tx.send(WorkerMsg::Stop);
            }
        }
    }

    /// True once the database is closing.
    pub(crate) fn closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }
}

/// Something threads wait for (rows committed, a memtable sealed). The
/// notifier changes the state first and then notifies under the mutex, and
/// a waiter checks its condition under the same mutex, so no wake-up is lost.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    lock: Mutex<()>,
    cv: Condvar,
}

impl Signal {
    pub(crate) fn notify(&self) {
        let _guard = self.lock.lock();
        self.cv.notify_all();
    }

    /// Waits while `waiting()` holds, until `deadline`. Returns false when
    /// the deadline passed with `waiting()` still true.
    pub(crate) fn wait_while(&self, deadline: Instant, mut waiting: impl FnMut() -> bool) -> bool {
        let mut guard = self.lock.lock();
        while waiting() {
            if self.cv.wait_until(&mut guard, deadline).timed_out() {
                return !waiting();
            }
        }
        true
    }
}

/// The signals of a database.
#[derive(Debug, Default)]
pub(crate) struct Signals {
    /// Rows became visible (subscriptions wait on it).
    pub committed: Signal,
    /// A frozen memtable was sealed, or the database was poisoned (held
    /// back appends wait on it).
    pub sealed: Signal,
}

/// Starts background thread `name` running `body`. A panic in `body`
/// poisons the database with the panic's message, so that the thread's
/// death is seen by every later call instead of being lost.
pub(crate) fn spawn(
    inner: Arc<Inner>,
    name: &'static str,
    body: impl FnOnce(&Inner) + Send + 'static,
) -> Result<JoinHandle<()>> {
    let dir = inner.dir.clone();
    std::thread::Builder::new()
        .name(format!("kevdb-{name}"))
        .spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&inner)));
            if let Err(payload) = outcome {
                inner.poison(format!("the {name} thread panicked: {}", panic_message(&*payload)));
            }
        })
        .map_err(|e| Error::io("start a thread for", dir, e))
}
