//! The scheduling core: what a company offers (events, tour dates), what schools ask for
//! (bookings), and what people are told when these change. Dependencies point one way:
//! `occupancy` (clashes and places) ← `events` ← `visits` ← `bookings` (the record) ←
//! `consequences` ← `requests` ← `letters`, with `notices` the plain data they pass. The operations here are what pages and the API
//! call: each runs one transition in one transaction and queues the letters it causes.

pub mod bookings;
pub mod consequences;
mod event_changes;
pub mod event_input;
pub mod events;
pub mod letters;
pub mod notices;
pub mod occupancy;
pub mod offers;
pub mod public;
pub mod requests;
pub mod visits;

use crate::db::AnyConnection;
use crate::domain::input::Input;
use crate::domain::types::{BookingId, EventId, SlotId};
use crate::domain::{Actor, Rules};
use crate::error::AppResult;
use bookings::{Booking, BookingInput};
use events::Event;
use notices::Notice;

/// Words the notices in the install's zone and queues them (inside the caller's
/// transaction).
fn teller(rules: &Rules) -> impl Fn(&mut AnyConnection, &[Notice]) -> AppResult<()> + '_ {
    move |conn, told| letters::send(conn, rules.time_zone, told).map(|_| ())
}

pub fn book_event(
    conn: &mut AnyConnection,
    actor: &Actor,
    rules: &Rules,
    event_id: EventId,
    input: BookingInput,
    turn: crate::app::Turn,
) -> AppResult<Booking> {
    requests::book_event(conn, actor, event_id.0, input, &teller(rules), turn)
}

pub fn request_visit(
    conn: &mut AnyConnection,
    actor: &Actor,
    rules: &Rules,
    slot_id: SlotId,
    input: BookingInput,
) -> AppResult<Booking> {
    requests::request_visit(conn, actor, slot_id.0, input, &teller(rules))
}

pub fn confirm(
    conn: &mut AnyConnection,
    actor: &Actor,
    rules: &Rules,
    id: BookingId,
    message: &str,
) -> AppResult<Booking> {
    requests::confirm(conn, actor, id.0, message, &teller(rules))
}

pub fn decline(
    conn: &mut AnyConnection,
    actor: &Actor,
    rules: &Rules,
    id: BookingId,
    message: &str,
) -> AppResult<Booking> {
    requests::decline(conn, actor, id.0, message, &teller(rules))
}

pub fn cancel(
    conn: &mut AnyConnection,
    actor: &Actor,
    rules: &Rules,
    id: BookingId,
    message: &str,
) -> AppResult<Booking> {
    requests::cancel(
        conn,
        actor,
        id.0,
        message,
        rules.cancel_cutoff,
        &teller(rules),
    )
}

/// A visit that took place before it was recorded (the demo's history); see
/// [`requests::record_held_visit`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_held_visit(
    conn: &mut AnyConnection,
    actor: &Actor,
    rules: &Rules,
    programme_id: i32,
    school_id: i32,
    day: chrono::NaiveDate,
    session: visits::Session,
    input: &BookingInput,
) -> AppResult<(Booking, Vec<i32>)> {
    requests::record_held_visit(
        conn,
        actor,
        rules.time_zone,
        programme_id,
        school_id,
        day,
        session,
        input,
    )
}

/// Queues the "starting soon" letters of live streams now due (`Rules::starting_soon`
/// ahead).
pub fn queue_starting_soon(conn: &mut AnyConnection, rules: &Rules) -> AppResult<usize> {
    consequences::queue_starting_soon(conn, rules.starting_soon, &teller(rules))
}

/// Queues the reminders now due (`Rules::reminder_days` ahead).
pub fn queue_reminders(conn: &mut AnyConnection, rules: &Rules) -> AppResult<usize> {
    consequences::queue_reminders(conn, rules.reminder_days, &teller(rules))
}

/// Creates an event unless the company is busy then.
pub fn create_event(
    conn: &mut AnyConnection,
    actor: &Actor,
    rules: &Rules,
    programme_id: i32,
    input: events::EventInput,
) -> AppResult<Event> {
    events::create(conn, actor, rules.time_zone, programme_id, input)
}

/// Marks an event completed and asks each school with a confirmed booking of it, once
/// ever, how many came and what they thought (`base_url` makes the letters' links).
pub fn complete_event(
    conn: &mut AnyConnection,
    actor: &Actor,
    rules: &Rules,
    base_url: &str,
    id: EventId,
) -> AppResult<Event> {
    crate::db::write(conn, |conn| {
        let done = events::complete(conn, actor, id.0)?;
        crate::domain::answers::ask(conn, rules.time_zone, base_url, id.0)?;
        Ok(done)
    })
}

/// Cancels an event and, with it, its bookings (the schools are told).
pub fn cancel_event(
    conn: &mut AnyConnection,
    actor: &Actor,
    rules: &Rules,
    id: EventId,
) -> AppResult<Event> {
    let id = id.0;
    let programme = events::get(conn, id)?.programme_id;
    crate::db::write(conn, |conn| {
        occupancy::hold(conn, programme)?;
        events::touch(conn, id)?;
        let Some(done) = events::cancel_row(conn, actor, id)? else {
            return events::get(conn, id);
        };
        let told = consequences::follow_cancelled_event(conn, actor, id)?;
        teller(rules)(conn, &told)?;
        Ok(done)
    })
}

/// Moves an event or changes its capacity: the schools booked are told of a move, and
/// places freed go to the waiting list. `local` reads offset-less times (a form's) in that
/// zone; the API sends offsets.
pub fn change_event(
    conn: &mut AnyConnection,
    actor: &Actor,
    rules: &Rules,
    id: EventId,
    input: &Input,
    local: Option<chrono_tz::Tz>,
) -> AppResult<Event> {
    let id = id.0;
    let programme = events::get(conn, id)?.programme_id;
    crate::db::write(conn, |conn| {
        occupancy::hold(conn, programme)?;
        events::touch(conn, id)?;
        let changed = event_changes::change_row(conn, actor, rules.time_zone, id, input, local)?;
        let mut told = if changed.moved {
            consequences::moved(conn, &changed.event)?
        } else {
            Vec::new()
        };
        // A move's letter already says how to join: one letter for one change.
        if changed.joining_changed && !changed.moved {
            told.extend(consequences::joining_changed(conn, &changed.event)?);
        }
        told.extend(consequences::promote(conn, id)?);
        teller(rules)(conn, &told)?;
        // The answer is the event after the waiting list moved up.
        events::get(conn, id)
    })
}
