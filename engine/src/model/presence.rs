//! The bit assignment of [`Presence`]: which keys were present in the source
//! object although their typed slot cannot say so.
//!
//! This module owns the meaning of every bit; storage keeps the word opaque
//! and must persist it unchanged, so **a bit, once assigned, never moves**.
//!
//! | bits | meaning when set |
//! |---|---|
//! | 0..24 | the [`StrField`] with that index was an explicit `null` (slot `None`) |
//! | 24..32 | the [`TimeField`] at `index - 24` was an explicit `null` |
//! | 32..40 | the [`IntField`] at `index - 32` was an explicit `null` |
//! | 40 + 2c | container `c` (involvedObject, source, series) was an object with no typed leaf (`{}` or only residual keys) |
//! | 41 + 2c | container `c` was an explicit `null` |
//! | 56 | the top-level `kind` key was present |
//! | 57 | the top-level `apiVersion` key was present |
//!
//! `metadata` has no bits: it is required on input and always rendered.
//!
//! A word is *normal* when it holds no bit that cannot change the rendering
//! (see [`normalize`]); the parser only produces normal words, so
//! `parse(render(e)) == e` holds for every event whose word is normal.
//! [`canonicalize`] gives an event built in code the keys the API server
//! itself emits.

use super::event::{ApiShape, Event, IntField, Presence, StrField, TimeField};

/// One typed slot of an [`Event`], as a key of the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// A string slot.
    Str(StrField),
    /// A timestamp slot.
    Time(TimeField),
    /// An integer slot.
    Int(IntField),
}

/// An object-valued key holding typed leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Container {
    /// `metadata` (required; no presence bits).
    Metadata = 0,
    /// `involvedObject` / `regarding`.
    InvolvedObject = 1,
    /// `source` / `deprecatedSource`.
    Source = 2,
    /// `series`.
    Series = 3,
}

impl Container {
    /// The containers that carry presence bits.
    pub const OPTIONAL: [Container; 3] = [Container::InvolvedObject, Container::Source, Container::Series];

    /// The typed slots that live inside this container.
    pub fn slots(self) -> &'static [Slot] {
        use Slot::{Int, Str, Time};
        match self {
            Container::Metadata => &[
                Str(StrField::MetadataName),
                Str(StrField::MetadataNamespace),
                Str(StrField::MetadataUid),
                Str(StrField::MetadataResourceVersion),
                Time(TimeField::CreationTimestamp),
            ],
            Container::InvolvedObject => &[
                Str(StrField::InvolvedObjectKind),
                Str(StrField::InvolvedObjectNamespace),
                Str(StrField::InvolvedObjectName),
                Str(StrField::InvolvedObjectUid),
                Str(StrField::InvolvedObjectApiVersion),
                Str(StrField::InvolvedObjectResourceVersion),
                Str(StrField::InvolvedObjectFieldPath),
            ],
            Container::Source => &[Str(StrField::SourceComponent), Str(StrField::SourceHost)],
            Container::Series => &[Int(IntField::SeriesCount), Time(TimeField::SeriesLastObservedTime)],
        }
    }
}

const STR_BASE: usize = 0;
const TIME_BASE: usize = 24;
const INT_BASE: usize = 32;
const CONTAINER_BASE: usize = 40;

// IMPORTANT: the ranges above are part of the on-disk format; growing a slot
// enum past its range needs a new range, not a shift.
const _: () = assert!(StrField::COUNT <= TIME_BASE - STR_BASE);
const _: () = assert!(TimeField::COUNT <= INT_BASE - TIME_BASE);
const _: () = assert!(IntField::COUNT <= CONTAINER_BASE - INT_BASE);

/// The top-level `kind` key was present.
pub const KIND: u64 = 1 << 56;
/// The top-level `apiVersion` key was present.
pub const API_VERSION: u64 = 1 << 57;

const fn low_bits(n: usize) -> u64 {
    (1u64 << n) - 1
}

/// Every assigned bit.
pub const KNOWN: u64 = low_bits(StrField::COUNT) << STR_BASE
    | low_bits(TimeField::COUNT) << TIME_BASE
    | low_bits(IntField::COUNT) << INT_BASE
    | low_bits(2 * Container::OPTIONAL.len()) << (CONTAINER_BASE + 2)
    | KIND
    | API_VERSION;

/// The bit saying that `slot` was an explicit `null`.
pub fn null_bit(slot: Slot) -> u64 {
    let bit = match slot {
        Slot::Str(f) => STR_BASE + f.index(),
        Slot::Time(f) => TIME_BASE + f.index(),
        Slot::Int(f) => INT_BASE + f.index(),
    };
    1 << bit
}

/// The bit saying that `container` was an object without typed leaves
/// (`0` for `metadata`, which is always rendered).
pub fn empty_bit(container: Container) -> u64 {
    match container {
        Container::Metadata => 0,
        c => 1 << (CONTAINER_BASE + 2 * c as usize),
    }
}

/// The bit saying that `container` was an explicit `null` (`0` for
/// `metadata`, which may not be null).
pub fn container_null_bit(container: Container) -> u64 {
    match container {
        Container::Metadata => 0,
        c => 1 << (CONTAINER_BASE + 2 * c as usize + 1),
    }
}

/// True when `bit` (one of this module's bits) is set in `presence`.
pub fn has(presence: Presence, bit: u64) -> bool {
    presence.0 & bit != 0
}

/// True when the event's `slot` holds a value.
pub fn slot_is_set(event: &Event, slot: Slot) -> bool {
    match slot {
        Slot::Str(f) => event.str(f).is_some(),
        Slot::Time(f) => event.time(f).is_some(),
        Slot::Int(f) => event.int(f).is_some(),
    }
}

