//! `FullTextIndex`: opens a full-text blob in place and answers [`TextQuery`]s
//! with the matching rows.
//!
//! Search evaluates the query per tantivy segment over document ids with
//! bitmaps: a term is its posting list, a prefix the union of the posting
//! lists of the terms in its range of the term dictionary, a phrase the
//! documents holding all its terms at consecutive positions (checked with the
//! positions file); AND/OR/NOT are bitmap operations, NOT relative to all
//! documents. Matching documents map to message numbers (the `ord` fast field)
//! and those to rows (the blob's row map).
//!
//! NOTE: tantivy is not hardened against damaged bytes and may panic on them.
//! Open and search run under `catch_unwind`, turning such a panic into
//! [`Error::Corrupt`]; the engine's checksum makes this a last line of defence.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

use croaring::Bitmap;
use tantivy::columnar::Column;
use tantivy::postings::{Postings, SegmentPostings, TermInfo};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Index, InvertedIndexReader, SegmentReader, Term, COLLECT_BLOCK_BUFFER_LEN};

use super::ast::Node;
use super::directory::PackDirectory;
use super::pack::Unpacked;
use super::query::TextQuery;
use super::schema::{IndexSchema, ORD_FIELD};
use super::SharedBytes;
use crate::payload::INLINE_MAX;
use crate::posting::{OwnedBitmap, Posting};
use crate::{Blob, Error};

/// A segment's full-text index, opened over its blob without copying.
///
/// `Send + Sync`: share one per segment between queries.
pub struct FullTextIndex {
    blob: SharedBytes,
    unpacked: Unpacked,
    segments: Vec<SegmentSearcher>,
}

/// What search needs of one tantivy segment.
struct SegmentSearcher {
    max_doc: u32,
    text_field: tantivy::schema::Field,
    inverted: Arc<InvertedIndexReader>,
    ords: Column<u64>,
}

fn tantivy_corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::corrupt(Blob::FullText, 0, what, e.to_string())
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload.downcast_ref::<&str>().copied().or(payload.downcast_ref::<String>().map(String::as_str));
    format!("tantivy panicked: {}", text.unwrap_or("(no message)"))
}

impl FullTextIndex {
    /// Opens the blob `bytes` (built by [`FullTextBuilder`](super::FullTextBuilder)).
    ///
    /// Zero-copy: tantivy's files are slices of `bytes`. For zero-copy row
    /// lookups too, the blob should start at a [`FULLTEXT_ALIGN`](super::FULLTEXT_ALIGN)
    /// byte aligned address; otherwise the rows of frequent messages are copied per search.
    pub fn open(bytes: SharedBytes) -> Result<Self, Error> {
        let unpacked = Unpacked::parse(&bytes)?;
        let files: HashMap<PathBuf, _> =
            unpacked.files.iter().map(|(name, range)| (PathBuf::from(name), bytes.0.slice(range.clone()))).collect();
        let directory = PackDirectory::new(files);
        let segments = catch_unwind(AssertUnwindSafe(|| open_segments(directory)))
            .map_err(|payload| tantivy_corrupt("a readable tantivy index", panic_message(&*payload)))??;
        let max_docs: u64 = segments.iter().map(|s| u64::from(s.max_doc)).sum();
        if max_docs != u64::from(unpacked.counts.messages) {
            return Err(tantivy_corrupt(
                &format!("{} tantivy documents", unpacked.counts.messages),
                format!("{max_docs} documents"),
            ));
        }
        Ok(FullTextIndex { blob: bytes, unpacked, segments })
    }

    /// Number of distinct messages indexed.
    pub fn message_count(&self) -> u32 {
        self.unpacked.counts.messages
    }

    /// Number of rows indexed.
    pub fn row_count(&self) -> u32 {
        self.unpacked.counts.rows
    }

    /// The rows whose message matches `query`.
    pub fn search(&self, query: &TextQuery) -> Result<OwnedBitmap, Error> {
        catch_unwind(AssertUnwindSafe(|| self.search_inner(&query.root)))
            .map_err(|payload| tantivy_corrupt("a readable tantivy index", panic_message(&*payload)))?
    }

