//! What a company's time and an event's places hold. One company is never in two places at
//! once: a programme's events and tour dates never overlap. An event's confirmed places
//! never exceed its capacity: they are taken with one conditional UPDATE. Nothing here
//! knows about bookings, mail or people; everything else in the schedule builds on it.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::app::now;
use crate::db::schema::{events, programmes, schools, tour_slots, venues};
use crate::db::AnyConnection;
use crate::domain::input::TextEnum;
use crate::domain::types::{EventKind, EventStatus, SlotStatus};
use crate::error::{AppError, AppResult};

/// What already occupies the company at a time.
#[derive(Debug, Clone, PartialEq)]
pub enum Clash {
    Event {
        kind: EventKind,
        place: String,
        starts_at: NaiveDateTime,
    },
    TourDate {
        day: NaiveDate,
        session: String,
    },
}

impl Clash {
    /// The refusal, in words, with the time in the install's zone.
    pub fn refusal(&self, tz: chrono_tz::Tz) -> AppError {
        let what = match self {
            Clash::Event {
                kind,
                place,
                starts_at,
            } => format!(
                "the {} at {place} on {}",
                kind.label().to_lowercase(),
                crate::domain::local_time(*starts_at, tz, "%-d %b %Y %H:%M")
            ),
            Clash::TourDate { day, session } => {
                format!("the tour date of {} ({session})", day.format("%-d %b %Y"))
            }
        };
        AppError::Conflict(format!("the company is already busy then: {what}"))
    }
}

/// What a check leaves out: the tour date and event being moved or filled.
#[derive(Debug, Clone, Copy, Default)]
pub struct Except {
    pub slot: Option<i32>,
    pub event: Option<i32>,
}

/// The first event or tour date of the programme between `starts` and `ends`, if any.
pub fn clash(
    conn: &mut AnyConnection,
    programme_id: i32,
    starts: NaiveDateTime,
    ends: NaiveDateTime,
    except: Except,
) -> AppResult<Option<Clash>> {
    let mut q = events::table
        .left_join(schools::table)
        .left_join(venues::table)
        .filter(events::programme_id.eq(programme_id))
        .filter(events::status.ne(EventStatus::Cancelled.as_str()))
        .filter(events::starts_at.lt(ends))
        .filter(events::ends_at.gt(starts))
        .into_boxed();
    if let Some(id) = except.event {
        q = q.filter(events::id.ne(id));
    }
    if let Some(slot) = except.slot {
        q = q.filter(events::slot_id.is_null().or(events::slot_id.ne(slot)));
    }
    let found: Option<(String, Option<String>, Option<String>, NaiveDateTime)> = q
        .order(events::starts_at.asc())
        .select((
            events::kind,
            schools::name.nullable(),
            venues::name.nullable(),
            events::starts_at,
        ))
        .first(conn)
        .optional()?;
    if let Some((kind, school, venue, starts_at)) = found {
        return Ok(Some(Clash::Event {
            kind: EventKind::from_db(&kind)?,
            place: school.or(venue).unwrap_or_else(|| "Live stream".into()),
            starts_at,
        }));
    }
    let mut q = tour_slots::table
        .filter(tour_slots::programme_id.eq(programme_id))
        .filter(tour_slots::status.ne(SlotStatus::Cancelled.as_str()))
        .filter(tour_slots::starts_at.lt(ends))
        .filter(tour_slots::ends_at.gt(starts))
        .into_boxed();
    if let Some(slot) = except.slot {
        q = q.filter(tour_slots::id.ne(slot));
    }
    Ok(q.select((tour_slots::day, tour_slots::session))
        .first::<(NaiveDate, String)>(conn)
        .optional()?
        .map(|(day, session)| Clash::TourDate { day, session }))
}

