//! The `outreach` command line: serve, migrate, demo, users, tokens, import, export and
//! report. `main` parses it and calls [`run`]; each command is a function of its module.

mod accounts;
mod data;
mod serve;

use clap::{Args, Parser, Subcommand};

use crate::db;

#[derive(Parser)]
#[command(
    name = "outreach",
    version,
    about = "Bookings, attendance and impact reporting for theatre in education"
)]
pub struct Cli {
    /// sqlite://FILE, a plain file path, or postgres://USER@HOST/DB
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://outreach.db",
        global = true
    )]
    pub database_url: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Migrate the database, then serve the web app and API.
    Serve(ServeArgs),
    /// Load the demo into an empty database: the case study (the partnership, Ruby 2018,
    /// County Lines 2019), register-like schools, and a current round dated from today.
    Demo {
        /// Put a demo install back to its first state, dated from today (deletes
        /// everything in it; refused on a database the demo was not loaded into).
        #[arg(long, conflicts_with = "synthetic")]
        reset: bool,
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
    /// Check stored data.
    Check {
        #[command(subcommand)]
        command: CheckCommand,
    },
    /// The outbox.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Write a consistent copy of the database to FILE while the server runs (SQLite:
    /// `VACUUM INTO`; PostgreSQL: `pg_dump --format=custom`).
    Backup {
        /// A new file: an existing one is never overwritten.
        file: std::path::PathBuf,
    },
    /// Put a backup back into an empty database (refuses one that holds anything, or a
    /// backup made by a newer Outreach), then migrate it.
    Restore { file: std::path::PathBuf },
}

#[derive(Subcommand)]
pub enum CheckCommand {
    /// Compare the impact figures served (kept between writes) with a recount of the raw
    /// rows, for every programme and organisation; exits 1 on any difference.
    Figures,
}

#[derive(Subcommand)]
pub enum MailCommand {
    /// Queue again the mail kept while no SMTP server was set, for `serve` to send.
    SendKept,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add(AddUser),
    /// Invite a person by e-mail: they set their own name and password behind the link.
    Invite(InviteUser),
}

/// A person to invite from the command line.
#[derive(Args)]
pub struct InviteUser {
    #[arg(long)]
    pub email: String,
    /// school, lead, funder or admin
    #[arg(long)]
    pub role: String,
    /// For a school contact: the URN of its school.
    #[arg(long)]
    pub school: Option<i32>,
    /// For a funder: the id of its organisation.
    #[arg(long)]
    pub organisation: Option<i32>,
    /// The address people use to reach the app, for the link in the mail.
    #[arg(long, env = "BASE_URL", default_value = "http://127.0.0.1:3000")]
    pub base_url: String,
}

