//! Tour dates ("slots"): days and sessions the company offers for in-school visits. A
//! booked slot holds a performance and a workshop at the school. Like events, slots of a
//! programme never overlap anything else of it (see `occupancy`). What schools ask for,
//! and the answers, are bookings; this module knows nothing of them.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{bookings, events, programmes, tour_slots};
use crate::db::AnyConnection;
use crate::domain::input::{Input, TextEnum};
use crate::domain::schedule::events::{self as event_domain, EventInput};
use crate::domain::schedule::occupancy::{self, Except};
use crate::domain::types::{BookingStatus, EventKind, EventStatus, SlotStatus};
use crate::domain::{audit, Actor};
use crate::error::{AppError, AppResult};

crate::text_enum!(Session {
    Morning = "morning": "Morning",
    Afternoon = "afternoon": "Afternoon",
});

/// The local start and end of the morning and afternoon sessions, on the hour or half
/// hour (`SESSION_MORNING`, `SESSION_AFTERNOON`; 09:30–12:00 and 13:00–15:00 unless set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimes {
    pub morning: (NaiveTime, NaiveTime),
    pub afternoon: (NaiveTime, NaiveTime),
}

impl Default for SessionTimes {
    fn default() -> SessionTimes {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
        SessionTimes {
            morning: (t(9, 30), t(12, 0)),
            afternoon: (t(13, 0), t(15, 0)),
        }
    }
}

impl SessionTimes {
    /// Reads `HH:MM-HH:MM` for each session; each time on the hour or half hour, each
    /// session at least an hour long, the morning over before the afternoon begins.
    pub fn parse(morning: &str, afternoon: &str) -> Result<SessionTimes, String> {
        let span = |name: &str, text: &str| -> Result<(NaiveTime, NaiveTime), String> {
            let bad = || {
                format!(
                    "{name} '{text}' must be two times on the hour or half hour, like 09:30-12:00"
                )
            };
            let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
            let time = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad());
            let (a, b) = (time(a)?, time(b)?);
            use chrono::Timelike;
            if a.minute() % 30 != 0 || b.minute() % 30 != 0 {
                return Err(bad());
            }
            if b - a < chrono::Duration::hours(1) {
                return Err(format!("{name} '{text}' must last at least an hour"));
            }
            Ok((a, b))
        };
        let times = SessionTimes {
            morning: span("SESSION_MORNING", morning)?,
            afternoon: span("SESSION_AFTERNOON", afternoon)?,
        };
        if times.morning.1 > times.afternoon.0 {
            return Err("SESSION_MORNING must end before SESSION_AFTERNOON begins".into());
        }
        Ok(times)
    }
}

impl SessionTimes {
    /// From `SESSION_MORNING` and `SESSION_AFTERNOON`, each defaulting.
    pub fn from_env() -> Result<SessionTimes, String> {
        let read =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
        SessionTimes::parse(
            &read("SESSION_MORNING", "09:30-12:00"),
            &read("SESSION_AFTERNOON", "13:00-15:00"),
        )
    }
}

static SESSION_TIMES: std::sync::OnceLock<SessionTimes> = std::sync::OnceLock::new();

/// Sets the install's session times; the first setting holds for the process (the command
/// line sets them before anything else runs).
pub fn set_session_times(times: SessionTimes) {
    let _ = SESSION_TIMES.set(times);
}

