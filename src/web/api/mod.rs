//! The JSON API under `/api/v1` (SPEC §5): bearer tokens, JSON errors, the same rules as
//! the pages.

pub mod accounts;
pub mod bodies;
pub mod bookings;
pub mod delivery;
pub mod directory;
pub mod doc;
pub mod feedback;
pub mod people;
pub mod records;
pub mod responses;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Router};

use crate::app::AppState;
use crate::domain::input::Input;
use crate::error::AppError;
use crate::web::ApiScope;

pub use crate::web::respond::{created, ok};

/// A directory list's paging, search and archived parameters.
const LIST: &[&str] = &["page", "per_page", "q", "archived"];

/// Paging alone.
const PAGE: &[&str] = &["page", "per_page"];

/// The query parameters each API route reads (its path under `/api/v1`); every other
/// parameter is refused with 422 naming it, as unknown body fields are. A route not
/// listed reads none. List only what the handler honours: a parameter listed here and
/// ignored would be a filter that silently does nothing.
pub const QUERY_PARAMS: &[(&str, &[&str])] = &[
    ("/organisations", LIST),
    ("/schools", LIST),
    ("/venues", LIST),
    ("/programmes", LIST),
    ("/users", LIST),
    ("/programmes/{id}/events", PAGE),
    ("/programmes/{id}/attendance.csv", &["dry_run"]),
    (
        "/events",
        &[
            "page",
            "per_page",
            "programme_id",
            "kind",
            "status",
            "from",
            "to",
        ],
    ),
    (
        "/programmes/{id}/feedback",
        &["page", "per_page", "q", "filter"],
    ),
    (
        "/feedback",
        &[
            "page",
            "per_page",
            "q",
            "filter",
            "programme_id",
            "school_id",
            "moderation",
        ],
    ),
    (
        "/bookings",
        &[
            "page",
            "per_page",
            "event_id",
            "status",
            "programme_id",
            "school_id",
        ],
    ),
    (
        "/bookings.csv",
        &["event_id", "status", "programme_id", "school_id"],
    ),
    ("/whats-on", PAGE),
    ("/invitations", &["page", "per_page", "q", "status"]),
    ("/school-requests", &["page", "per_page", "status"]),
    ("/import/schools", &["include_closed"]),
    ("/people/export", &["email"]),
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

/// Whether the operation at this route (as matched, under `/api/v1`) takes a body.
pub fn takes_body(matched: &str, method: &axum::http::Method) -> bool {
    let Some(item) = document().paths.paths.get(matched) else {
        return true;
    };
    let op = match *method {
        axum::http::Method::POST => &item.post,
        axum::http::Method::PUT => &item.put,
        _ => return true,
    };
    op.as_ref().is_none_or(|op| op.request_body.is_some())
}

/// The API's router (under `/api/v1`).
pub fn routes() -> Router<AppState> {
    table().0.fallback(not_found).layer(Extension(ApiScope))
}

/// The OpenAPI document, built with the router from the same table.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(|| table().1)
}

