//! The payload codec both blobs use to store one set of rows (a field value's
//! rows in the postings blob, a message's rows in the full-text blob).
//!
//! # Encoding
//!
//! An entry of the owning blob holds `cardinality u32` and one `word u32`;
//! offsets are from the start of the blob. All integers little-endian.
//!
//! | cardinality | `word` | payload bytes |
//! |---|---|---|
//! | 1 | the row id itself | none |
//! | 2..=8 | offset, a multiple of 4 | `cardinality` × u32 row ids, strictly ascending |
//! | > 8 | offset, a multiple of 32 | at `word - 4`: u32 length `L`; at `word`: a CRoaring "frozen" bitmap (`roaring_bitmap_frozen_serialize`, run-optimised) of `L` bytes |
//!
//! Small sets stay out of bitmaps: the many single-row values of uid and name
//! cost no payload at all. Padding between payloads is zero bytes.

use croaring::{Bitmap, Frozen};

use crate::posting::{inline_rows, Posting, Repr};
use crate::zerocopy::{frozen_view, AlignedBuf, FROZEN_ALIGN};
use crate::{Blob, Error};

/// Largest cardinality stored as plain row ids rather than as a bitmap.
pub(crate) const INLINE_MAX: u32 = 8;

/// An entry's reference to its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PayloadRef {
    pub(crate) cardinality: u32,
    /// The row (cardinality 1) or the payload offset.
    pub(crate) word: u32,
}

impl PayloadRef {
    /// The same reference with offsets moved by `base` (rows stay as they are).
    pub(crate) fn rebase(self, base: u32) -> PayloadRef {
        match self.cardinality {
            1 => self,
            _ => PayloadRef { word: self.word + base, ..self },
        }
    }
}

/// Appends the payload for `rows` (strictly ascending, non-empty) to `out`,
/// padding first as the payload needs. Offsets in the returned reference are
/// relative to the start of `out`, which the caller places at a 32-byte
/// aligned blob offset (then [`PayloadRef::rebase`]s).
///
/// # Panics
///
/// If `out` grows past 4 GiB (a segment of over a hundred million rows).
pub(crate) fn write_payload(out: &mut Vec<u8>, rows: &[u32]) -> PayloadRef {
    debug_assert!(!rows.is_empty() && rows.windows(2).all(|w| w[0] < w[1]));
    let cardinality = u32::try_from(rows.len()).expect("at most 2^32 rows per posting");
    if let [row] = rows {
        return PayloadRef { cardinality, word: *row };
    }
    if cardinality <= INLINE_MAX {
        pad_to(out, 4);
        let offset = out.len();
        for row in rows {
            out.extend_from_slice(&row.to_le_bytes());
        }
        return PayloadRef { cardinality, word: to_u32(offset) };
    }
    let mut bitmap = Bitmap::of(rows);
    bitmap.run_optimize();
    let size = bitmap.get_serialized_size_in_bytes::<Frozen>();
    // Serialise into an over-sized scratch buffer: CRoaring aligns the output by
    // memory address, which need not be our offset's alignment.
    let mut scratch = vec![0u8; size + FROZEN_ALIGN];
    let frozen = bitmap.try_serialize_into::<Frozen>(&mut scratch).expect("scratch holds size + alignment bytes");
    out.resize((out.len() + 4).next_multiple_of(FROZEN_ALIGN) - 4, 0);
    out.extend_from_slice(&to_u32(size).to_le_bytes());
    let offset = out.len();
    out.extend_from_slice(frozen);
    PayloadRef { cardinality, word: to_u32(offset) }
}

/// Appends zero bytes until `out.len()` is a multiple of `align`.
pub(crate) fn pad_to(out: &mut Vec<u8>, align: usize) {
    out.resize(out.len().next_multiple_of(align), 0);
}

/// Converts a blob offset or length to its on-disk u32.
///
/// # Panics
///
/// If the blob is over 4 GiB, which the formats do not support.
pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("index blobs are limited to 4 GiB")
}

pub(crate) fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

/// Reads the rows `at` refers to from `blob`, checking them thoroughly.
pub(crate) fn read_payload<'a>(blob: &'a [u8], at: PayloadRef, kind: Blob) -> Result<Posting<'a>, Error> {
    let start = at.word as usize;
    let bad = |expected: &str, found: String| Error::corrupt(kind, start, expected, found);
    match at.cardinality {
        0 => Err(bad("a non-empty posting", "cardinality 0".into())),
        1 => Ok(Posting(Repr::Single(at.word))),
        2..=INLINE_MAX => {
            let bytes = blob
                .get(start..start.saturating_add(4 * at.cardinality as usize))
                .ok_or_else(|| bad("inline rows inside the blob", format!("{} rows", at.cardinality)))?;
            let mut previous = None;
            for row in inline_rows(bytes) {
                if previous.is_some_and(|p| p >= row) {
                    return Err(bad("strictly ascending inline rows", format!("{row} after {previous:?}")));
                }
                previous = Some(row);
            }
            Ok(Posting(Repr::Inline(bytes)))
        }
        _ => read_frozen(blob, at, bad),
    }
}

