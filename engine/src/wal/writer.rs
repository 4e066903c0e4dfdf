//! Appending frames to the current WAL file.

use super::{WAL_HEADER_LEN, WAL_MAGIC, WAL_VERSION};
use crate::error::{Error, Result};
use crate::fsutil::sync_dir;
use crate::row::SeqNo;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The open tail file of the WAL. Owned by the commit thread alone.
#[derive(Debug)]
pub(crate) struct WalWriter {
    file: File,
    path: PathBuf,
    /// Bytes written since the last sync.
    unsynced: u64,
}

/// The file name of the WAL file whose first row has sequence number `seq`.
pub(crate) fn wal_file_name(seq: SeqNo) -> String {
    format!("{:020}.wal", seq.0)
}

impl WalWriter {
    /// Creates a new WAL file starting at `first_seq` and makes its existence
    /// durable (header written, file and directory synced).
    pub(crate) fn create(dir: &Path, first_seq: SeqNo) -> Result<WalWriter> {
        let path = dir.join(wal_file_name(first_seq));
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| Error::io("create", &path, e))?;
        let mut header = [0u8; WAL_HEADER_LEN];
        header[..8].copy_from_slice(&WAL_MAGIC);
        header[8..12].copy_from_slice(&WAL_VERSION.to_le_bytes());
        file.write_all(&header).map_err(|e| Error::io("write", &path, e))?;
        file.sync_all().map_err(|e| Error::io("fsync", &path, e))?;
        // IMPORTANT: fsync the directory so the new file's name survives a crash.
        sync_dir(dir)?;
        Ok(WalWriter { file, path, unsynced: 0 })
    }

    /// Appends whole frames. Not durable until [`WalWriter::sync`].
    pub(crate) fn append(&mut self, frames: &[u8]) -> Result<()> {
        self.file.write_all(frames).map_err(|e| Error::io("write", &self.path, e))?;
        self.unsynced += frames.len() as u64;
        Ok(())
    }

    /// Makes everything appended so far durable.
    pub(crate) fn sync(&mut self) -> Result<()> {
        if self.unsynced > 0 {
            self.file.sync_data().map_err(|e| Error::io("fdatasync", &self.path, e))?;
            self.unsynced = 0;
        }
        Ok(())
    }

    /// True when bytes were appended since the last sync.
    pub(crate) fn has_unsynced(&self) -> bool {
        self.unsynced > 0
    }
}
