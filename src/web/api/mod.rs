//! The JSON API under `/api/v1` (SPEC §5): bearer tokens, JSON errors, the same rules as
//! the pages.

pub mod accounts;
pub mod bookings;
pub mod delivery;
pub mod directory;
pub mod feedback;
pub mod records;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

use crate::app::AppState;
use crate::domain::input::Input;
use crate::error::AppError;
use crate::web::ApiScope;

pub use crate::web::respond::{created, ok};

/// A list's paging and search parameters.
const LIST: &[&str] = &["page", "per_page", "q", "archived"];

/// The query parameters each API route reads (its path under `/api/v1`); every other
/// parameter is refused with 422 naming it, as unknown body fields are. A route not
/// listed reads none.
pub const QUERY_PARAMS: &[(&str, &[&str])] = &[
    ("/organisations", LIST),
    ("/schools", LIST),
    ("/venues", LIST),
    ("/programmes", LIST),
    ("/users", LIST),
    ("/programmes/{id}/events", LIST),
    (
        "/events",
        &[
            "page",
            "per_page",
            "q",
            "archived",
            "programme_id",
            "kind",
            "status",
            "from",
            "to",
        ],
    ),
    (
        "/programmes/{id}/feedback",
        &["page", "per_page", "q", "archived", "filter"],
    ),
    (
        "/feedback",
        &[
            "page",
            "per_page",
            "q",
            "archived",
            "filter",
            "programme_id",
            "school_id",
            "moderation",
        ],
    ),
    (
        "/bookings",
        &["page", "per_page", "q", "archived", "event_id", "status"],
    ),
    (
        "/bookings.csv",
        &["page", "per_page", "q", "archived", "event_id", "status"],
    ),
    ("/whats-on", LIST),
    ("/import/schools", &["include_closed"]),
];

/// The query parameters the matched route reads (see `QUERY_PARAMS`).
pub fn query_params_of(matched: &str) -> &'static [&'static str] {
    let path = matched.strip_prefix("/api/v1").unwrap_or(matched);
    QUERY_PARAMS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, names)| *names)
        .unwrap_or(&[])
}

