//! The `kevdb` binary: parses the command line once into a validated
//! configuration and dispatches to the command that runs it.

mod cli;
mod collect;
mod http;
mod logging;
mod signals;
mod table;
mod timespec;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
