//! The key tables shared by parsing and rendering: which JSON key of each
//! API shape fills which slot, and the order in which the API server writes
//! keys (Go struct field order).
//!
//! Names are looked up with `match` on the key text: the compiler turns that
//! into a few length and byte comparisons, cheaper than hashing.

use crate::model::event::{IntField, StrField, TimeField};
use crate::model::presence::{Container, Slot};

/// A top-level key of an Event object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Top {
    Kind,
    ApiVersion,
    Container(Container),
    Leaf(Slot),
    /// `related`: known to both shapes, kept whole in the residual.
    Related,
}

use Container as C;
use Slot::{Int, Str, Time};

/// Keys that exist only in events.k8s.io: their presence marks an object
/// without `apiVersion` as that shape.
pub(crate) fn is_events_only_key(key: &str) -> bool {
    matches!(
        key,
        "regarding"
            | "note"
            | "reportingController"
            | "deprecatedSource"
            | "deprecatedFirstTimestamp"
            | "deprecatedLastTimestamp"
            | "deprecatedCount"
    )
}

/// Keys that only an Event has (either shape); an object without `kind`
/// must have one of them to be taken as an Event.
pub(crate) fn is_event_key(key: &str) -> bool {
    is_events_only_key(key)
        || matches!(
            key,
            "involvedObject"
                | "reason"
                | "message"
                | "source"
                | "firstTimestamp"
                | "lastTimestamp"
                | "count"
                | "eventTime"
                | "series"
                | "action"
                | "related"
                | "reportingComponent"
                | "reportingInstance"
        )
}

/// The meaning of a top-level key in the given group.
pub(crate) fn top_from_key(events: bool, key: &str) -> Option<Top> {
    let top = match key {
        "kind" => Top::Kind,
        "apiVersion" => Top::ApiVersion,
        "metadata" => Top::Container(C::Metadata),
        "reason" => Top::Leaf(Str(StrField::Reason)),
        "type" => Top::Leaf(Str(StrField::Type)),
        "action" => Top::Leaf(Str(StrField::Action)),
        "reportingInstance" => Top::Leaf(Str(StrField::ReportingInstance)),
        "eventTime" => Top::Leaf(Time(TimeField::EventTime)),
        "series" => Top::Container(C::Series),
        "related" => Top::Related,
        _ if events => match key {
            "regarding" => Top::Container(C::InvolvedObject),
            "note" => Top::Leaf(Str(StrField::Message)),
            "deprecatedSource" => Top::Container(C::Source),
            "deprecatedFirstTimestamp" => Top::Leaf(Time(TimeField::FirstTimestamp)),
            "deprecatedLastTimestamp" => Top::Leaf(Time(TimeField::LastTimestamp)),
            "deprecatedCount" => Top::Leaf(Int(IntField::Count)),
            "reportingController" => Top::Leaf(Str(StrField::ReportingComponent)),
            _ => return None,
        },
        _ => match key {
            "involvedObject" => Top::Container(C::InvolvedObject),
            "message" => Top::Leaf(Str(StrField::Message)),
            "source" => Top::Container(C::Source),
            "firstTimestamp" => Top::Leaf(Time(TimeField::FirstTimestamp)),
            "lastTimestamp" => Top::Leaf(Time(TimeField::LastTimestamp)),
            "count" => Top::Leaf(Int(IntField::Count)),
            "reportingComponent" => Top::Leaf(Str(StrField::ReportingComponent)),
            _ => return None,
        },
    };
    Some(top)
}

/// The spelling of a top-level key in the given group (the inverse of
/// [`top_from_key`]).
pub(crate) fn top_name(events: bool, top: Top) -> &'static str {
    match top {
        Top::Kind => "kind",
        Top::ApiVersion => "apiVersion",
        Top::Related => "related",
        Top::Container(c) => match (c, events) {
            (C::Metadata, _) => "metadata",
            (C::Series, _) => "series",
            (C::InvolvedObject, false) => "involvedObject",
            (C::InvolvedObject, true) => "regarding",
            (C::Source, false) => "source",
            (C::Source, true) => "deprecatedSource",
        },
        Top::Leaf(slot) => match (slot, events) {
            (Str(StrField::Message), false) => "message",
            (Str(StrField::Message), true) => "note",
            (Str(StrField::ReportingComponent), false) => "reportingComponent",
            (Str(StrField::ReportingComponent), true) => "reportingController",
            (Time(TimeField::FirstTimestamp), false) => "firstTimestamp",
            (Time(TimeField::FirstTimestamp), true) => "deprecatedFirstTimestamp",
            (Time(TimeField::LastTimestamp), false) => "lastTimestamp",
            (Time(TimeField::LastTimestamp), true) => "deprecatedLastTimestamp",
            (Int(IntField::Count), false) => "count",
            (Int(IntField::Count), true) => "deprecatedCount",
            (Str(StrField::Reason), _) => "reason",
            (Str(StrField::Type), _) => "type",
            (Str(StrField::Action), _) => "action",
            (Str(StrField::ReportingInstance), _) => "reportingInstance",
            (Time(TimeField::EventTime), _) => "eventTime",
            // Container leaves never appear at the top level.
            _ => "",
        },
    }
}

