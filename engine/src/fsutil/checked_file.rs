//! Checked files: the one framing of the small files kevdb writes whole and
//! replaces atomically — the manifest, superseded-set files and purge files.
//! Each kind has its own magic and version; the layout around the body is
//! shared:
//!
//! ```text
//! offset  size  field
//! 0       8     magic, per kind ("KEVDBMAN", "KEVDBSUP")
//! 8       4     format version (u32 LE)
//! 12      4     body_len (u32 LE)
//! 16      4     crc32c(body) (u32 LE)
//! 20      4     reserved (u32 LE) = 0
//! 24      n     body: body_len bytes, then the end of the file
//! ```
//!
//! This is the layout the first release wrote for `MANIFEST` and `.sup`
//! files, kept byte for byte so their databases still open. Decoding checks
//! every byte of it: the magic, the version, the reserved word, that the file
//! is exactly header plus body, and the body's CRC; each failure is an
//! [`Error::Corrupt`] naming the offset (or [`Error::UnsupportedVersion`]).
//! Writing goes through [`write_atomic`], so a reader sees the old file or
//! the new one, never a torn one.

use super::write_atomic;
use crate::codec::crc;
use crate::error::{Error, Result};
use std::path::Path;

/// Length of the header before the body.
pub(crate) const HEADER_LEN: usize = 24;

/// One kind of checked file: its magic and the one version this build reads
/// and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileFormat {
    /// The first 8 bytes of every file of this kind.
    pub(crate) magic: [u8; 8],
    /// The format version written and accepted.
    pub(crate) version: u32,
}

impl FileFormat {
    /// The magic as text for error messages, e.g. `magic "KEVDBMAN"`.
    fn expected_magic(&self) -> String {
        format!("magic \"{}\"", self.magic.escape_ascii())
    }
}

/// Encodes `body` as a checked file of `format`.
pub(crate) fn encode(format: &FileFormat, body: &[u8]) -> Result<Vec<u8>> {
    let body_len = u32::try_from(body.len()).map_err(|_| {
        Error::InvalidArgument(format!("a {}-byte body does not fit a checked file (4 GiB at most)", body.len()))
    })?;
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&format.magic);
    out.extend_from_slice(&format.version.to_le_bytes());
    out.extend_from_slice(&body_len.to_le_bytes());
    out.extend_from_slice(&crc(body).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(body);
    Ok(out)
}

/// Checks the checked-file `bytes` read from `path` and returns its body.
pub(crate) fn decode<'a>(format: &FileFormat, path: &Path, bytes: &'a [u8]) -> Result<&'a [u8]> {
    let corrupt = |offset: usize, expected: String, found: String| Error::Corrupt {
        path: path.to_owned(),
        offset: offset as u64,
        expected,
        found,
    };
    let magic_len = bytes.len().min(format.magic.len());
    if bytes.get(..magic_len) != format.magic.get(..magic_len) {
        let found = bytes.get(..magic_len).unwrap_or_default();
        return Err(corrupt(0, format.expected_magic(), format!("\"{}\"", found.escape_ascii())));
    }
    let Some(header) = bytes.get(..HEADER_LEN) else {
        return Err(corrupt(
            bytes.len(),
            format!("a {HEADER_LEN}-byte header after the {}", format.expected_magic()),
            format!("the end of the file after {} bytes", bytes.len()),
        ));
    };
    let word = |at: usize| header.get(at..at + 4).and_then(|w| w.try_into().ok()).map_or(0, u32::from_le_bytes);
    let version = word(8);
    if version != format.version {
        return Err(Error::UnsupportedVersion { path: path.to_owned(), version, supported: format.version });
    }
    let reserved = word(20);
    if reserved != 0 {
        return Err(corrupt(20, "reserved word 0".into(), format!("{reserved:#010x}")));
    }
    let body_len = word(12) as usize;
    let body = bytes.get(HEADER_LEN..).unwrap_or_default();
    if body.len() < body_len {
        return Err(corrupt(
            bytes.len(),
            format!("a body of {body_len} bytes (the length at offset 12)"),
            format!("the end of the file after {} bytes of body", body.len()),
        ));
    }
    if body.len() > body_len {
        return Err(corrupt(
            HEADER_LEN + body_len,
            format!("the end of the file after a body of {body_len} bytes (the length at offset 12)"),
            format!("{} more bytes", body.len() - body_len),
        ));
    }
    let stored = word(16);
    let computed = crc(body);
    if computed != stored {
        return Err(corrupt(
            HEADER_LEN,
            format!("a body with crc32c {stored:08x} (stored at offset 16)"),
            format!("crc32c {computed:08x}"),
        ));
    }
    Ok(body)
}

/// An error for a body that passed its checks but does not decode as what
/// the file kind holds (e.g. the manifest's JSON).
pub(crate) fn corrupt_body(path: &Path, expected: &str, found: impl ToString) -> Error {
    Error::Corrupt {
        path: path.to_owned(),
        offset: HEADER_LEN as u64,
        expected: expected.into(),
        found: found.to_string(),
    }
}

/// Atomically replaces `path` with a checked file of `format` holding `body`.
pub(crate) fn store(format: &FileFormat, path: &Path, body: &[u8]) -> Result<()> {
    write_atomic(path, &encode(format, body)?)
}

/// Reads the checked file `path` of `format` and returns its body.
pub(crate) fn load(format: &FileFormat, path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    into_body(format, path, bytes)
}

