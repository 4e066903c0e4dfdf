//! Column encodings inside a row group (before zstd).
//!
//! ```text
//! integer column (seq, last_seen, ...):  varint / zig-zag varint per row, as
//!                                        documented at each ColumnId
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

/// A decoded string column: distinct values plus one code per row.
#[derive(Debug, Default, Clone)]
pub(crate) struct StrColumn {
    values: Vec<Option<Box<str>>>,
    codes: Vec<u32>,
}

impl StrColumn {
    /// The value of row `i`.
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        let code = *self.codes.get(i)? as usize;
        self.values.get(code)?.as_deref()
    }

    /// An owned copy of the value of row `i`.
    pub(crate) fn get_owned(&self, i: usize) -> Option<Box<str>> {
        self.get(i).map(Into::into)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.codes.len()
    }
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
            let mut values = Vec::with_capacity(n);
            for _ in 0..n {
                values.push(r.opt_str()?.map(Into::into));
            }
            let mut codes = Vec::with_capacity(rows);
            for _ in 0..rows {
                let c = r.varint()?;
                if c >= n as u64 {
                    return Err(DecodeError { offset: r.position(), expected: "a code within the dictionary" });
                }
                codes.push(c as u32);
            }
            StrColumn { values, codes }
        }
        PLAIN => {
            let mut values = Vec::with_capacity(rows);
            for _ in 0..rows {
                values.push(r.opt_str()?.map(Into::into));
            }
            StrColumn { values, codes: (0..rows as u32).collect() }
        }
        _ => return Err(DecodeError { offset: 0, expected: "string column mode 0 or 1" }),
    };
    if !r.is_empty() {
        return Err(DecodeError { offset: r.position(), expected: "the end of the column" });
    }
    Ok(col)
}

/// Decodes `rows` values of a column written with one varint per row.
pub(crate) fn decode_varints(buf: &[u8], rows: usize) -> Result<Vec<u64>, DecodeError> {
    let mut r = ByteReader::new(buf);
    let mut out = Vec::with_capacity(rows.min(buf.len()));
    for _ in 0..rows {
        out.push(r.varint()?);
    }
    if !r.is_empty() {
        return Err(DecodeError { offset: r.position(), expected: "the end of the column" });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
