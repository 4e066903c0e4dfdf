//! Queries: what to return (filters, window, history) and in which order.
//!
//! Time window semantics: an event is in `[since, until)` when the span
//! `[first seen, last seen]` of the observation overlaps the window.

pub(crate) mod cursor;
mod filter;
pub mod selector;

pub(crate) use filter::FieldView;
pub use filter::{FieldFilter, FieldOp, LabelOp, LabelRequirement, QueryField};

use crate::model::{Event, Timestamp};
use kevdb_index::TextQuery;

/// Result order, by last-seen time (ties broken by seq).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Order {
    /// Most recently seen first (the default, like `kubectl get events` reversed).
    #[default]
    NewestFirst,
    /// Oldest first.
    OldestFirst,
}

/// A query over the archive. Every filter must hold (AND); a filter with
/// several values matches any of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Only events last seen at or after this time.
    pub since: Option<Timestamp>,
    /// Only events first seen before this time.
    pub until: Option<Timestamp>,
    /// Field filters (from field selectors, CLI flags or the builder).
    pub filters: Vec<FieldFilter>,
    /// Label selector requirements on `metadata.labels`.
    pub labels: Vec<LabelRequirement>,
    /// Full-text query over the message (see `kevdb_index::fulltext` for
    /// the syntax: terms, "phrases", OR, NOT/-term, prefix*).
    pub text: Option<String>,
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

    /// Adds `value` to the builder's `In` filter on `field` (repeated calls
    /// for one field match any of the values).
    pub fn with_value(mut self, field: QueryField, value: impl Into<String>) -> Query {
        let value = value.into();
        match self.filters.iter_mut().find(|f| f.field == field && f.op == FieldOp::In) {
            Some(f) => f.values.push(value),
            None => self.filters.push(FieldFilter::is_in(field, [value])),
        }
        self
    }

    /// Restricts to a namespace (repeat for several).
    pub fn namespace(self, ns: impl Into<String>) -> Query {
        self.with_value(QueryField::MetadataNamespace, ns)
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

    /// Restricts to a `type` (repeat for several).
    pub fn event_type(self, t: impl Into<String>) -> Query {
        self.with_value(QueryField::Type, t)
    }

    /// Restricts to a `reason` (repeat for several).
    pub fn reason(self, r: impl Into<String>) -> Query {
        self.with_value(QueryField::Reason, r)
    }

    /// Restricts to an involved-object kind (repeat for several).
    pub fn kind(self, k: impl Into<String>) -> Query {
        self.with_value(QueryField::InvolvedObjectKind, k)
    }

    /// Restricts to an involved-object name (repeat for several).
    pub fn name(self, n: impl Into<String>) -> Query {
        self.with_value(QueryField::InvolvedObjectName, n)
    }

    /// Restricts to a reporting component (repeat for several).
    pub fn component(self, c: impl Into<String>) -> Query {
        self.with_value(QueryField::Component, c)
    }

    /// Restricts to a cluster (repeat for several).
    pub fn cluster(self, c: impl Into<String>) -> Query {
        self.with_value(QueryField::Cluster, c)
    }

    /// Adds a field filter.
    pub fn filter(mut self, f: FieldFilter) -> Query {
        self.filters.push(f);
        self
    }

    /// Adds a label requirement.
    pub fn label(mut self, r: LabelRequirement) -> Query {
        self.labels.push(r);
        self
    }

    /// Full-text search over the message.
    pub fn text(mut self, q: impl Into<String>) -> Query {
        self.text = Some(q.into());
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

    /// True when the row's fields pass every field filter.
    pub(crate) fn matches_fields(&self, row: &impl FieldView) -> bool {
        self.filters.iter().all(|f| f.matches(row))
    }

    /// True when the event's labels satisfy every label requirement.
    pub(crate) fn matches_labels(&self, event: &Event) -> bool {
        if self.labels.is_empty() {
            return true;
        }
        let labels = event.labels();
        self.labels.iter().all(|r| r.matches(&labels))
    }

    /// Parses the full-text query, if any.
    pub(crate) fn compile_text(&self) -> crate::Result<Option<TextQuery>> {
        self.text
            .as_deref()
            .map(|t| TextQuery::parse(t).map_err(|e| crate::Error::InvalidArgument(format!("text query: {e}"))))
            .transpose()
    }

    /// [`Query::matches`] with the text query already parsed.
    pub(crate) fn matches_with(&self, event: &Event, text: Option<&TextQuery>) -> bool {
        let last = event.last_seen().map_or(0, |t| t.0);
        let first = event.first_seen().map_or(last, |t| t.0);
        self.in_window(first, last)
            && self.matches_fields(event)
            && self.matches_labels(event)
            && text.is_none_or(|t| t.matches(event.message()))
    }

    /// True when an event passes the window, the field filters, the label
    /// requirements and the full-text query: the reference semantics every
    /// execution path must agree with. (A text query that does not parse
    /// matches nothing; [`crate::Db::query`] reports it as an error.)
    pub fn matches(&self, event: &Event) -> bool {
        match self.compile_text() {
            Ok(text) => self.matches_with(event, text.as_ref()),
            Err(_) => false,
        }
    }
}
