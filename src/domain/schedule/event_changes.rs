//! Changing an event: a move and/or a new capacity, checked against the places already
//! confirmed and against everything else of the programme (see `occupancy`). The caller
//! (`schedule::change_event`) holds the transaction and tells the booked schools.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::events;
use crate::db::AnyConnection;
use crate::domain::input::{Input, TextEnum};
use crate::domain::schedule::event_input::{joining_fields, within_venue, Joining};
use crate::domain::schedule::events::{get, Event};
use crate::domain::schedule::occupancy::{self, Except};
use crate::domain::types::EventKind;
use crate::domain::{audit, to_json, Actor};
use crate::error::{AppError, AppResult};

/// What a change did.
pub struct Changed {
    pub event: Event,
    /// The time moved (a new SEQUENCE; booked schools must be told).
    pub moved: bool,
    /// A live stream's joining link or instructions changed (booked schools are told).
    pub joining_changed: bool,
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
    let (starts_at, ends_at, capacity, joining) = parse_change(input, local)?;
    let (starts_at, ends_at) = match (starts_at, ends_at) {
        (Some(s), Some(e)) => (s, e),
        _ => (before.starts_at.naive_utc(), before.ends_at.naive_utc()),
    };
    let joining_before = super::events::joining_of(conn, id)?;
    let joining_after = match joining {
        None => joining_before.clone(),
        Some(_) if before.kind != EventKind::LiveStream => {
            return Err(AppError::field(
                if input.has("joining_url") {
                    "joining_url"
                } else {
                    "joining_notes"
                },
                "only a live stream has a joining link",
            ))
        }
        Some(given) => Joining {
            url: if input.has("joining_url") {
                given.url
            } else {
                joining_before.url.clone()
            },
            notes: if input.has("joining_notes") {
                given.notes
            } else {
                joining_before.notes.clone()
            },
        },
    };
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
    let joining_changed = joining_after != joining_before;
    diesel::update(events::table.find(id))
        .set((
            events::starts_at.eq(starts_at),
            events::ends_at.eq(ends_at),
            events::capacity.eq(capacity),
            // A calendar entry that changed (its time, or a stream's link) says so.
            events::sequence.eq(before.sequence + i32::from(moved || joining_changed)),
            events::joining_url.eq(&joining_after.url),
            events::joining_notes.eq(&joining_after.notes),
        ))
        .execute(conn)?;
    if moved {
        // A stream moved later is told "starting soon" again before its new time.
        diesel::update(
            crate::db::schema::bookings::table.filter(crate::db::schema::bookings::event_id.eq(id)),
        )
        .set(crate::db::schema::bookings::starting_soon_at.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    }
    let after = get(conn, id)?;
    audit::record(
        conn,
        Some(actor.user_id),
        "event",
        id,
        "change",
        Some(&with_joining(
            to_json(&before),
            &joining_before,
            joining_changed,
        )),
        Some(&with_joining(
            to_json(&after),
            &joining_after,
            joining_changed,
        )),
    )?;
    Ok(Changed {
        event: after,
        moved,
        joining_changed,
    })
}

/// The audit's record of an event, with its joining link when that changed (the link is
/// staff's to read, and the audit log is an admin's).
fn with_joining(
    mut record: serde_json::Value,
    joining: &Joining,
    changed: bool,
) -> serde_json::Value {
    if changed {
        if let Some(map) = record.as_object_mut() {
            map.insert("joining_url".into(), serde_json::json!(joining.url));
            map.insert("joining_notes".into(), serde_json::json!(joining.notes));
        }
    }
    record
}

/// What a change asks for, read: new times (both, or neither to keep them; the end after
/// the start), a capacity, and a joining link or instructions if given.
#[allow(clippy::type_complexity)]
fn parse_change(
    input: &Input,
    local: Option<chrono_tz::Tz>,
) -> AppResult<(
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<i32>,
    Option<Joining>,
)> {
    let moving = input.has("starts_at") || input.has("ends_at");
    let mut v = input.validator();
    if ![
        "starts_at",
        "ends_at",
        "capacity",
        "joining_url",
        "joining_notes",
    ]
    .iter()
    .any(|k| input.has(k))
    {
        v.error(
            "starts_at",
            "give what changes: starts_at and ends_at, capacity, joining_url or joining_notes",
        );
    }
    let (starts_at, ends_at) = if moving {
        (v.datetime("starts_at", local), v.datetime("ends_at", local))
    } else {
        (None, None)
    };
    let capacity = v.int_opt("capacity", 0, 100_000);
    let joining = if input.has("joining_url") || input.has("joining_notes") {
        Some(joining_fields(&mut v))
    } else {
        None
    };
    if let (Some(s), Some(e)) = (starts_at, ends_at) {
        if e <= s {
            v.error("ends_at", "must be after the start");
        }
    }
    v.finish()?;
    Ok((starts_at, ends_at, capacity, joining))
}
