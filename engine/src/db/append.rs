//! The ingest path ([`Db::append`]): validation, identity and dedup
//! decisions, seq assignment, backpressure, and the hand-off to the commit
//! thread. It owns the ingest state behind `Inner::ingest`.

use super::commit::{Commit, CommitMsg, CommittedRow};
use super::health::Damage;
use super::{Db, Inner, SegmentHandle, Version};
use crate::error::{Error, Result};
use crate::identity::{IdentityIndex, IdentityKey, IdentitySource, Latest, Version as ObsVersion};
use crate::model::{Event, TimeField, Timestamp};
use crate::row::SeqNo;
use std::collections::HashMap;
use std::ops::RangeInclusive;

/// State owned by the ingest path.
#[derive(Debug)]
pub(crate) struct IngestState {
    /// The seq the next accepted observation gets.
    pub next_seq: u64,
    /// Latest observation of every event with unsealed rows.
    pub cache: HashMap<IdentityKey, Latest>,
    /// Lookup caches for sealed rows.
    pub index: IdentityIndex,
}

impl IngestState {
    /// The latest stored observation of `event` (identity `key`): unsealed
    /// rows first, then the sealed segments of `version`. Damage met is
    /// reported to `damage`, not fatal.
    pub(crate) fn latest(
        &mut self,
        version: &Version,
        event: &Event,
        key: IdentityKey,
        damage: &mut dyn FnMut(Damage),
    ) -> Option<Latest> {
        if let Some(latest) = self.cache.get(&key) {
            return Some(*latest);
        }
        let mut found_damage = Vec::new();
        let found = self.index.latest_sealed(
            version.segments.iter().map(|s| &**s as &dyn IdentitySource),
            event,
            key,
            &mut found_damage,
        );
        for d in found_damage {
            damage(Damage::described(d, "re-deliveries of its events may be stored again"));
        }
        found
    }
}

impl IdentitySource for SegmentHandle {
    fn id(&self) -> u64 {
        self.entry.id
    }
    fn span(&self) -> (i64, i64) {
        let f = self.reader.footer();
        (f.min_first_seen.to_native(), f.max_last_seen.to_native())
    }
    fn group_spans(&self) -> Vec<(i64, i64)> {
        self.reader
            .footer()
            .row_groups
            .iter()
            .map(|g| (g.min_first_seen.to_native(), g.max_last_seen.to_native()))
            .collect()
    }
    fn fingerprints(&self) -> Result<Vec<u32>> {
        self.reader.fingerprints()
    }
    fn group(&self, g: usize) -> Result<crate::segment::DecodedGroup> {
        self.reader.read_group(g)
    }
}

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

impl Db {
    /// Appends events. Each event is either accepted (a new observation,
    /// given the next seq), a duplicate (a re-delivery of an observation
    /// already stored: a no-op), or rejected with a reason; the rest of the
    /// batch is unaffected by rejected events. Returns once the accepted
    /// observations are durable under the configured [`SyncPolicy`] and
    /// visible to queries.
    ///
    /// While `Options::max_frozen_memtables` in-memory buffers wait to be
    /// sealed, an append first waits for sealing to catch up (backpressure:
    /// memory stays bounded however fast events arrive), and fails with
    /// [`Error::Busy`] if that takes longer than
    /// `Options::append_stall_timeout`; nothing of the batch is stored then.
    pub fn append(&self, events: Vec<Event>) -> Result<AppendReport> {
        append(&self.inner, events)
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
    let frozen = || inner.version().frozen.len();
    if frozen() < limit {
        return Ok(());
    }
    let deadline = std::time::Instant::now() + inner.options.append_stall_timeout;
    let caught_up = inner.signals.sealed.wait_while(deadline, || inner.check_poisoned().is_ok() && frozen() >= limit);
    inner.check_poisoned()?;
    if caught_up {
        return Ok(());
    }
    let last = inner.health.last_damage().map_or_else(|| "none".into(), |d| d.to_string());
    Err(Error::Busy(format!(
        "{} in-memory buffers have waited {:?} to be written to segments; last damage found: {last}",
        frozen(),
        inner.options.append_stall_timeout
    )))
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
        let sealed = inner.version();
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
            let version = ObsVersion::of(&event);
            let prev = ingest.latest(&sealed, &event, key, &mut |d| inner.health.report(d));
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
            Err(_) => return Err(commit_thread_gone(inner)),
        }
    }
    Ok(report)
}

type Ack = crossbeam_channel::Receiver<Result<()>>;

/// The error for an append whose commit thread is gone. While a caller
/// holds the database the thread only ends by panicking, and its panic
/// handler poisons the database just after unwinding has dropped the acks:
/// wait for that cause rather than answer a bare "closed".
fn commit_thread_gone(inner: &Inner) -> Error {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    inner.signals.sealed.wait_while(deadline, || inner.check_poisoned().is_ok());
    inner.check_poisoned().err().unwrap_or(Error::Closed)
}

fn send(inner: &Inner, rows: Vec<CommittedRow>) -> Result<(RangeInclusive<u64>, Ack)> {
    let first = rows.first().map_or(0, |r| r.seq.0);
    let last = rows.last().map_or(0, |r| r.seq.0);
    let frame = crate::wal::encode_batch(SeqNo(first), &rows.iter().map(|r| &r.event).collect::<Vec<_>>());
    let (tx, rx) = crossbeam_channel::bounded(1);
    inner
        .workers
        .commit
        .send(CommitMsg::Commit(Commit { frame, rows, ack: tx }))
        .map_err(|_| commit_thread_gone(inner))?;
    Ok((first..=last, rx))
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::model::{ApiShape, Event, StrField, TimeField, Timestamp};
    use crate::{Db, Error, Options, Query};
    use std::time::Duration;

    /// Events `u{from}`.. `u{from + n - 1}`, one second apart.
    pub(crate) fn batch(from: usize, n: usize) -> Vec<Event> {
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
        assert!(db.inner.version().frozen.len() >= 2);

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
