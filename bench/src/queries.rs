//! The benchmark query set Q1–Q8, run against an open kevdb database:
//! median warm latency of each (and events/s for the two streaming ones).
//! Windows are relative to the newest event stored, so a data set answers
//! the same way whenever it is queried. [`Targets`] (the reference time,
//! namespace and object the queries aim at) are chosen here and handed to
//! the peers of `kevdb-bench run` so every system answers the same questions.

use kevdb_engine::{Db, GroupBy, Query, StrField, Timestamp};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// One hour in microseconds.
pub const HOUR: i64 = 3600 * Timestamp::MICROS_PER_SEC;
/// One day in microseconds.
pub const DAY: i64 = 24 * HOUR;

/// The query set: id and what it asks.
pub const QUERY_SET: [(&str, &str); 8] = [
    ("Q1", "count of Warning events, last 7 days"),
    ("Q2", "newest 500 Warning Pod events in one namespace"),
    ("Q3", "top 10 Warning reasons, last 24 h"),
    ("Q4", "newest 100 with phrase \"connection refused\", last 30 days"),
    ("Q5", "every event of one involved object"),
    ("Q6", "hourly histogram of reason=BackOff, 30 days"),
    ("Q7", "page through a week of Warning events, 500 a page"),
    ("Q8", "subscription replaying one namespace from seq 0"),
];

/// What the queries aim at, chosen from the data (see [`targets`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Targets {
    /// Newest last-seen time stored (µs): windows end here.
    pub now: i64,
    /// The namespace with the most Warning events (Q2, Q5, Q8).
    pub namespace: String,
    /// Involved-object kind and name of the newest Warning Pod event in it (Q5).
    pub kind: String,
    /// See `kind`.
    pub name: String,
    /// Distinct events in `namespace`: what a peer replaying its
    /// latest-only table for Q8 returns (kevdb replays every observation).
    pub namespace_events: u64,
}

/// One measured query.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryResult {
    pub id: String,
    pub what: String,
    /// Median wall time of the warm runs.
    #[serde(with = "millis")]
    pub median: Duration,
    /// The first run, right after the database was opened (also the
    /// warm-up): caches inside the system are cold, the OS page cache is not.
    #[serde(default)]
    pub first_ms: Option<f64>,
    /// Rows (or groups, or buckets) the query returned.
    pub rows: u64,
    /// The figure compared across systems: the count (Q1), rows returned
    /// (Q2, Q4, Q5, Q7), the events in the top 10 groups (Q3), the events in
    /// all buckets (Q6), distinct events of the namespace (Q8).
    pub check: u64,
    /// For streaming queries: rows per second.
    pub events_per_sec: Option<f64>,
}

/// Serialises a duration as floating-point milliseconds.
mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1000.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs_f64(f64::deserialize(d)?.max(0.0) / 1000.0))
    }
}

impl QueryResult {
    /// A result for query `id` of [`QUERY_SET`].
    pub fn new(id: &str, timing: Timing, rows: u64, check: u64) -> QueryResult {
        let what = QUERY_SET.iter().find(|(i, _)| *i == id).map_or("", |(_, w)| w);
        QueryResult {
            id: id.into(),
            what: what.into(),
            median: timing.median,
            first_ms: Some(timing.first.as_secs_f64() * 1000.0),
            rows,
            check,
            events_per_sec: None,
        }
    }

    /// Marks a streaming query: rows per second over the median time.
    pub fn streaming(mut self) -> QueryResult {
        self.events_per_sec = Some(self.rows as f64 / self.median.as_secs_f64().max(1e-9));
        self
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// How long a query took.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Median of the warm runs.
    pub median: Duration,
    /// The first run (the warm-up).
    pub first: Duration,
}

/// Runs `f` once to warm up, then `runs` times; the timings and the last
/// result.
pub fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Timing, T) {
    let t = Instant::now();
    let mut out = f(); // warm-up
    let first = t.elapsed();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        out = f();
        times.push(t.elapsed());
    }
    (Timing { median: median(times), first }, out)
}

/// Chooses the query targets from the data.
pub fn targets(db: &Db) -> anyhow::Result<Targets> {
    let newest = db.query(&Query::new().limit(1))?.next().ok_or_else(|| anyhow::anyhow!("the database is empty"))?;
    let now = newest.last_seen().0;
    // The namespace and object with the most Warning events: realistic targets.
    let top_ns = db.count_by(&Query::new().event_type("Warning"), &[GroupBy::Namespace], Some(1))?;
    let namespace = top_ns.first().map(|g| g.key[0].clone()).unwrap_or_default();
    let sample =
        db.query(&Query::new().namespace(namespace.clone()).kind("Pod").event_type("Warning").limit(1))?.next();
    let (kind, name) = sample
        .map(|s| {
            (
                s.event.str(StrField::InvolvedObjectKind).unwrap_or("").to_string(),
                s.event.str(StrField::InvolvedObjectName).unwrap_or("").to_string(),
            )
        })
        .unwrap_or_default();
    let namespace_events = db.count(&Query::new().namespace(namespace.clone()))?;
    Ok(Targets { now, namespace, kind, name, namespace_events })
}

