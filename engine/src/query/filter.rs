//! Field filters and label requirements: the typed form of Kubernetes field
//! selectors, label selectors and kevdb's own filters, and how each is
//! evaluated against a row.

use crate::model::StrField;
use std::collections::BTreeMap;

/// A field a query can filter on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryField {
    /// kevdb's cluster name.
    Cluster,
    /// `metadata.name`
    MetadataName,
    /// `metadata.namespace`
    MetadataNamespace,
    /// `metadata.uid`
    MetadataUid,
    /// `involvedObject.kind` / `regarding.kind`
    InvolvedObjectKind,
    /// `involvedObject.namespace`
    InvolvedObjectNamespace,
    /// `involvedObject.name`
    InvolvedObjectName,
    /// `involvedObject.uid`
    InvolvedObjectUid,
    /// `involvedObject.apiVersion`
    InvolvedObjectApiVersion,
    /// `involvedObject.resourceVersion`
    InvolvedObjectResourceVersion,
    /// `involvedObject.fieldPath`
    InvolvedObjectFieldPath,
    /// `reason`
    Reason,
    /// `type`
    Type,
    /// `source` in field selectors: `source.component`.
    Source,
    /// `reportingComponent` / `reportingController`.
    ReportingComponent,
    /// Either `source.component` or `reportingComponent` (kevdb's
    /// "component" filter: whichever the producer filled).
    Component,
    /// `source.host` / `reportingInstance`, whichever is set.
    Host,
}

impl QueryField {
    /// The string slot behind the field, for single-slot fields.
    pub fn slot(self) -> Option<StrField> {
        use QueryField::*;
        Some(match self {
            MetadataName => StrField::MetadataName,
            MetadataNamespace => StrField::MetadataNamespace,
            MetadataUid => StrField::MetadataUid,
            InvolvedObjectKind => StrField::InvolvedObjectKind,
            InvolvedObjectNamespace => StrField::InvolvedObjectNamespace,
            InvolvedObjectName => StrField::InvolvedObjectName,
            InvolvedObjectUid => StrField::InvolvedObjectUid,
            InvolvedObjectApiVersion => StrField::InvolvedObjectApiVersion,
            InvolvedObjectResourceVersion => StrField::InvolvedObjectResourceVersion,
            InvolvedObjectFieldPath => StrField::InvolvedObjectFieldPath,
            Reason => StrField::Reason,
            Type => StrField::Type,
            Source => StrField::SourceComponent,
            ReportingComponent => StrField::ReportingComponent,
            Cluster | Component | Host => return None,
        })
    }
}

/// Whether a filter keeps rows whose field is one of the values, or none of
/// them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldOp {
    /// `field=value` (`==`), or kevdb's several values for one field.
    In,
    /// `field!=value`.
    NotIn,
}

/// One field filter. A missing field compares as the empty string, as the
/// API server's field selectors do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldFilter {
    /// The field.
    pub field: QueryField,
    /// In or not in.
    pub op: FieldOp,
    /// The values.
    pub values: Vec<String>,
}

impl FieldFilter {
    /// `field` equals one of `values`.
    pub fn is_in(field: QueryField, values: impl IntoIterator<Item = impl Into<String>>) -> FieldFilter {
        FieldFilter { field, op: FieldOp::In, values: values.into_iter().map(Into::into).collect() }
    }

    /// `field` equals none of `values`.
    pub fn not_in(field: QueryField, values: impl IntoIterator<Item = impl Into<String>>) -> FieldFilter {
        FieldFilter { field, op: FieldOp::NotIn, values: values.into_iter().map(Into::into).collect() }
    }

    /// Evaluates the filter on a row.
    pub(crate) fn matches(&self, row: &(impl FieldView + ?Sized)) -> bool {
        let hit = |v: &str| self.values.iter().any(|x| x == v);
        let found = match self.field {
            QueryField::Cluster => hit(row.cluster()),
            QueryField::Component => {
                let source = row.field(StrField::SourceComponent).unwrap_or("");
                let reporting = row.field(StrField::ReportingComponent).unwrap_or("");
                hit(if source.is_empty() { reporting } else { source })
            }
            QueryField::Host => {
                let host = row.field(StrField::SourceHost).unwrap_or("");
                let instance = row.field(StrField::ReportingInstance).unwrap_or("");
                hit(if host.is_empty() { instance } else { host })
            }
            f => hit(f.slot().and_then(|s| row.field(s)).unwrap_or("")),
        };
        found == (self.op == FieldOp::In)
    }
}

/// The operator of a label requirement (Kubernetes label selector syntax).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LabelOp {
    /// `key=value`, `key==value`, `key in (a,b)`
    In(Vec<String>),
    /// `key!=value`, `key notin (a,b)`: true also when the key is absent.
    NotIn(Vec<String>),
    /// `key`
    Exists,
    /// `!key`
    DoesNotExist,
    /// `key>n` (the value parses as an integer greater than n)
    GreaterThan(i64),
    /// `key<n`
    LessThan(i64),
}

/// One requirement of a label selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LabelRequirement {
    /// The label key.
    pub key: String,
    /// The operator.
    pub op: LabelOp,
}

impl LabelRequirement {
    /// Evaluates the requirement on an object's labels.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match &self.op {
            LabelOp::In(values) => value.is_some_and(|v| values.contains(v)),
            LabelOp::NotIn(values) => value.is_none_or(|v| !values.contains(v)),
            LabelOp::Exists => value.is_some(),
            LabelOp::DoesNotExist => value.is_none(),
            LabelOp::GreaterThan(n) => value.and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v > *n),
            LabelOp::LessThan(n) => value.and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v < *n),
        }
    }
}

/// Read access to the filterable fields of a row, whether it is a full
/// [`crate::Event`] or a row of a decoded row group.
pub(crate) trait FieldView {
    fn cluster(&self) -> &str;
    fn field(&self, f: StrField) -> Option<&str>;
}

impl FieldView for crate::Event {
    fn cluster(&self) -> &str {
        crate::Event::cluster(self)
    }
    fn field(&self, f: StrField) -> Option<&str> {
        self.str(f)
    }
}
