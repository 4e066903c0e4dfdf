//! The collector: list-watches the events of a Kubernetes cluster with
//! kube-rs and archives every observation, in one or both API groups.
//!
//! Per API group, forever:
//! 1. resume from the checkpoint (the resourceVersion archived up to), or,
//!    without one, **list** every event in pages and take the list's
//!    resourceVersion;
//! 2. **watch** from there with bookmarks, storing each batch of changes and
//!    then the checkpoint (the batch's last resourceVersion, or a
//!    bookmark's) — so the checkpoint never runs ahead of the archive;
//! 3. when the watch ends (the server's timeout), watch again from the
//!    checkpoint; on **410 Gone** (the resourceVersion is older than the
//!    cluster keeps) relist; on any other error retry with exponential
//!    backoff (1 s doubling to 60 s, with jitter).
//!
//! Nothing is lost across restarts (the checkpoint is durable and only
//! follows durable data) and nothing is duplicated (re-delivering an
//! observation already archived is a no-op in the engine).

mod sink;

pub use sink::Sink;

use futures_util::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, WatchEvent, WatchParams};
use serde_json::{json, Value};
use std::time::Duration;

/// Events per list page.
const PAGE: u32 = 500;
/// Longest a watch request stays open before it is renewed (the API server
/// caps it too).
const WATCH_SECONDS: u32 = 290;
/// Most watch events stored in one batch.
const BATCH: usize = 1000;
/// How long a batch waits for more watch events after its first one. Each
/// batch costs the archive a durable write and a checkpoint, so batching
/// is what makes a busy watch keep up (measured: one batch per event
/// arrival archived ~800 observations/s); this is the most it delays an
/// event on the way to the archive.
const LINGER: Duration = Duration::from_millis(200);

/// An API group the collector watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiGroup {
    /// `v1` events (`involvedObject`, `message`).
    CoreV1,
    /// `events.k8s.io/v1` events (`regarding`, `note`).
    EventsV1,
}

impl ApiGroup {
    fn resource(self) -> ApiResource {
        let gvk = match self {
            ApiGroup::CoreV1 => GroupVersionKind::gvk("", "v1", "Event"),
            ApiGroup::EventsV1 => GroupVersionKind::gvk("events.k8s.io", "v1", "Event"),
        };
        ApiResource::from_gvk_with_plural(&gvk, "events")
    }

    /// The name used in checkpoints and messages.
    pub fn tag(self) -> &'static str {
        match self {
            ApiGroup::CoreV1 => "v1",
            ApiGroup::EventsV1 => "events.k8s.io",
        }
    }

    fn api_version(self) -> &'static str {
        match self {
            ApiGroup::CoreV1 => "v1",
            ApiGroup::EventsV1 => "events.k8s.io/v1",
        }
    }
}

/// What to collect from where, and where to keep it.
#[derive(Debug, Clone)]
pub struct CollectConfig {
    /// How to reach the cluster.
    pub kube: kube::Config,
    /// The kevdb cluster name the events are stored under.
    pub cluster: String,
    pub groups: Vec<ApiGroup>,
    pub sink: Sink,
}

/// Why one list-watch round ended.
enum Interrupt {
    /// The resourceVersion is too old: relist.
    Gone,
    /// Anything else: retry after a pause.
    Failed(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Interrupt {
    fn from(e: E) -> Interrupt {
        Interrupt::Failed(e.into())
    }
}

fn is_gone(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 410)
}

/// Exponential backoff with jitter.
#[derive(Debug)]
struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(60);

    fn new() -> Backoff {
        Backoff { next: Backoff::FIRST }
    }

    fn reset(&mut self) {
        self.next = Backoff::FIRST;
    }

    /// The pause before the next attempt: the current step ±25 %.
    fn pause(&mut self) -> Duration {
        let step = self.next;
        self.next = (self.next * 2).min(Backoff::MAX);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
        let jitter = 0.75 + f64::from(nanos % 1000) / 2000.0;
        step.mul_f64(jitter)
    }
}

