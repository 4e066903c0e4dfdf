//! Column encodings inside a row group (before zstd).
//!
//! ```text
//! integer column (seq, last_seen, ...):  varint / zig-zag varint per row, as
//!                                        the table at `segment::col` says
//! string column:
//!   u8 mode
//!   mode 0, plain:       per row: bytes?  (varint len+1, 0 = none)
//!   mode 1, dictionary:  varint n, then n × bytes? (distinct values in order
//!                        of first appearance), then per row: varint code
//! ```
//! Dictionary mode is chosen when a row group has at most half as many
//! distinct values as rows; it turns repeated names, namespaces and messages
//! into small codes that zstd then squeezes further.

use crate::codec::{put_opt_bytes, put_varint, ByteReader, DecodeError};
use std::collections::HashMap;
use xxhash_rust::xxh3::Xxh3Builder;

const PLAIN: u8 = 0;
const DICT: u8 = 1;

/// Encodes a string column.
pub(crate) fn encode_strings<'a>(out: &mut Vec<u8>, values: impl ExactSizeIterator<Item = Option<&'a str>> + Clone) {
    let rows = values.len();
    let mut dict: HashMap<Option<&str>, u32, Xxh3Builder> = HashMap::with_hasher(Xxh3Builder::new());
    let mut order: Vec<Option<&str>> = Vec::new();
    let mut codes: Vec<u32> = Vec::with_capacity(rows);
    for v in values.clone() {
        let next = order.len() as u32;
        let code = *dict.entry(v).or_insert_with(|| {
            order.push(v);
            next
        });
        codes.push(code);
    }
    if order.len() * 2 <= rows {
        out.push(DICT);
        put_varint(out, order.len() as u64);
        for v in &order {
            put_opt_bytes(out, v.map(str::as_bytes));
        }
        for c in codes {
            put_varint(out, u64::from(c));
        }
    } else {
        out.push(PLAIN);
        for v in values {
            put_opt_bytes(out, v.map(str::as_bytes));
        }
    }
}

/// A decoded string column. Its values lie back to back in one string, so
/// decoding a column costs two allocations, not one per value (per-value
/// boxes were a third of all instructions spent reading segments).
#[derive(Debug, Default, Clone)]
pub(crate) struct StrColumn {
    /// The dictionary's values (dictionary mode) or every row's value
    /// (plain mode), concatenated.
    text: String,
    /// Where each value lies in `text`; `None` for an absent value.
    spans: Vec<Option<(u32, u32)>>,
    /// Per row, the index of its value in `spans` (dictionary mode); `None`
    /// in plain mode, where row `i` has value `i`.
    codes: Option<Vec<u32>>,
}

impl StrColumn {
    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.text.len()
            + self.spans.len() * std::mem::size_of::<Option<(u32, u32)>>()
            + self.codes.as_ref().map_or(0, |c| c.len() * 4)
    }

    /// The value of row `i`.
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        let value = match &self.codes {
            Some(codes) => *codes.get(i)? as usize,
            None => i,
        };
        let (start, end) = (*self.spans.get(value)?)?;
        self.text.get(start as usize..end as usize)
    }

    /// An owned copy of the value of row `i`.
    pub(crate) fn get_owned(&self, i: usize) -> Option<Box<str>> {
        self.get(i).map(Into::into)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.codes.as_ref().map_or(self.spans.len(), Vec::len)
    }
}

/// Reads `n` optional values into one string. The UTF-8 check runs once
/// over all of them; every value must also start and end on a character
/// boundary (two broken halves could otherwise pass as one character).
/// Returns a plain-mode column; dictionary mode adds the codes.
fn decode_values(r: &mut ByteReader<'_>, n: usize) -> Result<StrColumn, DecodeError> {
    let first = r.position();
    let mut bytes = Vec::with_capacity(r.remaining());
    let mut spans = Vec::with_capacity(n);
    for _ in 0..n {
        spans.push(match r.opt_bytes()? {
            None => None,
            Some(b) => {
                let start = bytes.len() as u32;
                bytes.extend_from_slice(b);
                Some((start, bytes.len() as u32))
            }
        });
    }
    let not_text = DecodeError { offset: first, expected: "UTF-8 text" };
    let text = String::from_utf8(bytes).map_err(|_| not_text)?;
    let on_boundaries =
        |&(start, end): &(u32, u32)| text.is_char_boundary(start as usize) && text.is_char_boundary(end as usize);
    if !spans.iter().flatten().all(on_boundaries) {
        return Err(DecodeError { offset: first, expected: "UTF-8 text" });
    }
    Ok(StrColumn { text, spans, codes: None })
}

/// Decodes a string column of `rows` rows.
pub(crate) fn decode_strings(buf: &[u8], rows: usize) -> Result<StrColumn, DecodeError> {
    let mut r = ByteReader::new(buf);
    let mode = r.u8()?;
    let col = match mode {
        DICT => {
            let n = r.len()?;
            if n > buf.len() {
                return Err(DecodeError { offset: 1, expected: "a dictionary size the block can hold" });
            }
            let mut col = decode_values(&mut r, n)?;
            let mut codes = Vec::with_capacity(rows);
            for _ in 0..rows {
                let c = r.varint()?;
                if c >= n as u64 {
                    return Err(DecodeError { offset: r.position(), expected: "a code within the dictionary" });
                }
                codes.push(c as u32);
            }
            col.codes = Some(codes);
            col
        }
        PLAIN => decode_values(&mut r, rows)?,
        _ => return Err(DecodeError { offset: 0, expected: "string column mode 0 or 1" }),
    };
    if !r.is_empty() {
        return Err(DecodeError { offset: r.position(), expected: "the end of the column" });
    }
    Ok(col)
}

