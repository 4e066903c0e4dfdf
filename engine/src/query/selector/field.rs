//! Field selectors: `fields.ParseSelector` then the API group's field-label
//! conversion, as the API server runs them on a list/watch of events.
//!
//! Parsing (`k8s.io/apimachinery/pkg/fields/selector.go`):
//! - the selector is split on commas not preceded by a backslash; the terms
//!   are sorted (byte order) and empty terms skipped; nothing is trimmed, so
//!   `type=Warning, reason=X` has a term ` reason=X` whose field is
//!   ` reason`, and a selector of spaces only is one term that does not parse;
//! - each term splits at the first `!=`, `==` or `=` (whichever appears
//!   first, `!=` and `==` winning over `=` at the same place); the field
//!   takes no escapes; the value is unescaped: `\\`, `\,`, `\=` stand for
//!   `\`, `,`, `=`, any other escape is an error, and so is an unescaped `=`
//!   (`invalid field selector: unescaped character in value: 61`: Go prints
//!   the code point);
//! - only after every term parsed is each field label converted, in the
//!   same sorted order, so a syntax error anywhere wins over an unsupported
//!   field, and of several unsupported fields the first in sorted order is
//!   the one reported.
//!
//! Selectable fields (`ToSelectableFields` in the event registry and the
//! field-label conversions of `core/v1`, `events.k8s.io/v1` and
//! `events.k8s.io/v1beta1`):
//!
//! | label | core/v1 | events.k8s.io | filter |
//! |---|---|---|---|
//! | `metadata.name`, `metadata.namespace` | yes | yes | [`QueryField::MetadataName`], [`QueryField::MetadataNamespace`] |
//! | `involvedObject.{kind,namespace,name,uid,apiVersion,resourceVersion,fieldPath}` | yes | no | `QueryField::InvolvedObject*` |
//! | `regarding.{kind,namespace,name,uid,apiVersion,resourceVersion,fieldPath}` | no | yes | `QueryField::InvolvedObject*` |
//! | `reason`, `type` | yes | yes | [`QueryField::Reason`], [`QueryField::Type`] |
//! | `reportingComponent` | yes | no | [`QueryField::ReportingComponent`] |
//! | `reportingController` | no | yes | [`QueryField::ReportingComponent`] |
//! | `source` | yes | no | [`QueryField::Component`] |
//!
//! `source` is `source.component`, or `reportingController` when
//! `source.component` is empty (the registry's `ToSelectableFields` since
//! Kubernetes 1.19), which is [`QueryField::Component`], not
//! [`QueryField::Source`]. Released servers reject `source` for the
//! events.k8s.io group (`field label not supported: source`); the
//! Kubernetes main branch has started to accept it for `events.k8s.io/v1`.

use crate::model::ApiShape;
use crate::query::{FieldFilter, FieldOp, QueryField};

use super::error::{SelectorError, SelectorErrorKind};

/// Field labels of the core group (`/api/v1/.../events`).
const CORE_V1: &[(&str, QueryField)] = &[
    ("involvedObject.kind", QueryField::InvolvedObjectKind),
    ("involvedObject.namespace", QueryField::InvolvedObjectNamespace),
    ("involvedObject.name", QueryField::InvolvedObjectName),
    ("involvedObject.uid", QueryField::InvolvedObjectUid),
    ("involvedObject.apiVersion", QueryField::InvolvedObjectApiVersion),
    ("involvedObject.resourceVersion", QueryField::InvolvedObjectResourceVersion),
    ("involvedObject.fieldPath", QueryField::InvolvedObjectFieldPath),
    ("reason", QueryField::Reason),
    ("reportingComponent", QueryField::ReportingComponent),
    ("source", QueryField::Component),
    ("type", QueryField::Type),
    ("metadata.namespace", QueryField::MetadataNamespace),
    ("metadata.name", QueryField::MetadataName),
];

