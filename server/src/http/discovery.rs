//! Discovery: `/version`, `/api`, `/apis`, `/api/v1`, `/apis/events.k8s.io`
//! and `/apis/events.k8s.io/v1`, listing only what kevdb serves (events, in
//! both groups), so `kubectl` and client-go find their way.

use axum::Json;
use serde_json::{json, Value};

fn events_resource(verbs: &[&str]) -> Value {
    json!({
        "name": "events",
        "singularName": "event",
        "namespaced": true,
        "kind": "Event",
        "verbs": verbs,
        "shortNames": ["ev"],
    })
}

const VERBS: &[&str] = &["create", "deletecollection", "get", "list", "watch"];

/// A resource: (plural, singular, kind, namespaced).
type Kind = (&'static str, &'static str, &'static str, bool);
/// A group: (name, version, its kinds).
type GroupKinds = (&'static str, &'static str, &'static [Kind]);

/// Kinds events are about. kevdb serves none of them (no verbs), but
/// `kubectl events --for pod/NAME` resolves the kind through discovery.
const CORE_KINDS: &[Kind] = &[
    ("pods", "pod", "Pod", true),
    ("nodes", "node", "Node", false),
    ("namespaces", "namespace", "Namespace", false),
    ("services", "service", "Service", true),
    ("persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true),
];

/// Other groups whose objects events commonly regard: (group, version, kinds).
const GROUP_KINDS: &[GroupKinds] = &[
    (
        "apps",
        "v1",
        &[
            ("deployments", "deployment", "Deployment", true),
            ("replicasets", "replicaset", "ReplicaSet", true),
            ("daemonsets", "daemonset", "DaemonSet", true),
            ("statefulsets", "statefulset", "StatefulSet", true),
        ],
    ),
    ("batch", "v1", &[("jobs", "job", "Job", true), ("cronjobs", "cronjob", "CronJob", true)]),
    ("autoscaling", "v2", &[("horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true)]),
];

fn kind_resource((name, singular, kind, namespaced): &Kind) -> Value {
    json!({"name": name, "singularName": singular, "namespaced": namespaced, "kind": kind, "verbs": []})
}

fn group_doc(group: &str, version: &str) -> Value {
    let gv = format!("{group}/{version}");
    json!({"name": group, "versions": [{"groupVersion": gv, "version": version}], "preferredVersion": {"groupVersion": gv, "version": version}})
}

/// `/apis/{group}` for the groups of [`GROUP_KINDS`].
pub async fn other_group(
    axum::extract::Path(group): axum::extract::Path<String>,
) -> Result<Json<Value>, super::ApiError> {
    let (g, v, _) = GROUP_KINDS
        .iter()
        .find(|(g, _, _)| *g == group)
        .ok_or_else(|| super::ApiError::not_found("the server could not find the requested resource"))?;
    let mut doc = group_doc(g, v);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Ok(Json(doc))
}

/// `/apis/{group}/{version}` for the groups of [`GROUP_KINDS`].
pub async fn other_group_version(
    axum::extract::Path((group, version)): axum::extract::Path<(String, String)>,
) -> Result<Json<Value>, super::ApiError> {
    let (g, v, kinds) = GROUP_KINDS
        .iter()
        .find(|(g, v, _)| *g == group && *v == version)
        .ok_or_else(|| super::ApiError::not_found("the server could not find the requested resource"))?;
    Ok(Json(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": format!("{g}/{v}"),
        "resources": kinds.iter().map(kind_resource).collect::<Vec<_>>(),
    })))
}

pub async fn version() -> Json<Value> {
    Json(json!({
        "major": "1",
        "minor": "31",
        "gitVersion": format!("v1.31.0-kevdb.{}", env!("CARGO_PKG_VERSION")),
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "",
        "goVersion": "",
        "compiler": "kevdb",
        "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
    }))
}

pub async fn api() -> Json<Value> {
    Json(json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
    }))
}

fn events_group() -> Value {
    json!({
        "name": "events.k8s.io",
        "versions": [{"groupVersion": "events.k8s.io/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "events.k8s.io/v1", "version": "v1"},
    })
}

pub async fn apis() -> Json<Value> {
    let mut groups = vec![events_group()];
    groups.extend(GROUP_KINDS.iter().map(|(g, v, _)| group_doc(g, v)));
    Json(json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups }))
}

pub async fn events_group_doc() -> Json<Value> {
    let mut g = events_group();
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    Json(g)
}

pub async fn core_v1() -> Json<Value> {
    Json(json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": std::iter::once(events_resource(VERBS)).chain(CORE_KINDS.iter().map(kind_resource)).collect::<Vec<_>>(),
    }))
}

pub async fn events_v1() -> Json<Value> {
    Json(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "events.k8s.io/v1",
        "resources": [events_resource(VERBS)],
    }))
}
