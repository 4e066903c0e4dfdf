//! The normalised Kubernetes event: one model for core/v1 and events.k8s.io/v1.
//!
//! An [`Event`] is a fixed set of typed slots (strings, timestamps, integers)
//! named as core/v1 spells them, plus:
//! - the [`ApiShape`] it arrived in, so it renders back to that shape by default;
//! - a [`Presence`] word recording keys that were present but empty or `null`
//!   (so `"eventTime": null` and `"source": {}` survive a round trip);
//! - a *residual*: a compact JSON object holding every key the typed slots do
//!   not model exactly (labels, annotations, ownerReferences, unknown fields,
//!   non-canonical spellings). Rendering merges it back over the typed slots.
//!
//! The storage engine sees only the slots; only `model` knows Kubernetes JSON.
//! The mapping between the two API shapes follows the API server's conversion:
//!
//! | core/v1 | events.k8s.io/v1 |
//! |---|---|
//! | `involvedObject` | `regarding` |
//! | `message` | `note` |
//! | `source.component`, `source.host` | `deprecatedSource.component`, `.host` |
//! | `firstTimestamp`, `lastTimestamp` | `deprecatedFirstTimestamp`, `deprecatedLastTimestamp` |
//! | `count` | `deprecatedCount` |
//! | `reportingComponent` | `reportingController` |

// Re-exported so `model::event::Timestamp` keeps naming it.
pub use super::time::Timestamp;

/// Which API group/version an event arrived in; it is rendered back to that
/// shape unless another is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[repr(u8)]
pub enum ApiShape {
    /// `v1` `Event` (the core group).
    #[default]
    CoreV1 = 0,
    /// `events.k8s.io/v1` `Event`.
    EventsV1 = 1,
    /// `events.k8s.io/v1beta1` `Event` (same fields as v1).
    EventsV1beta1 = 2,
}

impl ApiShape {
    /// Every shape, in tag order.
    pub const ALL: [ApiShape; 3] = [ApiShape::CoreV1, ApiShape::EventsV1, ApiShape::EventsV1beta1];

    /// The `apiVersion` string of this shape.
    pub fn api_version(self) -> &'static str {
        match self {
            ApiShape::CoreV1 => "v1",
            ApiShape::EventsV1 => "events.k8s.io/v1",
            ApiShape::EventsV1beta1 => "events.k8s.io/v1beta1",
        }
    }

    /// Parses an `apiVersion` string.
    pub fn from_api_version(s: &str) -> Option<ApiShape> {
        match s {
            "v1" => Some(ApiShape::CoreV1),
            "events.k8s.io/v1" => Some(ApiShape::EventsV1),
            "events.k8s.io/v1beta1" => Some(ApiShape::EventsV1beta1),
            _ => None,
        }
    }

    /// The on-disk tag.
    pub fn tag(self) -> u8 {
        self as u8
    }

    /// Decodes an on-disk tag.
    pub fn from_tag(tag: u8) -> Option<ApiShape> {
        ApiShape::ALL.get(usize::from(tag)).copied()
    }

    /// True for the events.k8s.io group (either version).
    pub fn is_events_group(self) -> bool {
        !matches!(self, ApiShape::CoreV1)
    }
}

macro_rules! slot_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every slot, in storage order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The number of slots.
            pub const COUNT: usize = $name::ALL.len();

            /// The slot's position in storage order.
            pub fn index(self) -> usize {
                self as usize
            }
        }
    };
}