fn read_frozen<'a>(blob: &'a [u8], at: PayloadRef, bad: impl Fn(&str, String) -> Error) -> Result<Posting<'a>, Error> {
    let start = at.word as usize;
    if !start.is_multiple_of(FROZEN_ALIGN) || start < 4 {
        return Err(bad("a 32-byte aligned bitmap offset", format!("offset {start}")));
    }
    let len = le_u32(blob, start - 4).unwrap_or_default() as usize;
    let bytes = blob
        .get(start..start.saturating_add(len))
        .ok_or_else(|| bad("a bitmap inside the blob", format!("{len} bytes")))?;
    let invalid = |why: &str| bad("a valid frozen roaring bitmap", why.into());
    let repr = if (bytes.as_ptr() as usize).is_multiple_of(FROZEN_ALIGN) {
        Repr::View(frozen_view(bytes).map_err(invalid)?)
    } else {
        // The caller did not place the blob at POSTINGS_ALIGN / FULLTEXT_ALIGN:
        // still correct, at the price of a copy.
        let copy = AlignedBuf::copy_of(bytes);
        let view = frozen_view(copy.as_slice()).map_err(invalid)?;
        Repr::Owned(view.to_bitmap())
    };
    let posting = Posting(repr);
    if posting.len() != u64::from(at.cardinality) {
        return Err(bad(&format!("cardinality {}", at.cardinality), format!("{} rows", posting.len())));
    }
    Ok(posting)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `rows` after `lead` bytes, reads them back from an aligned copy (or one shifted by a byte).
    fn roundtrip(rows: &[u32], lead: usize, misalign: bool) {
        let mut out = vec![0xEE; lead];
        let at = write_payload(&mut out, rows);
        let shift = usize::from(misalign);
        let mut shifted = vec![0u8; shift];
        shifted.extend_from_slice(&out);
        let buf = AlignedBuf::copy_of(&shifted);
        let posting = read_payload(&buf.as_slice()[shift..], at, Blob::Postings).expect("valid payload");
        assert_eq!(posting.iter().collect::<Vec<_>>(), rows);
        assert_eq!(posting.len(), rows.len() as u64);
        assert!(rows.iter().all(|&r| posting.contains(r)));
        assert_eq!(posting.contains(u32::MAX - 1), rows.contains(&(u32::MAX - 1)));
    }

    #[test]
    fn single_inline_and_bitmap_payloads_round_trip() {
        for lead in [0, 1, 3, 28, 29, 31] {
            roundtrip(&[7], lead, false);
            roundtrip(&[0, u32::MAX], lead, false);
            roundtrip(&[0, 1, 2, 3, 4, 5, 6, u32::MAX], lead, false);
            roundtrip(&(0..9).collect::<Vec<_>>(), lead, false);
            roundtrip(&(0..100_000).step_by(3).collect::<Vec<_>>(), lead, false);
        }
        roundtrip(&(0..100_000).step_by(3).collect::<Vec<_>>(), 5, true);
    }

    #[test]
    fn bitmap_payloads_are_length_prefixed_and_aligned() {
        let mut out = vec![0; 5];
        let at = write_payload(&mut out, &(0..10).collect::<Vec<_>>());
        assert_eq!(at, PayloadRef { cardinality: 10, word: 32 });
        assert_eq!(le_u32(&out, 28), Some(out.len() as u32 - 32));
        assert_eq!(at.rebase(64).word, 96);
        assert_eq!(PayloadRef { cardinality: 1, word: 5 }.rebase(64).word, 5);
    }

    #[test]
    fn inconsistent_references_are_corruption() {
        let mut out = Vec::new();
        let pair = write_payload(&mut out, &[3, 5]);
        let big = write_payload(&mut out, &(0..20).collect::<Vec<_>>());
        let buf = AlignedBuf::copy_of(&out);
        let blob = buf.as_slice();
        let cases = [
            PayloadRef { cardinality: 0, ..pair },
            PayloadRef { cardinality: 3, word: u32::MAX },
            PayloadRef { cardinality: 8, ..pair },
            PayloadRef { cardinality: 9, ..pair },
            PayloadRef { cardinality: 21, ..big },
            PayloadRef { cardinality: 20, word: big.word + 32 },
            PayloadRef { cardinality: 20, word: 0 },
        ];
        for case in cases {
            assert!(matches!(read_payload(blob, case, Blob::Postings), Err(Error::Corrupt { .. })), "{case:?}");
        }
        let descending = [5u32.to_le_bytes(), 3u32.to_le_bytes()].concat();
        let buf = AlignedBuf::copy_of(&descending);
        assert!(read_payload(buf.as_slice(), PayloadRef { cardinality: 2, word: 0 }, Blob::Postings).is_err());
    }

    /// Here rather than in `posting`, which does not depend on `payload`.
    #[test]
    fn combining_small_and_bitmap_postings_matches_bitmap_algebra() {
        let mut out = Vec::new();
        let refs = [
            write_payload(&mut out, &[70_001]),
            write_payload(&mut out, &[1, 4, 9, 70_000]),
            write_payload(&mut out, &(0..80_000).step_by(2).collect::<Vec<_>>()),
        ];
        let buf = AlignedBuf::copy_of(&out);
        let postings: Vec<Posting<'_>> =
            refs.iter().map(|&at| read_payload(buf.as_slice(), at, Blob::Postings).expect("valid")).collect();
        for a in &postings {
            for b in &postings {
                let (x, y) = (a.to_bitmap(), b.to_bitmap());
                assert_eq!(a.and(b), x.and(&y));
                assert_eq!(a.or(b), x.or(&y));
                assert_eq!(a.andnot(b), x.andnot(&y));
                assert_eq!(a.and(&y), x.and(&y));
                assert_eq!(a.iter().collect::<Vec<_>>(), x.iter().collect::<Vec<_>>());
            }
        }
        assert_eq!(format!("{:?}", postings[1]), "[1, 4, 9, 70000]");
        assert!(format!("{:?}", postings[2]).ends_with("… (40000 rows)]"));
    }
}
