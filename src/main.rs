//! The `outreach` command line: serve, migrate, users, tokens, import.

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use outreach::app::App;
use outreach::config::Config;
use outreach::db;
use outreach::domain::import::{self, ImportOptions};
use outreach::domain::input::Input;
use outreach::domain::{tokens, users};

#[derive(Parser)]
#[command(
    name = "outreach",
    version,
    about = "Bookings, attendance and impact reporting for theatre in education"
)]
struct Cli {
    /// sqlite://FILE, a plain file path, or postgres://USER@HOST/DB
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://outreach.db",
        global = true
    )]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, then serve the web app and API.
    Serve {
        #[arg(long, env = "BIND", default_value = "127.0.0.1:3000")]
        bind: String,
        /// The address people use to reach the app (links in mail, secure cookies on https).
        #[arg(long, env = "BASE_URL")]
        base_url: Option<String>,
        #[arg(long, env = "TIME_ZONE", default_value = "Europe/London")]
        time_zone: String,
        /// SMTP server for outgoing mail; without it mail stays in the outbox.
        #[arg(long, env = "SMTP_URL")]
        smtp_url: Option<String>,
        /// The sender of outgoing mail.
        #[arg(
            long,
            env = "MAIL_FROM",
            default_value = "Outreach <outreach@localhost>"
        )]
        mail_from: String,
        /// Remind schools this many days before a confirmed event or visit.
        #[arg(long, env = "REMINDER_DAYS", default_value_t = 3)]
        reminder_days: i64,
        /// Schools may cancel online until this many days before the event.
        #[arg(long, env = "CANCEL_CUTOFF_DAYS", default_value_t = 2)]
        cancel_cutoff_days: i64,
        /// Load the case-study demo data first, if the database is empty.
        #[arg(long)]
        demo: bool,
        /// Client connections served at once (more wait in the listen backlog).
        #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 1024)]
        max_connections: usize,
        /// Proxies (addresses or networks, comma-separated) whose X-Forwarded-For is
        /// believed: the load balancer in front of Outreach.
        #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
        trusted_proxies: String,
    },
    /// Load the case study (the partnership, Ruby 2018, County Lines 2019) into an empty database.
    Demo {
        /// Instead, generate a large programme for benchmarks.
        #[arg(long)]
        synthetic: bool,
        /// With --synthetic: how many completed events.
        #[arg(long, default_value_t = 10_000)]
        events: i64,
        /// With --synthetic: attendance rows of each venue performance and live stream (in-school events have one).
        #[arg(long, default_value_t = 10)]
        rows_per_event: i64,
    },
    /// Write funder outputs.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Print figures as JSON.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Import data.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        /// school, lead, funder or admin
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "")]
        name: String,
        /// For a school user: the URN of its school.
        #[arg(long)]
        school: Option<i32>,
        /// For a funder user: the id of its organisation.
        #[arg(long)]
        organisation: Option<i32>,
        /// Read the password from standard input (required; never pass it as an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user; prints the token alone on its last line.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "command line")]
        label: String,
        /// The token stops working after this many days (default: until revoked).
        #[arg(long)]
        expires_in_days: Option<i32>,
    },
    /// Revoke an API token by its id.
    Revoke {
        #[arg(long)]
        email: String,
        #[arg(long)]
        id: i32,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// The impact workbook of a programme (.xlsx).
    Impact {
        #[arg(long)]
        programme: i32,
        #[arg(long)]
        out: std::path::PathBuf,
        #[arg(long, env = "TIME_ZONE", default_value = "Europe/London")]
        time_zone: String,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The impact figures of a programme (the same JSON as GET /api/v1/programmes/ID/impact).
    Impact {
        #[arg(long)]
        programme: i32,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import schools from the national register's CSV (upsert by URN).
    Schools {
        file: std::path::PathBuf,
        /// Also import closed establishments.
        #[arg(long)]
        include_closed: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "outreach=info,tower_http=info".into()),
        )
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("outreach: {message}");
            ExitCode::FAILURE
        }
    }
}

fn open(database_url: &str, pool_size: u32) -> Result<db::DbPool, String> {
    let url = db::DbUrl::parse(database_url)?;
    let pool = db::connect(&url, pool_size)?;
    let mut conn = pool
        .get()
        .map_err(|e| format!("cannot get a database connection: {e}"))?;
    db::migrate(&mut conn)?;
    Ok(pool)
}

