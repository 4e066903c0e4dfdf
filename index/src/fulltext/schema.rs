//! The tantivy schema of the full-text index: one pre-tokenized text field
//! with positions (for phrases) and a `u64` fast field `ord` holding the
//! document's message number (its entry in the blob's row map).

use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};

/// The schema and its two fields.
#[derive(Debug, Clone)]
pub(crate) struct IndexSchema {
    pub(crate) schema: Schema,
    /// The message's tokens (pre-tokenized by `tokenize`, so tantivy's own
    /// tokenizer named here is never run).
    pub(crate) text: tantivy::schema::Field,
    /// The message number.
    pub(crate) ord: tantivy::schema::Field,
}

pub(crate) const TEXT_FIELD: &str = "text";
pub(crate) const ORD_FIELD: &str = "ord";

impl IndexSchema {
    pub(crate) fn new() -> Self {
        let mut builder = Schema::builder();
        let indexing = TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions)
            .set_fieldnorms(false);
        let text = builder.add_text_field(TEXT_FIELD, TextOptions::default().set_indexing_options(indexing));
        let ord = builder.add_u64_field(ORD_FIELD, FAST);
        IndexSchema { schema: builder.build(), text, ord }
    }

    /// The fields of an opened index's schema.
    pub(crate) fn of(schema: &Schema) -> Option<Self> {
        Some(IndexSchema {
            schema: schema.clone(),
            text: schema.get_field(TEXT_FIELD).ok()?,
            ord: schema.get_field(ORD_FIELD).ok()?,
        })
    }
}
