//! Full-text search checked against brute force: for random messages drawn
//! from real Kubernetes event messages (`tests/data/messages.txt`, extracted
//! from the event fixtures in `shared/data/events`) and random queries of
//! every kind, `FullTextIndex::search` must return exactly the rows whose
//! message `TextQuery::matches`.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use kevdb_index::{Error, FullTextBuilder, FullTextIndex, SharedBytes, TextQuery, FULLTEXT_ALIGN};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

fn fixtures() -> &'static [&'static str] {
    static MESSAGES: OnceLock<Vec<&'static str>> = OnceLock::new();
    MESSAGES.get_or_init(|| include_str!("data/messages.txt").lines().collect())
}

/// Lowercased alphanumeric words of the fixtures (for picking query words).
fn words() -> &'static [String] {
    static WORDS: OnceLock<Vec<String>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let set: BTreeSet<String> = fixtures().iter().flat_map(|m| split_words(m)).collect();
        set.into_iter().collect()
    })
}

fn split_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// A blob placed at a `FULLTEXT_ALIGN`-aligned address (plus `shift`) of a shared buffer.
fn open(blob: &[u8], shift: usize) -> FullTextIndex {
    let mut buf = vec![0u8; blob.len() + FULLTEXT_ALIGN + shift];
    let start = buf.as_ptr().align_offset(FULLTEXT_ALIGN) + shift;
    buf[start..start + blob.len()].copy_from_slice(blob);
    let shared = SharedBytes::from_arc(Arc::new(buf)).slice(start..start + blob.len()).expect("in bounds");
    FullTextIndex::open(shared).expect("valid blob")
}

fn build(messages: &[(u32, String)]) -> Vec<u8> {
    let mut builder = FullTextBuilder::new();
    for (row, text) in messages {
        builder.add(*row, text);
    }
    builder.finish().expect("indexing succeeds")
}

fn brute_force(query: &TextQuery, messages: &[(u32, String)]) -> Vec<u32> {
    messages.iter().filter(|(_, text)| query.matches(text)).map(|(row, _)| *row).collect()
}

fn search(index: &FullTextIndex, query: &TextQuery) -> Vec<u32> {
    index.search(query).expect("search succeeds").iter().collect()
}

/// A message: a fixture, sometimes with its case changed or digits varied, or empty.
fn message() -> impl Strategy<Value = String> {
    let fixture = proptest::sample::select(fixtures());
    prop_oneof![
        8 => fixture.clone().prop_map(str::to_owned),
        1 => fixture.clone().prop_map(str::to_uppercase),
        2 => (fixture, 0u32..50).prop_map(|(m, n)| m.replace('1', &n.to_string())),
        1 => Just(String::new()),
    ]
}

/// Rows with gaps, each with a message.
fn messages() -> impl Strategy<Value = Vec<(u32, String)>> {
    proptest::collection::vec((1u32..4, message()), 1..250).prop_map(|list| {
        let mut row = 0;
        list.into_iter()
            .map(|(gap, text)| {
                row += gap;
                (row, text)
            })
            .collect()
    })
}

/// A leaf query: a word, a prefix, a phrase taken from a real message, a
/// random phrase, a phrase prefix, or a word that is nowhere.
fn leaf() -> BoxedStrategy<String> {
    let word = proptest::sample::select(words());
    let message = proptest::sample::select(fixtures());
    prop_oneof![
        4 => word.clone().prop_map(|w| w.to_owned()),
        2 => (word.clone(), 1usize..4).prop_map(|(w, n)| format!("{}*", w.chars().take(n).collect::<String>())),
        3 => (message, any::<prop::sample::Index>(), 2usize..4).prop_map(|(m, at, n)| {
            let words = split_words(m);
            let start = at.index(words.len().max(1));
            format!("\"{}\"", words.iter().skip(start).take(n).cloned().collect::<Vec<_>>().join(" "))
        }),
        1 => (word.clone(), word.clone()).prop_map(|(a, b)| format!("\"{a} {b}\"")),
        1 => (word.clone(), word, 1usize..3).prop_map(|(a, b, n)| format!("\"{a} {}*\"", b.chars().take(n).collect::<String>())),
        1 => Just("zzznothere".to_owned()),
    ]
    .prop_filter("phrase with words", |q| q != "\"\"")
    .boxed()
}

/// A query of every kind: leaves combined with AND, OR, NOT, `-` and parentheses.
fn query() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(|qs| format!("({})", qs.join(" "))),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(|qs| format!("({})", qs.join(" OR "))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} AND {b})")),
            inner.clone().prop_map(|q| format!("NOT {q}")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("{a} -{b}")),
        ]
    })
}

