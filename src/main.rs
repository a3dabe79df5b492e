//! The `outreach` command line (see `outreach::cli`).

use std::process::ExitCode;

use clap::Parser;
use outreach::cli::{run, Cli};

fn main() -> ExitCode {
    outreach::db::tune_sqlite();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "outreach=info,tower_http=info".into()),
        )
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("outreach: {message}");
            ExitCode::FAILURE
        }
    }
}
