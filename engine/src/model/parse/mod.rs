//! Parsing events from every format they are found in, into [`Event`]s.
//!
//! The format is detected from the content, never from a file name:
//!
//! | first non-blank line | read as |
//! |---|---|
//! | `{…}` on one line (or a broken first line followed by one) | NDJSON: each line on its own; a broken line costs only itself |
//! | any other line starting with `{` or `[` | a stream of JSON documents (one document, or several concatenated) |
//! | anything else | YAML, split into documents at `---` |
//!
//! Inside any of these, a document (or line) may be an Event, a list (an
//! array, or an object with an `items` array: `EventList`, `List`, lists
//! without `kind`), a watch event (`{"type":"ADDED","object":…}`; `BOOKMARK`
//! is skipped, `ERROR` is a record error) or an eventrouter line
//! (`{"verb":…,"event":…}`). Both API shapes are accepted; see
//! [`event_from_value`] for how one object becomes an [`Event`].
//!
//! Bad records are reported as [`RecordError`]s and skipped; the rest of the
//! input is kept. A syntax error in a JSON document stream is one error and
//! ends the stream (events read before it are kept).
//!
//! Submodules: `json` and `yaml` read the formats, `records` numbers records
//! and opens envelopes, `node` is the tree records are parsed into, `value`
//! turns one object into an [`Event`], `schema` holds the key tables (shared
//! with `render`), `locate` finds error lines and JSON document ends.

mod gofields;
mod json;
mod locate;
mod node;
mod records;
pub(crate) mod schema;
mod value;
mod yaml;

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::Range;

use serde_json::Value;

use self::records::{Ctx, Stop};
pub(crate) use self::value::{classify_time, TimeText};
use crate::model::event::Event;

/// Options for every parse function.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Keep `metadata.managedFields` (in the residual). Default: dropped, as
    /// they are large and of no use in an archive.
    pub keep_managed_fields: bool,
    /// Read a mixed dump (`kubectl cluster-info dump`, a must-gather file):
    /// records that are not Events at all (`not an Event: …`: other kinds,
    /// objects without Event fields) are counted in [`Parsed::skipped`]
    /// instead of being errors, and in a stream of JSON documents, text
    /// between documents (the dump's log sections) is skipped up to the next
    /// line that starts with `{`. Records that are Events but broken are
    /// still errors.
    pub events_only: bool,
}

/// A record of the input that did not become an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError {
    /// 0-based index of the record in the input: documents, NDJSON lines,
    /// array elements and list items, in input order.
    pub record: usize,
    /// 1-based line where the record starts, when known.
    pub line: Option<usize>,
    /// What is wrong, e.g. `not an Event: kind Pod`, `missing metadata`,
    /// `count: expected an int32 integer, got string "abc"`.
    pub message: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "record {} (line {line}): {}", self.record, self.message),
            None => write!(f, "record {}: {}", self.record, self.message),
        }
    }
}

impl std::error::Error for RecordError {}

/// Events and errors, both in input order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The events read.
    pub events: Vec<Event>,
    /// The records skipped.
    pub errors: Vec<RecordError>,
    /// Records that were not Events, skipped without an error (only with
    /// [`ParseOptions::events_only`]).
    pub skipped: usize,
}

impl Parsed {
    fn append(&mut self, mut other: Parsed) {
        if self.events.is_empty() {
            std::mem::swap(&mut self.events, &mut other.events);
        } else {
            self.events.append(&mut other.events);
        }
        self.errors.append(&mut other.errors);
        self.skipped += other.skipped;
    }
}

