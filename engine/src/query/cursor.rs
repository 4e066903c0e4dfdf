//! Continue tokens: opaque, tamper-checked positions in a paged result.
//!
//! A token pins the snapshot (the seq high-water mark `hi` of the first
//! page) and the last row returned, so paging while ingest goes on returns
//! every matching event exactly once: later pages see the same rows, in the
//! same order, as the first page did.
//!
//! ```text
//! base64url (no padding) of:
//! u8   version = 1
//! u8   order (0 newest first, 1 oldest first)
//! u64  hi: snapshot seq high-water mark          (little-endian)
//! i64  last row's last-seen time, µs
//! u64  last row's seq
//! u64  fingerprint of the query (XXH3-64 of its canonical form, limit excluded)
//! 16B  MAC: first 16 bytes of BLAKE3 keyed hash (database token key) of all of the above
//! ```

use super::{Order, Query};
use crate::error::{Error, Result};
use base64::Engine as _;

const VERSION: u8 = 1;
const BODY_LEN: usize = 1 + 1 + 8 + 8 + 8 + 8;
const MAC_LEN: usize = 16;

/// A decoded, verified continue token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub hi: u64,
    pub last_seen: i64,
    pub seq: u64,
}

/// The fingerprint binding a token to its query.
fn fingerprint(query: &Query) -> u64 {
    let canonical = Query { limit: None, ..query.clone() };
    xxhash_rust::xxh3::xxh3_64(format!("{canonical:?}").as_bytes())
}

fn mac(key: &[u8; 32], body: &[u8]) -> [u8; MAC_LEN] {
    let full = blake3::keyed_hash(key, body);
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&full.as_bytes()[..MAC_LEN]);
    out
}

/// Encodes a token for resuming `query` after `cursor`.
pub(crate) fn encode(key: &[u8; 32], query: &Query, cursor: Cursor) -> String {
    let mut b = Vec::with_capacity(BODY_LEN + MAC_LEN);
    b.push(VERSION);
    b.push(u8::from(query.order == Order::OldestFirst));
    b.extend_from_slice(&cursor.hi.to_le_bytes());
    b.extend_from_slice(&cursor.last_seen.to_le_bytes());
    b.extend_from_slice(&cursor.seq.to_le_bytes());
    b.extend_from_slice(&fingerprint(query).to_le_bytes());
    let m = mac(key, &b);
    b.extend_from_slice(&m);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Decodes and verifies a token for `query`.
pub(crate) fn decode(key: &[u8; 32], query: &Query, token: &str) -> Result<Cursor> {
    let bad = |why: &str| Error::InvalidToken(why.to_string());
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| bad("not base64url"))?;
    if b.len() != BODY_LEN + MAC_LEN {
        return Err(bad("wrong length"));
    }
    let (body, tag) = b.split_at(BODY_LEN);
    // Constant-time comparison is not needed for correctness here, but it
    // costs nothing.
    let expected = mac(key, body);
    if expected.iter().zip(tag).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
        return Err(bad("it was altered or made by another database"));
    }
    if body[0] != VERSION {
        return Err(bad("unknown version"));
    }
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&body[at..at + 8]);
        w
    };
    if body[1] != u8::from(query.order == Order::OldestFirst) || u64::from_le_bytes(word(26)) != fingerprint(query) {
        return Err(bad("it belongs to a different query"));
    }
    Ok(Cursor {
        hi: u64::from_le_bytes(word(2)),
        last_seen: i64::from_le_bytes(word(10)),
        seq: u64::from_le_bytes(word(18)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let key = [7u8; 32];
        let q = Query::new().namespace("ns");
        let c = Cursor { hi: 42, last_seen: -5, seq: 17 };
        let t = encode(&key, &q, c);
        assert_eq!(decode(&key, &q, &t).unwrap(), c);
        // Same query with another limit: still valid.
        assert_eq!(decode(&key, &q.clone().limit(3), &t).unwrap(), c);
        // Another query, another key, a flipped byte, garbage: all refused.
        assert!(decode(&key, &Query::new().namespace("other"), &t)
            .unwrap_err()
            .to_string()
            .contains("different query"));
        assert!(decode(&[8u8; 32], &q, &t).unwrap_err().to_string().contains("altered"));
        let mut raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&t).unwrap();
        raw[3] ^= 1;
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        assert!(decode(&key, &q, &forged).unwrap_err().to_string().contains("altered"));
        assert!(decode(&key, &q, "%%%").is_err());
        assert!(decode(&key, &q, "").is_err());
    }
}