/// Like [`load`], but `None` when `path` does not exist.
pub(crate) fn load_if_exists(format: &FileFormat, path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => into_body(format, path, bytes).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// Checks a whole file and keeps only its body.
fn into_body(format: &FileFormat, path: &Path, mut bytes: Vec<u8>) -> Result<Vec<u8>> {
    decode(format, path, &bytes)?;
    // `decode` checked that the body is everything after the header.
    bytes.drain(..HEADER_LEN);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_FORMAT: FileFormat = FileFormat { magic: *b"KEVDBSUP", version: 1 };

    /// Hex of `bytes`, for comparing with the literals below.
    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The file `encode(TEST_FORMAT, b"hello")` must produce, field by field
    /// as in docs/FORMAT.md ("Checked files"): crc32c("hello") = 0x9a71bb4c.
    const HELLO_FILE: &str = concat!(
        "4b45564442535550", // magic "KEVDBSUP"
        "01000000",         // version 1
        "05000000",         // body_len 5
        "4cbb719a",         // crc32c(body)
        "00000000",         // reserved
        "68656c6c6f",       // body "hello"
    );

    fn hello_file() -> Vec<u8> {
        encode(&TEST_FORMAT, b"hello").expect("encode")
    }

    fn decode_err(bytes: &[u8]) -> Error {
        match decode(&TEST_FORMAT, Path::new("f"), bytes) {
            Ok(body) => panic!("decoded {body:?} from damaged bytes {}", hex(bytes)),
            Err(e) => e,
        }
    }

    #[test]
    fn a_small_body_encodes_to_the_documented_bytes_and_back() {
        let file = hello_file();
        assert_eq!(hex(&file), HELLO_FILE);
        assert_eq!(decode(&TEST_FORMAT, Path::new("f"), &file).expect("decode"), b"hello");
        let empty = encode(&TEST_FORMAT, b"").expect("encode");
        assert_eq!(hex(&empty), concat!("4b45564442535550", "01000000", "00000000", "00000000", "00000000"));
        assert_eq!(decode(&TEST_FORMAT, Path::new("f"), &empty).expect("decode"), b"");
    }

    #[test]
    fn every_flipped_byte_is_reported() {
        let file = hello_file();
        for at in 0..file.len() {
            let mut damaged = file.clone();
            damaged[at] ^= 0x01;
            match decode_err(&damaged) {
                Error::UnsupportedVersion { supported: 1, .. } => assert!((8..12).contains(&at), "{at}"),
                Error::Corrupt { offset, .. } if at < 8 => assert_eq!(offset, 0),
                Error::Corrupt { offset, .. } if (20..24).contains(&at) => assert_eq!(offset, 20),
                // A longer announced length reads as truncation, a shorter one as trailing bytes.
                Error::Corrupt { offset, .. } if (12..16).contains(&at) => assert!(offset == 28 || offset == 29),
                // A flipped crc byte changes the stored crc, a flipped body byte the computed one.
                Error::Corrupt { offset, expected, found, .. } => {
                    assert_eq!(offset, 24, "{at}");
                    let (intact, damaged) =
                        if (16..20).contains(&at) { (&found, &expected) } else { (&expected, &found) };
                    assert!(intact.contains("crc32c 9a71bb4c") && !damaged.contains("9a71bb4c"), "{expected} {found}");
                }
                other => panic!("byte {at}: {other}"),
            }
        }
    }

    #[test]
    fn every_truncation_is_reported_at_the_end_of_the_file() {
        let file = hello_file();
        for len in 0..file.len() {
            let err = decode_err(&file[..len]);
            match err {
                Error::Corrupt { offset, ref found, .. } => {
                    assert_eq!(offset, len as u64, "{err}");
                    assert!(found.contains("end of the file") || len == 0, "{err}");
                }
                other => panic!("length {len}: {other}"),
            }
        }
        let mut longer = file.clone();
        longer.push(0);
        let err = decode_err(&longer).to_string();
        assert_eq!(
            err,
            "corrupt f at offset 29: expected the end of the file after a body of 5 bytes (the length at offset 12), \
             found 1 more bytes"
        );
    }

    #[test]
    fn another_kinds_magic_is_reported() {
        let mut file = hello_file();
        file[..8].copy_from_slice(b"KEVDBMAN");
        let err = decode_err(&file).to_string();
        assert_eq!(err, "corrupt f at offset 0: expected magic \"KEVDBSUP\", found \"KEVDBMAN\"");
        let err = decode_err(b"{\"json\"").to_string();
        assert_eq!(err, "corrupt f at offset 0: expected magic \"KEVDBSUP\", found \"{\\\"json\\\"\"");
    }

    #[test]
    fn a_future_version_is_refused_by_name() {
        let future = FileFormat { version: 2, ..TEST_FORMAT };
        let file = encode(&future, b"hello").expect("encode");
        let err = decode_err(&file);
        assert!(matches!(err, Error::UnsupportedVersion { version: 2, supported: 1, .. }), "{err}");
        assert_eq!(err.to_string(), "f: unsupported format version 2 (this build reads 1)");
    }

    #[test]
    fn store_replaces_and_load_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f.sup");
        assert_eq!(load_if_exists(&TEST_FORMAT, &path).expect("load"), None);
        assert!(matches!(load(&TEST_FORMAT, &path), Err(Error::Io { .. })));
        store(&TEST_FORMAT, &path, b"first").expect("store");
        store(&TEST_FORMAT, &path, b"hello").expect("store");
        assert_eq!(hex(&std::fs::read(&path).expect("read")), HELLO_FILE);
        assert_eq!(load(&TEST_FORMAT, &path).expect("load"), b"hello");
        assert_eq!(load_if_exists(&TEST_FORMAT, &path).expect("load").as_deref(), Some(&b"hello"[..]));
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(names, ["f.sup"], "no temporary file is left behind");
    }
}
