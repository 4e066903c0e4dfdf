//! `kevdb top` and `kevdb timeline`: counts by field and per time bucket.

use super::filter::Selection;
use super::{TimelineArgs, TopArgs};
use crate::table::layout;
use crate::timespec::parse_duration_micros;
use kevdb_engine::model::time::format_time;
use kevdb_engine::GroupBy;
use std::process::ExitCode;
use std::time::Duration;

/// A validated `kevdb top`.
#[derive(Debug)]
pub struct TopConfig {
    selection: Selection,
    by: Vec<GroupBy>,
    names: Vec<String>,
    top: usize,
    json: bool,
}

impl TryFrom<TopArgs> for TopConfig {
    type Error = anyhow::Error;

    fn try_from(a: TopArgs) -> anyhow::Result<Self> {
        let names: Vec<String> = a.by.split(',').map(|s| s.trim().to_string()).collect();
        anyhow::ensure!(names.len() <= 2, "--by takes one or two fields, not {}", names.len());
        let by = names
            .iter()
            .map(|n| {
                GroupBy::parse(n).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--by {n:?}: expected reason, kind, namespace, type, component, object, cluster or host"
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(a.top > 0, "--top must be positive");
        Ok(TopConfig { selection: Selection::try_from(a.filter)?, by, names, top: a.top, json: a.json })
    }
}

pub fn run_top(cfg: TopConfig) -> anyhow::Result<ExitCode> {
    let db = cfg.selection.open()?;
    let groups = db.count_by(&cfg.selection.query, &cfg.by, Some(cfg.top))?;
    db.close()?;
    if cfg.json {
        let rows: Vec<serde_json::Value> = groups
            .iter()
            .map(|g| {
                let mut o = serde_json::Map::new();
                for (name, v) in cfg.names.iter().zip(&g.key) {
                    o.insert(name.clone(), v.clone().into());
                }
                o.insert("count".into(), g.count.into());
                o.into()
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if groups.is_empty() {
        eprintln!("No events found{}.", cfg.selection.scope());
    } else {
        let mut headers: Vec<String> = vec!["COUNT".into()];
        headers.extend(cfg.names.iter().map(|n| n.to_uppercase()));
        let rows: Vec<Vec<String>> = groups
            .iter()
            .map(|g| std::iter::once(g.count.to_string()).chain(g.key.iter().cloned()).collect())
            .collect();
        print!("{}", layout(&headers.iter().map(String::as_str).collect::<Vec<_>>(), &rows));
    }
    Ok(ExitCode::SUCCESS)
}

/// A validated `kevdb timeline`.
#[derive(Debug)]
pub struct TimelineConfig {
    selection: Selection,
    every: Duration,
    json: bool,
}

impl TryFrom<TimelineArgs> for TimelineConfig {
    type Error = anyhow::Error;

    fn try_from(a: TimelineArgs) -> anyhow::Result<Self> {
        let micros = parse_duration_micros(&a.every).map_err(anyhow::Error::msg)?;
        anyhow::ensure!(micros >= 1_000_000, "--every must be at least 1s");
        Ok(TimelineConfig {
            selection: Selection::try_from(a.filter)?,
            every: Duration::from_micros(micros as u64),
            json: a.json,
        })
    }
}

pub fn run_timeline(cfg: TimelineConfig) -> anyhow::Result<ExitCode> {
    let db = cfg.selection.open()?;
    let buckets = db.histogram(&cfg.selection.query, cfg.every)?;
    db.close()?;
    if cfg.json {
        let rows: Vec<serde_json::Value> =
            buckets.iter().map(|b| serde_json::json!({"start": format_time(b.start), "count": b.count})).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if buckets.is_empty() {
        eprintln!("No events found{}.", cfg.selection.scope());
        return Ok(ExitCode::SUCCESS);
    }
    let max = buckets.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    let rows: Vec<Vec<String>> = buckets
        .iter()
        .map(|b| {
            let bar = "#".repeat(((b.count * 40).div_ceil(max)) as usize);
            vec![format_time(b.start), b.count.to_string(), bar]
        })
        .collect();
    print!("{}", layout(&["START", "COUNT", ""], &rows));
    Ok(ExitCode::SUCCESS)
}
