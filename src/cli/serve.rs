//! `outreach serve`: the settings checked, the database migrated (and the demo loaded
//! when asked), then the web app, the mailer and the hourly maintenance.

use super::{conn_of, describe, open, ServeArgs};
use crate::app::App;
use crate::config::Config;
use crate::db;

pub fn run(database_url: &str, args: ServeArgs) -> Result<(), String> {
    let config = config_of(database_url, &args)?;
    let pool = open(database_url, config.pool_size)?;
    if args.demo {
        let mut conn = conn_of(&pool)?;
        if crate::domain::demo::is_empty(&mut conn).map_err(describe)? {
            super::data::load_demo(&mut conn, Some(&config.base_url))?;
        } else if crate::domain::demo::is_demo(&mut conn).map_err(describe)? {
            println!(
                "the demo is already loaded; `outreach demo --reset` puts it back to its \
                 first state, dated from today"
            );
        } else {
            println!(
                "the database already holds data, so the demo was not loaded (it loads only \
                 into an empty database)"
            );
        }
    }
    serve(App::new(pool, config))
}

/// The install's settings, each checked.
fn config_of(database_url: &str, args: &ServeArgs) -> Result<Config, String> {
    let mut config = Config::new(
        database_url,
        &args.bind,
        args.base_url.as_deref(),
        &args.time_zone,
        args.smtp_url.as_deref(),
    )?;
    if !(0..=60).contains(&args.reminder_days) || !(0..=60).contains(&args.cancel_cutoff_days) {
        return Err("REMINDER_DAYS and CANCEL_CUTOFF_DAYS must be 0 to 60".into());
    }
    config.reminder_days = args.reminder_days;
    if !(1..=1440).contains(&args.starting_soon_minutes) {
        return Err("STARTING_SOON_MINUTES must be 1 to 1440".into());
    }
    config.starting_soon_minutes = args.starting_soon_minutes;
    if !(1..=60).contains(&args.answer_reminder_days) {
        return Err("ANSWER_REMINDER_DAYS must be 1 to 60".into());
    }
    config.answer_reminder_days = args.answer_reminder_days;
    config.cancel_cutoff_days = args.cancel_cutoff_days;
    config.session_times = crate::domain::schedule::visits::SessionTimes::from_env()?;
    if args.mail_from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(format!(
            "MAIL_FROM '{}' is not a mail address like 'Outreach <outreach@example.org>'",
            args.mail_from
        ));
    }
    config.mail_from = args.mail_from.clone();
    if !(1..=100_000).contains(&args.max_connections) {
        return Err("MAX_CONNECTIONS must be 1 to 100000".into());
    }
    config.connections.max_connections = args.max_connections;
    fit_connections_to_open_files(&mut config);
    let trusted = crate::web::client::parse_trusted(&args.trusted_proxies)?;
    config.connections.trusted_proxies = trusted.clone();
    config.trusted_proxies = trusted;
    Ok(config)
}

/// Raises the soft limit on open files as far as the system allows, and keeps the
/// connection cap within it (each connection is a file; so are database connections,
/// temporary export files and SQLite's own).
fn fit_connections_to_open_files(config: &mut Config) {
    const SPARE: u64 = 256;
    match rlimit::increase_nofile_limit(1 << 20) {
        Ok(files) => {
            let room = files.saturating_sub(SPARE).max(16) as usize;
            if config.connections.max_connections > room {
                eprintln!(
                    "outreach: MAX_CONNECTIONS lowered from {} to {room}: the system allows {files} open files",
                    config.connections.max_connections
                );
                config.connections.max_connections = room;
            }
        }
        Err(e) => eprintln!("outreach: cannot read the open-file limit: {e}"),
    }
}

fn serve(app: crate::app::AppState) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let bind = app.config.bind.clone();
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        let router = crate::build_router(app.clone());
        tokio::spawn(crate::mailer::run(app.clone()));
        tokio::spawn(crate::domain::maintenance::run(app.clone()));
        println!(
            "Outreach is running at {} (database: {})",
            app.config.base_url,
            match app.config.database.backend {
                db::Backend::Sqlite => format!("SQLite file {}", app.config.database.target),
                db::Backend::Postgres => db::redact(&app.config.database.target),
            }
        );
        crate::web::server::serve(
            listener,
            router,
            app.config.connections.clone(),
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
            std::time::Duration::from_secs(30),
        )
        .await
        .map_err(|e| format!("the server stopped: {e}"))
    })
}
