//! API of bookings: requesting places, the lead's confirm/decline, cancelling.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::bookings::{self, BookingFilter};
use crate::domain::input::TextEnum;
use crate::domain::list::ListQuery;
use crate::domain::types::BookingStatus;
use crate::error::{AppError, AppResult};
use crate::web::api::{created, ok, JsonInput};
use crate::web::auth::{Booker, Staff};

pub async fn book_event(
    State(app): State<AppState>,
    Booker(user): Booker,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    let b = app
        .db(move |c| {
            let parsed = bookings::parse(&input)?;
            bookings::book_event(c, &actor, id, parsed)
        })
        .await?;
    Ok(created(b))
}

#[derive(Deserialize)]
pub struct BookingQuery {
    #[serde(flatten)]
    list: ListQuery,
    event_id: Option<String>,
    status: Option<String>,
}

pub async fn list(
    State(app): State<AppState>,
    Booker(user): Booker,
    Query(q): Query<BookingQuery>,
) -> AppResult<Response> {
    let filter = BookingFilter {
        event_id: match q.event_id.as_deref() {
            None | Some("") => None,
            Some(v) => Some(
                v.parse()
                    .map_err(|_| AppError::field("event_id", "must be an event id"))?,
            ),
        },
        status: match q.status.as_deref() {
            None | Some("") => None,
            Some(v) => Some(BookingStatus::parse(v).ok_or_else(|| {
                AppError::field(
                    "status",
                    "must be requested, confirmed, declined, waitlisted or cancelled",
                )
            })?),
        },
    };
    let (actor, params) = (user.actor(), q.list.params());
    Ok(ok(app
        .db(move |c| bookings::list(c, &actor, &params, &filter))
        .await?))
}

pub async fn get(
    State(app): State<AppState>,
    Booker(user): Booker,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app.db(move |c| bookings::get(c, &actor, id)).await?))
}

fn message(input: &crate::domain::input::Input) -> AppResult<String> {
    let mut v = input.validator();
    let m = v.text_or_empty("message", 2000);
    v.finish()?;
    Ok(m)
}

pub async fn confirm(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let (actor, m) = (user.actor(), message(&input)?);
    Ok(ok(app
        .db(move |c| bookings::confirm(c, &actor, id, &m))
        .await?))
}

pub async fn decline(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let (actor, m) = (user.actor(), message(&input)?);
    Ok(ok(app
        .db(move |c| bookings::decline(c, &actor, id, &m))
        .await?))
}

pub async fn cancel(
    State(app): State<AppState>,
    Booker(user): Booker,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let (actor, m) = (user.actor(), message(&input)?);
    let cutoff = chrono::Duration::days(app.config.cancel_cutoff_days);
    Ok(ok(app
        .db(move |c| bookings::cancel(c, &actor, id, &m, cutoff))
        .await?))
}

pub async fn list_slots(
    State(app): State<AppState>,
    crate::web::auth::Reader(user): crate::web::auth::Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let items = app
        .db(move |c| {
            crate::domain::programmes::get(c, &actor, id)?;
            crate::domain::slots::list(c, id)
        })
        .await?;
    Ok(ok(serde_json::json!({ "items": items })))
}

pub async fn create_slot(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let (actor, tz) = (user.actor(), app.config.time_zone);
    let slot = app
        .db(move |c| {
            crate::domain::programmes::get(c, &actor, id)?;
            crate::domain::slots::create(c, &actor, id, &input, tz)
        })
        .await?;
    Ok(created(slot))
}

/// Every weekday from `from` to `to` (`morning` and/or `afternoon`); clashes are skipped and listed.
pub async fn bulk_slots(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let (actor, tz) = (user.actor(), app.config.time_zone);
    let result = app
        .db(move |c| {
            crate::domain::programmes::get(c, &actor, id)?;
            crate::domain::slots::bulk(c, &actor, id, &input, tz)
        })
        .await?;
    Ok(created(result))
}

pub async fn request_visit(
    State(app): State<AppState>,
    Booker(user): Booker,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    let b = app
        .db(move |c| {
            let parsed = bookings::parse(&input)?;
            crate::domain::slots::request_visit(c, &actor, id, parsed)
        })
        .await?;
    Ok(created(b))
}
