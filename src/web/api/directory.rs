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

pub async fn create_organisation(
    State(app): State<AppState>,
    Admin(user): Admin,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(created(
        app.db(move |c| orgs::create(c, &actor, orgs::parse(&input)?))
            .await?,
    ))
}

pub async fn update_organisation(
    State(app): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| orgs::update(c, &actor, id, orgs::parse(&input)?))
        .await?))
}

pub async fn archive_organisation(
    State(app): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| orgs::set_archived(c, &actor, id, true))
        .await?))
}

pub async fn restore_organisation(
    State(app): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| orgs::set_archived(c, &actor, id, false))
        .await?))
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

pub async fn create_school(
    State(app): State<AppState>,
    Staff(user): Staff,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(created(
        app.db(move |c| schools::create(c, &actor, schools::parse(&input)?))
            .await?,
    ))
}

pub async fn update_school(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| schools::update(c, &actor, id, schools::parse(&input)?))
        .await?))
}

pub async fn archive_school(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| schools::set_archived(c, &actor, id, true))
        .await?))
}

pub async fn restore_school(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| schools::set_archived(c, &actor, id, false))
        .await?))
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

pub async fn create_venue(
    State(app): State<AppState>,
    Staff(user): Staff,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(created(
        app.db(move |c| venues::create(c, &actor, venues::parse(&input)?))
            .await?,
    ))
}

pub async fn update_venue(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| venues::update(c, &actor, id, venues::parse(&input)?))
        .await?))
}

pub async fn archive_venue(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| venues::set_archived(c, &actor, id, true))
        .await?))
}

pub async fn restore_venue(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| venues::set_archived(c, &actor, id, false))
        .await?))
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

pub async fn create_programme(
    State(app): State<AppState>,
    Staff(user): Staff,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    let p = app
        .db(move |c| {
            let parsed = programmes::parse(c, &input)?;
            programmes::create(c, &actor, parsed)
        })
        .await?;
    Ok(created(p))
}

pub async fn update_programme(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = user.actor();
    let p = app
        .db(move |c| {
            let parsed = programmes::parse(c, &input)?;
            programmes::update(c, &actor, id, parsed)
        })
        .await?;
    Ok(ok(p))
}

pub async fn archive_programme(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| programmes::set_archived(c, &actor, id, true))
        .await?))
}

pub async fn restore_programme(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| programmes::set_archived(c, &actor, id, false))
        .await?))
}