/// Field labels of the events.k8s.io group (`v1` and `v1beta1` alike).
const EVENTS: &[(&str, QueryField)] = &[
    ("reason", QueryField::Reason),
    ("regarding.kind", QueryField::InvolvedObjectKind),
    ("regarding.namespace", QueryField::InvolvedObjectNamespace),
    ("regarding.name", QueryField::InvolvedObjectName),
    ("regarding.uid", QueryField::InvolvedObjectUid),
    ("regarding.apiVersion", QueryField::InvolvedObjectApiVersion),
    ("regarding.resourceVersion", QueryField::InvolvedObjectResourceVersion),
    ("regarding.fieldPath", QueryField::InvolvedObjectFieldPath),
    ("reportingController", QueryField::ReportingComponent),
    ("type", QueryField::Type),
    ("metadata.namespace", QueryField::MetadataNamespace),
    ("metadata.name", QueryField::MetadataName),
];

fn table(shape: ApiShape) -> &'static [(&'static str, QueryField)] {
    if shape.is_events_group() {
        EVENTS
    } else {
        CORE_V1
    }
}

/// The filter field behind a field-selector label in the given API group,
/// or `None` where the API server answers `field label not supported`.
/// Labels are case-sensitive and taken verbatim (no trimming).
pub fn field_label(label: &str, shape: ApiShape) -> Option<QueryField> {
    table(shape).iter().find(|(name, _)| *name == label).map(|&(_, field)| field)
}

/// The field-selector labels the API server accepts for events of the given
/// API group, in the order its conversion function lists them.
pub fn supported_field_labels(shape: ApiShape) -> impl Iterator<Item = &'static str> {
    table(shape).iter().map(|&(name, _)| name)
}

/// Parses a field selector exactly as the API server accepts it for events
/// of the given API group (core/v1 or events.k8s.io), e.g.
/// `type=Warning,involvedObject.kind=Pod`, `reason!=Pulled`, `source==kubelet`.
///
/// `=` and `==` give a [`FieldOp::In`] filter with one value, `!=` a
/// [`FieldOp::NotIn`] filter with one value; every term is its own filter
/// (the terms are ANDed; duplicates are kept), in the API server's order
/// (terms sorted as strings). A value may be empty (`reason=` selects
/// events without a reason). An empty selector, or one of commas only,
/// selects everything (no filters); whitespace is not trimmed anywhere (see
/// the module documentation).
///
/// # Errors
///
/// The API server's `400 BadRequest` message: a term without an operator,
/// a bad escape or unescaped `=` in a value
/// ([`SelectorErrorKind::InvalidFieldSelector`]), or a field the group does
/// not offer ([`SelectorErrorKind::FieldLabelNotSupported`]).
pub fn parse_field_selector(selector: &str, shape: ApiShape) -> Result<Vec<FieldFilter>, SelectorError> {
    let mut terms = split_terms(selector);
    terms.sort_unstable();
    let mut parsed = Vec::with_capacity(terms.len());
    for term in terms {
        if term.is_empty() {
            continue;
        }
        let Some((field, op, raw_value)) = split_term(term) else {
            return Err(SelectorError::new(
                SelectorErrorKind::InvalidFieldSelector,
                format!("invalid selector: '{selector}'; can't understand '{term}'"),
            ));
        };
        parsed.push((field, op, unescape_value(raw_value)?));
    }
    parsed
        .into_iter()
        .map(|(label, op, value)| match field_label(label, shape) {
            Some(field) => Ok(FieldFilter { field, op, values: vec![value] }),
            None => Err(SelectorError::new(
                SelectorErrorKind::FieldLabelNotSupported,
                format!("field label not supported: {label}"),
            )),
        })
        .collect()
}

/// The comma-separated terms; a backslash-escaped comma stays in its term
/// (with its backslash). The empty selector has no terms.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&selector[start..i]);
            start = i + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// Splits a term at the first operator: at each position `!=`, then `==`,
/// then `=` is tried. Returns the field, the operator and the raw value.
fn split_term(term: &str) -> Option<(&str, FieldOp, &str)> {
    const OPERATORS: [(&str, FieldOp); 3] = [("!=", FieldOp::NotIn), ("==", FieldOp::In), ("=", FieldOp::In)];
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (text, op) in OPERATORS {
            if let Some(value) = rest.strip_prefix(text) {
                return Some((&term[..i], op, value));
            }
        }
    }
    None
}

