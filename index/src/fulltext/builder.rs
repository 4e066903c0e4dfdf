//! `FullTextBuilder`: collects (row, message) pairs, indexes each distinct
//! token sequence once with tantivy in RAM, and packs the index plus the
//! message → rows map into one blob.

use std::collections::HashMap;
use std::path::Path;

use croaring::Bitmap;
use tantivy::directory::RamDirectory;
use tantivy::indexer::NoMergePolicy;
use tantivy::tokenizer::{PreTokenizedString, Token};
use tantivy::{Directory, IndexSettings};
use tantivy::{Index, IndexWriter, TantivyDocument};

use super::pack::{pack, Counts};
use super::schema::IndexSchema;
use super::tokenize::for_each_token;
use crate::Error;

/// tantivy's index metadata file.
const META_FILE: &str = "meta.json";

/// Separates a key from the row number made unique by `without_dedup` (never in a token).
const NO_DEDUP_MARK: char = '\u{1}';

/// Memory tantivy may use for its in-RAM segment before flushing one (it
/// grows on demand; more than this splits the index into several segments,
/// which search handles).
const INDEXING_BUDGET: usize = 128 << 20;

/// Builds the full-text blob of one segment.
///
/// Messages are deduplicated by their token sequence, so "Started container
/// web" and "started container web." are one document; each document maps to
/// the rows that carry it.
///
/// ```
/// use kevdb_index::{FullTextBuilder, FullTextIndex, SharedBytes, TextQuery};
///
/// let mut builder = FullTextBuilder::new();
/// builder.add(0, "Started container web");
/// builder.add(1, "Back-off restarting failed container web");
/// builder.add(2, "Started container web");
/// let index = FullTextIndex::open(SharedBytes::from(builder.finish()?))?;
/// let rows = index.search(&TextQuery::parse("started")?)?;
/// assert_eq!(rows.iter().collect::<Vec<_>>(), [0, 2]);
/// # Ok::<(), kevdb_index::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct FullTextBuilder {
    /// Token sequence (tokens joined by one space) → message number.
    messages: HashMap<Box<str>, u32>,
    /// Per message number, its rows in arrival order.
    rows: Vec<Vec<u32>>,
    /// Number of `add` calls.
    added: u32,
    /// The last row added.
    last_row: Option<u32>,
    /// Whether some row came after a row not smaller than it.
    out_of_order: bool,
    /// Scratch buffer for the token sequence being added.
    key: String,
    /// Index every row as its own document (for measurements only).
    no_dedup: bool,
}

impl FullTextBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder that indexes every row as its own document, to measure what
    /// deduplicating messages saves. Not for production use.
    #[cfg(feature = "internals")]
    pub fn without_dedup() -> Self {
        FullTextBuilder { no_dedup: true, ..Self::default() }
    }

    /// Indexes `text` as the message of `row`.
    ///
    /// Add every row of the segment, with `""` for rows without a message:
    /// rows never added match no query, not even `NOT x`. Each row at most once.
    pub fn add(&mut self, row: u32, text: &str) {
        self.key.clear();
        for_each_token(text, |token| {
            if !self.key.is_empty() {
                self.key.push(' ');
            }
            self.key.push_str(token);
        });
        if self.no_dedup {
            // Makes the key unique; `build_tantivy_index` drops this suffix.
            self.key.push_str(&format!("{NO_DEDUP_MARK}{row}"));
        }
        let message = match self.messages.get(self.key.as_str()) {
            Some(&message) => message,
            None => {
                let message = u32::try_from(self.rows.len()).expect("fewer than 2^32 messages");
                self.messages.insert(self.key.as_str().into(), message);
                self.rows.push(Vec::new());
                message
            }
        };
        self.rows[message as usize].push(row);
        self.added += 1;
        self.out_of_order |= self.last_row.is_some_and(|last| row <= last);
        self.last_row = Some(row);
    }

    /// Number of distinct messages (token sequences) so far.
    pub fn message_count(&self) -> usize {
        self.rows.len()
    }

    /// Builds the index and packs it into one blob (layout in the module header).
    ///
    /// Fails with [`Error::InvalidInput`] if a row was added twice, and with
    /// [`Error::Indexing`] if tantivy fails.
    pub fn finish(mut self) -> Result<Vec<u8>, Error> {
        if self.out_of_order {
            for rows in &mut self.rows {
                rows.sort_unstable();
            }
            let mut seen = Bitmap::new();
            for &row in self.rows.iter().flatten() {
                if !seen.add_checked(row) {
                    return Err(Error::InvalidInput(format!("row {row} was added to the full-text index twice")));
                }
            }
        }
        let row_end = self.rows.iter().flat_map(|rows| rows.last()).max().map_or(0, |&last| last + 1);
        let mut keys: Vec<(u32, Box<str>)> = self.messages.into_iter().map(|(key, message)| (message, key)).collect();
        keys.sort_unstable_by_key(|&(message, _)| message);
        let files =
            build_tantivy_index(keys.iter().map(|(_, key)| &**key)).map_err(|e| Error::Indexing(e.to_string()))?;
        let counts = Counts { messages: keys.len() as u32, rows: self.added, row_end };
        Ok(pack(&files, &self.rows, counts))
    }
}

/// Indexes one document per message (tokens joined by spaces; document `i`
/// gets `ord` `i`) in RAM and returns the index files (name, bytes).
fn build_tantivy_index<'k>(messages: impl Iterator<Item = &'k str>) -> tantivy::Result<Vec<(String, Vec<u8>)>> {
    let schema = IndexSchema::new();
    // Keep a handle on the RAM directory itself: it holds the files exactly as
    // written (with tantivy's footers), which `index.directory()` would strip.
    let ram = RamDirectory::create();
    let index = Index::create(ram.clone(), schema.schema.clone(), IndexSettings::default())?;
    let mut writer: IndexWriter<TantivyDocument> = index.writer_with_num_threads(1, INDEXING_BUDGET)?;
    writer.set_merge_policy(Box::new(NoMergePolicy));
    for (ord, key) in messages.enumerate() {
        let key = key.split(NO_DEDUP_MARK).next().unwrap_or_default();
        let tokens = if key.is_empty() { Vec::new() } else { key.split(' ').collect() };
        let tokens = tokens
            .into_iter()
            .enumerate()
            .map(|(position, text)| Token { position, text: text.to_owned(), ..Token::default() })
            .collect();
        let mut doc = TantivyDocument::new();
        doc.add_pre_tokenized_text(schema.text, PreTokenizedString { text: String::new(), tokens });
        doc.add_u64(schema.ord, ord as u64);
        writer.add_document(doc)?;
    }
    writer.commit()?;
    writer.wait_merging_threads()?;

    let mut segment_files: Vec<String> = index
        .load_metas()?
        .list_segment_files()
        .into_iter()
        .filter(|path| ram.exists(path).unwrap_or(false))
        .map(|path| path.to_string_lossy().into_owned())
        .collect();
    segment_files.sort_unstable();
    let mut files = vec![(META_FILE.to_owned(), ram.atomic_read(Path::new(META_FILE))?)];
    for name in segment_files {
        let bytes = ram.open_read(Path::new(&name))?.read_bytes()?;
        files.push((name, bytes.as_slice().to_vec()));
    }
    Ok(files)
}