impl Session {
    /// Local start and end of the session.
    fn times(&self) -> (NaiveTime, NaiveTime) {
        let times = SESSION_TIMES.get().copied().unwrap_or_default();
        match self {
            Session::Morning => times.morning,
            Session::Afternoon => times.afternoon,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Slot {
    pub id: i32,
    pub programme_id: i32,
    pub day: NaiveDate,
    pub session: Session,
    #[serde(serialize_with = "crate::domain::when::naive")]
    pub starts_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::when::naive")]
    pub ends_at: NaiveDateTime,
    pub status: SlotStatus,
}

type SlotRow = (
    i32,
    i32,
    NaiveDate,
    String,
    NaiveDateTime,
    NaiveDateTime,
    String,
);

fn view((id, programme_id, day, session, starts_at, ends_at, status): SlotRow) -> AppResult<Slot> {
    Ok(Slot {
        id,
        programme_id,
        day,
        session: Session::from_db(&session)?,
        starts_at,
        ends_at,
        status: SlotStatus::from_db(&status)?,
    })
}

fn views(rows: Vec<SlotRow>) -> AppResult<Vec<Slot>> {
    rows.into_iter().map(view).collect()
}

/// One tour date.
pub fn get(conn: &mut AnyConnection, id: i32) -> AppResult<Slot> {
    view(tour_slots::table.find(id).select(COLUMNS).first(conn)?)
}

const COLUMNS: (
    tour_slots::id,
    tour_slots::programme_id,
    tour_slots::day,
    tour_slots::session,
    tour_slots::starts_at,
    tour_slots::ends_at,
    tour_slots::status,
) = (
    tour_slots::id,
    tour_slots::programme_id,
    tour_slots::day,
    tour_slots::session,
    tour_slots::starts_at,
    tour_slots::ends_at,
    tour_slots::status,
);

fn to_utc(day: NaiveDate, time: NaiveTime, tz: chrono_tz::Tz) -> NaiveDateTime {
    tz.from_local_datetime(&day.and_time(time))
        .earliest()
        .map(|t| t.naive_utc())
        .unwrap_or_else(|| day.and_time(time))
}

pub(super) fn insert(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
    day: NaiveDate,
    session: Session,
    tz: chrono_tz::Tz,
) -> AppResult<Slot> {
    let (start, end) = session.times();
    let (starts_at, ends_at) = (to_utc(day, start, tz), to_utc(day, end, tz));
    occupancy::ensure_free(
        conn,
        programme_id,
        starts_at,
        ends_at,
        Except::default(),
        tz,
    )?;
    let id: i32 = diesel::insert_into(tour_slots::table)
        .values((
            tour_slots::programme_id.eq(programme_id),
            tour_slots::day.eq(day),
            tour_slots::session.eq(session.as_str()),
            tour_slots::starts_at.eq(starts_at),
            tour_slots::ends_at.eq(ends_at),
            tour_slots::created_at.eq(now()),
        ))
        .returning(tour_slots::id)
        .get_result(conn)?;
    audit::record(
        conn,
        Some(actor.user_id),
        "tour_slot",
        id,
        "create",
        None,
        Some(&serde_json::json!({"day": day, "session": session})),
    )?;
    get(conn, id)
}

/// One slot: `day` (YYYY-MM-DD) and `session`.
pub fn create(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
    input: &Input,
    tz: chrono_tz::Tz,
) -> AppResult<Slot> {
    let mut v = input.validator();
    let day = v.date_opt("day");
    if day.is_none() && !v.has_error("day") {
        v.error("day", "is required");
    }
    let session = v.choice::<Session>("session");
    v.finish()?;
    let (day, session) = (day.unwrap_or_default(), session.unwrap_or(Session::Morning));
    if day <= now().date() {
        return Err(AppError::field("day", "must be in the future"));
    }
    crate::db::write(conn, |conn| {
        occupancy::within_dates(conn, programme_id, day, "day")?;
        insert(conn, actor, programme_id, day, session, tz)
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    pub created: Vec<Slot>,
    /// Days skipped, with why.
    pub skipped: Vec<(NaiveDate, String)>,
}

/// Every weekday from `from` to `to`, in the chosen sessions; clashing ones are skipped.
pub fn bulk(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
    input: &Input,
    tz: chrono_tz::Tz,
) -> AppResult<BulkResult> {
    let mut v = input.validator();
    let from = v.date_opt("from");
    let to = v.date_opt("to");
    let morning = v.flag("morning");
    let afternoon = v.flag("afternoon");
    match (from, to) {
        (None, _) if !v.has_error("from") => v.error("from", "is required"),
        (_, None) if !v.has_error("to") => v.error("to", "is required"),
        (Some(f), Some(t)) if t < f => v.error("to", "must be on or after the first day"),
        (Some(f), Some(t)) if (t - f).num_days() > 120 => {
            v.error("to", "offer at most 120 days at a time")
        }
        (Some(f), _) if f <= now().date() => v.error("from", "must be in the future"),
        _ => {}
    }
    if !morning && !afternoon {
        v.error("morning", "choose the morning, the afternoon or both");
    }
    v.finish()?;
    let (from, to) = (from.unwrap_or_default(), to.unwrap_or_default());
    let sessions: Vec<Session> = [(morning, Session::Morning), (afternoon, Session::Afternoon)]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, s)| s)
        .collect();
    crate::db::write(conn, |conn| {
        let mut result = BulkResult {
            created: Vec::new(),
            skipped: Vec::new(),
        };
        let mut day = from;
        while day <= to {
            if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                for s in &sessions {
                    match occupancy::within_dates(conn, programme_id, day, "day") {
                        Ok(()) => {}
                        Err(e @ AppError::Invalid { .. }) => {
                            result.skipped.push((
                                day,
                                e.fields()
                                    .and_then(|f| f.values().next().cloned())
                                    .unwrap_or_default(),
                            ));
                            continue;
                        }
                        // A database error ends the whole batch (nothing is written).
                        Err(e) => return Err(e),
                    }
                    match insert(conn, actor, programme_id, day, *s, tz) {
                        Ok(slot) => result.created.push(slot),
                        Err(AppError::Conflict(m)) => result.skipped.push((day, m)),
                        Err(e) => return Err(e),
                    }
                }
            }
            day = day.succ_opt().unwrap_or(day);
            if day == to && day.succ_opt().is_none() {
                break;
            }
        }
        Ok(result)
    })
}

/// The tour dates of a programme the actor may see.
pub fn list(conn: &mut AnyConnection, actor: &Actor, programme_id: i32) -> AppResult<Vec<Slot>> {
    crate::domain::programmes::get(conn, actor, programme_id)?;
    views(
        tour_slots::table
            .filter(tour_slots::programme_id.eq(programme_id))
            .order(tour_slots::starts_at.asc())
            .select(COLUMNS)
            .load(conn)?,
    )
}

/// The tour dates of a programme on days `[from, until)`, in time order (the caller has
/// checked the programme is the actor's to see).
pub fn between(
    conn: &mut AnyConnection,
    programme_id: i32,
    from: NaiveDate,
    until: NaiveDate,
) -> AppResult<Vec<Slot>> {
    views(
        tour_slots::table
            .filter(tour_slots::programme_id.eq(programme_id))
            .filter(tour_slots::day.ge(from))
            .filter(tour_slots::day.lt(until))
            .order(tour_slots::starts_at.asc())
            .select(COLUMNS)
            .load(conn)?,
    )
}

/// The first tour date of the programme on or after `from`, else its first.
pub fn next_day(
    conn: &mut AnyConnection,
    programme_id: i32,
    from: NaiveDate,
) -> AppResult<Option<NaiveDate>> {
    let next: Option<NaiveDate> = tour_slots::table
        .filter(tour_slots::programme_id.eq(programme_id))
        .filter(tour_slots::day.ge(from))
        .select(diesel::dsl::min(tour_slots::day))
        .first(conn)?;
    match next {
        Some(d) => Ok(Some(d)),
        None => Ok(tour_slots::table
            .filter(tour_slots::programme_id.eq(programme_id))
            .select(diesel::dsl::min(tour_slots::day))
            .first(conn)?),
    }
}

/// One free tour date with its programme's title; not found unless it is free and coming.
pub fn open_slot(conn: &mut AnyConnection, id: i32) -> AppResult<(Slot, String)> {
    let (row, title): (SlotRow, String) = tour_slots::table
        .inner_join(programmes::table)
        .filter(tour_slots::id.eq(id))
        .filter(tour_slots::status.eq(SlotStatus::Open.as_str()))
        .filter(tour_slots::starts_at.gt(now()))
        .filter(programmes::archived.eq(false))
        .select((COLUMNS, programmes::title))
        .first(conn)?;
    Ok((view(row)?, title))
}

/// Open future slots of live programmes, for schools to request, with their programme.
pub fn open_slots(conn: &mut AnyConnection, limit: i64) -> AppResult<Vec<(Slot, String)>> {
    let rows: Vec<(SlotRow, String)> = tour_slots::table
        .inner_join(programmes::table)
        .filter(tour_slots::status.eq(SlotStatus::Open.as_str()))
        .filter(tour_slots::starts_at.gt(now()))
        .filter(programmes::archived.eq(false))
        .order(tour_slots::starts_at.asc())
        .limit(limit)
        .select((COLUMNS, programmes::title))
        .load(conn)?;
    rows.into_iter()
        .map(|(row, title)| Ok((view(row)?, title)))
        .collect()
}

/// Books a free slot for a school: the slot is taken, and a performance and a workshop
/// are made at the school in its time. The caller holds the transaction.
pub(crate) fn book(
    conn: &mut AnyConnection,
    actor: &Actor,
    slot_id: i32,
    school_id: i32,
    places: i32,
) -> AppResult<Slot> {
    let slot = get(conn, slot_id)?;
    let taken = diesel::update(
        tour_slots::table
            .find(slot_id)
            .filter(tour_slots::status.eq(SlotStatus::Open.as_str())),
    )
    .set(tour_slots::status.eq(SlotStatus::Booked.as_str()))
    .execute(conn)?;
    if taken == 0 {
        return Err(AppError::Conflict(
            "this tour date is already booked".into(),
        ));
    }
    // The performance takes the first half, to the half hour below (a workshop starts at
    // 10:30, never 10:37:30).
    let half = (slot.ends_at - slot.starts_at).num_minutes() / 2;
    let middle = slot.starts_at + chrono::Duration::minutes(half - half % 30);
    for (kind, starts, ends) in [
        (EventKind::Performance, slot.starts_at, middle),
        (EventKind::Workshop, middle, slot.ends_at),
    ] {
        let e = event_domain::create_unchecked(
            conn,
            actor,
            slot.programme_id,
            EventInput {
                kind,
                starts_at: starts,
                ends_at: ends,
                school_id: Some(school_id),
                venue_id: None,
                capacity: Some(places),
                needs_approval: false,
                status: EventStatus::Confirmed,
                title: String::new(),
                joining: Default::default(),
            },
        )?;
        diesel::update(events::table.find(e.id))
            .set(events::slot_id.eq(slot_id))
            .execute(conn)?;
    }
    Ok(slot)
}

/// Frees a booked slot and cancels the events it held. The caller holds the transaction.
pub(crate) fn release(conn: &mut AnyConnection, actor: &Actor, slot_id: i32) -> AppResult<()> {
    diesel::update(
        tour_slots::table
            .find(slot_id)
            .filter(tour_slots::status.eq(SlotStatus::Booked.as_str())),
    )
    .set(tour_slots::status.eq(SlotStatus::Open.as_str()))
    .execute(conn)?;
    let ids: Vec<i32> = events::table
        .filter(events::slot_id.eq(slot_id))
        .filter(events::status.ne(EventStatus::Cancelled.as_str()))
        .select(events::id)
        .load(conn)?;
    for id in ids {
        event_domain::cancel_row(conn, actor, id)?;
    }
    Ok(())
}

/// The tour dates a school has asked for and not yet heard back on.
pub fn requested_by(conn: &mut AnyConnection, school_id: i32) -> AppResult<Vec<i32>> {
    Ok(bookings::table
        .filter(bookings::school_id.eq(school_id))
        .filter(bookings::status.eq(BookingStatus::Requested.as_str()))
        .filter(bookings::slot_id.is_not_null())
        .select(bookings::slot_id.assume_not_null())
        .load(conn)?)
}

pub fn get_many(conn: &mut AnyConnection, ids: &[i32]) -> AppResult<Vec<Slot>> {
    views(
        tour_slots::table
            .filter(crate::db::among(&*conn, tour_slots::id, ids))
            .select(COLUMNS)
            .load(conn)?,
    )
}

#[cfg(test)]
mod session_tests {
    use super::SessionTimes;

    #[test]
    fn session_times_are_on_the_half_hour_and_in_order() {
        assert_eq!(
            SessionTimes::parse("09:30-12:00", "13:00-15:00"),
            Ok(SessionTimes::default())
        );
        assert!(SessionTimes::parse("09:00-11:30", " 12:00 - 16:00 ").is_ok());
        for (morning, afternoon) in [
            ("09:15-12:00", "13:00-15:00"),
            ("09:30-10:00", "13:00-15:00"),
            ("09:30-13:30", "13:00-15:00"),
            ("half nine", "13:00-15:00"),
            ("09:30-12:00", "15:00-13:00"),
        ] {
            assert!(
                SessionTimes::parse(morning, afternoon).is_err(),
                "{morning} / {afternoon}"
            );
        }
    }
}
