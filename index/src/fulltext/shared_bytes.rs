//! `SharedBytes`: a cheaply clonable, immutable byte buffer shared by
//! reference count — how the engine hands a blob inside a segment mmap to
//! [`FullTextIndex::open`](crate::FullTextIndex::open) without copying it.

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

use tantivy::directory::OwnedBytes;

use crate::zerocopy::ArcBytes;

/// An immutable byte buffer whose owner (a `Vec`, an mmap, …) is kept alive by
/// a reference count; slicing and cloning never copy the bytes.
///
/// ```
/// use std::sync::Arc;
/// use kevdb_index::SharedBytes;
///
/// // Any `AsRef<[u8]>` owner works, e.g. `Arc<memmap2::Mmap>` for a segment file.
/// let segment: Arc<Vec<u8>> = Arc::new((0..=255).collect());
/// let blob = SharedBytes::from_arc(segment).slice(16..48).expect("in bounds");
/// assert_eq!(blob[0], 16);
/// ```
#[derive(Clone)]
pub struct SharedBytes(pub(crate) OwnedBytes);

impl SharedBytes {
    /// Shares the bytes of `owner`, which stays alive as long as any handle
    /// (or any index opened from one) does.
    pub fn from_arc<T: AsRef<[u8]> + Send + Sync + ?Sized + 'static>(owner: Arc<T>) -> Self {
        SharedBytes(OwnedBytes::new(ArcBytes(owner)))
    }

    /// Takes ownership of `owner` (e.g. a `Vec<u8>` or a `memmap2::Mmap`).
    pub fn from_owner<T: AsRef<[u8]> + Send + Sync + 'static>(owner: T) -> Self {
        Self::from_arc(Arc::new(owner))
    }

    /// The sub-range `range`, sharing the same owner; `None` when out of bounds.
    pub fn slice(&self, range: Range<usize>) -> Option<Self> {
        (range.start <= range.end && range.end <= self.0.len()).then(|| SharedBytes(self.0.slice(range)))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.0.as_slice()
    }
}

impl Deref for SharedBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<Vec<u8>> for SharedBytes {
    fn from(bytes: Vec<u8>) -> Self {
        SharedBytes(OwnedBytes::new(bytes))
    }
}

impl fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedBytes").field("len", &self.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_share_the_owner_without_copying() {
        let owner: Arc<Vec<u8>> = Arc::new((0..100).collect());
        let whole = SharedBytes::from_arc(Arc::clone(&owner));
        let part = whole.slice(10..20).expect("in bounds");
        assert_eq!(part.as_slice(), &owner[10..20]);
        assert_eq!(part.as_ptr(), owner[10..].as_ptr());
        assert!(whole.slice(90..101).is_none());
        #[expect(clippy::reversed_empty_ranges, reason = "testing that an inverted range is refused")]
        let inverted = whole.slice(20..10);
        assert!(inverted.is_none());
        drop(whole);
        assert_eq!(Arc::strong_count(&owner), 2);
        drop(part);
        assert_eq!(Arc::strong_count(&owner), 1);
    }
}
