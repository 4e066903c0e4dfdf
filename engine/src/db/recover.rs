//! Opening a database: lock the directory, load the manifest, remove
//! leftovers of interrupted operations, open segments, bring the derived
//! identity map up to date, replay the WAL, and start the threads.

use super::append::IngestState;
use super::commit::{self, record_row};
use super::health::{Damage, Health};
use super::maintenance;
use super::partition::{parse_day_name, partition_dir};
use super::workers::{Signals, Workers};
use super::{compaction, Db, Inner, SegmentHandle, State, Version};
use crate::error::{Error, Result};
use crate::fsutil::{create_dir_durable, sync_dir};
use crate::identity::{IdentityIndex, IdentityKey, IdentitySource, Latest, Version as ObsVersion};
use crate::manifest::Manifest;
use crate::memtable::Memtable;
use crate::options::Options;
use crate::row::{SeqNo, StoredEvent};
use crate::segment::{parse_segment_file_name, prefetch_for_open, segment_file_name, SegmentReader};
use crate::superseded::{self, Superseded};
use crate::wal::{list_wal_files, read_wal_file, WalWriter};
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// What opening a database found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Rows replayed from the WAL into memory.
    pub replayed_rows: u64,
    /// WAL damage found (a torn tail after a crash is normal and truncated).
    pub wal_truncated: Vec<String>,
    /// Damage found: files or parts of files that are not served.
    pub damaged: Vec<Damage>,
    /// Leftovers of interrupted operations that were removed.
    pub removed_leftovers: Vec<PathBuf>,
    /// Other notes.
    pub notes: Vec<String>,
}

impl OpenReport {
    /// True when nothing was damaged (a truncated torn tail is not damage).
    pub fn is_clean(&self) -> bool {
        self.damaged.is_empty()
    }
}

pub(crate) fn open(dir: &Path, mut options: Options) -> Result<Db> {
    options.failpoints = std::mem::take(&mut options.failpoints).with_env()?;
    let started = std::time::Instant::now();
    create_dir_durable(dir)?;
    let lock_path = dir.join("LOCK");
    let lock = File::create(&lock_path).map_err(|e| Error::io("create", &lock_path, e))?;
    if lock.try_lock().is_err() {
        return Err(Error::Locked(dir.to_owned()));
    }
    for sub in ["wal", "partitions", "superseded", "purged"] {
        create_dir_durable(&dir.join(sub))?;
    }
    let mut report = OpenReport::default();
    let mut manifest = Manifest::load(dir)?.unwrap_or_default();
    let token_key = match decode_key(&manifest.token_key) {
        Some(k) => k,
        None => {
            let mut k = [0u8; 32];
            getrandom::fill(&mut k)
                .map_err(|e| Error::io("read random bytes", dir, std::io::Error::other(e.to_string())))?;
            manifest.token_key = k.iter().map(|b| format!("{b:02x}")).collect();
            manifest.store(dir)?;
            k
        }
    };
    remove_leftovers(dir, &manifest, &mut report)?;

    let mut segments = Vec::new();
    let segment_path =
        |entry: &crate::manifest::SegmentEntry| partition_dir(dir, entry.day).join(segment_file_name(entry.id));
    for entry in &manifest.segments {
        prefetch_for_open(&segment_path(entry));
    }
    let opened = parallel_map(&manifest.segments, |entry| SegmentReader::open(&segment_path(entry)));
    for (entry, opened) in manifest.segments.iter().zip(opened) {
        match opened {
            Ok(reader) => segments.push(Arc::new(SegmentHandle { entry: entry.clone(), reader })),
            Err(e) => report.damaged.push(Damage::from_error(&e, format!("segment {} is not served", entry.id))),
        }
    }
    let mut superseded = Superseded::default();
    let loaded = parallel_map(&manifest.superseded, |name| superseded::load_file(&dir.join("superseded").join(name)));
    for seqs in loaded {
        match seqs {
            Ok(seqs) => superseded.extend(&seqs),
            Err(e) => report.damaged.push(Damage::from_error(
                &e,
                "the superseded set is incomplete: latest-only queries may show replaced observations",
            )),
        }
    }

    if manifest.superseded.len() > maintenance::MAX_SUPERSEDED_FILES && report.damaged.is_empty() {
        fold_superseded(dir, &mut manifest, &superseded)?;
    }

    let mut purged = roaring::RoaringTreemap::new();
    for name in &manifest.purged {
        match superseded::load_file(&dir.join("purged").join(name)) {
            Ok(seqs) => purged |= seqs,
            Err(e) => report.damaged.push(Damage::from_error(&e, "purged events may show again")),
        }
    }
    let version =
        Version { segments, frozen: Vec::new(), purged: Arc::new(purged), retention_floor: manifest.retention_floor };
    let mut ingest =
        IngestState { next_seq: manifest.sealed_seq + 1, cache: HashMap::new(), index: IdentityIndex::default() };
    superseded.set_complete_above(manifest.sealed_seq);
    let memtable = replay_wal(dir, &version, &mut ingest, &mut superseded, &mut report)?;
    let next_seq = ingest.next_seq;
    let wal = WalWriter::create(&dir.join("wal"), SeqNo(next_seq))?;

    tracing::info!(
        dir = %dir.display(),
        segments = version.segments.len(),
        wal_rows_replayed = report.replayed_rows,
        wal_truncated = report.wal_truncated.len(),
        leftovers_removed = report.removed_leftovers.len(),
        damaged = report.damaged.len(),
        ms = started.elapsed().as_millis() as u64,
        "recovered the database"
    );
    let health = Health::default();
    for d in &report.damaged {
        health.report(d.clone());
    }
    let (commit_tx, commit_rx) = crossbeam_channel::unbounded();
    let inner = Arc::new(Inner {
        dir: dir.to_owned(),
        ingest: Mutex::new(ingest),
        manifest: Mutex::new(manifest),
        state: RwLock::new(State { active: memtable, version: Arc::new(version) }),
        superseded: RwLock::new(superseded),
        visible: AtomicU64::new(next_seq - 1),
        compaction: Mutex::new(()),
        cache: super::cache::GroupCache::new(options.cache_bytes),
        health,
        workers: Workers::new(commit_tx),
        signals: Signals::default(),
        token_key,
        options,
        _lock: lock,
    });
    let commit_thread = Some(commit::spawn(inner.clone(), commit_rx, wal)?);
    let (maintenance_thread, compaction_thread) = if inner.options.background {
        let (tx, rx) = crossbeam_channel::bounded(4);
        let (ctx, crx) = crossbeam_channel::bounded(4);
        inner.workers.attach(tx, ctx);
        (Some(maintenance::spawn(inner.clone(), rx)?), Some(compaction::spawn(inner.clone(), crx)?))
    } else {
        (None, None)
    };
    Ok(Db { inner, commit_thread, maintenance_thread, compaction_thread, report })
}