fn conn_of(pool: &db::DbPool) -> Result<db::DbConn, String> {
    pool.get()
        .map_err(|e| format!("cannot get a database connection: {e}"))
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve {
            bind,
            base_url,
            time_zone,
            smtp_url,
            demo,
            reminder_days,
            cancel_cutoff_days,
            mail_from,
            max_connections,
            trusted_proxies,
        } => {
            let mut config = Config::new(
                &cli.database_url,
                &bind,
                base_url.as_deref(),
                &time_zone,
                smtp_url.as_deref(),
            )?;
            if !(0..=60).contains(&reminder_days) || !(0..=60).contains(&cancel_cutoff_days) {
                return Err("REMINDER_DAYS and CANCEL_CUTOFF_DAYS must be 0 to 60".into());
            }
            config.reminder_days = reminder_days;
            config.cancel_cutoff_days = cancel_cutoff_days;
            if mail_from.parse::<lettre::message::Mailbox>().is_err() {
                return Err(format!("MAIL_FROM '{mail_from}' is not a mail address like 'Outreach <outreach@example.org>'"));
            }
            config.mail_from = mail_from;
            if !(1..=100_000).contains(&max_connections) {
                return Err("MAX_CONNECTIONS must be 1 to 100000".into());
            }
            config.connections.max_connections = max_connections;
            fit_connections_to_open_files(&mut config);
            let trusted = outreach::web::client::parse_trusted(&trusted_proxies)?;
            config.connections.trusted_proxies = trusted.clone();
            config.trusted_proxies = trusted;
            let pool = open(&cli.database_url, config.pool_size)?;
            if demo {
                let mut conn = conn_of(&pool)?;
                if outreach::domain::demo::is_empty(&mut conn).map_err(describe)? {
                    load_demo(&mut conn)?;
                } else {
                    println!("the database already holds data; the demo was not loaded again");
                }
            }
            serve(App::new(pool, config))
        }
        Command::Demo {
            synthetic: false, ..
        } => {
            let pool = open(&cli.database_url, 1)?;
            load_demo(&mut *conn_of(&pool)?)
        }
        Command::Demo {
            synthetic: true,
            events,
            rows_per_event,
        } => {
            if !(1..=10_000_000).contains(&events) || !(1..=1_000).contains(&rows_per_event) {
                return Err(
                    "--events must be 1 to 10,000,000 and --rows-per-event 1 to 1,000".into(),
                );
            }
            let pool = open(&cli.database_url, 1)?;
            let bar = indicatif::ProgressBar::new(events as u64);
            let started = std::time::Instant::now();
            let made = outreach::domain::synthetic::generate(
                &mut *conn_of(&pool)?,
                events,
                rows_per_event,
                &|done, _| bar.set_position(done as u64),
            )
            .map_err(describe)?;
            bar.finish_and_clear();
            println!(
                "generated programme {} with {} events and {} attendance rows in {:.1} s",
                made.programme_id,
                made.events,
                made.attendance_rows,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Export {
            command:
                ExportCommand::Impact {
                    programme,
                    out,
                    time_zone,
                },
        } => {
            let tz: chrono_tz::Tz = time_zone
                .parse()
                .map_err(|_| format!("TIME_ZONE '{time_zone}' is not a known time zone"))?;
            let pool = open(&cli.database_url, 1)?;
            let mut conn = conn_of(&pool)?;
            let started = std::time::Instant::now();
            let now = outreach::app::now();
            let (report, _) =
                outreach::export::programme_report(&mut conn, &system_actor(), programme, now)
                    .map_err(describe)?;
            let today = now.and_utc().with_timezone(&tz).date_naive();
            let bytes = outreach::export::xlsx::workbook(&mut conn, &report, now, tz, today)
                .map_err(describe)?;
            std::fs::write(&out, &bytes)
                .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            println!(
                "wrote {} ({} bytes) in {:.2} s",
                out.display(),
                bytes.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Report {
            command: ReportCommand::Impact { programme },
        } => {
            let pool = open(&cli.database_url, 1)?;
            let mut conn = conn_of(&pool)?;
            let system = system_actor();
            let started = std::time::Instant::now();
            let impact = outreach::domain::reports::programme_impact(
                &mut conn,
                &system,
                programme,
                outreach::app::now(),
            )
            .map_err(describe)?;
            let took = started.elapsed();
            println!(
                "{}",
                serde_json::to_string_pretty(&impact).map_err(|e| e.to_string())?
            );
            eprintln!("computed in {:.3} s", took.as_secs_f64());
            Ok(())
        }
        Command::Migrate => {
            let url = db::DbUrl::parse(&cli.database_url)?;
            let pool = db::connect(&url, 1)?;
            let done = db::migrate(&mut *conn_of(&pool)?)?;
            println!("applied {done} migration(s); the database is up to date");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    role,
                    name,
                    school,
                    organisation,
                    password_stdin: _,
                },
        } => {
            let pool = open(&cli.database_url, 1)?;
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            let mut conn = conn_of(&pool)?;
            let school_id = match school {
                Some(urn) => Some(
                    outreach::domain::schools::find_by_urn(&mut conn, urn)
                        .map_err(|e| e.to_string())?
                        .ok_or_else(|| format!("no school has URN {urn}"))?
                        .id,
                ),
                None => None,
            };
            let mut input = Input::from_pairs([
                ("email", email),
                ("role", role),
                ("name", name),
                ("password", password),
            ]);
            if let Some(id) = school_id {
                input.set("school_id", id.to_string());
            }
            if let Some(id) = organisation {
                input.set("organisation_id", id.to_string());
            }
            let user = users::parse(&mut conn, &input, true)
                .and_then(|parsed| users::create(&mut conn, None, parsed))
                .map_err(describe)?;
            println!("added {} ({}) with id {}", user.email, user.role, user.id);
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    email,
                    label,
                    expires_in_days,
                },
        } => {
            if expires_in_days.is_some_and(|d| !(1..=3650).contains(&d)) {
                return Err("--expires-in-days must be 1 to 3650".into());
            }
            let pool = open(&cli.database_url, 1)?;
            let mut conn = conn_of(&pool)?;
            let user = users::find_by_email(&mut conn, &email)
                .map_err(describe)?
                .ok_or_else(|| format!("no user has the email {email}"))?;
            let request = tokens::TokenRequest {
                label,
                expires_in_days,
            };
            let (info, secret) =
                tokens::create_for(&mut conn, None, user.id, &request).map_err(describe)?;
            println!(
                "token {} for {} (shown once; Outreach keeps only its hash):",
                info.id, user.email
            );
            println!("{secret}");
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Revoke { email, id },
        } => {
            let pool = open(&cli.database_url, 1)?;
            let mut conn = conn_of(&pool)?;
            let user = users::find_by_email(&mut conn, &email)
                .map_err(describe)?
                .ok_or_else(|| format!("no user has the email {email}"))?;
            tokens::revoke_for_user(&mut conn, &user.actor(), user.id, id).map_err(describe)?;
            println!("revoked token {id}");
            Ok(())
        }
        Command::Import {
            command:
                ImportCommand::Schools {
                    file,
                    include_closed,
                },
        } => {
            let pool = open(&cli.database_url, 1)?;
            let source = std::io::BufReader::new(
                std::fs::File::open(&file)
                    .map_err(|e| format!("cannot read {}: {e}", file.display()))?,
            );
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let progress = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done);
            };
            let mut conn = conn_of(&pool)?;
            let report = import::import_schools_from(
                &mut conn,
                None,
                source,
                ImportOptions { include_closed },
                &progress,
            )
            .map_err(describe)?;
            bar.finish_and_clear();
            println!(
                "inserted {}, updated {}, unchanged {}, skipped (closed) {}, rejected {}",
                report.inserted,
                report.updated,
                report.unchanged,
                report.skipped_closed,
                report.rejected.len()
            );
            for r in &report.rejected {
                println!("  line {}: {}", r.line, r.reason);
            }
            Ok(())
        }
    }
}

