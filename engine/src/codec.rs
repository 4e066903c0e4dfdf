//! Byte-level codecs shared by the WAL and segments: LEB128 varints,
//! zig-zag signed integers, and a bounds-checked [`ByteReader`] that turns
//! every overrun into an error instead of a panic.
//!
//! All fixed-width integers kevdb writes are little-endian.

/// Appends `v` as an unsigned LEB128 varint (1–10 bytes).
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Maps a signed integer onto an unsigned one so small magnitudes stay small.
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Appends a signed integer as a zig-zag varint.
pub fn put_signed(out: &mut Vec<u8>, v: i64) {
    put_varint(out, zigzag(v));
}

/// Appends an optional signed integer: `0` for `None`, else `zigzag(v) + 1`.
///
/// NOTE: `i64::MIN`/`MAX` zig-zag to `u64::MAX - 1`/`u64::MAX`; the `+ 1`
/// wraps for `i64::MIN` only, which no Kubernetes field can hold (int32
/// counts, timestamps within ±292k years), and decoding reports it.
pub fn put_opt_signed(out: &mut Vec<u8>, v: Option<i64>) {
    match v {
        None => put_varint(out, 0),
        Some(v) => put_varint(out, zigzag(v).wrapping_add(1)),
    }
}

/// Appends an optional byte string: `varint(len + 1)` then the bytes, or a
/// single `0` for `None`.
pub fn put_opt_bytes(out: &mut Vec<u8>, v: Option<&[u8]>) {
    match v {
        None => put_varint(out, 0),
        Some(b) => {
            put_varint(out, b.len() as u64 + 1);
            out.extend_from_slice(b);
        }
    }
}

/// Why a [`ByteReader`] stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset in the buffer where decoding failed.
    pub offset: usize,
    /// What was expected there.
    pub expected: &'static str,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.expected, self.offset)
    }
}

/// A cursor over untrusted bytes. Every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct ByteReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> ByteReader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        ByteReader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// True when every byte has been consumed.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn err<T>(&self, expected: &'static str) -> Result<T, DecodeError> {
        Err(DecodeError { offset: self.pos, expected })
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => self.err("a byte"),
        }
    }

    /// Reads `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.buf.get(self.pos..end)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => self.err("more bytes"),
        }
    }

    /// Reads a little-endian `u32`.
    pub fn u32_le(&mut self) -> Result<u32, DecodeError> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a little-endian `u64`.
    pub fn u64_le(&mut self) -> Result<u64, DecodeError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// Reads an unsigned LEB128 varint.
    #[inline]
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        // One-byte values (small lengths and deltas) are the common case.
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        self.varint_multibyte()
    }

    fn varint_multibyte(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                if shift == 63 && b > 1 {
                    return self.err("a varint that fits 64 bits");
                }
                return Ok(v);
            }
        }
        self.err("a varint of at most 10 bytes")
    }

    /// Reads a varint that must fit a `usize` length no larger than what is
    /// left in the buffer times `max_per_byte` (guards allocations).
    pub fn len(&mut self) -> Result<usize, DecodeError> {
        let v = self.varint()?;
        usize::try_from(v).or_else(|_| self.err("a length that fits memory"))
    }

    /// Reads a zig-zag signed varint.
    pub fn signed(&mut self) -> Result<i64, DecodeError> {
        Ok(unzigzag(self.varint()?))
    }

    /// Reads what [`put_opt_signed`] wrote.
    #[cfg(test)]
    pub fn opt_signed(&mut self) -> Result<Option<i64>, DecodeError> {
        match self.varint()? {
            0 => Ok(None),
            v => Ok(Some(unzigzag(v - 1))),
        }
    }

    /// Reads what [`put_opt_bytes`] wrote.
    pub fn opt_bytes(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
        match self.len()? {
            0 => Ok(None),
            n => self.bytes(n - 1).map(Some),
        }
    }

    /// Reads what [`put_opt_bytes`] wrote and checks it is UTF-8.
    pub fn opt_str(&mut self) -> Result<Option<&'a str>, DecodeError> {
        match self.opt_bytes()? {
            None => Ok(None),
            Some(b) => match std::str::from_utf8(b) {
                Ok(s) => Ok(Some(s)),
                Err(_) => self.err("UTF-8 text"),
            },
        }
    }
}

/// CRC-32C (Castagnoli) of `bytes`, the checksum of every kevdb file.
pub fn crc(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn varints_round_trip(v: u64, s: i64, o: Option<i64>, b: Option<Vec<u8>>) {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            put_signed(&mut out, s);
            put_opt_signed(&mut out, o.filter(|&x| x != i64::MIN));
            put_opt_bytes(&mut out, b.as_deref());
            let mut r = ByteReader::new(&out);
            prop_assert_eq!(r.varint().unwrap(), v);
            prop_assert_eq!(r.signed().unwrap(), s);
            prop_assert_eq!(r.opt_signed().unwrap(), o.filter(|&x| x != i64::MIN));
            prop_assert_eq!(r.opt_bytes().unwrap(), b.as_deref());
            prop_assert!(r.is_empty());
        }

        #[test]
        fn decoding_garbage_never_panics(bytes: Vec<u8>) {
            let mut r = ByteReader::new(&bytes);
            while r.varint().is_ok() && r.opt_str().is_ok() {}
        }
    }

    #[test]
    fn varint_golden_bytes() {
        let mut out = Vec::new();
        put_varint(&mut out, 300);
        put_signed(&mut out, -1);
        assert_eq!(out, [0xac, 0x02, 0x01]);
    }

    #[test]
    fn overlong_varint_is_an_error() {
        let bytes = [0xffu8; 11];
        assert!(ByteReader::new(&bytes).varint().is_err());
    }
}