#[derive(Subcommand)]
pub enum TokenCommand {
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
pub enum ExportCommand {
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
pub enum ReportCommand {
    /// The impact figures of a programme (the same JSON as GET /api/v1/programmes/ID/impact).
    Impact {
        #[arg(long)]
        programme: i32,
    },
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import schools from the national register's CSV (upsert by URN).
    Schools {
        file: std::path::PathBuf,
        /// Also import closed establishments.
        #[arg(long)]
        include_closed: bool,
    },
}

/// A user to add from the command line.
#[derive(Args)]
pub struct AddUser {
    #[arg(long)]
    pub email: String,
    /// school, lead, funder or admin
    #[arg(long)]
    pub role: String,
    #[arg(long, default_value = "")]
    pub name: String,
    /// For a school user: the URN of its school.
    #[arg(long)]
    pub school: Option<i32>,
    /// For a funder user: the id of its organisation.
    #[arg(long)]
    pub organisation: Option<i32>,
    /// Read the password from standard input (required; never pass it as an argument).
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

/// The settings of `serve`, from flags or the environment.
#[derive(Args)]
pub struct ServeArgs {
    #[arg(long, env = "BIND", default_value = "127.0.0.1:3000")]
    pub bind: String,
    /// The address people use to reach the app (links in mail, secure cookies on https).
    #[arg(long, env = "BASE_URL")]
    pub base_url: Option<String>,
    #[arg(long, env = "TIME_ZONE", default_value = "Europe/London")]
    pub time_zone: String,
    /// SMTP server for outgoing mail; without it mail stays in the outbox.
    #[arg(long, env = "SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender of outgoing mail.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "Outreach <outreach@localhost>"
    )]
    pub mail_from: String,
    /// Remind schools this many days before a confirmed event or visit.
    #[arg(long, env = "REMINDER_DAYS", default_value_t = 3)]
    pub reminder_days: i64,
    /// Booked schools are told how to join a live stream this many minutes before it.
    #[arg(long, env = "STARTING_SOON_MINUTES", default_value_t = 30)]
    pub starting_soon_minutes: i64,
    /// A school asked after an event and silent this many days is reminded, once.
    #[arg(long, env = "ANSWER_REMINDER_DAYS", default_value_t = 7)]
    pub answer_reminder_days: i64,
    /// Schools may cancel online until this many days before the event.
    #[arg(long, env = "CANCEL_CUTOFF_DAYS", default_value_t = 2)]
    pub cancel_cutoff_days: i64,
    /// Load the case-study demo data first, if the database is empty.
    #[arg(long)]
    pub demo: bool,
    /// Client connections served at once (more wait in the listen backlog).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Proxies (addresses or networks, comma-separated) whose X-Forwarded-For is
    /// believed: the load balancer in front of Outreach.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Serves Prometheus metrics at /metrics to requests bearing this token (off when
    /// unset). At least 16 characters.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Seconds a stopping server (SIGTERM or Ctrl-C) gives requests in flight and the mail
    /// in hand before it exits.
    #[arg(long, env = "SHUTDOWN_GRACE_SECONDS", default_value_t = 30)]
    pub shutdown_grace_seconds: u64,
    /// Years after which the personal data of people gone is anonymised (0: never).
    #[arg(long, env = "RETENTION_YEARS", default_value_t = 3)]
    pub retention_years: i64,
    /// SQLite: a folder where `serve` makes a backup every BACKUP_EVERY_HOURS.
    #[arg(long, env = "BACKUP_DIR")]
    pub backup_dir: Option<std::path::PathBuf>,
    /// How many scheduled backups are kept in BACKUP_DIR (older ones are deleted).
    #[arg(long, env = "BACKUP_KEEP", default_value_t = 7)]
    pub backup_keep: usize,
    #[arg(long, env = "BACKUP_EVERY_HOURS", default_value_t = 24)]
    pub backup_every_hours: i64,
}

/// Runs a parsed command line; the error is one line for standard error.
pub fn run(cli: Cli) -> Result<(), String> {
    let url = cli.database_url;
    set_zone(&cli.command)?;
    match cli.command {
        Command::Serve(args) => serve::run(&url, args),
        Command::Demo {
            synthetic: false,
            reset,
            ..
        } => data::demo(&url, reset),
        Command::Demo {
            synthetic: true,
            events,
            rows_per_event,
            ..
        } => data::synthetic(&url, events, rows_per_event),
        Command::Export {
            command:
                ExportCommand::Impact {
                    programme,
                    out,
                    time_zone,
                },
        } => data::export_impact(&url, programme, &out, &time_zone),
        Command::Report {
            command: ReportCommand::Impact { programme },
        } => data::report_impact(&url, programme),
        Command::Migrate => migrate(&url),
        Command::User {
            command: UserCommand::Add(add),
        } => accounts::add_user(&url, add),
        Command::User {
            command: UserCommand::Invite(invite),
        } => accounts::invite_user(&url, invite),
        Command::Token {
            command:
                TokenCommand::Create {
                    email,
                    label,
                    expires_in_days,
                },
        } => accounts::create_token(&url, &email, label, expires_in_days),
        Command::Token {
            command: TokenCommand::Revoke { email, id },
        } => accounts::revoke_token(&url, &email, id),
        Command::Import {
            command:
                ImportCommand::Schools {
                    file,
                    include_closed,
                },
        } => data::import_schools(&url, &file, include_closed),
        Command::Mail {
            command: MailCommand::SendKept,
        } => data::send_kept(&url),
        Command::Check {
            command: CheckCommand::Figures,
        } => data::check_figures(&url),
        Command::Backup { file } => {
            println!("{}", db::backup::backup(&db::DbUrl::parse(&url)?, &file)?);
            Ok(())
        }
        Command::Restore { file } => {
            println!("{}", db::backup::restore(&db::DbUrl::parse(&url)?, &file)?);
            Ok(())
        }
    }
}

fn migrate(database_url: &str) -> Result<(), String> {
    let url = db::DbUrl::parse(database_url)?;
    let pool = db::connect(&url, 1)?;
    let done = db::migrate(&mut *conn_of(&pool)?)?;
    println!("applied {done} migration(s); the database is up to date");
    Ok(())
}

/// A pool on the database, migrated.
fn open(database_url: &str, pool_size: u32) -> Result<db::DbPool, String> {
    let url = db::DbUrl::parse(database_url)?;
    let pool = db::connect(&url, pool_size)?;
    db::migrate(&mut *conn_of(&pool)?)?;
    Ok(pool)
}

fn conn_of(pool: &db::DbPool) -> Result<db::DbConn, String> {
    pool.get()
        .map_err(|e| format!("cannot get a database connection: {e}"))
}

/// The command line acts with an admin's reach.
fn system_actor() -> crate::domain::Actor {
    crate::domain::Actor {
        user_id: 0,
        role: crate::domain::types::Role::Admin,
        school_id: None,
        organisation_id: None,
    }
}

/// One line for an error, with the fields it names.
fn describe(e: crate::error::AppError) -> String {
    match e.fields() {
        Some(fields) if !fields.is_empty() => fields
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join("; "),
        _ => e.to_string(),
    }
}

/// Sets the install's zone for the whole process before any command runs, so that every
/// time the command writes (JSON, CSV, demo dates) is in it: the command's own
/// `--time-zone` where it has one, else `TIME_ZONE`, else Europe/London.
fn set_zone(command: &Command) -> Result<(), String> {
    let name = match command {
        Command::Serve(args) => args.time_zone.clone(),
        Command::Export {
            command: ExportCommand::Impact { time_zone, .. },
        } => time_zone.clone(),
        _ => std::env::var("TIME_ZONE").unwrap_or_else(|_| "Europe/London".into()),
    };
    let tz: chrono_tz::Tz = name
        .parse()
        .map_err(|_| format!("TIME_ZONE '{name}' is not a known time zone (e.g. Europe/London)"))?;
    crate::domain::when::set_zone(tz);
    // The sessions of a tour date, for every command that makes tour dates (serve, demo).
    let times = crate::domain::schedule::visits::SessionTimes::from_env()?;
    crate::domain::schedule::visits::set_session_times(times);
    Ok(())
}
