//! Login sessions kept in the database (so several app processes share them), and the
//! login rate limit per account and per client address.

use chrono::Duration;
use diesel::prelude::*;

use crate::app::now;
use crate::config::Config;
use crate::db::schema::{login_attempts, sessions, users};
use crate::db::AnyConnection;
use crate::domain::tokens::{hash_secret, random_secret};
use crate::domain::users::{self as accounts, verify_password, User};
use crate::error::{AppError, AppResult};

/// Checks the password under the rate limit; on success opens a session and returns
/// its cookie secret.
pub fn login(
    conn: &mut AnyConnection,
    config: &Config,
    email: &str,
    password: &str,
    client: &str,
) -> AppResult<(User, String)> {
    let email = accounts::normalise_email(email);
    let account_key = format!("account:{email}");
    let client_key = format!("client:{client}");
    let since = now() - Duration::minutes(config.login_window_minutes);
    let failures = |conn: &mut AnyConnection, key: &str| -> AppResult<i64> {
        Ok(login_attempts::table
            .filter(login_attempts::key.eq(key))
            .filter(login_attempts::attempted_at.gt(since))
            .count()
            .get_result(conn)?)
    };
    if failures(conn, &account_key)? >= config.login_limit_account
        || failures(conn, &client_key)? >= config.login_limit_ip
    {
        return Err(AppError::TooManyRequests(format!(
            "too many failed logins; try again in {} minutes",
            config.login_window_minutes
        )));
    }
    let row = accounts::row_by_email(conn, &email)?;
    let ok = match &row {
        Some(r) => !r.archived && verify_password(&r.password_hash, password),
        None => {
            // Spend the same time as a real check, so timing does not reveal accounts.
            let _ = verify_password(dummy_hash(), password);
            false
        }
    };
    let Some(row) = row.filter(|_| ok) else {
        let at = now();
        for key in [&account_key, &client_key] {
            diesel::insert_into(login_attempts::table)
                .values((
                    login_attempts::key.eq(key),
                    login_attempts::attempted_at.eq(at),
                ))
                .execute(conn)?;
        }
        return Err(AppError::field(
            "email",
            "the email or password is not right",
        ));
    };
    diesel::delete(login_attempts::table.filter(login_attempts::key.eq(&account_key)))
        .execute(conn)?;
    let secret = start(conn, config, row.id)?;
    Ok((row.into(), secret))
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
    Ok(secret)
}

/// The live user of a session cookie, if the session has not expired.
pub fn user_of(conn: &mut AnyConnection, secret: &str) -> AppResult<Option<User>> {
    let row: Option<accounts::Row> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(hash_secret(secret)))
        .filter(sessions::expires_at.gt(now()))
        .filter(users::archived.eq(false))
        .select(accounts::Row::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Into::into))
}

pub fn end(conn: &mut AnyConnection, secret: &str) -> AppResult<()> {
    diesel::delete(sessions::table.filter(sessions::id.eq(hash_secret(secret)))).execute(conn)?;
    Ok(())
}

pub(crate) fn end_all_for(conn: &mut AnyConnection, user_id: i32) -> AppResult<()> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
    Ok(())
}
