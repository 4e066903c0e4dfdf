//! WAL frames: one framed, checksummed batch of rows.

use crate::codec::{crc, ByteReader, DecodeError};
use crate::model::Event;
use crate::row::{decode_event, encode_event, SeqNo};

/// A decoded WAL batch.
#[derive(Debug)]
pub(crate) struct Batch {
    pub first_seq: SeqNo,
    pub events: Vec<Event>,
}

/// Encodes a batch as one complete frame (header and payload).
pub(crate) fn encode_batch(first_seq: SeqNo, events: &[&Event]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + events.len() * 400);
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&first_seq.0.to_le_bytes());
    out.extend_from_slice(&(events.len() as u32).to_le_bytes());
    for e in events {
        encode_event(&mut out, e);
    }
    let payload_len = (out.len() - 8) as u32;
    let checksum = crc(&out[8..]);
    out[0..4].copy_from_slice(&payload_len.to_le_bytes());
    out[4..8].copy_from_slice(&checksum.to_le_bytes());
    out
}

/// Decodes a payload whose checksum has been verified.
pub(crate) fn decode_payload(payload: &[u8]) -> Result<Batch, DecodeError> {
    let mut r = ByteReader::new(payload);
    let first_seq = SeqNo(r.u64_le()?);
    let count = r.u32_le()? as usize;
    // Each row takes at least 5 bytes; refuse counts the payload cannot hold.
    if count > payload.len() / 5 {
        return Err(DecodeError { offset: 8, expected: "a row count the payload can hold" });
    }
    let mut events = Vec::with_capacity(count);
    for _ in 0..count {
        events.push(decode_event(&mut r)?);
    }
    if !r.is_empty() {
        return Err(DecodeError { offset: r.position(), expected: "the end of the payload" });
    }
    Ok(Batch { first_seq, events })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ApiShape, StrField};

    #[test]
    fn frame_golden_bytes() {
        let mut e = Event::new(ApiShape::EventsV1);
        e.set_str(StrField::Reason, Some("R"));
        let frame = encode_batch(SeqNo(7), &[&e]);
        let hex: String = frame.iter().map(|b| format!("{b:02x}")).collect();
        // len=0x16 (22 bytes), crc, first_seq=7, count=1, row (shape 1, empty cluster, ...)
        assert_eq!(&hex[..8], "16000000");
        assert_eq!(&hex[16..], "07000000000000000100000001010080100152000000");
        assert_eq!(&frame[4..8], &crc(&frame[8..]).to_le_bytes());
        let batch = decode_payload(&frame[8..]).unwrap();
        assert_eq!(batch.first_seq, SeqNo(7));
        assert_eq!(batch.events, vec![e]);
    }
}
