//! Where collected events go: the embedded database (`--data`) or a kevdb
//! server (`--server`), and where the collector's checkpoints (the
//! resourceVersion archived up to, per cluster and API group) are kept — in
//! the same place as the events, so the two never disagree about which
//! archive they describe.

use anyhow::Context;
use kevdb_engine::model::parse::{event_from_value, ParseOptions};
use kevdb_engine::Db;
use serde_json::{json, Value};
use std::sync::Arc;

/// Counts of one delivery.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
}

/// The archive the collector writes to.
#[derive(Clone)]
pub enum Sink {
    /// An embedded database.
    Local(Arc<Db>),
    /// A kevdb server, reached with a kube-rs client (it speaks the same
    /// HTTP conventions: bearer tokens, `Status` errors).
    Remote { client: kube::Client, token: Option<String> },
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::Local(db) => write!(f, "Sink::Local({})", db.dir().display()),
            Sink::Remote { .. } => f.write_str("Sink::Remote"),
        }
    }
}

fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Sink {
    /// A sink writing to the kevdb server at `url`.
    pub fn remote(url: &str, token: Option<String>) -> anyhow::Result<Sink> {
        let uri: ::http::Uri = url.parse().with_context(|| format!("--server {url:?}: not a URL"))?;
        anyhow::ensure!(
            matches!(uri.scheme_str(), Some("http" | "https")),
            "--server {url:?}: expected an http:// or https:// URL"
        );
        let client = kube::Client::try_from(kube::Config::new(uri)).context("building the HTTP client for --server")?;
        Ok(Sink::Remote { client, token })
    }

    fn request(
        &self,
        method: ::http::Method,
        path: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> ::http::Request<Vec<u8>> {
        let mut b =
            ::http::Request::builder().method(method).uri(path).header(::http::header::CONTENT_TYPE, content_type);
        if let Sink::Remote { token: Some(t), .. } = self {
            b = b.header(::http::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        // NOTE: the method, a path we built and static headers always make a valid request.
        b.body(body).unwrap_or_default()
    }

    /// Stores `objects` (Event objects as the cluster served them) under
    /// `cluster`. Returns once they are durable. Objects that are not valid
    /// events are reported and left out: one bad object must not stall the
    /// stream behind it.
    pub async fn append(&self, cluster: &str, objects: Vec<Value>) -> anyhow::Result<Delivered> {
        match self {
            Sink::Local(db) => {
                let db = db.clone();
                let cluster = cluster.to_owned();
                tokio::task::spawn_blocking(move || {
                    let mut events = Vec::with_capacity(objects.len());
                    let mut rejected = 0;
                    for o in objects {
                        match event_from_value(o, &ParseOptions::default()) {
                            Ok(mut e) => {
                                e.set_cluster(cluster.as_str());
                                events.push(e);
                            }
                            Err(m) => {
                                tracing::warn!(cluster = %cluster, error = %m, "skipping an event the cluster sent");
                                rejected += 1;
                            }
                        }
                    }
                    let report = db.append(events)?;
                    for r in &report.rejected {
                        tracing::warn!(cluster = %cluster, reason = %r.reason, "an event was refused");
                    }
                    Ok(Delivered {
                        accepted: report.accepted,
                        duplicates: report.duplicates,
                        rejected: rejected + report.rejected.len(),
                    })
                })
                .await?
            }
            Sink::Remote { client, .. } => {
                let mut body = Vec::new();
                for o in &objects {
                    serde_json::to_writer(&mut body, o)?;
                    body.push(b'\n');
                }
                let path = format!("/clusters/{}/kevdb/v1/ingest", path_segment(cluster));
                let req = self.request(::http::Method::POST, &path, body, "application/x-ndjson");
                let text = client.request_text(req).await.context("delivering events to the kevdb server")?;
                let reply: Value = serde_json::from_str(&text).context("reading the kevdb server's ingest reply")?;
                for e in reply["errors"].as_array().into_iter().flatten() {
                    let reason = e["message"].as_str().unwrap_or("");
                    tracing::warn!(cluster, reason, "the kevdb server refused an event");
                }
                let n = |k: &str| reply[k].as_u64().unwrap_or(0) as usize;
                Ok(Delivered { accepted: n("accepted"), duplicates: n("duplicates"), rejected: n("rejected") })
            }
        }
    }

    /// The value of checkpoint `name`.
    pub async fn checkpoint(&self, name: &str) -> anyhow::Result<Option<String>> {
        match self {
            Sink::Local(db) => Ok(db.checkpoint(name)?),
            Sink::Remote { client, .. } => {
                let path = format!("/kevdb/v1/checkpoints/{}", path_segment(name));
                let req = self.request(::http::Method::GET, &path, Vec::new(), "application/json");
                match client.request_text(req).await {
                    Ok(text) => {
                        let v: Value = serde_json::from_str(&text).context("reading a checkpoint")?;
                        Ok(v["value"].as_str().map(str::to_owned))
                    }
                    Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
                    Err(e) => Err(e).context("reading the collector's checkpoint from the kevdb server"),
                }
            }
        }
    }

    /// Durably sets checkpoint `name`; call only after the events it covers
    /// were delivered.
    pub async fn set_checkpoint(&self, name: &str, value: &str) -> anyhow::Result<()> {
        match self {
            Sink::Local(db) => {
                let (db, name, value) = (db.clone(), name.to_owned(), value.to_owned());
                Ok(tokio::task::spawn_blocking(move || db.set_checkpoint(&name, &value)).await??)
            }
            Sink::Remote { client, .. } => {
                let path = format!("/kevdb/v1/checkpoints/{}", path_segment(name));
                let body = serde_json::to_vec(&json!({ "value": value }))?;
                let req = self.request(::http::Method::PUT, &path, body, "application/json");
                client.request_text(req).await.context("storing the collector's checkpoint on the kevdb server")?;
                Ok(())
            }
        }
    }
}
