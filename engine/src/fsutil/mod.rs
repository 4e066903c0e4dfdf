//! Durable file writes: small helpers that spell out each durability step
//! (directory fsync, atomic replace), and, in [`checked_file`], the one
//! framing of the small files kevdb writes whole (manifest, superseded-set
//! and purge files).

pub(crate) mod checked_file;

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// fsyncs a directory so that entries created, renamed or removed in it
/// survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let f = File::open(dir).map_err(|e| Error::io("open directory", dir, e))?;
    f.sync_all().map_err(|e| Error::io("fsync directory", dir, e))
}

/// The directory holding `path`: its parent, or `.` for a bare relative
/// name (whose `parent()` is the empty path).
fn parent_of(path: &Path) -> Option<&Path> {
    path.parent().map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p })
}

/// Writes `bytes` to `path` atomically: a temporary file is written and
/// fsync'ed, renamed over `path`, and the directory is fsync'ed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_of(path).ok_or_else(|| Error::InvalidArgument(format!("{} has no parent", path.display())))?;
    let tmp = path.with_extension("kevdb-tmp");
    {
        let mut f = File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::io("write", &tmp, e))?;
        f.sync_all().map_err(|e| Error::io("fsync", &tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io("rename", &tmp, e))?;
    // IMPORTANT: fsync the directory after the rename, or the new name may be lost.
    sync_dir(dir)
}

/// Creates a directory (and parents) and fsyncs its parent.
///
/// A bare relative name (`kevdb ingest --data db`) has `.` as its parent.
pub(crate) fn create_dir_durable(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    if let Some(parent) = parent_of(dir) {
        sync_dir(parent)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_relative_names_have_the_current_directory_as_parent() {
        assert_eq!(parent_of(Path::new("db")), Some(Path::new(".")));
        assert_eq!(parent_of(Path::new("a/db")), Some(Path::new("a")));
        assert_eq!(parent_of(Path::new("/")), None);
    }
}
