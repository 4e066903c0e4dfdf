//! Event identity: which observation of each event is the latest, so that
//! re-deliveries are dropped and older observations marked superseded.
//!
//! An event is identified by `(cluster, metadata.uid)`; events without a uid
//! fall back to `(cluster, namespace, name)`, and events with neither to a
//! hash of their content (so only exact repeats are dropped). Keys are
//! 128-bit XXH3 hashes of that identity.
//!
//! The map lives in sled under `identity/`. It is **derived state**: it
//! records every sealed row up to `applied_through`, is updated after each
//! seal's manifest is durable, and is rebuilt from segments when it lags
//! behind the manifest or is missing. Rows not yet sealed are tracked by the
//! ingest path's in-memory cache.

use crate::error::{Error, Result};
use crate::model::{Event, StrField};
use crate::row::SeqNo;
use std::path::Path;

/// The 128-bit identity of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct IdentityKey(pub u128);

impl IdentityKey {
    /// The identity of `event` (whose cluster is already assigned).
    pub(crate) fn of(event: &Event) -> IdentityKey {
        use xxhash_rust::xxh3::Xxh3;
        let mut h = Xxh3::new();
        h.update(event.cluster().as_bytes());
        h.update(&[0]);
        let uid = event.uid();
        let name = event.name();
        if !uid.is_empty() {
            h.update(b"u");
            h.update(uid.as_bytes());
        } else if !name.is_empty() {
            h.update(b"n");
            h.update(event.namespace().as_bytes());
            h.update(&[0]);
            h.update(name.as_bytes());
        } else {
            h.update(b"c");
            let mut row = Vec::new();
            crate::row::encode_event(&mut row, event);
            h.update(&row);
        }
        IdentityKey(h.digest128())
    }
}

/// How new an observation is, for deciding whether a re-delivery adds
/// anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Version {
    /// The source's `metadata.resourceVersion` when it is a number, else 0.
    pub resource_version: u64,
    /// Last-seen time (µs).
    pub last_seen: i64,
    /// Observation count.
    pub count: i64,
}

impl Version {
    pub(crate) fn of(event: &Event) -> Version {
        Version {
            resource_version: event.str(StrField::MetadataResourceVersion).and_then(|rv| rv.parse().ok()).unwrap_or(0),
            last_seen: event.last_seen().map_or(0, |t| t.0),
            count: event.observed_count(),
        }
    }

    /// True when an observation at `self` carries news over one at `old`:
    /// a higher resourceVersion when both have one, else a later last-seen
    /// time or a higher count.
    pub(crate) fn is_newer_than(&self, old: &Version) -> bool {
        if self.resource_version != 0 && old.resource_version != 0 {
            return self.resource_version > old.resource_version;
        }
        (self.last_seen, self.count) > (old.last_seen, old.count)
    }
}

/// The latest stored observation of one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Latest {
    pub seq: SeqNo,
    pub version: Version,
}

impl Latest {
    fn encode(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&self.seq.0.to_le_bytes());
        b[8..16].copy_from_slice(&self.version.resource_version.to_le_bytes());
        b[16..24].copy_from_slice(&self.version.last_seen.to_le_bytes());
        b[24..].copy_from_slice(&self.version.count.to_le_bytes());
        b
    }

    fn decode(b: &[u8]) -> Option<Latest> {
        let word = |i: usize| -> Option<[u8; 8]> { b.get(i..i + 8)?.try_into().ok() };
        Some(Latest {
            seq: SeqNo(u64::from_le_bytes(word(0)?)),
            version: Version {
                resource_version: u64::from_le_bytes(word(8)?),
                last_seen: i64::from_le_bytes(word(16)?),
                count: i64::from_le_bytes(word(24)?),
            },
        })
    }
}

const APPLIED_THROUGH: &[u8] = b"applied_through";

/// The persistent identity map.
pub(crate) struct IdentityStore {
    db: sled::Db,
    map: sled::Tree,
}

impl std::fmt::Debug for IdentityStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityStore").field("entries", &self.map.len()).finish()
    }
}

fn sled_err(e: sled::Error) -> Error {
    Error::Identity(e.to_string())
}

