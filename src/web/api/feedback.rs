//! API of feedback: quotes, moderation, outcome statements, summaries and feedback links.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::feedback::{self, Filter};
use crate::domain::feedback_links;
use crate::domain::list::ListQuery;
use crate::domain::types::Moderation;
use crate::error::{AppError, AppResult};
use crate::web::api::{created, ok, JsonInput};
use crate::web::auth::{CurrentUser, Reader, Staff};

pub async fn create(
    State(app): State<AppState>,
    Staff(user): Staff,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    let f = app
        .db(move |c| {
            let parsed = feedback::parse(c, &input, true)?;
            feedback::create(c, Some(&actor), "lead", parsed)
        })
        .await?;
    Ok(created(f))
}

#[derive(Deserialize)]
pub struct FeedbackQuery {
    #[serde(flatten)]
    list: ListQuery,
    /// `published` or `featured`; staff see everything by default.
    filter: Option<String>,
}

pub async fn list(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i32>,
    Query(q): Query<FeedbackQuery>,
) -> AppResult<Response> {
    let filter = filter_of(&q)?;
    let (actor, params) = (user.actor(), q.list.params());
    Ok(ok(app
        .db(move |c| feedback::list(c, &actor, id, &params, filter))
        .await?))
}

/// `GET /api/v1/feedback?programme_id=&school_id=&moderation=`: the feedback the caller
/// may see, across programmes (`filter=published|featured` narrows it as per programme).
pub async fn search(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<FeedbackQuery>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let filter = filter_of(&q)?;
    let which = feedback::Which::parse(&crate::domain::input::Input::from_pairs(pairs))?;
    let (actor, params) = (user.actor(), q.list.params());
    Ok(ok(app
        .db(move |c| feedback::search(c, &actor, &which, &params, filter))
        .await?))
}

/// `?filter=all|published|featured` (all by default).
fn filter_of(q: &FeedbackQuery) -> AppResult<Filter> {
    match q.filter.as_deref() {
        None | Some("all") => Ok(Filter::All),
        Some("published") => Ok(Filter::Published),
        Some("featured") => Ok(Filter::Featured),
        Some(_) => Err(AppError::field(
            "filter",
            "must be all, published or featured",
        )),
    }
}

pub async fn get(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app.db(move |c| feedback::get(c, &actor, id)).await?))
}

/// `{"moderation": "approved"|"rejected"|"pending", "featured": true|false}`; either may be left out.
pub async fn moderate(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let mut v = input.validator();
    let moderation = v.choice_opt::<Moderation>("moderation");
    let featured = input.has("featured").then(|| v.flag("featured"));
    if moderation.is_none() && featured.is_none() && !v.has_error("moderation") {
        v.error("moderation", "give the moderation, featured, or both");
    }
    v.finish()?;
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| feedback::moderate(c, &actor, id, moderation, featured))
        .await?))
}

pub async fn statements(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let items = app
        .db(move |c| feedback::statements_for(c, &actor, id))
        .await?;
    Ok(ok(serde_json::json!({ "items": items })))
}

pub async fn add_statement(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(created(
        app.db(move |c| feedback::add_statement(c, &actor, id, &input))
            .await?,
    ))
}

pub async fn summary(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let s = app
        .db(move |c| feedback::summary_for(c, &actor, id))
        .await?;
    Ok(ok(s))
}

/// `GET /api/v1/bookings/{id}/feedback-links`: the booking's links and their answers (never
/// their secrets), for staff or the booking's school.
pub async fn links(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let items = app
        .db(move |c| feedback_links::links(c, &actor, id))
        .await?;
    let total = items.len();
    Ok(ok(serde_json::json!({
        "items": items, "page": 1, "per_page": total.max(1), "total": total
    })))
}

/// `POST /api/v1/bookings/{id}/feedback-links`: a new link; its `url` is shown this once.
pub async fn make_link(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let base = app.config.base_url.clone();
    let (link, token) = app
        .db(move |c| feedback_links::make_link(c, &actor, id))
        .await?;
    Ok(created(serde_json::json!({
        "id": link.id,
        "booking_id": link.booking_id,
        "url": format!("{base}/feedback/{token}"),
        "created_at": crate::domain::when::rfc3339(link.created_at),
        "expires_at": crate::domain::when::rfc3339(link.expires_at),
        "answers": link.answers,
    })))
}
