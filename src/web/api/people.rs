//! API of how people arrive: invitations, a programme's schools invited at once, schools'
//! requests for an account, and the public listing.

use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::Response;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain::input::TextEnum;
use crate::domain::invitations::{self, InvitationStatus};
use crate::domain::list::ListQuery;
use crate::domain::school_requests::{self, RequestStatus};
use crate::error::{AppError, AppResult};
use crate::web::api::{created, ok, JsonInput};
use crate::web::auth::Staff;

#[derive(Deserialize)]
pub struct StatusQuery {
    status: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
    q: Option<String>,
}

impl StatusQuery {
    fn split<S: TextEnum>(self) -> AppResult<(crate::domain::list::ListParams, Option<S>)> {
        let status = match self.status.as_deref() {
            None => None,
            Some(s) => Some(S::from_db(s).map_err(|_| {
                AppError::field(
                    "status",
                    format!(
                        "must be one of {}",
                        S::ALL
                            .iter()
                            .map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?),
        };
        let params = ListQuery {
            page: self.page,
            per_page: self.per_page,
            q: self.q,
            archived: None,
        }
        .params();
        Ok((params, status))
    }
}

pub async fn list_invitations(
    State(app): State<AppState>,
    Staff(_): Staff,
    Query(q): Query<StatusQuery>,
) -> AppResult<Response> {
    let (params, status) = q.split::<InvitationStatus>()?;
    Ok(ok(app
        .db(move |c| invitations::list(c, &params, status))
        .await?))
}

pub async fn invite(
    State(app): State<AppState>,
    Staff(user): Staff,
    JsonInput(input): JsonInput,
) -> AppResult<Response> {
    let (actor, base) = (user.actor(), app.config.base_url.clone());
    let made = app
        .db(move |c| {
            let parsed = invitations::parse(c, &input)?;
            invitations::invite(c, Some(&actor), &parsed, &base)
        })
        .await?;
    Ok(created(made))
}

pub async fn resend(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (actor, base) = (user.actor(), app.config.base_url.clone());
    Ok(ok(app
        .db(move |c| invitations::resend(c, &actor, id, &base))
        .await?))
}

pub async fn withdraw(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| invitations::withdraw(c, &actor, id))
        .await?))
}

pub async fn programme_schools(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let items = app
        .db(move |c| {
            crate::domain::programmes::get(c, &actor, id)?;
            invitations::booked_schools(c, id)
        })
        .await?;
    Ok(ok(serde_json::json!({ "items": items })))
}

pub async fn invite_programme_schools(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (actor, base) = (user.actor(), app.config.base_url.clone());
    let n = app
        .db(move |c| {
            crate::domain::programmes::get(c, &actor, id)?;
            invitations::invite_booked_schools(c, &actor, id, &base)
        })
        .await?;
    Ok(ok(serde_json::json!({ "invited": n })))
}

pub async fn list_school_requests(
    State(app): State<AppState>,
    Staff(_): Staff,
    Query(q): Query<StatusQuery>,
) -> AppResult<Response> {
    let (params, status) = q.split::<RequestStatus>()?;
    Ok(ok(app
        .db(move |c| school_requests::list(c, &params, status))
        .await?))
}

pub async fn approve_school_request(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (actor, base) = (user.actor(), app.config.base_url.clone());
    Ok(ok(app
        .db(move |c| school_requests::approve(c, &actor, id, &base))
        .await?))
}

pub async fn decline_school_request(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    Ok(ok(app
        .db(move |c| school_requests::decline(c, &actor, id))
        .await?))
}

/// The public listing (no sign-in), cacheable for a minute.
pub async fn public_whats_on(State(app): State<AppState>) -> AppResult<Response> {
    let tz = app.config.time_zone;
    let listing = app
        .db(move |c| crate::domain::schedule::public::whats_on(c, tz))
        .await?;
    let mut response = ok(listing);
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(response)
}