    fn search_inner(&self, root: &Node) -> Result<OwnedBitmap, Error> {
        let mut messages = Vec::new();
        for segment in &self.segments {
            let docs = segment.eval(root).map_err(|e| tantivy_corrupt("readable postings", e))?;
            for doc in docs.iter() {
                let ord = segment.ords.first(doc).ok_or_else(|| tantivy_corrupt("an ord per document", doc))?;
                messages.push(u32::try_from(ord).map_err(|_| tantivy_corrupt("a 32-bit ord", ord))?);
            }
        }
        self.rows_of(&messages)
    }

    /// The union of the rows of `messages`.
    fn rows_of(&self, messages: &[u32]) -> Result<OwnedBitmap, Error> {
        let mut large = Vec::new();
        let mut inline = Vec::new();
        for &message in messages {
            let posting = self.unpacked.message_rows(&self.blob, message)?;
            if posting.len() <= u64::from(INLINE_MAX) {
                inline.extend(posting.iter());
            } else {
                large.push(posting);
            }
        }
        let bitmaps: Vec<Cow<'_, Bitmap>> = large.iter().map(Posting::as_bitmap).collect();
        let mut rows = Bitmap::fast_or(&bitmaps.iter().map(|b| &**b).collect::<Vec<_>>());
        rows.or_inplace(&sorted_rows(inline, self.unpacked.counts.row_end));
        Ok(rows)
    }
}

/// `rows` (distinct, any order, all below `row_end`) as a bitmap: sorted
/// through a bit vector when they are many, by sorting when few.
fn sorted_rows(mut rows: Vec<u32>, row_end: u32) -> Bitmap {
    if rows.len() > (row_end as usize / 64).max(1024) {
        let mut bits = vec![0u64; (row_end as usize).div_ceil(64)];
        for &row in &rows {
            if let Some(word) = bits.get_mut(row as usize / 64) {
                *word |= 1 << (row % 64);
            }
        }
        rows.clear();
        for (i, &word) in bits.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                rows.push(i as u32 * 64 + word.trailing_zeros());
                word &= word - 1;
            }
        }
    } else {
        rows.sort_unstable();
    }
    Bitmap::of(&rows)
}

fn open_segments(directory: PackDirectory) -> Result<Vec<SegmentSearcher>, Error> {
    let index = Index::open(directory).map_err(|e| tantivy_corrupt("a tantivy index", e))?;
    let schema = IndexSchema::of(&index.schema())
        .ok_or_else(|| tantivy_corrupt("the kevdb full-text schema", "other fields"))?;
    let segments = index.searchable_segments().map_err(|e| tantivy_corrupt("tantivy segment metas", e))?;
    segments
        .iter()
        .map(|segment| {
            let reader = SegmentReader::open(segment).map_err(|e| tantivy_corrupt("a tantivy segment", e))?;
            let inverted = reader.inverted_index(schema.text).map_err(|e| tantivy_corrupt("an inverted index", e))?;
            let ords = reader.fast_fields().u64(ORD_FIELD).map_err(|e| tantivy_corrupt("the ord fast field", e))?;
            Ok(SegmentSearcher { max_doc: reader.max_doc(), text_field: schema.text, inverted, ords })
        })
        .collect()
}

impl SegmentSearcher {
    /// The documents of this segment matching `node`.
    fn eval(&self, node: &Node) -> io::Result<Bitmap> {
        match node {
            Node::Seq { tokens, prefix } => self.seq(tokens, *prefix),
            Node::Or(children) => {
                let mut docs = Bitmap::new();
                for child in children {
                    docs.or_inplace(&self.eval(child)?);
                }
                Ok(docs)
            }
            Node::And(children) => {
                let (mut positive, mut negated) = (Vec::new(), Vec::new());
                for child in children {
                    match child {
                        Node::Not(inner) => negated.push(&**inner),
                        other => positive.push(other),
                    }
                }
                let mut docs = match positive.split_first() {
                    Some((first, rest)) => {
                        let mut docs = self.eval(first)?;
                        for child in rest {
                            if docs.is_empty() {
                                return Ok(docs);
                            }
                            docs.and_inplace(&self.eval(child)?);
                        }
                        docs
                    }
                    None => self.all(),
                };
                for inner in negated {
                    if docs.is_empty() {
                        break;
                    }
                    docs.andnot_inplace(&self.eval(inner)?);
                }
                Ok(docs)
            }
            Node::Not(child) => Ok(self.all().andnot(&self.eval(child)?)),
        }
    }

