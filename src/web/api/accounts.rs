//! API of accounts: the caller, users, tokens, and the school register import.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::import::{self, ImportOptions};
use crate::domain::list::ListQuery;
use crate::domain::{privacy, tokens, users};
use crate::error::AppResult;
use crate::web::api::{created, ok, JsonInput};
use crate::web::auth::{Admin, CurrentUser};

pub async fn me(CurrentUser(user): CurrentUser) -> AppResult<Response> {
    Ok(ok(user))
}

pub async fn list_users(
    State(app): State<AppState>,
    Admin(_): Admin,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let params = q.params();
    Ok(ok(app.db(move |c| users::list(c, &params)).await?))
}

pub async fn get_user(
    State(app): State<AppState>,
    Admin(_): Admin,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    Ok(ok(app.db(move |c| users::get(c, id)).await?))
}

pub async fn list_tokens(
    State(app): State<AppState>,
    Admin(_): Admin,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let items = app
        .db(move |c| {
            users::get(c, id)?;
            tokens::list_for(c, id)
        })
        .await?;
    Ok(ok(serde_json::json!({ "items": items })))
}

/// Creates a token; the secret is in the answer once and never again.
pub async fn create_token(
    State(app): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let request = tokens::parse_request(&input)?;
    let actor = user.actor();
    let (info, secret) = app
        .db(move |c| tokens::create_for(c, Some(&actor), id, &request))
        .await?;
    Ok(created(
        serde_json::json!({ "token": info, "secret": secret }),
    ))
}

pub async fn revoke_token(
    State(app): State<AppState>,
    Admin(user): Admin,
    Path((id, token_id)): Path<(i32, i32)>,
) -> AppResult<Response> {
    let actor = user.actor();
    app.db(move |c| tokens::revoke_for_user(c, &actor, id, token_id))
        .await?;
    Ok(ok(serde_json::json!({ "revoked": token_id })))
}

#[derive(Deserialize)]
pub struct ImportQuery {
    include_closed: Option<bool>,
}

/// The register CSV as the request body (UTF-8 or Windows-1252).
pub async fn import_schools(
    State(app): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<ImportQuery>,
    body: axum::body::Body,
) -> AppResult<Response> {
    let actor = user.actor();
    let options = ImportOptions {
        include_closed: q.include_closed.unwrap_or(false),
    };
    let (file, _) =
        crate::web::upload::spool(body.into_data_stream(), app.config.limits.upload).await?;
    let report = app
        .db(move |c| {
            let source = std::io::BufReader::new(file);
            import::import_schools_from(c, Some(&actor), source, options, &|_, _| {})
        })
        .await?;
    Ok(ok(report))
}

/// `POST /me/password` `{current_password, new_password}`: 204; every session of the
/// caller ends (API tokens stay).
pub async fn change_password(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let turn = app.hash_permit().await?;
    app.db(move |c| {
        let _turn = turn;
        users::change_password(c, user.id, &input, None)
    })
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub struct EmailQuery {
    email: Option<String>,
}

/// Everything held about one person, by their address (admins only).
pub async fn export_person(
    State(app): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<EmailQuery>,
) -> AppResult<Response> {
    let email = privacy::parse_email(q.email.as_deref())?;
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| privacy::export_for(c, &actor, &email))
        .await?))
}

/// Erases what is held about one person (admins only), in one transaction.
pub async fn erase_person(
    State(app): State<AppState>,
    Admin(user): Admin,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let chosen = input.has("keep_consented_quotes");
    let mut v = input.validator();
    let given = v.text("email", 254);
    let keep = v.flag("keep_consented_quotes");
    let keep = chosen.then_some(keep);
    v.finish()?;
    let email = privacy::parse_email(Some(&given))?;
    let actor = user.actor();
    let done = app
        .db(move |c| crate::db::write(c, |c| privacy::erase(c, &actor, &email, keep)))
        .await?;
    Ok(ok(serde_json::json!({"erased": done})))
}
