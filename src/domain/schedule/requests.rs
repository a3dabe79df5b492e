//! What schools ask for and the answers: places at an event (confirmed at once while they
//! last, else waiting in arrival order), visits on tour dates, confirm, decline, cancel.
//! Each runs in one transaction that starts with a write (so SQLite takes its write lock
//! first) and hands the notices it causes to `tell` inside it.

use chrono::Duration;
use diesel::prelude::*;

use crate::app::{now, Turn};
use crate::db::schema::{bookings, events};
use crate::db::AnyConnection;
use crate::domain::input::TextEnum;
use crate::domain::schedule::bookings::{
    archived_programme, check_school, get, insert, inserted, load, programme_of,
    refuse_archived_programme, school_for, set_status, starts_at, touch, Booking, BookingInput,
    Target, Tell,
};
use crate::domain::schedule::consequences::promote;
use crate::domain::schedule::notices::{self, Notice, Step};
use crate::domain::schedule::{events as event_domain, occupancy, visits};
use crate::domain::types::{BookingStatus, EventStatus, Role, SlotStatus};
use crate::domain::{audit, Actor};
use crate::error::{AppError, AppResult};

/// Requests places at an event: confirmed at once while places remain (unless the event
/// needs approval), else on the waiting list.
pub(crate) fn book_event(
    conn: &mut AnyConnection,
    actor: &Actor,
    event_id: i32,
    input: BookingInput,
    tell: Tell<'_>,
    turn: Turn,
) -> AppResult<Booking> {
    let school_id = school_for(actor, input.school_id)?;
    let places = input.pupils + input.staff;
    let b = crate::db::write(conn, |conn| {
        // A school's archiving does not wait for the programme's hold, so it is checked
        // before taking it, leaving less for other bookings to wait on.
        let school = check_school(conn, school_id)?;
        // The event is read under its programme's hold: it may have been cancelled or
        // changed since the request began, and its answer must stay true until this commits.
        let archived = occupancy::hold_event_programme(conn, event_id)?;
        let event = event_domain::get(conn, event_id)?;
        refuse_unbookable(&event, actor)?;
        if archived {
            return Err(archived_programme());
        }
        if let Some(capacity) = event.capacity {
            if places > capacity {
                return Err(AppError::field(
                    "pupils",
                    format!("this event has {capacity} places in all"),
                ));
            }
        }
        let status = if event.needs_approval {
            BookingStatus::Requested
        } else if occupancy::take_places(conn, event_id, places)? {
            BookingStatus::Confirmed
        } else {
            BookingStatus::Waitlisted
        };
        // A school's second live booking of the event is refused by the unique index
        // (`bookings_one_live_per_school_event`), not looked for first: one statement fewer
        // under the hold for every booking. The refusal rolls back the places taken above.
        let row = match insert(
            conn,
            actor,
            Target::Event(event_id),
            school_id,
            status,
            &input,
        ) {
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                info,
            )) if is_second_booking(info.as_ref()) => {
                return Err(second_booking(
                    &school,
                    Target::Event(event_id),
                    event.kind.label(),
                ))
            }
            other => other?,
        };
        let id = row.id;
        audit::record(
            conn,
            Some(actor.user_id),
            "booking",
            id,
            "create",
            None,
            Some(
                &serde_json::json!({"status": status, "event_id": event_id, "school_id": school_id, "places": places}),
            ),
        )?;
        let step = match status {
            BookingStatus::Confirmed => Step::Confirmed,
            BookingStatus::Waitlisted => Step::Waitlisted,
            _ => Step::Received,
        };
        let mut told = vec![notices::booking(id, step)];
        if status == BookingStatus::Requested {
            told.push(Notice::Waiting { booking_id: id });
        }
        tell(conn, &told)?;
        inserted(conn, row, school)
    });
    drop(turn);
    b
}

