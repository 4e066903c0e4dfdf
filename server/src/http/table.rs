//! The server-side `Table` (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`)
//! with the columns the API server prints for events, so `kubectl get
//! events` prints LAST SEEN, TYPE, REASON, OBJECT, MESSAGE (and the wide
//! columns with `-o wide`).

use crate::table;
use axum::http::HeaderMap;
use kevdb_engine::{StoredEvent, Timestamp};
use serde_json::{json, Value};

/// True when the client asked for a Table.
pub fn wants_table(headers: &HeaderMap) -> bool {
    headers.get_all("accept").iter().filter_map(|v| v.to_str().ok()).any(|v| v.contains("as=Table"))
}

const COLUMNS: [(&str, &str, u8, &str); 10] = [
    ("Last Seen", "string", 0, "When the event was last seen"),
    ("Type", "string", 0, "Type of this event (Normal, Warning)"),
    ("Reason", "string", 0, "Why the action was taken"),
    ("Object", "string", 0, "The object this event is about"),
    ("Subobject", "string", 1, "The field of the object this event is about"),
    ("Source", "string", 1, "The component reporting this event"),
    ("Message", "string", 0, "A human-readable description"),
    ("First Seen", "string", 1, "When the event was first seen"),
    ("Count", "integer", 1, "The number of times this event has occurred"),
    ("Name", "string", 1, "Name of the event"),
];

fn column_definitions() -> Value {
    COLUMNS
        .iter()
        .map(|(name, ty, priority, description)| {
            json!({"name": name, "type": ty, "format": if *name == "Name" { "name" } else { "" }, "description": description, "priority": priority})
        })
        .collect()
}

fn row(r: &StoredEvent, now: Timestamp, api_version: &str) -> Value {
    let cells = table::row(&r.event, true, now);
    let count: i64 = cells[8].parse().unwrap_or(1);
    let mut values: Vec<Value> = cells.into_iter().map(Value::from).collect();
    values[8] = json!(count);
    let e = &r.event;
    json!({
        "cells": values,
        "object": {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {
                "name": e.name(),
                "namespace": e.namespace(),
                "uid": e.uid(),
                "resourceVersion": r.seq.0.to_string(),
                "annotations": {"kevdb.io/cluster": e.cluster(), "kevdb.io/api-version": api_version},
            }
        }
    })
}

/// A Table of `items`.
pub fn table_value(
    items: &[StoredEvent],
    resource_version: u64,
    continue_token: Option<&str>,
    api_version: &str,
) -> Value {
    let now = Timestamp::now();
    let mut meta = json!({"resourceVersion": resource_version.to_string()});
    if let Some(t) = continue_token {
        meta["continue"] = json!(t);
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": column_definitions(),
        "rows": items.iter().map(|r| row(r, now, api_version)).collect::<Vec<_>>(),
    })
}