/// Converts one Event object (core/v1 or events.k8s.io, with or without
/// `kind`/`apiVersion`) into an [`Event`], moving its strings rather than
/// copying them.
///
/// Typed slots are filled from their keys; `null` and `{}` keys are noted in
/// the presence word (see `model::presence`); every key the slots cannot
/// reproduce exactly on render (unknown keys, labels, annotations, owner
/// references, non-canonical timestamp spellings, numbers where strings are
/// expected) goes into the residual under its original key path.
/// `managedFields` are dropped unless asked for. An event without any time
/// gets `metadata.creationTimestamp` = now, as the API server does on create.
///
/// Errors: another `kind` (`not an Event: kind Pod`), an unknown
/// `apiVersion`, a missing or non-object `metadata`, a key of the wrong type,
/// an unparseable timestamp, a count that is not an int32.
pub fn event_from_value(value: Value, opts: &ParseOptions) -> Result<Event, String> {
    value::event_from_node(node::Node::from(value), opts)
}

/// Converts one record into an [`Event`]: an Event object as
/// [`event_from_value`] takes it, or one in any envelope the parsers open —
/// a watch event, an eventrouter line, a Cloud Logging entry, an object in
/// Go field names (old `cluster-info dump`, kube-eventer's Elasticsearch
/// documents). A watch `BOOKMARK` is an error here: it holds no event.
pub fn event_from_record(value: Value, opts: &ParseOptions) -> Result<Event, String> {
    match records::open_envelope(node::Node::from(value)) {
        records::Envelope::Event(node) => value::event_from_node(node, opts),
        records::Envelope::Skip => Err("a watch BOOKMARK holds no event".to_owned()),
        records::Envelope::Fail(message) => Err(message),
    }
}

/// Parses a whole input held in memory (any format, see the module docs).
/// Never fails: bad records are in [`Parsed::errors`].
pub fn parse_bytes(input: &[u8], opts: &ParseOptions) -> Parsed {
    let input = input.strip_prefix(BOM).unwrap_or(input);
    let mut out = Parsed::default();
    let mut collect = |batch: Parsed| {
        out.append(batch);
        true
    };
    let mut ctx = Ctx::new(opts, usize::MAX, &mut collect);
    // NOTE: a collecting sink never refuses and a slice has no I/O, so
    // parsing cannot stop early.
    let _ = parse_slice(input, &mut ctx).and_then(|()| ctx.flush());
    out
}