/// Whether a unique violation is the one of a school's second live booking of an event:
/// named by PostgreSQL, by its columns on SQLite. Any other is a fault, not a refusal.
fn is_second_booking(info: &dyn diesel::result::DatabaseErrorInformation) -> bool {
    info.constraint_name() == Some("bookings_one_live_per_school_event")
        || info
            .message()
            .contains("bookings.event_id, bookings.school_id")
}

/// Refuses places at an event that is not open, has started, or is at a school (a
/// visit is asked for on a tour date); a school is not told a draft exists.
fn refuse_unbookable(event: &event_domain::Event, actor: &Actor) -> AppResult<()> {
    if event.status == EventStatus::Draft && actor.role == Role::School {
        return Err(AppError::NotFound);
    }
    let refusal = match event.status {
        s if s.takes_bookings() => None,
        EventStatus::Draft => Some("this event is a draft and not open for booking"),
        EventStatus::Cancelled => Some("this event was cancelled"),
        _ => Some("this event has already taken place"),
    };
    if let Some(why) = refusal {
        return Err(AppError::Conflict(why.into()));
    }
    if event.starts_at.naive_utc() <= now() {
        return Err(AppError::Conflict("this event has already started".into()));
    }
    if event.school_id.is_some() {
        return Err(AppError::Conflict(
            "an in-school event is booked by requesting a visit on a tour date".into(),
        ));
    }
    Ok(())
}

/// Refuses a school's second live request for one tour date, naming the school (the
/// programme is held, so the answer stays true; a unique index backs the rule all the
/// same). A second booking of an event is left to its unique index (see `book_event`).
fn refuse_second_request(
    conn: &mut AnyConnection,
    school: &str,
    school_id: i32,
    slot_id: i32,
) -> AppResult<()> {
    let found: i64 = bookings::table
        .filter(bookings::school_id.eq(school_id))
        .filter(bookings::slot_id.eq(slot_id))
        .filter(crate::any_of!(
            bookings::status,
            [
                BookingStatus::Requested.as_str(),
                BookingStatus::Confirmed.as_str(),
                BookingStatus::Waitlisted.as_str(),
            ]
        ))
        .count()
        .get_result(conn)?;
    if found == 0 {
        return Ok(());
    }
    Err(second_booking(school, Target::Visit(slot_id), "tour date"))
}

/// The refusal of a school's second live booking of one event (`what` names its kind), or
/// second request for one tour date.
fn second_booking(school: &str, target: Target, what: &str) -> AppError {
    AppError::Conflict(match target {
        Target::Event(_) => format!(
            "{school} already has a booking for this {}",
            what.to_lowercase()
        ),
        Target::Visit(_) => format!("{school} has already asked for this tour date"),
    })
}

/// Refuses to cancel a booking that is no longer live, whose event or visit has started,
/// or (for a school) that is past the cut-off before it.
fn refuse_uncancellable(
    conn: &mut AnyConnection,
    actor: &Actor,
    b: &Booking,
    cutoff: Duration,
) -> AppResult<()> {
    if !b.status.is_live() {
        return Err(AppError::Conflict(format!(
            "a {} booking cannot be cancelled",
            b.status.as_str()
        )));
    }
    let starts = starts_at(conn, b.target)?;
    if starts <= now() {
        return Err(AppError::Conflict(
            "it has already started, so it can no longer be cancelled".into(),
        ));
    }
    if !b
        .status
        .can_cancel(actor.role.is_staff(), starts, now(), cutoff)
    {
        return Err(AppError::Conflict(format!("bookings can be cancelled online until {} days before the event; please contact the company", cutoff.num_days())));
    }
    Ok(())
}

