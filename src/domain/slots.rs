//! Tour slots: dates and sessions the company offers for in-school visits. A confirmed
//! visit request turns its slot into a performance and a workshop at the school. One
//! company cannot be in two places at once: slots and events of a programme never overlap.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{bookings, events, programmes, schools, tour_slots};
use crate::db::AnyConnection;
use crate::domain::bookings::{school_for, Booking, BookingInput};
use crate::domain::events::EventInput;
use crate::domain::input::{Input, TextEnum};
use crate::domain::types::{BookingStatus, EventKind, EventStatus};
use crate::domain::{audit, events as event_domain, mail, must_exist, Actor};
use crate::error::{AppError, AppResult};

crate::text_enum!(Session {
    Morning = "morning": "Morning",
    Afternoon = "afternoon": "Afternoon",
});

impl Session {
    /// Local start and end of the session.
    fn times(&self) -> (NaiveTime, NaiveTime) {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
        match self {
            Session::Morning => (t(9, 15), t(12, 0)),
            Session::Afternoon => (t(13, 0), t(15, 15)),
        }
    }
}

#[derive(Debug, Clone, Serialize, Queryable)]
pub struct Slot {
    pub id: i32,
    pub programme_id: i32,
    pub day: NaiveDate,
    pub session: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub status: String,
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

/// What already occupies the company between `starts` and `ends`, for a message.
pub fn clash(
    conn: &mut AnyConnection,
    programme_id: i32,
    starts: NaiveDateTime,
    ends: NaiveDateTime,
    except_slot: Option<i32>,
) -> AppResult<Option<String>> {
    clash_except(conn, programme_id, starts, ends, except_slot, None)
}

/// As `clash`, leaving out one event (the one being moved).
pub fn clash_except(
    conn: &mut AnyConnection,
    programme_id: i32,
    starts: NaiveDateTime,
    ends: NaiveDateTime,
    except_slot: Option<i32>,
    except_event: Option<i32>,
) -> AppResult<Option<String>> {
    let mut q = events::table
        .filter(events::programme_id.eq(programme_id))
        .filter(events::status.ne(EventStatus::Cancelled.as_str()))
        .filter(events::starts_at.lt(ends))
        .filter(events::ends_at.gt(starts))
        .into_boxed();
    if let Some(id) = except_event {
        q = q.filter(events::id.ne(id));
    }
    if let Some(slot) = except_slot {
        q = q.filter(events::slot_id.is_null().or(events::slot_id.ne(slot)));
    }
    if let Some(id) = q.select(events::id).first::<i32>(conn).optional()? {
        let e = event_domain::get(conn, id)?;
        return Ok(Some(format!(
            "the {} at {} on {}",
            e.kind.label().to_lowercase(),
            e.place(),
            e.starts_at.format("%-d %b %Y %H:%M UTC")
        )));
    }
    let mut q = tour_slots::table
        .filter(tour_slots::programme_id.eq(programme_id))
        .filter(tour_slots::status.ne("cancelled"))
        .filter(tour_slots::starts_at.lt(ends))
        .filter(tour_slots::ends_at.gt(starts))
        .into_boxed();
    if let Some(slot) = except_slot {
        q = q.filter(tour_slots::id.ne(slot));
    }
    if let Some((day, session)) = q
        .select((tour_slots::day, tour_slots::session))
        .first::<(NaiveDate, String)>(conn)
        .optional()?
    {
        return Ok(Some(format!(
            "the tour date of {} ({session})",
            day.format("%-d %b %Y")
        )));
    }
    Ok(None)
}

fn check_in_programme(
    conn: &mut AnyConnection,
    programme_id: i32,
    day: NaiveDate,
) -> AppResult<()> {
    let (starts, ends): (Option<NaiveDate>, Option<NaiveDate>) = programmes::table
        .find(programme_id)
        .select((programmes::starts_on, programmes::ends_on))
        .first(conn)?;
    if starts.is_some_and(|s| day < s) || ends.is_some_and(|e| day > e) {
        return Err(AppError::field("day", "is outside the programme's dates"));
    }
    Ok(())
}

fn insert(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
    day: NaiveDate,
    session: Session,
    tz: chrono_tz::Tz,
) -> AppResult<Slot> {
    let (start, end) = session.times();
    let (starts_at, ends_at) = (to_utc(day, start, tz), to_utc(day, end, tz));
    if let Some(what) = clash(conn, programme_id, starts_at, ends_at, None)? {
        return Err(AppError::Conflict(format!(
            "the company is already busy then: {what}"
        )));
    }
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
    Ok(tour_slots::table.find(id).select(COLUMNS).first(conn)?)
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
    conn.transaction(|conn| {
        check_in_programme(conn, programme_id, day)?;
        insert(conn, actor, programme_id, day, session, tz)
    })
}

#[derive(Debug, Clone, Serialize)]
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
    conn.transaction(|conn| {
        let mut result = BulkResult {
            created: Vec::new(),
            skipped: Vec::new(),
        };
        let mut day = from;
        while day <= to {
            if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                for s in &sessions {
                    if let Err(e) = check_in_programme(conn, programme_id, day) {
                        result.skipped.push((
                            day,
                            e.fields()
                                .and_then(|f| f.values().next().cloned())
                                .unwrap_or_default(),
                        ));
                        continue;
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

pub fn list(conn: &mut AnyConnection, programme_id: i32) -> AppResult<Vec<Slot>> {
    Ok(tour_slots::table
        .filter(tour_slots::programme_id.eq(programme_id))
        .order(tour_slots::starts_at.asc())
        .select(COLUMNS)
        .load(conn)?)
}

/// Open future slots of live programmes, for schools to request.
pub fn open_slots(conn: &mut AnyConnection, limit: i64) -> AppResult<Vec<(Slot, String)>> {
    type SlotCols = (
        i32,
        i32,
        NaiveDate,
        String,
        NaiveDateTime,
        NaiveDateTime,
        String,
    );
    let rows: Vec<(SlotCols, String)> = tour_slots::table
        .inner_join(programmes::table)
        .filter(tour_slots::status.eq("open"))
        .filter(tour_slots::starts_at.gt(now()))
        .filter(programmes::archived.eq(false))
        .order(tour_slots::starts_at.asc())
        .limit(limit)
        .select((COLUMNS, programmes::title))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |((id, programme_id, day, session, starts_at, ends_at, status), title)| {
                (
                    Slot {
                        id,
                        programme_id,
                        day,
                        session,
                        starts_at,
                        ends_at,
                        status,
                    },
                    title,
                )
            },
        )
        .collect())
}

/// A school's request for a visit on a slot: always waits for the lead.
pub fn request_visit(
    conn: &mut AnyConnection,
    actor: &Actor,
    slot_id: i32,
    input: BookingInput,
) -> AppResult<Booking> {
    let school_id = school_for(actor, input.school_id)?;
    let slot: Slot = tour_slots::table
        .find(slot_id)
        .select(COLUMNS)
        .first(conn)?;
    if slot.status != "open" {
        return Err(AppError::Conflict(
            "this tour date is no longer free".into(),
        ));
    }
    if slot.starts_at <= now() {
        return Err(AppError::Conflict("this tour date has passed".into()));
    }
    crate::domain::bookings::refuse_archived_programme(conn, slot.programme_id)?;
    must_exist(
        schools::table
            .find(school_id)
            .filter(schools::archived.eq(false))
            .select(schools::id)
            .first::<i32>(conn),
        "school_id",
    )?;
    conn.transaction(|conn| {
        let id = crate::domain::bookings::insert(conn, actor, crate::domain::bookings::Target::Slot(slot_id), school_id, BookingStatus::Requested, &input)?;
        let dup: i64 = bookings::table
            .filter(bookings::slot_id.eq(slot_id))
            .filter(bookings::school_id.eq(school_id))
            .filter(bookings::status.eq_any([BookingStatus::Requested.as_str(), BookingStatus::Confirmed.as_str()]))
            .count()
            .get_result(conn)?;
        if dup > 1 {
            return Err(AppError::Conflict("this school has already asked for this tour date".into()));
        }
        audit::record(conn, Some(actor.user_id), "booking", id, "create", None, Some(&serde_json::json!({"status": "requested", "slot_id": slot_id, "school_id": school_id})))?;
        let b = crate::domain::bookings::get(conn, &Actor { role: crate::domain::types::Role::Admin, ..actor.clone() }, id)?;
        mail::to_school(conn, school_id, "Visit request received", &format!("We have your request for a visit on {} ({}). We will confirm it soon.", slot.day.format("%A %-d %B %Y"), slot.session))?;
        mail::to_staff(conn, "A visit request is waiting", &format!("{} asked for a visit on {} ({}).", b.school_name, slot.day, slot.session))?;
        Ok(b)
    })
}

/// Confirms a visit: the slot is booked, the performance and workshop are made at the school,
/// and other requests for the slot are declined. Runs inside the caller's transaction.
pub(crate) fn confirm_visit(
    conn: &mut AnyConnection,
    actor: &Actor,
    b: &Booking,
    slot_id: i32,
    message: &str,
) -> AppResult<()> {
    let slot: Slot = tour_slots::table
        .find(slot_id)
        .select(COLUMNS)
        .first(conn)?;
    if slot.status != "open" {
        return Err(AppError::Conflict(
            "this tour date is already booked".into(),
        ));
    }
    diesel::update(bookings::table.find(b.id))
        .set((
            bookings::status.eq(BookingStatus::Confirmed.as_str()),
            bookings::message.eq(message),
            bookings::updated_at.eq(now()),
        ))
        .execute(conn)?;
    diesel::update(tour_slots::table.find(slot_id))
        .set(tour_slots::status.eq("booked"))
        .execute(conn)?;
    let middle = slot.starts_at + (slot.ends_at - slot.starts_at) / 2;
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
                school_id: Some(b.school_id),
                venue_id: None,
                capacity: Some(b.places),
                needs_approval: false,
                status: EventStatus::Confirmed,
                title: String::new(),
            },
        )?;
        diesel::update(events::table.find(e.id))
            .set(events::slot_id.eq(slot_id))
            .execute(conn)?;
    }
    audit::record(
        conn,
        Some(actor.user_id),
        "booking",
        b.id,
        "status",
        Some(&serde_json::json!({"status": b.status})),
        Some(&serde_json::json!({"status": "confirmed", "message": message})),
    )?;
    mail::to_school(conn, b.school_id, "Visit confirmed", &format!("Your visit on {} ({}) is confirmed: a performance and a workshop at your school.\n{message}", slot.day.format("%A %-d %B %Y"), slot.session))?;
    let others: Vec<(i32, i32)> = bookings::table
        .filter(bookings::slot_id.eq(slot_id))
        .filter(bookings::id.ne(b.id))
        .filter(bookings::status.eq(BookingStatus::Requested.as_str()))
        .select((bookings::id, bookings::school_id))
        .load(conn)?;
    for (id, school) in others {
        diesel::update(bookings::table.find(id))
            .set((
                bookings::status.eq(BookingStatus::Declined.as_str()),
                bookings::message.eq("Another school was given this date; please choose another."),
                bookings::updated_at.eq(now()),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            Some(actor.user_id),
            "booking",
            id,
            "status",
            Some(&serde_json::json!({"status": "requested"})),
            Some(&serde_json::json!({"status": "declined"})),
        )?;
        mail::to_school(conn, school, "Tour date taken", "Another school was given the date you asked for; please choose another from What's on.")?;
    }
    Ok(())
}

/// Frees a visit's slot and cancels its events (the booking is cancelled by the caller).
pub(crate) fn release_visit(
    conn: &mut AnyConnection,
    actor: &Actor,
    slot_id: i32,
) -> AppResult<()> {
    diesel::update(
        tour_slots::table
            .find(slot_id)
            .filter(tour_slots::status.eq("booked")),
    )
    .set(tour_slots::status.eq("open"))
    .execute(conn)?;
    let ids: Vec<i32> = events::table
        .filter(events::slot_id.eq(slot_id))
        .filter(events::status.ne(EventStatus::Cancelled.as_str()))
        .select(events::id)
        .load(conn)?;
    for id in ids {
        event_domain::cancel(conn, actor, id)?;
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
    Ok(tour_slots::table
        .filter(tour_slots::id.eq_any(ids))
        .select(COLUMNS)
        .load(conn)?)
}
