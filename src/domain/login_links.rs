//! Links mailed to a person, single use, stored only as a hash:
//! - "Forgotten password": valid one hour; using it sets a new password and ends every
//!   session of the person.
//! - "E-mail me a sign-in link" (school contacts, who use Outreach a few times a year):
//!   valid fifteen minutes; using it signs the person in.
//!
//! Asking answers the same whether or not the address is known, under limits per address
//! and per client.

use chrono::Duration;
use diesel::prelude::*;

use crate::app::now;
use crate::db::schema::{login_links, users};
use crate::db::AnyConnection;
use crate::domain::audit;
use crate::domain::input::Input;
use crate::domain::mail::{self, Letter};
use crate::domain::throttle;
use crate::domain::tokens::{hash_secret, random_secret};
use crate::domain::users::{hash_password, normalise_email, password_problem};
use crate::error::{AppError, AppResult};

/// How long a reset link works.
pub const RESET_MINUTES: i64 = 60;
/// How long a sign-in link works.
pub const SIGN_IN_MINUTES: i64 = 15;

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Reset,
    SignIn,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Reset => "reset",
            Purpose::SignIn => "sign_in",
        }
    }
}

/// The limits every asking passes (see `throttle::asking`): answers whether to go on.
fn within_limits(
    conn: &mut AnyConnection,
    purpose: Purpose,
    email: &str,
    client: &str,
) -> AppResult<bool> {
    throttle::asking(
        conn,
        purpose.as_str(),
        email,
        client,
        (3, Duration::hours(1)),
        "many links were asked for from here; please try again later",
    )
}

/// Asks for a sign-in link for `email`: if it is a live school contact's account, under
/// the limits, a link is mailed. The answer is the same either way.
pub fn ask_sign_in(
    conn: &mut AnyConnection,
    email: &str,
    client: &str,
    base_url: &str,
) -> AppResult<()> {
    let email = normalise_email(email);
    if !within_limits(conn, Purpose::SignIn, &email, client)? {
        return Ok(());
    }
    let user: Option<(i32, String)> = users::table
        .filter(users::email.eq(&email))
        .filter(users::archived.eq(false))
        .filter(users::role.eq("school"))
        .select((users::id, users::email))
        .first(conn)
        .optional()?;
    let Some((user_id, to)) = user else {
        return Ok(());
    };
    let token = random_secret()?;
    crate::db::write(conn, |conn| {
        insert(conn, user_id, Purpose::SignIn, &token, SIGN_IN_MINUTES)?;
        let link = format!("{}/login/link/{token}", base_url.trim_end_matches('/'));
        mail::queue_letter(
            conn,
            &to,
            &Letter::plain(
                "Your link to sign in to Outreach",
                format!(
                    "Use this link to sign in to Outreach. It works once, for {SIGN_IN_MINUTES} minutes:\n\n{link}\n\nIf you did not ask for it, ignore this message: nobody can sign in without the link."
                ),
            ),
        )?;
        Ok(())
    })
}