/// A school's request for a visit on a tour date: always waits for the lead.
pub(crate) fn request_visit(
    conn: &mut AnyConnection,
    actor: &Actor,
    slot_id: i32,
    input: BookingInput,
    tell: Tell<'_>,
) -> AppResult<Booking> {
    let school_id = school_for(actor, input.school_id)?;
    let programme_id = visits::get(conn, slot_id)?.programme_id;
    crate::db::write(conn, |conn| {
        occupancy::hold(conn, programme_id)?;
        let school = check_school(conn, school_id)?;
        let slot = visits::get(conn, slot_id)?;
        if slot.status != SlotStatus::Open {
            return Err(AppError::Conflict(
                "this tour date is no longer free".into(),
            ));
        }
        if slot.starts_at <= now() {
            return Err(AppError::Conflict("this tour date has passed".into()));
        }
        refuse_archived_programme(conn, slot.programme_id)?;
        refuse_second_request(conn, &school, school_id, slot_id)?;
        let id = insert(
            conn,
            actor,
            Target::Visit(slot_id),
            school_id,
            BookingStatus::Requested,
            &input,
        )?
        .id;
        audit::record(
            conn,
            Some(actor.user_id),
            "booking",
            id,
            "create",
            None,
            Some(
                &serde_json::json!({"status": "requested", "slot_id": slot_id, "school_id": school_id}),
            ),
        )?;
        tell(
            conn,
            &[
                notices::booking(id, Step::Received),
                Notice::Waiting { booking_id: id },
            ],
        )?;
        load(conn, id)
    })
}

/// Confirms a requested or waiting booking: a visit takes its tour date (other requests
/// for it are declined); places are taken if they fit, else the request waits.
pub(crate) fn confirm(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    message: &str,
    tell: Tell<'_>,
) -> AppResult<Booking> {
    let programme = programme_of(conn, id)?;
    crate::db::write(conn, |conn| {
        occupancy::hold(conn, programme)?;
        let b = touch(conn, id)?;
        if b.status == BookingStatus::Confirmed {
            return Ok(b);
        }
        if !b.status.can_confirm() {
            return Err(AppError::Conflict(format!(
                "a {} booking cannot be confirmed",
                b.status.as_str()
            )));
        }
        let (done, told) = match b.target {
            Target::Visit(slot) => confirm_visit(conn, actor, &b, slot, message)?,
            Target::Event(event_id) => {
                if occupancy::take_places(conn, event_id, b.places)? {
                    let done =
                        set_status(conn, Some(actor), &b, BookingStatus::Confirmed, message)?;
                    (done, vec![notices::booking(id, Step::Confirmed)])
                } else if b.status == BookingStatus::Requested {
                    let done =
                        set_status(conn, Some(actor), &b, BookingStatus::Waitlisted, message)?;
                    (done, vec![notices::booking(id, Step::Waitlisted)])
                } else {
                    return Err(AppError::Conflict(
                        "no places are free; the booking stays on the waiting list".into(),
                    ));
                }
            }
        };
        tell(conn, &told)?;
        Ok(done)
    })
}

/// A visit is confirmed: its tour date is booked (with a performance and a workshop at the
/// school) and the other schools that asked for it are declined.
fn confirm_visit(
    conn: &mut AnyConnection,
    actor: &Actor,
    b: &Booking,
    slot_id: i32,
    message: &str,
) -> AppResult<notices::Outcome<Booking>> {
    if b.status != BookingStatus::Requested {
        return Err(AppError::Conflict(
            "only a requested visit can be confirmed".into(),
        ));
    }
    visits::book(conn, actor, slot_id, b.school_id, b.places)?;
    let done = set_status(conn, Some(actor), b, BookingStatus::Confirmed, message)?;
    let mut told = vec![notices::booking(b.id, Step::Confirmed)];
    let others: Vec<i32> = bookings::table
        .filter(bookings::slot_id.eq(slot_id))
        .filter(bookings::id.ne(b.id))
        .filter(bookings::status.eq(BookingStatus::Requested.as_str()))
        .select(bookings::id)
        .load(conn)?;
    for other in others {
        let o = load(conn, other)?;
        set_status(
            conn,
            Some(actor),
            &o,
            BookingStatus::Declined,
            "Another school was given this date; please choose another.",
        )?;
        told.push(Notice::DateTaken { booking_id: other });
    }
    Ok((done, told))
}

