//! Unit tests of the postings blob: golden bytes (pinning the layout in the
//! module header) and damaged blobs.

use super::*;
use crate::zerocopy::AlignedBuf;
use crate::Error;

fn golden_builder() -> PostingsBuilder {
    let mut b = PostingsBuilder::new();
    b.add(Field::Type, "Normal", 0);
    b.add(Field::Type, "Warning", 1);
    b.add(Field::Type, "Normal", 2);
    b.add(Field::Reason, "", 1);
    for row in 0..10 {
        b.add(Field::Namespace, "default", row);
    }
    b.add(Field::Uid, UID, 0);
    b.add(Field::Uid, UID, 1);
    b.add(Field::Uid, "", 3);
    b
}

const UID: &str = "0a1b2c3d-4e5f-4789-8abc-def012345678";

/// The blob of `golden_builder`, annotated with the layout of the module header.
const GOLDEN: &[&str] = &[
    "4b58504f 0100 0900 78010000 00000000", // header: "KXPO", version 1, 9 fields, length 376, reserved
    // Field directory: encoding, values, entries offset, pool offset, pool length.
    "00000000 02000000 c4000000 dc000000 0d000000", // type: strings, 2 values, entries at 196, pool at 220, 13 bytes
    "00000000 01000000 ec000000 f8000000 00000000", // reason: strings, 1 value, entries at 236, pool at 248, empty
    "00000000 00000000 f8000000 f8000000 00000000", // kind: no values
    "00000000 01000000 f8000000 04010000 07000000", // namespace: strings, 1 value, entries at 248, pool at 260, 7 bytes
    "00000000 00000000 0c010000 0c010000 00000000", // name: no values
    "02000000 02000000 0c010000 1c010000 10000000", // uid: "" then UUIDs, 2 values, entries at 268, pool at 284, 16 bytes
    "00000000 00000000 2c010000 2c010000 00000000", // component, host, cluster: no values
    "00000000 00000000 2c010000 2c010000 00000000",
    "00000000 00000000 2c010000 2c010000 00000000",
    "06000000 02000000 40010000",         // type "Normal": ends at 6, 2 rows, payload at 320
    "0d000000 01000000 01000000",         // type "Warning": ends at 13, 1 row: row 1
    "4e6f726d616c 5761726e696e67 000000", // pool "Normal" "Warning", padding to 4
    "00000000 01000000 01000000",         // reason "": ends at 0, 1 row: row 1
    "07000000 0a000000 60010000",         // namespace "default": ends at 7, 10 rows, bitmap at 352
    "64656661756c74 00",                  // pool "default", padding to 4
    "01000000 03000000",                  // uid "": 1 row: row 3
    "02000000 70010000",                  // uid 0a1b2c3d-…: 2 rows, payload at 368
    "0a1b2c3d4e5f47898abcdef012345678",   // pool: the UUID's 16 bytes
    "00000000 0000000000000000 0000000000000000", // padding to the 32-byte aligned payloads at 320
    "00000000 02000000",                  // 320: rows 0, 2
    "0000000000000000 0000000000000000 00000000", // padding, so that the bitmap starts 32-byte aligned
    "0d000000",                           // 348: bitmap length 13
    "0000 0900 0000 0100 03 c6b50000",    // 352: frozen bitmap: run 0+9, key 0, 1 run, run type, 1 << 15 | cookie
    "000000",                             // padding to 4
    "00000000 01000000",                  // 368: rows 0, 1
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn postings_blob_matches_golden_bytes() {
    let expected: String = GOLDEN.concat().split_whitespace().collect();
    assert_eq!(hex(&golden_builder().serialize()), expected);
}

#[test]
fn golden_blob_reads_back() {
    let buf = AlignedBuf::copy_of(&golden_builder().serialize());
    let reader = PostingsReader::open(buf.as_slice()).expect("valid blob");
    let rows = |field, value| reader.get(field, value).expect("readable").map(|p| p.iter().collect::<Vec<_>>());
    assert_eq!(rows(Field::Type, "Normal"), Some(vec![0, 2]));
    assert_eq!(rows(Field::Type, "Warning"), Some(vec![1]));
    assert_eq!(rows(Field::Type, "Other"), None);
    assert_eq!(rows(Field::Reason, ""), Some(vec![1]));
    assert_eq!(rows(Field::Namespace, "default"), Some((0..10).collect()));
    assert_eq!(rows(Field::Kind, ""), None);
    let values = |field| reader.values(field).expect("valid").map(|(v, n)| (v.into_owned(), n)).collect::<Vec<_>>();
    assert_eq!(values(Field::Type), [("Normal".to_owned(), 2), ("Warning".to_owned(), 1)]);
    assert_eq!(values(Field::Uid), [(String::new(), 1), (UID.to_owned(), 2)]);
    assert_eq!(rows(Field::Uid, UID), Some(vec![0, 1]));
    assert_eq!(rows(Field::Uid, ""), Some(vec![3]));
    assert_eq!(rows(Field::Uid, "0a1b2c3d-4e5f-4789-8abc-def012345679"), None);
    assert_eq!(rows(Field::Uid, "not-a-uuid"), None);
    assert_eq!(reader.value_count(Field::Cluster), 0);
}

#[test]
fn empty_builder_gives_a_valid_empty_blob() {
    let blob = PostingsBuilder::new().serialize();
    let reader = PostingsReader::open(&blob).expect("valid blob");
    for field in Field::ALL {
        assert_eq!(reader.value_count(field), 0);
        assert!(reader.get(field, "").expect("readable").is_none());
    }
}

#[test]
fn wrong_magic_version_and_length_are_reported() {
    let blob = golden_builder().serialize();
    let mut bad_magic = blob.clone();
    bad_magic[0] = b'X';
    assert!(matches!(PostingsReader::open(&bad_magic), Err(Error::Corrupt { offset: 0, .. })));
    let mut bad_version = blob.clone();
    bad_version[4] = 2;
    assert!(matches!(
        PostingsReader::open(&bad_version),
        Err(Error::UnsupportedVersion { version: 2, supported: 1, .. })
    ));
    assert!(matches!(PostingsReader::open(&blob[..blob.len() - 1]), Err(Error::Corrupt { offset: 8, .. })));
}

#[test]
fn field_ids_are_stable() {
    let ids: Vec<u8> = Field::ALL.iter().map(|f| f.id()).collect();
    assert_eq!(ids, (0..9).collect::<Vec<u8>>());
    assert_eq!(Field::from_id(5), Some(Field::Uid));
    assert_eq!(Field::from_id(9), None);
    assert_eq!(Field::Host.to_string(), "host");
}
