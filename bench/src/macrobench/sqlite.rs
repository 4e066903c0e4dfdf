//! The SQLite peer (rusqlite, bundled SQLite): one row per event holding the
//! latest observation (an upsert that replaces only with a newer one), the
//! full event JSON as TEXT, B-tree indexes serving Q1–Q8 (those of Q1/Q3 and
//! Q6 cover their queries) and a contentless FTS5 index over the message for
//! Q4. WAL journal, `synchronous=NORMAL` (durable at checkpoints; a commit is
//! not fsynced), 64 MiB page cache, indexes maintained during the load as a
//! live archive must, 4096 observations per transaction.

use super::{pipeline, IngestFigures};
use crate::queries::{time, QueryResult, Targets, DAY, HOUR};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::time::Instant;

/// Observations per transaction (kevdb appends the same batch size).
const BATCH: usize = 4096;

/// What this peer's setup is, for the results (after the SQLite version).
const DESCRIPTION: &str = "(bundled) WAL, synchronous=NORMAL, cache 64 MiB, latest-observation upsert, \
     7 B-tree indexes, contentless FTS5 on message, 4096 observations per transaction";

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -65536;
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    cluster TEXT NOT NULL,
    uid TEXT NOT NULL,
    rv INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    namespace TEXT NOT NULL,
    type TEXT NOT NULL,
    reason TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    count INTEGER NOT NULL,
    json TEXT NOT NULL,
    UNIQUE (cluster, uid)
);
CREATE INDEX events_type_seen ON events (type, last_seen, seq, reason);
CREATE INDEX events_ns_type_kind_seen ON events (namespace, type, kind, last_seen, seq);
CREATE INDEX events_object ON events (namespace, kind, name, last_seen);
CREATE INDEX events_reason_seen ON events (reason, last_seen, first_seen);
CREATE INDEX events_ns_seq ON events (namespace, seq);
CREATE INDEX events_seen ON events (last_seen, seq);
CREATE VIRTUAL TABLE events_fts USING fts5 (message, content = '', contentless_delete = 1);
";

/// Replaces the stored row only when the observation is newer: a higher
/// resourceVersion when both have one, else a later last-seen time or a
/// higher count (kevdb's rule).
const UPSERT: &str = "
INSERT INTO events (cluster, uid, rv, seq, namespace, type, reason, kind, name, first_seen, last_seen, count, json)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
ON CONFLICT (cluster, uid) DO UPDATE SET
    rv = excluded.rv, seq = excluded.seq, namespace = excluded.namespace, type = excluded.type,
    reason = excluded.reason, kind = excluded.kind, name = excluded.name, first_seen = excluded.first_seen,
    last_seen = excluded.last_seen, count = excluded.count, json = excluded.json
WHERE CASE WHEN excluded.rv <> 0 AND events.rv <> 0 THEN excluded.rv > events.rv
           ELSE (excluded.last_seen, excluded.count) > (events.last_seen, events.count) END
RETURNING id";

fn open(dir: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(dir.join("events.sqlite"))?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;")?;
    Ok(conn)
}

/// Loads `data` into a new database in `dir`.
pub fn ingest(data: &Path, dir: &Path) -> anyhow::Result<IngestFigures> {
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    let mut conn = Connection::open(dir.join("events.sqlite"))?;
    conn.execute_batch(SCHEMA)?;
    let mut accepted = 0u64;
    let observations = pipeline::run(data, BATCH, super::extract::extract_batch, |rows| {
        let tx = conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(UPSERT)?;
            let mut fts = tx.prepare_cached("INSERT OR REPLACE INTO events_fts (rowid, message) VALUES (?1, ?2)")?;
            for r in rows {
                let id: Option<i64> = upsert
                    .query_row(
                        params![
                            r.cluster,
                            r.uid,
                            r.rv,
                            r.seq,
                            r.namespace,
                            r.event_type,
                            r.reason,
                            r.kind,
                            r.name,
                            r.first_seen,
                            r.last_seen,
                            r.count,
                            r.json
                        ],
                        |row| row.get(0),
                    )
                    .optional()?;
                if let Some(id) = id {
                    fts.execute(params![id, r.message])?;
                    accepted += 1;
                }
            }
        }
        tx.commit()?;
        Ok(())
    })?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    let ingest_secs = started.elapsed().as_secs_f64();
    let events: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(IngestFigures {
        observations,
        accepted,
        events: events as u64,
        ingest_secs,
        disk_bytes: super::dir_bytes(dir),
        notes: vec![format!("SQLite {} {DESCRIPTION}", rusqlite::version())],
    })
}

