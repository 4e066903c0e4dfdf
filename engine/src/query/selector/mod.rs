//! Kubernetes field and label selectors for events: this module owns turning
//! the `fieldSelector` and `labelSelector` strings of a list/watch request
//! into [`FieldFilter`](crate::FieldFilter)s and
//! [`LabelRequirement`](crate::LabelRequirement)s, accepting and rejecting
//! exactly what the API server accepts and rejects for the `events` resource
//! of the requested API group, with the API server's error texts.
//!
//! - [`parse_field_selector`] runs `k8s.io/apimachinery/pkg/fields.ParseSelector`
//!   (`=`, `==`, `!=`, comma = AND, backslash escapes in values) followed by
//!   the group's field-label conversion (`pkg/apis/core/v1`,
//!   `pkg/apis/events/v1`, `pkg/apis/events/v1beta1`) and the selectable
//!   fields of an event (`pkg/registry/core/event/strategy.go`).
//! - [`parse_label_selector`] runs `k8s.io/apimachinery/pkg/labels.Parse` (its
//!   lexer, parser, and key/value validation).
//!
//! Whatever fails here, the API server answers `400 BadRequest` with the
//! [`SelectorError`]'s text as the `Status` message. The texts follow current
//! Kubernetes (apimachinery with `api/validate/content`); older servers word
//! a few label-selector messages differently (see [`SelectorError`]).

mod error;
mod field;
mod gofmt;
mod label;

pub use error::{SelectorError, SelectorErrorKind};
pub use field::{field_label, parse_field_selector, supported_field_labels};
pub use label::parse_label_selector;
