//! API of delivery and impact: events, their attendance, and the impact figures.

use axum::extract::{Path, Query, State};
use axum::response::Response;

use crate::app::{now, AppState};
use crate::domain::input::Input;
use crate::domain::list::ListQuery;
use crate::domain::types::EventId;
use crate::domain::{attendance, events, reports};
use crate::error::{AppError, AppResult};
use crate::web::api::{created, ok, JsonInput};
use crate::web::auth::{Reader, Staff};

pub async fn list_events(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path(id): Path<i32>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let (actor, params) = (user.actor(), q.params());
    let page = app
        .db(move |c| events::list_for_programme(c, &actor, id, &params))
        .await?;
    Ok(ok(page))
}

/// `GET /api/v1/events?programme_id=&kind=&status=&from=&to=`: the events the caller may
/// see, filtered, in start order (`from` and `to` are dates in the install's zone).
pub async fn list_all_events(
    State(app): State<AppState>,
    crate::web::auth::CurrentUser(user): crate::web::auth::CurrentUser,
    Query(q): Query<ListQuery>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (actor, params, tz) = (user.actor(), q.params(), app.config.time_zone);
    let filter = events::EventFilter::parse(&Input::from_pairs(pairs), tz)?;
    let page = app
        .db(move |c| events::list(c, &actor, &filter, &params))
        .await?;
    Ok(ok(page))
}

pub async fn create_event(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let (actor, rules) = (user.actor(), app.rules());
    let event = app
        .db(move |c| {
            let parsed = events::parse(c, &input, None)?;
            let made = crate::domain::schedule::create_event(c, &actor, &rules, id, parsed)?;
            events::reveal(c, &actor, made)
        })
        .await?;
    Ok(created(event))
}

/// An event, if the actor may see its programme.
pub async fn get_event(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let event = app
        .db(move |c| {
            let e = events::get_for(c, &actor, id)?;
            events::reveal(c, &actor, e)
        })
        .await?;
    Ok(ok(event))
}

pub async fn reopen_event(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| {
            let e = events::reopen(c, &actor, id)?;
            events::reveal(c, &actor, e)
        })
        .await?))
}

pub async fn complete_event(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let (rules, base) = (app.rules(), app.config.base_url.clone());
    Ok(ok(app
        .db(move |c| {
            let e = crate::domain::schedule::complete_event(c, &actor, &rules, &base, EventId(id))?;
            events::reveal(c, &actor, e)
        })
        .await?))
}

pub async fn cancel_event(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let rules = app.rules();
    Ok(ok(app
        .db(move |c| {
            let e = crate::domain::schedule::cancel_event(c, &actor, &rules, EventId(id))?;
            events::reveal(c, &actor, e)
        })
        .await?))
}

pub async fn get_attendance(
    State(app): State<AppState>,
    Staff(_): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let rows = app
        .db(move |c| {
            events::get(c, id)?;
            attendance::for_event(c, id)
        })
        .await?;
    Ok(ok(serde_json::json!({ "event_id": id, "items": rows })))
}

/// Replaces the event's attendance with the array in the body.
pub async fn put_attendance(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    let items = value.as_array().ok_or_else(|| {
        AppError::BadRequest("the body must be a JSON array of attendance rows".into())
    })?;
    let rows: Vec<Input> = items
        .iter()
        .map(|row| Input::from_json(row).map(Input::strict))
        .collect::<Result<_, _>>()?;
    let actor = user.actor();
    let saved = app
        .db(move |c| {
            let parsed = attendance::parse(&rows)?;
            attendance::replace(c, &actor, id, parsed)
        })
        .await?;
    Ok(ok(serde_json::json!({ "event_id": id, "items": saved })))
}

pub async fn programme_impact(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| reports::programme_impact(c, &actor, id, now()))
        .await?))
}

pub async fn year_impact(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path(year): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| reports::year_impact(c, &actor, year, now()))
        .await?))
}

pub async fn organisation_impact(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| reports::organisation_impact(c, &actor, id, now()))
        .await?
        .1))
}

/// `{"starts_at", "ends_at", "capacity", "joining_url", "joining_notes"}`: moves the event,
/// changes its capacity, and/or sets a live stream's joining link (each optional; the
/// times go together).
pub async fn change_event(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let (actor, rules) = (user.actor(), app.rules());
    Ok(ok(app
        .db(move |c| {
            let e = crate::domain::schedule::change_event(
                c,
                &actor,
                &rules,
                EventId(id),
                &input,
                None,
            )?;
            events::reveal(c, &actor, e)
        })
        .await?))
}

/// The answers of schools asked after the event (staff): `{"items": [...]}`.
pub async fn list_answers(
    State(app): State<AppState>,
    Staff(_): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let items = app.db(move |c| crate::domain::answers::list(c, id)).await?;
    Ok(ok(serde_json::json!({ "items": items })))
}

/// A lead writes a school's answer into the event's attendance.
pub async fn accept_answer(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| crate::domain::answers::decide(c, &actor, id, true))
        .await?))
}

/// A lead keeps their own figure against a school's answer.
pub async fn keep_answer(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| crate::domain::answers::decide(c, &actor, id, false))
        .await?))
}

#[derive(serde::Deserialize)]
pub struct DryRun {
    dry_run: Option<bool>,
}

/// `POST /programmes/{id}/attendance.csv` (text/csv): a tour's attendance at once. With
/// `?dry_run=true` it answers `{"changes", "errors"}` and writes nothing; without it, 200
/// with the changes when every line is written, 422 naming each refused line and nothing
/// written.
pub async fn attendance_csv(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Query(q): Query<DryRun>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    use crate::domain::tour_attendance as tour;
    let (actor, tz) = (user.actor(), app.config.time_zone);
    let dry = q.dry_run.unwrap_or(false);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::field(
            "body",
            "send the CSV file (a header and a line per row) as the request body",
        ));
    }
    let answer = app
        .db(move |c| {
            crate::domain::programmes::get(c, &actor, id)?;
            let (lines, errors) = tour::parse_csv(c, id, tz, &body)?;
            if dry {
                let (changes, mut refused) = tour::plan(c, id, &lines)?;
                refused.extend(errors);
                refused.sort_by_key(|e| e.line);
                Ok(serde_json::json!({"changes": changes, "errors": refused}))
            } else {
                let changes = tour::apply(c, &actor, id, &lines, errors)?;
                Ok(serde_json::json!({"changes": changes, "errors": []}))
            }
        })
        .await?;
    Ok(ok(answer))
}