/// Opens the database in `dir` and runs Q1–Q8 against `t`.
pub fn queries(dir: &Path, runs: usize, t: &Targets) -> anyhow::Result<(f64, Vec<QueryResult>)> {
    let opened = Instant::now();
    let conn = open(dir)?;
    // Opening is lazy; touch the schema so the open time includes reading it.
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0))?;
    let open_ms = opened.elapsed().as_secs_f64() * 1000.0;
    let now = t.now;
    let ago = |d: i64| now - d + 1;
    let rows = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> anyhow::Result<u64> {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(p)?;
        let mut n = 0u64;
        while let Some(r) = rows.next()? {
            // Materialise the full event, as an archive returns it.
            let json: String = r.get(0)?;
            std::hint::black_box(json);
            n += 1;
        }
        Ok(n)
    };
    let groups = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> anyhow::Result<(u64, u64)> {
        let mut stmt = conn.prepare_cached(sql)?;
        let counts: Vec<i64> = stmt.query_map(p, |r| r.get(1))?.collect::<Result<_, _>>()?;
        Ok((counts.len() as u64, counts.iter().sum::<i64>() as u64))
    };
    let mut out = Vec::new();

    let (d, n) = time(runs, || -> anyhow::Result<u64> {
        let mut stmt = conn.prepare_cached("SELECT count(*) FROM events WHERE type = 'Warning' AND last_seen >= ?1")?;
        Ok(stmt.query_row([ago(7 * DAY)], |r| r.get::<_, i64>(0))? as u64)
    });
    let n = n?;
    out.push(QueryResult::new("Q1", d, n, n));

    let (d, n) = time(runs, || {
        rows(
            "SELECT json FROM events WHERE namespace = ?1 AND type = 'Warning' AND kind = 'Pod' \
             ORDER BY last_seen DESC, seq DESC LIMIT 500",
            &[&t.namespace],
        )
    });
    let n = n?;
    out.push(QueryResult::new("Q2", d, n, n));

    let (d, g) = time(runs, || {
        groups(
            "SELECT reason, count(*) AS c FROM events WHERE type = 'Warning' AND last_seen >= ?1 \
             GROUP BY reason ORDER BY c DESC, reason LIMIT 10",
            &[&ago(DAY)],
        )
    });
    let (g, sum) = g?;
    out.push(QueryResult::new("Q3", d, g, sum));

    let (d, n) = time(runs, || {
        rows(
            "SELECT e.json FROM events_fts f JOIN events e ON e.id = f.rowid \
             WHERE events_fts MATCH '\"connection refused\"' AND e.last_seen >= ?1 \
             ORDER BY e.last_seen DESC, e.seq DESC LIMIT 100",
            &[&ago(30 * DAY)],
        )
    });
    let n = n?;
    out.push(QueryResult::new("Q4", d, n, n));

    let (d, n) = time(runs, || {
        rows(
            "SELECT json FROM events WHERE namespace = ?1 AND kind = ?2 AND name = ?3 ORDER BY last_seen DESC",
            &[&t.namespace, &t.kind, &t.name],
        )
    });
    let n = n?;
    out.push(QueryResult::new("Q5", d, n, n));

    let (d, g) = time(runs, || {
        groups(
            "SELECT last_seen / ?1 AS h, count(*) FROM events \
             WHERE reason = 'BackOff' AND last_seen >= ?2 AND first_seen < ?3 GROUP BY h ORDER BY h",
            &[&HOUR, &ago(30 * DAY), &(now + 1)],
        )
    });
    let (b, sum) = g?;
    out.push(QueryResult::new("Q6", d, b, sum));

    let (d, n) = time(runs.min(3), || -> anyhow::Result<u64> {
        // Keyset paging, newest first, as a continue token would.
        let mut stmt = conn.prepare_cached(
            "SELECT last_seen, seq, json FROM events WHERE type = 'Warning' AND last_seen >= ?1 \
             AND (last_seen, seq) < (?2, ?3) ORDER BY last_seen DESC, seq DESC LIMIT 500",
        )?;
        let (mut key, mut total) = ((i64::MAX, i64::MAX), 0u64);
        loop {
            let mut page = 0;
            let mut rows = stmt.query(params![ago(7 * DAY), key.0, key.1])?;
            while let Some(r) = rows.next()? {
                key = (r.get(0)?, r.get(1)?);
                std::hint::black_box(r.get::<_, String>(2)?);
                page += 1;
            }
            total += page;
            if page < 500 {
                return Ok(total);
            }
        }
    });
    let n = n?;
    out.push(QueryResult::new("Q7", d, n, n).streaming());

    let (d, n) = time(runs.min(3), || {
        rows("SELECT json FROM events WHERE namespace = ?1 AND seq > ?2 ORDER BY seq", &[&t.namespace, &0i64])
    });
    let n = n?;
    out.push(QueryResult::new("Q8", d, n, n).streaming());
    Ok((open_ms, out))
}
