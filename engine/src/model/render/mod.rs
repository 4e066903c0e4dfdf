//! Rendering [`Event`]s back to Kubernetes JSON and YAML, in their own API
//! shape or converted to the other one.
//!
//! In its own shape an event renders to exactly the object it was parsed
//! from (less `managedFields`), compared as JSON values. In the other shape
//! keys are renamed as the API server's conversion does (see the table in
//! `model::event`), residual keys included, and `kind`/`apiVersion` are
//! always written; converting core/v1 → events.k8s.io → core/v1 gives the
//! original back. Keys come in the order the API server writes them; keys
//! it does not know follow, in their input order.

mod object;

use serde_json::{Map, Value};

use crate::model::event::{ApiShape, Event};

/// Options for [`to_value_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Write `kind` and `apiVersion` even when rendering in the event's own
    /// shape and they were absent from its input (as in list items).
    pub always_type_meta: bool,
}

/// The event as a JSON value in `shape`.
pub fn to_value(event: &Event, shape: ApiShape) -> Value {
    object::render(event, shape, false)
}

/// The event as a JSON value in `shape`, with options.
pub fn to_value_with(event: &Event, shape: ApiShape, options: &RenderOptions) -> Value {
    object::render(event, shape, options.always_type_meta)
}

/// The event as compact JSON.
pub fn to_json(event: &Event, shape: ApiShape) -> String {
    to_value(event, shape).to_string()
}

/// The event as indented JSON.
pub fn to_json_pretty(event: &Event, shape: ApiShape) -> String {
    format!("{:#}", to_value(event, shape))
}

/// The event as a YAML document (without a leading `---`).
pub fn to_yaml(event: &Event, shape: ApiShape) -> String {
    // NOTE: a JSON value always has string keys, so YAML serialisation
    // cannot fail; an empty string would only hide a serde_norway bug.
    serde_norway::to_string(&to_value(event, shape)).unwrap_or_default()
}

/// An `EventList` in `shape`: `{"kind":"EventList","apiVersion":…,
/// "metadata":{},"items":[…]}`, each item carrying `kind` and `apiVersion`
/// as `kubectl get -o json` shows them.
pub fn list_to_value(events: &[Event], shape: ApiShape) -> Value {
    let items = events.iter().map(|e| object::render(e, shape, true)).collect();
    let mut list = Map::new();
    list.insert("kind".to_owned(), Value::from("EventList"));
    list.insert("apiVersion".to_owned(), Value::from(shape.api_version()));
    list.insert("metadata".to_owned(), Value::Object(Map::new()));
    list.insert("items".to_owned(), Value::Array(items));
    Value::Object(list)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::model::event::{IntField, Presence, StrField, TimeField, Timestamp};
    use crate::model::parse::{event_from_value, ParseOptions};
    use crate::model::presence::{self, normalize};

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

        /// Any normal presence word (random bits, then [`normalize`]d)
        /// survives render → parse, whatever the slots hold.
        #[test]
        fn every_normal_presence_word_round_trips(
            bits in any::<u64>(),
            shape_tag in 0u8..3,
            strs in prop::collection::vec(prop::option::of("[a-z]{0,3}"), StrField::COUNT),
            times in prop::collection::vec(prop::option::weighted(0.3, 0i64..2_000_000_000), TimeField::COUNT),
            ints in prop::collection::vec(prop::option::weighted(0.3, any::<i32>()), IntField::COUNT),
        ) {
            let shape = ApiShape::from_tag(shape_tag).unwrap_or_default();
            let mut event = Event::new(shape);
            for (&f, s) in StrField::ALL.iter().zip(strs) {
                event.set_str(f, s);
            }
            for (&f, t) in TimeField::ALL.iter().zip(times) {
                event.set_time(f, t.map(Timestamp::from_secs));
            }
            event.set_time(TimeField::CreationTimestamp, Some(Timestamp::from_secs(1_600_000_000)));
            for (&f, i) in IntField::ALL.iter().zip(ints) {
                event.set_int(f, i.map(i64::from));
            }
            // Without kind and apiVersion the shape is only inferred.
            event.presence = Presence(bits | presence::KIND | presence::API_VERSION);
            event.presence = normalize(&event);
            let back = event_from_value(to_value(&event, shape), &ParseOptions::default());
            prop_assert_eq!(back, Ok(event));
        }
    }

    #[test]
    fn a_residual_for_a_typed_key_is_used_only_while_it_matches_the_slot() {
        let input = serde_json::json!({
            "kind": "Event",
            "metadata": {"name": 7, "creationTimestamp": "2020-01-01T02:00:00+02:00"},
        });
        let mut event = event_from_value(input.clone(), &ParseOptions::default()).expect("valid");
        assert_eq!(to_value(&event, ApiShape::CoreV1), input);
        event.set_str(StrField::MetadataName, Some("seven"));
        event.set_time(TimeField::CreationTimestamp, Some(Timestamp::from_secs(0)));
        let v = to_value(&event, ApiShape::CoreV1);
        assert_eq!(v["metadata"]["name"], "seven");
        assert_eq!(v["metadata"]["creationTimestamp"], "1970-01-01T00:00:00Z");
    }

    #[test]
    fn lists_carry_type_meta_on_every_item() {
        let bare =
            serde_json::json!({"metadata": {"name": "a", "creationTimestamp": "2020-01-01T00:00:00Z"}, "reason": "R"});
        let event = event_from_value(bare.clone(), &ParseOptions::default()).expect("valid");
        assert_eq!(to_value(&event, ApiShape::CoreV1), bare, "own shape: no kind added");
        let list = list_to_value(&[event.clone(), event], ApiShape::EventsV1);
        assert_eq!(list["kind"], "EventList");
        assert_eq!(list["apiVersion"], "events.k8s.io/v1");
        assert_eq!(list["items"][1]["kind"], "Event");
        assert_eq!(list["items"][1]["apiVersion"], "events.k8s.io/v1");
        let keys: Vec<&String> = list.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        assert_eq!(keys, ["kind", "apiVersion", "metadata", "items"]);
    }
}