/// Undoes `fields.EscapeValue`: `\\` → `\`, `\,` → `,`, `\=` → `=`.
fn unescape_value(raw: &str) -> Result<String, SelectorError> {
    let invalid = |message: String| SelectorError::new(SelectorErrorKind::InvalidFieldSelector, message);
    if !raw.contains(['\\', ',', '=']) {
        return Ok(raw.to_owned());
    }
    let mut value = String::with_capacity(raw.len());
    let mut in_slash = false;
    for c in raw.chars() {
        if in_slash {
            match c {
                '\\' | ',' | '=' => value.push(c),
                _ => return Err(invalid(format!("invalid field selector: invalid escape sequence: \\{c}"))),
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            // Go formats the rune with %v: its code point in decimal.
            ',' | '=' => {
                return Err(invalid(format!("invalid field selector: unescaped character in value: {}", c as u32)))
            }
            _ => value.push(c),
        }
    }
    if in_slash {
        return Err(invalid("invalid field selector: invalid escape sequence: \\".to_owned()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_terms_keeps_escaped_commas_and_empty_terms() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("a=b", &["a=b"]),
            ("a=b,c=d", &["a=b", "c=d"]),
            (",", &["", ""]),
            ("a=b\\,c", &["a=b\\,c"]),
            ("a=b\\\\,c", &["a=b\\\\", "c"]),
            ("a=\\é,b", &["a=\\é", "b"]),
            ("a=b\\", &["a=b\\"]),
        ];
        for (input, want) in cases {
            assert_eq!(split_terms(input), *want, "split_terms({input:?})");
        }
    }

    #[test]
    fn split_term_takes_the_first_operator() {
        type Split<'a> = Option<(&'a str, FieldOp, &'a str)>;
        let cases: &[(&str, Split)] = &[
            ("a=b", Some(("a", FieldOp::In, "b"))),
            ("a==b", Some(("a", FieldOp::In, "b"))),
            ("a!=b", Some(("a", FieldOp::NotIn, "b"))),
            ("a===b", Some(("a", FieldOp::In, "=b"))),
            ("a=!=b", Some(("a", FieldOp::In, "!=b"))),
            ("a!==b", Some(("a", FieldOp::NotIn, "=b"))),
            ("a!b=c", Some(("a!b", FieldOp::In, "c"))),
            ("=", Some(("", FieldOp::In, ""))),
            ("!=", Some(("", FieldOp::NotIn, ""))),
            ("é=ü", Some(("é", FieldOp::In, "ü"))),
            ("abc", None),
            ("a!b", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(split_term(input), *want, "split_term({input:?})");
        }
    }

    #[test]
    fn unescape_value_undoes_escape_value() {
        let ok: &[(&str, &str)] = &[("", ""), ("plain", "plain"), ("a\\,b", "a,b"), ("a\\=b", "a=b"), ("\\\\", "\\")];
        for (input, want) in ok {
            assert_eq!(unescape_value(input).as_deref(), Ok(*want), "unescape_value({input:?})");
        }
        let bad: &[(&str, &str)] = &[
            ("a\\nb", "invalid field selector: invalid escape sequence: \\n"),
            ("a\\", "invalid field selector: invalid escape sequence: \\"),
            ("\\é", "invalid field selector: invalid escape sequence: \\é"),
            ("a=b", "invalid field selector: unescaped character in value: 61"),
            ("a,b", "invalid field selector: unescaped character in value: 44"),
        ];
        for (input, want) in bad {
            let err = unescape_value(input).expect_err(input);
            assert_eq!(err.to_string(), *want, "unescape_value({input:?})");
            assert_eq!(err.kind(), SelectorErrorKind::InvalidFieldSelector);
        }
    }

    #[test]
    fn every_label_has_a_single_slot_or_the_component_fallback() {
        for shape in ApiShape::ALL {
            for label in supported_field_labels(shape) {
                let field = field_label(label, shape).expect(label);
                assert!(field.slot().is_some() || field == QueryField::Component, "{label}");
            }
        }
    }
}
