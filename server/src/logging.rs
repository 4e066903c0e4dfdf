//! The process's log: one `tracing` subscriber, set up once from the global
//! `--log-format` and `--log-level` flags, writing lines to standard error
//! as text (the default) or as one JSON object per line.
//!
//! The level filter is, first found: `--log-level`, `KEVDB_LOG`,
//! `RUST_LOG`, then the command's default (`info` for the long-running
//! `serve` and `collect`, `warn` for the one-shot commands, whose own output
//! is for a person at a terminal). Any of them takes `tracing`'s filter
//! syntax: a level, or directives such as `info,kevdb_engine=debug`.

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `TIMESTAMP LEVEL target: message key=value ...`
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message`
    /// and the event's fields.
    Json,
}

/// The global logging flags, accepted by every command.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// Format of the log lines written to standard error.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Least severe level logged (error, warn, info, debug, trace), or
    /// filter directives such as `info,kevdb_engine=debug`. Without it:
    /// $KEVDB_LOG, then $RUST_LOG, then info for serve and collect, warn
    /// for the other commands.
    #[arg(long, global = true, env = "KEVDB_LOG")]
    pub log_level: Option<String>,
}

/// Installs the process's subscriber. `default_level` applies when neither
/// the flag nor an environment variable says otherwise.
pub fn init(args: &LogArgs, default_level: &str) -> anyhow::Result<()> {
    let from_env = std::env::var("RUST_LOG").ok().filter(|s| !s.trim().is_empty());
    let spec = args.log_level.clone().or(from_env).unwrap_or_else(|| default_level.to_owned());
    let filter = EnvFilter::try_new(&spec).map_err(|e| anyhow::anyhow!("--log-level {spec:?}: {e}"))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(false);
    let installed = match args.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(false).try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("setting up the log: {e}"))
}
