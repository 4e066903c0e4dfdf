//! The full-text blob's packing (layout in the parent module's header):
//! [`pack`] writes tantivy's files and the message → rows map into one blob,
//! [`Unpacked::parse`] checks the header and directory and finds them again.

use std::ops::Range;

use crate::payload::{le_u32, pad_to, read_payload, to_u32, write_payload, PayloadRef};
use crate::posting::Posting;
use crate::zerocopy::FROZEN_ALIGN;
use crate::{Blob, Error};

pub(crate) const MAGIC: [u8; 4] = *b"KXFT";
pub(crate) const VERSION: u16 = 1;
const HEADER_LEN: usize = 32;
const FILE_ENTRY_LEN: usize = 16;
const ROW_ENTRY_LEN: usize = 8;

/// Counts recorded in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Distinct messages (tantivy documents).
    pub(crate) messages: u32,
    /// Rows added.
    pub(crate) rows: u32,
    /// Largest row id + 1 (0 when there are no rows).
    pub(crate) row_end: u32,
}

/// Packs `files` (name, bytes) and the rows of each message (strictly
/// ascending, non-empty; message `i` is the document whose `ord` is `i`).
pub(crate) fn pack(files: &[(String, Vec<u8>)], rows_by_message: &[Vec<u32>], counts: Counts) -> Vec<u8> {
    let names_at = HEADER_LEN + files.len() * FILE_ENTRY_LEN;
    let names_len: usize = files.iter().map(|(name, _)| name.len()).sum();
    let mut blob = Vec::new();
    blob.extend_from_slice(&MAGIC);
    blob.extend_from_slice(&VERSION.to_le_bytes());
    blob.extend_from_slice(&u16::try_from(files.len()).expect("tantivy writes a handful of files").to_le_bytes());
    blob.resize(HEADER_LEN, 0); // the rest of the header is patched at the end
    blob.resize(names_at + names_len, 0);
    let mut name_at = names_at;
    for (i, (name, data)) in files.iter().enumerate() {
        blob[name_at..name_at + name.len()].copy_from_slice(name.as_bytes());
        pad_to(&mut blob, 8);
        let entry = [name_at, name.len(), blob.len(), data.len()];
        for (j, n) in entry.into_iter().enumerate() {
            let at = HEADER_LEN + i * FILE_ENTRY_LEN + 4 * j;
            blob[at..at + 4].copy_from_slice(&to_u32(n).to_le_bytes());
        }
        blob.extend_from_slice(data);
        name_at += name.len();
    }
    pad_to(&mut blob, 4);
    let rowmap_at = blob.len();
    let payloads_at = (rowmap_at + rows_by_message.len() * ROW_ENTRY_LEN).next_multiple_of(FROZEN_ALIGN);
    let mut payloads = Vec::new();
    for rows in rows_by_message {
        let at = write_payload(&mut payloads, rows).rebase(to_u32(payloads_at));
        blob.extend_from_slice(&at.cardinality.to_le_bytes());
        blob.extend_from_slice(&at.word.to_le_bytes());
    }
    blob.resize(payloads_at, 0);
    blob.extend_from_slice(&payloads);
    let len = to_u32(blob.len());
    let header = [len, counts.messages, counts.rows, counts.row_end, to_u32(rowmap_at), 0];
    for (i, n) in header.into_iter().enumerate() {
        blob[8 + 4 * i..12 + 4 * i].copy_from_slice(&n.to_le_bytes());
    }
    blob
}

/// Where things are in a checked full-text blob.
#[derive(Debug, Clone)]
pub(crate) struct Unpacked {
    pub(crate) counts: Counts,
    /// Tantivy files: name and byte range in the blob.
    pub(crate) files: Vec<(String, Range<usize>)>,
    rowmap_at: usize,
}

fn corrupt(offset: usize, expected: impl Into<String>, found: impl Into<String>) -> Error {
    Error::corrupt(Blob::FullText, offset, expected, found)
}

impl Unpacked {
    /// Checks the header and the file directory of `bytes`.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Unpacked, Error> {
        if bytes.len() < HEADER_LEN {
            return Err(corrupt(0, format!("a {HEADER_LEN}-byte header"), format!("{} bytes", bytes.len())));
        }
        if bytes[..4] != MAGIC {
            return Err(corrupt(0, "magic KXFT", format!("{:02x?}", &bytes[..4])));
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != VERSION {
            return Err(Error::UnsupportedVersion { blob: Blob::FullText, version, supported: VERSION });
        }
        let file_count = usize::from(u16::from_le_bytes([bytes[6], bytes[7]]));
        let word = |at: usize| le_u32(bytes, at).map_or(0, |n| n as usize);
        if word(8) != bytes.len() {
            return Err(corrupt(8, format!("blob length {}", bytes.len()), word(8).to_string()));
        }
        let counts = Counts { messages: word(12) as u32, rows: word(16) as u32, row_end: word(20) as u32 };
        let rowmap_at = word(24);
        let rowmap_end = (counts.messages as usize).checked_mul(ROW_ENTRY_LEN).and_then(|n| n.checked_add(rowmap_at));
        if rowmap_end.is_none_or(|end| end > bytes.len()) {
            return Err(corrupt(
                24,
                "a row map inside the blob",
                format!("{} entries at {rowmap_at}", counts.messages),
            ));
        }
        let mut files = Vec::with_capacity(file_count);
        for i in 0..file_count {
            let at = HEADER_LEN + i * FILE_ENTRY_LEN;
            if at + FILE_ENTRY_LEN > bytes.len() {
                return Err(corrupt(at, format!("{file_count} file entries"), format!("end of blob at {at}")));
            }
            let range = |start: usize, len: usize| start..start.saturating_add(len);
            let (name, data) = (range(word(at), word(at + 4)), range(word(at + 8), word(at + 12)));
            let name = bytes
                .get(name.clone())
                .and_then(|n| std::str::from_utf8(n).ok())
                .ok_or_else(|| corrupt(at, "a UTF-8 file name inside the blob", format!("bytes {name:?}")))?;
            if data.end > bytes.len() {
                return Err(corrupt(at + 8, "file data inside the blob", format!("bytes {data:?}")));
            }
            files.push((name.to_owned(), data));
        }
        Ok(Unpacked { counts, files, rowmap_at })
    }

