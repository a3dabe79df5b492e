//! The API's writes of directory records, written once over `Record`: create (201),
//! update, archive and restore (200), each answering the record.

use axum::extract::{Path, State};
use axum::response::Response;

use crate::app::AppState;
use crate::error::AppResult;
use crate::web::api::{created, ok, JsonInput};
use crate::web::auth::Allowed;
use crate::web::records::Record;

pub async fn create<R: Record>(
    State(app): State<AppState>,
    who: R::Writer,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = who.user().actor();
    Ok(created(
        app.db(move |c| R::create(c, &actor, &input)).await?,
    ))
}

pub async fn update<R: Record>(
    State(app): State<AppState>,
    who: R::Writer,
    Path(id): Path<i32>,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let actor = who.user().actor();
    Ok(ok(app
        .db(move |c| R::update(c, &actor, id, &input))
        .await?))
}

pub async fn archive<R: Record>(
    State(app): State<AppState>,
    who: R::Writer,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = who.user().actor();
    Ok(ok(app
        .db(move |c| R::set_archived(c, &actor, id, true))
        .await?))
}

pub async fn restore<R: Record>(
    State(app): State<AppState>,
    who: R::Writer,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = who.user().actor();
    Ok(ok(app
        .db(move |c| R::set_archived(c, &actor, id, false))
        .await?))
}
