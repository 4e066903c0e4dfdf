//! The one place segments are memory-mapped.

use memmap2::Mmap;
use std::fs::File;

/// Maps a whole segment file read-only.
///
/// # Safety
///
/// The caller must guarantee that the file is never modified or truncated
/// while the map lives. kevdb guarantees this for segment files: they are
/// written under a temporary name, renamed into place once complete, and
/// only ever removed by unlink (which leaves existing maps valid).
pub(crate) unsafe fn map_segment(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: the caller upholds this function's contract (see `# Safety`).
    unsafe { Mmap::map(file) }
}
