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
    /// The production (programme) and its year.
    pub production: String,
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
    /// A confirmed live stream: its joining link, if set, and instructions.
    pub joining: Option<(Option<String>, String)>,
}

impl BookingLine {
    /// A booking's line, with its event or tour date; `(at, cutoff)` are the moment and
    /// the install's cancel cut-off, so the buttons follow the rules the domain enforces.
    fn of(
        b: &bookings::Booking,
        e: Option<&events::Event>,
        slot: Option<&crate::domain::slots::Slot>,
        production: String,
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
            production,
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
            joining: b
                .joining_notes
                .clone()
                .map(|notes| (b.joining_url.clone(), notes)),
        }
    }
}

/// A choice of a filter's list.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The staff's filters of the bookings list, as chosen.
#[derive(Default)]
pub struct Filters {
    pub programmes: Vec<Choice>,
    pub states: Vec<Choice>,
    /// The school picker's text, and why it names no school.
    pub school: String,
    pub school_error: Option<String>,
    /// Kept when the list came from an event's page.
    pub event_id: Option<i32>,
    pub any: bool,
}

#[derive(Template)]
#[template(path = "bookings.html")]
struct BookingsPage {
    ctx: PageCtx,
    staff: bool,
    /// On Requests: teachers asking for an account for their school, oldest first.
    accounts: Vec<AccountRequest>,
    /// The user's own link to the school's calendar feed, and the school.
    calendar: Option<(crate::web::calendar::LinkView, i32)>,
    filters: Option<Filters>,
    rows: Vec<BookingLine>,
    total: i64,
    empty: String,
    page: i64,
    pages: i64,
    /// The filter, kept in the paging links (`event_id=3&`).
    keep: String,
}

/// A teacher's request for an account, as the Requests page lists it.
pub struct AccountRequest {
    pub id: i32,
    pub school: String,
    pub name: String,
    pub email: String,
    pub asked: String,
}

async fn bookings_page(
    app: &AppState,
    accounts: Vec<AccountRequest>,
    ctx: PageCtx,
    user: &User,
    q: ListQuery,
    (filter, filters, keep): (BookingFilter, Option<Filters>, String),
    empty: &str,
) -> AppResult<Response> {
    let (actor, params) = (user.actor(), q.params());
    let tz = app.config.time_zone;
    let (page, events, visits, titles, labels) = app
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
            let programme_ids: Vec<i32> = evs
                .values()
                .map(|e| e.programme_id)
                .chain(visits.values().map(|s| s.programme_id))
                .collect();
            let titles = crate::domain::programmes::titles(c, &programme_ids)?;
            // Staff tell same-named schools apart by URN and town.
            let labels = if actor.role.is_staff() {
                let ids: Vec<i32> = page.items.iter().map(|b| b.school_id).collect();
                crate::domain::schools::labels(c, &ids)?
            } else {
                Default::default()
            };
            Ok((page, evs, visits, titles, labels))
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
            let programme = e.map(|e| e.programme_id).or(slot.map(|s| s.programme_id));
            let production = programme
                .and_then(|p| titles.get(&p).cloned())
                .unwrap_or_default();
            let mut line = BookingLine::of(b, e, slot, production, tz, staff, (at, cutoff));
            if let Some(label) = labels.get(&b.school_id) {
                line.school = label.clone();
            }
            line
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
        accounts,
        calendar,
        filters,
        rows,
        total: page.total,
        empty: empty.to_string(),
        page: page.page,
        pages: page.pages(),
        keep,
    }
    .page()
}

/// A positive id from the query, if it is one (a page ignores one that is not, as it
/// does with paging).
fn query_id(pairs: &[(String, String)], name: &str) -> Option<i32> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.trim().parse::<i32>().ok())
        .filter(|id| *id > 0)
}

fn query_text<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

