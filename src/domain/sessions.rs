//! Login sessions kept in the database (so several app processes share them), and the
//! login rate limit per account and per client address.

use chrono::Duration;
use diesel::prelude::*;

use crate::app::now;
use crate::config::Config;
use crate::db::schema::{sessions, users};
use crate::db::{AnyConnection, DbPool};
use crate::domain::throttle;
use crate::domain::tokens::{hash_secret, random_secret};
use crate::domain::users::{self as accounts, verify_password, User};
use crate::error::{AppError, AppResult};

/// Longest e-mail address (RFC 5321) and password accepted at login; longer ones are
/// refused without being stored or hashed.
pub const MAX_EMAIL: usize = 254;
pub const MAX_PASSWORD_BYTES: usize = 1000;

fn wrong() -> AppError {
    AppError::field("email", "the email or password is not right")
}

/// Checks the password under the rate limits; on success opens a session and returns its
/// cookie secret.
///
/// Limits: failures for one account *from one client address* (so an attacker's failures
/// never lock the owner out from their own address), and failures from one address in
/// all. Each attempt is reserved before the password is checked. Every attempt that gets
/// as far as checking costs exactly one argon2 verification, whether the account exists,
/// is archived or not, so timing tells nothing.
///
/// No database connection is held while the password is hashed, so a flood of logins
/// cannot take the pool from everyone else.
pub fn login(
    pool: &DbPool,
    config: &Config,
    email: &str,
    password: &str,
    client: &str,
) -> AppResult<(User, String)> {
    let email = accounts::normalise_email(email);
    let too_long = email.chars().count() > MAX_EMAIL || password.len() > MAX_PASSWORD_BYTES;
    // The key holds at most a bounded part of what was typed (it is hashed anyway).
    let bounded: String = email.chars().take(MAX_EMAIL + 1).collect();
    let pair_key = throttle::key("login", &format!("{bounded}\n{client}"));
    let client_key = throttle::key("login-client", client);
    let window = Duration::minutes(config.login_window_minutes);
    let mut conn = pool.get()?;
    let reserved = throttle::reserve(
        &mut conn,
        &[
            throttle::Limit {
                key: &pair_key,
                limit: config.login_limit_account,
                window,
            },
            throttle::Limit {
                key: &client_key,
                limit: config.login_limit_ip,
                window,
            },
        ],
        &format!(
            "too many failed logins; try again in {} minutes",
            config.login_window_minutes
        ),
    )?;
    if too_long {
        // Refused after the same work as any failure, and counted like one.
        drop(conn);
        let _ = verify_password(dummy_hash(), "");
        return Err(wrong());
    }
    let row = accounts::row_by_email(&mut conn, &email)?;
    drop(conn);
    let hash = row
        .as_ref()
        .map(|r| r.password_hash.as_str())
        .unwrap_or(dummy_hash());
    let matches = verify_password(hash, password);
    let Some(row) = row.filter(|r| matches && !r.archived) else {
        // The reservations stay: they are the recorded failures.
        return Err(wrong());
    };
    let mut conn = pool.get()?;
    throttle::release(&mut conn, &reserved)?;
    throttle::clear(&mut conn, &pair_key)?;
    let secret = start(&mut conn, config, row.id)?;
    Ok((row.try_into()?, secret))
}

/// An argon2id hash checked against when the account is unknown.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| accounts::hash_password("not a real password").unwrap_or_default())
}

pub fn start(conn: &mut AnyConnection, config: &Config, user_id: i32) -> AppResult<String> {
    let secret = random_secret()?;
    let at = now();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(hash_secret(&secret)),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(at),
            sessions::expires_at.eq(at + Duration::hours(config.session_hours)),
        ))
        .execute(conn)?;
    // Personal data is kept for a while after a person's last sign-in (see `privacy`).
    diesel::update(users::table.find(user_id))
        .set(users::last_signed_in_at.eq(at))
        .execute(conn)?;
    Ok(secret)
}

/// The live user of a session cookie, if the session has not expired.
pub fn user_of(conn: &mut AnyConnection, secret: &str) -> AppResult<Option<User>> {
    // Session secrets are 64 hex characters; anything much longer is no session.
    if secret.len() > 128 {
        return Ok(None);
    }
    let row: Option<accounts::Row> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(hash_secret(secret)))
        .filter(sessions::expires_at.gt(now()))
        .filter(users::archived.eq(false))
        .select(accounts::Row::as_select())
        .first(conn)
        .optional()?;
    row.map(TryInto::try_into).transpose()
}

pub fn end(conn: &mut AnyConnection, secret: &str) -> AppResult<()> {
    diesel::delete(sessions::table.filter(sessions::id.eq(hash_secret(secret)))).execute(conn)?;
    Ok(())
}

pub(crate) fn end_all_for(conn: &mut AnyConnection, user_id: i32) -> AppResult<()> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
    Ok(())
}

/// Ends every session of the user but `keep` (a session secret), if given.
pub(crate) fn end_all_but(
    conn: &mut AnyConnection,
    user_id: i32,
    keep: Option<&str>,
) -> AppResult<()> {
    let mut q = diesel::delete(sessions::table)
        .filter(sessions::user_id.eq(user_id))
        .into_boxed();
    if let Some(secret) = keep {
        q = q.filter(sessions::id.ne(hash_secret(secret)));
    }
    q.execute(conn)?;
    Ok(())
}