/// Runs the collector until the process is stopped; returns only if the
/// cluster cannot be reached at all (a bad configuration).
pub async fn run(cfg: CollectConfig) -> anyhow::Result<()> {
    let client = kube::Client::try_from(cfg.kube.clone())?;
    let mut tasks = Vec::new();
    for group in cfg.groups.iter().copied() {
        let follower = Follower::new(client.clone(), group, &cfg);
        tasks.push(tokio::spawn(follower.run()));
    }
    for t in tasks {
        t.await?;
    }
    Ok(())
}

/// One API group of one cluster, followed into the archive.
struct Follower {
    api: Api<DynamicObject>,
    group: ApiGroup,
    cluster: String,
    sink: Sink,
    checkpoint: String,
    /// Where the next watch starts; `None` means list first.
    resume: Option<String>,
}

impl Follower {
    fn new(client: kube::Client, group: ApiGroup, cfg: &CollectConfig) -> Follower {
        Follower {
            api: Api::all_with(client, &group.resource()),
            group,
            cluster: cfg.cluster.clone(),
            sink: cfg.sink.clone(),
            checkpoint: format!("collect.{}.{}", cfg.cluster, group.tag()),
            resume: None,
        }
    }

    async fn run(mut self) {
        let mut backoff = Backoff::new();
        let mut loaded = false;
        loop {
            let round = async {
                if !loaded {
                    self.resume = self.sink.checkpoint(&self.checkpoint).await?;
                    loaded = true;
                    if let Some(rv) = &self.resume {
                        tracing::info!(
                            cluster = %self.cluster,
                            api = self.group.tag(),
                            resource_version = %rv,
                            "resuming from the checkpoint"
                        );
                    }
                }
                if self.resume.is_none() {
                    self.relist().await?;
                }
                self.watch().await
            };
            match round.await {
                Ok(()) => backoff.reset(),
                Err(Interrupt::Gone) => {
                    tracing::warn!(
                        cluster = %self.cluster,
                        api = self.group.tag(),
                        "resourceVersion too old (410 Gone): listing again"
                    );
                    self.resume = None;
                    backoff.reset();
                }
                Err(Interrupt::Failed(e)) => {
                    let pause = backoff.pause();
                    tracing::warn!(
                        cluster = %self.cluster,
                        api = self.group.tag(),
                        error = format!("{e:#}"),
                        retry_in_ms = pause.as_millis() as u64,
                        "collecting failed; retrying after a pause"
                    );
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    /// The object as the archive takes it, with its group's `apiVersion`
    /// and `kind` (list items and watch objects may leave them out).
    fn object(&self, o: DynamicObject) -> Result<Value, Interrupt> {
        let mut v = serde_json::to_value(o)?;
        if let Some(map) = v.as_object_mut() {
            map.entry("apiVersion").or_insert_with(|| json!(self.group.api_version()));
            map.entry("kind").or_insert_with(|| json!("Event"));
        }
        Ok(v)
    }

    async fn store(&self, objects: Vec<Value>) -> Result<(), Interrupt> {
        if objects.is_empty() {
            return Ok(());
        }
        self.sink.append(&self.cluster, objects).await?;
        Ok(())
    }

    async fn save(&mut self, rv: String) -> Result<(), Interrupt> {
        if self.resume.as_deref() != Some(rv.as_str()) {
            self.sink.set_checkpoint(&self.checkpoint, &rv).await?;
            self.resume = Some(rv);
        }
        Ok(())
    }

    /// Lists every event, page by page, and stores them; the watch then
    /// starts at the list's resourceVersion.
    async fn relist(&mut self) -> Result<(), Interrupt> {
        let mut params = ListParams::default().limit(PAGE);
        let mut snapshot: Option<String> = None;
        let mut total = 0usize;
        loop {
            let page =
                self.api.list(&params).await.map_err(|e| if is_gone(&e) { Interrupt::Gone } else { e.into() })?;
            snapshot = snapshot.or(page.metadata.resource_version.clone());
            total += page.items.len();
            let objects = page.items.into_iter().map(|o| self.object(o)).collect::<Result<Vec<_>, _>>()?;
            self.store(objects).await?;
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => break,
            }
        }
        tracing::info!(cluster = %self.cluster, api = self.group.tag(), events = total, "listed every event");
        let rv = snapshot.filter(|rv| !rv.is_empty()).unwrap_or_else(|| "0".to_owned());
        self.save(rv).await
    }

    /// Watches from the checkpoint until the server ends the watch.
    async fn watch(&mut self) -> Result<(), Interrupt> {
        let from = self.resume.clone().unwrap_or_else(|| "0".to_owned());
        let params = WatchParams::default().timeout(WATCH_SECONDS);
        let stream =
            self.api.watch(&params, &from).await.map_err(|e| if is_gone(&e) { Interrupt::Gone } else { e.into() })?;
        let mut stream = std::pin::pin!(stream.fuse());
        while let Some(chunk) = next_batch(&mut stream).await {
            let mut objects = Vec::with_capacity(chunk.len());
            let mut last_rv: Option<String> = None;
            let mut ended: Option<Interrupt> = None;
            for item in chunk {
                match item {
                    Ok(WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o)) => {
                        last_rv = o.metadata.resource_version.clone().or(last_rv);
                        objects.push(self.object(o)?);
                    }
                    Ok(WatchEvent::Bookmark(b)) => last_rv = Some(b.metadata.resource_version),
                    Ok(WatchEvent::Error(status)) if status.code == 410 => {
                        ended = Some(Interrupt::Gone);
                        break;
                    }
                    Ok(WatchEvent::Error(status)) => {
                        ended = Some(Interrupt::Failed(anyhow::anyhow!("watch error: {status}")));
                        break;
                    }
                    Err(e) => {
                        ended = Some(e.into());
                        break;
                    }
                }
            }
            // What arrived before an error is stored and checkpointed.
            self.store(objects).await?;
            if let Some(rv) = last_rv {
                self.save(rv).await?;
            }
            if let Some(end) = ended {
                return Err(end);
            }
        }
        Ok(())
    }
}

/// The next batch of a watch: its first event whenever it comes, then
/// whatever follows within [`LINGER`], up to [`BATCH`] events. `None` once
/// the stream has ended.
async fn next_batch<S: futures_util::stream::FusedStream + Unpin>(stream: &mut S) -> Option<Vec<S::Item>> {
    let first = stream.next().await?;
    let mut batch = vec![first];
    let deadline = tokio::time::Instant::now() + LINGER;
    while batch.len() < BATCH {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(item)) => batch.push(item),
            Ok(None) | Err(_) => break,
        }
    }
    Some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_and_resets() {
        let mut b = Backoff::new();
        let first = b.pause();
        assert!(first >= Duration::from_millis(750) && first <= Duration::from_millis(1250), "{first:?}");
        for _ in 0..10 {
            b.pause();
        }
        let capped = b.pause();
        assert!(capped <= Backoff::MAX.mul_f64(1.25) && capped >= Backoff::MAX.mul_f64(0.75), "{capped:?}");
        b.reset();
        assert!(b.pause() <= Duration::from_millis(1250));
    }

    #[tokio::test(start_paused = true)]
    async fn batches_gather_what_arrives_within_the_linger() {
        use futures_util::stream::{self, StreamExt};
        // 1500 events at once, then one after a pause, then the end.
        let burst = stream::iter(0..1500);
        let late = stream::once(async {
            tokio::time::sleep(LINGER * 3).await;
            1500
        });
        let mut s = std::pin::pin!(burst.chain(late).fuse());
        assert_eq!(next_batch(&mut s).await.map(|b| b.len()), Some(BATCH));
        assert_eq!(next_batch(&mut s).await.map(|b| b.len()), Some(500));
        assert_eq!(next_batch(&mut s).await, Some(vec![1500]));
        assert_eq!(next_batch(&mut s).await, None);
    }

    #[test]
    fn groups_name_their_resources() {
        assert_eq!(ApiGroup::CoreV1.resource().api_version, "v1");
        assert_eq!(ApiGroup::EventsV1.resource().api_version, "events.k8s.io/v1");
        assert_eq!(ApiGroup::EventsV1.resource().plural, "events");
    }
}
