//! Server-rendered pages. Handlers are thin: parse, authorise (extractors), call the
//! domain, render.

mod access;
mod answers;
mod attendance_grid;
pub mod audit;
pub mod auth;
pub mod bookings;
pub mod delivery;
pub mod directory;
pub mod feedback;
pub mod feedback_links;
pub mod impact;
pub mod import;
pub mod month;
pub mod organisations;
pub mod outbox;
pub mod programmes;
pub mod schools;
pub mod slots;
pub mod tour_attendance;
pub mod users;
pub mod venues;
pub mod whats_on;

use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;
use crate::domain::demo::Hint;
use crate::domain::users::User;
use crate::error::AppResult;
use schools::Schools;
use venues::Venues;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(auth::home))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route(
            "/password/forgot",
            get(auth::forgot_page).post(auth::forgot),
        )
        .route(
            "/password/reset/{token}",
            get(auth::reset_page).post(auth::reset),
        )
        .route("/login/link", get(access::link_page).post(access::link_ask))
        .route(
            "/login/link/{token}",
            get(access::link_open).post(access::link_use),
        )
        .route("/join", get(access::join_page).post(access::join))
        .route(
            "/school-requests/{id}/approve",
            post(access::approve_request),
        )
        .route(
            "/school-requests/{id}/decline",
            post(access::decline_request),
        )
        .route("/invitations", get(access::list).post(access::create))
        .route("/invitations/new", get(access::new_form))
        .route(
            "/invitations/{token}",
            get(access::accept_page).post(access::accept),
        )
        .route("/invitations/{id}/resend", post(access::resend))
        .route("/invitations/{id}/withdraw", post(access::withdraw))
        .route(
            "/programmes/{id}/invite",
            get(access::programme_invite).post(access::programme_invite_send),
        )
        .route(
            "/account/password",
            get(auth::password_page).post(auth::change_password),
        )
        .route(
            "/organisations",
            get(organisations::list).post(organisations::create),
        )
        .route("/organisations/new", get(organisations::new_form))
        .route(
            "/organisations/{id}",
            get(organisations::show).post(organisations::update),
        )
        .route("/organisations/{id}/edit", get(organisations::edit_form))
        .route(
            "/organisations/{id}/archive",
            post(directory::archive::<crate::web::records::Organisations>),
        )
        .route(
            "/organisations/{id}/restore",
            post(directory::restore::<crate::web::records::Organisations>),
        )
        .route(
            "/organisations/{id}/priorities",
            post(organisations::add_priority),
        )
        .route("/priorities/{id}/targets", post(organisations::add_target))
        .route(
            "/schools",
            get(directory::list::<Schools>).post(directory::create::<Schools>),
        )
        .route("/schools/search", get(crate::web::picker::search))
        .route("/schools/new", get(directory::new_form::<Schools>))
        .route(
            "/schools/{id}",
            get(directory::edit_form::<Schools>).post(directory::update::<Schools>),
        )
        .route("/schools/{id}/archive", post(directory::archive::<Schools>))
        .route("/schools/{id}/restore", post(directory::restore::<Schools>))
        .route(
            "/venues",
            get(directory::list::<Venues>).post(directory::create::<Venues>),
        )
        .route("/venues/new", get(directory::new_form::<Venues>))
        .route(
            "/venues/{id}",
            get(directory::edit_form::<Venues>).post(directory::update::<Venues>),
        )
        .route("/venues/{id}/archive", post(directory::archive::<Venues>))
        .route("/venues/{id}/restore", post(directory::restore::<Venues>))
        .route(
            "/programmes",
            get(programmes::list).post(programmes::create),
        )
        .route("/programmes/new", get(programmes::new_form))
        .route(
            "/programmes/{id}",
            get(programmes::show).post(programmes::update),
        )
        .route("/programmes/{id}/edit", get(programmes::edit_form))
        .route(
            "/programmes/{id}/archive",
            post(directory::archive::<crate::web::records::Programmes>),
        )
        .route(
            "/programmes/{id}/restore",
            post(directory::restore::<crate::web::records::Programmes>),
        )
        .route("/programmes/{id}/events", post(delivery::create_event))
        .route("/programmes/{id}/events/new", get(delivery::new_event))
        .route(
            "/programmes/{id}/attendance",
            get(tour_attendance::show).post(tour_attendance::save),
        )
        .route(
            "/programmes/{id}/attendance/upload",
            post(tour_attendance::upload),
        )
        .route(
            "/programmes/{id}/attendance.csv",
            get(tour_attendance::template),
        )
        .route("/events/{id}", get(delivery::show_event))
        .route("/events/{id}/attendance", post(delivery::save_attendance))
        .route("/events/{id}/complete", post(delivery::complete))
        .route("/events/{id}/reopen", post(delivery::reopen))
        .route("/events/{id}/change", post(delivery::change))
        .route("/events/{id}/cancel", post(delivery::cancel))
        .route("/programmes/{id}/impact", get(impact::programme))
        .route("/programmes/{id}/report", get(impact::report))
        .route("/impact", get(impact::landing))
        .route("/impact/years/{year}", get(impact::year))
        .route("/organisations/{id}/impact", get(impact::organisation))
        .route(
            "/programmes/{id}/feedback",
            get(feedback::page).post(feedback::record),
        )
        .route("/programmes/{id}/outcomes", post(feedback::add_statement))
        .route("/feedback/{id}/moderate", post(feedback::moderate))
        .route(
            "/bookings/{id}/feedback",
            get(feedback_links::booking_links),
        )
        .route(
            "/bookings/{id}/feedback-links",
            post(feedback_links::make_booking_link),
        )
        .route(
            "/answers/{token}",
            get(answers::public_get).post(answers::public_post),
        )
        .route("/answers/{id}/accept", post(answers::accept))
        .route("/answers/{id}/keep", post(answers::keep))
        .route(
            "/feedback/{token}",
            get(feedback_links::public_get).post(feedback_links::public_post),
        )
        .route(
            "/programmes/{id}/impact.xlsx",
            get(crate::web::exports::programme_workbook),
        )
        .route(
            "/programmes/{id}/export/{file}",
            get(crate::web::exports::programme_file),
        )
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
        .route("/users", get(users::list).post(users::create))
        .route("/users/new", get(users::new_form))
        .route("/users/{id}", get(users::edit_form).post(users::update))
        .route(
            "/users/{id}/archive",
            post(directory::archive::<crate::web::records::Users>),
        )
        .route(
            "/users/{id}/restore",
            post(directory::restore::<crate::web::records::Users>),
        )
        .route(
            "/users/{id}/tokens",
            get(users::tokens).post(users::create_token),
        )
        .route(
            "/users/{id}/tokens/{token_id}/revoke",
            post(users::revoke_token),
        )
        .route("/import/schools", get(import::form).post(import::upload))
        .route(
            "/programmes/{id}/slots",
            get(slots::show).post(slots::create),
        )
        .route("/programmes/{id}/calendar", get(month::show))
        .route("/programmes/{id}/slots/bulk", post(slots::bulk))
        .route(
            "/slots/{id}/request",
            get(whats_on::request_form).post(whats_on::request_visit),
        )
        .route("/whats-on", get(whats_on::whats_on))
        .route(
            "/{kind}/{id}/calendar/regenerate",
            get(crate::web::calendar::page_regenerate_visit)
                .post(crate::web::calendar::page_regenerate),
        )
        .route(
            "/events/{id}/book",
            get(whats_on::book_form).post(whats_on::book),
        )
        .route("/bookings", get(bookings::list))
        .route("/requests", get(bookings::requests))
        .route("/bookings/{id}/confirm", post(bookings::confirm))
        .route("/bookings/{id}/decline", post(bookings::decline))
        .route("/bookings/{id}/cancel", post(bookings::cancel))
        .route("/audit", get(audit::list))
        .route("/outbox", get(outbox::list))
        .route("/outbox/send-kept", post(outbox::send_kept))
        .method_not_allowed_fallback(back_from_action)
}