slot_enum! {
    /// String slots, named after their core/v1 JSON path.
    StrField {
        /// `metadata.name`
        MetadataName,
        /// `metadata.namespace`
        MetadataNamespace,
        /// `metadata.uid`
        MetadataUid,
        /// `metadata.resourceVersion` as the source cluster set it.
        MetadataResourceVersion,
        /// `involvedObject.kind` / `regarding.kind`
        InvolvedObjectKind,
        /// `involvedObject.namespace`
        InvolvedObjectNamespace,
        /// `involvedObject.name`
        InvolvedObjectName,
        /// `involvedObject.uid`
        InvolvedObjectUid,
        /// `involvedObject.apiVersion`
        InvolvedObjectApiVersion,
        /// `involvedObject.resourceVersion`
        InvolvedObjectResourceVersion,
        /// `involvedObject.fieldPath`
        InvolvedObjectFieldPath,
        /// `reason`
        Reason,
        /// `message` / `note`
        Message,
        /// `type` (`Normal`, `Warning`)
        Type,
        /// `action`
        Action,
        /// `source.component` / `deprecatedSource.component`
        SourceComponent,
        /// `source.host` / `deprecatedSource.host`
        SourceHost,
        /// `reportingComponent` / `reportingController`
        ReportingComponent,
        /// `reportingInstance`
        ReportingInstance,
    }
}

slot_enum! {
    /// Timestamp slots.
    TimeField {
        /// `metadata.creationTimestamp` (second precision)
        CreationTimestamp,
        /// `firstTimestamp` / `deprecatedFirstTimestamp` (second precision)
        FirstTimestamp,
        /// `lastTimestamp` / `deprecatedLastTimestamp` (second precision)
        LastTimestamp,
        /// `eventTime` (microsecond precision)
        EventTime,
        /// `series.lastObservedTime` (microsecond precision)
        SeriesLastObservedTime,
    }
}

slot_enum! {
    /// Integer slots.
    IntField {
        /// `count` / `deprecatedCount`
        Count,
        /// `series.count`
        SeriesCount,
    }
}

/// Keys that were present in the source object although their typed slot
/// is empty: an explicit `null`, or an empty object such as `"source": {}`.
///
/// The bit assignment is owned by `model::presence`; storage keeps the word
/// opaque.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Presence(pub u64);

/// One Kubernetes event, normalised across API shapes. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Event {
    pub(crate) shape: ApiShape,
    pub(crate) cluster: Box<str>,
    pub(crate) strs: [Option<Box<str>>; StrField::COUNT],
    pub(crate) times: [Option<Timestamp>; TimeField::COUNT],
    pub(crate) ints: [Option<i64>; IntField::COUNT],
    pub(crate) presence: Presence,
    pub(crate) residual: Option<Box<str>>,
}

impl Event {
    /// An empty event of the given shape.
    ///
    /// Events built in code should finish with
    /// `model::presence::canonicalize`, so they render the way the API server
    /// would (with `kind`/`apiVersion`, `"source": {}`, `"eventTime": null`).
    /// Second-precision slots (`CreationTimestamp`, `FirstTimestamp`,
    /// `LastTimestamp`) should hold whole seconds: the API server's spelling
    /// drops sub-seconds, so finer values do not survive a render and parse.
    pub fn new(shape: ApiShape) -> Event {
        Event { shape, ..Event::default() }
    }

    /// The shape the event arrived in.
    pub fn shape(&self) -> ApiShape {
        self.shape
    }

    /// Sets the shape the event renders to by default.
    pub fn set_shape(&mut self, shape: ApiShape) {
        self.shape = shape;
    }

    /// The cluster the event belongs to (kevdb's own dimension, not a
    /// Kubernetes field). Empty until ingest assigns the default.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// Sets the cluster.
    pub fn set_cluster(&mut self, cluster: impl Into<Box<str>>) {
        self.cluster = cluster.into();
    }

    /// A string slot.
    pub fn str(&self, field: StrField) -> Option<&str> {
        self.strs[field.index()].as_deref()
    }

    /// Sets a string slot.
    pub fn set_str(&mut self, field: StrField, value: Option<impl Into<Box<str>>>) {
        self.strs[field.index()] = value.map(Into::into);
    }

    /// A timestamp slot.
    pub fn time(&self, field: TimeField) -> Option<Timestamp> {
        self.times[field.index()]
    }

    /// Sets a timestamp slot.
    pub fn set_time(&mut self, field: TimeField, value: Option<Timestamp>) {
        self.times[field.index()] = value;
    }

