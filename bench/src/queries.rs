//! The benchmark query set Q1–Q8, run against an open kevdb database:
//! median warm latency of each (and events/s for the two streaming ones).
//! Windows are relative to the newest event stored, so a data set answers
//! the same way whenever it is queried.

use kevdb_engine::{Db, GroupBy, Query, StrField, Timestamp};
use std::time::{Duration, Instant};

const HOUR: i64 = 3600 * Timestamp::MICROS_PER_SEC;
const DAY: i64 = 24 * HOUR;

/// One measured query.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub id: &'static str,
    pub what: &'static str,
    /// Median wall time of the warm runs.
    pub median: Duration,
    /// Rows (or groups) the query returned.
    pub rows: u64,
    /// For streaming queries: events per second.
    pub events_per_sec: Option<f64>,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut out = f(); // warm-up
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        out = f();
        times.push(t.elapsed());
    }
    (median(times), out)
}

/// Runs Q1–Q8 `runs` times each (after one warm-up run).
pub fn run(db: &Db, runs: usize) -> anyhow::Result<Vec<QueryResult>> {
    let newest = db.query(&Query::new().limit(1))?.next().ok_or_else(|| anyhow::anyhow!("the database is empty"))?;
    let now = newest.last_seen().0;
    let ago = |d: i64| Timestamp(now - d + 1);
    // The namespace and object with the most Warning events: realistic targets.
    let top_ns = db.count_by(&Query::new().event_type("Warning"), &[GroupBy::Namespace], Some(1))?;
    let ns = top_ns.first().map(|g| g.key[0].clone()).unwrap_or_default();
    let sample = db.query(&Query::new().namespace(ns.clone()).kind("Pod").event_type("Warning").limit(1))?.next();
    let (obj_kind, obj_name) = sample
        .map(|s| {
            (
                s.event.str(StrField::InvolvedObjectKind).unwrap_or("").to_string(),
                s.event.str(StrField::InvolvedObjectName).unwrap_or("").to_string(),
            )
        })
        .unwrap_or_default();
    let mut out = Vec::new();

    let q1 = Query::new().event_type("Warning").since(ago(7 * DAY));
    let (t, n) = time(runs, || db.count(&q1).unwrap_or(0));
    out.push(QueryResult {
        id: "Q1",
        what: "count of Warning events, last 7 days",
        median: t,
        rows: n,
        events_per_sec: None,
    });

    let q2 = Query::new().event_type("Warning").kind("Pod").namespace(ns.clone()).limit(500);
    let (t, n) = time(runs, || db.query(&q2).map(|it| it.count()).unwrap_or(0));
    out.push(QueryResult {
        id: "Q2",
        what: "newest 500 Warning Pod events in one namespace",
        median: t,
        rows: n as u64,
        events_per_sec: None,
    });

    let q3 = Query::new().event_type("Warning").since(ago(DAY));
    let (t, g) = time(runs, || db.count_by(&q3, &[GroupBy::Reason], Some(10)).map(|g| g.len()).unwrap_or(0));
    out.push(QueryResult {
        id: "Q3",
        what: "top 10 Warning reasons, last 24 h",
        median: t,
        rows: g as u64,
        events_per_sec: None,
    });

    let q4 = Query::new().text("\"connection refused\"").since(ago(30 * DAY)).limit(100);
    let (t, n) = time(runs, || db.query(&q4).map(|it| it.count()).unwrap_or(0));
    out.push(QueryResult {
        id: "Q4",
        what: "newest 100 with phrase \"connection refused\", last 30 days",
        median: t,
        rows: n as u64,
        events_per_sec: None,
    });

    let q5 = Query::new().namespace(ns.clone()).kind(obj_kind).name(obj_name);
    let (t, n) = time(runs, || db.query(&q5).map(|it| it.count()).unwrap_or(0));
    out.push(QueryResult {
        id: "Q5",
        what: "every event of one involved object",
        median: t,
        rows: n as u64,
        events_per_sec: None,
    });

    let q6 = Query::new().reason("BackOff").since(ago(30 * DAY)).until(Timestamp(now + 1));
    let (t, b) = time(runs, || db.histogram(&q6, Duration::from_secs(3600)).map(|b| b.len()).unwrap_or(0));
    out.push(QueryResult {
        id: "Q6",
        what: "hourly histogram of reason=BackOff, 30 days",
        median: t,
        rows: b as u64,
        events_per_sec: None,
    });

    let q7 = Query::new().event_type("Warning").since(ago(7 * DAY));
    let (t, n) = time(runs.min(3), || {
        let mut total = 0u64;
        let mut token: Option<String> = None;
        while let Ok(page) = db.query_page(&q7, 500, token.as_deref()) {
            total += page.items.len() as u64;
            match page.continue_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        total
    });
    out.push(QueryResult {
        id: "Q7",
        what: "page through a week of Warning events, 500 a page",
        median: t,
        rows: n,
        events_per_sec: Some(n as f64 / t.as_secs_f64().max(1e-9)),
    });

    let q8 = Query::new().namespace(ns);
    let last = db.last_seq();
    let (t, n) = time(runs.min(3), || {
        let mut n = 0u64;
        if let Ok(mut sub) = db.subscribe(&q8, 0) {
            while let Ok(Some(r)) = sub.try_next() {
                n += 1;
                if r.seq.0 >= last {
                    break;
                }
            }
        }
        n
    });
    out.push(QueryResult {
        id: "Q8",
        what: "subscription replaying one namespace from seq 0",
        median: t,
        rows: n,
        events_per_sec: Some(n as f64 / t.as_secs_f64().max(1e-9)),
    });
    Ok(out)
}