/// Chooses targets, then runs the queries of Q1–Q8 named in `only` (all when
/// empty) `runs` times each (after one warm-up run).
pub fn run(db: &Db, runs: usize, only: &[String]) -> anyhow::Result<Vec<QueryResult>> {
    run_with(db, runs, &targets(db)?, only)
}

/// Runs the queries of Q1–Q8 named in `only` (all when empty) against `t`,
/// `runs` times each after one warm-up run (Q7 and Q8, which stream, at
/// most 3 times). The decoded-group cache is emptied before each query's
/// warm-up, so its first run is a cold one.
pub fn run_with(db: &Db, runs: usize, t: &Targets, only: &[String]) -> anyhow::Result<Vec<QueryResult>> {
    let want = |id: &str| only.is_empty() || only.iter().any(|o| o.eq_ignore_ascii_case(id));
    let now = t.now;
    let ago = |d: i64| Timestamp(now - d + 1);
    let ns = t.namespace.clone();
    let mut out = Vec::new();

    if want("Q1") {
        let q1 = Query::new().event_type("Warning").since(ago(7 * DAY));
        db.clear_cache();
        let (d, n) = time(runs, || db.count(&q1));
        let n = n?;
        out.push(QueryResult::new("Q1", d, n, n));
    }

    if want("Q2") {
        let q2 = Query::new().event_type("Warning").kind("Pod").namespace(ns.clone()).limit(500);
        db.clear_cache();
        let (d, n) = time(runs, || db.query(&q2).map(|it| it.count() as u64));
        let n = n?;
        out.push(QueryResult::new("Q2", d, n, n));
    }

    if want("Q3") {
        let q3 = Query::new().event_type("Warning").since(ago(DAY));
        db.clear_cache();
        let (d, g) = time(runs, || db.count_by(&q3, &[GroupBy::Reason], Some(10)));
        let g = g?;
        out.push(QueryResult::new("Q3", d, g.len() as u64, g.iter().map(|g| g.count).sum()));
    }

    if want("Q4") {
        let q4 = Query::new().text("\"connection refused\"").since(ago(30 * DAY)).limit(100);
        db.clear_cache();
        let (d, n) = time(runs, || db.query(&q4).map(|it| it.count() as u64));
        let n = n?;
        out.push(QueryResult::new("Q4", d, n, n));
    }

    if want("Q5") {
        let q5 = Query::new().namespace(ns.clone()).kind(t.kind.clone()).name(t.name.clone());
        db.clear_cache();
        let (d, n) = time(runs, || db.query(&q5).map(|it| it.count() as u64));
        let n = n?;
        out.push(QueryResult::new("Q5", d, n, n));
    }

    if want("Q6") {
        let q6 = Query::new().reason("BackOff").since(ago(30 * DAY)).until(Timestamp(now + 1));
        db.clear_cache();
        let (d, b) = time(runs, || db.histogram(&q6, Duration::from_secs(3600)));
        let b = b?;
        out.push(QueryResult::new("Q6", d, b.len() as u64, b.iter().map(|b| b.count).sum()));
    }

    if want("Q7") {
        let q7 = Query::new().event_type("Warning").since(ago(7 * DAY));
        db.clear_cache();
        let (d, n) = time(runs.min(3), || -> anyhow::Result<u64> {
            let mut total = 0u64;
            let mut token: Option<String> = None;
            loop {
                let page = db.query_page(&q7, 500, token.as_deref())?;
                total += page.items.len() as u64;
                match page.continue_token {
                    Some(t) => token = Some(t),
                    None => return Ok(total),
                }
            }
        });
        let n = n?;
        out.push(QueryResult::new("Q7", d, n, n).streaming());
    }

    if want("Q8") {
        let q8 = Query::new().namespace(ns);
        let last = db.last_seq();
        db.clear_cache();
        let (d, n) = time(runs.min(3), || -> anyhow::Result<u64> {
            let mut n = 0u64;
            let mut sub = db.subscribe(&q8, 0)?;
            while let Some(r) = sub.try_next()? {
                n += 1;
                if r.seq.0 >= last {
                    break;
                }
            }
            Ok(n)
        });
        out.push(QueryResult::new("Q8", d, n?, t.namespace_events).streaming());
    }
    Ok(out)
}