/// Every route of the API with what it takes and answers.
fn table() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use crate::domain::calendar::LinkInfo;
    use crate::domain::feedback::{Feedback, Statement, Summary};
    use crate::domain::feedback_links::FeedbackLink;
    use crate::domain::import::ImportReport;
    use crate::domain::organisations::{Organisation, Priority, Target};
    use crate::domain::programmes::Programme;
    use crate::domain::reports::{GroupImpact, ProgrammeImpact};
    use crate::domain::schedule::bookings::Booking;
    use crate::domain::schedule::events::Event;
    use crate::domain::schedule::offers::WhatsOn;
    use crate::domain::schedule::visits::{BulkResult, Slot};
    use crate::domain::schools::School;
    use crate::domain::tokens::TokenInfo;
    use crate::domain::users::User;
    use crate::domain::venues::Venue;
    use crate::web::records::{Organisations, Programmes, Schools, Users, Venues};
    use accounts as a;
    use bodies as body;
    use bookings as b;
    use delivery as v;
    use directory as d;
    use doc::{download, items, op, page};
    use feedback as f;
    use records as r;
    use responses as res;
    doc::Api::new(QUERY_PARAMS)
        .get("/me", a::me, op::<User>("me", "The caller"))
        .post(
            "/me/password",
            a::change_password,
            op::<()>("change_password", "Change the caller's password (every session ends)")
                .empty()
                .body::<body::PasswordBody>(),
        )
        // Organisations, their priorities and targets.
        .get(
            "/organisations",
            d::list_organisations,
            page::<Organisation>("list_organisations", "Organisations"),
        )
        .post(
            "/organisations",
            r::create::<Organisations>,
            op::<Organisation>("create_organisation", "Add an organisation")
                .created()
                .body::<body::OrganisationBody>(),
        )
        .get(
            "/organisations/{id}",
            d::get_organisation,
            op::<Organisation>("get_organisation", "An organisation"),
        )
        .put(
            "/organisations/{id}",
            r::update::<Organisations>,
            op::<Organisation>("update_organisation", "Change an organisation")
                .body::<body::OrganisationBody>(),
        )
        .post(
            "/organisations/{id}/archive",
            r::archive::<Organisations>,
            op::<Organisation>("archive_organisation", "Archive an organisation"),
        )
        .post(
            "/organisations/{id}/restore",
            r::restore::<Organisations>,
            op::<Organisation>("restore_organisation", "Restore an organisation"),
        )
        .get(
            "/organisations/{id}/priorities",
            d::list_priorities,
            items::<Priority>("list_priorities", "An organisation's priorities"),
        )
        .post(
            "/organisations/{id}/priorities",
            d::create_priority,
            op::<Priority>("create_priority", "Add a priority")
                .created()
                .body::<body::PriorityBody>(),
        )
        .post(
            "/priorities/{id}/targets",
            d::create_target,
            op::<Target>("create_target", "Add a target to a priority")
                .created()
                .body::<body::TargetBody>(),
        )
        // Schools and venues.
        .get(
            "/schools",
            d::list_schools,
            page::<School>("list_schools", "Schools"),
        )
        .post(
            "/schools",
            r::create::<Schools>,
            op::<School>("create_school", "Add a school")
                .created()
                .body::<body::SchoolBody>(),
        )
        .get(
            "/schools/{id}",
            d::get_school,
            op::<School>("get_school", "A school"),
        )
        .put(
            "/schools/{id}",
            r::update::<Schools>,
            op::<School>("update_school", "Change a school").body::<body::SchoolBody>(),
        )
        .post(
            "/schools/{id}/archive",
            r::archive::<Schools>,
            op::<School>("archive_school", "Archive a school"),
        )
        .post(
            "/schools/{id}/restore",
            r::restore::<Schools>,
            op::<School>("restore_school", "Restore a school"),
        )
        .get(
            "/venues",
            d::list_venues,
            page::<Venue>("list_venues", "Venues"),
        )
        .post(
            "/venues",
            r::create::<Venues>,
            op::<Venue>("create_venue", "Add a venue")
                .created()
                .body::<body::VenueBody>(),
        )
        .get(
            "/venues/{id}",
            d::get_venue,
            op::<Venue>("get_venue", "A venue"),
        )
        .put(
            "/venues/{id}",
            r::update::<Venues>,
            op::<Venue>("update_venue", "Change a venue").body::<body::VenueBody>(),
        )
        .post(
            "/venues/{id}/archive",
            r::archive::<Venues>,
            op::<Venue>("archive_venue", "Archive a venue"),
        )
        .post(
            "/venues/{id}/restore",
            r::restore::<Venues>,
            op::<Venue>("restore_venue", "Restore a venue"),
        )
        // Programmes and their events.
        .get(
            "/programmes",
            d::list_programmes,
            page::<Programme>("list_programmes", "Programmes the caller may see"),
        )
        .post(
            "/programmes",
            r::create::<Programmes>,
            op::<Programme>("create_programme", "Add a programme")
                .created()
                .body::<body::ProgrammeBody>(),
        )
        .get(
            "/programmes/{id}",
            d::get_programme,
            op::<Programme>("get_programme", "A programme"),
        )
        .put(
            "/programmes/{id}",
            r::update::<Programmes>,
            op::<Programme>("update_programme", "Change a programme").body::<body::ProgrammeBody>(),
        )
        .post(
            "/programmes/{id}/archive",
            r::archive::<Programmes>,
            op::<Programme>("archive_programme", "Archive a programme"),
        )
        .post(
            "/programmes/{id}/restore",
            r::restore::<Programmes>,
            op::<Programme>("restore_programme", "Restore a programme"),
        )
        .get(
            "/programmes/{id}/events",
            v::list_events,
            page::<Event>("list_programme_events", "A programme's events"),
        )
        .post(
            "/programmes/{id}/events",
            v::create_event,
            op::<Event>("create_event", "Add an event (never two places at once)")
                .created()
                .body::<body::EventBody>(),
        )
        .get(
            "/programmes/{id}/impact",
            v::programme_impact,
            op::<ProgrammeImpact>("programme_impact", "A programme's impact figures"),
        )
        .get(
            "/events",
            v::list_all_events,
            page::<Event>("list_events", "Events the caller may see, filtered"),
        )
        .get(
            "/events/{id}",
            v::get_event,
            op::<Event>("get_event", "An event"),
        )
        .put(
            "/events/{id}",
            v::change_event,
            op::<Event>("change_event", "Change or move an event").body::<body::ChangeEventBody>(),
        )
        .post(
            "/events/{id}/complete",
            v::complete_event,
            op::<Event>("complete_event", "Mark an event as held"),
        )
        .post(
            "/events/{id}/reopen",
            v::reopen_event,
            op::<Event>(
                "reopen_event",
                "Undo a completion: the event is confirmed again",
            ),
        )
        .post(
            "/events/{id}/cancel",
            v::cancel_event,
            op::<Event>("cancel_event", "Cancel an event and its bookings"),
        )
        .post(
            "/programmes/{id}/attendance.csv",
            v::attendance_csv,
            op::<crate::web::api::responses::AttendanceUpload>(
                "upload_attendance",
                "A tour's attendance from CSV (event_id, urn or group, pupils, staff, other); ?dry_run=true previews",
            )
            .csv_body(),
        )
        .get(
            "/events/{id}/answers",
            v::list_answers,
            items::<crate::domain::answers::SchoolAnswer>(
                "list_answers",
                "What the schools asked after the event answered",
            ),
        )
        .post(
            "/answers/{id}/accept",
            v::accept_answer,
            op::<crate::domain::answers::SchoolAnswer>(
                "accept_answer",
                "Write a school's answer as its attendance row",
            ),
        )
        .post(
            "/answers/{id}/keep",
            v::keep_answer,
            op::<crate::domain::answers::SchoolAnswer>(
                "keep_answer",
                "Keep the lead's own figure against a school's answer",
            ),
        )
        .get(
            "/events/{id}/attendance",
            v::get_attendance,
            op::<res::Attendance>("get_attendance", "An event's attendance"),
        )
        .put(
            "/events/{id}/attendance",
            v::put_attendance,
            op::<res::Attendance>("put_attendance", "Replace an event's attendance")
                .array_body::<body::AttendanceRowBody>(),
        )
        // Feedback.
        .get(
            "/programmes/{id}/feedback",
            f::list,
            page::<Feedback>("list_programme_feedback", "A programme's feedback"),
        )
        .get(
            "/programmes/{id}/feedback/summary",
            f::summary,
            op::<Summary>(
                "feedback_summary",
                "A programme's ratings and outcome answers",
            ),
        )
        .get(
            "/programmes/{id}/outcomes",
            f::statements,
            items::<Statement>("list_outcomes", "A programme's outcome statements"),
        )
        .post(
            "/programmes/{id}/outcomes",
            f::add_statement,
            op::<Statement>("create_outcome", "Add an outcome statement")
                .created()
                .body::<body::OutcomeBody>(),
        )
        .get(
            "/feedback",
            f::search,
            page::<Feedback>("list_feedback", "Feedback the caller may see, filtered"),
        )
        .post(
            "/feedback",
            f::create,
            op::<Feedback>("create_feedback", "Record feedback")
                .created()
                .body::<body::FeedbackBody>(),
        )
        .get(
            "/feedback/{id}",
            f::get,
            op::<Feedback>("get_feedback", "One piece of feedback"),
        )
        .post(
            "/feedback/{id}/moderate",
            f::moderate,
            op::<Feedback>("moderate_feedback", "Approve, reject or feature feedback")
                .body::<body::ModerationBody>(),
        )
        .get(
            "/bookings/{id}/feedback-links",
            f::links,
            page::<FeedbackLink>(
                "list_feedback_links",
                "A booking's feedback links (never their secrets)",
            ),
        )
        .post(
            "/bookings/{id}/feedback-links",
            f::make_link,
            op::<res::NewFeedbackLink>("create_feedback_link", "A new feedback link, shown once")
                .created(),
        )
        // Bookings and tour dates.
        .post(
            "/events/{id}/bookings",
            b::book_event,
            op::<Booking>("book_event", "Book places at an event")
                .created()
                .body::<body::BookingBody>(),
        )
        .get(
            "/programmes/{id}/slots",
            b::list_slots,
            items::<Slot>("list_slots", "A programme's tour dates"),
        )
        .post(
            "/programmes/{id}/slots",
            b::create_slot,
            op::<Slot>("create_slot", "Add a tour date")
                .created()
                .body::<body::SlotBody>(),
        )
        .post(
            "/programmes/{id}/slots/bulk",
            b::bulk_slots,
            op::<BulkResult>(
                "create_slots",
                "Add tour dates for every weekday between two dates",
            )
            .created()
            .body::<body::BulkSlotsBody>(),
        )
        .post(
            "/slots/{id}/bookings",
            b::request_visit,
            op::<Booking>("request_visit", "Ask for a visit on a tour date")
                .created()
                .body::<body::BookingBody>(),
        )
        .get(
            "/bookings",
            b::list,
            page::<Booking>("list_bookings", "Bookings the caller may see, filtered"),
        )
        .get(
            "/bookings.csv",
            b::csv,
            download("bookings_csv", "The same bookings as CSV").csv(),
        )
        .get(
            "/whats-on",
            b::whats_on,
            op::<WhatsOn>("whats_on", "Events open for booking and free tour dates"),
        )
        .get(
            "/{kind}/{id}/calendar",
            crate::web::calendar::api_link,
            op::<LinkInfo>("calendar_link", "Whether the caller has a calendar feed"),
        )
        .post(
            "/{kind}/{id}/calendar/regenerate",
            crate::web::calendar::api_regenerate,
            op::<res::FeedUrl>("regenerate_calendar", "A new calendar feed address"),
        )
        .get(
            "/bookings/{id}",
            b::get,
            op::<Booking>("get_booking", "A booking"),
        )
        .post(
            "/bookings/{id}/confirm",
            b::confirm,
            op::<Booking>("confirm_booking", "Confirm a booking")
                .optional_body::<body::MessageBody>(),
        )
        .post(
            "/bookings/{id}/decline",
            b::decline,
            op::<Booking>("decline_booking", "Decline a booking")
                .optional_body::<body::MessageBody>(),
        )
        .post(
            "/bookings/{id}/cancel",
            b::cancel,
            op::<Booking>("cancel_booking", "Cancel a booking")
                .optional_body::<body::MessageBody>(),
        )
        // Figures and downloads.
        .get(
            "/programmes/{id}/impact.xlsx",
            crate::web::exports::programme_workbook,
            download("programme_workbook", "A programme's impact workbook").xlsx(),
        )
        .get(
            "/programmes/{id}/export/{file}",
            crate::web::exports::programme_file,
            download("programme_file", "A programme's workbook or CSV table").file(),
        )
        .get(
            "/impact/years/{year}",
            v::year_impact,
            op::<GroupImpact>("year_impact", "A year's impact figures"),
        )
        .get(
            "/impact/years/{year}/export/{file}",
            crate::web::exports::year_file,
            download("year_file", "A year's workbook or CSV table").file(),
        )
        .get(
            "/organisations/{id}/impact.xlsx",
            crate::web::exports::organisation_workbook,
            download("organisation_workbook", "An organisation's impact workbook").xlsx(),
        )
        .get(
            "/organisations/{id}/export/{file}",
            crate::web::exports::organisation_file,
            download(
                "organisation_file",
                "An organisation's workbook or CSV table",
            )
            .file(),
        )
        .get(
            "/organisations/{id}/impact",
            v::organisation_impact,
            op::<GroupImpact>("organisation_impact", "An organisation's impact figures"),
        )
        // People and tokens.
        .get("/users", a::list_users, page::<User>("list_users", "Users"))
        .post(
            "/users",
            r::create::<Users>,
            op::<User>("create_user", "Add a user")
                .created()
                .body::<body::UserBody>(),
        )
        .get("/users/{id}", a::get_user, op::<User>("get_user", "A user"))
        .put(
            "/users/{id}",
            r::update::<Users>,
            op::<User>("update_user", "Change a user").body::<body::UserBody>(),
        )
        .post(
            "/users/{id}/archive",
            r::archive::<Users>,
            op::<User>("archive_user", "Archive a user"),
        )
        .post(
            "/users/{id}/restore",
            r::restore::<Users>,
            op::<User>("restore_user", "Restore a user"),
        )
        .get(
            "/users/{id}/tokens",
            a::list_tokens,
            items::<TokenInfo>("list_tokens", "A user's API tokens (never their secrets)"),
        )
        .post(
            "/users/{id}/tokens",
            a::create_token,
            op::<res::NewToken>("create_token", "A new API token, shown once")
                .created()
                .optional_body::<body::TokenBody>(),
        )
        .post(
            "/users/{id}/tokens/{token_id}/revoke",
            a::revoke_token,
            op::<res::Revoked>("revoke_token", "Revoke an API token"),
        )
        // How people arrive.
        .get(
            "/invitations",
            people::list_invitations,
            page::<crate::domain::invitations::Invitation>(
                "list_invitations",
                "Invitations, newest first (?status=pending|accepted|expired|withdrawn)",
            ),
        )
        .post(
            "/invitations",
            people::invite,
            op::<crate::domain::invitations::Invitation>(
                "invite",
                "Invite a person by e-mail to set up their account",
            )
            .created()
            .body::<body::InvitationBody>(),
        )
        .post(
            "/invitations/{id}/resend",
            people::resend,
            op::<crate::domain::invitations::Invitation>(
                "resend_invitation",
                "Send an invitation again with a new link and seven more days",
            ),
        )
        .post(
            "/invitations/{id}/withdraw",
            people::withdraw,
            op::<crate::domain::invitations::Invitation>(
                "withdraw_invitation",
                "Withdraw an invitation: its link stops working",
            ),
        )
        .get(
            "/programmes/{id}/invitations",
            people::programme_schools,
            items::<crate::domain::invitations::BookedSchool>(
                "list_programme_schools",
                "The schools that booked a programme and whether each can be invited",
            ),
        )
        .post(
            "/programmes/{id}/invitations",
            people::invite_programme_schools,
            op::<res::Invited>(
                "invite_programme_schools",
                "Invite every school of a programme with a contact address and no account",
            ),
        )
        .get(
            "/school-requests",
            people::list_school_requests,
            page::<crate::domain::school_requests::SchoolRequest>(
                "list_school_requests",
                "Teachers' requests for an account (?status=waiting|approved|declined)",
            ),
        )
        .post(
            "/school-requests/{id}/approve",
            people::approve_school_request,
            op::<crate::domain::school_requests::SchoolRequest>(
                "approve_school_request",
                "Approve a request: the teacher is sent an invitation",
            ),
        )
        .post(
            "/school-requests/{id}/decline",
            people::decline_school_request,
            op::<crate::domain::school_requests::SchoolRequest>(
                "decline_school_request",
                "Decline a request: the teacher is told by e-mail",
            ),
        )
        // Personal data.
        .get(
            "/people/export",
            a::export_person,
            op::<res::PersonExport>(
                "export_person",
                "Everything held about one person, by e-mail address (?email=)",
            ),
        )
        .post(
            "/people/erase",
            a::erase_person,
            op::<res::PersonErased>(
                "erase_person",
                "Erase what is held about one person; every figure stays as it was",
            )
            .body::<body::EraseBody>(),
        )
        .get(
            "/public/whats-on",
            people::public_whats_on,
            op::<crate::domain::schedule::public::PublicWhatsOn>(
                "public_whats_on",
                "What's on, for anyone: programmes, events with places left, free tour-date months",
            )
            .public(),
        )
        .post(
            "/import/schools",
            a::import_schools,
            op::<ImportReport>("import_schools", "Import the schools register (CSV)").csv_body(),
        )
        .get(
            "/openapi.json",
            openapi,
            op::<serde_json::Value>("openapi", "This document").public(),
        )
        .finish()
}

async fn not_found() -> AppError {
    AppError::NotFound
}

async fn openapi() -> Response {
    crate::web::respond::ok(document())
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
