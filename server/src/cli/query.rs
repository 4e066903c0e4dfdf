//! `kevdb query`: print stored events like `kubectl get events`.

use super::filter::Selection;
use super::{ApiChoice, OutputFormat, QueryArgs};
use crate::table;
use kevdb_engine::model::render;
use kevdb_engine::{ApiShape, Order, StoredEvent};
use std::io::Write;
use std::process::ExitCode;

/// A validated `kevdb query` invocation.
#[derive(Debug)]
pub struct QueryConfig {
    selection: Selection,
    output: OutputFormat,
    api: ApiChoice,
}

impl TryFrom<QueryArgs> for QueryConfig {
    type Error = anyhow::Error;

    fn try_from(a: QueryArgs) -> anyhow::Result<Self> {
        let mut selection = Selection::try_from(a.filter)?;
        selection.query.order = if a.reverse { Order::OldestFirst } else { Order::NewestFirst };
        selection.query.limit = a.limit;
        Ok(QueryConfig { selection, output: a.output, api: a.api })
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
    let db = cfg.selection.open()?;
    let results = db.query(&cfg.selection.query)?;
    let (all_namespaces, now) = (cfg.selection.all_namespaces, cfg.selection.now);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match cfg.output {
        OutputFormat::Table | OutputFormat::Wide => {
            let wide = cfg.output == OutputFormat::Wide;
            let mut headers = table::headers(wide);
            if all_namespaces {
                headers.insert(0, "NAMESPACE");
            }
            let rows: Vec<Vec<String>> = results
                .map(|r| {
                    let mut row = table::row(&r.event, wide, now);
                    if all_namespaces {
                        row.insert(0, r.event.namespace().to_string());
                    }
                    row
                })
                .collect();
            if rows.is_empty() {
                let scope = cfg.selection.scope();
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