    /// The rows of message `message` (a document's `ord`).
    pub(crate) fn message_rows<'a>(&self, bytes: &'a [u8], message: u32) -> Result<Posting<'a>, Error> {
        if message >= self.counts.messages {
            return Err(corrupt(
                self.rowmap_at,
                format!("a message below {}", self.counts.messages),
                message.to_string(),
            ));
        }
        let at = self.rowmap_at + message as usize * ROW_ENTRY_LEN;
        let word = |i: usize| le_u32(bytes, at + 4 * i).unwrap_or_default();
        read_payload(bytes, PayloadRef { cardinality: word(0), word: word(1) }, Blob::FullText)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zerocopy::AlignedBuf;

    /// A packing of two small files and three messages, annotated with the layout of the module header.
    const GOLDEN: &[&str] = &[
        "4b584654 0100 0200 ad000000",                  // "KXFT", version 1, 2 files, length 173
        "03000000 0d000000 0f000000 5c000000 00000000", // 3 messages, 13 rows, rows end at 15, row map at 92, reserved
        "40000000 09000000 50000000 02000000",          // file 0: name at 64, 9 bytes; data at 80, 2 bytes
        "49000000 05000000 58000000 03000000",          // file 1: name at 73, 5 bytes; data at 88, 3 bytes
        "6d6574612e6a736f6e 732e696478 0000",           // names "meta.json" "s.idx", padding to 8
        "7b7d 000000000000",                            // 80: meta.json, padding to 8
        "070707 00",                                    // 88: s.idx, padding to 4
        "01000000 04000000",                            // 92: message 0: 1 row: row 4
        "02000000 80000000",                            // message 1: 2 rows at 128
        "0a000000 a0000000",                            // message 2: 10 rows, bitmap at 160
        "000000000000000000000000",                     // padding to the 32-byte aligned payloads at 128
        "00000000 02000000",                            // 128: rows 0, 2
        "0000000000000000 0000000000000000 00000000",   // padding, so that the bitmap starts 32-byte aligned
        "0d000000",                                     // 156: bitmap length 13
        "0500 0900 0000 0100 03 c6b50000",              // 160: frozen bitmap: run 5+9, key 0, 1 run, run type, cookie
    ];

    #[test]
    fn full_text_packing_matches_golden_bytes() {
        let files = vec![("meta.json".to_owned(), b"{}".to_vec()), ("s.idx".to_owned(), vec![7; 3])];
        let rows = vec![vec![4], vec![0, 2], (5..15).collect()];
        let blob = pack(&files, &rows, Counts { messages: 3, rows: 13, row_end: 15 });
        let hex: String = blob.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, GOLDEN.concat().split_whitespace().collect::<String>());
    }

    #[test]
    fn packed_files_and_rows_are_found_again() {
        let files = vec![("meta.json".to_owned(), b"{}".to_vec()), ("a.idx".to_owned(), vec![7; 13])];
        let rows = vec![vec![0, 5], (1..40).collect(), vec![4]];
        let counts = Counts { messages: 3, rows: 42, row_end: 40 };
        let blob = pack(&files, &rows, counts);
        let buf = AlignedBuf::copy_of(&blob);
        let bytes = buf.as_slice();
        let unpacked = Unpacked::parse(bytes).expect("valid");
        assert_eq!(unpacked.counts, counts);
        let found: Vec<(&str, &[u8])> = unpacked.files.iter().map(|(n, r)| (n.as_str(), &bytes[r.clone()])).collect();
        assert_eq!(found, [("meta.json", &b"{}"[..]), ("a.idx", &[7; 13][..])]);
        for (i, expected) in rows.iter().enumerate() {
            let posting = unpacked.message_rows(bytes, i as u32).expect("valid");
            assert_eq!(&posting.iter().collect::<Vec<_>>(), expected);
        }
        assert!(unpacked.message_rows(bytes, 3).is_err());
    }

    #[test]
    fn truncated_or_garbled_headers_are_corruption() {
        let blob = pack(&[("f".to_owned(), vec![1, 2, 3])], &[vec![0]], Counts { messages: 1, rows: 1, row_end: 1 });
        for cut in 0..blob.len() {
            assert!(Unpacked::parse(&blob[..cut]).is_err(), "accepted a blob cut to {cut} bytes");
        }
        for at in 0..HEADER_LEN + FILE_ENTRY_LEN {
            let mut garbled = blob.clone();
            garbled[at] ^= 0xff;
            if let Ok(unpacked) = Unpacked::parse(&garbled) {
                let _ = unpacked.message_rows(&garbled, 0);
            }
        }
    }
}
