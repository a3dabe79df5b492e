//! API of the directory: organisations (with priorities and targets), schools, venues,
//! programmes.

use axum::extract::{Path, Query, State};
use axum::response::Response;

use crate::app::AppState;
use crate::domain::list::ListQuery;
use crate::domain::types::Role;
use crate::domain::{organisations as orgs, programmes, schools, venues};
use crate::error::{AppError, AppResult};
use crate::web::api::{created, ok, JsonInput};
use crate::web::auth::{Admin, CurrentUser, Reader, Staff};

// ----- organisations -----

pub async fn list_organisations(
    State(app): State<AppState>,
    Reader(user): Reader,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let (params, only) = (q.params(), orgs::only_for(&user.actor()));
    let page = app.db(move |c| orgs::list(c, &params, only)).await?;
    Ok(ok(page))
}

pub async fn get_organisation(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app.db(move |c| orgs::get_for(c, &actor, id)).await?))
}

pub async fn list_priorities(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let items = app
        .db(move |c| {
            orgs::get_for(c, &actor, id)?;
            orgs::priorities_of(c, id)
        })
        .await?;
    Ok(ok(serde_json::json!({ "items": items })))
}

pub async fn create_priority(
    State(app): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(created(
        app.db(move |c| orgs::add_priority(c, &actor, id, orgs::parse_priority(&input)?))
            .await?,
    ))
}

pub async fn create_target(
    State(app): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(created(
        app.db(move |c| orgs::add_target(c, &actor, id, orgs::parse_target(&input)?))
            .await?,
    ))
}

// ----- schools -----

pub async fn list_schools(
    State(app): State<AppState>,
    Staff(_): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let params = q.params();
    Ok(ok(app.db(move |c| schools::list(c, &params)).await?))
}

/// Staff read any school; a school user reads its own.
pub async fn get_school(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    match user.role {
        Role::Lead | Role::Admin => {}
        Role::School if user.school_id == Some(id) => {}
        _ => return Err(AppError::Forbidden),
    }
    Ok(ok(app.db(move |c| schools::get(c, id)).await?))
}

// ----- venues -----

pub async fn list_venues(
    State(app): State<AppState>,
    Staff(_): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let params = q.params();
    Ok(ok(app.db(move |c| venues::list(c, &params)).await?))
}

pub async fn get_venue(
    State(app): State<AppState>,
    CurrentUser(_): CurrentUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    Ok(ok(app.db(move |c| venues::get(c, id)).await?))
}

// ----- programmes -----

pub async fn list_programmes(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let (params, actor) = (q.params(), user.actor());
    Ok(ok(app
        .db(move |c| programmes::list(c, &actor, &params))
        .await?))
}

pub async fn get_programme(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app.db(move |c| programmes::get(c, &actor, id)).await?))
}