pub(crate) fn decline(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    message: &str,
    tell: Tell<'_>,
) -> AppResult<Booking> {
    let programme = programme_of(conn, id)?;
    crate::db::write(conn, |conn| {
        occupancy::hold(conn, programme)?;
        let b = touch(conn, id)?;
        if b.status == BookingStatus::Declined {
            return Ok(b);
        }
        if !b.status.can_decline() {
            return Err(AppError::Conflict(format!(
                "a {} booking cannot be declined; cancel it instead",
                b.status.as_str()
            )));
        }
        let done = set_status(conn, Some(actor), &b, BookingStatus::Declined, message)?;
        tell(conn, &[notices::booking(id, Step::Declined)])?;
        Ok(done)
    })
}

/// Cancels a booking: staff at any time, a school its own until `cutoff` before it starts
/// (`BookingStatus::can_cancel`). Places freed go to the first waiting requests that fit;
/// a visit's tour date is free again.
pub(crate) fn cancel(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    message: &str,
    cutoff: Duration,
    tell: Tell<'_>,
) -> AppResult<Booking> {
    // Who may see the booking is settled first (a school: only its own).
    get(conn, actor, id)?;
    let programme = programme_of(conn, id)?;
    crate::db::write(conn, |conn| {
        // Every rule is read under the programme's hold: the event may have been moved
        // into the cut-off, or the booking answered, since the request began.
        occupancy::hold(conn, programme)?;
        let b = touch(conn, id)?;
        refuse_uncancellable(conn, actor, &b, cutoff)?;
        let done = set_status(conn, Some(actor), &b, BookingStatus::Cancelled, message)?;
        let mut told = vec![notices::booking(id, Step::Cancelled)];
        if b.status == BookingStatus::Confirmed {
            match b.target {
                Target::Event(event_id) => {
                    occupancy::release_places(conn, event_id, b.places)?;
                    told.extend(promote(conn, event_id)?);
                }
                Target::Visit(slot) => visits::release(conn, actor, slot)?,
            }
        }
        tell(conn, &told)?;
        Ok(done)
    })
}

/// A visit that took place before it was recorded here (the demo's history): its tour
/// date booked by the school, the confirmed booking, and the performance and workshop at
/// the school, as confirming a request would have left them. Returns the booking and the
/// ids of its events, the performance first. Nobody is told: it is history.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_held_visit(
    conn: &mut AnyConnection,
    actor: &Actor,
    tz: chrono_tz::Tz,
    programme_id: i32,
    school_id: i32,
    day: chrono::NaiveDate,
    session: visits::Session,
    input: &BookingInput,
) -> AppResult<(Booking, Vec<i32>)> {
    crate::db::write(conn, |conn| {
        occupancy::hold(conn, programme_id)?;
        check_school(conn, school_id)?;
        let slot = visits::insert(conn, actor, programme_id, day, session, tz)?;
        visits::book(conn, actor, slot.id, school_id, input.pupils + input.staff)?;
        let id = insert(
            conn,
            actor,
            Target::Visit(slot.id),
            school_id,
            BookingStatus::Confirmed,
            input,
        )?
        .id;
        audit::record(
            conn,
            Some(actor.user_id),
            "booking",
            id,
            "create",
            None,
            Some(
                &serde_json::json!({"status": "confirmed", "slot_id": slot.id, "school_id": school_id}),
            ),
        )?;
        let held: Vec<i32> = events::table
            .filter(events::slot_id.eq(slot.id))
            .order(events::starts_at.asc())
            .select(events::id)
            .load(conn)?;
        Ok((load(conn, id)?, held))
    })
}
