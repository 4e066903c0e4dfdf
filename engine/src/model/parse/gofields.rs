//! Events written with Go field names, as old `kubectl cluster-info dump`
//! releases printed them (Kubernetes 1.9 era): the struct was serialised
//! without its JSON tags, so `ObjectMeta` is flattened into the object
//! (`name`, `namespace`, `uid`, … at the top level) and every other field is
//! spelled as in Go (`InvolvedObject`, `Reason`, `FirstTimestamp`, `UID`,
//! `APIVersion`), with zero values (`""`, `null`) for unset fields.
//!
//! kube-eventer's Elasticsearch documents are a cousin: a Go struct without
//! JSON tags around JSON-named parts (`Metadata`, `InvolvedObject`,
//! `Source`, `FirstOccurrenceTimestamp`, `LastOccurrenceTimestamp`, `Count`,
//! `EventTags`). `Metadata` is kept as it is, the two occurrence times
//! become `firstTimestamp`/`lastTimestamp`, and `EventTags` (derived copies
//! of the uid, host and pod, and the exporter's cluster name, which the
//! caller reads first) is dropped.
//!
//! [`normalize`] rewrites such an object into the API's own spelling so the
//! ordinary event conversion reads it. It applies only to objects carrying
//! one of the Go-only keys [`is_go_event`] looks for; nothing else changes.

use super::node::{self, Entries, Node};
use super::schema::leaf_order;
use crate::model::presence::Container;

/// Whether `map` is an Event in Go field names: it has `InvolvedObject` or
/// `Regarding` and no `metadata`.
pub(crate) fn is_go_event(map: &Entries) -> bool {
    node::get(map, "metadata").is_none()
        && (node::get(map, "InvolvedObject").is_some() || node::get(map, "Regarding").is_some())
}

/// The JSON name of a Go field name: `UID` → `uid`, `APIVersion` →
/// `apiVersion`, `FieldPath` → `fieldPath`.
fn json_name(go: &str) -> String {
    // A leading run of capitals is an initialism, lowered as a whole except
    // for the capital that starts the next word (`APIVersion` → `apiVersion`).
    let chars: Vec<char> = go.chars().collect();
    let run = chars.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let lower = match run {
        0 => return go.to_owned(),
        n if n == chars.len() => n,
        1 => 1,
        n => n - 1,
    };
    chars.iter().enumerate().map(|(i, c)| if i < lower { c.to_ascii_lowercase() } else { *c }).collect()
}

/// Renames the keys of a nested Go struct, dropping zero values.
fn rename(value: Node) -> Option<Node> {
    match value {
        Node::Null => None,
        Node::String(s) if s.is_empty() => None,
        Node::Object(entries) => {
            let mut out = Entries::with_capacity(entries.len());
            for (key, v) in entries {
                if let Some(v) = rename(v) {
                    node::insert(&mut out, json_name(&key), v);
                }
            }
            Some(Node::Object(out))
        }
        Node::Array(items) => Some(Node::Array(items.into_iter().filter_map(rename).collect())),
        other => Some(other),
    }
}

/// Rewrites a Go-named Event (see [`is_go_event`]) into the API spelling:
/// the flattened metadata goes back under `metadata`, every other key is
/// renamed, and zero values are dropped.
pub(crate) fn normalize(map: Entries) -> Entries {
    let mut metadata = Entries::new();
    let mut out = Entries::with_capacity(map.len() + 1);
    for (key, value) in map {
        match key.as_str() {
            "Metadata" => {
                if let Node::Object(entries) = value {
                    for (k, v) in entries {
                        node::insert(&mut metadata, k, v);
                    }
                }
                continue;
            }
            "FirstOccurrenceTimestamp" | "LastOccurrenceTimestamp" => {
                let json = if key.starts_with("First") { "firstTimestamp" } else { "lastTimestamp" };
                if let Some(v) = rename(value) {
                    node::insert(&mut out, json.to_owned(), v);
                }
                continue;
            }
            "EventTags" => continue,
            _ => {}
        }
        // The flattened `ObjectMeta`: its keys in the metadata object's order.
        if leaf_order(Container::Metadata).contains(&key.as_str()) {
            // Labels and annotations keep their keys as they are.
            match value {
                Node::Null => {}
                Node::String(s) if s.is_empty() => {}
                v => node::insert(&mut metadata, key, v),
            }
        } else if let Some(v) = rename(value) {
            node::insert(&mut out, json_name(&key), v);
        }
    }
    out.insert(0, ("metadata".to_owned(), Node::Object(metadata)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_names_become_json_names() {
        assert_eq!(json_name("UID"), "uid");
        assert_eq!(json_name("APIVersion"), "apiVersion");
        assert_eq!(json_name("FieldPath"), "fieldPath");
        assert_eq!(json_name("Kind"), "kind");
        assert_eq!(json_name("ReportingController"), "reportingController");
        assert_eq!(json_name("name"), "name");
    }

    #[test]
    fn kube_eventer_documents_are_read() {
        let json = serde_json::json!({
            "Count": 3, "Metadata": {"name": "p.1", "namespace": "ns", "uid": "u1", "labels": {"App": "x"}},
            "InvolvedObject": {"kind": "Pod", "name": "p", "fieldPath": ""},
            "Source": {"component": "kubelet", "host": "n1"},
            "FirstOccurrenceTimestamp": "2026-11-03T13:58:40Z", "LastOccurrenceTimestamp": "2026-11-03T14:21:05Z",
            "Message": "m", "Reason": "BackOff", "Type": "Warning",
            "EventTags": {"cluster_name": "prod", "eventID": "u1", "hostname": "n1"},
        });
        let Node::Object(map) = Node::from(json) else { panic!("object") };
        assert!(is_go_event(&map));
        let out = serde_json::to_value(Node::Object(normalize(map))).expect("serialises");
        assert_eq!(
            out,
            serde_json::json!({
                "metadata": {"name": "p.1", "namespace": "ns", "uid": "u1", "labels": {"App": "x"}},
                "count": 3, "involvedObject": {"kind": "Pod", "name": "p"},
                "source": {"component": "kubelet", "host": "n1"},
                "firstTimestamp": "2026-11-03T13:58:40Z", "lastTimestamp": "2026-11-03T14:21:05Z",
                "message": "m", "reason": "BackOff", "type": "Warning",
            })
        );
    }

    #[test]
    fn flattened_metadata_moves_back() {
        let json = serde_json::json!({
            "name": "p.1", "namespace": "kube-system", "uid": "u1", "resourceVersion": "660",
            "labels": {"App": "x"},
            "InvolvedObject": {"Kind": "Pod", "Name": "p", "UID": "u2", "APIVersion": "v1", "FieldPath": ""},
            "Reason": "Scheduled", "Count": 1, "EventTime": null, "Action": "",
        });
        let Node::Object(map) = Node::from(json) else { panic!("object") };
        assert!(is_go_event(&map));
        let out = serde_json::to_value(Node::Object(normalize(map))).expect("serialises");
        assert_eq!(
            out,
            serde_json::json!({
                "metadata": {"name": "p.1", "namespace": "kube-system", "uid": "u1", "resourceVersion": "660", "labels": {"App": "x"}},
                "involvedObject": {"kind": "Pod", "name": "p", "uid": "u2", "apiVersion": "v1"},
                "reason": "Scheduled", "count": 1,
            })
        );
    }
}
