//! The `outreach` command line (see `outreach::cli`).

use std::process::ExitCode;

use clap::Parser;
use outreach::cli::{run, Cli};

fn main() -> ExitCode {
    outreach::db::tune_sqlite();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "outreach=info".into());
    // Logs go to standard error (standard output is the commands' own, e.g. a new token).
    // LOG_FORMAT=json: one JSON object per line (for a log collector); else plain text.
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("outreach: {message}");
            ExitCode::FAILURE
        }
    }
}
