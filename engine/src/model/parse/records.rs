//! Records and where they come from: the collector every input format feeds,
//! and the envelopes around events (lists, watch events, eventrouter lines,
//! Cloud Logging entries, Go-named dumps).
//!
//! A *record* is one unit of input that should hold an event: a document, an
//! NDJSON line, an array element, a list item. Records are numbered from 0 in
//! input order, whether they become an event, an error, or (a watch
//! `BOOKMARK`) nothing; empty YAML documents and blank lines are not records.

use std::mem;

use super::node::{self, Node};
use super::{gofields, value, ParseOptions, Parsed, RecordError};

/// Why parsing stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The sink refused a batch; its error is held by the caller.
    Sink,
    /// Reading the input failed.
    Io(std::io::Error),
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Stop {
        Stop::Io(e)
    }
}

/// What a record holds once its envelope is taken off.
pub(crate) enum Envelope {
    Event(Node),
    Skip,
    Fail(String),
}

/// Takes the event out of a watch event (`{"type":"ADDED","object":…}`), an
/// eventrouter line (`{"verb":…,"event":…}`) or a Cloud Logging entry whose
/// `jsonPayload` is an Event, and rewrites a Go-named event (see
/// `gofields`); anything else is the event.
pub(crate) fn open_envelope(value: Node) -> Envelope {
    let Node::Object(mut map) = value else {
        return Envelope::Event(value);
    };
    if node::get(&map, "object").is_some() {
        match node::get(&map, "type").and_then(Node::as_str) {
            Some("ADDED" | "MODIFIED" | "DELETED") => {
                return Envelope::Event(node::remove(&mut map, "object").unwrap_or(Node::Null));
            }
            Some("BOOKMARK") => return Envelope::Skip,
            Some("ERROR") => {
                let status = node::get(&map, "object");
                let text = match status.and_then(|s| s.get("message")).and_then(Node::as_str) {
                    Some(m) => m.to_owned(),
                    None => status.and_then(|s| serde_json::to_string(s).ok()).unwrap_or_default(),
                };
                return Envelope::Fail(format!("watch ERROR: {text}"));
            }
            _ => {}
        }
    }
    let verb = node::get(&map, "verb").and_then(Node::as_str).is_some();
    if verb && matches!(node::get(&map, "event"), Some(Node::Object(_))) {
        return Envelope::Event(node::remove(&mut map, "event").unwrap_or(Node::Null));
    }
    let payload_kind = node::get(&map, "jsonPayload").and_then(|p| p.get("kind")).and_then(Node::as_str);
    if payload_kind == Some("Event") {
        return Envelope::Event(node::remove(&mut map, "jsonPayload").unwrap_or(Node::Null));
    }
    if gofields::is_go_event(&map) {
        return Envelope::Event(Node::Object(gofields::normalize(map)));
    }
    Envelope::Event(Node::Object(map))
}

/// The key holding the items of a list document: `items`, or `Items` in a
/// Go-named dump.
pub(crate) fn list_key(map: &[(String, Node)]) -> Option<&'static str> {
    ["items", "Items"].into_iter().find(|key| matches!(node::get(map, key), Some(Node::Array(_))))
}

/// The sink of every format driver: numbers records, converts them, and
/// hands batches to the caller.
pub(crate) struct Ctx<'a> {
    opts: &'a ParseOptions,
    batch: usize,
    out: Parsed,
    sink: &'a mut dyn FnMut(Parsed) -> bool,
    next_record: usize,
    /// Set once the sink has refused a batch; drivers stop at once.
    pub(crate) stopped: bool,
}

impl<'a> Ctx<'a> {
    /// A collector handing batches of up to `batch` events (or errors) to
    /// `sink`, which returns false to stop.
    pub(crate) fn new(opts: &'a ParseOptions, batch: usize, sink: &'a mut dyn FnMut(Parsed) -> bool) -> Ctx<'a> {
        Ctx { opts, batch: batch.max(1), out: Parsed::default(), sink, next_record: 0, stopped: false }
    }

    /// The options in force.
    pub(crate) fn opts(&self) -> &ParseOptions {
        self.opts
    }

    /// A whole document: the items of a list (an array, or an object with an
    /// `items` array, or `Items` in a Go-named dump) are records; anything
    /// else is one record. `item_line`
    /// finds an item's line, and is called only for items in error.
    pub(crate) fn doc(
        &mut self,
        value: Node,
        doc_line: Option<usize>,
        item_line: &mut dyn FnMut(usize) -> Option<usize>,
    ) -> Result<(), Stop> {
        let items = match value {
            Node::Array(items) => items,
            Node::Object(mut map) if list_key(&map).is_some() => {
                match list_key(&map).and_then(|key| node::remove(&mut map, key)) {
                    Some(Node::Array(items)) => items,
                    _ => Vec::new(),
                }
            }
            other => return self.record(other, &mut || doc_line),
        };
        for (k, item) in items.into_iter().enumerate() {
            self.record(item, &mut || item_line(k))?;
        }
        Ok(())
    }

    /// One record: an event, possibly in a watch or eventrouter envelope.
    /// `line` finds where it starts; it is called only if the record fails.
    pub(crate) fn record(&mut self, value: Node, line: &mut dyn FnMut() -> Option<usize>) -> Result<(), Stop> {
        let index = self.next_record;
        self.next_record += 1;
        let result = match open_envelope(value) {
            Envelope::Event(v) => value::event_from_node(v, self.opts),
            Envelope::Skip => return Ok(()),
            Envelope::Fail(message) => Err(message),
        };
        if self.opts.events_only && result.as_ref().is_err_and(|m| m.starts_with(value::NOT_AN_EVENT)) {
            self.out.skipped += 1;
            return Ok(());
        }
        match result {
            Ok(event) => {
                self.out.events.push(event);
                if self.out.events.len() >= self.batch {
                    return self.flush();
                }
                Ok(())
            }
            Err(message) => self.push_error(index, line(), message),
        }
    }

    /// A record that could not even be read (broken syntax).
    pub(crate) fn error(&mut self, line: Option<usize>, message: String) -> Result<(), Stop> {
        let index = self.next_record;
        self.next_record += 1;
        self.push_error(index, line, message)
    }

    fn push_error(&mut self, record: usize, line: Option<usize>, message: String) -> Result<(), Stop> {
        self.out.errors.push(RecordError { record, line, message });
        if self.out.errors.len() >= self.batch {
            return self.flush();
        }
        Ok(())
    }

    /// Hands what is pending to the sink.
    pub(crate) fn flush(&mut self) -> Result<(), Stop> {
        if self.out.events.is_empty() && self.out.errors.is_empty() && self.out.skipped == 0 {
            return Ok(());
        }
        if (self.sink)(mem::take(&mut self.out)) {
            Ok(())
        } else {
            self.stopped = true;
            Err(Stop::Sink)
        }
    }
}