/// True when rendering `container` has a typed leaf to write: a slot with a
/// value or an explicit `null`.
pub fn container_has_leaves(event: &Event, presence: u64, container: Container) -> bool {
    container.slots().iter().any(|&s| slot_is_set(event, s) || presence & null_bit(s) != 0)
}

/// The event's presence word without the bits that cannot change its
/// rendering: unknown bits, `null` bits of slots holding a value, and
/// container bits overridden by leaves (or `null` overridden by `{}`).
pub fn normalize(event: &Event) -> Presence {
    let mut p = event.presence().0 & KNOWN;
    for &f in StrField::ALL {
        if event.str(f).is_some() {
            p &= !null_bit(Slot::Str(f));
        }
    }
    for &f in TimeField::ALL {
        if event.time(f).is_some() {
            p &= !null_bit(Slot::Time(f));
        }
    }
    for &f in IntField::ALL {
        if event.int(f).is_some() {
            p &= !null_bit(Slot::Int(f));
        }
    }
    for c in Container::OPTIONAL {
        if container_has_leaves(event, p, c) {
            p &= !(empty_bit(c) | container_null_bit(c));
        } else if p & empty_bit(c) != 0 {
            p &= !container_null_bit(c);
        }
    }
    Presence(p)
}

/// The word that makes an event of `shape` render the keys the API server
/// emits even when empty (Go's encoding of the `Event` structs): `kind`,
/// `apiVersion`, `involvedObject`/`regarding` and `source`/`deprecatedSource`
/// as `{}`, and `metadata.creationTimestamp`, `firstTimestamp`,
/// `lastTimestamp` and `eventTime` (and their events.k8s.io names) as `null`.
pub fn canonical(shape: ApiShape) -> Presence {
    // Both groups emit the same empty keys; only their names differ.
    let _ = shape;
    Presence(
        KIND | API_VERSION
            | empty_bit(Container::InvolvedObject)
            | empty_bit(Container::Source)
            | null_bit(Slot::Time(TimeField::CreationTimestamp))
            | null_bit(Slot::Time(TimeField::FirstTimestamp))
            | null_bit(Slot::Time(TimeField::LastTimestamp))
            | null_bit(Slot::Time(TimeField::EventTime)),
    )
}

/// Makes an event built in code render as the API server would render it:
/// adds the [`canonical`] bits for its shape, fills core/v1's non-optional
/// `reportingComponent` and `reportingInstance` with `""` when unset, then
/// [`normalize`]s the word.
pub fn canonicalize(event: &mut Event) {
    event.presence = Presence(event.presence.0 | canonical(event.shape()).0);
    if !event.shape().is_events_group() {
        for f in [StrField::ReportingComponent, StrField::ReportingInstance] {
            if event.str(f).is_none() {
                event.set_str(f, Some(""));
            }
        }
    }
    event.presence = normalize(event);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bit_is_distinct_and_known() {
        let mut seen = 0u64;
        let mut add = |bit: u64| {
            assert_eq!(bit.count_ones(), 1);
            assert_eq!(seen & bit, 0, "bit {bit:#x} assigned twice");
            assert_eq!(KNOWN & bit, bit);
            seen |= bit;
        };
        StrField::ALL.iter().for_each(|&f| add(null_bit(Slot::Str(f))));
        TimeField::ALL.iter().for_each(|&f| add(null_bit(Slot::Time(f))));
        IntField::ALL.iter().for_each(|&f| add(null_bit(Slot::Int(f))));
        for c in Container::OPTIONAL {
            add(empty_bit(c));
            add(container_null_bit(c));
        }
        add(KIND);
        add(API_VERSION);
        assert_eq!(seen, KNOWN);
    }

    #[test]
    fn bit_positions_are_pinned() {
        // The word is stored on disk: these positions must never change.
        assert_eq!(null_bit(Slot::Str(StrField::MetadataName)), 1 << 0);
        assert_eq!(null_bit(Slot::Str(StrField::ReportingInstance)), 1 << 18);
        assert_eq!(null_bit(Slot::Time(TimeField::CreationTimestamp)), 1 << 24);
        assert_eq!(null_bit(Slot::Time(TimeField::SeriesLastObservedTime)), 1 << 28);
        assert_eq!(null_bit(Slot::Int(IntField::Count)), 1 << 32);
        assert_eq!(empty_bit(Container::InvolvedObject), 1 << 42);
        assert_eq!(container_null_bit(Container::Series), 1 << 47);
        assert_eq!((KIND, API_VERSION), (1 << 56, 1 << 57));
    }

    #[test]
    fn normalize_drops_bits_overridden_by_values() {
        let mut e = Event::new(ApiShape::CoreV1);
        e.set_str(StrField::SourceHost, Some("node-1"));
        e.presence = Presence(
            null_bit(Slot::Str(StrField::SourceHost))
                | empty_bit(Container::Source)
                | container_null_bit(Container::Series)
                | empty_bit(Container::Series)
                | 1 << 63,
        );
        assert_eq!(normalize(&e), Presence(empty_bit(Container::Series)));
    }

    #[test]
    fn canonicalize_fills_what_go_always_emits() {
        let mut e = Event::new(ApiShape::CoreV1);
        e.set_time(TimeField::FirstTimestamp, Some(crate::model::Timestamp::from_secs(1)));
        canonicalize(&mut e);
        assert_eq!(e.str(StrField::ReportingComponent), Some(""));
        let p = e.presence();
        assert!(has(p, KIND) && has(p, API_VERSION) && has(p, empty_bit(Container::Source)));
        assert!(!has(p, null_bit(Slot::Time(TimeField::FirstTimestamp))));
        assert!(has(p, null_bit(Slot::Time(TimeField::LastTimestamp))));
    }
}
