//! Command-line arguments (clap, as close to the flags as possible) and their
//! one-time conversion into validated configurations.

mod aggregate;
mod collect;
mod filter;
mod ingest;
mod query;
mod serve;

use crate::logging::LogArgs;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// kevdb: a long-term archive for Kubernetes events.
#[derive(Debug, Parser)]
#[command(name = "kevdb", version, about, long_about = None)]
pub struct Args {
    #[command(flatten)]
    pub log: LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store events from files (or `-` for standard input) in a database.
    ///
    /// Accepts a single event, JSON arrays, EventList/List, NDJSON, watch
    /// events, eventrouter lines and YAML (one or many documents), in either
    /// API shape, and dumps that mix events with other objects: `kubectl
    /// cluster-info dump` output, must-gather and support-bundle
    /// directories, sonobuoy results archives; gzip and zstd are
    /// decompressed. The format is detected from the content. Objects that
    /// are not events are skipped and counted; malformed events are reported
    /// with their position and skipped. Exit status: 0 when every event was
    /// stored (or already present), 3 when some were skipped, 1 on a fatal
    /// error.
    Ingest(IngestArgs),
    /// Print stored events, newest first, like `kubectl get events`.
    Query(QueryArgs),
    /// Count events grouped by one or two fields, largest groups first
    /// ("top 10 Warning reasons in the last 24 h").
    Top(TopArgs),
    /// Count events per time bucket ("Warnings per hour this week").
    Timeline(TimelineArgs),
    /// Serve the archive over the Kubernetes events API, so `kubectl` and
    /// the client libraries work against it.
    Serve(ServeArgs),
    /// Archive the events of a live cluster: list, then watch, resuming
    /// after a restart from the last archived resourceVersion, listing again
    /// on 410 Gone, retrying with backoff on errors. Runs until stopped
    /// (SIGTERM, Ctrl-C).
    Collect(CollectArgs),
}

/// Which cluster to collect from, and which API groups: shared by
/// `collect` and `serve --collect`.
#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// kubeconfig of the cluster (default: $KUBECONFIG or ~/.kube/config,
    /// then the in-cluster service account).
    #[arg(long, conflicts_with = "in_cluster")]
    pub kubeconfig: Option<PathBuf>,
    /// Context of the kubeconfig to use (default: its current context).
    #[arg(long, conflicts_with = "in_cluster")]
    pub context: Option<String>,
    /// Use the pod's service account (when kevdb runs inside the cluster).
    #[arg(long)]
    pub in_cluster: bool,
    /// API group to watch: v1, events.k8s.io, or both.
    #[arg(long = "api", value_enum, default_value = "v1")]
    pub api: CollectApi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CollectApi {
    /// core/v1 events
    #[value(name = "v1")]
    V1,
    /// events.k8s.io/v1 events
    #[value(name = "events.k8s.io")]
    Events,
    /// both groups (the same events in two shapes; each is stored once)
    #[value(name = "both")]
    Both,
}

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Archive into this database directory.
    #[arg(long, env = "KEVDB_DATA", conflicts_with = "server", required_unless_present = "server")]
    pub data: Option<PathBuf>,
    /// Archive into this kevdb server (http:// or https://).
    #[arg(long)]
    pub server: Option<String>,
    /// Bearer token for --server (needs the kevdb:write scope).
    #[arg(long, env = "KEVDB_TOKEN", requires = "server")]
    pub token: Option<String>,
    /// Cluster name the events are archived under.
    #[arg(long, default_value = "default")]
    pub cluster: String,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Database directory (created if missing).
    #[arg(long, env = "KEVDB_DATA")]
    pub data: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Serve a temporary demo archive (several namespaces, rollouts, crash
    /// loops, image pull failures, node pressure, over three weeks).
    #[arg(long)]
    pub demo: bool,
    /// Observations in the demo archive.
    #[arg(long, default_value_t = 200_000)]
    pub demo_events: u64,
    /// Drop events last seen longer ago than this (e.g. 90d).
    #[arg(long)]
    pub retention: Option<String>,
    /// Keep segments under this size, dropping the oldest days (e.g. 50GiB).
    #[arg(long)]
    pub max_disk: Option<String>,
    /// Memory for decoded row groups kept between queries (e.g. 512MiB; 0
    /// turns the cache off).
    #[arg(long, default_value = "128MiB")]
    pub cache: String,
    /// Cluster name given to events written without one.
    #[arg(long, default_value = "default")]
    pub cluster: String,
    /// Allow listening beyond loopback without authentication.
    #[arg(long)]
    pub allow_anonymous: bool,
    /// Bearer tokens in the API server's static token file format (CSV:
    /// token,user,uid[,"groups"]); groups kevdb:read, kevdb:write and
    /// kevdb:admin scope them (no kevdb group: read).
    #[arg(long)]
    pub token_auth_file: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-private-key-file).
    #[arg(long, requires = "tls_private_key_file")]
    pub tls_cert_file: Option<PathBuf>,
    /// The PEM private key of --tls-cert-file.
    #[arg(long, requires = "tls_cert_file")]
    pub tls_private_key_file: Option<PathBuf>,
    /// Also collect the events of a live cluster into this archive (under
    /// --cluster), as `kevdb collect` does.
    #[arg(long)]
    pub collect: bool,
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Database directory (created if missing).
    #[arg(long, env = "KEVDB_DATA")]
    pub data: PathBuf,
    /// Cluster name recorded with the events.
    #[arg(long, default_value = "default")]
    pub cluster: String,
    /// Keep `metadata.managedFields` (dropped by default).
    #[arg(long)]
    pub keep_managed_fields: bool,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Report records that are not events (other kinds in a dump) as
    /// errors instead of skipping them.
    #[arg(long)]
    pub strict: bool,
    /// Files, directories (walked for event files) or archives to read;
    /// gzip and zstd are decompressed; `-` reads standard input.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Wide,
    Json,
    Yaml,
    Ndjson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiChoice {
    /// core/v1 (what `kubectl get events` shows)
    #[value(name = "v1")]
    V1,
    /// events.k8s.io/v1
    #[value(name = "events.k8s.io/v1")]
    EventsV1,
    /// each event in the shape it arrived in
    #[value(name = "original")]
    Original,
}