#[test]
fn search_agrees_with_brute_force() {
    let (non_empty, total) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mut runner = TestRunner::new(ProptestConfig { cases: 128, ..ProptestConfig::default() });
    let strategy =
        (messages(), proptest::collection::vec(query(), 1..24), prop_oneof![3 => Just(0usize), 1 => 1usize..32]);
    let result = runner.run(&strategy, |(messages, queries, shift)| {
        let index = open(&build(&messages), shift);
        for q in &queries {
            let query = TextQuery::parse(q).expect("generated queries parse");
            let expected = brute_force(&query, &messages);
            non_empty.fetch_add(usize::from(!expected.is_empty()), Ordering::Relaxed);
            total.fetch_add(1, Ordering::Relaxed);
            prop_assert_eq!(search(&index, &query), expected, "query {}", q);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The generators must make interesting queries: many match something, many do not.
    let (non_empty, total) = (non_empty.into_inner(), total.into_inner());
    assert!(non_empty * 4 > total && non_empty * 8 < total * 7, "{non_empty} of {total} queries matched rows");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn display_is_a_canonical_spelling(q in query()) {
        let query = TextQuery::parse(&q).expect("generated queries parse");
        let again = TextQuery::parse(&query.to_string()).expect("canonical spelling parses");
        prop_assert_eq!(again, query);
    }
}

#[test]
fn all_fixture_messages_answer_hand_written_queries_like_brute_force() {
    // Every fixture twice (rows i and i + n), so frequent messages get bitmaps.
    let n = fixtures().len() as u32;
    let messages: Vec<(u32, String)> = (0..2 * n).map(|i| (i, fixtures()[(i % n) as usize].to_owned())).collect();
    let index = open(&build(&messages), 0);
    assert_eq!(index.message_count(), n - count_token_duplicates());
    assert_eq!(index.row_count(), 2 * n);
    for (q, at_least) in [
        ("connection refused", 2),
        ("\"connection refused\"", 2),
        ("\"dial tcp\" -refused", 0),
        ("\"dial tcp\" -readiness", 2),
        ("back-off OR backoff", 2),
        ("restart*", 2),
        ("\"failed to pull*\"", 2),
        ("kube-sys*", 2),
        ("10.42.0.3", 2),
        ("NOT container", 2),
        ("-(pulled OR pulling) image", 2),
        ("(Started OR Created) container -helm", 2),
        ("scheduled AND NOT (default OR \"kube system\")", 0),
        ("zzznothere", 0),
        ("NOT zzznothere", 2 * n as usize),
    ] {
        let query = TextQuery::parse(q).expect("parses");
        let found = search(&index, &query);
        assert_eq!(found, brute_force(&query, &messages), "query {q}");
        assert!(found.len() >= at_least, "query {q} found only {}", found.len());
    }
}

/// Fixtures whose token sequence equals an earlier fixture's.
fn count_token_duplicates() -> u32 {
    let mut seen = BTreeSet::new();
    fixtures().iter().filter(|m| !seen.insert(split_words(m))).count() as u32
}

#[test]
fn empty_index_matches_nothing() {
    let index = open(&FullTextBuilder::new().finish().expect("indexing succeeds"), 0);
    for q in ["a", "NOT a", "a*", "\"a b\""] {
        assert!(search(&index, &TextQuery::parse(q).expect("parses")).is_empty(), "{q}");
    }
}

#[test]
fn rows_without_text_match_only_negations() {
    let index = open(&build(&[(0, String::new()), (1, "::".into()), (5, "ok".into())]), 0);
    assert_eq!(search(&index, &TextQuery::parse("NOT ok").expect("parses")), [0, 1]);
    assert_eq!(search(&index, &TextQuery::parse("ok").expect("parses")), [5]);
}

#[test]
fn adding_a_row_twice_is_an_error() {
    let mut builder = FullTextBuilder::new();
    builder.add(3, "a");
    builder.add(1, "b");
    builder.add(3, "c");
    assert!(matches!(builder.finish(), Err(Error::InvalidInput(_))));
}

#[test]
fn full_text_index_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FullTextIndex>();
    assert_send_sync::<TextQuery>();
}

#[test]
fn damaged_blobs_give_errors_never_panics() {
    let messages: Vec<(u32, String)> =
        fixtures().iter().enumerate().map(|(i, m)| (i as u32, (*m).to_owned())).collect();
    let blob = build(&messages);
    let queries: Vec<TextQuery> = ["container", "\"back off\"", "pull*", "NOT started"]
        .iter()
        .map(|q| TextQuery::parse(q).expect("parses"))
        .collect();
    for cut in (0..blob.len()).step_by(61) {
        assert!(FullTextIndex::open(SharedBytes::from(blob[..cut].to_vec())).is_err(), "cut to {cut}");
    }
    // Flip bytes all over the blob (header, directory, tantivy files, row map):
    // open and search must return, with errors or answers, and never panic.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..300 {
        let mut garbled = blob.clone();
        for _ in 0..3 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % garbled.len() as u64) as usize;
            garbled[at] ^= (state >> 32) as u8 | 1;
        }
        if let Ok(index) = FullTextIndex::open(SharedBytes::from(garbled)) {
            for query in &queries {
                let _ = index.search(query);
            }
        }
    }
}
