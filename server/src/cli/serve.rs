//! `kevdb serve`: the Kubernetes-compatible archive server.

use super::{ServeArgs, SourceArgs};
use crate::collect::{self, CollectConfig, Sink};
use crate::http::{router, AppState, Limits, TlsConfig, TlsListener, TokenAuth};
use crate::timespec::parse_duration_micros;
use anyhow::Context;
use kevdb_engine::model::parse::{parse_bytes, ParseOptions};
use kevdb_engine::{Db, Options};
use kevdb_gen::{GenConfig, Generator};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// A validated `kevdb serve`.
#[derive(Debug)]
pub struct ServeConfig {
    data: Option<PathBuf>,
    listen: SocketAddr,
    options: Options,
    demo: Option<u64>,
    auth: Option<Arc<TokenAuth>>,
    tls: Option<TlsConfig>,
    /// `--collect`: the cluster to collect from.
    collect: Option<SourceArgs>,
    cluster: String,
}

/// Parses `10GiB`, `500MB`, `1T`, or plain bytes.
fn parse_size(s: &str) -> anyhow::Result<u64> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().with_context(|| format!("invalid size {s:?}"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "ki" | "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mi" | "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gi" | "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "ti" | "tib" => 1 << 40,
        other => anyhow::bail!("invalid size unit {other:?} in {s:?} (use e.g. 500MiB, 50GiB)"),
    };
    n.checked_mul(mult).with_context(|| format!("size {s:?} is too large"))
}

impl TryFrom<ServeArgs> for ServeConfig {
    type Error = anyhow::Error;

    fn try_from(a: ServeArgs) -> anyhow::Result<Self> {
        let listen: SocketAddr =
            a.listen.parse().with_context(|| format!("--listen {:?}: expected HOST:PORT", a.listen))?;
        if !listen.ip().is_loopback() && !a.allow_anonymous && a.token_auth_file.is_none() {
            anyhow::bail!(
                "refusing to serve the archive without authentication on {listen}: listen on 127.0.0.1, or pass --allow-anonymous"
            );
        }
        anyhow::ensure!(a.data.is_some() || a.demo, "give --data DIR (or --demo for a temporary demo archive)");
        let retention = a
            .retention
            .as_deref()
            .map(|r| parse_duration_micros(r).map(|m| Duration::from_micros(m as u64)).map_err(anyhow::Error::msg))
            .transpose()?;
        let max_disk_bytes = a.max_disk.as_deref().map(parse_size).transpose()?;
        if a.collect {
            super::collect::check_cluster(&a.cluster)?;
        }
        let cache_bytes = usize::try_from(parse_size(&a.cache).context("--cache")?).unwrap_or(usize::MAX);
        let options = Options {
            retention,
            max_disk_bytes,
            cache_bytes,
            default_cluster: a.cluster.clone(),
            ..Options::default()
        };
        let auth = a.token_auth_file.as_deref().map(TokenAuth::load).transpose()?.map(Arc::new);
        let tls = match (&a.tls_cert_file, &a.tls_private_key_file) {
            (Some(c), Some(k)) => Some(TlsConfig::load(c, k)?),
            _ => None,
        };
        Ok(ServeConfig {
            data: a.data,
            listen,
            options,
            demo: a.demo.then_some(a.demo_events),
            auth,
            tls,
            collect: a.collect.then_some(a.source),
            cluster: a.cluster,
        })
    }
}

/// Fills `db` with a realistic multi-week archive.
fn fill_demo(db: &Db, observations: u64) -> anyhow::Result<()> {
    let now = chrono::Utc::now().timestamp();
    let cfg =
        GenConfig { observations, days: 21, seed: 2026, clusters: 1, end_secs: now - 2 * 3600, events_api_share: 0.2 };
    let mut lines = Generator::new(cfg).peekable();
    while lines.peek().is_some() {
        let mut batch = String::new();
        for line in lines.by_ref().take(8192) {
            batch.push_str(&line);
            batch.push('\n');
        }
        db.append(parse_bytes(batch.as_bytes(), &ParseOptions::default()).events)?;
    }
    db.flush()?;
    Ok(())
}

pub fn run(cfg: ServeConfig) -> anyhow::Result<ExitCode> {
    let tmp = match cfg.data {
        Some(_) => None,
        None => Some(tempfile::tempdir().context("creating a temporary directory for the demo")?),
    };
    let dir = cfg.data.clone().or_else(|| tmp.as_ref().map(|t| t.path().to_path_buf())).context("no data directory")?;
    let db = Db::open(&dir, cfg.options.clone()).with_context(|| format!("opening {}", dir.display()))?;
    if let Some(n) = cfg.demo {
        tracing::info!(observations = n, dir = %dir.display(), "generating a demo archive over 21 days");
        fill_demo(&db, n)?;
    }
    // Damage found at open was logged by the engine as it was found.
    let db = Arc::new(db);
    let state = Arc::new(AppState { db: db.clone(), limits: Limits::default(), auth: cfg.auth.clone() });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        if let Some(source) = &cfg.collect {
            let kube = source.kube_config().await?;
            tracing::info!(source = %kube.cluster_url, cluster = %cfg.cluster, "collecting the events of a cluster");
            let collector = CollectConfig {
                kube,
                cluster: cfg.cluster.clone(),
                groups: source.groups(),
                sink: Sink::Local(db.clone()),
            };
            tokio::spawn(async move {
                if let Err(e) = collect::run(collector).await {
                    tracing::error!(error = format!("{e:#}"), "the collector stopped");
                }
            });
        }
        let listener =
            tokio::net::TcpListener::bind(cfg.listen).await.with_context(|| format!("listening on {}", cfg.listen))?;
        let scheme = if cfg.tls.is_some() { "https" } else { "http" };
        tracing::info!(
            dir = %dir.display(),
            listen = %cfg.listen,
            tls = cfg.tls.is_some(),
            "serving (try: kubectl --server {scheme}://{} get events -A)",
            cfg.listen
        );
        match &cfg.tls {
            Some(tls) => {
                let listener = TlsListener::new(listener, tls)?;
                axum::serve(listener, router(state)).with_graceful_shutdown(crate::signals::shutdown()).await?
            }
            None => axum::serve(listener, router(state)).with_graceful_shutdown(crate::signals::shutdown()).await?,
        }
        anyhow::Ok(())
    })?;
    runtime.shutdown_timeout(Duration::from_secs(5));
    tracing::info!("shutting down; sealing what is in memory");
    db.flush()?;
    if let Ok(db) = Arc::try_unwrap(db) {
        db.close()?;
    }
    drop(tmp);
    Ok(ExitCode::SUCCESS)
}
