//! Queries: what to return (filters, window, history) and in which order.
//!
//! Time window semantics: an event is in `[since, until)` when the span
//! `[first seen, last seen]` of the observation overlaps the window.

use crate::model::{Event, StrField, Timestamp};

/// Result order, by last-seen time (ties broken by seq).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Order {
    /// Most recently seen first (the default, like `kubectl get events` reversed).
    #[default]
    NewestFirst,
    /// Oldest first.
    OldestFirst,
}

/// A query over the archive. Empty filter lists match everything; a list
/// with several values matches any of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Only events last seen at or after this time.
    pub since: Option<Timestamp>,
    /// Only events first seen before this time.
    pub until: Option<Timestamp>,
    /// kevdb cluster names.
    pub clusters: Vec<String>,
    /// `metadata.namespace` values.
    pub namespaces: Vec<String>,
    /// `type` values (`Normal`, `Warning`).
    pub types: Vec<String>,
    /// `reason` values.
    pub reasons: Vec<String>,
    /// `involvedObject.kind` values.
    pub kinds: Vec<String>,
    /// `involvedObject.name` values.
    pub names: Vec<String>,
    /// Reporting component: `source.component` or `reportingComponent`.
    pub components: Vec<String>,
    /// Return every observation instead of only the latest of each event.
    pub history: bool,
    /// Result order.
    pub order: Order,
    /// Stop after this many results.
    pub limit: Option<usize>,
}

impl Query {
    /// A query matching every event, newest first.
    pub fn new() -> Query {
        Query::default()
    }

    /// Restricts to one namespace.
    pub fn namespace(mut self, ns: impl Into<String>) -> Query {
        self.namespaces.push(ns.into());
        self
    }

    /// Restricts to events last seen at or after `t`.
    pub fn since(mut self, t: Timestamp) -> Query {
        self.since = Some(t);
        self
    }

    /// Restricts to events first seen before `t`.
    pub fn until(mut self, t: Timestamp) -> Query {
        self.until = Some(t);
        self
    }

    /// Restricts to one `type`.
    pub fn event_type(mut self, t: impl Into<String>) -> Query {
        self.types.push(t.into());
        self
    }

    /// Restricts to one `reason`.
    pub fn reason(mut self, r: impl Into<String>) -> Query {
        self.reasons.push(r.into());
        self
    }

    /// Restricts to one involved-object kind.
    pub fn kind(mut self, k: impl Into<String>) -> Query {
        self.kinds.push(k.into());
        self
    }

    /// Restricts to one involved-object name.
    pub fn name(mut self, n: impl Into<String>) -> Query {
        self.names.push(n.into());
        self
    }

    /// Restricts to one reporting component.
    pub fn component(mut self, c: impl Into<String>) -> Query {
        self.components.push(c.into());
        self
    }

    /// Restricts to one cluster.
    pub fn cluster(mut self, c: impl Into<String>) -> Query {
        self.clusters.push(c.into());
        self
    }

    /// Returns every observation, not only the latest of each event.
    pub fn history(mut self, on: bool) -> Query {
        self.history = on;
        self
    }

    /// Sets the order.
    pub fn order(mut self, order: Order) -> Query {
        self.order = order;
        self
    }

    /// Caps the number of results.
    pub fn limit(mut self, n: usize) -> Query {
        self.limit = Some(n);
        self
    }

    /// True when a row spanning `[first_seen, last_seen]` overlaps the window.
    pub(crate) fn in_window(&self, first_seen: i64, last_seen: i64) -> bool {
        self.since.is_none_or(|s| last_seen >= s.0) && self.until.is_none_or(|u| first_seen < u.0)
    }

    /// True when the row's fields pass every equality filter.
    pub(crate) fn matches_fields(&self, row: &impl FieldView) -> bool {
        let any =
            |values: &[String], v: Option<&str>| values.is_empty() || values.iter().any(|x| Some(x.as_str()) == v);
        any(&self.clusters, Some(row.cluster()))
            && any(&self.namespaces, row.field(StrField::MetadataNamespace).or(Some("")))
            && any(&self.types, row.field(StrField::Type))
            && any(&self.reasons, row.field(StrField::Reason))
            && any(&self.kinds, row.field(StrField::InvolvedObjectKind))
            && any(&self.names, row.field(StrField::InvolvedObjectName))
            && (self.components.is_empty()
                || any(&self.components, row.field(StrField::SourceComponent))
                || any(&self.components, row.field(StrField::ReportingComponent)))
    }

    /// True when a full event passes the window and the field filters.
    pub fn matches(&self, event: &Event) -> bool {
        let last = event.last_seen().map_or(0, |t| t.0);
        let first = event.first_seen().map_or(last, |t| t.0);
        self.in_window(first, last) && self.matches_fields(event)
    }
}

/// Read access to the filterable fields of a row, whether it is a full
/// [`Event`] or a row of a decoded row group.
pub(crate) trait FieldView {
    fn cluster(&self) -> &str;
    fn field(&self, f: StrField) -> Option<&str>;
}

impl FieldView for Event {
    fn cluster(&self) -> &str {
        Event::cluster(self)
    }
    fn field(&self, f: StrField) -> Option<&str> {
        self.str(f)
    }
}
