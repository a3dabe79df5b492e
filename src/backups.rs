//! Scheduled backups of a SQLite install (`BACKUP_DIR`, `BACKUP_KEEP`,
//! `BACKUP_EVERY_HOURS`): `serve` copies the database into the folder when the last backup
//! is older than the interval, keeps the newest `BACKUP_KEEP` copies it made, and records
//! the outcome, which the admin's home page shows. PostgreSQL installs use `pg_dump` from
//! their own schedule (see the README).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::db::AnyConnection;
use crate::domain::settings;
use crate::error::AppResult;

/// The install setting holding the last outcome, as JSON.
const LAST: &str = "backup_last";
/// Names of the files this job makes: `outreach-YYYYMMDD-HHMMSS-mmm.db`.
const PREFIX: &str = "outreach-";
const SUFFIX: &str = ".db";

/// Where and how often scheduled backups are made.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub dir: PathBuf,
    pub keep: usize,
    pub every: chrono::Duration,
}

/// The outcome of the last scheduled backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LastBackup {
    pub at: NaiveDateTime,
    pub ok: bool,
    /// The file's name in the folder (when it was made).
    pub file: Option<String>,
    pub bytes: Option<u64>,
    pub seconds: f64,
    /// Why it failed, in words.
    pub error: Option<String>,
    /// Older copies deleted to keep `BACKUP_KEEP`.
    pub removed: usize,
}

pub fn last(conn: &mut AnyConnection) -> AppResult<Option<LastBackup>> {
    Ok(settings::get(conn, LAST)?.and_then(|v| serde_json::from_str(&v).ok()))
}

/// Whether a backup is due: none recorded, or the last attempt is `every` old. A failed
/// attempt is tried again after an hour at most.
pub fn due(last: Option<&LastBackup>, now: NaiveDateTime, every: chrono::Duration) -> bool {
    match last {
        None => true,
        Some(l) if l.ok => now - l.at >= every,
        Some(l) => now - l.at >= every.min(chrono::Duration::hours(1)),
    }
}

/// Makes one backup into the schedule's folder now, removes copies beyond `keep`, and
/// records the outcome.
pub async fn run_once(app: &AppState, schedule: &Schedule) -> AppResult<LastBackup> {
    let at = crate::app::now();
    let name = format!("{PREFIX}{}{SUFFIX}", at.format("%Y%m%d-%H%M%S-%3f"));
    let (url, dir, keep) = (
        app.config.database.clone(),
        schedule.dir.clone(),
        schedule.keep,
    );
    let started = std::time::Instant::now();
    let made = tokio::task::spawn_blocking(move || {
        let file = dir.join(&name);
        crate::db::backup::backup(&url, &file)?;
        let bytes = std::fs::metadata(&file).map(|m| m.len()).ok();
        let removed = keep_newest(&dir, keep)?;
        Ok::<_, String>((name, bytes, removed))
    })
    .await?;
    let seconds = (started.elapsed().as_secs_f64() * 100.0).round() / 100.0;
    let outcome = match made {
        Ok((file, bytes, removed)) => LastBackup {
            at,
            ok: true,
            file: Some(file),
            bytes,
            seconds,
            error: None,
            removed,
        },
        Err(e) => LastBackup {
            at,
            ok: false,
            file: None,
            bytes: None,
            seconds,
            error: Some(e),
            removed: 0,
        },
    };
    let json = serde_json::to_string(&outcome).map_err(crate::error::AppError::internal)?;
    app.db(move |c| settings::set(c, LAST, &json)).await?;
    Ok(outcome)
}

/// Deletes this job's copies in `dir` beyond the newest `keep` (names sort by time); how
/// many. Other files are never touched.
fn keep_newest(dir: &Path, keep: usize) -> Result<usize, String> {
    let mut ours: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        })
        .collect();
    ours.sort();
    let surplus = ours.len().saturating_sub(keep.max(1));
    for old in &ours[..surplus] {
        std::fs::remove_file(old).map_err(|e| format!("cannot remove {}: {e}", old.display()))?;
    }
    Ok(surplus)
}

/// Checks every minute whether a backup is due, until `stop` is cancelled. Processes
/// sharing the database read the same last outcome, so a restart or a second process does
/// not make another copy before it is due.
pub async fn run(app: AppState, schedule: Schedule, stop: tokio_util::sync::CancellationToken) {
    loop {
        let last = app.db(last).await;
        match last {
            Ok(last) if due(last.as_ref(), crate::app::now(), schedule.every) => {
                match run_once(&app, &schedule).await {
                    Ok(b) if b.ok => tracing::info!(
                        file = b.file.as_deref().unwrap_or(""),
                        bytes = b.bytes.unwrap_or(0),
                        removed = b.removed,
                        "scheduled backup made"
                    ),
                    Ok(b) => tracing::error!(
                        error = b.error.as_deref().unwrap_or(""),
                        "scheduled backup failed"
                    ),
                    Err(e) => tracing::error!(error = %e, "scheduled backup failed"),
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reading the last backup"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> NaiveDateTime {
        chrono::DateTime::UNIX_EPOCH.naive_utc() + chrono::Duration::hours(h)
    }

    fn outcome(h: i64, ok: bool) -> LastBackup {
        LastBackup {
            at: at(h),
            ok,
            file: None,
            bytes: None,
            seconds: 0.0,
            error: None,
            removed: 0,
        }
    }

    #[test]
    fn a_backup_is_due_after_its_interval_and_a_failure_is_retried_within_the_hour() {
        let day = chrono::Duration::hours(24);
        assert!(due(None, at(0), day));
        assert!(!due(Some(&outcome(0, true)), at(23), day));
        assert!(due(Some(&outcome(0, true)), at(24), day));
        assert!(due(Some(&outcome(0, false)), at(1), day));
        assert!(!due(
            Some(&outcome(0, false)),
            at(0) + chrono::Duration::minutes(30),
            day
        ));
    }
}
