//! The database: one connection type over SQLite and PostgreSQL, the pool, and migrations.

mod among;
pub mod backup;
pub mod schema;
mod write;

pub use among::{among, among_text, Dialect};
pub use write::write;

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever backend the URL names.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type DbPool = Pool<ConnectionManager<AnyConnection>>;
pub type DbConn = PooledConnection<ConnectionManager<AnyConnection>>;

/// Which backend a database URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs the same diesel code on the inner connection of either backend, for the few
/// statements `AnyConnection` cannot express (upserts, batch inserts).
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Postgresql($c) => $body,
            $crate::db::AnyConnection::Sqlite($c) => $body,
        }
    };
}

/// A database URL, normalised: `postgres://…` or a SQLite file path.
#[derive(Debug, Clone)]
pub struct DbUrl {
    pub backend: Backend,
    /// What the driver is given: the full postgres URL, or the SQLite file path.
    pub target: String,
}

impl DbUrl {
    pub fn parse(raw: &str) -> Result<DbUrl, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("the database URL is empty".into());
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            url::Url::parse(raw).map_err(|e| format!("the PostgreSQL URL is not valid: {e}"))?;
            return Ok(DbUrl {
                backend: Backend::Postgres,
                target: raw.to_string(),
            });
        }
        let path = if let Some(rest) = raw.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = raw.strip_prefix("sqlite:") {
            rest
        } else if raw.contains("://") {
            return Err(format!(
                "unsupported database URL scheme in '{}': use sqlite://FILE or postgres://…",
                redact(raw)
            ));
        } else {
            raw
        };
        if path.is_empty() {
            return Err("the SQLite URL names no file".into());
        }
        Ok(DbUrl {
            backend: Backend::Sqlite,
            target: path.to_string(),
        })
    }
}

/// The URL with any password hidden, for messages and logs.
pub fn redact(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => raw.to_string(),
    }
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        if let AnyConnection::Sqlite(c) = conn {
            // The busy timeout first: the pool opens its connections at once, and on a new
            // file the others would otherwise fail at once ("database is locked") while one
            // turns WAL on.
            c.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Configures the SQLite library once, before its first connection opens (`main` calls it
/// first of all; opening a database calls it too):
/// - no global memory statistics: every allocation of every connection otherwise takes one
///   process-wide mutex, which the pool's threads fight over (a profile of the impact page
///   under load found an eighth of its time there);
/// - the multi-thread mode: a connection is never used by two threads at once (the pool
///   hands each connection to one thread), so it needs no mutex of its own;
/// - every connection keeps its query plans (`SQLITE_DBCONFIG_ENABLE_QPSG`): otherwise a
///   statement binding `LIMIT ?` (every diesel `.first()`) or a `LIKE ?` pattern is
///   compiled again on every run, since its plan could depend on the value (a fifth of the
///   impact page's time went on compiling SQL that was already cached).
pub fn tune_sqlite() {
    use libsqlite3_sys as ffi;
    use std::os::raw::{c_char, c_int};

    #[allow(unsafe_code)]
    unsafe extern "C" fn keep_plans(
        db: *mut ffi::sqlite3,
        _error: *mut *mut c_char,
        _api: *const ffi::sqlite3_api_routines,
    ) -> c_int {
        // SAFETY: SQLite calls this with the handle of a connection it is opening; the
        // option takes an int (1: on) and an int pointer for the old value (none wanted).
        unsafe {
            ffi::sqlite3_db_config(
                db,
                ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
                1 as c_int,
                std::ptr::null_mut::<c_int>(),
            );
        }
        ffi::SQLITE_OK
    }

    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[allow(unsafe_code)]
        // SAFETY: `sqlite3_config` may be called before the library is initialised; if a
        // connection was opened already it returns SQLITE_MISUSE and changes nothing. The
        // arguments are the integer options the SQLite documentation gives. The
        // auto-extension is a plain function with the signature SQLite expects, and it
        // initialises the library, so it comes last.
        unsafe {
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int);
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_MULTITHREAD);
            ffi::sqlite3_auto_extension(Some(keep_plans));
        }
    });
}

