//! `kevdb query`: print stored events like `kubectl get events`.

use super::{ApiChoice, OutputFormat, QueryArgs};
use crate::table;
use crate::timespec::parse_time;
use anyhow::Context;
use kevdb_engine::model::render;
use kevdb_engine::{ApiShape, Db, Options, Order, Query, StoredEvent, Timestamp};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// A validated `kevdb query` invocation.
#[derive(Debug)]
pub struct QueryConfig {
    data: PathBuf,
    query: Query,
    all_namespaces: bool,
    output: OutputFormat,
    api: ApiChoice,
    now: Timestamp,
}

impl TryFrom<QueryArgs> for QueryConfig {
    type Error = anyhow::Error;

    fn try_from(a: QueryArgs) -> anyhow::Result<Self> {
        let now = Timestamp::now();
        let since = a.since.as_deref().map(|s| parse_time(s, now)).transpose().map_err(anyhow::Error::msg)?;
        let until = a.until.as_deref().map(|s| parse_time(s, now)).transpose().map_err(anyhow::Error::msg)?;
        if let (Some(s), Some(u)) = (since, until) {
            anyhow::ensure!(s < u, "--since ({s}) must be before --until ({u})");
        }
        if !a.data.join("MANIFEST").is_file() {
            anyhow::bail!("{} is not a kevdb database (no MANIFEST); create one with `kevdb ingest`", a.data.display());
        }
        let namespaces = match (a.all_namespaces, a.namespace) {
            (true, _) => Vec::new(),
            (false, Some(ns)) => vec![ns],
            (false, None) => vec!["default".to_string()],
        };
        let query = Query {
            since,
            until,
            clusters: a.clusters,
            namespaces,
            types: a.types,
            reasons: a.reasons,
            kinds: a.kinds,
            names: a.names,
            components: a.components,
            history: a.history,
            order: if a.reverse { Order::OldestFirst } else { Order::NewestFirst },
            limit: a.limit,
        };
        Ok(QueryConfig { data: a.data, query, all_namespaces: a.all_namespaces, output: a.output, api: a.api, now })
    }
}

fn shape_for(api: ApiChoice, e: &StoredEvent) -> ApiShape {
    match api {
        ApiChoice::V1 => ApiShape::CoreV1,
        ApiChoice::EventsV1 => ApiShape::EventsV1,
        ApiChoice::Original => e.event.shape(),
    }
}

pub fn run(cfg: QueryConfig) -> anyhow::Result<ExitCode> {
    let db = Db::open(&cfg.data, Options { background: false, ..Options::default() })
        .with_context(|| format!("opening {}", cfg.data.display()))?;
    let results = db.query(&cfg.query)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match cfg.output {
        OutputFormat::Table | OutputFormat::Wide => {
            let wide = cfg.output == OutputFormat::Wide;
            let mut headers = table::headers(wide);
            if cfg.all_namespaces {
                headers.insert(0, "NAMESPACE");
            }
            let rows: Vec<Vec<String>> = results
                .map(|r| {
                    let mut row = table::row(&r.event, wide, cfg.now);
                    if cfg.all_namespaces {
                        row.insert(0, r.event.namespace().to_string());
                    }
                    row
                })
                .collect();
            if rows.is_empty() {
                let scope = if cfg.all_namespaces {
                    String::new()
                } else {
                    format!(" in {} namespace", cfg.query.namespaces[0])
                };
                eprintln!("No events found{scope}.");
            } else {
                out.write_all(table::layout(&headers, &rows).as_bytes())?;
            }
        }
        OutputFormat::Ndjson => {
            for r in results {
                writeln!(out, "{}", render::to_json(&r.event, shape_for(cfg.api, &r)))?;
            }
        }
        OutputFormat::Json | OutputFormat::Yaml => {
            let rows: Vec<StoredEvent> = results.collect();
            let list_shape = match cfg.api {
                ApiChoice::EventsV1 => ApiShape::EventsV1,
                _ => ApiShape::CoreV1,
            };
            let items: Vec<serde_json::Value> =
                rows.iter().map(|r| render::to_value(&r.event, shape_for(cfg.api, r))).collect();
            let list = serde_json::json!({
                "kind": "EventList",
                "apiVersion": list_shape.api_version(),
                "metadata": {},
                "items": items,
            });
            if cfg.output == OutputFormat::Json {
                serde_json::to_writer_pretty(&mut out, &list)?;
                writeln!(out)?;
            } else {
                out.write_all(serde_norway::to_string(&list)?.as_bytes())?;
            }
        }
    }
    out.flush()?;
    drop(out);
    for d in db.damage() {
        eprintln!("warning: {d}");
    }
    db.close()?;
    Ok(ExitCode::SUCCESS)
}
