#!/usr/bin/env python3
"""The DuckDB peer of `kevdb-bench run` (run by it as a child process).

--phase ingest: bulk-loads an NDJSON file with read_ndjson_objects (the full
event kept as a JSON column), extracts the query fields with the same rules
as kevdb's model (both API shapes), keeps the latest observation per
(cluster, uid) with QUALIFY row_number(), and checkpoints.

--phase queries: reopens the database read-only and runs Q1-Q8 against the
targets kevdb chose (JSON in --targets), median of --runs warm runs.

Prints one JSON line on stdout (the shapes kevdb-bench's `IngestFigures` and
`QueryFigures` read). DuckDB's fts extension downloads from the internet,
which may be blocked, so Q4 is a substring match (ILIKE) on the message.
Default settings otherwise (all cores, default memory limit), no ART indexes
(DuckDB relies on zone maps).
"""

import argparse
import json
import os
import sys
import time

import duckdb

HOUR = 3600 * 1_000_000
DAY = 24 * HOUR


def ts(path):
    """A JSON timestamp at `path` as microseconds since the epoch, or NULL."""
    return f"epoch_us(TRY_CAST(json->>'{path}' AS TIMESTAMPTZ))"


LOAD = f"""
CREATE TABLE events AS
WITH raw AS (
    SELECT row_number() OVER () AS seq, json FROM read_ndjson_objects(?)
), fields AS (
    SELECT seq, json,
        coalesce(json->>'$.metadata.annotations."kevdb.io/cluster"', 'default') AS cluster,
        coalesce(nullif(json->>'$.metadata.uid', ''),
                 concat(json->>'$.metadata.namespace', '/', json->>'$.metadata.name')) AS uid,
        coalesce(TRY_CAST(json->>'$.metadata.resourceVersion' AS UBIGINT), 0) AS rv,
        coalesce(json->>'$.metadata.namespace', '') AS namespace,
        coalesce(json->>'$.type', '') AS type,
        coalesce(json->>'$.reason', '') AS reason,
        coalesce(json->>'$.involvedObject.kind', json->>'$.regarding.kind', '') AS kind,
        coalesce(json->>'$.involvedObject.name', json->>'$.regarding.name', '') AS name,
        coalesce(json->>'$.message', json->>'$.note', '') AS message,
        coalesce({ts('$.series.lastObservedTime')}, {ts('$.lastTimestamp')}, {ts('$.deprecatedLastTimestamp')},
                 {ts('$.eventTime')}, {ts('$.firstTimestamp')}, {ts('$.deprecatedFirstTimestamp')},
                 {ts('$.metadata.creationTimestamp')}) AS last_seen,
        coalesce({ts('$.firstTimestamp')}, {ts('$.deprecatedFirstTimestamp')}, {ts('$.eventTime')},
                 {ts('$.metadata.creationTimestamp')}) AS first_any,
        coalesce(TRY_CAST(json->>'$.series.count' AS BIGINT), TRY_CAST(json->>'$.count' AS BIGINT),
                 TRY_CAST(json->>'$.deprecatedCount' AS BIGINT), 1) AS count
    FROM raw
)
SELECT seq, cluster, uid, rv, namespace, type, reason, kind, name, message,
       least(coalesce(first_any, last_seen), last_seen) AS first_seen, last_seen, count, json
FROM fields
QUALIFY row_number() OVER (PARTITION BY cluster, uid ORDER BY rv DESC, last_seen DESC, count DESC) = 1
"""


def dir_bytes(d):
    total = 0
    for root, _, files in os.walk(d):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def ingest(args):
    os.makedirs(args.dir, exist_ok=True)
    path = os.path.join(args.dir, "events.duckdb")
    started = time.perf_counter()
    con = duckdb.connect(path)
    con.execute(LOAD, [args.data_file])
    con.execute("CHECKPOINT")
    ingest_secs = time.perf_counter() - started
    events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    con.close()
    with open(args.data_file, "rb") as f:
        observations = sum(1 for line in f if line.strip())
    return {
        "observations": observations,
        "accepted": events,
        "events": events,
        "ingest_secs": ingest_secs,
        "disk_bytes": dir_bytes(args.dir),
        "notes": [
            f"DuckDB {duckdb.__version__} (Python), read_ndjson_objects + CREATE TABLE AS ... QUALIFY "
            "row_number() (latest observation per uid), full JSON column, no indexes, default settings "
            f"({con_threads()} threads)"
        ],
    }


def con_threads():
    c = duckdb.connect()
    try:
        return c.execute("SELECT current_setting('threads')").fetchone()[0]
    finally:
        c.close()


