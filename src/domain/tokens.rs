//! API bearer tokens: shown once, stored only as a SHA-256 hash, revocable.

use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::app::now;
use crate::db::schema::{api_tokens, users};
use crate::db::AnyConnection;
use crate::domain::users::{self as accounts, User};
use crate::domain::{audit, Actor};
use crate::error::{AppError, AppResult};

/// A random secret as hex: 32 bytes from the operating system.
pub fn random_secret() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(AppError::internal)?;
    Ok(hex::encode(bytes))
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = api_tokens)]
pub struct TokenInfo {
    pub id: i32,
    pub user_id: i32,
    pub label: String,
    #[serde(serialize_with = "crate::domain::when::naive")]
    pub created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "crate::domain::when::naive_opt")]
    pub last_used_at: Option<chrono::NaiveDateTime>,
    #[serde(serialize_with = "crate::domain::when::naive_opt")]
    pub revoked_at: Option<chrono::NaiveDateTime>,
    /// None: the token works until revoked.
    #[serde(serialize_with = "crate::domain::when::naive_opt")]
    pub expires_at: Option<chrono::NaiveDateTime>,
}

impl TokenInfo {
    pub fn state(&self, now: chrono::NaiveDateTime) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        }
    }
}

/// What a person asks for when making a token: a label, and optionally a lifetime.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub label: String,
    pub expires_in_days: Option<i32>,
}

/// Reads a token request from a form or JSON (`label`, `expires_in_days` 1 to 3650).
pub fn parse_request(input: &crate::domain::input::Input) -> AppResult<TokenRequest> {
    let mut v = input.validator();
    let label = v.text_or_empty("label", 100);
    let expires_in_days = v.int_opt("expires_in_days", 1, 3650);
    v.finish()?;
    Ok(TokenRequest {
        label,
        expires_in_days,
    })
}

/// Creates a token that works until revoked; see `create_for`.
pub fn create(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    user_id: i32,
    label: &str,
) -> AppResult<(TokenInfo, String)> {
    create_for(
        conn,
        actor,
        user_id,
        &TokenRequest {
            label: label.to_string(),
            expires_in_days: None,
        },
    )
}

/// Creates a token for the user and returns the secret, which is not stored.
pub fn create_for(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    user_id: i32,
    request: &TokenRequest,
) -> AppResult<(TokenInfo, String)> {
    let label = request.label.as_str();
    let expires_at = request
        .expires_in_days
        .map(|d| now() + chrono::Duration::days(i64::from(d)));
    let secret = format!("otr_{}", random_secret()?);
    let hash = hash_secret(&secret);
    crate::db::write(conn, |conn| {
        let user = accounts::get(conn, user_id)?;
        if user.archived {
            return Err(AppError::Conflict("that user is archived".into()));
        }
        let id: i32 = diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::user_id.eq(user_id),
                api_tokens::token_hash.eq(&hash),
                api_tokens::label.eq(label),
                api_tokens::created_at.eq(now()),
                api_tokens::expires_at.eq(expires_at),
            ))
            .returning(api_tokens::id)
            .get_result(conn)?;
        let info: TokenInfo = api_tokens::table
            .find(id)
            .select(TokenInfo::as_select())
            .first(conn)?;
        audit::record(
            conn,
            actor.map(|a| a.user_id),
            "api_token",
            id,
            "create",
            None,
            Some(
                &serde_json::json!({"user_id": user_id, "label": label, "expires_at": expires_at}),
            ),
        )?;
        Ok((info, secret.clone()))
    })
}

/// The live user behind a bearer secret, if any: not revoked, not expired, not archived.
pub fn authenticate(conn: &mut AnyConnection, secret: &str) -> AppResult<Option<User>> {
    let secret = secret.trim();
    if secret.len() > 200 {
        return Ok(None);
    }
    let at = now();
    let hash = hash_secret(secret);
    let found: Option<(i32, Option<chrono::NaiveDateTime>, accounts::Row)> = api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(&hash))
        .filter(api_tokens::revoked_at.is_null())
        .filter(
            api_tokens::expires_at
                .is_null()
                .or(api_tokens::expires_at.gt(at)),
        )
        .filter(users::archived.eq(false))
        .select((
            api_tokens::id,
            api_tokens::last_used_at,
            accounts::Row::as_select(),
        ))
        .first(conn)
        .optional()?;
    let Some((token_id, last_used, row)) = found else {
        return Ok(None);
    };
    // Written at most once a minute: a busy script need not write on every request.
    if last_used.is_none_or(|t| at - t > chrono::Duration::minutes(1)) {
        diesel::update(api_tokens::table.find(token_id))
            .set(api_tokens::last_used_at.eq(at))
            .execute(conn)?;
    }
    Ok(Some(row.try_into()?))
}

pub fn list_for(conn: &mut AnyConnection, user_id: i32) -> AppResult<Vec<TokenInfo>> {
    Ok(api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .order(api_tokens::id.desc())
        .select(TokenInfo::as_select())
        .load(conn)?)
}

/// Revokes a token of the given user (a token of another user is not found).
pub fn revoke_for_user(
    conn: &mut AnyConnection,
    actor: &Actor,
    user_id: i32,
    token_id: i32,
) -> AppResult<()> {
    crate::db::write(conn, |conn| {
        let info: TokenInfo = api_tokens::table
            .find(token_id)
            .select(TokenInfo::as_select())
            .first(conn)?;
        if info.user_id != user_id {
            return Err(AppError::NotFound);
        }
        diesel::update(api_tokens::table.find(token_id))
            .filter(api_tokens::revoked_at.is_null())
            .set(api_tokens::revoked_at.eq(now()))
            .execute(conn)?;
        audit::record(
            conn,
            Some(actor.user_id),
            "api_token",
            info.id,
            "revoke",
            None,
            None,
        )?;
        Ok(())
    })
}

pub(crate) fn revoke_all_for(conn: &mut AnyConnection, user_id: i32) -> AppResult<()> {
    diesel::update(api_tokens::table.filter(api_tokens::user_id.eq(user_id)))
        .filter(api_tokens::revoked_at.is_null())
        .set(api_tokens::revoked_at.eq(now()))
        .execute(conn)?;
    Ok(())
}
