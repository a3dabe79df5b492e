//! What follows for bookings when places free, an event is cancelled or moved, or time
//! passes: the waiting list moves up, bookings are cancelled with their event, schools are
//! told of moves, reminders go out once. These run inside the caller's transaction and
//! return the notices they cause.

use chrono::Duration;
use diesel::prelude::*;

use crate::app::now;
use crate::db::schema::{bookings, events, tour_slots};
use crate::db::AnyConnection;
use crate::domain::input::TextEnum;
use crate::domain::schedule::bookings::{live_bookings, load, set_status, Tell};
use crate::domain::schedule::notices::{self, Notice, Step};
use crate::domain::schedule::{events as event_domain, occupancy};
use crate::domain::types::{BookingStatus, EventStatus};
use crate::domain::Actor;
use crate::error::{AppError, AppResult};

/// Moves waiting requests up, in arrival order, while their places fit. Runs inside the
/// caller's transaction.
pub(crate) fn promote(conn: &mut AnyConnection, event_id: i32) -> AppResult<Vec<Notice>> {
    let waiting: Vec<i32> = bookings::table
        .filter(bookings::event_id.eq(event_id))
        .filter(bookings::status.eq(BookingStatus::Waitlisted.as_str()))
        .order((bookings::created_at.asc(), bookings::id.asc()))
        .select(bookings::id)
        .load(conn)?;
    let mut told = Vec::new();
    for id in waiting {
        let b = load(conn, id)?;
        if occupancy::take_places(conn, event_id, b.places)? {
            set_status(
                conn,
                None,
                &b,
                BookingStatus::Confirmed,
                "A place freed up.",
            )?;
            told.push(notices::booking(id, Step::MovedUp));
        }
    }
    Ok(told)
}

/// An event was cancelled: its live bookings are cancelled too and their places released.
/// Runs inside the cancellation's transaction.
pub(crate) fn follow_cancelled_event(
    conn: &mut AnyConnection,
    actor: &Actor,
    event_id: i32,
) -> AppResult<Vec<Notice>> {
    let mut told = Vec::new();
    for id in live_bookings(conn, event_id)? {
        let b = load(conn, id)?;
        set_status(
            conn,
            Some(actor),
            &b,
            BookingStatus::Cancelled,
            "The event was cancelled.",
        )?;
        if b.status == BookingStatus::Confirmed {
            occupancy::release_places(conn, event_id, b.places)?;
        }
        told.push(notices::booking(id, Step::EventCancelled));
    }
    Ok(told)
}

/// An event moved: each school with a live booking, and the school it is held at, must
/// be told.
pub(crate) fn moved(
    conn: &mut AnyConnection,
    event: &event_domain::Event,
) -> AppResult<Vec<Notice>> {
    let mut told: Vec<Notice> = live_bookings(conn, event.id)?
        .into_iter()
        .map(|id| notices::booking(id, Step::EventMoved))
        .collect();
    if event.school_id.is_some() {
        told.push(Notice::VisitMoved { event_id: event.id });
    }
    Ok(told)
}

/// A live stream's joining link changed: each school with a confirmed booking is told
/// (once per change), if the stream is still to come.
pub(crate) fn joining_changed(
    conn: &mut AnyConnection,
    event: &event_domain::Event,
) -> AppResult<Vec<Notice>> {
    if event.ends_at.naive_utc() <= now() {
        return Ok(Vec::new());
    }
    Ok(bookings::table
        .filter(bookings::event_id.eq(event.id))
        .filter(bookings::status.eq(BookingStatus::Confirmed.as_str()))
        .order(bookings::id.asc())
        .select(bookings::id)
        .load::<i32>(conn)?
        .into_iter()
        .map(|id| notices::booking(id, Step::Joining))
        .collect())
}

/// Queues one "starting soon" letter, with how to join, for each confirmed booking of a
/// live stream that starts within `within`; each booking is told once, whichever process
/// gets there first.
pub(crate) fn queue_starting_soon(
    conn: &mut AnyConnection,
    within: Duration,
    tell: Tell<'_>,
) -> AppResult<usize> {
    let (from, until) = (now(), now() + within);
    let due: Vec<i32> = bookings::table
        .inner_join(events::table)
        .filter(bookings::status.eq(BookingStatus::Confirmed.as_str()))
        .filter(bookings::starting_soon_at.is_null())
        .filter(events::kind.eq(crate::domain::types::EventKind::LiveStream.as_str()))
        .filter(events::joining_url.is_not_null())
        .filter(events::status.ne(EventStatus::Cancelled.as_str()))
        .filter(events::starts_at.gt(from))
        .filter(events::starts_at.le(until))
        .select(bookings::id)
        .load(conn)?;
    let mut queued = 0;
    for id in due {
        let sent = crate::db::write(conn, |conn| {
            let claimed = diesel::update(
                bookings::table
                    .find(id)
                    .filter(bookings::starting_soon_at.is_null()),
            )
            .set(bookings::starting_soon_at.eq(now()))
            .execute(conn)?;
            if claimed == 1 {
                tell(conn, &[notices::booking(id, Step::StartingSoon)])?;
            }
            Ok::<_, AppError>(claimed == 1)
        })?;
        queued += usize::from(sent);
    }
    Ok(queued)
}

/// Queues one reminder for each confirmed booking whose event or visit starts within
/// `days`; each booking is reminded once, whichever process gets there first.
pub(crate) fn queue_reminders(
    conn: &mut AnyConnection,
    days: i64,
    tell: Tell<'_>,
) -> AppResult<usize> {
    let (from, until) = (now(), now() + Duration::days(days));
    let mut due: Vec<i32> = bookings::table
        .inner_join(events::table)
        .filter(bookings::status.eq(BookingStatus::Confirmed.as_str()))
        .filter(bookings::reminded_at.is_null())
        .filter(events::status.ne(EventStatus::Cancelled.as_str()))
        .filter(events::starts_at.gt(from))
        .filter(events::starts_at.le(until))
        .select(bookings::id)
        .load(conn)?;
    due.extend(
        bookings::table
            .inner_join(tour_slots::table)
            .filter(bookings::status.eq(BookingStatus::Confirmed.as_str()))
            .filter(bookings::reminded_at.is_null())
            .filter(tour_slots::starts_at.gt(from))
            .filter(tour_slots::starts_at.le(until))
            .select(bookings::id)
            .load::<i32>(conn)?,
    );
    let mut queued = 0;
    for id in due {
        let sent = crate::db::write(conn, |conn| {
            let claimed = diesel::update(
                bookings::table
                    .find(id)
                    .filter(bookings::reminded_at.is_null()),
            )
            .set(bookings::reminded_at.eq(now()))
            .execute(conn)?;
            if claimed == 1 {
                tell(conn, &[notices::booking(id, Step::Reminder)])?;
            }
            Ok::<_, AppError>(claimed == 1)
        })?;
        queued += usize::from(sent);
    }
    Ok(queued)
}
