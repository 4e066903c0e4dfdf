//! List and get for `events` in both groups, all namespaces or one.

use super::object::{event_value, list_value, Group};
use super::params::{self, ListRequest};
use super::status::ApiError;
use super::table::{table_value, wants_table};
use super::watch;
use super::{blocking, AppState};
use axum::extract::{Path, Query as QueryParams, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kevdb_engine::{FieldFilter, QueryField};
use std::collections::HashMap;
use std::sync::Arc;

type PathParams = Path<HashMap<String, String>>;
type Params = QueryParams<HashMap<String, String>>;

async fn list(
    state: Arc<AppState>,
    group: Group,
    path: HashMap<String, String>,
    params: HashMap<String, String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let req = params::parse(
        &params,
        group,
        path.get("cluster").map(String::as_str),
        path.get("namespace").map(String::as_str),
    )?;
    if req.watch {
        return watch::serve(state, group, req, wants_table(&headers)).await;
    }
    let table = wants_table(&headers);
    let page = blocking(move || {
        let limit = req.limit.unwrap_or(state.limits.max_page).min(state.limits.max_page);
        let ListRequest { query, continue_token, .. } = req;
        Ok(state.db.query_page(&query, limit, continue_token.as_deref())?)
    })
    .await?;
    let body = if table {
        table_value(&page.items, page.snapshot_seq, page.continue_token.as_deref(), group.api_version())
    } else {
        list_value(&page.items, group, page.snapshot_seq, page.continue_token.as_deref())
    };
    Ok(Json(body).into_response())
}

async fn get(
    state: Arc<AppState>,
    group: Group,
    path: HashMap<String, String>,
    params: HashMap<String, String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let name = path.get("name").cloned().unwrap_or_default();
    let mut req = params::parse(
        &params,
        group,
        path.get("cluster").map(String::as_str),
        path.get("namespace").map(String::as_str),
    )?;
    req.query.filters.push(FieldFilter::is_in(QueryField::MetadataName, [name.clone()]));
    req.query.limit = Some(1);
    let query = req.query;
    let found = blocking(move || Ok(state.db.query(&query)?.next())).await?;
    let Some(r) = found else {
        let resource = if group == Group::Core { "events" } else { "events.events.k8s.io" };
        return Err(ApiError::not_found(format!("{resource} \"{name}\" not found")));
    };
    if wants_table(&headers) {
        return Ok(Json(table_value(std::slice::from_ref(&r), r.seq.0, None, group.api_version())).into_response());
    }
    Ok(Json(event_value(&r, group)).into_response())
}

pub async fn list_core(
    State(s): State<Arc<AppState>>,
    Path(p): PathParams,
    QueryParams(q): Params,
    h: HeaderMap,
) -> Result<Response, ApiError> {
    list(s, Group::Core, p, q, h).await
}
pub async fn list_events(
    State(s): State<Arc<AppState>>,
    Path(p): PathParams,
    QueryParams(q): Params,
    h: HeaderMap,
) -> Result<Response, ApiError> {
    list(s, Group::Events, p, q, h).await
}
pub async fn get_core(
    State(s): State<Arc<AppState>>,
    Path(p): PathParams,
    QueryParams(q): Params,
    h: HeaderMap,
) -> Result<Response, ApiError> {
    get(s, Group::Core, p, q, h).await
}
pub async fn get_events(
    State(s): State<Arc<AppState>>,
    Path(p): PathParams,
    QueryParams(q): Params,
    h: HeaderMap,
) -> Result<Response, ApiError> {
    get(s, Group::Events, p, q, h).await
}