/// Streams a possibly huge input (NDJSON, concatenated JSON, one JSON
/// document, YAML), handing batches of up to `batch` events (errors travel
/// with them; a batch may also be cut at `batch` errors) to `sink`. A sink
/// error stops parsing and is returned; so are I/O errors.
///
/// Gives the same events and errors, in the same order, as [`parse_bytes`]
/// on the same bytes. NDJSON is read line by line and YAML document by
/// document; a JSON document stream is cut into top-level documents, each
/// parsed as soon as its last byte arrives. Memory thus holds one batch plus
/// the bytes (not the parsed tree) of the largest line or document: a huge
/// `EventList` is held as bytes once, its items are built one at a time.
pub fn parse_reader<R: Read, E: From<io::Error>>(
    reader: R,
    opts: &ParseOptions,
    batch: usize,
    mut sink: impl FnMut(Parsed) -> Result<(), E>,
) -> Result<(), E> {
    let mut failure: Option<E> = None;
    let mut forward = |parsed: Parsed| match sink(parsed) {
        Ok(()) => true,
        Err(e) => {
            failure = Some(e);
            false
        }
    };
    let mut ctx = Ctx::new(opts, batch, &mut forward);
    let result = parse_stream(reader, &mut ctx).and_then(|()| ctx.flush());
    drop(ctx);
    match result {
        Ok(()) => Ok(()),
        Err(Stop::Io(e)) => Err(E::from(e)),
        Err(Stop::Sink) => failure.map_or(Ok(()), Err),
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Empty,
    JsonLines,
    JsonDocuments,
    Yaml,
}

/// Picks the format from the first two non-blank lines.
fn detect(first: Option<&[u8]>, second: Option<&[u8]>) -> Mode {
    let Some(first) = first.map(<[u8]>::trim_ascii) else {
        return Mode::Empty;
    };
    let one_line_object = |l: &[u8]| l.starts_with(b"{") && l.ends_with(b"}");
    match first.first() {
        Some(b'{') if one_line_object(first) || second.map(<[u8]>::trim_ascii).is_some_and(one_line_object) => {
            Mode::JsonLines
        }
        Some(b'{' | b'[') => Mode::JsonDocuments,
        Some(_) => Mode::Yaml,
        None => Mode::Empty,
    }
}

fn non_blank(line: &&[u8]) -> bool {
    !line.trim_ascii().is_empty()
}

/// One NDJSON line (1-based `number`): a broken line costs only itself.
fn json_line(ctx: &mut Ctx<'_>, number: usize, line: &[u8]) -> Result<(), Stop> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    json::parse_json(line, number, 1, ctx).map(drop)
}

fn parse_slice(input: &[u8], ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    let lines = || input.split(|&b| b == b'\n');
    let mut content = lines().filter(non_blank);
    match detect(content.next(), content.next()) {
        Mode::Empty => Ok(()),
        Mode::JsonLines => lines().enumerate().try_for_each(|(i, line)| json_line(ctx, i + 1, line)),
        // A dump resynchronises after text between documents, which the
        // stream reader does.
        Mode::JsonDocuments if ctx.opts().events_only => json::parse_json_stream(Vec::new(), input, ctx),
        Mode::JsonDocuments => json::parse_json(input, 1, 1, ctx).map(drop),
        Mode::Yaml => {
            let mut docs = yaml::YamlDocs::default();
            let lines = input.split_inclusive(|&b| b == b'\n');
            lines.enumerate().try_for_each(|(i, line)| docs.line(ctx, i + 1, line))?;
            docs.finish(ctx)
        }
    }
}

/// Reads one line (with its `\n`) onto `buf`; `None` at the end of input.
fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<Option<Range<usize>>> {
    let start = buf.len();
    let n = input.read_until(b'\n', buf)?;
    Ok((n > 0).then_some(start..buf.len()))
}

fn parse_stream(reader: impl Read, ctx: &mut Ctx<'_>) -> Result<(), Stop> {
    let mut input = BufReader::with_capacity(1 << 16, reader);
    // Read just enough lines to detect the format; they are replayed below.
    let mut head = Vec::new();
    let mut lines: Vec<Range<usize>> = Vec::new();
    let mut content: Vec<Range<usize>> = Vec::new();
    while content.len() < 2 {
        let Some(mut range) = read_line(&mut input, &mut head)? else {
            break;
        };
        if lines.is_empty() && head.starts_with(BOM) {
            head.drain(..BOM.len());
            range = 0..head.len();
        }
        lines.push(range.clone());
        let line = head.get(range.clone()).unwrap_or_default();
        if non_blank(&line) {
            // Only a first line that opens an object without closing it
            // needs the second line to decide.
            let open = line.trim_ascii().starts_with(b"{") && !line.trim_ascii().ends_with(b"}");
            content.push(range);
            if !open {
                break;
            }
        }
    }
    let line_of = |r: &Range<usize>| head.get(r.clone());
    let mode = detect(content.first().and_then(line_of), content.get(1).and_then(line_of));
    match mode {
        Mode::Empty => Ok(()),
        Mode::JsonDocuments => json::parse_json_stream(head, input, ctx),
        Mode::JsonLines | Mode::Yaml => {
            let mut yaml = (mode == Mode::Yaml).then(yaml::YamlDocs::default);
            let mut feed = |ctx: &mut Ctx<'_>, number: usize, line: &[u8]| match yaml.as_mut() {
                Some(docs) => docs.line(ctx, number, line),
                None => json_line(ctx, number, line),
            };
            for (i, range) in lines.iter().enumerate() {
                feed(ctx, i + 1, head.get(range.clone()).unwrap_or_default())?;
            }
            let mut number = lines.len();
            let mut buf = Vec::new();
            loop {
                buf.clear();
                if read_line(&mut input, &mut buf)?.is_none() {
                    break;
                }
                number += 1;
                feed(ctx, number, &buf)?;
            }
            match yaml.as_mut() {
                Some(docs) => docs.finish(ctx),
                None => Ok(()),
            }
        }
    }
}
