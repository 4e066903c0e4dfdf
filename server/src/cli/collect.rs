//! `kevdb collect`, and the collector half of `kevdb serve --collect`:
//! flags into a [`CollectConfig`].

use super::{CollectApi, CollectArgs, SourceArgs};
use crate::collect::{self, ApiGroup, CollectConfig, Sink};
use anyhow::Context;
use kevdb_engine::{Db, Options};
use std::process::ExitCode;
use std::sync::Arc;

/// Checks a cluster name as it appears in paths and checkpoint names.
pub(crate) fn check_cluster(name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')),
        "--cluster {name:?}: use letters, digits, '.', '_' or '-'"
    );
    Ok(())
}

impl SourceArgs {
    /// The API groups to watch.
    pub(crate) fn groups(&self) -> Vec<ApiGroup> {
        match self.api {
            CollectApi::V1 => vec![ApiGroup::CoreV1],
            CollectApi::Events => vec![ApiGroup::EventsV1],
            CollectApi::Both => vec![ApiGroup::CoreV1, ApiGroup::EventsV1],
        }
    }

    /// How to reach the cluster.
    pub(crate) async fn kube_config(&self) -> anyhow::Result<kube::Config> {
        use kube::config::{KubeConfigOptions, Kubeconfig};
        let options = KubeConfigOptions { context: self.context.clone(), ..KubeConfigOptions::default() };
        if self.in_cluster {
            return kube::Config::incluster().context("reading the in-cluster service account");
        }
        match &self.kubeconfig {
            Some(path) => {
                let file = Kubeconfig::read_from(path).with_context(|| format!("reading {}", path.display()))?;
                kube::Config::from_custom_kubeconfig(file, &options)
                    .await
                    .with_context(|| format!("using {}", path.display()))
            }
            None if self.context.is_some() => {
                kube::Config::from_kubeconfig(&options).await.context("reading the kubeconfig")
            }
            None => kube::Config::infer().await.context("finding a kubeconfig or an in-cluster service account"),
        }
    }
}

pub fn run(a: CollectArgs) -> anyhow::Result<ExitCode> {
    check_cluster(&a.cluster)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let db = match &a.data {
        Some(dir) => Some(Arc::new(
            Db::open(dir, Options { default_cluster: a.cluster.clone(), ..Options::default() })
                .with_context(|| format!("opening {}", dir.display()))?,
        )),
        None => None,
    };
    let sink = match (&db, &a.server) {
        (Some(db), _) => Sink::Local(db.clone()),
        (None, Some(url)) => runtime.block_on(async { Sink::remote(url, a.token.clone()) })?,
        (None, None) => anyhow::bail!("give --data DIR or --server URL"),
    };
    runtime.block_on(async {
        let kube = a.source.kube_config().await?;
        tracing::info!(source = %kube.cluster_url, cluster = %a.cluster, "archiving the events of a cluster");
        let cfg = CollectConfig { kube, cluster: a.cluster.clone(), groups: a.source.groups(), sink };
        tokio::select! {
            r = collect::run(cfg) => r,
            () = crate::signals::shutdown() => {
                tracing::info!("stopping");
                Ok(())
            }
        }
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    if let Some(db) = db {
        db.flush()?;
        if let Ok(db) = Arc::try_unwrap(db) {
            db.close()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