fn insert(
    conn: &mut AnyConnection,
    user_id: i32,
    purpose: Purpose,
    token: &str,
    minutes: i64,
) -> AppResult<()> {
    let at = now();
    diesel::insert_into(login_links::table)
        .values((
            login_links::user_id.eq(user_id),
            login_links::purpose.eq(purpose.as_str()),
            login_links::token_hash.eq(hash_secret(token)),
            login_links::expires_at.eq(at + Duration::minutes(minutes)),
            login_links::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Spends every unused link of a person (their password changed or was reset: a link
/// asked for before must not open a new session).
pub(crate) fn spend_all(conn: &mut AnyConnection, user_id: i32) -> AppResult<()> {
    diesel::update(
        login_links::table
            .filter(login_links::user_id.eq(user_id))
            .filter(login_links::used_at.is_null()),
    )
    .set(login_links::used_at.eq(now()))
    .execute(conn)?;
    Ok(())
}

/// Whether a sign-in link is live.
pub fn check_sign_in(conn: &mut AnyConnection, token: &str) -> AppResult<()> {
    live(conn, token, Purpose::SignIn).map(|_| ())
}

/// Signs the person in through a live link, once: the link is spent and a session
/// starts; answers the user and the session's cookie secret.
pub fn sign_in(
    conn: &mut AnyConnection,
    config: &crate::config::Config,
    token: &str,
) -> AppResult<(crate::domain::users::User, String)> {
    let (link_id, user_id) = live(conn, token, Purpose::SignIn)?;
    crate::db::write(conn, |conn| {
        let at = now();
        let spent = diesel::update(
            login_links::table
                .find(link_id)
                .filter(login_links::purpose.eq(Purpose::SignIn.as_str()))
                .filter(login_links::used_at.is_null())
                .filter(login_links::expires_at.gt(at)),
        )
        .set(login_links::used_at.eq(at))
        .execute(conn)?;
        let live_school: i64 = users::table
            .find(user_id)
            .filter(users::archived.eq(false))
            .filter(users::role.eq("school"))
            .count()
            .get_result(conn)?;
        if spent == 0 || live_school == 0 {
            return Err(AppError::NotFound);
        }
        let secret = crate::domain::sessions::start(conn, config, user_id)?;
        let user = crate::domain::users::get(conn, user_id)?;
        Ok((user, secret))
    })
}

/// Asks for a reset link for `email`: if it is a live account, under the limits, a link
/// is mailed. The answer is the same either way (nothing tells whether the address is
/// known); only a client asking too often is refused.
pub fn ask_reset(
    conn: &mut AnyConnection,
    email: &str,
    client: &str,
    base_url: &str,
) -> AppResult<()> {
    let email = normalise_email(email);
    if !within_limits(conn, Purpose::Reset, &email, client)? {
        return Ok(());
    }
    let user: Option<(i32, String)> = users::table
        .filter(users::email.eq(&email))
        .filter(users::archived.eq(false))
        .select((users::id, users::email))
        .first(conn)
        .optional()?;
    let Some((user_id, to)) = user else {
        return Ok(());
    };
    let token = random_secret()?;
    crate::db::write(conn, |conn| {
        insert(conn, user_id, Purpose::Reset, &token, RESET_MINUTES)?;
        let link = format!("{}/password/reset/{token}", base_url.trim_end_matches('/'));
        mail::queue_letter(
            conn,
            &to,
            &Letter::plain(
                "Reset your Outreach password",
                format!(
                    "Someone (we hope you) asked to reset the password of this Outreach account. Choose a new one here; the link works once, for one hour:\n\n{link}\n\nIf you did not ask, ignore this message: your password stays as it is."
                ),
            ),
        )?;
        Ok(())
    })
}

/// The account a link opens, if the link is live and of this purpose (a wrong, used or
/// expired link opens nothing).
fn live(conn: &mut AnyConnection, token: &str, purpose: Purpose) -> AppResult<(i32, i32)> {
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    login_links::table
        .inner_join(users::table)
        .filter(login_links::token_hash.eq(hash_secret(token)))
        .filter(login_links::purpose.eq(purpose.as_str()))
        .filter(login_links::used_at.is_null())
        .filter(login_links::expires_at.gt(now()))
        .filter(users::archived.eq(false))
        .select((login_links::id, login_links::user_id))
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Whether a reset link is live.
pub fn check(conn: &mut AnyConnection, token: &str) -> AppResult<()> {
    live(conn, token, Purpose::Reset).map(|_| ())
}

/// Sets a new password through a live link, once: the link is spent, every session of the
/// person ends, the change is audited (never the password).
pub fn reset(conn: &mut AnyConnection, token: &str, input: &Input) -> AppResult<()> {
    let (link_id, user_id) = live(conn, token, Purpose::Reset)?;
    let mut v = input.validator();
    v.of_type("new_password", crate::domain::input::Json::Text);
    let new = input.get("new_password").unwrap_or("").to_string();
    if new.is_empty() {
        v.error("new_password", "is required");
    } else if let Some(why) = password_problem(&new) {
        v.error("new_password", why);
    }
    v.finish()?;
    let hash = hash_password(&new)?;
    crate::db::write(conn, |conn| {
        let spent = diesel::update(
            login_links::table
                .find(link_id)
                .filter(login_links::used_at.is_null()),
        )
        .set(login_links::used_at.eq(now()))
        .execute(conn)?;
        if spent == 0 {
            return Err(AppError::NotFound);
        }
        diesel::update(users::table.find(user_id))
            .set((users::password_hash.eq(&hash), users::updated_at.eq(now())))
            .execute(conn)?;
        crate::domain::sessions::end_all_but(conn, user_id, None)?;
        spend_all(conn, user_id)?;
        audit::record(
            conn,
            None,
            "user",
            user_id,
            "password",
            None,
            Some(&serde_json::json!({"password": "reset by mailed link", "sessions": "ended"})),
        )?;
        Ok(())
    })
}