impl IdentityStore {
    /// Opens (or creates) the store in `dir`. A store that cannot be opened
    /// is discarded and recreated empty: it is rebuilt from segments.
    pub(crate) fn open(dir: &Path, cache_bytes: u64) -> Result<(IdentityStore, Option<String>)> {
        let open = || -> std::result::Result<IdentityStore, sled::Error> {
            let db =
                sled::Config::new().path(dir).cache_capacity(cache_bytes).mode(sled::Mode::HighThroughput).open()?;
            let map = db.open_tree("identity")?;
            Ok(IdentityStore { db, map })
        };
        match open() {
            Ok(store) => Ok((store, None)),
            Err(e) => {
                let note = format!(
                    "identity store at {} could not be opened ({e}); rebuilding it from segments",
                    dir.display()
                );
                std::fs::remove_dir_all(dir).map_err(|e| Error::io("remove", dir, e))?;
                Ok((open().map_err(sled_err)?, Some(note)))
            }
        }
    }

    /// The sequence number through which sealed rows have been applied.
    pub(crate) fn applied_through(&self) -> Result<SeqNo> {
        let v = self.db.get(APPLIED_THROUGH).map_err(sled_err)?;
        Ok(SeqNo(v.and_then(|v| v.as_ref().try_into().ok()).map_or(0, u64::from_le_bytes)))
    }

    /// The latest stored observation of `key`, if any.
    pub(crate) fn get(&self, key: IdentityKey) -> Result<Option<Latest>> {
        let v = self.map.get(key.0.to_be_bytes()).map_err(sled_err)?;
        Ok(v.and_then(|v| Latest::decode(&v)))
    }

    /// Records `entries` (keeping, per key, the highest seq) and marks the
    /// store applied through `through`, then makes it durable.
    pub(crate) fn apply(&self, entries: impl IntoIterator<Item = (IdentityKey, Latest)>, through: SeqNo) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (key, latest) in entries {
            if let Some(old) = self.get(key)? {
                if old.seq >= latest.seq {
                    continue;
                }
            }
            batch.insert(&key.0.to_be_bytes(), &latest.encode());
        }
        self.map.apply_batch(batch).map_err(sled_err)?;
        self.db.insert(APPLIED_THROUGH, &through.0.to_le_bytes()).map_err(sled_err)?;
        self.db.flush().map_err(sled_err)?;
        Ok(())
    }

    /// Forgets everything (before a full rebuild).
    pub(crate) fn clear(&self) -> Result<()> {
        self.map.clear().map_err(sled_err)?;
        self.db.remove(APPLIED_THROUGH).map_err(sled_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ApiShape, Timestamp};

    fn event(uid: &str, rv: &str, count: i64) -> Event {
        let mut e = Event::new(ApiShape::CoreV1);
        e.set_cluster("c");
        e.set_str(StrField::MetadataUid, Some(uid));
        e.set_str(StrField::MetadataResourceVersion, Some(rv));
        e.set_int(crate::model::IntField::Count, Some(count));
        e.set_time(crate::model::TimeField::LastTimestamp, Some(Timestamp(count)));
        e
    }

    #[test]
    fn resource_version_decides_when_both_are_numeric() {
        let old = Version::of(&event("a", "100", 5));
        assert!(Version::of(&event("a", "101", 1)).is_newer_than(&old));
        assert!(!Version::of(&event("a", "100", 9)).is_newer_than(&old));
        assert!(!Version::of(&event("a", "99", 9)).is_newer_than(&old));
        // Without numeric versions, time and count decide.
        let old = Version::of(&event("a", "x", 5));
        assert!(Version::of(&event("a", "y", 6)).is_newer_than(&old));
        assert!(!Version::of(&event("a", "y", 5)).is_newer_than(&old));
    }

    #[test]
    fn identity_is_per_cluster_and_uid() {
        let a = event("a", "1", 1);
        let mut b = event("a", "2", 2);
        assert_eq!(IdentityKey::of(&a), IdentityKey::of(&b));
        b.set_cluster("other");
        assert_ne!(IdentityKey::of(&a), IdentityKey::of(&b));
    }

    #[test]
    fn store_keeps_the_highest_seq_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let key = IdentityKey::of(&event("a", "1", 1));
        let v = Version::of(&event("a", "1", 1));
        {
            let (store, note) = IdentityStore::open(dir.path(), 1 << 20).unwrap();
            assert!(note.is_none());
            store.apply([(key, Latest { seq: SeqNo(5), version: v })], SeqNo(5)).unwrap();
            store.apply([(key, Latest { seq: SeqNo(3), version: v })], SeqNo(6)).unwrap();
        }
        let (store, _) = IdentityStore::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(store.get(key).unwrap().unwrap().seq, SeqNo(5));
        assert_eq!(store.applied_through().unwrap(), SeqNo(6));
    }
}