/// Decodes `rows` values of a column written with one varint per row.
pub(crate) fn decode_varints(buf: &[u8], rows: usize) -> Result<Vec<u64>, DecodeError> {
    // This is the innermost loop of every scan and aggregation. Fast path:
    // a varint of at most eight bytes is read from one little-endian word,
    // its end found from the clear continuation bits.
    let mut out = Vec::with_capacity(rows.min(buf.len()));
    let mut pos = 0;
    while out.len() < rows {
        let Some(bytes) = buf.get(pos..pos + 8) else { break };
        let word = u64::from_le_bytes(bytes.try_into().expect("eight bytes"));
        let ends = !word & 0x8080_8080_8080_8080;
        if ends == 0 {
            break; // longer than eight bytes: the byte loop below reads it
        }
        let len = ends.trailing_zeros() as usize / 8 + 1;
        out.push(pack_groups(if len == 8 { word } else { word & ((1u64 << (8 * len)) - 1) }));
        pos += len;
    }
    // The rest, a byte at a time.
    let (mut v, mut shift) = (0u64, 0u32);
    for (i, &b) in buf[pos..].iter().enumerate() {
        let offset = pos + i;
        if out.len() == rows {
            return Err(DecodeError { offset, expected: "the end of the column" });
        }
        if shift == 63 && b > 1 {
            return Err(DecodeError { offset, expected: "a varint that fits 64 bits" });
        }
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            out.push(v);
            (v, shift) = (0, 0);
        } else {
            shift += 7;
        }
    }
    if out.len() != rows || shift != 0 {
        return Err(DecodeError { offset: buf.len(), expected: "one varint per row" });
    }
    Ok(out)
}

/// The value of a varint of at most eight bytes held in `word` (byte k of
/// `word` carries bits 7k..7k+6 of the value).
#[inline]
fn pack_groups(word: u64) -> u64 {
    let x = word & 0x7f7f_7f7f_7f7f_7f7f;
    (x & 0x7f)
        | ((x >> 1) & (0x7f << 7))
        | ((x >> 2) & (0x7f << 14))
        | ((x >> 3) & (0x7f << 21))
        | ((x >> 4) & (0x7f << 28))
        | ((x >> 5) & (0x7f << 35))
        | ((x >> 6) & (0x7f << 42))
        | ((x >> 7) & (0x7f << 49))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_character_split_across_two_values_is_not_text() {
        // "é" is C3 A9: each half alone is invalid, together they are valid.
        let plain = [PLAIN, 2, 0xC3, 2, 0xA9];
        assert_eq!(decode_strings(&plain, 2).unwrap_err().expected, "UTF-8 text");
        let dict = [DICT, 2, 2, 0xC3, 2, 0xA9, 0, 1];
        assert_eq!(decode_strings(&dict, 2).unwrap_err().expected, "UTF-8 text");
        let whole = [PLAIN, 3, 0xC3, 0xA9, 0];
        let col = decode_strings(&whole, 2).expect("valid");
        assert_eq!((col.get(0), col.get(1), col.get(2)), (Some("é"), None, None));
    }

    proptest! {
        #[test]
        fn string_columns_round_trip(values in proptest::collection::vec(proptest::option::of("[ab]{0,3}|.{0,20}"), 0..200)) {
            let mut buf = Vec::new();
            encode_strings(&mut buf, values.iter().map(|v| v.as_deref()));
            let col = decode_strings(&buf, values.len()).unwrap();
            prop_assert_eq!(col.len(), values.len());
            for (i, v) in values.iter().enumerate() {
                prop_assert_eq!(col.get(i), v.as_deref());
            }
        }

        #[test]
        fn int_columns_decode_as_one_varint_per_row(
            values in proptest::collection::vec(prop_oneof![0u64..128, 0u64..1 << 21, 0u64..1 << 56, any::<u64>()], 0..64),
            bytes: Vec<u8>,
            rows in 0usize..50,
        ) {
            let mut buf = Vec::new();
            for &v in &values {
                put_varint(&mut buf, v);
            }
            prop_assert_eq!(decode_varints(&buf, values.len()).unwrap(), values);
            // On any bytes, the one-pass decoder agrees with the reader's.
            let mut r = ByteReader::new(&bytes);
            let slow: Result<Vec<u64>, _> = (0..rows).map(|_| r.varint()).collect();
            let slow = slow.ok().filter(|_| r.is_empty());
            prop_assert_eq!(decode_varints(&bytes, rows).ok(), slow);
        }

        #[test]
        fn garbage_string_columns_are_errors(bytes: Vec<u8>, rows in 0usize..50) {
            let _ = decode_strings(&bytes, rows);
        }
    }

    #[test]
    fn repetitive_columns_use_the_dictionary() {
        let values = ["kube-system", "default", "kube-system", "kube-system"];
        let mut buf = Vec::new();
        encode_strings(&mut buf, values.iter().map(|v| Some(*v)));
        // mode 1, 2 distinct, "kube-system"(len 11 + 1), "default"(7 + 1), codes 0 1 0 0
        let mut expected = vec![1u8, 2, 12];
        expected.extend_from_slice(b"kube-system");
        expected.push(8);
        expected.extend_from_slice(b"default");
        expected.extend_from_slice(&[0, 1, 0, 0]);
        assert_eq!(buf, expected);
    }
}
