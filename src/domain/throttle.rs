//! Rate limits kept in the database (so every process shares them): attempts are counted
//! per key in a sliding window. An attempt is reserved *before* the work it limits, so
//! concurrent attempts can never all slip under the limit.

use chrono::Duration;
use diesel::prelude::*;

use crate::app::now;
use crate::db::schema::login_attempts;
use crate::db::AnyConnection;
use crate::domain::tokens::hash_secret;
use crate::error::{AppError, AppResult};

/// A key of fixed length: what is limited is hashed, so neither its size nor its content
/// (an e-mail address, a client address) ends up in the table.
pub fn key(kind: &str, what: &str) -> String {
    format!("{kind}:{}", &hash_secret(what)[..40])
}

/// One limit: at most `limit` attempts under `key` in `window`.
pub struct Limit<'a> {
    pub key: &'a str,
    pub limit: i64,
    pub window: Duration,
}

/// Reserves one attempt under every limit. Each reservation is written (and committed)
/// first, then the window is counted with it included: of any number of concurrent
/// attempts, at most `limit` see a count within the limit. When a limit is reached, the
/// reservations are taken back (a refused attempt does not extend the wait) and the
/// answer is `TooManyRequests` with `message`.
pub fn reserve(
    conn: &mut AnyConnection,
    limits: &[Limit<'_>],
    message: &str,
) -> AppResult<Vec<i32>> {
    let at = now();
    let mut ids = Vec::with_capacity(limits.len());
    for l in limits {
        let id: i32 = diesel::insert_into(login_attempts::table)
            .values((
                login_attempts::key.eq(l.key),
                login_attempts::attempted_at.eq(at),
            ))
            .returning(login_attempts::id)
            .get_result(conn)?;
        ids.push(id);
        let used: i64 = login_attempts::table
            .filter(login_attempts::key.eq(l.key))
            .filter(login_attempts::attempted_at.gt(at - l.window))
            .count()
            .get_result(conn)?;
        if used > l.limit {
            release(conn, &ids)?;
            return Err(AppError::TooManyRequests(message.to_string()));
        }
    }
    Ok(ids)
}

/// Takes reservations back (the attempt succeeded, or was refused).
pub fn release(conn: &mut AnyConnection, ids: &[i32]) -> AppResult<()> {
    diesel::delete(login_attempts::table.filter(login_attempts::id.eq_any(ids))).execute(conn)?;
    Ok(())
}

/// Forgets every attempt under a key (e.g. an account's failures after it logs in).
pub fn clear(conn: &mut AnyConnection, key: &str) -> AppResult<()> {
    diesel::delete(login_attempts::table.filter(login_attempts::key.eq(key))).execute(conn)?;
    Ok(())
}

/// The limits of asking for something mailed to an address (a reset or sign-in link, an
/// account for a school): a client asking more than ten times an hour is refused (429,
/// with `message`); beyond `per_address` for one address the asking is quietly not acted
/// on, so the answer tells nothing. Answers whether to go on.
pub fn asking(
    conn: &mut AnyConnection,
    kind: &str,
    address: &str,
    client: &str,
    per_address: (i64, Duration),
    message: &str,
) -> AppResult<bool> {
    let client_key = key(&format!("{kind}-client"), client);
    reserve(
        conn,
        &[Limit {
            key: &client_key,
            limit: 10,
            window: Duration::hours(1),
        }],
        message,
    )?;
    if address.is_empty() || address.len() > 254 {
        return Ok(false);
    }
    let address_key = key(&format!("{kind}-address"), address);
    Ok(reserve(
        conn,
        &[Limit {
            key: &address_key,
            limit: per_address.0,
            window: per_address.1,
        }],
        "",
    )
    .is_ok())
}
