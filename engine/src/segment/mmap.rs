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

/// Bytes at the end of a segment file that opening it reads: the footer and
/// the trailer (footers are tens of KiB).
const OPEN_TAIL: usize = 64 << 10;

/// Asks the kernel to start reading what opening the segment at `path` will
/// read (its first page and its tail), without waiting for it. Called for
/// every segment before any is opened, a cold open then overlaps those
/// reads instead of faulting them in one file at a time. Only a hint:
/// errors are ignored (opening reports them).
pub(crate) fn prefetch_for_open(path: &std::path::Path) {
    let Ok(file) = File::open(path) else { return };
    // SAFETY: as for `map_segment`; the map is only used for the advice.
    let Ok(map) = (unsafe { map_segment(&file) }) else { return };
    const PAGE: usize = 4096;
    let len = map.len();
    let _ = map.advise_range(memmap2::Advice::WillNeed, 0, len.min(PAGE));
    let tail = len.saturating_sub(OPEN_TAIL) / PAGE * PAGE;
    let _ = map.advise_range(memmap2::Advice::WillNeed, tail, len - tail);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetch_is_a_harmless_hint_on_any_file() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0usize, 10, 4096, 100_000] {
            let path = dir.path().join(format!("f{len}"));
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            std::fs::write(&path, &bytes).unwrap();
            prefetch_for_open(&path);
            assert_eq!(std::fs::read(&path).unwrap(), bytes);
        }
        prefetch_for_open(&dir.path().join("missing"));
    }
}