/// core/v1 `Event` keys in Go field order.
const CORE_ORDER: [Top; 17] = [
    Top::Kind,
    Top::ApiVersion,
    Top::Container(C::Metadata),
    Top::Container(C::InvolvedObject),
    Top::Leaf(Str(StrField::Reason)),
    Top::Leaf(Str(StrField::Message)),
    Top::Container(C::Source),
    Top::Leaf(Time(TimeField::FirstTimestamp)),
    Top::Leaf(Time(TimeField::LastTimestamp)),
    Top::Leaf(Int(IntField::Count)),
    Top::Leaf(Str(StrField::Type)),
    Top::Leaf(Time(TimeField::EventTime)),
    Top::Container(C::Series),
    Top::Leaf(Str(StrField::Action)),
    Top::Related,
    Top::Leaf(Str(StrField::ReportingComponent)),
    Top::Leaf(Str(StrField::ReportingInstance)),
];

/// events.k8s.io `Event` keys in Go field order.
const EVENTS_ORDER: [Top; 17] = [
    Top::Kind,
    Top::ApiVersion,
    Top::Container(C::Metadata),
    Top::Leaf(Time(TimeField::EventTime)),
    Top::Container(C::Series),
    Top::Leaf(Str(StrField::ReportingComponent)),
    Top::Leaf(Str(StrField::ReportingInstance)),
    Top::Leaf(Str(StrField::Action)),
    Top::Leaf(Str(StrField::Reason)),
    Top::Container(C::InvolvedObject),
    Top::Related,
    Top::Leaf(Str(StrField::Message)),
    Top::Leaf(Str(StrField::Type)),
    Top::Container(C::Source),
    Top::Leaf(Time(TimeField::FirstTimestamp)),
    Top::Leaf(Time(TimeField::LastTimestamp)),
    Top::Leaf(Int(IntField::Count)),
];

/// The top-level keys of a group in the order the API server writes them.
pub(crate) fn top_order(events: bool) -> &'static [Top] {
    if events {
        &EVENTS_ORDER
    } else {
        &CORE_ORDER
    }
}

/// The typed slot a key inside `container` fills (same in both groups).
pub(crate) fn leaf_from_key(container: Container, key: &str) -> Option<Slot> {
    let slot = match (container, key) {
        (C::Metadata, "name") => Str(StrField::MetadataName),
        (C::Metadata, "namespace") => Str(StrField::MetadataNamespace),
        (C::Metadata, "uid") => Str(StrField::MetadataUid),
        (C::Metadata, "resourceVersion") => Str(StrField::MetadataResourceVersion),
        (C::Metadata, "creationTimestamp") => Time(TimeField::CreationTimestamp),
        (C::InvolvedObject, "kind") => Str(StrField::InvolvedObjectKind),
        (C::InvolvedObject, "namespace") => Str(StrField::InvolvedObjectNamespace),
        (C::InvolvedObject, "name") => Str(StrField::InvolvedObjectName),
        (C::InvolvedObject, "uid") => Str(StrField::InvolvedObjectUid),
        (C::InvolvedObject, "apiVersion") => Str(StrField::InvolvedObjectApiVersion),
        (C::InvolvedObject, "resourceVersion") => Str(StrField::InvolvedObjectResourceVersion),
        (C::InvolvedObject, "fieldPath") => Str(StrField::InvolvedObjectFieldPath),
        (C::Source, "component") => Str(StrField::SourceComponent),
        (C::Source, "host") => Str(StrField::SourceHost),
        (C::Series, "count") => Int(IntField::SeriesCount),
        (C::Series, "lastObservedTime") => Time(TimeField::SeriesLastObservedTime),
        _ => return None,
    };
    Some(slot)
}

/// The keys of a container in Go field order, typed or not (untyped known
/// keys such as `labels` come from the residual but keep their place).
pub(crate) fn leaf_order(container: Container) -> &'static [&'static str] {
    match container {
        C::Metadata => &[
            "name",
            "generateName",
            "namespace",
            "selfLink",
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "labels",
            "annotations",
            "ownerReferences",
            "finalizers",
            "clusterName",
            "managedFields",
        ],
        C::InvolvedObject => &["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"],
        C::Source => &["component", "host"],
        C::Series => &["count", "lastObservedTime", "state"],
    }
}

/// True for `metav1.MicroTime` slots (written with 6 fractional digits);
/// the others are `metav1.Time` (whole seconds).
pub(crate) fn is_micro(field: TimeField) -> bool {
    matches!(field, TimeField::EventTime | TimeField::SeriesLastObservedTime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_lookups_are_inverse() {
        for events in [false, true] {
            for &top in top_order(events) {
                let name = top_name(events, top);
                assert_eq!(top_from_key(events, name), Some(top), "{name}");
            }
        }
        for c in [C::Metadata, C::InvolvedObject, C::Source, C::Series] {
            for &slot in c.slots() {
                let typed = leaf_order(c).iter().filter(|k| leaf_from_key(c, k) == Some(slot)).count();
                assert_eq!(typed, 1, "{slot:?}");
            }
        }
    }

    #[test]
    fn every_slot_has_exactly_one_key_per_group() {
        let mut slots: Vec<Slot> = Vec::new();
        for events in [false, true] {
            slots.clear();
            for &top in top_order(events) {
                match top {
                    Top::Leaf(s) => slots.push(s),
                    Top::Container(c) => slots.extend_from_slice(c.slots()),
                    _ => {}
                }
            }
            assert_eq!(slots.len(), StrField::COUNT + TimeField::COUNT + IntField::COUNT);
        }
    }
}
