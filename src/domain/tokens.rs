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

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = api_tokens)]
pub struct TokenInfo {
    pub id: i32,
    pub user_id: i32,
    pub label: String,
    pub created_at: chrono::NaiveDateTime,
    pub last_used_at: Option<chrono::NaiveDateTime>,
    pub revoked_at: Option<chrono::NaiveDateTime>,
}

/// Creates a token for the user and returns the secret, which is not stored.
pub fn create(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    user_id: i32,
    label: &str,
) -> AppResult<(TokenInfo, String)> {
    let secret = format!("otr_{}", random_secret()?);
    let hash = hash_secret(&secret);
    conn.transaction(|conn| {
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
            Some(&serde_json::json!({"user_id": user_id, "label": label})),
        )?;
        Ok((info, secret))
    })
}

/// The live user behind a bearer secret, if any.
pub fn authenticate(conn: &mut AnyConnection, secret: &str) -> AppResult<Option<User>> {
    let hash = hash_secret(secret.trim());
    let found: Option<(i32, accounts::Row)> = api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(&hash))
        .filter(api_tokens::revoked_at.is_null())
        .filter(users::archived.eq(false))
        .select((api_tokens::id, accounts::Row::as_select()))
        .first(conn)
        .optional()?;
    let Some((token_id, row)) = found else {
        return Ok(None);
    };
    diesel::update(api_tokens::table.find(token_id))
        .set(api_tokens::last_used_at.eq(now()))
        .execute(conn)?;
    Ok(Some(row.into()))
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
    conn.transaction(|conn| {
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