    fn all(&self) -> Bitmap {
        Bitmap::from_range(0..self.max_doc)
    }

    /// Term infos of one element of a sequence: the exact term, or every term
    /// starting with `token` when `prefix`.
    fn term_infos(&self, token: &str, prefix: bool) -> io::Result<Vec<TermInfo>> {
        if !prefix {
            let term = Term::from_field_text(self.text_field, token);
            return Ok(self.inverted.get_term_info(&term)?.into_iter().collect());
        }
        let mut infos = Vec::new();
        let mut stream = self.inverted.terms().range().ge(token.as_bytes()).into_stream()?;
        while stream.advance() {
            if !stream.key().starts_with(token.as_bytes()) {
                break;
            }
            infos.push(stream.value().clone());
        }
        Ok(infos)
    }

    fn postings(&self, info: &TermInfo, option: IndexRecordOption) -> io::Result<SegmentPostings> {
        self.inverted.read_postings_from_terminfo(info, option)
    }

    /// Documents holding any of the terms `infos`.
    fn docs(&self, infos: &[TermInfo]) -> io::Result<Bitmap> {
        let mut docs = Bitmap::new();
        let mut buffer = [0u32; COLLECT_BLOCK_BUFFER_LEN];
        for info in infos {
            let mut postings = self.postings(info, IndexRecordOption::Basic)?;
            loop {
                let n = postings.fill_buffer(&mut buffer);
                docs.add_many(&buffer[..n]);
                if n < buffer.len() {
                    break;
                }
            }
        }
        Ok(docs)
    }

    /// Documents where `tokens` appear consecutively (the last as a prefix when `prefix`).
    fn seq(&self, tokens: &[String], prefix: bool) -> io::Result<Bitmap> {
        let Some(last) = tokens.len().checked_sub(1) else { return Ok(Bitmap::new()) };
        let mut elements = Vec::with_capacity(tokens.len());
        for (i, token) in tokens.iter().enumerate() {
            let infos = self.term_infos(token, prefix && i == last)?;
            if infos.is_empty() {
                return Ok(Bitmap::new());
            }
            elements.push(infos);
        }
        let mut candidates = self.docs(&elements[0])?;
        for infos in &elements[1..] {
            if candidates.is_empty() {
                return Ok(candidates);
            }
            candidates.and_inplace(&self.docs(infos)?);
        }
        if tokens.len() == 1 {
            return Ok(candidates);
        }
        // Check positions, walking every element's postings through the candidates.
        let mut postings: Vec<Vec<SegmentPostings>> = elements
            .iter()
            .map(|infos| infos.iter().map(|i| self.postings(i, IndexRecordOption::WithFreqsAndPositions)).collect())
            .collect::<io::Result<_>>()?;
        let mut positions: Vec<Vec<u32>> = vec![Vec::new(); tokens.len()];
        let mut matched = Bitmap::new();
        for doc in candidates.iter() {
            for (element, element_positions) in postings.iter_mut().zip(&mut positions) {
                element_positions.clear();
                for p in element.iter_mut() {
                    if p.doc() < doc {
                        p.seek(doc);
                    }
                    if p.doc() == doc {
                        p.append_positions_with_offset(0, element_positions);
                    }
                }
                if element.len() > 1 {
                    element_positions.sort_unstable();
                }
            }
            if consecutive(&positions) {
                matched.add(doc);
            }
        }
        Ok(matched)
    }
}

/// Whether some position `p` of the first list has `p + i` in list `i` for every `i`.
fn consecutive(positions: &[Vec<u32>]) -> bool {
    let Some((first, rest)) = positions.split_first() else { return false };
    first.iter().any(|&p| {
        rest.iter().zip(1u32..).all(|(list, i)| p.checked_add(i).is_some_and(|q| list.binary_search(&q).is_ok()))
    })
}

impl std::fmt::Debug for FullTextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FullTextIndex")
            .field("len", &self.blob.len())
            .field("messages", &self.unpacked.counts.messages)
            .field("rows", &self.unpacked.counts.rows)
            .field("segments", &self.segments.len())
            .finish()
    }
}