pub fn routes() -> Router<AppState> {
    use crate::web::records::{Organisations, Programmes, Schools, Users, Venues};
    use accounts as a;
    use bookings as b;
    use delivery as v;
    use directory as d;
    use feedback as f;
    use records as r;
    Router::new()
        .route("/me", get(a::me))
        .route(
            "/organisations",
            get(d::list_organisations).post(r::create::<Organisations>),
        )
        .route(
            "/organisations/{id}",
            get(d::get_organisation).put(r::update::<Organisations>),
        )
        .route(
            "/organisations/{id}/archive",
            post(r::archive::<Organisations>),
        )
        .route(
            "/organisations/{id}/restore",
            post(r::restore::<Organisations>),
        )
        .route(
            "/organisations/{id}/priorities",
            get(d::list_priorities).post(d::create_priority),
        )
        .route("/priorities/{id}/targets", post(d::create_target))
        .route("/schools", get(d::list_schools).post(r::create::<Schools>))
        .route(
            "/schools/{id}",
            get(d::get_school).put(r::update::<Schools>),
        )
        .route("/schools/{id}/archive", post(r::archive::<Schools>))
        .route("/schools/{id}/restore", post(r::restore::<Schools>))
        .route("/venues", get(d::list_venues).post(r::create::<Venues>))
        .route("/venues/{id}", get(d::get_venue).put(r::update::<Venues>))
        .route("/venues/{id}/archive", post(r::archive::<Venues>))
        .route("/venues/{id}/restore", post(r::restore::<Venues>))
        .route(
            "/programmes",
            get(d::list_programmes).post(r::create::<Programmes>),
        )
        .route(
            "/programmes/{id}",
            get(d::get_programme).put(r::update::<Programmes>),
        )
        .route("/programmes/{id}/archive", post(r::archive::<Programmes>))
        .route("/programmes/{id}/restore", post(r::restore::<Programmes>))
        .route(
            "/programmes/{id}/events",
            get(v::list_events).post(v::create_event),
        )
        .route("/programmes/{id}/impact", get(v::programme_impact))
        .route("/events", get(v::list_all_events))
        .route("/events/{id}", get(v::get_event).put(v::change_event))
        .route("/events/{id}/complete", post(v::complete_event))
        .route("/events/{id}/cancel", post(v::cancel_event))
        .route(
            "/events/{id}/attendance",
            get(v::get_attendance).put(v::put_attendance),
        )
        .route("/programmes/{id}/feedback", get(f::list))
        .route("/programmes/{id}/feedback/summary", get(f::summary))
        .route(
            "/programmes/{id}/outcomes",
            get(f::statements).post(f::add_statement),
        )
        .route("/feedback", get(f::search).post(f::create))
        .route("/feedback/{id}", get(f::get))
        .route("/feedback/{id}/moderate", post(f::moderate))
        .route(
            "/bookings/{id}/feedback-links",
            get(f::links).post(f::make_link),
        )
        .route("/events/{id}/bookings", post(b::book_event))
        .route(
            "/programmes/{id}/slots",
            get(b::list_slots).post(b::create_slot),
        )
        .route("/programmes/{id}/slots/bulk", post(b::bulk_slots))
        .route("/slots/{id}/bookings", post(b::request_visit))
        .route("/bookings", get(b::list))
        .route("/bookings.csv", get(b::csv))
        .route("/whats-on", get(b::whats_on))
        .route("/{kind}/{id}/calendar", get(crate::web::calendar::api_link))
        .route(
            "/{kind}/{id}/calendar/regenerate",
            post(crate::web::calendar::api_regenerate),
        )
        .route("/bookings/{id}", get(b::get))
        .route("/bookings/{id}/confirm", post(b::confirm))
        .route("/bookings/{id}/decline", post(b::decline))
        .route("/bookings/{id}/cancel", post(b::cancel))
        .route(
            "/programmes/{id}/impact.xlsx",
            get(crate::web::exports::programme_workbook),
        )
        .route(
            "/programmes/{id}/export/{file}",
            get(crate::web::exports::programme_file),
        )
        .route("/impact/years/{year}", get(v::year_impact))
        .route(
            "/impact/years/{year}/export/{file}",
            get(crate::web::exports::year_file),
        )
        .route(
            "/organisations/{id}/impact.xlsx",
            get(crate::web::exports::organisation_workbook),
        )
        .route(
            "/organisations/{id}/export/{file}",
            get(crate::web::exports::organisation_file),
        )
        .route("/organisations/{id}/impact", get(v::organisation_impact))
        .route("/users", get(a::list_users).post(r::create::<Users>))
        .route("/users/{id}", get(a::get_user).put(r::update::<Users>))
        .route("/users/{id}/archive", post(r::archive::<Users>))
        .route("/users/{id}/restore", post(r::restore::<Users>))
        .route(
            "/users/{id}/tokens",
            get(a::list_tokens).post(a::create_token),
        )
        .route(
            "/users/{id}/tokens/{token_id}/revoke",
            post(a::revoke_token),
        )
        .route("/import/schools", post(a::import_schools))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(Extension(ApiScope))
}

async fn not_found() -> AppError {
    AppError::NotFound
}

async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        include_str!("../../../static/openapi.json"),
    )
        .into_response()
}

/// A JSON object body as domain input; a body that is not JSON is a 400 naming why.
pub struct JsonInput(pub Input);

impl<S: Send + Sync> FromRequest<S> for JsonInput {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge(format!("the body is too large: {e}"))
            } else {
                AppError::BadRequest(format!("the body could not be read: {e}"))
            }
        })?;
        if bytes.is_empty() {
            return Ok(JsonInput(Input::default()));
        }
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
        Ok(JsonInput(Input::from_json(&value)?.strict()))
    }
}
