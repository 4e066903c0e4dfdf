//! kevdb-gen: a generator of realistic Kubernetes events, streamed as
//! NDJSON. It owns the simulation (`world`), its stories (`episodes`), the
//! seedable random numbers (`rng`) and the JSON text it writes (`json`), and
//! depends on nothing but std: the `kevdb` binary links it for `kevdb serve
//! --demo`, the server's tests for their archives, and kevdb-bench for its
//! data sets.
//!
//! It simulates clusters going about their day: pods scheduled and started,
//! deployments rolling out, containers crash-looping (BackOff, Unhealthy with
//! probe messages), image pulls failing, pods that cannot be scheduled, node
//! pressure and evictions, jobs, autoscalers and volume mounts. Each event
//! (one `metadata.uid`) is delivered as one or more observations with rising
//! `count` and `resourceVersion`, as an exporter re-delivers aggregated
//! events. Output is deterministic for a seed and never held in memory.
//!
//! Calibration against `shared/data/events` (4,901 real events): the reason
//! mix of healthy clusters there is Pulled/Created/Started/Scheduled/
//! SuccessfulCreate/ScalingReplicaSet with Pod as the dominant kind (58%),
//! then Node, Job, ReplicaSet, Deployment, Service; kubelet reports about
//! half of all events. Real archives of *troubled* clusters are what kevdb is
//! for, so the generator raises the Warning share to about a quarter and
//! repeats Warning events (BackOff, Unhealthy) more, the way the API server's
//! aggregation does. `docs/BENCHMARKS.md` lists the resulting distribution.

mod episodes;
mod json;
mod rng;
mod world;

pub use rng::Rng;

use episodes::Obs;
use world::Cluster;

/// Generator settings.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Observations (NDJSON lines) to produce.
    pub observations: u64,
    /// Days the data spans, ending at `end_secs`.
    pub days: u64,
    /// Seed.
    pub seed: u64,
    /// Simulated clusters (events carry their cluster in `metadata.annotations["kevdb.io/cluster"]`).
    pub clusters: usize,
    /// End of the time span, Unix seconds.
    pub end_secs: i64,
    /// Share of events written in the events.k8s.io/v1 shape.
    pub events_api_share: f64,
}

/// Streams observations in (roughly) time order.
#[derive(Debug)]
pub struct Generator {
    cfg: GenConfig,
    rng: Rng,
    clusters: Vec<Cluster>,
    emitted: u64,
    pending: std::collections::VecDeque<Obs>,
    rv: u64,
}

impl Generator {
    /// A generator for `cfg`.
    pub fn new(cfg: GenConfig) -> Generator {
        let mut rng = Rng::new(cfg.seed);
        let clusters = (0..cfg.clusters.max(1)).map(|i| Cluster::new(i, &mut rng)).collect();
        Generator { cfg, rng, clusters, emitted: 0, pending: Default::default(), rv: 1_000_000 }
    }

    fn refill(&mut self) {
        let span = self.cfg.days.max(1) as i64 * 86_400;
        let progress = self.emitted as f64 / self.cfg.observations.max(1) as f64;
        let start = self.cfg.end_secs - span;
        let t = start + (progress * span as f64) as i64 + self.rng.below(60) as i64;
        let c = self.rng.below(self.clusters.len() as u64) as usize;
        let events_api = self.rng.chance(self.cfg.events_api_share);
        let cluster = &mut self.clusters[c];
        let mut out = episodes::episode(&mut self.rng, cluster, t);
        for o in &mut out {
            o.events_api = events_api;
        }
        // Observations of one episode come out in time order, with rising
        // resourceVersions, as an exporter would deliver them.
        out.sort_by_key(|o| o.last);
        for o in &mut out {
            self.rv += 1 + self.rng.below(7);
            o.rv = self.rv;
        }
        self.pending.extend(out);
    }
}

impl Iterator for Generator {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.emitted >= self.cfg.observations {
            return None;
        }
        while self.pending.is_empty() {
            self.refill();
        }
        let o = self.pending.pop_front()?;
        self.emitted += 1;
        Some(o.to_json(self.cfg.clusters > 1))
    }
}
