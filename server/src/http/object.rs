//! Events as the HTTP API serves them: rendered in the shape of the group
//! asked for, with kevdb's seq as `metadata.resourceVersion` (so lists and
//! watches resume from any point inside retention) and the source's own
//! resourceVersion and the cluster kept as annotations.

use kevdb_engine::model::render;
use kevdb_engine::{ApiShape, StoredEvent};
use serde_json::{json, Value};

/// Annotation holding the resourceVersion the source cluster gave the event.
pub const SOURCE_RV_ANNOTATION: &str = "kevdb.io/source-resource-version";
/// Annotation holding the kevdb cluster name.
pub const CLUSTER_ANNOTATION: &str = "kevdb.io/cluster";

/// The API group a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `/api/v1`
    Core,
    /// `/apis/events.k8s.io/v1`
    Events,
}

impl Group {
    pub fn shape(self) -> ApiShape {
        match self {
            Group::Core => ApiShape::CoreV1,
            Group::Events => ApiShape::EventsV1,
        }
    }

    pub fn api_version(self) -> &'static str {
        self.shape().api_version()
    }
}

/// One event as served.
pub fn event_value(r: &StoredEvent, group: Group) -> Value {
    let mut v = render::to_value(&r.event, group.shape());
    if let Some(obj) = v.as_object_mut() {
        obj.insert("kind".into(), json!("Event"));
        obj.insert("apiVersion".into(), json!(group.api_version()));
        let meta = obj.entry("metadata").or_insert_with(|| json!({}));
        if let Some(meta) = meta.as_object_mut() {
            let source_rv = meta.get("resourceVersion").cloned();
            meta.insert("resourceVersion".into(), json!(r.seq.0.to_string()));
            let ann = meta.entry("annotations").or_insert_with(|| json!({}));
            if let Some(ann) = ann.as_object_mut() {
                if let Some(Value::String(rv)) = source_rv {
                    ann.insert(SOURCE_RV_ANNOTATION.into(), json!(rv));
                }
                ann.insert(CLUSTER_ANNOTATION.into(), json!(r.event.cluster()));
            }
        }
    }
    v
}

/// An `EventList`.
pub fn list_value(items: &[StoredEvent], group: Group, resource_version: u64, continue_token: Option<&str>) -> Value {
    let mut meta = json!({ "resourceVersion": resource_version.to_string() });
    if let Some(t) = continue_token {
        meta["continue"] = json!(t);
    }
    json!({
        "kind": "EventList",
        "apiVersion": group.api_version(),
        "metadata": meta,
        "items": items.iter().map(|r| event_value(r, group)).collect::<Vec<_>>(),
    })
}
