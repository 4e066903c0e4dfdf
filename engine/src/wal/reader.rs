//! Reading WAL files back at recovery, detecting torn and damaged tails.

use super::frame::{decode_payload, Batch};
use super::{MAX_FRAME_LEN, WAL_HEADER_LEN, WAL_MAGIC, WAL_VERSION};
use crate::codec::crc;
use crate::error::{Error, Result};
use crate::row::SeqNo;
use std::path::{Path, PathBuf};

/// What reading one WAL file found.
#[derive(Debug)]
pub(crate) struct WalFileReport {
    /// Every intact batch, in file order.
    pub batches: Vec<Batch>,
    /// Length of the intact prefix of the file.
    pub valid_len: u64,
    /// Why reading stopped before the end of the file, if it did.
    pub damage: Option<String>,
}

/// Lists the WAL files in `dir`, ordered by their first sequence number.
pub(crate) fn list_wal_files(dir: &Path) -> Result<Vec<(SeqNo, PathBuf)>> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read directory", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("read directory", dir, e))?;
        let name = entry.file_name();
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".wal")) else {
            continue;
        };
        if let Ok(seq) = stem.parse::<u64>() {
            files.push((SeqNo(seq), entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// Reads every intact frame of a WAL file. Reading stops at the first frame
/// that is incomplete or fails its checksum; what follows is reported as
/// damage (a torn tail after a crash, or corruption).
pub(crate) fn read_wal_file(path: &Path) -> Result<WalFileReport> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    if bytes.len() < WAL_HEADER_LEN {
        // A crash while creating the file: nothing in it was acknowledged.
        return Ok(WalFileReport {
            batches: Vec::new(),
            valid_len: 0,
            damage: Some(format!("header is torn ({} of {WAL_HEADER_LEN} bytes)", bytes.len())),
        });
    }
    if bytes[..8] != WAL_MAGIC {
        return Err(Error::Corrupt {
            path: path.to_owned(),
            offset: 0,
            expected: "WAL magic KEVDBWAL".into(),
            found: format!("{:02x?}", &bytes[..8]),
        });
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != WAL_VERSION {
        return Err(Error::UnsupportedVersion { path: path.to_owned(), version, supported: WAL_VERSION });
    }
    let mut pos = WAL_HEADER_LEN;
    let mut batches = Vec::new();
    let mut damage = None;
    while pos < bytes.len() {
        let Some(header) = bytes.get(pos..pos + 8) else {
            damage = Some(format!("torn frame header at offset {pos}"));
            break;
        };
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let expected_crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if len > MAX_FRAME_LEN {
            damage = Some(format!("implausible frame length {len} at offset {pos}"));
            break;
        }
        let Some(payload) = bytes.get(pos + 8..pos + 8 + len) else {
            damage = Some(format!(
                "torn frame at offset {pos}: {len} payload bytes announced, {} present",
                bytes.len() - pos - 8
            ));
            break;
        };
        let found_crc = crc(payload);
        if found_crc != expected_crc {
            damage =
                Some(format!("checksum mismatch at offset {pos}: expected {expected_crc:08x}, found {found_crc:08x}"));
            break;
        }
        match decode_payload(payload) {
            Ok(batch) => batches.push(batch),
            Err(e) => {
                damage = Some(format!("undecodable frame at offset {pos}: {e}"));
                break;
            }
        }
        pos += 8 + len;
    }
    Ok(WalFileReport { batches, valid_len: pos as u64, damage })
}
