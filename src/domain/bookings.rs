//! Bookings: a school's requests for places at a venue performance or a live stream (and,
//! with tour dates, for in-school visits). Places confirmed never exceed an event's
//! capacity: the count is taken with one conditional UPDATE, so it holds under any number
//! of concurrent requests and processes; the rest wait in arrival order.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{bookings, events, programmes, schools};
use crate::db::AnyConnection;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::{ListParams, Page};
use crate::domain::types::{BookingStatus, EventStatus, Role};
use crate::domain::{audit, events as event_domain, mail, must_exist, Actor};
use crate::error::{AppError, AppResult};

pub const MAX_PLACES: i64 = 2_000;

#[derive(Queryable, Selectable)]
#[diesel(table_name = bookings)]
struct Row {
    id: i32,
    event_id: Option<i32>,
    slot_id: Option<i32>,
    school_id: i32,
    status: String,
    pupils: i32,
    staff: i32,
    year_groups: String,
    notes: String,
    access_needs: String,
    message: String,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize)]
pub struct Booking {
    pub id: i32,
    pub event_id: Option<i32>,
    pub slot_id: Option<i32>,
    pub school_id: i32,
    pub school_name: String,
    pub status: BookingStatus,
    pub pupils: i32,
    pub staff: i32,
    pub places: i32,
    pub year_groups: String,
    pub notes: String,
    pub access_needs: String,
    pub message: String,
    pub created_at: NaiveDateTime,
}

fn view((r, school_name): (Row, String)) -> Booking {
    Booking {
        id: r.id,
        event_id: r.event_id,
        slot_id: r.slot_id,
        school_id: r.school_id,
        school_name,
        status: BookingStatus::parse(&r.status).unwrap_or(BookingStatus::Requested),
        pupils: r.pupils,
        staff: r.staff,
        places: r.pupils + r.staff,
        year_groups: r.year_groups,
        notes: r.notes,
        access_needs: r.access_needs,
        message: r.message,
        created_at: r.created_at,
    }
}

pub struct BookingInput {
    pub school_id: Option<i32>,
    pub pupils: i32,
    pub staff: i32,
    pub year_groups: String,
    pub notes: String,
    pub access_needs: String,
}

pub fn parse(input: &Input) -> AppResult<BookingInput> {
    let mut v = input.validator();
    let school_id = v.id_opt("school_id");
    let pupils = v.int("pupils", 0, MAX_PLACES);
    let staff = v.int_opt("staff", 0, MAX_PLACES).unwrap_or(0);
    if !v.has_error("pupils") && !v.has_error("staff") && pupils + staff < 1 {
        v.error("pupils", "book at least one place (pupils plus staff)");
    }
    let b = BookingInput {
        school_id,
        pupils,
        staff,
        year_groups: v.text_or_empty("year_groups", 200),
        notes: v.text_or_empty("notes", 2000),
        access_needs: v.text_or_empty("access_needs", 2000),
    };
    v.finish()?;
    Ok(b)
}

/// The school a booking is for: a school user books for its own school only; staff name one.
pub fn school_for(actor: &Actor, requested: Option<i32>) -> AppResult<i32> {
    match actor.role {
        Role::School => {
            let own = actor.school_id.ok_or(AppError::Forbidden)?;
            match requested {
                Some(other) if other != own => Err(AppError::Forbidden),
                _ => Ok(own),
            }
        }
        Role::Lead | Role::Admin => requested
            .ok_or_else(|| AppError::field("school_id", "choose the school the booking is for")),
        Role::Funder => Err(AppError::Forbidden),
    }
}

fn load(conn: &mut AnyConnection, id: i32) -> AppResult<Booking> {
    let row: (Row, String) = bookings::table
        .inner_join(schools::table)
        .filter(bookings::id.eq(id))
        .select((Row::as_select(), schools::name))
        .first(conn)?;
    Ok(view(row))
}

/// A booking as the actor may see it: a school only its own.
pub fn get(conn: &mut AnyConnection, actor: &Actor, id: i32) -> AppResult<Booking> {
    let b = load(conn, id)?;
    match actor.role {
        Role::Lead | Role::Admin => Ok(b),
        Role::School if actor.school_id == Some(b.school_id) => Ok(b),
        _ => Err(AppError::NotFound),
    }
}

#[derive(Debug, Clone, Default)]
pub struct BookingFilter {
    pub event_id: Option<i32>,
    pub status: Option<BookingStatus>,
}

pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    params: &ListParams,
    filter: &BookingFilter,
) -> AppResult<Page<Booking>> {
    let query = || {
        let mut q = bookings::table.inner_join(schools::table).into_boxed();
        match actor.role {
            Role::School => q = q.filter(bookings::school_id.eq(actor.school_id.unwrap_or(-1))),
            Role::Funder => q = q.filter(bookings::id.eq(-1)),
            _ => {}
        }
        if let Some(e) = filter.event_id {
            q = q.filter(bookings::event_id.eq(e));
        }
        if let Some(s) = filter.status {
            q = q.filter(bookings::status.eq(s.as_str()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query()
        .order((bookings::created_at.asc(), bookings::id.asc()))
        .limit(params.per_page)
        .offset(params.offset())
        .select((Row::as_select(), schools::name))
        .load(conn)?;
    Ok(Page::new(
        rows.into_iter().map(view).collect(),
        params,
        total,
    ))
}

/// Takes `places` of the event if they fit, in one statement; true when taken.
fn take_places(conn: &mut AnyConnection, event_id: i32, places: i32) -> AppResult<bool> {
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

fn release_places(conn: &mut AnyConnection, event_id: i32, places: i32) -> AppResult<()> {
    diesel::update(events::table.find(event_id))
        .set(events::places_confirmed.eq(events::places_confirmed - places))
        .execute(conn)?;
    Ok(())
}

fn set_status(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    b: &Booking,
    to: BookingStatus,
    message: &str,
) -> AppResult<Booking> {
    diesel::update(bookings::table.find(b.id))
        .set((
            bookings::status.eq(to.as_str()),
            bookings::message.eq(message),
            bookings::updated_at.eq(now()),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        actor.map(|a| a.user_id),
        "booking",
        b.id,
        "status",
        Some(&serde_json::json!({"status": b.status})),
        Some(&serde_json::json!({"status": to, "message": message})),
    )?;
    load(conn, b.id)
}

/// What an event is, for the mail: "Ruby: performance on Thu 15 Mar 2018 at Brewery Arts Centre".
fn describe(conn: &mut AnyConnection, event_id: i32) -> AppResult<String> {
    let e = event_domain::get(conn, event_id)?;
    let title: String = programmes::table
        .find(e.programme_id)
        .select(programmes::title)
        .first(conn)?;
    Ok(format!(
        "{title}: {} on {} at {}",
        e.kind.label().to_lowercase(),
        e.starts_at.format("%a %-d %b %Y, %H:%M UTC"),
        e.place()
    ))
}

fn tell_school(conn: &mut AnyConnection, b: &Booking, subject: &str, text: &str) -> AppResult<()> {
    let what = match b.event_id {
        Some(e) => describe(conn, e)?,
        None => "your visit request".into(),
    };
    let body = format!(
        "{text}\n\n{what}\nPlaces: {} pupils and {} staff.\n{}",
        b.pupils,
        b.staff,
        if b.message.is_empty() {
            String::new()
        } else {
            format!("Message: {}\n", b.message)
        }
    );
    mail::to_school(conn, b.school_id, subject, &body)?;
    Ok(())
}

/// Nothing of an archived programme can be booked.
pub(crate) fn refuse_archived_programme(
    conn: &mut AnyConnection,
    programme_id: i32,
) -> AppResult<()> {
    let archived: bool = crate::db::schema::programmes::table
        .find(programme_id)
        .select(crate::db::schema::programmes::archived)
        .first(conn)?;
    if archived {
        return Err(AppError::Conflict(
            "this programme is archived and takes no bookings".into(),
        ));
    }
    Ok(())
}

/// Requests places at an event: confirmed at once while places remain (unless the event
/// needs approval), else on the waiting list.
pub fn book_event(
    conn: &mut AnyConnection,
    actor: &Actor,
    event_id: i32,
    input: BookingInput,
) -> AppResult<Booking> {
    let school_id = school_for(actor, input.school_id)?;
    let event = event_domain::get(conn, event_id)?;
    if event.status == EventStatus::Draft && actor.role == Role::School {
        return Err(AppError::NotFound);
    }
    match event.status {
        EventStatus::Open | EventStatus::Confirmed => {}
        EventStatus::Draft => {
            return Err(AppError::Conflict(
                "this event is a draft and not open for booking".into(),
            ))
        }
        EventStatus::Cancelled => {
            return Err(AppError::Conflict("this event was cancelled".into()))
        }
        EventStatus::Completed => {
            return Err(AppError::Conflict(
                "this event has already taken place".into(),
            ))
        }
    }
    if event.starts_at.naive_utc() <= now() {
        return Err(AppError::Conflict("this event has already started".into()));
    }
    if event.school_id.is_some() {
        return Err(AppError::Conflict(
            "an in-school event is booked by requesting a visit on a tour date".into(),
        ));
    }
    refuse_archived_programme(conn, event.programme_id)?;
    must_exist(
        schools::table
            .find(school_id)
            .filter(schools::archived.eq(false))
            .select(schools::id)
            .first::<i32>(conn),
        "school_id",
    )?;
    let places = input.pupils + input.staff;
    if let Some(capacity) = event.capacity {
        if places > capacity {
            return Err(AppError::field(
                "pupils",
                format!("this event has {capacity} places in all"),
            ));
        }
    }
    let result = conn.transaction(|conn| {
        // The first statement writes, so SQLite takes its write lock before any read.
        let status = if event.needs_approval {
            BookingStatus::Requested
        } else if take_places(conn, event_id, places)? {
            BookingStatus::Confirmed
        } else {
            BookingStatus::Waitlisted
        };
        let id = insert(conn, actor, Target::Event(event_id), school_id, status, &input)?;
        let b = load(conn, id)?;
        audit::record(conn, Some(actor.user_id), "booking", id, "create", None, Some(&serde_json::json!({"status": status, "event_id": event_id, "school_id": school_id, "places": places})))?;
        let (subject, text) = match status {
            BookingStatus::Confirmed => ("Booking confirmed", "Your places are confirmed."),
            BookingStatus::Waitlisted => ("On the waiting list", "The event is full, so your request is on the waiting list. We will tell you if places free up."),
            _ => ("Request received", "We have your request and will confirm it soon."),
        };
        tell_school(conn, &b, subject, text)?;
        if status == BookingStatus::Requested {
            mail::to_staff(conn, "A booking request is waiting", &format!("{} asked for {} places.", b.school_name, places))?;
        }
        Ok(b)
    });
    match result {
        Err(AppError::Conflict(m))
            if m.contains("bookings_one_live_per_school_event")
                || m.contains("event_id, school_id")
                || m.contains("bookings.event_id") =>
        {
            Err(AppError::Conflict(
                "this school already has a booking for this event".into(),
            ))
        }
        other => other,
    }
}

/// Confirms a requested or waiting booking if its places fit; otherwise it waits.
pub fn confirm(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    message: &str,
) -> AppResult<Booking> {
    conn.transaction(|conn| {
        touch(conn, id)?;
        let b = load(conn, id)?;
        match b.status {
            BookingStatus::Requested | BookingStatus::Waitlisted => {}
            BookingStatus::Confirmed => return Ok(b),
            _ => {
                return Err(AppError::Conflict(format!(
                    "a {} booking cannot be confirmed",
                    b.status.as_str()
                )))
            }
        }
        let Some(event_id) = b.event_id else {
            let slot = b.slot_id.ok_or(AppError::NotFound)?;
            if b.status != BookingStatus::Requested {
                return Err(AppError::Conflict(
                    "only a requested visit can be confirmed".into(),
                ));
            }
            crate::domain::slots::confirm_visit(conn, actor, &b, slot, message)?;
            return load(conn, id);
        };
        if take_places(conn, event_id, b.places)? {
            let done = set_status(conn, Some(actor), &b, BookingStatus::Confirmed, message)?;
            tell_school(
                conn,
                &done,
                "Booking confirmed",
                "Your places are confirmed.",
            )?;
            Ok(done)
        } else if b.status == BookingStatus::Requested {
            let done = set_status(conn, Some(actor), &b, BookingStatus::Waitlisted, message)?;
            tell_school(
                conn,
                &done,
                "On the waiting list",
                "The event is full, so your request is on the waiting list.",
            )?;
            Ok(done)
        } else {
            Err(AppError::Conflict(
                "no places are free; the booking stays on the waiting list".into(),
            ))
        }
    })
}

pub fn decline(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    message: &str,
) -> AppResult<Booking> {
    conn.transaction(|conn| {
        touch(conn, id)?;
        let b = load(conn, id)?;
        match b.status {
            BookingStatus::Requested | BookingStatus::Waitlisted => {
                let done = set_status(conn, Some(actor), &b, BookingStatus::Declined, message)?;
                tell_school(
                    conn,
                    &done,
                    "Booking declined",
                    "We are sorry: we cannot offer these places.",
                )?;
                Ok(done)
            }
            BookingStatus::Declined => Ok(b),
            _ => Err(AppError::Conflict(format!(
                "a {} booking cannot be declined; cancel it instead",
                b.status.as_str()
            ))),
        }
    })
}

/// Cancels a booking: staff at any time, a school its own until `cutoff` before the event.
/// Places freed go to the first waiting requests that fit.
pub fn cancel(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    message: &str,
    cutoff: Duration,
) -> AppResult<Booking> {
    let b = get(conn, actor, id)?;
    if !b.status.is_live() {
        return Err(AppError::Conflict(format!(
            "a {} booking cannot be cancelled",
            b.status.as_str()
        )));
    }
    let starts = match (b.event_id, b.slot_id) {
        (Some(event_id), _) => Some(event_domain::get(conn, event_id)?.starts_at.naive_utc()),
        (None, Some(slot)) => Some(
            crate::db::schema::tour_slots::table
                .find(slot)
                .select(crate::db::schema::tour_slots::starts_at)
                .first::<NaiveDateTime>(conn)?,
        ),
        _ => None,
    };
    if let Some(starts) = starts {
        if actor.role == Role::School && starts - cutoff <= now() {
            return Err(AppError::Conflict(format!("bookings can be cancelled online until {} days before the event; please contact the company", cutoff.num_days())));
        }
    }
    conn.transaction(|conn| {
        touch(conn, id)?;
        let b = load(conn, id)?;
        if !b.status.is_live() {
            return Err(AppError::Conflict(format!(
                "a {} booking cannot be cancelled",
                b.status.as_str()
            )));
        }
        let done = set_status(conn, Some(actor), &b, BookingStatus::Cancelled, message)?;
        tell_school(
            conn,
            &done,
            "Booking cancelled",
            "This booking is cancelled.",
        )?;
        if let (BookingStatus::Confirmed, Some(event_id)) = (b.status, b.event_id) {
            release_places(conn, event_id, b.places)?;
            promote(conn, event_id)?;
        }
        if let (BookingStatus::Confirmed, Some(slot)) = (b.status, b.slot_id) {
            crate::domain::slots::release_visit(conn, actor, slot)?;
        }
        Ok(done)
    })
}

/// Moves waiting requests up, in arrival order, while their places fit.
pub fn promote(conn: &mut AnyConnection, event_id: i32) -> AppResult<Vec<Booking>> {
    let waiting: Vec<i32> = bookings::table
        .filter(bookings::event_id.eq(event_id))
        .filter(bookings::status.eq(BookingStatus::Waitlisted.as_str()))
        .order((bookings::created_at.asc(), bookings::id.asc()))
        .select(bookings::id)
        .load(conn)?;
    let mut moved = Vec::new();
    for id in waiting {
        let b = load(conn, id)?;
        if take_places(conn, event_id, b.places)? {
            let done = set_status(
                conn,
                None,
                &b,
                BookingStatus::Confirmed,
                "A place freed up.",
            )?;
            tell_school(
                conn,
                &done,
                "You have moved up from the waiting list",
                "Places freed up, and your booking is now confirmed.",
            )?;
            moved.push(done);
        }
    }
    Ok(moved)
}

/// Takes the write lock first (see `book_event`), and finds the booking.
fn touch(conn: &mut AnyConnection, id: i32) -> AppResult<()> {
    let n = diesel::update(bookings::table.find(id))
        .set(bookings::updated_at.eq(now()))
        .execute(conn)?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// An event was cancelled: its live bookings are cancelled too, their places released, and
/// each school is told. Runs inside the cancellation's transaction.
pub(crate) fn follow_cancelled_event(
    conn: &mut AnyConnection,
    actor: &Actor,
    event: &crate::domain::events::Event,
) -> AppResult<()> {
    let live = live_bookings(conn, event.id)?;
    for id in live {
        let b = load(conn, id)?;
        let done = set_status(
            conn,
            Some(actor),
            &b,
            BookingStatus::Cancelled,
            "The event was cancelled.",
        )?;
        if b.status == BookingStatus::Confirmed {
            release_places(conn, event.id, b.places)?;
        }
        tell_school(
            conn,
            &done,
            "Event cancelled",
            "We are sorry: this event has been cancelled, so your booking is cancelled too.",
        )?;
    }
    Ok(())
}

/// An event moved: each school with a live booking is told the new time.
pub(crate) fn tell_moved(
    conn: &mut AnyConnection,
    event: &crate::domain::events::Event,
) -> AppResult<()> {
    let live = live_bookings(conn, event.id)?;
    for id in live {
        let b = load(conn, id)?;
        tell_school(
            conn,
            &b,
            "Event moved",
            "Please note: this event has moved to a new time (below). Your booking stands.",
        )?;
    }
    if let Some(school) = event.school_id {
        let when = event.starts_at.format("%A %-d %B %Y, %H:%M UTC");
        mail::to_school(
            conn,
            school,
            "Visit moved",
            &format!(
                "Please note: the {} at your school has moved to {when}.",
                event.kind.label().to_lowercase()
            ),
        )?;
    }
    Ok(())
}

/// Queues one reminder for each confirmed booking whose event or visit starts within
/// `days`; each booking is reminded once, whichever process gets there first.
pub fn queue_reminders(conn: &mut AnyConnection, days: i64) -> AppResult<usize> {
    use crate::db::schema::tour_slots;
    let (from, until) = (now(), now() + Duration::days(days));
    let mut due: Vec<(i32, NaiveDateTime)> = bookings::table
        .inner_join(events::table)
        .filter(bookings::status.eq(BookingStatus::Confirmed.as_str()))
        .filter(bookings::reminded_at.is_null())
        .filter(events::status.ne(EventStatus::Cancelled.as_str()))
        .filter(events::starts_at.gt(from))
        .filter(events::starts_at.le(until))
        .select((bookings::id, events::starts_at))
        .load(conn)?;
    due.extend(
        bookings::table
            .inner_join(tour_slots::table)
            .filter(bookings::status.eq(BookingStatus::Confirmed.as_str()))
            .filter(bookings::reminded_at.is_null())
            .filter(tour_slots::starts_at.gt(from))
            .filter(tour_slots::starts_at.le(until))
            .select((bookings::id, tour_slots::starts_at))
            .load::<(i32, NaiveDateTime)>(conn)?,
    );
    let mut queued = 0;
    for (id, starts) in due {
        conn.transaction(|conn| {
            let claimed = diesel::update(
                bookings::table
                    .find(id)
                    .filter(bookings::reminded_at.is_null()),
            )
            .set(bookings::reminded_at.eq(now()))
            .execute(conn)?;
            if claimed == 1 {
                let b = load(conn, id)?;
                tell_school(
                    conn,
                    &b,
                    "Reminder",
                    &format!(
                        "A reminder: this is coming up on {}.",
                        starts.format("%A %-d %B %Y at %H:%M UTC")
                    ),
                )?;
                queued += 1;
            }
            Ok::<_, AppError>(())
        })?;
    }
    Ok(queued)
}

/// The bookings of an event that still hold or wait for places, in arrival order.
fn live_bookings(conn: &mut AnyConnection, event_id: i32) -> AppResult<Vec<i32>> {
    Ok(bookings::table
        .filter(bookings::event_id.eq(event_id))
        .filter(bookings::status.eq_any([
            BookingStatus::Requested.as_str(),
            BookingStatus::Confirmed.as_str(),
            BookingStatus::Waitlisted.as_str(),
        ]))
        .order((bookings::created_at.asc(), bookings::id.asc()))
        .select(bookings::id)
        .load(conn)?)
}

/// What a booking is for.
pub(crate) enum Target {
    Event(i32),
    Slot(i32),
}

/// Inserts a booking row; the caller holds the transaction and writes the audit entry.
pub(crate) fn insert(
    conn: &mut AnyConnection,
    actor: &Actor,
    target: Target,
    school_id: i32,
    status: BookingStatus,
    input: &BookingInput,
) -> AppResult<i32> {
    let (event_id, slot_id) = match target {
        Target::Event(e) => (Some(e), None),
        Target::Slot(s) => (None, Some(s)),
    };
    let at = now();
    Ok(diesel::insert_into(bookings::table)
        .values((
            bookings::event_id.eq(event_id),
            bookings::slot_id.eq(slot_id),
            bookings::school_id.eq(school_id),
            bookings::status.eq(status.as_str()),
            bookings::pupils.eq(input.pupils),
            bookings::staff.eq(input.staff),
            bookings::year_groups.eq(&input.year_groups),
            bookings::notes.eq(&input.notes),
            bookings::access_needs.eq(&input.access_needs),
            bookings::created_by.eq(actor.user_id),
            bookings::created_at.eq(at),
            bookings::updated_at.eq(at),
        ))
        .returning(bookings::id)
        .get_result(conn)?)
}
