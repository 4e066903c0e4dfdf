//! Observations as the engine stores them, and the compact binary row codec
//! the WAL uses for them.
//!
//! Row layout (all varints LEB128, see `codec`):
//!
//! ```text
//! u8        shape tag (0 core/v1, 1 events.k8s.io/v1, 2 events.k8s.io/v1beta1)
//! bytes?    cluster                      (varint len+1, 0 = none)
//! varint    presence word
//! varint    mask of present string slots (bit i = StrField #i)
//! bytes*    each present string slot, in slot order (varint len, bytes)
//! u8        mask of present time slots   (bit i = TimeField #i)
//! signed*   each present time slot (zig-zag varint, microseconds)
//! u8        mask of present int slots    (bit i = IntField #i)
//! signed*   each present int slot (zig-zag varint)
//! bytes?    residual JSON text           (varint len+1, 0 = none)
//! ```

use crate::codec::{put_opt_bytes, put_signed, put_varint, ByteReader, DecodeError};
use crate::model::{ApiShape, Event, IntField, Presence, StrField, TimeField, Timestamp};

/// A database-wide sequence number: every accepted observation gets the next
/// one. Exposed through the Kubernetes API as `metadata.resourceVersion`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SeqNo(pub u64);

impl std::fmt::Display for SeqNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// One stored observation of an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// The observation's sequence number.
    pub seq: SeqNo,
    /// The event as observed.
    pub event: Event,
}

impl StoredEvent {
    /// When this observation was last seen (its sort key).
    pub fn last_seen(&self) -> Timestamp {
        self.event.last_seen().unwrap_or(Timestamp(0))
    }
}

/// Appends the binary row encoding of `event`.
pub fn encode_event(out: &mut Vec<u8>, event: &Event) {
    out.push(event.shape.tag());
    put_opt_bytes(out, Some(event.cluster.as_bytes()));
    put_varint(out, event.presence.0);
    let mut mask = 0u64;
    for (i, s) in event.strs.iter().enumerate() {
        if s.is_some() {
            mask |= 1 << i;
        }
    }
    put_varint(out, mask);
    for s in event.strs.iter().flatten() {
        put_varint(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }
    put_masked(out, &event.times.map(|t| t.map(|t| t.0)));
    put_masked(out, &event.ints);
    put_opt_bytes(out, event.residual.as_deref().map(str::as_bytes));
}

fn put_masked(out: &mut Vec<u8>, values: &[Option<i64>]) {
    let mut mask = 0u8;
    for (i, v) in values.iter().enumerate() {
        if v.is_some() {
            mask |= 1 << i;
        }
    }
    out.push(mask);
    for v in values.iter().flatten() {
        put_signed(out, *v);
    }
}

fn get_masked<const N: usize>(r: &mut ByteReader<'_>) -> Result<[Option<i64>; N], DecodeError> {
    let mask = r.u8()?;
    let mut values = [None; N];
    for (i, v) in values.iter_mut().enumerate() {
        if mask & (1 << i) != 0 {
            *v = Some(r.signed()?);
        }
    }
    Ok(values)
}

/// Decodes one row written by [`encode_event`].
pub fn decode_event(r: &mut ByteReader<'_>) -> Result<Event, DecodeError> {
    let start = r.position();
    let bad = |expected| DecodeError { offset: start, expected };
    let shape = ApiShape::from_tag(r.u8()?).ok_or(bad("a known shape tag"))?;
    let cluster = r.opt_str()?.unwrap_or("").into();
    let presence = Presence(r.varint()?);
    let mask = r.varint()?;
    if mask >> StrField::COUNT != 0 {
        return Err(bad("a string mask within the slot count"));
    }
    let mut event = Event { shape, cluster, presence, ..Event::default() };
    for (i, slot) in event.strs.iter_mut().enumerate() {
        if mask & (1 << i) != 0 {
            let n = r.len()?;
            let bytes = r.bytes(n)?;
            let s = std::str::from_utf8(bytes).map_err(|_| bad("UTF-8 text"))?;
            *slot = Some(s.into());
        }
    }
    let times: [Option<i64>; TimeField::COUNT] = get_masked(r)?;
    event.times = times.map(|t| t.map(Timestamp));
    let ints: [Option<i64>; IntField::COUNT] = get_masked(r)?;
    event.ints = ints;
    event.residual = r.opt_str()?.map(Into::into);
    Ok(event)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Arbitrary events over every slot (test-only generator shared by the
    /// storage tests).
    pub(crate) fn arb_event() -> impl Strategy<Value = Event> {
        (
            0u8..3,
            "[a-z]{0,6}",
            any::<u64>(),
            proptest::collection::vec(proptest::option::of(".{0,12}"), StrField::COUNT),
            proptest::collection::vec(
                proptest::option::of(-4_000_000_000_000_000i64..4_000_000_000_000_000),
                TimeField::COUNT,
            ),
            proptest::collection::vec(proptest::option::of(any::<i32>()), IntField::COUNT),
            proptest::option::of("\\{\"[a-z]{1,4}\":[0-9]{1,3}\\}"),
        )
            .prop_map(|(shape, cluster, presence, strs, times, ints, residual)| {
                let mut e = Event::new(ApiShape::from_tag(shape).unwrap_or_default());
                e.cluster = cluster.into();
                e.presence = Presence(presence);
                for (i, s) in strs.into_iter().enumerate() {
                    e.strs[i] = s.map(Into::into);
                }
                for (i, t) in times.into_iter().enumerate() {
                    e.times[i] = t.map(Timestamp);
                }
                for (i, v) in ints.into_iter().enumerate() {
                    e.ints[i] = v.map(i64::from);
                }
                e.residual = residual.map(Into::into);
                e
            })
    }

    proptest! {
        #[test]
        fn rows_round_trip(events in proptest::collection::vec(arb_event(), 1..8)) {
            let mut buf = Vec::new();
            for e in &events {
                encode_event(&mut buf, e);
            }
            let mut r = ByteReader::new(&buf);
            for e in &events {
                prop_assert_eq!(&decode_event(&mut r).unwrap(), e);
            }
            prop_assert!(r.is_empty());
        }

        #[test]
        fn truncated_rows_are_errors_not_panics(e in arb_event(), cut in 0usize..64) {
            let mut buf = Vec::new();
            encode_event(&mut buf, &e);
            let cut = cut.min(buf.len().saturating_sub(1));
            let _ = decode_event(&mut ByteReader::new(&buf[..cut]));
        }
    }

    #[test]
    fn row_golden_bytes() {
        let mut e = Event::new(ApiShape::CoreV1);
        e.cluster = "c".into();
        e.set_str(StrField::Reason, Some("R"));
        e.set_time(TimeField::LastTimestamp, Some(Timestamp(1)));
        e.set_int(IntField::Count, Some(2));
        let mut buf = Vec::new();
        encode_event(&mut buf, &e);
        // shape, cluster "c", presence 0, str mask bit 11 (Reason), "R",
        // time mask bit 2, +1 zig-zagged, int mask bit 0, 2 zig-zagged, no residual.
        assert_eq!(buf, [0x00, 0x02, b'c', 0x00, 0x80, 0x10, 0x01, b'R', 0x04, 0x02, 0x01, 0x04, 0x00]);
    }
}
