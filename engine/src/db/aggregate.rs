//! Aggregations over any query: counts grouped by one or two fields (top N)
//! and time histograms — what `kubectl get events | sort | uniq -c` and the
//! "top warning reasons" scripts do by hand.

use super::{visit, Db};
use crate::error::{Error, Result};
use crate::model::{StrField, Timestamp};
use crate::query::{FieldView, Query};
use crate::segment::{str_column, CLUSTER_COLUMN};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// A field to group by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// `type`
    Type,
    /// `reason`
    Reason,
    /// involved object kind
    Kind,
    /// `metadata.namespace`
    Namespace,
    /// reporting component (`source.component`, else `reportingComponent`)
    Component,
    /// involved object as `kind/name` (kubectl's OBJECT column)
    Object,
    /// kevdb cluster
    Cluster,
    /// `source.host` / `reportingInstance`
    Host,
}

impl GroupBy {
    /// Parses `type`, `reason`, `kind`, `namespace`, `component`, `object`,
    /// `cluster`, `host`.
    pub fn parse(s: &str) -> Option<GroupBy> {
        Some(match s {
            "type" => GroupBy::Type,
            "reason" => GroupBy::Reason,
            "kind" => GroupBy::Kind,
            "namespace" => GroupBy::Namespace,
            "component" => GroupBy::Component,
            "object" => GroupBy::Object,
            "cluster" => GroupBy::Cluster,
            "host" => GroupBy::Host,
            _ => return None,
        })
    }

    /// The columns a value of this field is read from.
    fn columns(self) -> u64 {
        match self {
            GroupBy::Cluster => CLUSTER_COLUMN,
            GroupBy::Object => str_column(StrField::InvolvedObjectKind) | str_column(StrField::InvolvedObjectName),
            GroupBy::Component => str_column(StrField::SourceComponent) | str_column(StrField::ReportingComponent),
            GroupBy::Host => str_column(StrField::SourceHost) | str_column(StrField::ReportingInstance),
            GroupBy::Type => str_column(StrField::Type),
            GroupBy::Reason => str_column(StrField::Reason),
            GroupBy::Kind => str_column(StrField::InvolvedObjectKind),
            GroupBy::Namespace => str_column(StrField::MetadataNamespace),
        }
    }

    fn value(self, row: &dyn FieldView) -> String {
        let s = |f: StrField| row.field(f).unwrap_or("");
        let either = |a: StrField, b: StrField| if s(a).is_empty() { s(b) } else { s(a) };
        match self {
            GroupBy::Type => s(StrField::Type).to_string(),
            GroupBy::Reason => s(StrField::Reason).to_string(),
            GroupBy::Kind => s(StrField::InvolvedObjectKind).to_string(),
            GroupBy::Namespace => s(StrField::MetadataNamespace).to_string(),
            GroupBy::Component => either(StrField::SourceComponent, StrField::ReportingComponent).to_string(),
            GroupBy::Object => {
                format!("{}/{}", s(StrField::InvolvedObjectKind).to_lowercase(), s(StrField::InvolvedObjectName))
            }
            GroupBy::Cluster => row.cluster().to_string(),
            GroupBy::Host => either(StrField::SourceHost, StrField::ReportingInstance).to_string(),
        }
    }
}

/// One group of a [`Db::count_by`] result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCount {
    /// The group's values, one per grouping field.
    pub key: Vec<String>,
    /// Matching events (observations in history mode).
    pub count: u64,
}

/// One bucket of a [`Db::histogram`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Start of the bucket (inclusive).
    pub start: Timestamp,
    /// Matching events last seen in the bucket.
    pub count: u64,
}

impl Db {
    /// Counts the events matching `query` (observations in history mode)
    /// without building them.
    pub fn count(&self, query: &Query) -> Result<u64> {
        let mut n = 0;
        visit::for_each_match(&self.inner, query, 0, |_, _, _| n += 1)?;
        Ok(n)
    }

    /// Counts the events matching `query`, grouped by one or two fields,
    /// largest first (ties by key); `top` keeps the first N groups.
    pub fn count_by(&self, query: &Query, by: &[GroupBy], top: Option<usize>) -> Result<Vec<GroupCount>> {
        if by.is_empty() || by.len() > 2 {
            return Err(Error::InvalidArgument(format!("group by one or two fields, not {}", by.len())));
        }
        let mut counts: HashMap<Vec<String>, u64> = HashMap::new();
        let needs = by.iter().fold(0, |m, b| m | b.columns());
        visit::for_each_match(&self.inner, query, needs, |_, _, row| {
            *counts.entry(by.iter().map(|b| b.value(row)).collect()).or_default() += 1;
        })?;
        let mut out: Vec<GroupCount> = counts.into_iter().map(|(key, count)| GroupCount { key, count }).collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        if let Some(n) = top {
            out.truncate(n);
        }
        Ok(out)
    }

    /// Counts the events matching `query` per `bucket` of last-seen time
    /// (buckets aligned to the Unix epoch), oldest first. Empty buckets
    /// between the first and last non-empty one (or the query's window, when
    /// it has both ends) are included with a count of zero.
    pub fn histogram(&self, query: &Query, bucket: Duration) -> Result<Vec<Bucket>> {
        let width = i64::try_from(bucket.as_micros()).unwrap_or(i64::MAX);
        if width < Timestamp::MICROS_PER_SEC {
            return Err(Error::InvalidArgument("histogram buckets must be at least one second wide".into()));
        }
        let align = |t: i64| t.div_euclid(width) * width;
        let mut counts: BTreeMap<i64, u64> = BTreeMap::new();
        visit::for_each_match(&self.inner, query, 0, |_, last_seen, _| {
            *counts.entry(align(last_seen)).or_default() += 1
        })?;
        let (first, last) = match (query.since, query.until, counts.keys().next(), counts.keys().next_back()) {
            (Some(s), Some(u), _, _) => (align(s.0), align(u.0.saturating_sub(1))),
            (_, _, Some(&f), Some(&l)) => (f, l),
            _ => return Ok(Vec::new()),
        };
        let n = (last.saturating_sub(first) / width).saturating_add(1);
        if n > 100_000 {
            return Err(Error::InvalidArgument(format!(
                "{n} buckets is too many; widen the bucket or narrow the window"
            )));
        }
        Ok((0..n)
            .map(|i| {
                let start = first + i * width;
                Bucket { start: Timestamp(start), count: counts.get(&start).copied().unwrap_or(0) }
            })
            .collect())
    }
}
