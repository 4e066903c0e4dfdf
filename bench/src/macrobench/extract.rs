//! What a peer stores of one NDJSON observation besides the full JSON text:
//! identity, version and the fields the query set filters on, extracted with
//! serde_json by the rules kevdb's model uses (both API shapes; last seen =
//! `series.lastObservedTime`, else `lastTimestamp`, else `eventTime`, …).

use serde_json::Value;

/// The cluster annotation kevdb honours; events without it belong to
/// `default`, as kevdb's default cluster.
const CLUSTER_ANNOTATION: &str = "kevdb.io/cluster";

/// The columns a peer keeps for one observation.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerRow {
    /// Input line number (1-based): the order of arrival, as kevdb's seq.
    pub seq: i64,
    pub cluster: String,
    /// `metadata.uid`, or `namespace/name` when there is none.
    pub uid: String,
    /// `metadata.resourceVersion` when numeric, else 0.
    pub rv: i64,
    pub namespace: String,
    pub event_type: String,
    pub reason: String,
    pub kind: String,
    pub name: String,
    pub message: String,
    /// Microseconds since the epoch.
    pub first_seen: i64,
    /// Microseconds since the epoch.
    pub last_seen: i64,
    pub count: i64,
    /// The observation as it arrived.
    pub json: String,
}

fn path<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |v, k| v.get(k))
}

fn text(v: &Value, keys: &[&str]) -> Option<String> {
    path(v, keys).and_then(Value::as_str).map(str::to_string)
}

fn time(v: &Value, keys: &[&str]) -> Option<i64> {
    let s = path(v, keys)?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp_micros())
}

fn int(v: &Value, keys: &[&str]) -> Option<i64> {
    path(v, keys).and_then(Value::as_i64)
}

/// Extracts a [`PeerRow`] from one NDJSON line.
pub fn extract(line: &str, seq: i64) -> anyhow::Result<PeerRow> {
    let v: Value = serde_json::from_str(line)?;
    // The involved object: `involvedObject` (core/v1) or `regarding` (events.k8s.io).
    let object = v.get("involvedObject").or_else(|| v.get("regarding")).unwrap_or(&Value::Null);
    let last_seen = time(&v, &["series", "lastObservedTime"])
        .or_else(|| time(&v, &["lastTimestamp"]))
        .or_else(|| time(&v, &["deprecatedLastTimestamp"]))
        .or_else(|| time(&v, &["eventTime"]))
        .or_else(|| time(&v, &["firstTimestamp"]))
        .or_else(|| time(&v, &["deprecatedFirstTimestamp"]))
        .or_else(|| time(&v, &["metadata", "creationTimestamp"]))
        .ok_or_else(|| anyhow::anyhow!("line {seq}: no timestamp"))?;
    let first_seen = time(&v, &["firstTimestamp"])
        .or_else(|| time(&v, &["deprecatedFirstTimestamp"]))
        .or_else(|| time(&v, &["eventTime"]))
        .or_else(|| time(&v, &["metadata", "creationTimestamp"]))
        .unwrap_or(last_seen)
        .min(last_seen);
    let namespace = text(&v, &["metadata", "namespace"]).unwrap_or_default();
    let uid = text(&v, &["metadata", "uid"])
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("{namespace}/{}", text(&v, &["metadata", "name"]).unwrap_or_default()));
    Ok(PeerRow {
        seq,
        cluster: text(&v, &["metadata", "annotations", CLUSTER_ANNOTATION]).unwrap_or_else(|| "default".into()),
        uid,
        rv: text(&v, &["metadata", "resourceVersion"]).and_then(|r| r.parse().ok()).unwrap_or(0),
        namespace,
        event_type: text(&v, &["type"]).unwrap_or_default(),
        reason: text(&v, &["reason"]).unwrap_or_default(),
        kind: text(object, &["kind"]).unwrap_or_default(),
        name: text(object, &["name"]).unwrap_or_default(),
        message: text(&v, &["message"]).or_else(|| text(&v, &["note"])).unwrap_or_default(),
        first_seen,
        last_seen,
        count: int(&v, &["series", "count"])
            .or_else(|| int(&v, &["count"]))
            .or_else(|| int(&v, &["deprecatedCount"]))
            .unwrap_or(1),
        json: line.to_string(),
    })
}

/// Extracts every non-blank line of an NDJSON batch whose first line has
/// the 0-based index `first`.
pub fn extract_batch(batch: &[u8], first: u64) -> anyhow::Result<Vec<PeerRow>> {
    let text = std::str::from_utf8(batch)?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| extract(l, (first + i as u64 + 1) as i64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes() {
        let core = r#"{"kind":"Event","apiVersion":"v1","metadata":{"name":"p.1","namespace":"a","uid":"u1","resourceVersion":"7","creationTimestamp":"2026-01-01T00:00:00Z"},"involvedObject":{"kind":"Pod","name":"p"},"reason":"BackOff","message":"m","firstTimestamp":"2026-01-01T00:00:00Z","lastTimestamp":"2026-01-01T00:01:00Z","count":3,"type":"Warning","eventTime":null}"#;
        let r = extract(core, 1).unwrap();
        assert_eq!((r.cluster.as_str(), r.uid.as_str(), r.rv, r.count), ("default", "u1", 7, 3));
        assert_eq!((r.kind.as_str(), r.name.as_str(), r.message.as_str()), ("Pod", "p", "m"));
        assert_eq!(r.last_seen - r.first_seen, 60_000_000);
        let v1 = r#"{"kind":"Event","apiVersion":"events.k8s.io/v1","metadata":{"name":"p.2","namespace":"a","uid":"u2","resourceVersion":"9","annotations":{"kevdb.io/cluster":"c2"}},"eventTime":"2026-01-01T00:00:00.000001Z","series":{"count":4,"lastObservedTime":"2026-01-01T00:02:00.000001Z"},"regarding":{"kind":"Node","name":"n"},"note":"x","type":"Normal"}"#;
        let r = extract(v1, 2).unwrap();
        assert_eq!((r.cluster.as_str(), r.count, r.kind.as_str(), r.message.as_str()), ("c2", 4, "Node", "x"));
        assert_eq!(r.last_seen - r.first_seen, 120_000_000);
        assert_eq!(r.first_seen % 1_000_000, 1);
    }
}
