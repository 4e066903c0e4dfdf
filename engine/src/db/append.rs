//! The ingest path: identity and dedup decisions, seq assignment, and the
//! hand-off to the commit thread.

use super::commit::{Commit, CommitMsg, CommittedRow};
use super::Inner;
use crate::error::{Error, Result};
use crate::identity::{IdentityKey, Latest, Version};
use crate::model::{Event, TimeField, Timestamp};
use crate::row::SeqNo;
use std::ops::RangeInclusive;

/// Largest encoded event accepted (the API server's own limit is ~1.5 MiB
/// for a whole object).
const MAX_EVENT_BYTES: usize = 1 << 20;
/// Rows per WAL frame; larger appends are split.
const ROWS_PER_FRAME: usize = 4096;

/// One event an append refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Index of the event in the appended batch.
    pub index: usize,
    /// Why it was refused.
    pub reason: String,
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppendReport {
    /// New observations stored.
    pub accepted: usize,
    /// Re-deliveries of observations already stored (no-ops).
    pub duplicates: usize,
    /// Indexes (in the appended batch) of the duplicates, ascending.
    pub duplicate_indexes: Vec<usize>,
    /// Events refused, with reasons.
    pub rejected: Vec<Rejected>,
    /// Sequence numbers given to the accepted observations.
    pub seqs: Option<RangeInclusive<u64>>,
}

impl AppendReport {
    /// Adds another report's counts to this one.
    pub fn merge(&mut self, other: AppendReport, index_offset: usize) {
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.duplicate_indexes.extend(other.duplicate_indexes.into_iter().map(|i| i + index_offset));
        self.rejected.extend(other.rejected.into_iter().map(|r| Rejected { index: r.index + index_offset, ..r }));
        self.seqs = match (self.seqs.take(), other.seqs) {
            (Some(a), Some(b)) => Some(*a.start().min(b.start())..=*a.end().max(b.end())),
            (a, b) => a.or(b),
        };
    }
}

/// Checks an event before it is accepted.
fn validate(event: &Event, oldest_day: Option<i32>) -> std::result::Result<(), String> {
    let last = event.last_seen().ok_or("event has no timestamp")?;
    // Years 1900..=9999: what RFC 3339 and the API server can spell.
    const MIN: i64 = -2_208_988_800 * Timestamp::MICROS_PER_SEC;
    const MAX: i64 = 253_402_300_799 * Timestamp::MICROS_PER_SEC;
    for t in event.times.iter().flatten() {
        if !(MIN..=MAX).contains(&t.0) {
            return Err(format!("timestamp {} is out of range", t.0));
        }
    }
    if let Some(oldest) = oldest_day {
        if last.day() < oldest {
            return Err(format!("last seen {last} is older than the retention period"));
        }
    }
    let approx: usize =
        event.strs.iter().flatten().map(|s| s.len()).sum::<usize>() + event.residual.as_ref().map_or(0, |r| r.len());
    if approx > MAX_EVENT_BYTES {
        return Err(format!("event is {approx} bytes, more than the {MAX_EVENT_BYTES} allowed"));
    }
    Ok(())
}

/// Holds an append back while `Options::max_frozen_memtables` frozen
/// memtables wait to be sealed: without it, appends that outrun sealing
/// queue frozen memtables, and memory, without bound. Fails with
/// [`Error::Busy`] after `Options::append_stall_timeout`.
fn wait_for_sealing(inner: &Inner) -> Result<()> {
    let limit = inner.options.max_frozen_memtables;
    if !inner.options.background || limit == 0 {
        return Ok(());
    }
    let frozen = || inner.state.read().frozen.len();
    if frozen() < limit {
        return Ok(());
    }
    let deadline = std::time::Instant::now() + inner.options.append_stall_timeout;
    let mut guard = inner.sealed_signal.0.lock();
    loop {
        inner.check_poisoned()?;
        let waiting = frozen();
        if waiting < limit {
            return Ok(());
        }
        if inner.sealed_signal.1.wait_until(&mut guard, deadline).timed_out() && frozen() >= limit {
            let last = inner.damage.lock().last().cloned().unwrap_or_else(|| "none".into());
            return Err(Error::Busy(format!(
                "{waiting} in-memory buffers have waited {:?} to be written to segments; \
                 last maintenance problem: {last}",
                inner.options.append_stall_timeout
            )));
        }
    }
}

