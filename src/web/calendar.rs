//! Calendar feeds over HTTP: the public feed behind a secret URL, and the links and
//! regeneration for the school or staff who own them (pages and API).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use askama::Template;

use crate::domain::calendar::{self, Feed, LinkInfo};
use crate::domain::users::User;
use crate::error::{AppError, AppResult};
use crate::web::auth::CurrentUser;
use crate::web::respond::ok;
use crate::web::view::{Ctx, PageCtx, RenderPage};

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

async fn make(app: &AppState, user: &User, feed: Feed) -> AppResult<String> {
    let actor = user.actor();
    let token = app
        .db(move |c| calendar::make_link(c, &actor, feed))
        .await?;
    Ok(url(app, feed, &token))
}

/// What a page shows of the user's own link to a feed, dates in the install's zone.
pub struct LinkView {
    pub made: bool,
    pub made_on: String,
    pub last_read_on: Option<String>,
}

pub async fn page_info(app: &AppState, user: &User, feed: Feed) -> AppResult<LinkView> {
    let actor = user.actor();
    let info = app
        .db(move |c| calendar::link_info(c, &actor, feed))
        .await?;
    let tz = app.config.time_zone;
    let day = |t: chrono::NaiveDateTime| crate::web::view::local_day(t, tz);
    Ok(LinkView {
        made: info.made,
        made_on: info.created_at.map(day).unwrap_or_default(),
        last_read_on: info.last_used_at.map(day),
    })
}

/// API: `GET /api/v1/{schools|programmes}/{id}/calendar` → whether the caller has a link
/// and when it was made and last read (the secret is shown only when it is made).
pub async fn api_link(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((kind, id)): Path<(String, i32)>,
) -> AppResult<Response> {
    let feed = parse_feed(&kind, id)?;
    let actor = user.actor();
    let info: LinkInfo = app
        .db(move |c| calendar::link_info(c, &actor, feed))
        .await?;
    Ok(ok(info))
}

/// API: `POST /api/v1/{schools|programmes}/{id}/calendar/regenerate` → the caller's new
/// `{"url"}`; their previous link stops working.
pub async fn api_regenerate(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((kind, id)): Path<(String, i32)>,
) -> AppResult<Response> {
    let feed = parse_feed(&kind, id)?;
    Ok(ok(
        serde_json::json!({ "url": make(&app, &user, feed).await? }),
    ))
}

#[derive(Template)]
#[template(path = "calendar_link.html")]
struct NewLinkPage {
    ctx: PageCtx,
    url: String,
    /// The same address for calendar apps (`webcal://`), which subscribe when it is opened.
    webcal: String,
    back: String,
    back_label: &'static str,
}

fn back_of(feed: Feed) -> (String, &'static str) {
    match feed {
        Feed::School(_) => ("/bookings".to_string(), "Back to your bookings"),
        Feed::Programme(id) => (format!("/programmes/{id}"), "Back to the programme"),
    }
}

/// Page: makes the user a new link and shows it, this once. Replacing a link the user
/// already has needs its box ticked (the old one stops working).
pub async fn page_regenerate(
    State(app): State<AppState>,
    ctx: Ctx,
    CurrentUser(user): CurrentUser,
    Path((kind, id)): Path<(String, i32)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let feed = parse_feed(&kind, id)?;
    if page_info(&app, &user, feed).await?.made {
        crate::web::respond::confirmed(&pairs)?;
    }
    let url = make(&app, &user, feed).await?;
    let (back, back_label) = back_of(feed);
    NewLinkPage {
        ctx: ctx.titled("Your calendar link"),
        webcal: webcal_of(&url),
        url,
        back,
        back_label,
    }
    .page()
}

/// A visit to the address of the button (history, a restored tab) goes back to the page
/// that has it; only the button makes a link.
pub async fn page_regenerate_visit(Path((kind, id)): Path<(String, i32)>) -> AppResult<Response> {
    let feed = parse_feed(&kind, id)?;
    Ok(axum::response::Redirect::to(&back_of(feed).0).into_response())
}

/// `https://host/…` as `webcal://host/…` (and `http` likewise).
fn webcal_of(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => format!("webcal://{rest}"),
        None => url.to_string(),
    }
}
