//! Booking pages: a school's "Our bookings" and the lead's requests queue (what can be
//! booked, and booking it, are in `whats_on`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;

use crate::app::AppState;
use crate::domain::bookings::{self, BookingFilter};
use crate::domain::events;
use crate::domain::input::TextEnum;
use crate::domain::list::ListQuery;
use crate::domain::schedule;
use crate::domain::types::BookingId;
use crate::domain::types::{BookingStatus, Role};
use crate::domain::users::User;
use crate::error::AppResult;
use crate::web::auth::{Booker, Staff};
use crate::web::forms::form_input;
use crate::web::respond::{confirmed, done};
use crate::web::view::local;
use crate::web::view::{Ctx, PageCtx, RenderPage};

pub struct BookingLine {
    pub id: i32,
    pub what: String,
    pub when: String,
    pub school: String,
    pub notes: String,
    pub places: i32,
    pub status: String,
    pub status_key: &'static str,
    pub message: String,
    pub can_decide: bool,
    pub can_cancel: bool,
    pub feedback: bool,
}

impl BookingLine {
    /// A booking's line, with its event or tour date; `(at, cutoff)` are the moment and
    /// the install's cancel cut-off, so the buttons follow the rules the domain enforces.
    fn of(
        b: &bookings::Booking,
        e: Option<&events::Event>,
        slot: Option<&crate::domain::slots::Slot>,
        tz: chrono_tz::Tz,
        staff: bool,
        (at, cutoff): (chrono::NaiveDateTime, chrono::Duration),
    ) -> BookingLine {
        let starts = e
            .map(|e| e.starts_at.naive_utc())
            .or(slot.map(|s| s.starts_at));
        let notes = [&b.year_groups, &b.access_needs, &b.notes]
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" · ");
        BookingLine {
            id: b.id,
            what: match e {
                Some(e) if e.school_id.is_some() || e.venue_id.is_some() => {
                    format!("{} at {}", e.kind, e.place())
                }
                Some(e) => e.kind.to_string(),
                None => "Visit to the school: performance and workshop".into(),
            },
            when: match (e, slot) {
                (Some(e), _) => local(e.starts_at, tz),
                (None, Some(slot)) => format!(
                    "{} ({})",
                    local(slot.starts_at.and_utc(), tz),
                    slot.session.label().to_lowercase()
                ),
                _ => String::new(),
            },
            school: b.school_name.clone(),
            notes,
            places: b.places,
            status: b.status.to_string(),
            status_key: b.status.as_str(),
            message: b.message.clone(),
            can_decide: b.status.can_confirm(),
            can_cancel: starts.is_some_and(|t| b.status.can_cancel(staff, t, at, cutoff)),
            feedback: b.status == BookingStatus::Confirmed,
        }
    }
}

#[derive(Template)]
#[template(path = "bookings.html")]
struct BookingsPage {
    ctx: PageCtx,
    staff: bool,
    /// The user's own link to the school's calendar feed, and the school.
    calendar: Option<(crate::web::calendar::LinkView, i32)>,
    rows: Vec<BookingLine>,
    empty: String,
    page: i64,
    pages: i64,
    /// The filter, kept in the paging links (`event_id=3&`).
    keep: String,
}

