//! Turning the shared filter flags into a validated [`Query`].

use super::FilterArgs;
use crate::timespec::parse_time;
use kevdb_engine::selector::{parse_field_selector, parse_label_selector};
use kevdb_engine::{ApiShape, Db, FieldFilter, Options, Query, QueryField, Timestamp};
use std::path::PathBuf;

/// What the filter flags select.
#[derive(Debug)]
pub struct Selection {
    pub data: PathBuf,
    pub query: Query,
    pub all_namespaces: bool,
    pub now: Timestamp,
}

impl TryFrom<FilterArgs> for Selection {
    type Error = anyhow::Error;

    fn try_from(a: FilterArgs) -> anyhow::Result<Self> {
        let now = Timestamp::now();
        let since = a.since.as_deref().map(|s| parse_time(s, now)).transpose().map_err(anyhow::Error::msg)?;
        let until = a.until.as_deref().map(|s| parse_time(s, now)).transpose().map_err(anyhow::Error::msg)?;
        if let (Some(s), Some(u)) = (since, until) {
            anyhow::ensure!(s < u, "--since ({s}) must be before --until ({u})");
        }
        if !a.data.join("MANIFEST").is_file() {
            anyhow::bail!("{} is not a kevdb database (no MANIFEST); create one with `kevdb ingest`", a.data.display());
        }
        let namespace = match (a.all_namespaces, a.namespace) {
            (true, _) => None,
            (false, Some(ns)) => Some(ns),
            (false, None) => Some("default".to_string()),
        };
        let mut filters = Vec::new();
        for (field, values) in [
            (QueryField::MetadataNamespace, namespace.into_iter().collect::<Vec<_>>()),
            (QueryField::Cluster, a.clusters),
            (QueryField::Type, a.types),
            (QueryField::Reason, a.reasons),
            (QueryField::InvolvedObjectKind, a.kinds),
            (QueryField::InvolvedObjectName, a.names),
            (QueryField::Component, a.components),
        ] {
            if !values.is_empty() {
                filters.push(FieldFilter::is_in(field, values));
            }
        }
        if let Some(fs) = &a.field_selector {
            filters.extend(
                parse_field_selector(fs, ApiShape::CoreV1).map_err(|e| anyhow::anyhow!("--field-selector: {e}"))?,
            );
        }
        let labels = match &a.label_selector {
            Some(ls) => parse_label_selector(ls).map_err(|e| anyhow::anyhow!("--selector: {e}"))?,
            None => Vec::new(),
        };
        let query = Query { since, until, filters, labels, text: a.grep, history: a.history, ..Query::default() };
        Ok(Selection { data: a.data, query, all_namespaces: a.all_namespaces, now })
    }
}

impl Selection {
    /// Opens the database for reading.
    pub fn open(&self) -> anyhow::Result<Db> {
        use anyhow::Context;
        Db::open(&self.data, Options { background: false, ..Options::default() })
            .with_context(|| format!("opening {}", self.data.display()))
    }

    /// " in NS namespace" for messages, or "" with -A.
    pub fn scope(&self) -> String {
        match self.query.filters.iter().find(|f| f.field == QueryField::MetadataNamespace) {
            Some(f) if !self.all_namespaces => format!(" in {} namespace", f.values.join(",")),
            _ => String::new(),
        }
    }
}
