//! The postings builder, serializer and reader checked against a
//! `BTreeMap<(Field, String), BTreeSet<u32>>` model, and damaged blobs
//! checked to give errors, never panics.

use std::collections::{BTreeMap, BTreeSet};

use kevdb_index::{Field, OwnedBitmap, PostingsBuilder, PostingsReader, RowSet, POSTINGS_ALIGN};
use proptest::prelude::*;

type Model = BTreeMap<(Field, String), BTreeSet<u32>>;

/// `bytes` copied to an address `POSTINGS_ALIGN`-aligned plus `shift`.
struct Placed {
    buf: Vec<u8>,
    start: usize,
    len: usize,
}

impl Placed {
    fn new(bytes: &[u8], shift: usize) -> Placed {
        let mut buf = vec![0u8; bytes.len() + POSTINGS_ALIGN + shift];
        let start = buf.as_ptr().align_offset(POSTINGS_ALIGN) + shift;
        buf[start..start + bytes.len()].copy_from_slice(bytes);
        Placed { buf, start, len: bytes.len() }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }
}

const VALUES: &[&str] = &["", "Normal", "Warning", "BackOff", "default", "kube-system", "ß-ünïcode", "a", "ab", "b"];

/// A canonical UUID, one of a few hundred (so values repeat).
fn uuid(n: u32) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", n.wrapping_mul(2_654_435_761), n)
}

/// (field, value, row gap) triples; rows are the running sum of the gaps, so
/// they arrive ascending, several values per row when the gap is 0. The uid
/// field gets UUIDs: only UUIDs, UUIDs and "", or mixed with other strings,
/// to exercise each key encoding.
fn ops() -> impl Strategy<Value = Vec<(Field, String, u32)>> {
    let field = (0u8..9).prop_map(|id| Field::from_id(id).expect("valid id"));
    let value = prop_oneof![
        4 => proptest::sample::select(VALUES).prop_map(str::to_owned),
        1 => "[a-z0-9-]{1,12}",
    ];
    let gap = prop_oneof![3 => 0u32..3, 1 => 0u32..5000, 1 => Just(70_000u32)];
    let uid_style = 0u8..3;
    (proptest::collection::vec((field, value, gap, 0u32..300), 0..600), uid_style).prop_map(|(ops, style)| {
        ops.into_iter()
            .map(|(field, value, gap, n)| match (field, style) {
                (Field::Uid, 1) if n % 10 == 0 => (field, String::new(), gap),
                (Field::Uid, 2) if n % 10 == 0 => (field, value, gap),
                (Field::Uid, _) => (field, uuid(n), gap),
                _ => (field, value, gap),
            })
            .collect()
    })
}

fn build(ops: &[(Field, String, u32)]) -> (PostingsBuilder, Model) {
    let mut builder = PostingsBuilder::new();
    let mut model = Model::new();
    let mut row = 0u32;
    for (field, value, gap) in ops {
        row += gap;
        builder.add(*field, value, row);
        model.entry((*field, value.clone())).or_default().insert(row);
    }
    (builder, model)
}

