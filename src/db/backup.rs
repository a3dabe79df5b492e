//! Backups: a consistent copy of the database taken while the server runs, and putting one
//! back into an empty database.
//!
//! SQLite copies itself with `VACUUM INTO`, one read transaction, so the copy is the
//! database as of one moment however many writes go on around it. PostgreSQL's tool is
//! `pg_dump` (custom format) and `pg_restore`; they are run here when they are on the PATH.
//! A restore goes only into a new database (a SQLite path where no file is yet, a
//! PostgreSQL database with no tables), so it can never overwrite records or pull a
//! database from under a running server; it refuses that, a file that is not a backup, and
//! a backup made by a newer Outreach (a migration this binary does not know) before it
//! changes anything. After it the database is migrated, so an older backup comes back at
//! today's schema.

use std::path::Path;
use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::{Backend, DbUrl};

/// Writes a copy of the database to `file`, which must not exist yet; what was written.
/// The file is made readable by its owner alone (it holds password and token hashes and
/// the mail kept), and removed again if the copy fails.
pub fn backup(url: &DbUrl, file: &Path) -> Result<String, String> {
    reserve(file)?;
    let copied = copy_out(url, file);
    if let Err(e) = copied {
        let _ = std::fs::remove_file(file);
        return Err(e);
    }
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    Ok(format!("backed up to {} ({} bytes)", file.display(), size))
}

/// Makes `file`, empty and private, refusing one that exists.
fn reserve(file: &Path) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file).map(|_| ()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "{} exists already; name a new file for the backup",
                file.display()
            )
        } else {
            format!("cannot write {}: {e}", file.display())
        }
    })
}

fn copy_out(url: &DbUrl, file: &Path) -> Result<(), String> {
    match url.backend {
        Backend::Sqlite => {
            // Opened for reading and writing but never created: a wrong path is an error,
            // not an empty backup.
            let mut conn =
                diesel::SqliteConnection::establish(&sqlite_uri(Path::new(&url.target), "rw"))
                    .map_err(|e| format!("cannot open the database {}: {e}", url.target))?;
            diesel::sql_query("PRAGMA busy_timeout = 10000")
                .execute(&mut conn)
                .map_err(|e| e.to_string())?;
            if versions_of(&mut conn).map_or(true, |v| v.is_empty()) {
                return Err(format!(
                    "{} is not an Outreach database (it records no migrations)",
                    url.target
                ));
            }
            // One read transaction: the database as of one moment. Into the empty file
            // reserved for it.
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
                .map_err(|e| not_run("pg_dump", e))?;
            if !out.status.success() {
                return Err(format!(
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
    }
    Ok(())
}

/// Puts the backup in `file` into a new database (see the module's words); what was
/// restored.
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
    match url.backend {
        Backend::Sqlite => {
            let target = Path::new(&url.target);
            if target.exists() {
                return Err(format!(
                    "{} exists already; restore into a new database (a path where no file is yet)",
                    target.display()
                ));
            }
            let dir = match target.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            // A private temporary file beside the target, written and synced whole, then
            // moved into place only if nothing has appeared there meanwhile.
            let mut partial = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
            let mut from = std::fs::File::open(file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            std::io::copy(&mut from, partial.as_file_mut())
                .and_then(|_| partial.as_file().sync_all())
                .map_err(|e| format!("cannot copy the backup: {e}"))?;
            partial.persist_noclobber(target).map_err(|e| {
                format!(
                    "cannot put the backup in place at {}: {}",
                    target.display(),
                    e.error
                )
            })?;
        }
        Backend::Postgres => {
            refuse_tables(url)?;
            let out = pg_tool("pg_restore", &url.target)
                .args([
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                ])
                .arg(file)
                .output()
                .map_err(|e| not_run("pg_restore", e))?;
            if !out.status.success() {
                return Err(format!(
                    "pg_restore failed, and the database is as it was: {}",
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

/// Refuses a PostgreSQL database with any table in it: a restore goes into a new one, so
/// it overwrites nothing and no server is running on it.
fn refuse_tables(url: &DbUrl) -> Result<(), String> {
    #[derive(QueryableByName)]
    struct Tables {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = diesel::PgConnection::establish(&url.target)
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let found: Tables = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .get_result(&mut conn)
    .map_err(|e| e.to_string())?;
    if found.n > 0 {
        return Err(format!(
            "the database has {} table(s) already; restore into a new database (createdb, then restore before serving it)",
            found.n
        ));
    }
    Ok(())
}

/// A URI naming an SQLite file, opened in `mode` (`ro`, `rw`): never created.
fn sqlite_uri(path: &Path, mode: &str) -> String {
    const SPECIAL: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b'%')
        .add(b'?')
        .add(b'#')
        .add(b' ');
    let path = path.to_string_lossy();
    format!(
        "file:{}?mode={mode}",
        percent_encoding::utf8_percent_encode(&path, SPECIAL)
    )
}

/// The migrations a database records; an error when it has no record of them.
fn versions_of(conn: &mut diesel::SqliteConnection) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = Text)]
        version: String,
    }
    let rows: Vec<Version> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations").load(conn)?;
    Ok(rows.into_iter().map(|r| r.version).collect())
}

/// Why a PostgreSQL client tool did not start, and what to do.
fn not_run(tool: &str, e: std::io::Error) -> String {
    format!(
        "PostgreSQL is backed up with pg_dump and restored with pg_restore; {tool} could not be run ({e}): install the PostgreSQL client tools of the server's version"
    )
}

/// A PostgreSQL client tool aimed at the database of `target`. The password, if the URL
/// has one, goes in the tool's environment (`PGPASSWORD`), never on its command line,
/// which any user of the machine can read.
fn pg_tool(tool: &str, target: &str) -> Command {
    let mut command = Command::new(tool);
    // Never ask for a password on a terminal (a scheduled run would wait for ever).
    command.arg("--no-password");
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
            let mut conn = diesel::SqliteConnection::establish(&sqlite_uri(file, "ro"))
                .map_err(|e| format!("{} is not an SQLite database: {e}", file.display()))?;
            versions_of(&mut conn)
                .map_err(|_| format!("{} is not a backup of Outreach", file.display()))
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
                .map_err(|e| not_run("pg_restore", e))?;
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
pub(crate) fn known_versions(backend: Backend) -> Result<Vec<String>, String> {
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