/// Which events a command looks at: flags shared by `query`, `top` and
/// `timeline`.
#[derive(Debug, clap::Args)]
pub struct FilterArgs {
    /// Database directory.
    #[arg(long, env = "KEVDB_DATA")]
    pub data: PathBuf,
    /// Namespace to show (default: `default`, as kubectl).
    #[arg(short = 'n', long, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Show every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Only events last seen since: RFC 3339, YYYY-MM-DD, or a duration ago (15m, 7d).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events first seen before: RFC 3339, YYYY-MM-DD, or a duration ago.
    #[arg(long)]
    pub until: Option<String>,
    /// Event type (Normal, Warning); repeat for several.
    #[arg(long = "type")]
    pub types: Vec<String>,
    /// Reason; repeat for several.
    #[arg(long = "reason")]
    pub reasons: Vec<String>,
    /// Involved object kind; repeat for several.
    #[arg(long = "kind")]
    pub kinds: Vec<String>,
    /// Involved object name; repeat for several.
    #[arg(long = "name")]
    pub names: Vec<String>,
    /// Reporting component; repeat for several.
    #[arg(long = "component")]
    pub components: Vec<String>,
    /// Cluster; repeat for several (default: all).
    #[arg(long = "cluster")]
    pub clusters: Vec<String>,
    /// Kubernetes field selector, e.g. `type=Warning,involvedObject.kind=Pod`.
    #[arg(long)]
    pub field_selector: Option<String>,
    /// Kubernetes label selector on the events' own labels, e.g. `app=web`.
    #[arg(short = 'l', long = "selector")]
    pub label_selector: Option<String>,
    /// Full-text search in the message: terms, "phrases", OR, -term, prefix*.
    #[arg(long)]
    pub grep: Option<String>,
    /// Every observation, not only the latest of each event.
    #[arg(long)]
    pub history: bool,
}

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Oldest first instead of newest first.
    #[arg(long)]
    pub reverse: bool,
    /// Print at most this many events.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: OutputFormat,
    /// API shape for json/yaml/ndjson output.
    #[arg(long, value_enum, default_value = "v1")]
    pub api: ApiChoice,
}

#[derive(Debug, clap::Args)]
pub struct TopArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// What to group by: reason, kind, namespace, type, component, object,
    /// cluster or host; two separated by a comma for pairs.
    #[arg(long, default_value = "reason")]
    pub by: String,
    /// How many groups to print.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Bucket width: 1m, 15m, 1h, 1d, ...
    #[arg(long, default_value = "1h")]
    pub every: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs a parsed command line.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let default_level = match args.command {
        Command::Serve(_) | Command::Collect(_) => "info",
        _ => "warn",
    };
    crate::logging::init(&args.log, default_level)?;
    match args.command {
        Command::Ingest(a) => ingest::run(ingest::IngestConfig::try_from(a)?),
        Command::Query(a) => query::run(query::QueryConfig::try_from(a)?),
        Command::Top(a) => aggregate::run_top(aggregate::TopConfig::try_from(a)?),
        Command::Timeline(a) => aggregate::run_timeline(aggregate::TimelineConfig::try_from(a)?),
        Command::Serve(a) => serve::run(serve::ServeConfig::try_from(a)?),
        Command::Collect(a) => collect::run(a),
    }
}
