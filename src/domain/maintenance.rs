//! Housekeeping run on a schedule by `serve`: rows that only ever grow (expired sessions,
//! rate-limit counters, old delivered mail) are deleted once they are no longer needed.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{login_attempts, outbox, sessions};
use crate::db::AnyConnection;
use crate::domain::input::TextEnum;
use crate::domain::types::MailStatus;
use crate::error::AppResult;

/// Rate-limit counters older than this are of no use (the longest window is an hour).
pub const ATTEMPTS_KEEP_HOURS: i64 = 24;
/// Sent, failed and kept mail is deleted this long after it was queued (it may hold links).
pub const OUTBOX_KEEP_DAYS: i64 = 90;

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Pruned {
    pub sessions: usize,
    pub attempts: usize,
    pub mail: usize,
    /// Page forms' sent-once keys.
    pub forms: usize,
}

pub fn prune(conn: &mut AnyConnection, now: NaiveDateTime) -> AppResult<Pruned> {
    let sessions =
        diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?;
    let attempts = diesel::delete(
        login_attempts::table
            .filter(login_attempts::attempted_at.lt(now - Duration::hours(ATTEMPTS_KEEP_HOURS))),
    )
    .execute(conn)?;
    let mail = diesel::delete(
        outbox::table
            .filter(outbox::status.eq_any(
                [MailStatus::Sent, MailStatus::Failed, MailStatus::Kept].map(|s| s.as_str()),
            ))
            .filter(outbox::created_at.lt(now - Duration::days(OUTBOX_KEEP_DAYS))),
    )
    .execute(conn)?;
    let forms = crate::domain::submissions::prune(conn, now)?;
    // Kept figures under old revisions are never read again; live ones are counted anew
    // at most once a day.
    diesel::delete(
        crate::db::schema::figures_cache::table
            .filter(crate::db::schema::figures_cache::created_at.lt(now - Duration::days(1))),
    )
    .execute(conn)?;
    Ok(Pruned {
        sessions,
        attempts,
        mail,
        forms,
    })
}

/// Prunes every hour until `stop` is cancelled (several processes may do so; deletes are
/// idempotent).
pub async fn run(app: crate::app::AppState, stop: tokio_util::sync::CancellationToken) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.cancelled() => return,
        }
        match app.db(|c| prune(c, crate::app::now())).await {
            Ok(p) if p != Pruned::default() => tracing::info!(
                sessions = p.sessions,
                attempts = p.attempts,
                mail = p.mail,
                forms = p.forms,
                "pruned"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning"),
        }
        let years = app.config.retention_years;
        let retained = app
            .db(move |c| crate::domain::privacy::apply_retention(c, crate::app::now(), years))
            .await;
        match retained {
            Ok(r) if r != Default::default() => tracing::info!(
                accounts = r.accounts,
                quotes = r.quotes_removed,
                booking_notes = r.booking_notes,
                audit_entries = r.audit_entries,
                "personal data past its retention anonymised"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "applying the retention rule"),
        }
    }
}