/// Refuses a day outside the programme's dates (when it has them), naming `field`.
pub fn within_dates(
    conn: &mut AnyConnection,
    programme_id: i32,
    day: NaiveDate,
    field: &str,
) -> AppResult<()> {
    let (starts, ends): (Option<NaiveDate>, Option<NaiveDate>) = programmes::table
        .find(programme_id)
        .select((programmes::starts_on, programmes::ends_on))
        .first(conn)?;
    if starts.is_some_and(|s| day < s) || ends.is_some_and(|e| day > e) {
        let dates = match (starts, ends) {
            (Some(s), Some(e)) => format!("{} to {}", s.format("%-d %b %Y"), e.format("%-d %b %Y")),
            (Some(s), None) => format!("from {}", s.format("%-d %b %Y")),
            (None, Some(e)) => format!("until {}", e.format("%-d %b %Y")),
            (None, None) => String::new(),
        };
        return Err(AppError::field(
            field,
            format!("is outside the programme's dates ({dates})"),
        ));
    }
    Ok(())
}

/// Holds the programme until the transaction ends. Every transaction that checks or
/// changes a programme's time or its bookings does this first, so that no two of them
/// interleave and each takes its locks in one order: the programme, then its bookings,
/// tour dates and events (a row lock on PostgreSQL, across processes; on SQLite the
/// writer's lock, taken by `db::write`, already holds the whole database).
pub fn hold(conn: &mut AnyConnection, programme_id: i32) -> AppResult<()> {
    if let AnyConnection::Sqlite(_) = conn {
        return Ok(());
    }
    let n = diesel::update(programmes::table.find(programme_id))
        .set(programmes::updated_at.eq(programmes::updated_at))
        .execute(conn)?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Holds the programme of an event (see `hold`), so that two changes to the event, its
/// attendance or its bookings follow one another; NotFound if there is no such event.
pub fn hold_event(conn: &mut AnyConnection, event_id: i32) -> AppResult<()> {
    hold_event_programme(conn, event_id).map(|_| ())
}

/// Holds the programme of an event (see `hold`) and says whether the programme is
/// archived: one statement on PostgreSQL, where every statement under the hold keeps
/// other bookings of the programme waiting. NotFound if there is no such event.
pub fn hold_event_programme(conn: &mut AnyConnection, event_id: i32) -> AppResult<bool> {
    let of_event = events::table
        .find(event_id)
        .select(events::programme_id)
        .single_value();
    let archived: Option<bool> = match conn {
        AnyConnection::Postgresql(_) => {
            diesel::update(programmes::table.filter(programmes::id.nullable().eq(of_event)))
                .set(programmes::updated_at.eq(programmes::updated_at))
                .returning(programmes::archived)
                .get_result(conn)
                .optional()?
        }
        // SQLite's writers take turns already (see `hold`).
        AnyConnection::Sqlite(_) => programmes::table
            .filter(programmes::id.nullable().eq(of_event))
            .select(programmes::archived)
            .first(conn)
            .optional()?,
    };
    archived.ok_or(AppError::NotFound)
}

/// Refuses the time if anything of the programme is there already; holds the programme
/// first, so the answer stays true until the transaction ends.
pub fn ensure_free(
    conn: &mut AnyConnection,
    programme_id: i32,
    starts: NaiveDateTime,
    ends: NaiveDateTime,
    except: Except,
    tz: chrono_tz::Tz,
) -> AppResult<()> {
    hold(conn, programme_id)?;
    match clash(conn, programme_id, starts, ends, except)? {
        Some(c) => Err(c.refusal(tz)),
        None => Ok(()),
    }
}

/// Takes `places` of the event if they fit, in one statement; true when taken.
pub fn take_places(conn: &mut AnyConnection, event_id: i32, places: i32) -> AppResult<bool> {
    let taken = diesel::update(
        events::table.find(event_id).filter(
            events::capacity.is_null().or(events::capacity
                .assume_not_null()
                .ge(events::places_confirmed + places)),
        ),
    )
    .set((
        events::places_confirmed.eq(events::places_confirmed + places),
        events::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Gives `places` of the event back.
pub fn release_places(conn: &mut AnyConnection, event_id: i32, places: i32) -> AppResult<()> {
    diesel::update(events::table.find(event_id))
        .set(events::places_confirmed.eq(events::places_confirmed - places))
        .execute(conn)?;
    Ok(())
}
