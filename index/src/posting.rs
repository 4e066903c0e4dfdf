//! Sets of row ids: [`Posting`] (rows read from a blob, viewed in place),
//! [`OwnedBitmap`], and the [`RowSet`] trait that lets either be combined with
//! the other.

use std::borrow::Cow;
use std::fmt;

use croaring::{Bitmap, BitmapView};

/// An owned, mutable set of row ids: a CRoaring bitmap.
///
/// Its full API (`and_inplace`, `or_inplace`, `andnot_inplace`, `fast_or`,
/// `iter`, `cardinality`, …) is available; [`croaring`] is re-exported.
pub type OwnedBitmap = Bitmap;

/// The rows of one posting (a field value's rows, or a message's rows), read
/// from a blob without copying.
///
/// Iterate it, count it, test membership, or combine it with another posting
/// or an [`OwnedBitmap`] (anything [`RowSet`]); combinations return a new
/// [`OwnedBitmap`]. To fold many postings into an accumulator, use
/// [`Posting::as_bitmap`] with the in-place bitmap operations:
/// `acc.and_inplace(&posting.as_bitmap())`.
pub struct Posting<'a>(pub(crate) Repr<'a>);

pub(crate) enum Repr<'a> {
    /// One row.
    Single(u32),
    /// A few row ids, u32 little-endian, ascending.
    Inline(&'a [u8]),
    /// A frozen roaring bitmap viewed in place.
    View(BitmapView<'a>),
    /// A copy, made when the blob was not 32-byte aligned in memory.
    Owned(Bitmap),
}

impl<'a> Posting<'a> {
    /// Number of rows.
    pub fn len(&self) -> u64 {
        match &self.0 {
            Repr::Single(_) => 1,
            Repr::Inline(bytes) => bytes.len() as u64 / 4,
            Repr::View(view) => view.cardinality(),
            Repr::Owned(bitmap) => bitmap.cardinality(),
        }
    }

    /// True when there are no rows (never the case for a posting read from a blob).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `row` is in the posting.
    pub fn contains(&self, row: u32) -> bool {
        match &self.0 {
            Repr::Single(only) => *only == row,
            Repr::Inline(bytes) => inline_rows(bytes).any(|r| r == row),
            Repr::View(view) => view.contains(row),
            Repr::Owned(bitmap) => bitmap.contains(row),
        }
    }

    /// The rows, ascending.
    pub fn iter(&self) -> PostingIter<'_> {
        match &self.0 {
            Repr::Single(row) => PostingIter(IterRepr::Single(Some(*row))),
            Repr::Inline(bytes) => PostingIter(IterRepr::Inline(bytes.chunks_exact(4))),
            Repr::View(view) => PostingIter(IterRepr::Bitmap(view.iter())),
            Repr::Owned(bitmap) => PostingIter(IterRepr::Bitmap(bitmap.iter())),
        }
    }

    /// The posting as a bitmap: borrowed (no copy) for bitmap postings, built
    /// for the few-row inline ones.
    pub fn as_bitmap(&self) -> Cow<'_, OwnedBitmap> {
        match &self.0 {
            Repr::Single(row) => Cow::Owned(Bitmap::of(&[*row])),
            Repr::Inline(bytes) => Cow::Owned(Bitmap::of(&inline_rows(bytes).collect::<Vec<_>>())),
            Repr::View(view) => Cow::Borrowed(view),
            Repr::Owned(bitmap) => Cow::Borrowed(bitmap),
        }
    }

    /// An owned copy of the rows.
    pub fn to_bitmap(&self) -> OwnedBitmap {
        self.as_bitmap().into_owned()
    }

    /// Rows in both `self` and `other`.
    pub fn and<S: RowSet + ?Sized>(&self, other: &S) -> OwnedBitmap {
        match &self.0 {
            // A few rows: probe the other set instead of building a bitmap.
            Repr::Single(_) | Repr::Inline(_) => {
                Bitmap::of(&self.iter().filter(|&r| other.contains_row(r)).collect::<Vec<_>>())
            }
            Repr::View(_) | Repr::Owned(_) => self.as_bitmap().and(&other.as_bitmap()),
        }
    }

    /// Rows in `self` or `other`.
    pub fn or<S: RowSet + ?Sized>(&self, other: &S) -> OwnedBitmap {
        self.as_bitmap().or(&other.as_bitmap())
    }

    /// Rows in `self` but not in `other`.
    pub fn andnot<S: RowSet + ?Sized>(&self, other: &S) -> OwnedBitmap {
        match &self.0 {
            Repr::Single(_) | Repr::Inline(_) => {
                Bitmap::of(&self.iter().filter(|&r| !other.contains_row(r)).collect::<Vec<_>>())
            }
            Repr::View(_) | Repr::Owned(_) => self.as_bitmap().andnot(&other.as_bitmap()),
        }
    }
}

impl fmt::Debug for Posting<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 16;
        let mut list = f.debug_list();
        list.entries(self.iter().take(SHOWN));
        if self.len() > SHOWN as u64 {
            list.entry(&format_args!("… ({} rows)", self.len()));
        }
        list.finish()
    }
}

impl<'p> IntoIterator for &'p Posting<'_> {
    type Item = u32;
    type IntoIter = PostingIter<'p>;

    fn into_iter(self) -> PostingIter<'p> {
        self.iter()
    }
}

/// The rows of an inline payload: u32 little-endian row ids.
pub(crate) fn inline_rows(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// Iterator over a [`Posting`]'s rows, ascending.
pub struct PostingIter<'p>(IterRepr<'p>);

enum IterRepr<'p> {
    Single(Option<u32>),
    Inline(std::slice::ChunksExact<'p, u8>),
    Bitmap(croaring::bitmap::BitmapIterator<'p>),
}

impl Iterator for PostingIter<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        match &mut self.0 {
            IterRepr::Single(row) => row.take(),
            IterRepr::Inline(chunks) => chunks.next().map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            IterRepr::Bitmap(iter) => iter.next(),
        }
    }
}

impl fmt::Debug for PostingIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PostingIter")
    }
}

/// A set of rows that can be combined with a [`Posting`]: another posting or
/// an [`OwnedBitmap`].
pub trait RowSet {
    /// The set as a bitmap, borrowed where possible.
    fn as_bitmap(&self) -> Cow<'_, OwnedBitmap>;
    /// Whether `row` is in the set.
    fn contains_row(&self, row: u32) -> bool;
}

impl RowSet for Posting<'_> {
    fn as_bitmap(&self) -> Cow<'_, OwnedBitmap> {
        Posting::as_bitmap(self)
    }

    fn contains_row(&self, row: u32) -> bool {
        self.contains(row)
    }
}

impl RowSet for OwnedBitmap {
    fn as_bitmap(&self) -> Cow<'_, OwnedBitmap> {
        Cow::Borrowed(self)
    }

    fn contains_row(&self, row: u32) -> bool {
        self.contains(row)
    }
}
