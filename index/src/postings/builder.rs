//! `PostingsBuilder`: collects (field, value, row) triples while a segment is
//! written and serializes them into the postings blob (layout in the parent
//! module's header).

use std::borrow::Cow;
use std::collections::HashMap;

use super::keys::{parse_uuid, KeyEncoding, UUID_LEN};
use super::{Field, DIR_ENTRY_LEN, HEADER_LEN, MAGIC, VERSION};
use crate::payload::{pad_to, to_u32, write_payload, PayloadRef};
use crate::zerocopy::FROZEN_ALIGN;

/// One field's values in byte order, each with its rows sorted and distinct.
type FieldValues<'b> = Vec<(&'b str, Cow<'b, [u32]>)>;

/// Collects the rows of every (field, value) of one segment.
///
/// ```
/// use kevdb_index::{Field, PostingsBuilder, PostingsReader};
///
/// let mut builder = PostingsBuilder::new();
/// builder.add(Field::Type, "Warning", 0);
/// builder.add(Field::Type, "Normal", 1);
/// builder.add(Field::Type, "Warning", 2);
/// let blob = builder.serialize();
///
/// let reader = PostingsReader::open(&blob)?;
/// let warnings = reader.get(Field::Type, "Warning")?.expect("present");
/// assert_eq!(warnings.iter().collect::<Vec<_>>(), [0, 2]);
/// # Ok::<(), kevdb_index::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct PostingsBuilder {
    /// Per field id: value → rows in arrival order.
    fields: [HashMap<Box<str>, Vec<u32>>; Field::COUNT],
}

impl PostingsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `row` has `value` in `field`.
    ///
    /// Rows are expected in ascending order (the order segments are written);
    /// repeats of the same (field, value, row) are ignored, and out-of-order
    /// rows are tolerated at the price of a sort in [`serialize`](Self::serialize).
    /// The empty string is a value like any other (use it for "absent").
    pub fn add(&mut self, field: Field, value: &str, row: u32) {
        let values = &mut self.fields[usize::from(field.id())];
        match values.get_mut(value) {
            Some(rows) => {
                if rows.last() != Some(&row) {
                    rows.push(row);
                }
            }
            None => {
                values.insert(value.into(), vec![row]);
            }
        }
    }

    /// Number of distinct values recorded for `field`.
    pub fn value_count(&self, field: Field) -> usize {
        self.fields[usize::from(field.id())].len()
    }

    /// Serializes everything added so far into a postings blob (version 1).
    ///
    /// # Panics
    ///
    /// If the blob would exceed 4 GiB (offsets are u32), which takes well over
    /// a hundred million rows.
    pub fn serialize(&self) -> Vec<u8> {
        let fields: Vec<FieldValues<'_>> = self
            .fields
            .iter()
            .map(|values| {
                let mut list: FieldValues<'_> =
                    values.iter().map(|(value, rows)| (&**value, normalized(rows))).collect();
                list.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                list
            })
            .collect();
        let encodings: Vec<KeyEncoding> =
            fields.iter().map(|values| KeyEncoding::choose(values.iter().map(|(value, _)| *value))).collect();

        // Payloads go into their own buffer, appended at a 32-byte aligned
        // offset: alignment within it is alignment in the blob.
        let mut payloads = Vec::new();
        let refs: Vec<Vec<PayloadRef>> = fields
            .iter()
            .map(|values| values.iter().map(|(_, rows)| write_payload(&mut payloads, rows)).collect())
            .collect();

        let mut blob = Vec::with_capacity(HEADER_LEN + payloads.len());
        blob.extend_from_slice(&MAGIC);
        blob.extend_from_slice(&VERSION.to_le_bytes());
        blob.extend_from_slice(&(Field::COUNT as u16).to_le_bytes());
        blob.extend_from_slice(&[0; 8]); // blob length, patched below; reserved
        let dir_at = blob.len();
        blob.resize(dir_at + Field::COUNT * DIR_ENTRY_LEN, 0);
        let tables_len: usize = fields
            .iter()
            .zip(&encodings)
            .map(|(values, &encoding)| {
                values.len() * encoding.entry_len() + pool_len(values, encoding).next_multiple_of(4)
            })
            .sum();
        let payloads_at = to_u32((blob.len() + tables_len).next_multiple_of(FROZEN_ALIGN));

        for (field_id, ((values, refs), &encoding)) in fields.iter().zip(&refs).zip(&encodings).enumerate() {
            let entries_at = blob.len();
            let pool_at = entries_at + values.len() * encoding.entry_len();
            let dir = [encoding as usize, values.len(), entries_at, pool_at, pool_len(values, encoding)];
            let slots = &mut blob[dir_at + field_id * DIR_ENTRY_LEN..][..DIR_ENTRY_LEN];
            for (slot, n) in slots.chunks_exact_mut(4).zip(dir) {
                slot.copy_from_slice(&to_u32(n).to_le_bytes());
            }
            let mut value_end = 0;
            for ((value, _), at) in values.iter().zip(refs) {
                let at = at.rebase(payloads_at);
                if encoding == KeyEncoding::Strings {
                    value_end += value.len();
                    blob.extend_from_slice(&to_u32(value_end).to_le_bytes());
                }
                blob.extend_from_slice(&at.cardinality.to_le_bytes());
                blob.extend_from_slice(&at.word.to_le_bytes());
            }
            for (value, _) in values {
                match encoding {
                    KeyEncoding::Strings => blob.extend_from_slice(value.as_bytes()),
                    _ if value.is_empty() => {}
                    _ => blob.extend_from_slice(&parse_uuid(value).expect("chosen because all values are UUIDs")),
                }
            }
            pad_to(&mut blob, 4);
        }
        debug_assert!(blob.len() <= payloads_at as usize);
        blob.resize(payloads_at as usize, 0);
        blob.extend_from_slice(&payloads);
        let len = to_u32(blob.len());
        blob[8..12].copy_from_slice(&len.to_le_bytes());
        blob
    }
}

/// Bytes of a field's key pool.
fn pool_len(values: &FieldValues<'_>, encoding: KeyEncoding) -> usize {
    match encoding {
        KeyEncoding::Strings => values.iter().map(|(value, _)| value.len()).sum(),
        _ => (values.len() - encoding.leading_empty()) * UUID_LEN,
    }
}

/// `rows` sorted and without repeats (a copy only when they came out of order).
fn normalized(rows: &[u32]) -> Cow<'_, [u32]> {
    if rows.windows(2).all(|w| w[0] < w[1]) {
        return Cow::Borrowed(rows);
    }
    let mut rows = rows.to_vec();
    rows.sort_unstable();
    rows.dedup();
    Cow::Owned(rows)
}