pub(crate) fn append(inner: &Inner, events: Vec<Event>) -> Result<AppendReport> {
    inner.check_poisoned()?;
    wait_for_sealing(inner)?;
    let mut report = AppendReport::default();
    let oldest_day = inner
        .options
        .retention
        .map(|r| Timestamp::now().saturating_add_micros(-(r.as_micros().min(i64::MAX as u128) as i64)).day());
    let mut acks = Vec::new();
    {
        let mut ingest = inner.ingest.lock();
        // Stable while the ingest lock is held: a seal swaps versions first
        // and prunes the unsealed-row cache (under this lock) only after.
        let sealed = inner.state.read().version.clone();
        let mut rows: Vec<CommittedRow> = Vec::new();
        for (index, mut event) in events.into_iter().enumerate() {
            if event.cluster.is_empty() {
                event.cluster = inner.options.default_cluster.as_str().into();
            }
            if event.last_seen().is_none() {
                // The API server stamps creationTimestamp on create; so do we.
                event.set_time(
                    TimeField::CreationTimestamp,
                    Some(Timestamp::from_secs(Timestamp::now().0 / Timestamp::MICROS_PER_SEC)),
                );
            }
            if let Err(reason) = validate(&event, oldest_day) {
                report.rejected.push(Rejected { index, reason });
                continue;
            }
            let key = IdentityKey::of(&event);
            let version = Version::of(&event);
            let prev = ingest.latest(inner, &sealed, &event, key);
            if let Some(prev) = prev {
                if !version.is_newer_than(&prev.version) {
                    report.duplicates += 1;
                    report.duplicate_indexes.push(index);
                    continue;
                }
            }
            let seq = SeqNo(ingest.next_seq);
            ingest.next_seq += 1;
            ingest.cache.insert(key, Latest { seq, version });
            rows.push(CommittedRow { seq, supersedes: prev.map(|p| p.seq), event });
            if rows.len() >= ROWS_PER_FRAME {
                acks.push(send(inner, std::mem::take(&mut rows))?);
            }
        }
        if !rows.is_empty() {
            acks.push(send(inner, rows)?);
        }
    }
    for (range, ack) in acks {
        match ack.recv() {
            Ok(Ok(())) => {
                report.accepted += (range.end() - range.start() + 1) as usize;
                report.seqs = Some(match report.seqs.take() {
                    Some(r) => *r.start()..=*range.end(),
                    None => range,
                });
            }
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(Error::Closed),
        }
    }
    Ok(report)
}

type Ack = crossbeam_channel::Receiver<Result<()>>;

fn send(inner: &Inner, rows: Vec<CommittedRow>) -> Result<(RangeInclusive<u64>, Ack)> {
    let first = rows.first().map_or(0, |r| r.seq.0);
    let last = rows.last().map_or(0, |r| r.seq.0);
    let frame = crate::wal::encode_batch(SeqNo(first), &rows.iter().map(|r| &r.event).collect::<Vec<_>>());
    let (tx, rx) = crossbeam_channel::bounded(1);
    inner.commit_tx.send(CommitMsg::Commit(Commit { frame, rows, ack: tx })).map_err(|_| Error::Closed)?;
    Ok((first..=last, rx))
}

#[cfg(test)]
mod tests {
    use crate::model::{ApiShape, Event, StrField, TimeField, Timestamp};
    use crate::{Db, Error, Options, Query};
    use std::time::Duration;

    fn batch(from: usize, n: usize) -> Vec<Event> {
        (from..from + n)
            .map(|i| {
                let mut e = Event::new(ApiShape::CoreV1);
                e.set_str(StrField::MetadataUid, Some(format!("u{i}")));
                e.set_str(StrField::MetadataNamespace, Some("ns"));
                e.set_str(StrField::MetadataResourceVersion, Some("1"));
                e.set_time(TimeField::LastTimestamp, Some(Timestamp::from_secs(1_790_000_000 + i as i64)));
                e
            })
            .collect()
    }

    #[test]
    fn appends_are_held_back_while_sealing_lags_and_fail_busy_after_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let opts = Options {
            memtable_rows: 100,
            max_frozen_memtables: 2,
            append_stall_timeout: Duration::from_secs(1),
            maintenance_interval: Duration::from_secs(3600),
            ..Options::default()
        };
        let db = Db::open(dir.path(), opts).unwrap();
        // Holding the manifest lock holds every seal back.
        let sealing = db.inner.manifest.lock();
        let mut acked = 0;
        let err = loop {
            match db.append(batch(acked, 100)) {
                Ok(r) => {
                    acked += r.accepted;
                    assert!(acked <= 1_000, "appends were never held back");
                }
                Err(e) => break e,
            }
        };
        assert!(matches!(err, Error::Busy(_)), "{err}");
        assert!((200..=400).contains(&acked), "{acked}");
        assert!(db.inner.state.read().frozen.len() >= 2);

        std::thread::scope(|s| {
            let held = s.spawn(|| db.append(batch(acked, 100)));
            std::thread::sleep(Duration::from_millis(300));
            assert!(!held.is_finished(), "an append went through while sealing was stuck");
            drop(sealing);
            assert_eq!(held.join().unwrap().unwrap().accepted, 100);
        });
        // The refused batch stored nothing; every acknowledged one is there.
        assert_eq!(db.query(&Query::new()).unwrap().count(), acked + 100);
        db.flush().unwrap();
        assert_eq!(db.stats().memtable_rows, 0);
    }
}