async fn bookings_page(
    app: &AppState,
    ctx: PageCtx,
    user: &User,
    q: ListQuery,
    filter: BookingFilter,
    empty: &str,
) -> AppResult<Response> {
    let (actor, params) = (user.actor(), q.params());
    let keep = filter
        .event_id
        .map(|id| format!("event_id={id}&"))
        .unwrap_or_default();
    let tz = app.config.time_zone;
    let (page, events, visits) = app
        .db(move |c| {
            let page = bookings::list(c, &actor, &params, &filter)?;
            // The page's events and tour dates, one query each.
            let event_ids: Vec<i32> = page.items.iter().filter_map(|b| b.event_id()).collect();
            let evs: std::collections::HashMap<i32, events::Event> =
                events::get_many(c, &event_ids)?
                    .into_iter()
                    .map(|e| (e.id, e))
                    .collect();
            let slot_ids: Vec<i32> = page.items.iter().filter_map(|b| b.slot_id()).collect();
            let visits: std::collections::HashMap<i32, crate::domain::slots::Slot> =
                crate::domain::slots::get_many(c, &slot_ids)?
                    .into_iter()
                    .map(|s| (s.id, s))
                    .collect();
            Ok((page, evs, visits))
        })
        .await?;
    let staff = user.role.is_staff();
    let (at, cutoff) = (crate::app::now(), app.rules().cancel_cutoff);
    let rows = page
        .items
        .iter()
        .map(|b| {
            let e = b.event_id().and_then(|id| events.get(&id));
            let slot = b.slot_id().and_then(|s| visits.get(&s));
            BookingLine::of(b, e, slot, tz, staff, (at, cutoff))
        })
        .collect();
    let calendar = match (user.role, user.school_id) {
        (Role::School, Some(school)) => Some((
            crate::web::calendar::page_info(
                app,
                user,
                crate::domain::calendar::Feed::School(school),
            )
            .await?,
            school,
        )),
        _ => None,
    };
    BookingsPage {
        ctx,
        staff,
        calendar,
        rows,
        empty: empty.to_string(),
        page: page.page,
        pages: page.pages(),
        keep,
    }
    .page()
}

/// A school's own bookings; for staff, every booking.
pub async fn list(
    State(app): State<AppState>,
    ctx: Ctx,
    Booker(user): Booker,
    Query(q): Query<ListQuery>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    // `?event_id=` narrows the list to one event (the event page links here); a value
    // that is not an id is ignored, as a page does with paging.
    let event_id = pairs
        .iter()
        .find(|(k, _)| k == "event_id")
        .and_then(|(_, v)| v.trim().parse::<i32>().ok())
        .filter(|id| *id > 0);
    let title = match (user.role, event_id) {
        (_, Some(_)) => "Bookings of one event",
        (Role::School, None) => "Our bookings",
        _ => "All bookings",
    };
    let filter = BookingFilter {
        event_id,
        ..BookingFilter::default()
    };
    bookings_page(
        &app,
        ctx.titled(title),
        &user,
        q,
        filter,
        "No bookings yet. See What's on to book places.",
    )
    .await
}

/// Requests waiting for the lead, across programmes.
pub async fn requests(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let filter = BookingFilter {
        status: Some(BookingStatus::Requested),
        ..Default::default()
    };
    bookings_page(
        &app,
        ctx.titled("Requests waiting"),
        &user,
        q,
        filter,
        "No requests are waiting. New requests for events that need approval appear here.",
    )
    .await
}

fn message_of(pairs: Vec<(String, String)>) -> AppResult<String> {
    bookings::parse_message(&form_input(pairs))
}

pub async fn confirm(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (actor, rules, m) = (user.actor(), app.rules(), message_of(pairs)?);
    app.db(move |c| schedule::confirm(c, &actor, &rules, BookingId(id), &m))
        .await?;
    Ok(done("/requests", "request_confirmed"))
}

pub async fn decline(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (actor, rules, m) = (user.actor(), app.rules(), message_of(pairs)?);
    app.db(move |c| schedule::decline(c, &actor, &rules, BookingId(id), &m))
        .await?;
    Ok(done("/requests", "request_declined"))
}

pub async fn cancel(
    State(app): State<AppState>,
    Booker(user): Booker,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (actor, rules) = (user.actor(), app.rules());
    app.db(move |c| {
        // Whose booking it is comes first: another school's is not found, whatever the form.
        bookings::get(c, &actor, id)?;
        confirmed(&pairs)?;
        let m = message_of(pairs)?;
        schedule::cancel(c, &actor, &rules, BookingId(id), &m)
    })
    .await?;
    Ok(done("/bookings", "booking_cancelled"))
}