fn decode_key(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut k = [0u8; 32];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(k)
}

/// Rewrites the superseded files a manifest lists as one (databases written
/// before seals folded them had one per seal, each a read at open). The
/// union goes into the newest listed file's name, atomically, so a crash at
/// any point leaves listed files whose union is unchanged.
fn fold_superseded(dir: &Path, manifest: &mut Manifest, all: &Superseded) -> Result<()> {
    let sup_dir = dir.join("superseded");
    let Some(newest) = manifest.superseded.iter().max().cloned() else { return Ok(()) };
    superseded::store_file(&sup_dir, &newest, all.set())?;
    let folded: Vec<String> = manifest.superseded.drain(..).filter(|n| *n != newest).collect();
    manifest.superseded.push(newest);
    manifest.store(dir)?;
    superseded::remove_files(&sup_dir, &folded)
}

/// Threads `parallel_map` uses: opening is bound by the disk's latency (a
/// few small reads per file), not by the CPU, so more threads than cores
/// help a cold open.
const OPEN_THREADS: usize = 16;

/// `items.map(f)`, in order, on up to [`OPEN_THREADS`] threads.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < 2 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(OPEN_THREADS);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> =
            items.chunks(chunk).map(|c| s.spawn(move || c.iter().map(f).collect::<Vec<R>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}

/// Deletes files the manifest does not know: segments and temporary files
/// of interrupted seals and compactions, and unlisted superseded files.
fn remove_leftovers(dir: &Path, manifest: &Manifest, report: &mut OpenReport) -> Result<()> {
    let live: HashSet<(i32, u64)> = manifest.segments.iter().map(|s| (s.day, s.id)).collect();
    let partitions = dir.join("partitions");
    let read = |d: &Path| std::fs::read_dir(d).map_err(|e| Error::io("read directory", d, e));
    for day_entry in read(&partitions)? {
        let day_entry = day_entry.map_err(|e| Error::io("read directory", &partitions, e))?;
        let day_path = day_entry.path();
        let Some(day) = day_entry.file_name().to_str().and_then(parse_day_name) else {
            continue;
        };
        let mut any_left = false;
        let mut removed = false;
        for f in read(&day_path)? {
            let f = f.map_err(|e| Error::io("read directory", &day_path, e))?;
            let name = f.file_name();
            let name = name.to_string_lossy();
            let keep = parse_segment_file_name(&name).is_some_and(|id| live.contains(&(day, id)));
            let leftover = !keep && (name.ends_with(".kevdb-tmp") || parse_segment_file_name(&name).is_some());
            if leftover {
                std::fs::remove_file(f.path()).map_err(|e| Error::io("remove", f.path(), e))?;
                report.removed_leftovers.push(f.path());
                removed = true;
            } else {
                any_left = true;
            }
        }
        if removed {
            sync_dir(&day_path)?;
        }
        if !any_left {
            let _ = std::fs::remove_dir(&day_path);
        }
    }
    for (sub, listed) in [("superseded", &manifest.superseded), ("purged", &manifest.purged)] {
        let sub_dir = dir.join(sub);
        for f in read(&sub_dir)? {
            let f = f.map_err(|e| Error::io("read directory", &sub_dir, e))?;
            let name = f.file_name().to_string_lossy().into_owned();
            if !listed.contains(&name) {
                std::fs::remove_file(f.path()).map_err(|e| Error::io("remove", f.path(), e))?;
                report.removed_leftovers.push(f.path());
            }
        }
    }
    for f in [dir.join("MANIFEST.kevdb-tmp")] {
        if f.exists() {
            std::fs::remove_file(&f).map_err(|e| Error::io("remove", &f, e))?;
            report.removed_leftovers.push(f);
        }
    }
    Ok(())
}

/// Replays WAL rows above the sealed seq into a fresh memtable, resolving
/// each row's identity as ingest did (unsealed rows, then segments).
fn replay_wal(
    dir: &Path,
    version: &Version,
    ingest: &mut IngestState,
    superseded: &mut Superseded,
    report: &mut OpenReport,
) -> Result<Memtable> {
    let wal_dir = dir.join("wal");
    let files = list_wal_files(&wal_dir)?;
    let mut memtable = Memtable::default();
    let last_index = files.len().saturating_sub(1);
    for (index, (_, path)) in files.iter().enumerate() {
        let file = read_wal_file(path)?;
        if let Some(damage) = &file.damage {
            if index == last_index {
                // A torn tail: the crash interrupted a write that was never
                // acknowledged. Cut it off so appends continue cleanly.
                let f = std::fs::OpenOptions::new().write(true).open(path).map_err(|e| Error::io("open", path, e))?;
                f.set_len(file.valid_len).map_err(|e| Error::io("truncate", path, e))?;
                f.sync_all().map_err(|e| Error::io("fsync", path, e))?;
                tracing::warn!(
                    wal = %path.display(),
                    valid_bytes = file.valid_len,
                    damage = %damage,
                    "truncated a torn WAL tail"
                );
                report.wal_truncated.push(format!(
                    "{}: {damage}; truncated to {} bytes",
                    path.display(),
                    file.valid_len
                ));
            } else {
                report.damaged.push(Damage {
                    file: Some(path.clone()),
                    offset: Some(file.valid_len),
                    problem: damage.to_string(),
                    lost: "the rows after it in this file".into(),
                });
            }
        }
        for batch in file.batches {
            let mut chunk = Vec::with_capacity(batch.events.len());
            for (j, event) in batch.events.into_iter().enumerate() {
                let seq = batch.first_seq.0 + j as u64;
                if seq < ingest.next_seq {
                    continue; // sealed already
                }
                if seq > ingest.next_seq {
                    report.damaged.push(Damage {
                        file: Some(path.clone()),
                        offset: None,
                        problem: format!("the WAL has no rows for seqs {}..{}", ingest.next_seq, seq - 1),
                        lost: format!("observations {}..{}", ingest.next_seq, seq - 1),
                    });
                }
                let key = IdentityKey::of(&event);
                let mut damage = Vec::new();
                let prev = match ingest.cache.get(&key) {
                    Some(l) => Some(*l),
                    None => ingest.index.latest_sealed(
                        version.segments.iter().map(|s| &**s as &dyn IdentitySource),
                        &event,
                        key,
                        &mut damage,
                    ),
                };
                report.damaged.extend(
                    damage.into_iter().map(|d| Damage::described(d, "re-deliveries of its events may be stored again")),
                );
                let supersedes = prev.filter(|p| p.seq.0 < seq).map(|p| p.seq);
                ingest.cache.insert(key, Latest { seq: SeqNo(seq), version: ObsVersion::of(&event) });
                record_row(&mut memtable, superseded, SeqNo(seq), supersedes);
                chunk.push(StoredEvent { seq: SeqNo(seq), event });
                ingest.next_seq = seq + 1;
            }
            if !chunk.is_empty() {
                report.replayed_rows += chunk.len() as u64;
                memtable.push(chunk.into());
            }
        }
    }
    Ok(memtable)
}