/// A school's own bookings, by date; for staff, every booking, by date, narrowed by
/// programme, event, state and school (`?programme_id=&event_id=&status=&school=`).
pub async fn list(
    State(app): State<AppState>,
    ctx: Ctx,
    Booker(user): Booker,
    Query(q): Query<ListQuery>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let event_id = query_id(&pairs, "event_id");
    let status = BookingStatus::parse(query_text(&pairs, "status"));
    let title = match (user.role, event_id) {
        (_, Some(_)) => "Bookings of one event",
        (Role::School, None) => "Our bookings",
        _ => "All bookings",
    };
    let mut filter = BookingFilter {
        event_id,
        status,
        by_date: true,
        ..BookingFilter::default()
    };
    // The filter as chosen, kept in the paging links.
    let mut kept: Vec<(&str, String)> = Vec::new();
    if let Some(e) = event_id {
        kept.push(("event_id", e.to_string()));
    }
    if let Some(s) = status {
        kept.push(("status", s.as_str().to_string()));
    }
    let filters = if user.role.is_staff() {
        let programme_id = query_id(&pairs, "programme_id");
        let school = query_text(&pairs, "school").to_string();
        let typed = school.clone();
        let (choices, picked) = app
            .db(move |c| {
                Ok((
                    crate::domain::programmes::choices(c)?,
                    crate::domain::schools::resolve(c, &typed)?,
                ))
            })
            .await?;
        filter.programme_id = programme_id;
        let school_error = match picked {
            Ok(found) => {
                filter.school_id = found;
                None
            }
            Err(why) => {
                // Nothing matches a school the list cannot name.
                filter.school_id = Some(-1);
                Some(crate::web::forms::sentence(&format!("That {why}")))
            }
        };
        if let Some(p) = programme_id {
            kept.push(("programme_id", p.to_string()));
        }
        if !school.is_empty() {
            kept.push(("school", school.clone()));
        }
        let any =
            event_id.is_some() || status.is_some() || programme_id.is_some() || !school.is_empty();
        Some(Filters {
            programmes: choices
                .into_iter()
                .map(|(id, label)| Choice {
                    value: id.to_string(),
                    label,
                    selected: programme_id == Some(id),
                })
                .collect(),
            states: BookingStatus::ALL
                .iter()
                .map(|s| Choice {
                    value: s.as_str().to_string(),
                    label: s.to_string(),
                    selected: status == Some(*s),
                })
                .collect(),
            school,
            school_error,
            event_id,
            any,
        })
    } else {
        None
    };
    let mut keep = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    if !keep.is_empty() {
        keep.push('&');
    }
    let empty = match &filters {
        Some(f) if f.any => "No bookings match these filters.",
        _ => "No bookings yet. See What's on to book places.",
    };
    bookings_page(
        &app,
        Vec::new(),
        ctx.titled(title),
        &user,
        q,
        (filter, filters, keep),
        empty,
    )
    .await
}

/// Requests waiting for the lead, across programmes, soonest first.
pub async fn requests(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let filter = BookingFilter {
        status: Some(BookingStatus::Requested),
        by_date: true,
        ..Default::default()
    };
    let params = crate::domain::list::ListQuery::default().params();
    let tz = app.config.time_zone;
    let accounts = app
        .db(move |c| {
            crate::domain::school_requests::list(
                c,
                &params,
                Some(crate::domain::school_requests::RequestStatus::Waiting),
            )
        })
        .await?
        .items
        .into_iter()
        .map(|r| AccountRequest {
            id: r.id,
            school: match r.school_urn {
                Some(urn) => format!("{} (URN {urn})", r.school_name),
                None => r.school_name,
            },
            name: r.name,
            email: r.email,
            asked: crate::domain::local_time(r.created_at, tz, "%-d %b %Y, %H:%M"),
        })
        .collect();
    bookings_page(
        &app,
        accounts,
        ctx.titled("Requests waiting"),
        &user,
        q,
        (filter, None, String::new()),
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