fn establish(url: &DbUrl) -> Result<AnyConnection, String> {
    if url.backend == Backend::Sqlite {
        tune_sqlite();
    }
    match url.backend {
        Backend::Postgres => diesel::PgConnection::establish(&url.target)
            .map(AnyConnection::Postgresql)
            .map_err(|e| {
                format!(
                    "cannot connect to PostgreSQL at {}: {}",
                    redact(&url.target),
                    one_line(&e.to_string())
                )
            }),
        Backend::Sqlite => diesel::SqliteConnection::establish(&url.target)
            .map(AnyConnection::Sqlite)
            .map_err(|e| format!("cannot open SQLite file {}: {}", url.target, e)),
    }
}

/// Driver messages span lines; a start-up error is one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Connects once (so a wrong URL gives its real error), then builds the pool.
pub fn connect(url: &DbUrl, max_size: u32) -> Result<DbPool, String> {
    connect_with_wait(url, max_size, Duration::from_secs(5))
}

/// As `connect`, with the longest wait for a free connection (then the request gets a 503).
pub fn connect_with_wait(url: &DbUrl, max_size: u32, wait: Duration) -> Result<DbPool, String> {
    let mut probe = establish(url)?;
    if let AnyConnection::Sqlite(c) = &mut probe {
        c.batch_execute("PRAGMA journal_mode = WAL;")
            .map_err(|e| format!("cannot use SQLite file {}: {}", url.target, e))?;
    }
    drop(probe);
    let manager = ConnectionManager::<AnyConnection>::new(url.target.clone());
    Pool::builder()
        .max_size(max_size)
        // A PostgreSQL connection can die with its server and is checked before each use;
        // a SQLite file's cannot, and the check was a query on every request.
        .test_on_check_out(url.backend == Backend::Postgres)
        .connection_timeout(wait)
        .connection_customizer(Box::new(SqlitePragmas))
        .build(manager)
        .map_err(|e| format!("cannot build the connection pool: {e}"))
}

/// Applies pending migrations; refuses a database migrated by a newer binary.
pub fn migrate(conn: &mut AnyConnection) -> Result<usize, String> {
    fn run<C>(c: &mut C, source: EmbeddedMigrations) -> Result<usize, String>
    where
        C: MigrationHarness<C::Backend> + diesel::Connection,
    {
        check_not_newer(c, &source)?;
        c.run_pending_migrations(source)
            .map(|done| done.len())
            .map_err(|e| format!("migration failed: {e}"))
    }
    match conn {
        AnyConnection::Sqlite(c) => run(c, SQLITE_MIGRATIONS),
        AnyConnection::Postgresql(c) => run(c, POSTGRES_MIGRATIONS),
    }
}

/// How many of this binary's migrations the database has not had. A plain read (diesel's
/// own check creates its table first, a write on every readiness probe).
pub fn pending_migrations(conn: &mut AnyConnection) -> Result<usize, String> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    let known = backup::known_versions(conn.backend())?;
    let applied: Vec<Version> = diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
        .load(conn)
        .map_err(|e| format!("cannot read the applied migrations: {e}"))?;
    Ok(known
        .iter()
        .filter(|k| !applied.iter().any(|a| &a.version == *k))
        .count())
}

fn check_not_newer<C>(conn: &mut C, source: &EmbeddedMigrations) -> Result<(), String>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    use diesel::migration::MigrationSource;
    let known: Vec<String> = MigrationSource::<C::Backend>::migrations(source)
        .map_err(|e| format!("cannot read embedded migrations: {e}"))?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    let applied = conn.applied_migrations().unwrap_or_default();
    if let Some(unknown) = applied
        .iter()
        .map(|v| v.to_string())
        .find(|v| !known.contains(v))
    {
        return Err(format!(
            "the database was migrated by a newer version of Outreach (migration {unknown} is unknown to this binary); upgrade the binary"
        ));
    }
    Ok(())
}

impl AnyConnection {
    pub fn backend(&self) -> Backend {
        match self {
            AnyConnection::Postgresql(_) => Backend::Postgres,
            AnyConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}
