//! Endpoints for the exporters that move events today, so each can point
//! at kevdb with a configuration change only:
//! - `webhook`: kubernetes-event-exporter's webhook sink
//!   (`POST /kevdb/v1/sinks/event-exporter`);
//! - `elastic`: enough of the Elasticsearch API for the elasticsearch sinks
//!   of kubernetes-event-exporter and kube-eventer (`GET /`, `_bulk`,
//!   `/{index}/_doc`, …).
//!
//! eventrouter's JSON lines need no endpoint of their own: the bulk
//! `POST /kevdb/v1/ingest` reads them. docs/INGEST.md has a working
//! configuration for each exporter.

mod elastic;
mod webhook;

use super::AppState;
use axum::Router;
use kevdb_engine::model::parse::{event_from_record, ParseOptions};
use kevdb_engine::Event;
use serde_json::Value;
use std::sync::Arc;

/// The sink routes, without a cluster prefix.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new().merge(webhook::routes()).merge(elastic::routes())
}

/// The cluster an exporter names in its document: kubernetes-event-exporter's
/// `clusterName`, kube-eventer's `EventTags.cluster_name`.
fn exporter_cluster(doc: &Value) -> Option<String> {
    let named = doc.get("clusterName").or_else(|| doc.get("EventTags").and_then(|t| t.get("cluster_name")));
    named.and_then(Value::as_str).filter(|c| !c.is_empty()).map(str::to_owned)
}

/// One exporter document as an event, in the cluster of the request path,
/// else the one the exporter names, else the server's default.
/// kubernetes-event-exporter's enrichment of `involvedObject` (labels,
/// annotations, owner references, `deleted`) is kept with the event.
pub(crate) fn document_event(mut doc: Value, path_cluster: Option<&str>) -> Result<Event, String> {
    if !doc.is_object() {
        return Err("expected a JSON object (one event)".into());
    }
    let cluster = path_cluster.map(str::to_owned).or_else(|| exporter_cluster(&doc));
    if let Some(map) = doc.as_object_mut() {
        map.remove("clusterName");
    }
    let mut event = event_from_record(doc, &ParseOptions::default())?;
    if let Some(c) = cluster {
        event.set_cluster(c);
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exporter_documents_name_their_cluster() {
        let doc = json!({"metadata": {"name": "a", "namespace": "ns", "uid": "u"}, "reason": "R",
            "lastTimestamp": "2026-11-03T14:21:05Z", "clusterName": "prod",
            "involvedObject": {"kind": "Pod", "name": "p", "labels": {"app": "web"}, "deleted": false}});
        let e = document_event(doc.clone(), None).expect("event");
        assert_eq!(e.cluster(), "prod");
        assert!(e.residual().is_some_and(|r| r.contains("\"app\"")), "enrichment kept: {:?}", e.residual());
        assert_eq!(document_event(doc, Some("edge")).expect("event").cluster(), "edge");
        let kube_eventer = json!({"Metadata": {"name": "a", "namespace": "ns", "uid": "u"}, "Reason": "R",
            "InvolvedObject": {"kind": "Pod", "name": "p"}, "LastOccurrenceTimestamp": "2026-11-03T14:21:05Z",
            "EventTags": {"cluster_name": "eu", "eventID": "u"}});
        assert_eq!(document_event(kube_eventer, None).expect("event").cluster(), "eu");
        assert!(document_event(json!([1]), None).is_err());
    }
}
