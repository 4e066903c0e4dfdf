//! The manifest: the authoritative list of live segments and superseded-set
//! files, and the sequence number through which rows are sealed.
//!
//! ```text
//! MANIFEST
//! +------------------------+
//! | magic "KEVDBMAN"    8B |
//! | version u32 LE      4B |  = MANIFEST_VERSION
//! | body_len u32 LE     4B |
//! | crc32c(body) u32 LE 4B |
//! | reserved u32 LE     4B |  = 0
//! +------------------------+ 24
//! | body: JSON (Manifest)  |
//! +------------------------+
//! ```
//!
//! It is replaced atomically (write temporary, fsync, rename, fsync
//! directory) after every seal, compaction and retention pass. Files in the
//! data directory that it does not list are leftovers of an interrupted
//! operation and are deleted at open.

use crate::codec::crc;
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File name of the manifest.
pub const MANIFEST_FILE: &str = "MANIFEST";
/// Magic bytes of the manifest.
pub const MANIFEST_MAGIC: [u8; 8] = *b"KEVDBMAN";
/// Manifest format version.
pub const MANIFEST_VERSION: u32 = 1;
const HEADER_LEN: usize = 24;

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
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        let corrupt = |offset: u64, expected: &str, found: String| Error::Corrupt {
            path: path.clone(),
            offset,
            expected: expected.into(),
            found,
        };
        if bytes.len() < HEADER_LEN || bytes[..8] != MANIFEST_MAGIC {
            return Err(corrupt(0, "manifest magic KEVDBMAN", format!("{} bytes", bytes.len())));
        }
        let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let version = word(8);
        if version != MANIFEST_VERSION {
            return Err(Error::UnsupportedVersion { path, version, supported: MANIFEST_VERSION });
        }
        let len = word(12) as usize;
        let body = bytes.get(HEADER_LEN..HEADER_LEN + len).ok_or_else(|| {
            corrupt(12, "a body of the announced length", format!("{} bytes", bytes.len() - HEADER_LEN))
        })?;
        let found = crc(body);
        if found != word(16) {
            return Err(corrupt(HEADER_LEN as u64, &format!("body crc {:08x}", word(16)), format!("{found:08x}")));
        }
        serde_json::from_slice(body)
            .map(Some)
            .map_err(|e| corrupt(HEADER_LEN as u64, "a JSON manifest body", e.to_string()))
    }

    /// Encodes the manifest file.
    pub fn encode(&self) -> Vec<u8> {
        let body = serde_json::to_vec(self).unwrap_or_default();
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(&MANIFEST_MAGIC);
        out.extend_from_slice(&MANIFEST_VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc(&body).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// Atomically replaces the manifest of `dir`.
    pub fn store(&self, dir: &Path) -> Result<()> {
        write_atomic(&dir.join(MANIFEST_FILE), &self.encode())
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
    fn manifest_header_golden_bytes() {
        let bytes = Manifest::default().encode();
        let body =
            br#"{"sealed_seq":0,"next_segment_id":0,"segments":[],"superseded":[],"token_key":"","retention_floor":0,"purged":[]}"#;
        assert_eq!(&bytes[..8], b"KEVDBMAN");
        assert_eq!(&bytes[8..16], &[1, 0, 0, 0, body.len() as u8, 0, 0, 0]);
        assert_eq!(&bytes[16..20], &crc(body).to_le_bytes());
        assert_eq!(&bytes[24..], body);
    }
}
