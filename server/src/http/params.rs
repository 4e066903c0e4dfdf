//! Query parameters of list, get and watch requests, parsed into an engine
//! [`Query`] with the API server's errors.

use super::object::Group;
use super::status::ApiError;
use crate::timespec::parse_time;
use kevdb_engine::selector::{parse_field_selector, parse_label_selector};
use kevdb_engine::{FieldFilter, Query, QueryField, Timestamp};
use std::collections::HashMap;

/// A parsed list/watch request.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub query: Query,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub watch: bool,
    pub resource_version: Option<u64>,
    pub allow_bookmarks: bool,
    pub send_initial_events: Option<bool>,
    pub timeout_seconds: Option<u64>,
}

fn flag(params: &HashMap<String, String>, key: &str) -> Result<Option<bool>, ApiError> {
    match params.get(key).map(String::as_str) {
        None => Ok(None),
        Some("true" | "1" | "") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(v) => Err(ApiError::bad_request(format!("{key}: invalid boolean {v:?}"))),
    }
}

fn number(params: &HashMap<String, String>, key: &str) -> Result<Option<u64>, ApiError> {
    params
        .get(key)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("{key}: invalid value {v:?}: expected a non-negative integer"))
            })
        })
        .transpose()
}

/// Parses the parameters of a list or watch of `group`, scoped to `cluster`
/// and `namespace` from the path.
pub fn parse(
    params: &HashMap<String, String>,
    group: Group,
    cluster: Option<&str>,
    namespace: Option<&str>,
) -> Result<ListRequest, ApiError> {
    let shape = group.shape();
    let mut filters = Vec::new();
    if let Some(c) = cluster {
        filters.push(FieldFilter::is_in(QueryField::Cluster, [c]));
    }
    if let Some(ns) = namespace {
        filters.push(FieldFilter::is_in(QueryField::MetadataNamespace, [ns]));
    }
    if let Some(fs) = params.get("fieldSelector") {
        filters.extend(parse_field_selector(fs, shape).map_err(|e| ApiError::bad_request(e.to_string()))?);
    }
    let labels = match params.get("labelSelector") {
        Some(ls) => parse_label_selector(ls).map_err(|e| ApiError::bad_request(e.to_string()))?,
        None => Vec::new(),
    };
    let now = Timestamp::now();
    let time = |key: &str| -> Result<Option<Timestamp>, ApiError> {
        params
            .get(key)
            .filter(|v| !v.is_empty())
            .map(|v| parse_time(v, now).map_err(|e| ApiError::bad_request(format!("{key}: {e}"))))
            .transpose()
    };
    let resource_version = match params.get("resourceVersion").map(String::as_str) {
        None | Some("") => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("invalid resourceVersion {v:?}: kevdb resource versions are integers"))
        })?),
    };
    let query = Query {
        since: time("since")?,
        until: time("until")?,
        filters,
        labels,
        text: params.get("q").filter(|q| !q.trim().is_empty()).cloned(),
        history: flag(params, "history")?.unwrap_or(false),
        ..Query::default()
    };
    Ok(ListRequest {
        query,
        limit: number(params, "limit")?.map(|l| l as usize).filter(|&l| l > 0),
        continue_token: params.get("continue").filter(|c| !c.is_empty()).cloned(),
        watch: flag(params, "watch")?.unwrap_or(false),
        resource_version,
        allow_bookmarks: flag(params, "allowWatchBookmarks")?.unwrap_or(false),
        send_initial_events: flag(params, "sendInitialEvents")?,
        timeout_seconds: number(params, "timeoutSeconds")?,
    })
}
