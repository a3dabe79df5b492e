//! Calendar feeds over HTTP: the public feed behind a secret URL, and the links and
//! regeneration for the school or staff who own them (pages and API).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::domain::calendar::{self, Feed};
use crate::error::{AppError, AppResult};
use crate::web::api::ok;
use crate::web::auth::CurrentUser;
use crate::web::pages::done;

/// The feed URL of a school or programme.
pub fn url(app: &AppState, feed: Feed, token: &str) -> String {
    let kind = match feed {
        Feed::School(_) => "school",
        Feed::Programme(_) => "programme",
    };
    format!("{}/calendar/{kind}/{token}.ics", app.config.base_url)
}

/// `GET /calendar/{school|programme}/{token}.ics`: no login; the token is the key.
pub async fn feed(
    State(app): State<AppState>,
    Path((kind, file)): Path<(String, String)>,
) -> AppResult<Response> {
    let token = file.strip_suffix(".ics").unwrap_or(&file).to_string();
    let base = app.config.base_url.clone();
    let (_, body) = app
        .db(move |c| calendar::feed(c, &kind, &token, &base))
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

fn parse_feed(kind: &str, id: i32) -> AppResult<Feed> {
    match kind {
        "schools" => Ok(Feed::School(id)),
        "programmes" => Ok(Feed::Programme(id)),
        _ => Err(AppError::NotFound),
    }
}

async fn link(
    app: &AppState,
    user: crate::domain::users::User,
    feed: Feed,
    regenerate: bool,
) -> AppResult<String> {
    let actor = user.actor();
    let token = app
        .db(move |c| calendar::token(c, &actor, feed, regenerate))
        .await?;
    Ok(url(app, feed, &token))
}

/// API: `GET /api/v1/{schools|programmes}/{id}/calendar` → `{"url"}`.
pub async fn api_link(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((kind, id)): Path<(String, i32)>,
) -> AppResult<Response> {
    let feed = parse_feed(&kind, id)?;
    Ok(ok(
        serde_json::json!({ "url": link(&app, user, feed, false).await? }),
    ))
}

/// API: `POST /api/v1/{schools|programmes}/{id}/calendar/regenerate` → a new `{"url"}`.
pub async fn api_regenerate(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((kind, id)): Path<(String, i32)>,
) -> AppResult<Response> {
    let feed = parse_feed(&kind, id)?;
    Ok(ok(
        serde_json::json!({ "url": link(&app, user, feed, true).await? }),
    ))
}

/// Page: regenerates and returns to where the link is shown.
pub async fn page_regenerate(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((kind, id)): Path<(String, i32)>,
) -> AppResult<Response> {
    let feed = parse_feed(&kind, id)?;
    link(&app, user, feed, true).await?;
    Ok(done(
        if matches!(feed, Feed::School(_)) {
            "/bookings".to_string()
        } else {
            format!("/programmes/{id}")
        }
        .as_str(),
        "calendar_regenerated",
    ))
}

/// The link shown on a page, made on first view.
pub async fn page_link(
    app: &AppState,
    user: &crate::domain::users::User,
    feed: Feed,
) -> AppResult<String> {
    link(app, user.clone(), feed, false).await
}
