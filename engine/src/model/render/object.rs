//! Building the JSON object of an [`Event`] in a given shape: typed slots in
//! their canonical spelling, `null`/`{}` keys from the presence word, and
//! the residual merged back, all in the API server's key order.
//!
//! **Invariant:** a residual entry for a typed key wins only while it still
//! denotes the slot's value (the same instant, the same text); an event
//! changed in code after parsing renders its new value, never a stale
//! spelling.

use serde_json::{Map, Value};

use crate::model::event::{ApiShape, Event};
use crate::model::parse::schema::{self, Top};
use crate::model::parse::{classify_time, TimeText};
use crate::model::presence::{self, Container, Slot};
use crate::model::time::{format_micro_time, format_time};

/// Renders `event` in `shape`. `kind` and `apiVersion` follow the presence
/// word when the shape is the event's own and `always_type_meta` is false;
/// otherwise they are always written.
pub(super) fn render(event: &Event, shape: ApiShape, always_type_meta: bool) -> Value {
    let own = shape == event.shape() && !always_type_meta;
    let from_events = event.shape().is_events_group();
    let to_events = shape.is_events_group();
    let p = event.presence().0;
    let mut residual: Map<String, Value> = match event.residual() {
        // A residual that does not parse is ignored rather than fatal: the
        // typed slots still render.
        Some(text) => serde_json::from_str(text).unwrap_or_default(),
        None => Map::new(),
    };
    let mut out = Map::new();
    for &top in schema::top_order(to_events) {
        let kept = residual.shift_remove(schema::top_name(from_events, top));
        let value = match top {
            Top::Kind => type_meta(own, kept, p & presence::KIND != 0, "Event"),
            Top::ApiVersion => type_meta(own, kept, p & presence::API_VERSION != 0, shape.api_version()),
            Top::Container(c) => container(event, p, c, kept),
            Top::Leaf(slot) => leaf(event, p, slot, kept),
            Top::Related => kept,
        };
        if let Some(value) = value {
            out.insert(schema::top_name(to_events, top).to_owned(), value);
        }
    }
    // Unknown keys keep their input order, after the known ones.
    for (key, value) in residual {
        out.entry(key).or_insert(value);
    }
    Value::Object(out)
}

fn type_meta(own: bool, kept: Option<Value>, present: bool, text: &str) -> Option<Value> {
    if !own {
        return Some(Value::String(text.to_owned()));
    }
    kept.or_else(|| present.then(|| Value::String(text.to_owned())))
}

fn container(event: &Event, p: u64, c: Container, kept: Option<Value>) -> Option<Value> {
    let mut rest = match kept {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let mut object = Map::new();
    for &key in schema::leaf_order(c) {
        let kept = rest.shift_remove(key);
        let value = match schema::leaf_from_key(c, key) {
            Some(slot) => leaf(event, p, slot, kept),
            None => kept,
        };
        if let Some(value) = value {
            object.insert(key.to_owned(), value);
        }
    }
    for (key, value) in rest {
        object.entry(key).or_insert(value);
    }
    if !object.is_empty() || c == Container::Metadata || p & presence::empty_bit(c) != 0 {
        Some(Value::Object(object))
    } else if p & presence::container_null_bit(c) != 0 {
        Some(Value::Null)
    } else {
        None
    }
}

/// True when a kept spelling still denotes the string slot's value.
fn same_str(kept: &Value, slot: Option<&str>) -> bool {
    match (kept, slot) {
        (Value::String(s), Some(slot)) => s == slot,
        (Value::Number(n), Some(slot)) => n.to_string() == slot,
        (Value::Bool(b), Some(slot)) => (if *b { "true" } else { "false" }) == slot,
        _ => false,
    }
}

fn leaf(event: &Event, p: u64, slot: Slot, kept: Option<Value>) -> Option<Value> {
    let value = match slot {
        Slot::Str(f) => {
            let current = event.str(f);
            match kept {
                Some(kept) if same_str(&kept, current) => Some(kept),
                _ => current.map(|s| Value::String(s.to_owned())),
            }
        }
        Slot::Time(f) => {
            let current = event.time(f);
            let micro = schema::is_micro(f);
            let denotes = |s: &str| match classify_time(s, micro) {
                TimeText::Canonical(t) | TimeText::Other(t) => Some(t) == current,
                TimeText::Empty => current.is_none(),
                TimeText::Invalid => false,
            };
            match kept {
                Some(Value::String(s)) if denotes(&s) => Some(Value::String(s)),
                _ => current.map(|t| Value::String(if micro { format_micro_time(t) } else { format_time(t) })),
            }
        }
        Slot::Int(f) => event.int(f).map(Value::from),
    };
    value.or_else(|| (p & presence::null_bit(slot) != 0).then_some(Value::Null))
}
