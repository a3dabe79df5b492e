//! API of bookings: requesting places, the lead's confirm/decline, cancelling.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::bookings::{self, BookingFilter};
use crate::domain::input::TextEnum;
use crate::domain::list::ListQuery;
use crate::domain::schedule;
use crate::domain::types::BookingStatus;
use crate::domain::types::{BookingId, EventId, SlotId};
use crate::error::{AppError, AppResult};
use crate::web::api::{created, ok, JsonInput};
use crate::web::auth::{Booker, Staff};

pub async fn book_event(
    State(app): State<AppState>,
    Booker(user): Booker,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let (actor, rules) = (user.actor(), app.rules());
    let turn = app.booking_turn(id).await?;
    let b = app
        .db(move |c| {
            let parsed = bookings::parse(&input)?;
            schedule::book_event(c, &actor, &rules, EventId(id), parsed, turn)
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
    programme_id: Option<String>,
    school_id: Option<String>,
}

/// An optional id of the query (`?event_id=3`); empty is none.
fn id_of(value: Option<&str>, name: &str, what: &str) -> AppResult<Option<i32>> {
    match value {
        None | Some("") => Ok(None),
        Some(v) => match v.parse::<i32>() {
            Ok(id) if id > 0 => Ok(Some(id)),
            _ => Err(AppError::field(name, format!("must be {what} id"))),
        },
    }
}

/// `?event_id=&status=&programme_id=&school_id=` of a bookings list.
fn filter_of(q: &BookingQuery) -> AppResult<BookingFilter> {
    Ok(BookingFilter {
        event_id: id_of(q.event_id.as_deref(), "event_id", "an event")?,
        status: match q.status.as_deref() {
            None | Some("") => None,
            Some(v) => Some(BookingStatus::parse(v).ok_or_else(|| {
                AppError::field(
                    "status",
                    "must be requested, confirmed, declined, waitlisted or cancelled",
                )
            })?),
        },
        programme_id: id_of(q.programme_id.as_deref(), "programme_id", "a programme")?,
        school_id: id_of(q.school_id.as_deref(), "school_id", "a school")?,
        by_date: false,
    })
}

pub async fn list(
    State(app): State<AppState>,
    Booker(user): Booker,
    Query(q): Query<BookingQuery>,
) -> AppResult<Response> {
    let filter = filter_of(&q)?;
    let (actor, params) = (user.actor(), q.list.params());
    Ok(ok(app
        .db(move |c| bookings::list(c, &actor, &params, &filter))
        .await?))
}

/// `GET /api/v1/bookings.csv?event_id=&status=&programme_id=&school_id=`: every booking the caller may see (a
/// school its own), as CSV, oldest first; text cells cannot run as formulas.
pub async fn csv(
    State(app): State<AppState>,
    Booker(user): Booker,
    Query(q): Query<BookingQuery>,
) -> AppResult<Response> {
    let filter = filter_of(&q)?;
    let actor = user.actor();
    let bytes = app
        .db(move |c| crate::export::csv::bookings(c, &actor, &filter))
        .await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"bookings.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

pub async fn get(
    State(app): State<AppState>,
    Booker(user): Booker,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app.db(move |c| bookings::get(c, &actor, id)).await?))
}

pub async fn confirm(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let (actor, rules, m) = (user.actor(), app.rules(), bookings::parse_message(&input)?);
    Ok(ok(app
        .db(move |c| schedule::confirm(c, &actor, &rules, BookingId(id), &m))
        .await?))
}

pub async fn decline(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let (actor, rules, m) = (user.actor(), app.rules(), bookings::parse_message(&input)?);
    Ok(ok(app
        .db(move |c| schedule::decline(c, &actor, &rules, BookingId(id), &m))
        .await?))
}

pub async fn cancel(
    State(app): State<AppState>,
    Booker(user): Booker,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let (actor, rules, m) = (user.actor(), app.rules(), bookings::parse_message(&input)?);
    Ok(ok(app
        .db(move |c| schedule::cancel(c, &actor, &rules, BookingId(id), &m))
        .await?))
}

pub async fn list_slots(
    State(app): State<AppState>,
    crate::web::auth::Reader(user): crate::web::auth::Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let items = app
        .db(move |c| crate::domain::slots::list(c, &actor, id))
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
        .db(move |c| crate::domain::slots::create(c, &actor, id, &input, tz))
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
        .db(move |c| crate::domain::slots::bulk(c, &actor, id, &input, tz))
        .await?;
    Ok(created(result))
}

pub async fn request_visit(
    State(app): State<AppState>,
    Booker(user): Booker,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let (actor, rules) = (user.actor(), app.rules());
    let b = app
        .db(move |c| {
            let parsed = bookings::parse(&input)?;
            schedule::request_visit(c, &actor, &rules, SlotId(id), parsed)
        })
        .await?;
    Ok(created(b))
}

/// `GET /api/v1/whats-on`: what the caller can book now, as on the page: events open for
/// booking (a school's own bookings marked in `yours`) and free tour dates.
pub async fn whats_on(
    State(app): State<AppState>,
    Booker(user): Booker,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let (actor, params) = (user.actor(), q.params());
    Ok(ok(app
        .db(move |c| crate::domain::schedule::offers::whats_on(c, &actor, &params))
        .await?))
}
