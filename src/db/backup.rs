//! Backups: a consistent copy of the database taken while the server runs, and putting one
//! back into an empty database.
//!
//! SQLite copies itself with `VACUUM INTO`, one read transaction, so the copy is the
//! database as of one moment however many writes go on around it. PostgreSQL's tool is
//! `pg_dump` (custom format) and `pg_restore`; they are run here when they are on the PATH.
//! A restore refuses a database that holds anything, and a backup made by a newer
//! Outreach (a migration this binary does not know), before it changes anything; after it
//! the database is migrated, so an older backup comes back at today's schema.

use std::path::Path;
use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::{Backend, DbUrl};

/// Writes a copy of the database to `file`, which must not exist yet; what was written.
pub fn backup(url: &DbUrl, file: &Path) -> Result<String, String> {
    if file.exists() {
        return Err(format!(
            "{} exists already; name a new file for the backup",
            file.display()
        ));
    }
    match url.backend {
        Backend::Sqlite => {
            let mut conn = diesel::SqliteConnection::establish(&url.target)
                .map_err(|e| format!("cannot open the database: {e}"))?;
            diesel::sql_query("PRAGMA busy_timeout = 10000")
                .execute(&mut conn)
                .map_err(|e| e.to_string())?;
            diesel::sql_query("VACUUM INTO ?")
                .bind::<Text, _>(file.to_string_lossy().into_owned())
                .execute(&mut conn)
                .map_err(|e| format!("the backup failed: {e}"))?;
        }
        Backend::Postgres => {
            let out = pg_tool("pg_dump", &url.target)
                .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                .arg(file)
                .output()
                .map_err(|e| {
                    format!(
                        "PostgreSQL is backed up with pg_dump, which could not be run ({e}); install the PostgreSQL client tools of the server's version, or run `pg_dump --format=custom` yourself"
                    )
                })?;
            if !out.status.success() {
                return Err(format!(
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
    }
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    Ok(format!("backed up to {} ({} bytes)", file.display(), size))
}

/// Puts the backup in `file` into the database, which must be empty (made by `migrate` or
/// by nothing); what was restored.
pub fn restore(url: &DbUrl, file: &Path) -> Result<String, String> {
    if !file.is_file() {
        return Err(format!("{} is not a file", file.display()));
    }
    let versions = backup_versions(url.backend, file)?;
    if versions.is_empty() {
        return Err(format!(
            "{} is not a backup of Outreach (it records no migrations)",
            file.display()
        ));
    }
    let known = known_versions(url.backend)?;
    if let Some(unknown) = versions.iter().find(|v| !known.contains(v)) {
        return Err(format!(
            "the backup was made by a newer version of Outreach (migration {unknown} is unknown to this binary); upgrade the binary first"
        ));
    }
    refuse_non_empty(url)?;
    match url.backend {
        Backend::Sqlite => {
            let target = Path::new(&url.target);
            for extra in ["", "-wal", "-shm"] {
                let p = format!("{}{extra}", url.target);
                if Path::new(&p).exists() {
                    std::fs::remove_file(&p)
                        .map_err(|e| format!("cannot replace the empty database {p}: {e}"))?;
                }
            }
            let partial = target.with_extension("restoring");
            std::fs::copy(file, &partial).map_err(|e| format!("cannot copy the backup: {e}"))?;
            std::fs::rename(&partial, target)
                .map_err(|e| format!("cannot put the backup in place: {e}"))?;
        }
        Backend::Postgres => {
            let out = pg_tool("pg_restore", &url.target)
                .args([
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                ])
                .arg(file)
                .output()
                .map_err(|e| {
                    format!("PostgreSQL is restored with pg_restore, which could not be run ({e})")
                })?;
            if !out.status.success() {
                return Err(format!(
                    "pg_restore failed, and changed nothing: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
    }
    let pool = super::connect(url, 1)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let applied = super::migrate(&mut conn)?;
    Ok(format!(
        "restored {} ({} migration(s) applied after it)",
        file.display(),
        applied
    ))
}

/// A PostgreSQL client tool aimed at the database of `target`. The password, if the URL
/// has one, goes in the tool's environment (`PGPASSWORD`), never on its command line,
/// which any user of the machine can read.
fn pg_tool(tool: &str, target: &str) -> Command {
    let mut command = Command::new(tool);
    match url::Url::parse(target) {
        Ok(mut u) if u.password().is_some() => {
            let password = u.password().map(|p| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8_lossy()
                    .into_owned()
            });
            let _ = u.set_password(None);
            if let Some(p) = password {
                command.env("PGPASSWORD", p);
            }
            command.arg(format!("--dbname={u}"));
        }
        _ => {
            command.arg(format!("--dbname={target}"));
        }
    }
    command
}

/// The migrations the backup in `file` records.
fn backup_versions(backend: Backend, file: &Path) -> Result<Vec<String>, String> {
    match backend {
        Backend::Sqlite => {
            #[derive(QueryableByName)]
            struct Version {
                #[diesel(sql_type = Text)]
                version: String,
            }
            let path = file.to_string_lossy();
            let mut conn = diesel::SqliteConnection::establish(&format!("file:{path}?mode=ro"))
                .map_err(|e| format!("{} is not an SQLite database: {e}", file.display()))?;
            let rows: Vec<Version> =
                diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
                    .load(&mut conn)
                    .map_err(|_| format!("{} is not a backup of Outreach", file.display()))?;
            Ok(rows.into_iter().map(|r| r.version).collect())
        }
        Backend::Postgres => {
            let out = Command::new("pg_restore")
                .args([
                    "--data-only",
                    "--table=__diesel_schema_migrations",
                    "--file=-",
                ])
                .arg(file)
                .output()
                .map_err(|e| {
                    format!("PostgreSQL is restored with pg_restore, which could not be run ({e})")
                })?;
            if !out.status.success() {
                return Err(format!(
                    "{} is not a pg_dump backup: {}",
                    file.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            // The rows of `COPY … FROM stdin;` up to `\.`: the version, a tab, the time.
            let text = String::from_utf8_lossy(&out.stdout);
            Ok(text
                .lines()
                .skip_while(|l| !l.starts_with("COPY "))
                .skip(1)
                .take_while(|l| *l != "\\.")
                .filter_map(|l| l.split('\t').next())
                .map(str::to_string)
                .collect())
        }
    }
}

/// The migrations this binary knows.
fn known_versions(backend: Backend) -> Result<Vec<String>, String> {
    use diesel::migration::MigrationSource;
    let names = match backend {
        Backend::Sqlite => MigrationSource::<diesel::sqlite::Sqlite>::migrations(
            &super::SQLITE_MIGRATIONS,
        )
        .map(|list| {
            list.iter()
                .map(|m| m.name().version().to_string())
                .collect::<Vec<_>>()
        }),
        Backend::Postgres => {
            MigrationSource::<diesel::pg::Pg>::migrations(&super::POSTGRES_MIGRATIONS).map(|list| {
                list.iter()
                    .map(|m| m.name().version().to_string())
                    .collect::<Vec<_>>()
            })
        }
    };
    names.map_err(|e| format!("cannot read embedded migrations: {e}"))
}

/// Refuses a database that holds anything: it is migrated first (which makes the tables
/// of one that has none, and refuses one migrated by a newer binary), then every table of
/// records is counted.
fn refuse_non_empty(url: &DbUrl) -> Result<(), String> {
    use super::schema::*;
    let pool = super::connect(url, 1)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    super::migrate(&mut conn)?;
    let c = &mut *conn;
    let counts: [(&str, QueryResult<i64>); 7] = [
        ("users", users::table.count().get_result(c)),
        ("organisations", organisations::table.count().get_result(c)),
        ("schools", schools::table.count().get_result(c)),
        ("programmes", programmes::table.count().get_result(c)),
        ("venues", venues::table.count().get_result(c)),
        ("events", events::table.count().get_result(c)),
        ("feedback", feedback::table.count().get_result(c)),
    ];
    for (table, n) in counts {
        let n = n.map_err(|e| e.to_string())?;
        if n > 0 {
            return Err(format!(
                "the database is not empty ({n} rows in {table}); restore into a new, empty database"
            ));
        }
    }
    Ok(())
}
