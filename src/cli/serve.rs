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
    if let Some(token) = args.metrics_token.as_deref().filter(|t| !t.is_empty()) {
        if token.len() < 16 || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(
                "METRICS_TOKEN must be at least 16 printable characters, without spaces".into(),
            );
        }
        config.metrics_token = Some(token.to_string());
    }
    if !(1..=3600).contains(&args.shutdown_grace_seconds) {
        return Err("SHUTDOWN_GRACE_SECONDS must be 1 to 3600".into());
    }
    config.shutdown_grace = std::time::Duration::from_secs(args.shutdown_grace_seconds);
    if !(0..=50).contains(&args.retention_years) {
        return Err("RETENTION_YEARS must be 0 (never) to 50".into());
    }
    config.retention_years = args.retention_years;
    config.backups = backup_schedule(&config, args)?;
    Ok(config)
}

/// The scheduled backups asked for, checked: SQLite only, a folder that exists or can be
/// made, sensible numbers.
fn backup_schedule(
    config: &Config,
    args: &ServeArgs,
) -> Result<Option<crate::backups::Schedule>, String> {
    let Some(dir) = args
        .backup_dir
        .as_ref()
        .filter(|d| !d.as_os_str().is_empty())
    else {
        return Ok(None);
    };
    if config.database.backend != db::Backend::Sqlite {
        return Err(
            "BACKUP_DIR is for SQLite installs; back up PostgreSQL with pg_dump on your own \
             schedule (`outreach backup FILE` runs it; see the README, Operating it)"
                .into(),
        );
    }
    if !(1..=1000).contains(&args.backup_keep) {
        return Err("BACKUP_KEEP must be 1 to 1000".into());
    }
    if !(1..=24 * 31).contains(&args.backup_every_hours) {
        return Err("BACKUP_EVERY_HOURS must be 1 to 744".into());
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("BACKUP_DIR {} cannot be made: {e}", dir.display()))?;
    Ok(Some(crate::backups::Schedule {
        dir: dir.clone(),
        keep: args.backup_keep,
        every: chrono::Duration::hours(args.backup_every_hours),
    }))
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
    let grace = app.config.shutdown_grace;
    let served = runtime.block_on(async move {
        let bind = app.config.bind.clone();
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        let router = crate::build_router(app.clone());
        let stop = tokio_util::sync::CancellationToken::new();
        let mailer = tokio::spawn(crate::mailer::run(app.clone(), stop.clone()));
        let housekeeping = tokio::spawn(crate::domain::maintenance::run(app.clone(), stop.clone()));
        let backups =
            app.config.backups.clone().map(|schedule| {
                tokio::spawn(crate::backups::run(app.clone(), schedule, stop.clone()))
            });
        println!(
            "Outreach is running at {} (database: {})",
            app.config.base_url,
            match app.config.database.backend {
                db::Backend::Sqlite => format!("SQLite file {}", app.config.database.target),
                db::Backend::Postgres => db::redact(&app.config.database.target),
            }
        );
        // The signal stops everything at once (the mailer claims nothing new while requests
        // drain), and starts one grace period for all of it.
        let signalled = std::sync::Arc::new(std::sync::OnceLock::new());
        tokio::spawn({
            let (stop, signalled) = (stop.clone(), signalled.clone());
            async move {
                stop_signal().await;
                let _ = signalled.set(tokio::time::Instant::now());
                stop.cancel();
            }
        });
        let served = crate::web::server::serve(
            listener,
            router,
            app.config.connections.clone(),
            stop.clone().cancelled_owned(),
            grace,
        )
        .await
        .map_err(|e| format!("the server stopped: {e}"));
        stop.cancel();
        let left = signalled.get().map_or(grace, |at: &tokio::time::Instant| {
            grace.saturating_sub(at.elapsed())
        });
        let background = async {
            let _ = mailer.await;
            let _ = housekeeping.await;
            if let Some(b) = backups {
                let _ = b.await;
            }
        };
        if tokio::time::timeout(left, background).await.is_err() {
            tracing::warn!("the mail worker did not stop within the grace period");
        }
        tracing::info!("stopped");
        served
    });
    // Blocking database work of requests cut off by the grace period is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    served
}

/// Resolves on Ctrl-C or SIGTERM (what a service manager or a container runtime sends).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stopping: no new connections; finishing the requests in flight");
}
