//! JSON input: top-level documents (one, or several concatenated) and NDJSON
//! lines, all parsed from byte slices with serde_json.
//!
//! Documents are not built whole: the `items` of a list and the elements of
//! a top-level array are handed on one at a time as serde_json reads them,
//! and `metadata.managedFields` is skipped without being built unless kept.
//! A reader is cut into top-level documents first (see
//! [`parse_json_stream`]), so the fast slice parser serves it too.
//! A syntax error ends a document stream (one error; there is no telling
//! where the next document starts); in NDJSON it costs only its own line.

use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::locate::{self, JsonLocator, ValueEnd};
use super::node::{self, Entries, Node, NodeVisitor};
use super::records::{Ctx, Stop};

/// How a slice ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every document was read.
    Complete,
    /// A syntax error was reported; nothing after it can be read.
    Broken,
}

/// serde_json's message without its ` at line L column C` suffix.
pub(crate) fn strip_location(message: String) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    }
}

/// Parses every top-level JSON document of `input`, whose first byte is at
/// `first_line`, `first_column` of the whole input.
pub(crate) fn parse_json(
    input: &[u8],
    first_line: usize,
    first_column: usize,
    ctx: &mut Ctx<'_>,
) -> Result<Outcome, Stop> {
    let keep = ctx.opts().keep_managed_fields;
    let mut locator = JsonLocator::new(input, first_line);
    let mut de = serde_json::Deserializer::from_slice(input);
    for doc in 0.. {
        if de.end().is_ok() {
            break;
        }
        let seed = DocSeed { ctx: &mut *ctx, locator: &mut locator, doc, keep };
        if let Err(e) = seed.deserialize(&mut de) {
            if ctx.stopped {
                return Err(Stop::Sink);
            }
            let line = first_line + e.line().saturating_sub(1);
            let column = if e.line() <= 1 { first_column + e.column().saturating_sub(1) } else { e.column() };
            let message = format!("invalid JSON: {} at line {line} column {column}", strip_location(e.to_string()));
            ctx.error(locator.doc_line(doc), message)?;
            return Ok(Outcome::Broken);
        }
    }
    Ok(Outcome::Complete)
}

/// The offset of the next line at or after `from` that starts with `{`.
fn next_document_line(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    rest.windows(2).position(|w| w == b"\n{").map(|i| from + i + 1)
}

/// Moves `line`/`column` past `bytes`.
fn advance(bytes: &[u8], line: &mut usize, column: &mut usize) {
    match bytes.iter().rposition(|&b| b == b'\n') {
        Some(last) => {
            *line += bytes.iter().filter(|&&b| b == b'\n').count();
            *column = bytes.len() - last;
        }
        None => *column += bytes.len(),
    }
}

/// Reads top-level JSON documents from `reader` (after the bytes already in
/// `buf`), each parsed as a slice as soon as it is complete. Memory holds one
/// document's bytes at a time, never its parsed tree.
///
/// In a dump ([`ParseOptions::events_only`](super::ParseOptions)), text
/// outside the documents (and a broken document) is skipped up to the next
/// line starting with `{`; only the first document may be an array (log
/// lines often start with `[`).
pub(crate) fn parse_json_stream(mut buf: Vec<u8>, mut reader: impl Read, ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    let dump = ctx.opts().events_only;
    let (mut line, mut column) = (1, 1);
    let mut start = 0;
    let mut scan = ValueEnd::default();
    let mut eof = false;
    let mut documents = 0usize;
    loop {
        let value_start = locate::skip_ws(&buf, start);
        advance(buf.get(start..value_start).unwrap_or_default(), &mut line, &mut column);
        start = value_start;
        let opens_document = |b: &u8| *b == b'{' || (*b == b'[' && documents == 0);
        if dump && buf.get(start).is_some_and(|b| !opens_document(b)) {
            // Text between the documents of a dump: skip to the next line
            // that opens one.
            match next_document_line(&buf, start) {
                Some(next) => {
                    advance(buf.get(start..next).unwrap_or_default(), &mut line, &mut column);
                    start = next;
                    continue;
                }
                None if eof => return Ok(()),
                None => {
                    // Keep the last byte: it may be the newline before `{`.
                    let keep = buf.len().saturating_sub(1).max(start);
                    advance(buf.get(start..keep).unwrap_or_default(), &mut line, &mut column);
                    start = keep;
                }
            }
        } else if let Some(end) = scan.find(&buf, start) {
            let doc = buf.get(start..end).unwrap_or_default();
            documents += 1;
            if parse_json(doc, line, column, ctx)? == Outcome::Broken {
                if !dump {
                    return Ok(());
                }
                // A dump goes on at the next line that opens a document.
                let next = next_document_line(&buf, start + 1).unwrap_or(end).max(start + 1);
                advance(buf.get(start..next).unwrap_or_default(), &mut line, &mut column);
                start = next;
                scan = ValueEnd::default();
                continue;
            }
            advance(doc, &mut line, &mut column);
            start = end;
            continue;
        } else if eof {
            // An unfinished document: the parser reports what is wrong.
            parse_json(buf.get(start..).unwrap_or_default(), line, column, ctx)?;
            return Ok(());
        }
        buf.drain(..start);
        scan.shift(start);
        start = 0;
        // Read what is available (a live stream must not wait for a full
        // buffer), growing the buffer as a document grows.
        let have = buf.len();
        buf.resize(have + have.max(1 << 16), 0);
        let n = reader.read(buf.get_mut(have..).unwrap_or_default());
        buf.truncate(have + *n.as_ref().unwrap_or(&0));
        match n {
            Ok(0) => eof = true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Stop::Io(e)),
        }
    }
}

