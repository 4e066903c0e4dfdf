//! The commit thread: group commit to the WAL, then apply to the memtable.
//!
//! It drains every batch queued behind the first, writes them with one
//! `write`, syncs once (per [`SyncPolicy`]), makes the rows visible, and only
//! then acknowledges each batch. Applying in the same thread keeps rows
//! visible in exactly WAL order. A write or sync failure poisons the
//! database: after a failed fsync the page cache can no longer be trusted,
//! so the only safe continuation is to reopen and replay the WAL.

use super::Inner;
use crate::error::{Error, Result};
use crate::memtable::Memtable;
use crate::model::Event;
use crate::options::SyncPolicy;
use crate::row::{SeqNo, StoredEvent};
use crate::wal::WalWriter;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A row on its way to the memtable.
#[derive(Debug)]
pub(crate) struct CommittedRow {
    pub seq: SeqNo,
    pub supersedes: Option<SeqNo>,
    pub event: Event,
}

/// One batch to commit: its encoded WAL frame, its rows, and where to ack.
#[derive(Debug)]
pub(crate) struct Commit {
    pub frame: Vec<u8>,
    pub rows: Vec<CommittedRow>,
    pub ack: Sender<Result<()>>,
}

#[derive(Debug)]
pub(crate) enum CommitMsg {
    Commit(Commit),
    /// Freeze the active memtable (and start a new WAL file); ack when done.
    Freeze(Sender<Result<()>>),
    Stop,
}

/// Bytes of frames written per group commit at most.
const MAX_GROUP_BYTES: usize = 16 << 20;

pub(crate) fn spawn(inner: Arc<Inner>, rx: Receiver<CommitMsg>, wal: WalWriter) -> Result<std::thread::JoinHandle<()>> {
    super::workers::spawn(inner, "commit", move |inner| run(inner, &rx, wal))
}

/// Asks the commit thread to freeze the active memtable, and waits.
pub(crate) fn freeze(inner: &Inner) -> Result<()> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    inner.workers.commit.send(CommitMsg::Freeze(tx)).map_err(|_| Error::Closed)?;
    rx.recv().map_err(|_| Error::Closed)?
}

fn run(inner: &Inner, rx: &Receiver<CommitMsg>, mut wal: WalWriter) {
    let mut last_sync = Instant::now();
    let tick = match inner.options.sync {
        SyncPolicy::Interval(d) => d.min(Duration::from_secs(1)),
        _ => Duration::from_secs(1),
    };
    loop {
        let first = match rx.recv_timeout(tick) {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) => {
                if let SyncPolicy::Interval(d) = inner.options.sync {
                    if wal.has_unsynced() && last_sync.elapsed() >= d {
                        if let Err(e) = wal.sync() {
                            poison(inner, &e);
                        }
                        last_sync = Instant::now();
                    }
                }
                if needs_freeze(inner) {
                    freeze_now(inner, &mut wal);
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut group = Vec::new();
        let mut control = Vec::new();
        let mut bytes = 0;
        let mut stop = false;
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                CommitMsg::Commit(c) => {
                    bytes += c.frame.len();
                    group.push(c);
                }
                CommitMsg::Freeze(ack) => control.push(ack),
                CommitMsg::Stop => stop = true,
            }
            if bytes < MAX_GROUP_BYTES && !stop {
                next = rx.try_recv().ok();
            }
        }
        if !group.is_empty() {
            let outcome = write_group(inner, &mut wal, &group, &mut last_sync);
            match outcome {
                Ok(()) => {
                    apply(inner, &mut group);
                    for c in group {
                        let _ = c.ack.send(Ok(()));
                    }
                }
                Err(e) => {
                    poison(inner, &e);
                    for c in group {
                        let _ = c.ack.send(Err(Error::Poisoned(e.to_string())));
                    }
                }
            }
        }
        if !control.is_empty() || needs_freeze(inner) {
            freeze_now(inner, &mut wal);
            for ack in control {
                let _ = ack.send(inner.check_poisoned());
            }
        }
        if stop {
            break;
        }
    }
    // Whatever was acknowledged under a relaxed policy becomes durable now.
    if let Err(e) = wal.sync() {
        poison(inner, &e);
    }
}

fn write_group(inner: &Inner, wal: &mut WalWriter, group: &[Commit], last_sync: &mut Instant) -> Result<()> {
    inner.check_poisoned()?;
    inner.options.failpoints.hit("commit")?;
    if let [one] = group {
        wal.append(&one.frame)?;
    } else {
        let mut buf = Vec::with_capacity(group.iter().map(|c| c.frame.len()).sum());
        for c in group {
            buf.extend_from_slice(&c.frame);
        }
        wal.append(&buf)?;
    }
    match inner.options.sync {
        SyncPolicy::Always => wal.sync()?,
        SyncPolicy::Interval(d) if last_sync.elapsed() >= d => {
            wal.sync()?;
            *last_sync = Instant::now();
        }
        _ => {}
    }
    Ok(())
}

/// Makes committed rows visible: memtable, superseded set, visible seq.
fn apply(inner: &Inner, group: &mut [Commit]) {
    let mut max_seq = 0;
    let mut state = inner.state.write();
    let mut superseded = inner.superseded.write();
    for c in group.iter_mut() {
        let rows = std::mem::take(&mut c.rows);
        let mut chunk = Vec::with_capacity(rows.len());
        for r in rows {
            record_row(&mut state.active, &mut superseded, r.seq, r.supersedes);
            max_seq = r.seq.0;
            chunk.push(StoredEvent { seq: r.seq, event: r.event });
        }
        state.active.push(chunk.into());
    }
    inner.visible.store(max_seq, Ordering::Release);
    drop(superseded);
    drop(state);
    inner.signals.committed.notify();
}

/// Records one row's identity effects in the memtable and superseded set
/// (shared with WAL replay).
pub(crate) fn record_row(
    memtable: &mut Memtable,
    superseded: &mut crate::superseded::Superseded,
    seq: SeqNo,
    supersedes: Option<SeqNo>,
) {
    if let Some(old) = supersedes {
        superseded.record(seq.0, old.0);
        memtable.superseded.insert(old.0);
    }
}

fn needs_freeze(inner: &Inner) -> bool {
    let state = inner.state.read();
    !state.active.is_empty()
        && (state.active.rows() >= inner.options.memtable_rows || state.active.age() >= inner.options.memtable_max_age)
}

/// Freezes the active memtable and starts a new WAL file at the next seq.
fn freeze_now(inner: &Inner, wal: &mut WalWriter) {
    if inner.check_poisoned().is_err() {
        return;
    }
    let next_seq = {
        let state = inner.state.read();
        if state.active.is_empty() {
            return;
        }
        state.active.max_seq().unwrap_or(0) + 1
    };
    // IMPORTANT: the old file must be durable before rows move on: a frozen
    // memtable's rows live only in its WAL file until the seal completes.
    let rotated = wal.sync().and_then(|()| WalWriter::create(&inner.dir.join("wal"), SeqNo(next_seq)));
    match rotated {
        Ok(new_wal) => *wal = new_wal,
        Err(e) => {
            poison(inner, &e);
            return;
        }
    }
    inner.publish(|version, state| {
        let mut next = version.clone();
        next.frozen.push(Arc::new(std::mem::take(&mut state.active)));
        next
    });
    inner.workers.wake_maintenance();
}

fn poison(inner: &Inner, e: &Error) {
    inner.poison(format!("a write to the WAL failed: {e}"));
}