fn check_against_model(reader: &PostingsReader<'_>, model: &Model) {
    for ((field, value), rows) in model {
        let posting = reader.get(*field, value).expect("readable").expect("present");
        assert_eq!(posting.iter().collect::<BTreeSet<_>>(), *rows, "{field} {value:?}");
        assert_eq!(posting.len(), rows.len() as u64);
        let first = *rows.first().expect("non-empty");
        assert!(posting.contains(first));
        assert_eq!(posting.contains(first + 1), rows.contains(&(first + 1)));
    }
    for field in Field::ALL {
        // BTreeMap order of `String`s is byte order, the order `values` promises.
        let expected: Vec<(String, u64)> = model
            .iter()
            .filter(|((f, _), _)| *f == field)
            .map(|((_, v), rows)| (v.clone(), rows.len() as u64))
            .collect();
        let values: Vec<(String, u64)> =
            reader.values(field).expect("valid").map(|(v, n)| (v.into_owned(), n)).collect();
        assert_eq!(values, expected);
        assert_eq!(reader.value_count(field), expected.len());
        for absent in ["zz-not-there", "Normal ", "\u{0}", "", &uuid(1000), "00000000-0000-4000-8000-00000000000"] {
            if !model.contains_key(&(field, (*absent).to_owned())) {
                assert!(reader.get(field, absent).expect("readable").is_none());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn reader_agrees_with_the_model(ops in ops(), shift in prop_oneof![3 => Just(0usize), 1 => 1usize..32]) {
        let (builder, model) = build(&ops);
        let placed = Placed::new(&builder.serialize(), shift);
        let reader = PostingsReader::open(placed.bytes()).expect("valid blob");
        check_against_model(&reader, &model);
    }

    #[test]
    fn combinations_agree_with_set_algebra(ops in ops(), a in 0usize..64, b in 0usize..64) {
        let (builder, model) = build(&ops);
        prop_assume!(!model.is_empty());
        let keys: Vec<_> = model.keys().collect();
        let (ka, kb) = (keys[a % keys.len()], keys[b % keys.len()]);
        let placed = Placed::new(&builder.serialize(), 0);
        let reader = PostingsReader::open(placed.bytes()).expect("valid blob");
        let pa = reader.get(ka.0, &ka.1).expect("readable").expect("present");
        let pb = reader.get(kb.0, &kb.1).expect("readable").expect("present");
        let (sa, sb) = (&model[ka], &model[kb]);
        let set = |b: OwnedBitmap| b.iter().collect::<BTreeSet<u32>>();
        prop_assert_eq!(set(pa.and(&pb)), sa.intersection(sb).copied().collect());
        prop_assert_eq!(set(pa.or(&pb)), sa.union(sb).copied().collect());
        prop_assert_eq!(set(pa.andnot(&pb)), sa.difference(sb).copied().collect());
        let owned: OwnedBitmap = sb.iter().copied().collect();
        prop_assert_eq!(set(pa.and(&owned)), sa.intersection(sb).copied().collect());
        prop_assert_eq!(pb.as_bitmap().into_owned(), owned.clone());
        prop_assert!(sb.iter().all(|&r| owned.contains_row(r)));
    }

    #[test]
    fn out_of_order_and_repeated_adds_serialize_like_ordered_ones(ops in ops(), seed in any::<u64>()) {
        let (ordered, _) = build(&ops);
        let mut triples: Vec<(Field, String, u32)> = Vec::new();
        let mut row = 0;
        for (field, value, gap) in &ops {
            row += gap;
            triples.push((*field, value.clone(), row));
        }
        // A deterministic shuffle, plus every triple repeated.
        let mut shuffled: Vec<_> = triples.iter().chain(&triples).cloned().collect();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut builder = PostingsBuilder::new();
        for (field, value, row) in &shuffled {
            builder.add(*field, value, *row);
        }
        prop_assert_eq!(builder.serialize(), ordered.serialize());
    }

    #[test]
    fn garbled_blobs_give_errors_or_valid_answers_never_panics(
        ops in ops(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..6),
    ) {
        let (builder, model) = build(&ops);
        let mut blob = builder.serialize();
        for (at, xor) in &flips {
            let i = at.index(blob.len());
            blob[i] ^= xor;
        }
        let placed = Placed::new(&blob, 0);
        if let Ok(reader) = PostingsReader::open(placed.bytes()) {
            exercise(&reader, &model);
        }
    }
}

/// Every read API on every key of the model: whatever comes back must be usable.
fn exercise(reader: &PostingsReader<'_>, model: &Model) {
    let probe: OwnedBitmap = (0..200_000).step_by(7).collect();
    for (field, value) in model.keys() {
        if let Ok(Some(posting)) = reader.get(*field, value) {
            let _ = posting.iter().count();
            let _ = posting.and(&probe).cardinality() + posting.or(&probe).cardinality();
            let _ = posting.andnot(&probe);
            let _ = posting.contains(5);
        }
    }
    for field in Field::ALL {
        if let Ok(values) = reader.values(field) {
            let _ = values.count();
        }
    }
}

#[test]
fn every_truncation_of_a_blob_is_an_error() {
    let ops: Vec<(Field, String, u32)> = (0..3000u32)
        .flat_map(|i| {
            [
                (Field::Type, ["Normal", "Warning"][(i % 7 == 0) as usize].to_owned(), 1),
                (Field::Uid, format!("uid-{i}"), 0),
            ]
        })
        .collect();
    let (builder, model) = build(&ops);
    let blob = builder.serialize();
    for cut in 0..blob.len() {
        let placed = Placed::new(&blob[..cut], 0);
        assert!(PostingsReader::open(placed.bytes()).is_err(), "accepted a blob cut to {cut} bytes");
    }
    // Truncations that also fix up the length field get past `open`; lookups must still not panic.
    for cut in (16..blob.len()).step_by(97) {
        let mut truncated = blob[..cut].to_vec();
        truncated[8..12].copy_from_slice(&(cut as u32).to_le_bytes());
        let placed = Placed::new(&truncated, 0);
        if let Ok(reader) = PostingsReader::open(placed.bytes()) {
            exercise(&reader, &model);
        }
    }
}

#[test]
fn dense_postings_over_a_million_rows_round_trip() {
    let mut builder = PostingsBuilder::new();
    let mut model = Model::new();
    for row in 0..1_000_000u32 {
        let ty = if row % 10 == 0 { "Warning" } else { "Normal" };
        let ns = ["default", "kube-system", "prod"][(row / 1000 % 3) as usize];
        for (field, value) in [(Field::Type, ty), (Field::Namespace, ns)] {
            builder.add(field, value, row);
            model.entry((field, value.to_owned())).or_default().insert(row);
        }
    }
    let placed = Placed::new(&builder.serialize(), 0);
    let reader = PostingsReader::open(placed.bytes()).expect("valid blob");
    check_against_model(&reader, &model);
    let warning = reader.get(Field::Type, "Warning").expect("readable").expect("present");
    let prod = reader.get(Field::Namespace, "prod").expect("readable").expect("present");
    let expected = model[&(Field::Type, "Warning".to_owned())]
        .intersection(&model[&(Field::Namespace, "prod".to_owned())])
        .count();
    assert_eq!(warning.and(&prod).cardinality(), expected as u64);
}