fn stopped<E: de::Error>(_: Stop) -> E {
    // Only a refusing sink stops a record; the context remembers it.
    E::custom("parsing stopped by the sink")
}

/// What a map key of a record holds: the record's `metadata` loses its
/// `managedFields` without building them; the envelopes' `object`/`event`
/// are records themselves.
#[derive(Clone, Copy, Debug)]
enum Level {
    Record,
    Metadata,
}

/// Deserializes one record into a [`Node`], skipping `managedFields`.
#[derive(Clone, Copy, Debug)]
struct RecordSeed {
    level: Level,
    keep: bool,
}

fn record_member<'de, A: MapAccess<'de>>(
    map: &mut A,
    key: &str,
    level: Level,
    keep: bool,
) -> Result<Option<Node>, A::Error> {
    match (level, key) {
        (Level::Metadata, "managedFields") if !keep => {
            map.next_value::<IgnoredAny>()?;
            Ok(None)
        }
        (Level::Record, "metadata") => map.next_value_seed(RecordSeed { level: Level::Metadata, keep }).map(Some),
        (Level::Record, "object" | "event") => map.next_value_seed(RecordSeed { level, keep }).map(Some),
        _ => map.next_value::<Node>().map(Some),
    }
}

impl<'de> DeserializeSeed<'de> for RecordSeed {
    type Value = Node;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// The non-map cases of building a [`Node`], shared by the visitors.
macro_rules! visit_plain_values {
    ($wrap:expr) => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            NodeVisitor.visit_bool(v).map($wrap)
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            NodeVisitor.visit_i64(v).map($wrap)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            NodeVisitor.visit_u64(v).map($wrap)
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            NodeVisitor.visit_f64(v).map($wrap)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            NodeVisitor.visit_str(v).map($wrap)
        }

        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            NodeVisitor.visit_string(v).map($wrap)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            NodeVisitor.visit_unit().map($wrap)
        }
    };
}

impl<'de> Visitor<'de> for RecordSeed {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    visit_plain_values!(std::convert::identity);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Node, A::Error> {
        NodeVisitor.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut object = Entries::new();
        while let Some(key) = map.next_key::<String>()? {
            if let Some(value) = record_member(&mut map, &key, self.level, self.keep)? {
                node::insert(&mut object, key, value);
            }
        }
        Ok(Node::Object(object))
    }
}

/// Hands each element of a sequence on as a record.
fn stream_elements<'de, A: SeqAccess<'de>>(
    mut seq: A,
    ctx: &mut Ctx<'_>,
    locator: &mut JsonLocator<'_>,
    doc: usize,
    keep: bool,
) -> Result<(), A::Error> {
    let seed = RecordSeed { level: Level::Record, keep };
    for item in 0.. {
        let Some(value) = seq.next_element_seed(seed)? else {
            break;
        };
        ctx.record(value, &mut || locator.item_line(doc, item)).map_err(stopped)?;
    }
    Ok(())
}

/// A top-level document.
struct DocSeed<'c, 'a, 'i> {
    ctx: &'c mut Ctx<'a>,
    locator: &'c mut JsonLocator<'i>,
    doc: usize,
    keep: bool,
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl DocSeed<'_, '_, '_> {
    fn not_a_document<E: de::Error>(self, value: Node) -> Result<(), E> {
        let message = format!("expected a JSON object or array, got {}", value.type_name());
        self.ctx.error(self.locator.doc_line(self.doc), message).map_err(stopped)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object or array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut object = Entries::new();
        let mut listed = false;
        while let Some(key) = map.next_key::<String>()? {
            if (key == "items" || key == "Items") && !listed {
                let seed =
                    ItemsSeed { ctx: &mut *self.ctx, locator: &mut *self.locator, doc: self.doc, keep: self.keep };
                match map.next_value_seed(seed)? {
                    Some(value) => node::insert(&mut object, key, value),
                    None => listed = true,
                }
            } else if let Some(value) = record_member(&mut map, &key, Level::Record, self.keep)? {
                node::insert(&mut object, key, value);
            }
        }
        if listed {
            // A list: its items were records; its own metadata is not.
            return Ok(());
        }
        let (locator, doc) = (self.locator, self.doc);
        self.ctx.record(Node::Object(object), &mut || locator.doc_line(doc)).map_err(stopped)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        stream_elements(seq, self.ctx, self.locator, self.doc, self.keep)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.not_a_document(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.not_a_document(Node::Number(0.into()))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.not_a_document(Node::Number(0.into()))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.not_a_document(Node::Number(0.into()))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.not_a_document(Node::String(String::new()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.not_a_document(Node::Null)
    }
}

/// The value of an `items` key: streamed when it is an array (`None`),
/// otherwise returned as an ordinary value.
struct ItemsSeed<'c, 'a, 'i> {
    ctx: &'c mut Ctx<'a>,
    locator: &'c mut JsonLocator<'i>,
    doc: usize,
    keep: bool,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_, '_, '_> {
    type Value = Option<Node>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Option<Node>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_, '_, '_> {
    type Value = Option<Node>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    visit_plain_values!(Some);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<Node>, A::Error> {
        stream_elements(seq, self.ctx, self.locator, self.doc, self.keep).map(|()| None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Node>, A::Error> {
        NodeVisitor.visit_map(map).map(Some)
    }
}