def timed(runs, f):
    """((median ms, first-run ms), last result): the first run, right after
    opening, is also the warm-up."""
    t = time.perf_counter()
    out = f()
    first = (time.perf_counter() - t) * 1000.0
    times = []
    for _ in range(max(runs, 1)):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    times.sort()
    return (times[len(times) // 2] * 1000.0, first), out


def result(qid, timing, rows, check, streaming=False):
    ms, first = timing
    r = {"id": qid, "what": "", "median": ms, "first_ms": first, "rows": rows, "check": check,
         "events_per_sec": None}
    if streaming:
        r["events_per_sec"] = rows / max(ms / 1000.0, 1e-9)
    return r


def queries(args):
    t = json.loads(args.targets)
    now = t["now"]

    def ago(d):
        return now - d + 1

    started = time.perf_counter()
    con = duckdb.connect(os.path.join(args.dir, "events.duckdb"), read_only=True)
    con.execute("SELECT count(*) FROM events").fetchone()
    open_ms = (time.perf_counter() - started) * 1000.0
    runs = args.runs
    out = []

    def rows(sql, params):
        return len(con.execute(sql, params).fetchall())

    def groups(sql, params):
        g = con.execute(sql, params).fetchall()
        return len(g), sum(c for _, c in g)

    ms, n = timed(runs, lambda: con.execute(
        "SELECT count(*) FROM events WHERE type = 'Warning' AND last_seen >= ?", [ago(7 * DAY)]).fetchone()[0])
    out.append(result("Q1", ms, n, n))

    ms, n = timed(runs, lambda: rows(
        "SELECT json FROM events WHERE namespace = ? AND type = 'Warning' AND kind = 'Pod' "
        "ORDER BY last_seen DESC, seq DESC LIMIT 500", [t["namespace"]]))
    out.append(result("Q2", ms, n, n))

    ms, (g, s) = timed(runs, lambda: groups(
        "SELECT reason, count(*) AS c FROM events WHERE type = 'Warning' AND last_seen >= ? "
        "GROUP BY reason ORDER BY c DESC, reason LIMIT 10", [ago(DAY)]))
    out.append(result("Q3", ms, g, s))

    ms, n = timed(runs, lambda: rows(
        "SELECT json FROM events WHERE message ILIKE '%connection refused%' AND last_seen >= ? "
        "ORDER BY last_seen DESC, seq DESC LIMIT 100", [ago(30 * DAY)]))
    out.append(result("Q4", ms, n, n))

    ms, n = timed(runs, lambda: rows(
        "SELECT json FROM events WHERE namespace = ? AND kind = ? AND name = ? ORDER BY last_seen DESC",
        [t["namespace"], t["kind"], t["name"]]))
    out.append(result("Q5", ms, n, n))

    ms, (b, s) = timed(runs, lambda: groups(
        "SELECT last_seen // ? AS h, count(*) FROM events "
        "WHERE reason = 'BackOff' AND last_seen >= ? AND first_seen < ? GROUP BY h ORDER BY h",
        [HOUR, ago(30 * DAY), now + 1]))
    out.append(result("Q6", ms, b, s))

    def page_week():
        key, total = (2**62, 2**62), 0
        while True:
            page = con.execute(
                "SELECT last_seen, seq, json FROM events WHERE type = 'Warning' AND last_seen >= ? "
                "AND (last_seen < ? OR (last_seen = ? AND seq < ?)) ORDER BY last_seen DESC, seq DESC LIMIT 500",
                [ago(7 * DAY), key[0], key[0], key[1]]).fetchall()
            total += len(page)
            if page:
                key = (page[-1][0], page[-1][1])
            if len(page) < 500:
                return total

    ms, n = timed(min(runs, 3), page_week)
    out.append(result("Q7", ms, n, n, streaming=True))

    ms, n = timed(min(runs, 3), lambda: rows(
        "SELECT json FROM events WHERE namespace = ? AND seq > 0 ORDER BY seq", [t["namespace"]]))
    out.append(result("Q8", ms, n, n, streaming=True))
    con.close()
    return {
        "open_ms": open_ms,
        "targets": None,
        "queries": out,
        "notes": ["Q4 is ILIKE '%connection refused%' on the message column (the fts extension is not installed "
                  "offline); rows fetched into Python with fetchall()"],
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--phase", choices=["ingest", "queries", "version"], required=True)
    p.add_argument("--data-file")
    p.add_argument("--dir")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--targets")
    args = p.parse_args()
    if args.phase == "version":
        out = {"version": duckdb.__version__}
    elif args.phase == "ingest":
        out = ingest(args)
    else:
        out = queries(args)
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
