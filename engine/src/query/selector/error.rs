//! The error of a rejected selector: its class and the API server's text.

use std::fmt;

/// What kind of selector error this is. Every kind is a `400 BadRequest`
/// (`reason: BadRequest`) from the API server; the kind only tells the HTTP
/// layer (or a user) which part of the request was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SelectorErrorKind {
    /// The field selector does not parse: a term without an operator
    /// (`invalid selector: '…'; can't understand '…'`) or a bad value
    /// escape (`invalid field selector: …`).
    InvalidFieldSelector,
    /// The field selector parses but names a field events of the requested
    /// API group cannot be selected by (`field label not supported: …`).
    FieldLabelNotSupported,
    /// The label selector does not parse, or a key or value is not a valid
    /// label key or value (`unable to parse requirement: …`, `found '…',
    /// expected: …`).
    InvalidLabelSelector,
}

/// A selector the API server would reject. [`Display`](fmt::Display) is
/// exactly the message the API server puts in its `Status` (for example
/// `field label not supported: source`).
///
/// The texts are those of current Kubernetes. Older API servers differ in a
/// few label-selector texts: before `api/validate/content`, a key with two
/// `/` read `a qualified name must …` instead of `a valid label key must …`,
/// and a missing operator read `expected: '=', '!=', '==', 'in', notin'`
/// instead of `expected: in, notin, =, ==, !=, gt, lt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError {
    kind: SelectorErrorKind,
    message: String,
}

impl SelectorError {
    pub(super) fn new(kind: SelectorErrorKind, message: String) -> SelectorError {
        SelectorError { kind, message }
    }

    /// The class of the error.
    pub fn kind(&self) -> SelectorErrorKind {
        self.kind
    }

    /// The API server's message (the same text as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True for `field label not supported: …` (a well-formed field selector
    /// on a field the requested API group does not offer), false for syntax
    /// and validation errors.
    pub fn is_field_label_not_supported(&self) -> bool {
        self.kind == SelectorErrorKind::FieldLabelNotSupported
    }

    /// The HTTP status the API server answers with: always 400.
    pub fn http_status(&self) -> u16 {
        400
    }
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SelectorError {}