/// The command line acts with an admin's reach.
fn system_actor() -> outreach::domain::Actor {
    outreach::domain::Actor {
        user_id: 0,
        role: outreach::domain::types::Role::Admin,
        school_id: None,
        organisation_id: None,
    }
}

fn load_demo(conn: &mut db::AnyConnection) -> Result<(), String> {
    let summary = outreach::domain::demo::load(conn).map_err(describe)?;
    println!(
        "loaded the case study: Ruby 2018 (programme {}) and County Lines 2019 (programme {})",
        summary.ruby_id, summary.county_lines_id
    );
    println!(
        "log in as {} with the password '{}'",
        outreach::domain::demo::describe(&summary.accounts),
        outreach::domain::demo::DEMO_PASSWORD
    );
    Ok(())
}

/// One line for an error, with the fields it names.
fn describe(e: outreach::error::AppError) -> String {
    match e.fields() {
        Some(fields) if !fields.is_empty() => fields
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join("; "),
        _ => e.to_string(),
    }
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

fn serve(app: outreach::app::AppState) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let bind = app.config.bind.clone();
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
        let router = outreach::build_router(app.clone());
        tokio::spawn(outreach::mailer::run(app.clone()));
        tokio::spawn(outreach::domain::maintenance::run(app.clone()));
        println!(
            "Outreach is running at {} (database: {})",
            app.config.base_url,
            match app.config.database.backend {
                db::Backend::Sqlite => format!("SQLite file {}", app.config.database.target),
                db::Backend::Postgres => db::redact(&app.config.database.target),
            }
        );
        outreach::web::server::serve(
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
