//! The superseded set: sequence numbers of observations that a newer
//! observation of the same event has replaced. "Latest only" queries skip
//! them with one bitmap lookup instead of a scan.
//!
//! Supersession is recorded by sequence number, so it is independent of
//! where rows live and survives compaction unchanged. Each seal persists the
//! supersessions its rows caused as one file,
//! `superseded/<sealed seq, 20 digits>.sup`: a checked file
//! (`fsutil::checked_file`: magic, version, body length, body CRC-32C, then
//! the body) with magic `"KEVDBSUP"`, version 1, and as body a
//! `RoaringTreemap` in the roaring crate's portable serialisation. Purge
//! files (`purged/*.del`, see `db::purge`) are seq sets in the same format.
//!
//! In memory, recent supersessions are also kept as `(new seq, old seq)`
//! pairs so that a reader pinned at a seq high-water mark `hi` still sees an
//! observation as latest when its replacement arrived after `hi`.

use crate::error::{Error, Result};
use crate::fsutil::checked_file::{self, FileFormat};
use crate::fsutil::create_dir_durable;
use roaring::RoaringTreemap;
use std::collections::VecDeque;
use std::path::Path;

/// Magic and version of superseded-set (and purge) files.
const SEQ_SET_FORMAT: FileFormat = FileFormat { magic: *b"KEVDBSUP", version: 1 };
/// How many recent (new, old) pairs are kept for pinned readers.
const RECENT_PAIRS: usize = 1 << 20;

/// The in-memory superseded set.
#[derive(Debug, Default)]
pub(crate) struct Superseded {
    set: RoaringTreemap,
    /// (new seq, old seq), ascending by new seq.
    recent: VecDeque<(u64, u64)>,
    /// `recent` holds every supersession whose new seq is above this.
    complete_above: u64,
}

impl Superseded {
    /// Records that `new` superseded `old`. `new` must ascend across calls.
    pub(crate) fn record(&mut self, new: u64, old: u64) {
        self.set.insert(old);
        if self.recent.len() >= RECENT_PAIRS {
            if let Some((dropped, _)) = self.recent.pop_front() {
                self.complete_above = dropped;
            }
        }
        self.recent.push_back((new, old));
    }

    /// Every superseded seq.
    pub(crate) fn set(&self) -> &RoaringTreemap {
        &self.set
    }

    /// Adds seqs known superseded (from files at open).
    pub(crate) fn extend(&mut self, seqs: &RoaringTreemap) {
        self.set |= seqs;
    }

    /// True when `seq` is the latest observation of its event as seen by a
    /// reader pinned at `hi`.
    pub(crate) fn is_latest(&self, seq: u64, hi: u64) -> bool {
        if !self.set.contains(seq) {
            return true;
        }
        // Superseded, but perhaps only by an observation the reader cannot see.
        let start = self.recent.partition_point(|&(new, _)| new <= hi);
        self.recent.range(start..).any(|&(_, old)| old == seq)
    }

    /// Marks `recent` complete only above `seq` (at open: pairs of sealed
    /// rows are not kept across restarts).
    pub(crate) fn set_complete_above(&mut self, seq: u64) {
        self.complete_above = seq;
    }

    /// True when [`Superseded::is_latest`] is exact for readers pinned at `hi`.
    pub(crate) fn can_pin(&self, hi: u64) -> bool {
        hi >= self.complete_above
    }

    /// Number of superseded observations.
    pub(crate) fn len(&self) -> u64 {
        self.set.len()
    }
}

/// Writes a superseded-set (or purge) file.
pub(crate) fn store_file(dir: &Path, name: &str, seqs: &RoaringTreemap) -> Result<()> {
    create_dir_durable(dir)?;
    let path = dir.join(name);
    let mut body = Vec::with_capacity(seqs.serialized_size());
    seqs.serialize_into(&mut body).map_err(|e| Error::io("serialise", &path, e))?;
    checked_file::store(&SEQ_SET_FORMAT, &path, &body)
}

/// Deletes the files `names` of directory `dir` (files folded into another),
/// then makes the deletions durable.
pub(crate) fn remove_files(dir: &Path, names: &[String]) -> Result<()> {
    for name in names {
        let path = dir.join(name);
        std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
    }
    crate::fsutil::sync_dir(dir)
}

/// Reads a superseded-set (or purge) file.
pub(crate) fn load_file(path: &Path) -> Result<RoaringTreemap> {
    let body = checked_file::load(&SEQ_SET_FORMAT, path)?;
    RoaringTreemap::deserialize_from(&body[..]).map_err(|e| checked_file::corrupt_body(path, "a roaring treemap", e))
}

/// The file name for the supersessions sealed through `seq`.
pub(crate) fn file_name(sealed_seq: u64) -> String {
    format!("{sealed_seq:020}.sup")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_readers_do_not_see_later_supersessions() {
        let mut s = Superseded::default();
        s.record(10, 3);
        s.record(12, 5);
        assert!(!s.is_latest(3, 10));
        assert!(!s.is_latest(5, 12));
        assert!(s.is_latest(5, 11), "replaced by seq 12, invisible at hi 11");
        assert!(s.is_latest(7, 12));
    }

    #[test]
    fn files_round_trip_and_detect_flipped_bits() {
        let dir = tempfile::tempdir().unwrap();
        let seqs: RoaringTreemap = [1u64, 5, 1 << 40].into_iter().collect();
        store_file(dir.path(), &file_name(9), &seqs).unwrap();
        let path = dir.path().join(file_name(9));
        assert_eq!(load_file(&path).unwrap(), seqs);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() - 1;
        bytes[at] ^= 0x10;
        std::fs::write(&path, bytes).unwrap();
        assert!(load_file(&path).is_err());
    }

    /// `tests/fixtures/v1/00000000000000000042.sup` was written by the first
    /// release (before the framing moved to `fsutil::checked_file`); it must
    /// keep loading, and the same set must encode to the same bytes.
    #[test]
    fn a_file_written_by_the_first_release_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let fixture =
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1/00000000000000000042.sup"));
        let path = dir.path().join("old.sup");
        std::fs::write(&path, fixture).unwrap();
        let seqs = load_file(&path).unwrap();
        assert_eq!(seqs.iter().collect::<Vec<_>>(), [3, 5, 1 << 40]);
        store_file(dir.path(), "new.sup", &seqs).unwrap();
        assert_eq!(std::fs::read(dir.path().join("new.sup")).unwrap(), fixture);
    }
}
