//! "Forgotten password": a single-use link mailed to the person, valid one hour, stored
//! only as a hash. Asking answers the same whether or not the address is known, under
//! limits per address and per client; using the link sets a new password and ends every
//! session of the person.

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
    let client_key = throttle::key("reset-client", client);
    throttle::reserve(
        conn,
        &[throttle::Limit {
            key: &client_key,
            limit: 10,
            window: Duration::hours(1),
        }],
        "many reset links were asked for from here; please try again later",
    )?;
    if email.is_empty() || email.len() > 254 {
        return Ok(());
    }
    // Per address: a fourth link within the hour is quietly not sent.
    let address_key = throttle::key("reset-address", &email);
    if throttle::reserve(
        conn,
        &[throttle::Limit {
            key: &address_key,
            limit: 3,
            window: Duration::hours(1),
        }],
        "",
    )
    .is_err()
    {
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
        let at = now();
        diesel::insert_into(login_links::table)
            .values((
                login_links::user_id.eq(user_id),
                login_links::purpose.eq("reset"),
                login_links::token_hash.eq(hash_secret(&token)),
                login_links::expires_at.eq(at + Duration::minutes(RESET_MINUTES)),
                login_links::created_at.eq(at),
            ))
            .execute(conn)?;
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

/// The account a reset link opens, if the link is live (a wrong, used or expired link
/// opens nothing).
fn live(conn: &mut AnyConnection, token: &str) -> AppResult<(i32, i32)> {
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    login_links::table
        .inner_join(users::table)
        .filter(login_links::token_hash.eq(hash_secret(token)))
        .filter(login_links::purpose.eq("reset"))
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
    live(conn, token).map(|_| ())
}

/// Sets a new password through a live link, once: the link is spent, every session of the
/// person ends, the change is audited (never the password).
pub fn reset(conn: &mut AnyConnection, token: &str, input: &Input) -> AppResult<()> {
    let (link_id, user_id) = live(conn, token)?;
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
