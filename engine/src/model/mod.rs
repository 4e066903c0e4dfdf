//! The Kubernetes event model: the normalised [`Event`], parsing every format
//! events are found in, and rendering back to either API shape.
//!
//! **Architecture Invariant:** only this module knows Kubernetes JSON/YAML;
//! the rest of the engine sees an [`Event`]'s typed slots.

pub mod event;
pub mod parse;
pub mod presence;
pub mod render;
pub mod time;

pub use event::{ApiShape, Event, IntField, Presence, StrField, TimeField};
pub use time::Timestamp;