/// A visit (GET) to the address of a form's action: a reload of a page shown in answer to
/// a form, or Back to one, goes to the page the form belongs to, never to a bare 405.
async fn back_from_action(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if method == axum::http::Method::GET || method == axum::http::Method::HEAD {
        axum::response::Redirect::to(&back_to(uri.path())).into_response()
    } else {
        axum::http::StatusCode::METHOD_NOT_ALLOWED.into_response()
    }
}

/// The page a form's action belongs to (`/events/5/attendance` → `/events/5`).
pub fn back_to(path: &str) -> String {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let id = |s: &str| s.parse::<u32>().is_ok();
    // Only a plain word is led back to, never anything a browser could read as another site.
    let word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    match parts.as_slice() {
        ["bookings", b, "feedback-links"] if id(b) => format!("/bookings/{b}/feedback"),
        ["bookings", ..] => "/bookings".into(),
        ["school-requests", ..] => "/requests".into(),
        ["invitations", _, _] => "/invitations".into(),
        ["feedback", f, "moderate"] if id(f) => "/programmes".into(),
        ["priorities", ..] => "/organisations".into(),
        ["programmes", p, "outcomes"] if id(p) => format!("/programmes/{p}/feedback"),
        ["programmes", p, "slots", "bulk"] if id(p) => format!("/programmes/{p}/slots"),
        ["users", u, "tokens", ..] if id(u) => format!("/users/{u}/tokens"),
        [kind, x, _] if word(kind) && id(x) => format!("/{kind}/{x}"),
        [kind, _] if word(kind) => format!("/{kind}"),
        _ => "/".into(),
    }
}

/// The demo's line for this user's first page (None outside a demo install, and for
/// anyone but the demo's own accounts).
pub async fn demo_hint(app: &AppState, user: &User) -> AppResult<Option<Hint>> {
    if !crate::domain::demo::ACCOUNTS
        .iter()
        .any(|(email, ..)| *email == user.email)
    {
        return Ok(None);
    }
    let (user, tz) = (user.clone(), app.config.time_zone);
    // The line is a courtesy: if it cannot be worked out, the page shows without it.
    match app
        .db(move |c| crate::domain::demo::hint(c, &user, crate::app::now(), tz))
        .await
    {
        Ok(hint) => Ok(hint),
        Err(e) => {
            tracing::warn!(error = %e, "the demo's line could not be worked out");
            Ok(None)
        }
    }
}