    /// An integer slot.
    pub fn int(&self, field: IntField) -> Option<i64> {
        self.ints[field.index()]
    }

    /// Sets an integer slot.
    pub fn set_int(&mut self, field: IntField, value: Option<i64>) {
        self.ints[field.index()] = value;
    }

    /// The presence word (see [`Presence`]).
    pub fn presence(&self) -> Presence {
        self.presence
    }

    /// The residual JSON object text, if any key was not modelled exactly.
    pub fn residual(&self) -> Option<&str> {
        self.residual.as_deref()
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.str(StrField::MetadataName).unwrap_or("")
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> &str {
        self.str(StrField::MetadataNamespace).unwrap_or("")
    }

    /// `metadata.uid`.
    pub fn uid(&self) -> &str {
        self.str(StrField::MetadataUid).unwrap_or("")
    }

    /// `reason`.
    pub fn reason(&self) -> &str {
        self.str(StrField::Reason).unwrap_or("")
    }

    /// `message` (core/v1) or `note` (events.k8s.io).
    pub fn message(&self) -> &str {
        self.str(StrField::Message).unwrap_or("")
    }

    /// `type`.
    pub fn event_type(&self) -> &str {
        self.str(StrField::Type).unwrap_or("")
    }

    /// The reporting component: `source.component`, else `reportingComponent`.
    pub fn component(&self) -> &str {
        self.str(StrField::SourceComponent)
            .filter(|s| !s.is_empty())
            .or_else(|| self.str(StrField::ReportingComponent))
            .unwrap_or("")
    }

    /// `metadata.labels` (kept in the residual; rarely set on events).
    pub fn labels(&self) -> std::collections::BTreeMap<String, String> {
        let mut out = std::collections::BTreeMap::new();
        let Some(residual) = self.residual.as_deref() else { return out };
        if !residual.contains("\"labels\"") {
            return out;
        }
        let Ok(serde_json::Value::Object(root)) = serde_json::from_str::<serde_json::Value>(residual) else {
            return out;
        };
        if let Some(serde_json::Value::Object(labels)) = root.get("metadata").and_then(|m| m.get("labels")) {
            for (k, v) in labels {
                if let serde_json::Value::String(v) = v {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        out
    }

    /// The observation count: `series.count`, else `count`, else 1.
    pub fn observed_count(&self) -> i64 {
        self.int(IntField::SeriesCount).or_else(|| self.int(IntField::Count)).unwrap_or(1)
    }

    /// When the event was last seen: `series.lastObservedTime`, else
    /// `lastTimestamp`, else `eventTime`, else `firstTimestamp`, else
    /// `metadata.creationTimestamp`.
    pub fn last_seen(&self) -> Option<Timestamp> {
        use TimeField::*;
        [SeriesLastObservedTime, LastTimestamp, EventTime, FirstTimestamp, CreationTimestamp]
            .into_iter()
            .find_map(|f| self.time(f))
    }

    /// When the event was first seen: `firstTimestamp`, else `eventTime`,
    /// else `metadata.creationTimestamp`, else the last-seen time; never
    /// later than the last-seen time (so `[first, last]` is a span even when
    /// a producer wrote inconsistent timestamps).
    pub fn first_seen(&self) -> Option<Timestamp> {
        use TimeField::*;
        let last = self.last_seen()?;
        let first =
            [FirstTimestamp, EventTime, CreationTimestamp].into_iter().find_map(|f| self.time(f)).unwrap_or(last);
        Some(first.min(last))
    }

    /// Replaces the presence word (see [`Presence`] and `model::presence`).
    pub fn set_presence(&mut self, presence: Presence) {
        self.presence = presence;
    }

    /// Replaces the residual JSON object text (keys the typed slots do not
    /// model exactly). It must be a JSON object in this event's shape.
    pub fn set_residual(&mut self, residual: Option<Box<str>>) {
        self.residual = residual;
    }
}
