//! What a school can book now: venue performances and live streams still to come, with
//! the places left.

use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{events, programmes, schools, venues};
use crate::db::AnyConnection;
use crate::domain::input::TextEnum;
use crate::domain::list::{ListParams, Page};
use crate::domain::schedule::bookings;
use crate::domain::schedule::events::{joined, view, Event, Row};
use crate::domain::schedule::visits::{self, Slot};
use crate::domain::types::{BookingStatus, EventStatus, Role};
use crate::domain::Actor;
use crate::error::{AppError, AppResult};

/// An event a school can book: its programme and the places left (None: no limit), and
/// the school's own booking of it, if it has one (then it is not offered again).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Offer {
    pub event: Event,
    pub programme_title: String,
    pub places_left: Option<i32>,
    pub yours: Option<Yours>,
}

/// A school's own live booking of an offered event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Yours {
    pub status: BookingStatus,
    pub places: i32,
}

/// A free tour date a school may ask a visit on.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TourDate {
    #[serde(flatten)]
    pub slot: Slot,
    pub programme_title: String,
}

/// What's on, for whoever asks: the events open for booking (a school's own bookings
/// marked) and the free tour dates (without those the school already asked for).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WhatsOn {
    pub events: Page<Offer>,
    pub tour_dates: Vec<TourDate>,
}

pub fn whats_on(
    conn: &mut AnyConnection,
    actor: &Actor,
    params: &ListParams,
) -> AppResult<WhatsOn> {
    let mut dates = visits::open_slots(conn, 100)?;
    let mut events = offers(conn, params)?;
    if let (Role::School, Some(school)) = (actor.role, actor.school_id) {
        let asked = bookings::requested_slots(conn, school)?;
        dates.retain(|(s, _)| !asked.contains(&s.id));
        let booked = bookings::live_by_event(conn, school)?;
        for o in &mut events.items {
            o.yours = booked
                .iter()
                .find(|(e, _, _)| *e == o.event.id)
                .map(|&(_, status, places)| Yours { status, places });
        }
    }
    Ok(WhatsOn {
        events,
        tour_dates: dates
            .into_iter()
            .map(|(slot, programme_title)| TourDate {
                slot,
                programme_title,
            })
            .collect(),
    })
}

/// Venue performances and live streams open for booking, soonest first.
pub fn offers(conn: &mut AnyConnection, params: &ListParams) -> AppResult<Page<Offer>> {
    offers_where(conn, params, None)
}

/// One event open for booking, as What's on offers it (with the school's own booking, if
/// the actor is a school); not found when it is not open for booking.
pub fn offer(conn: &mut AnyConnection, actor: &Actor, event_id: i32) -> AppResult<Offer> {
    let params = ListParams {
        page: 1,
        per_page: 1,
        q: None,
        include_archived: false,
    };
    let mut found = offers_where(conn, &params, Some(event_id))?.items;
    let mut o = found.pop().ok_or(AppError::NotFound)?;
    if let (Role::School, Some(school)) = (actor.role, actor.school_id) {
        o.yours = bookings::live_by_event(conn, school)?
            .into_iter()
            .find(|(e, _, _)| *e == event_id)
            .map(|(_, status, places)| Yours { status, places });
    }
    Ok(o)
}

/// One free tour date, as What's on offers it, and whether the actor's school has already
/// asked for it; not found when it is not free.
pub fn tour_date(
    conn: &mut AnyConnection,
    actor: &Actor,
    slot_id: i32,
) -> AppResult<(TourDate, bool)> {
    let (slot, programme_title) = visits::open_slot(conn, slot_id)?;
    let asked = match (actor.role, actor.school_id) {
        (Role::School, Some(school)) => bookings::requested_slots(conn, school)?.contains(&slot_id),
        _ => false,
    };
    Ok((
        TourDate {
            slot,
            programme_title,
        },
        asked,
    ))
}

fn offers_where(
    conn: &mut AnyConnection,
    params: &ListParams,
    only: Option<i32>,
) -> AppResult<Page<Offer>> {
    let query = || {
        let mut q = joined()
            .inner_join(programmes::table)
            .filter(crate::any_of!(
                events::status,
                [EventStatus::Open.as_str(), EventStatus::Confirmed.as_str()]
            ))
            .filter(events::school_id.is_null())
            .filter(events::starts_at.gt(now()))
            .filter(programmes::archived.eq(false))
            .into_boxed();
        if let Some(id) = only {
            q = q.filter(events::id.eq(id));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    // One query for the page: the events with their place and programme.
    let rows: Vec<(Row, Option<String>, Option<String>, String)> = query()
        .order((events::starts_at.asc(), events::id.asc()))
        .limit(params.per_page)
        .offset(params.offset())
        .select((
            Row::as_select(),
            schools::name.nullable(),
            venues::name.nullable(),
            programmes::title,
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|(row, school, venue, programme_title)| {
            let event = view((row, school, venue))?;
            let places_left = event.capacity.map(|c| (c - event.places_confirmed).max(0));
            Ok(Offer {
                event,
                programme_title,
                places_left,
                yours: None,
            })
        })
        .collect::<AppResult<_>>()?;
    Ok(Page::new(items, params, total))
}
