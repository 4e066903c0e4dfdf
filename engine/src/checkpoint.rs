//! Checkpoints: small named values an ingest client stores beside the data
//! it has delivered, such as the resourceVersion a collector has archived
//! up to, so that a restarted collector resumes where the archive stands.
//!
//! Each checkpoint is one file, `checkpoints/<name>`, holding the value's
//! UTF-8 bytes and nothing else (no checked-file header: see
//! docs/FORMAT.md), replaced atomically by `fsutil::write_atomic`
//! (temporary file, fsync, rename, directory fsync). A client stores a
//! checkpoint only after the append it covers was acknowledged, so a
//! checkpoint never runs ahead of the data; it may lag after a crash, and
//! re-delivery is a no-op.

use crate::error::{Error, Result};
use crate::fsutil::{create_dir_durable, write_atomic};
use std::path::{Path, PathBuf};

/// Longest checkpoint name.
const MAX_NAME: usize = 200;
/// Largest checkpoint value.
pub const MAX_VALUE: usize = 4096;

/// Checks a checkpoint name: 1–200 of `A-Z a-z 0-9 . _ -`, not starting
/// with a dot.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "invalid checkpoint name {name:?}: use 1-{MAX_NAME} letters, digits, '.', '_' or '-', not starting with '.'"
        )))
    }
}

fn path(dir: &Path, name: &str) -> Result<PathBuf> {
    check_name(name)?;
    Ok(dir.join("checkpoints").join(name))
}

/// The value of checkpoint `name`, if it was ever set.
pub(crate) fn read(dir: &Path, name: &str) -> Result<Option<String>> {
    let p = path(dir, name)?;
    match std::fs::read(&p) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|e| Error::Corrupt {
            offset: e.utf8_error().valid_up_to() as u64,
            path: p,
            expected: "a UTF-8 checkpoint value".into(),
            found: "invalid UTF-8".into(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", &p, e)),
    }
}

/// Serialises writers: every write of a name goes through the same
/// temporary file.
static WRITE: parking_lot::Mutex<()> = parking_lot::Mutex::new(());

/// Durably sets checkpoint `name` to `value`.
pub(crate) fn write(dir: &Path, name: &str, value: &str) -> Result<()> {
    let p = path(dir, name)?;
    if value.len() > MAX_VALUE {
        return Err(Error::InvalidArgument(format!(
            "checkpoint value is {} bytes, more than the {MAX_VALUE} allowed",
            value.len()
        )));
    }
    let _guard = WRITE.lock();
    create_dir_durable(&dir.join("checkpoints"))?;
    write_atomic(&p, value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("collect.prod.v1").is_ok());
        assert!(check_name("a-b_c").is_ok());
        for bad in ["", ".hidden", "a/b", "../x", "sp ace", &"x".repeat(201)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn values_round_trip_and_replace() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(read(dir.path(), "c").expect("read"), None);
        write(dir.path(), "c", "41").expect("write");
        write(dir.path(), "c", "42").expect("write");
        assert_eq!(read(dir.path(), "c").expect("read").as_deref(), Some("42"));
        assert!(write(dir.path(), "c", &"9".repeat(MAX_VALUE + 1)).is_err());
        assert!(read(dir.path(), "../MANIFEST").is_err());
    }
}
