//! The manifest: the authoritative list of live segments and superseded-set
//! files, and the sequence number through which rows are sealed.
//!
//! The file `MANIFEST` is a checked file (`fsutil::checked_file`: magic,
//! version, body length, body CRC-32C, then the body) with magic
//! `"KEVDBMAN"`, version 1, and as body the JSON of [`Manifest`].
//!
//! It is replaced atomically (write temporary, fsync, rename, fsync
//! directory) after every seal, compaction and retention pass. Files in the
//! data directory that it does not list are leftovers of an interrupted
//! operation and are deleted at open.

use crate::error::{Error, Result};
use crate::fsutil::checked_file::{self, FileFormat};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File name of the manifest.
pub const MANIFEST_FILE: &str = "MANIFEST";
/// Magic and version of the manifest file.
pub(crate) const MANIFEST_FORMAT: FileFormat = FileFormat { magic: *b"KEVDBMAN", version: 1 };

/// One live segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentEntry {
    /// Segment id (its file name is the id in 16 hex digits).
    pub id: u64,
    /// Partition: days since the epoch (UTC).
    pub day: i32,
    /// Rows in the segment.
    pub rows: u64,
    /// File size.
    pub bytes: u64,
    /// Smallest sequence number in the segment.
    pub min_seq: u64,
    /// Largest sequence number in the segment.
    pub max_seq: u64,
}

/// The manifest body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Manifest {
    /// Every row with a sequence number at or below this is in a segment
    /// (or was deleted by retention); the WAL holds only later rows.
    pub sealed_seq: u64,
    /// The id the next segment will get.
    pub next_segment_id: u64,
    /// Live segments.
    pub segments: Vec<SegmentEntry>,
    /// Superseded-set files (names under `superseded/`), oldest first.
    pub superseded: Vec<String>,
    /// Key (hex, 32 bytes) that authenticates continue tokens; made when
    /// the database is created.
    #[serde(default)]
    pub token_key: String,
    /// The largest seq retention has deleted: a stream resumed from an
    /// older seq would have gaps, so it is refused (HTTP 410).
    #[serde(default)]
    pub retention_floor: u64,
    /// Purge files (names under `purged/`): seqs of observations an
    /// administrator deleted; hidden from every read, dropped by compaction.
    #[serde(default)]
    pub purged: Vec<String>,
}

impl Manifest {
    /// Reads the manifest of `dir`, or `None` for a new database.
    pub fn load(dir: &Path) -> Result<Option<Manifest>> {
        let path = dir.join(MANIFEST_FILE);
        let Some(body) = checked_file::load_if_exists(&MANIFEST_FORMAT, &path)? else { return Ok(None) };
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| checked_file::corrupt_body(&path, "a JSON manifest body", e))
    }

    /// The manifest's body: its JSON.
    fn body(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| Error::InvalidArgument(format!("manifest does not serialise: {e}")))
    }

    /// Atomically replaces the manifest of `dir`.
    pub fn store(&self, dir: &Path) -> Result<()> {
        checked_file::store(&MANIFEST_FORMAT, &dir.join(MANIFEST_FILE), &self.body()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_and_detects_damage() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), None);
        let m = Manifest {
            sealed_seq: 42,
            next_segment_id: 3,
            segments: vec![SegmentEntry { id: 2, day: 20000, rows: 10, bytes: 999, min_seq: 1, max_seq: 42 }],
            superseded: vec!["00000000000000000042.sup".into()],
            token_key: "00".repeat(32),
            retention_floor: 7,
            purged: vec!["00000000000000000042-0000.del".into()],
        };
        m.store(dir.path()).unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), Some(m.clone()));
        let path = dir.path().join(MANIFEST_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let err = Manifest::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("crc"), "{err}");
    }

    #[test]
    fn manifest_golden_bytes() {
        let bytes = checked_file::encode(&MANIFEST_FORMAT, &Manifest::default().body().unwrap()).unwrap();
        let body =
            br#"{"sealed_seq":0,"next_segment_id":0,"segments":[],"superseded":[],"token_key":"","retention_floor":0,"purged":[]}"#;
        assert_eq!(&bytes[..8], b"KEVDBMAN");
        assert_eq!(&bytes[8..16], &[1, 0, 0, 0, body.len() as u8, 0, 0, 0]);
        assert_eq!(&bytes[16..24], &[0x3b, 0x9a, 0x34, 0x1c, 0, 0, 0, 0], "crc32c(body), reserved");
        assert_eq!(&bytes[24..], body);
    }

    /// `tests/fixtures/v1/MANIFEST` was written by the first release (before
    /// the framing moved to `fsutil::checked_file`); it must keep opening.
    #[test]
    fn a_manifest_written_by_the_first_release_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let fixture = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1/MANIFEST"));
        std::fs::write(dir.path().join(MANIFEST_FILE), fixture).unwrap();
        let m = Manifest::load(dir.path()).unwrap().unwrap();
        assert_eq!(
            m,
            Manifest {
                sealed_seq: 42,
                next_segment_id: 3,
                segments: vec![SegmentEntry { id: 2, day: 20000, rows: 10, bytes: 999, min_seq: 1, max_seq: 42 }],
                superseded: vec!["00000000000000000042.sup".into()],
                token_key: "ab".repeat(32),
                retention_floor: 7,
                purged: vec!["00000000000000000042-0000.del".into()],
            }
        );
        m.store(dir.path()).unwrap();
        assert_eq!(std::fs::read(dir.path().join(MANIFEST_FILE)).unwrap(), fixture, "rewritten byte for byte");
    }
}
