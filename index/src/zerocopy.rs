//! The crate's only `unsafe` code: zero-copy views over bytes this crate does
//! not own.
//!
//! - [`frozen_view`]: a CRoaring bitmap viewed in place over bytes in CRoaring's
//!   "frozen" serialization. Everything `roaring_bitmap_frozen_view` relies on
//!   is checked here in safe Rust first (so the C side never sees a layout it
//!   would reject, which `croaring` turns into a panic), and the view is then
//!   run through CRoaring's full validator (sorted keys, sorted arrays, exact
//!   bitset cardinalities, runs within 0..=65535) before anyone may use it: a
//!   view whose containers lie about themselves could make set operations
//!   write out of bounds.
//! - [`ArcBytes`]: the `StableDeref` owner that lets tantivy's `OwnedBytes`
//!   borrow from a caller-provided `Arc<T: AsRef<[u8]>>` (e.g. a segment mmap).
//! - [`AlignedBuf`] (safe): an aligned copy, for bytes that cannot be viewed
//!   in place because the caller did not align them (and for tests).
//!
//! Both are little-endian only: the frozen format is the host's byte order.

use std::ops::Deref;
use std::sync::Arc;

use croaring::{BitmapView, Frozen};
use stable_deref_trait::StableDeref;

#[cfg(target_endian = "big")]
compile_error!("kevdb-index reads CRoaring frozen bitmaps in place, which requires a little-endian target");

/// Alignment CRoaring requires of the first byte of a frozen bitmap.
pub(crate) const FROZEN_ALIGN: usize = 32;
const _: () = assert!(FROZEN_ALIGN == Frozen::REQUIRED_ALIGNMENT);

/// `FROZEN_COOKIE` of CRoaring 4.x (`roaring.h`).
const FROZEN_COOKIE: u32 = 13766;
const BITSET_CONTAINER: u8 = 1;
const ARRAY_CONTAINER: u8 = 2;
const RUN_CONTAINER: u8 = 3;
/// Bytes of one bitset container (2^16 bits).
const BITSET_BYTES: usize = 8192;

/// Views `bytes` (exactly one frozen bitmap, starting at a 32-byte aligned
/// address) as a bitmap without copying.
///
/// Returns why not when `bytes` is not a valid frozen bitmap. Never panics.
pub(crate) fn frozen_view(bytes: &[u8]) -> Result<BitmapView<'_>, &'static str> {
    check_frozen_layout(bytes)?;
    // SAFETY: `BitmapView::deserialize::<Frozen>` requires `bytes` to be a frozen
    // bitmap of exactly `bytes.len()` bytes starting at a 32-byte aligned address.
    // `check_frozen_layout` has verified the alignment and every condition under
    // which `roaring_bitmap_frozen_view` (CRoaring 4.x) would return NULL (cookie,
    // container count, type codes, zone sizes adding up to the length exactly), so
    // the C side builds its container table from in-bounds pointers only, and the
    // view borrows `bytes` for its lifetime. What this does not establish (sorted
    // keys and values, true cardinalities, runs in range) is checked by
    // `internal_validate` below before the view is returned to any caller.
    let view = unsafe { BitmapView::deserialize::<Frozen>(bytes) };
    view.internal_validate()?;
    Ok(view)
}

fn le_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

/// Checks in safe Rust what `roaring_bitmap_frozen_view` checks in C.
///
/// Frozen layout (CRoaring): bitset zone (8 KiB per bitset container), run zone
/// (4 bytes per run), array zone (2 bytes per value), then `n` keys (u16), `n`
/// counts (u16: values - 1 for bitsets and arrays, runs for run containers),
/// `n` type codes (u8), then a u32 header `n << 15 | FROZEN_COOKIE`.
fn check_frozen_layout(bytes: &[u8]) -> Result<(), &'static str> {
    if !(bytes.as_ptr() as usize).is_multiple_of(FROZEN_ALIGN) {
        return Err("frozen bitmap is not 32-byte aligned");
    }
    let len = bytes.len();
    let header_at = len.checked_sub(4).ok_or("shorter than a frozen bitmap header")?;
    let header = bytes.get(header_at..).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes);
    let header = header.ok_or("shorter than a frozen bitmap header")?;
    if header & 0x7FFF != FROZEN_COOKIE {
        return Err("frozen bitmap cookie mismatch");
    }
    let containers = (header >> 15) as usize;
    let meta = containers * 5 + 4;
    let keys_at = len.checked_sub(meta).ok_or("frozen container table longer than the bitmap")?;
    let counts_at = keys_at + 2 * containers;
    let types_at = counts_at + 2 * containers;
    let mut zones = 0usize;
    for i in 0..containers {
        let count = le_u16(bytes, counts_at + 2 * i).ok_or("frozen counts out of range")? as usize;
        zones += match bytes.get(types_at + i) {
            Some(&BITSET_CONTAINER) => BITSET_BYTES,
            Some(&RUN_CONTAINER) => count * 4,
            Some(&ARRAY_CONTAINER) => (count + 1) * 2,
            _ => return Err("unknown frozen container type"),
        };
    }
    if zones + meta != len {
        return Err("frozen container sizes do not add up to the bitmap length");
    }
    Ok(())
}

