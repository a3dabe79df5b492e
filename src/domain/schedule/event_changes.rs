//! Changing an event: a move and/or a new capacity, checked against the places already
//! confirmed and against everything else of the programme (see `occupancy`). The caller
//! (`schedule::change_event`) holds the transaction and tells the booked schools.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::events;
use crate::db::AnyConnection;
use crate::domain::input::{Input, TextEnum};
use crate::domain::schedule::event_input::within_venue;
use crate::domain::schedule::events::{get, Event};
use crate::domain::schedule::occupancy::{self, Except};
use crate::domain::{audit, to_json, Actor};
use crate::error::{AppError, AppResult};

/// What a change did.
pub struct Changed {
    pub event: Event,
    /// The time moved (a new SEQUENCE; booked schools must be told).
    pub moved: bool,
}

/// Moves an event and/or changes its capacity (never below the places confirmed), unless
/// the new time clashes; a move keeps the calendar entry's UID and raises its SEQUENCE.
/// The caller holds the transaction; `schedule::change_event` tells the schools and moves
/// the waiting list up.
pub(crate) fn change_row(
    conn: &mut AnyConnection,
    actor: &Actor,
    tz: chrono_tz::Tz,
    id: i32,
    input: &Input,
    local: Option<chrono_tz::Tz>,
) -> AppResult<Changed> {
    let before = get(conn, id)?;
    if !before.status.can_change() {
        return Err(AppError::Conflict(format!(
            "a {} event cannot be changed",
            before.status.as_str()
        )));
    }
    let (starts_at, ends_at, capacity) = parse_change(input, local)?;
    let capacity = if input.has("capacity") {
        capacity
    } else {
        before.capacity
    };
    // A venue's limit applies to a capacity being set, not to one left as it was (a
    // move is not refused because the venue has since become smaller).
    let capacity = match before.venue_id {
        Some(venue) if input.has("capacity") => within_venue(conn, venue, capacity)?,
        _ => capacity,
    };
    if capacity.is_some_and(|c| c < before.places_confirmed) {
        return Err(AppError::field(
            "capacity",
            format!("{} places are already confirmed", before.places_confirmed),
        ));
    }
    let day = |t: NaiveDateTime| t.and_utc().with_timezone(&tz).date_naive();
    occupancy::within_dates(conn, before.programme_id, day(starts_at), "starts_at")?;
    occupancy::within_dates(conn, before.programme_id, day(ends_at), "ends_at")?;
    let slot: Option<i32> = events::table.find(id).select(events::slot_id).first(conn)?;
    occupancy::ensure_free(
        conn,
        before.programme_id,
        starts_at,
        ends_at,
        Except {
            slot,
            event: Some(id),
        },
        tz,
    )?;
    let moved = starts_at != before.starts_at.naive_utc() || ends_at != before.ends_at.naive_utc();
    diesel::update(events::table.find(id))
        .set((
            events::starts_at.eq(starts_at),
            events::ends_at.eq(ends_at),
            events::capacity.eq(capacity),
            events::sequence.eq(before.sequence + i32::from(moved)),
        ))
        .execute(conn)?;
    let after = get(conn, id)?;
    audit::record(
        conn,
        Some(actor.user_id),
        "event",
        id,
        "change",
        Some(&to_json(&before)),
        Some(&to_json(&after)),
    )?;
    Ok(Changed {
        event: after,
        moved,
    })
}

/// The new times and capacity of a change, read: the end after the start.
fn parse_change(
    input: &Input,
    local: Option<chrono_tz::Tz>,
) -> AppResult<(NaiveDateTime, NaiveDateTime, Option<i32>)> {
    let mut v = input.validator();
    let starts_at = v.datetime("starts_at", local);
    let ends_at = v.datetime("ends_at", local);
    let capacity = v.int_opt("capacity", 0, 100_000);
    if let (Some(s), Some(e)) = (starts_at, ends_at) {
        if e <= s {
            v.error("ends_at", "must be after the start");
        }
    }
    v.finish()?;
    Ok((
        starts_at.unwrap_or_default(),
        ends_at.unwrap_or_default(),
        capacity,
    ))
}