/// A `StableDeref` handle on bytes owned by an `Arc`, for tantivy's `OwnedBytes`.
pub(crate) struct ArcBytes<T: ?Sized>(pub(crate) Arc<T>);

impl<T: AsRef<[u8]> + ?Sized> Deref for ArcBytes<T> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

// SAFETY: `StableDeref` requires the slice returned by `deref` to stay valid (same
// address, same bytes) for as long as this handle lives, even when the handle is
// moved. The `T` lives in the `Arc`'s heap allocation, which never moves and
// which this handle keeps alive; moving `ArcBytes` moves only the pointer. Nobody
// can obtain `&mut T` while this clone of the `Arc` exists (`Arc::get_mut` and
// friends need a unique owner). `as_ref` takes `&T` and returns a slice borrowed
// from it; a safe `AsRef` impl cannot invalidate such a slice through another
// `&T` method (callers may hold the slice across any `&T` calls), so it remains
// valid until `T` is dropped, which is after this handle is dropped.
unsafe impl<T: AsRef<[u8]> + ?Sized> StableDeref for ArcBytes<T> {}

/// A heap buffer whose contents start at a 32-byte aligned address.
pub(crate) struct AlignedBuf {
    buf: Vec<u8>,
    start: usize,
}

impl AlignedBuf {
    pub(crate) fn copy_of(bytes: &[u8]) -> AlignedBuf {
        let mut buf = vec![0u8; bytes.len() + FROZEN_ALIGN];
        let start = buf.as_ptr().align_offset(FROZEN_ALIGN);
        buf[start..start + bytes.len()].copy_from_slice(bytes);
        buf.truncate(start + bytes.len());
        AlignedBuf { buf, start }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

#[cfg(test)]
mod tests {
    use croaring::Bitmap;

    use super::*;

    fn frozen_bytes(bitmap: &Bitmap) -> Vec<u8> {
        let size = bitmap.get_serialized_size_in_bytes::<Frozen>();
        let mut scratch = vec![0u8; size + FROZEN_ALIGN];
        bitmap.try_serialize_into::<Frozen>(&mut scratch).expect("scratch is large enough").to_vec()
    }

    fn sample() -> Bitmap {
        let mut bitmap = Bitmap::of(&[1, 5, 70_000, 1 << 20]);
        bitmap.add_range(200_000..210_000); // a bitset container
        bitmap.add_range(400_000..401_000);
        bitmap.run_optimize(); // a run container
        bitmap
    }

    #[test]
    fn valid_frozen_bytes_are_viewed_in_place() {
        let bitmap = sample();
        let buf = AlignedBuf::copy_of(&frozen_bytes(&bitmap));
        let view = frozen_view(buf.as_slice()).expect("valid frozen bitmap");
        assert_eq!(*view, bitmap);
        assert!(view.contains(70_000) && !view.contains(2));
    }

    #[test]
    fn misaligned_bytes_are_refused() {
        let bytes = frozen_bytes(&sample());
        let mut shifted = vec![0u8; 1];
        shifted.extend_from_slice(&bytes);
        let buf = AlignedBuf::copy_of(&shifted);
        assert_eq!(frozen_view(&buf.as_slice()[1..]).err(), Some("frozen bitmap is not 32-byte aligned"));
    }

    #[test]
    fn truncated_and_garbled_frozen_bytes_never_panic() {
        let bytes = frozen_bytes(&sample());
        for cut in 0..bytes.len() {
            let buf = AlignedBuf::copy_of(&bytes[..cut]);
            assert!(frozen_view(buf.as_slice()).is_err(), "truncated to {cut} bytes was accepted");
        }
        // Flip every bit of the small bitmap's bytes one at a time: each result is
        // either refused or a valid bitmap that can be used safely.
        let small = frozen_bytes(&Bitmap::of(&[3, 9, 65_536, 65_540, 1 << 30]));
        for i in 0..small.len() * 8 {
            let mut garbled = small.clone();
            garbled[i / 8] ^= 1 << (i % 8);
            let buf = AlignedBuf::copy_of(&garbled);
            if let Ok(view) = frozen_view(buf.as_slice()) {
                let _ = view.and(&Bitmap::of(&[3, 9, 65_540]));
                let _ = view.iter().count();
            };
        }
    }

    #[test]
    fn unsorted_array_container_is_refused_by_validation() {
        let mut bytes = frozen_bytes(&Bitmap::of(&[1, 2, 3]));
        // The array zone starts at offset 0 (no bitsets or runs): swap 1 and 3.
        bytes[0] = 3;
        bytes[4] = 1;
        let buf = AlignedBuf::copy_of(&bytes);
        assert!(frozen_view(buf.as_slice()).is_err());
    }

    #[test]
    fn arc_bytes_derefs_to_the_owners_bytes() {
        let owner: Arc<Vec<u8>> = Arc::new(vec![1, 2, 3]);
        let handle = ArcBytes(Arc::clone(&owner));
        assert_eq!(&*handle, &[1, 2, 3]);
        assert_eq!(handle.as_ptr(), owner.as_ptr());
    }
}
