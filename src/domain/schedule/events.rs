//! Events: dated performances, workshops and live streams of a programme, and their
//! states (draft → open → confirmed → completed, or cancelled). An event never overlaps
//! anything else of its programme (see `occupancy`); who booked it is `bookings`' concern.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{events, programmes, schools, venues};
use crate::db::AnyConnection;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::{ListParams, Page};
pub use crate::domain::schedule::event_input::{parse, EventInput, Joining};
use crate::domain::schedule::occupancy::{self, Except};
use crate::domain::types::{DeliveryMode, EventKind, EventStatus, Role};
use crate::domain::{audit, to_json, Actor};
use crate::error::{AppError, AppResult};

#[derive(Queryable, Selectable)]
#[diesel(table_name = events)]
pub(super) struct Row {
    id: i32,
    programme_id: i32,
    kind: String,
    school_id: Option<i32>,
    venue_id: Option<i32>,
    title: String,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    capacity: Option<i32>,
    places_confirmed: i32,
    needs_approval: bool,
    status: String,
    sequence: i32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: i32,
    pub programme_id: i32,
    pub kind: EventKind,
    pub delivery: DeliveryMode,
    pub status: EventStatus,
    pub title: String,
    #[serde(serialize_with = "crate::domain::when::utc")]
    pub starts_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::when::utc")]
    pub ends_at: DateTime<Utc>,
    pub school_id: Option<i32>,
    pub school_name: Option<String>,
    pub venue_id: Option<i32>,
    pub venue_name: Option<String>,
    pub capacity: Option<i32>,
    pub places_confirmed: i32,
    pub needs_approval: bool,
    pub sequence: i32,
    /// A live stream's joining link and instructions: only in answers to staff (lists
    /// never carry them; see [`reveal`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joining_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joining_notes: Option<String>,
}

impl Event {
    pub fn is_cancelled(&self) -> bool {
        self.status == EventStatus::Cancelled
    }

    /// A visit at a school (its places are the school's own, never booked).
    pub fn is_in_school(&self) -> bool {
        self.school_id.is_some()
    }

    pub fn is_completed(&self) -> bool {
        self.status == EventStatus::Completed
    }

    /// Where it happens, for people: the school, the venue, or "Live stream".
    pub fn place(&self) -> String {
        self.school_name
            .clone()
            .or_else(|| self.venue_name.clone())
            .unwrap_or_else(|| "Live stream".into())
    }
}

pub(super) fn view(
    (r, school_name, venue_name): (Row, Option<String>, Option<String>),
) -> AppResult<Event> {
    let kind = EventKind::from_db(&r.kind)?;
    Ok(Event {
        id: r.id,
        programme_id: r.programme_id,
        kind,
        delivery: DeliveryMode::of(kind, r.school_id.is_some()),
        status: EventStatus::from_db(&r.status)?,
        title: r.title,
        starts_at: r.starts_at.and_utc(),
        ends_at: r.ends_at.and_utc(),
        school_id: r.school_id,
        school_name,
        venue_id: r.venue_id,
        venue_name,
        capacity: r.capacity,
        places_confirmed: r.places_confirmed,
        needs_approval: r.needs_approval,
        sequence: r.sequence,
        joining_url: None,
        joining_notes: None,
    })
}

type Joined = (Row, Option<String>, Option<String>);

#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn joined() -> _ {
    events::table
        .left_join(schools::table)
        .left_join(venues::table)
}

/// An event, if the actor may see its programme.
pub fn get_for(conn: &mut AnyConnection, actor: &Actor, id: i32) -> AppResult<Event> {
    let e = get(conn, id)?;
    crate::domain::programmes::get(conn, actor, e.programme_id)?;
    Ok(e)
}

/// An event whoever asks (for the schedule's own use).
pub fn get(conn: &mut AnyConnection, id: i32) -> AppResult<Event> {
    let row: Joined = joined()
        .filter(events::id.eq(id))
        .select((
            Row::as_select(),
            schools::name.nullable(),
            venues::name.nullable(),
        ))
        .first(conn)?;
    view(row)
}

/// The events of a programme the actor may see (see `programmes::get`), in start order.
pub fn list_for_programme(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
    params: &ListParams,
) -> AppResult<Page<Event>> {
    crate::domain::programmes::get(conn, actor, programme_id)?;
    let total: i64 = events::table
        .filter(events::programme_id.eq(programme_id))
        .count()
        .get_result(conn)?;
    let rows: Vec<Joined> = joined()
        .filter(events::programme_id.eq(programme_id))
        .select((
            Row::as_select(),
            schools::name.nullable(),
            venues::name.nullable(),
        ))
        .order((events::starts_at.asc(), events::id.asc()))
        .limit(params.per_page)
        .offset(params.offset())
        .load(conn)?;
    Ok(Page::new(
        rows.into_iter().map(view).collect::<AppResult<_>>()?,
        params,
        total,
    ))
}

/// The events of a programme starting in `[from, until)` (UTC), in start order: the month
/// calendar reads its weeks and no more. The caller has checked the programme is the
/// actor's to see.
pub fn between(
    conn: &mut AnyConnection,
    programme_id: i32,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> AppResult<Vec<Event>> {
    let rows: Vec<Joined> = joined()
        .filter(events::programme_id.eq(programme_id))
        .filter(events::starts_at.ge(from))
        .filter(events::starts_at.lt(until))
        .select((
            Row::as_select(),
            schools::name.nullable(),
            venues::name.nullable(),
        ))
        .order((events::starts_at.asc(), events::id.asc()))
        .load(conn)?;
    rows.into_iter().map(view).collect()
}

/// The first start of an event of the programme at or after `from`, else its first start.
pub fn next_start(
    conn: &mut AnyConnection,
    programme_id: i32,
    from: NaiveDateTime,
) -> AppResult<Option<NaiveDateTime>> {
    let next: Option<NaiveDateTime> = events::table
        .filter(events::programme_id.eq(programme_id))
        .filter(events::starts_at.ge(from))
        .select(diesel::dsl::min(events::starts_at))
        .first(conn)?;
    match next {
        Some(t) => Ok(Some(t)),
        None => Ok(events::table
            .filter(events::programme_id.eq(programme_id))
            .select(diesel::dsl::min(events::starts_at))
            .first(conn)?),
    }
}

/// Which events a list holds: any of these left out means any.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub programme_id: Option<i32>,
    pub kind: Option<EventKind>,
    pub status: Option<EventStatus>,
    /// Events starting at or after this moment (UTC).
    pub from: Option<NaiveDateTime>,
    /// Events starting before this moment (UTC).
    pub until: Option<NaiveDateTime>,
}

impl EventFilter {
    /// Reads `programme_id`, `kind`, `status`, `from` and `to` (dates, `to` included, in
    /// the install's zone `tz`).
    pub fn parse(input: &Input, tz: chrono_tz::Tz) -> AppResult<EventFilter> {
        let mut v = input.validator();
        let filter = EventFilter {
            programme_id: v.id_opt("programme_id"),
            kind: v.choice_opt::<EventKind>("kind"),
            status: v.choice_opt::<EventStatus>("status"),
            from: v.date_opt("from").map(|d| start_of(d, tz)),
            until: v
                .date_opt("to")
                .and_then(|d| d.succ_opt())
                .map(|d| start_of(d, tz)),
        };
        v.finish()?;
        Ok(filter)
    }
}

/// Midnight at the start of a day in `tz`, as UTC.
fn start_of(day: chrono::NaiveDate, tz: chrono_tz::Tz) -> NaiveDateTime {
    use chrono::TimeZone;
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&midnight).earliest() {
        Some(t) => t.naive_utc(),
        None => midnight,
    }
}

/// The events the actor may see, filtered, in start order: staff every event; a funder
/// those of its organisation's programmes; a school those of the programmes it may see,
/// never a draft.
pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    filter: &EventFilter,
    params: &ListParams,
) -> AppResult<Page<Event>> {
    let visible: Option<Vec<i32>> = match actor.role {
        Role::School => Some(match actor.school_id {
            Some(school) => crate::domain::programmes::visible_to_school(conn, school)?,
            None => Vec::new(),
        }),
        Role::Funder => Some(
            programmes::table
                .filter(programmes::organisation_id.eq(actor.organisation_id.unwrap_or(-1)))
                .select(programmes::id)
                .load(conn)?,
        ),
        Role::Lead | Role::Admin => None,
    };
    let dialect = crate::db::Dialect::from(&*conn);
    let query = || {
        let mut q = joined().into_boxed();
        if let Some(ids) = &visible {
            q = q.filter(crate::db::among(dialect, events::programme_id, ids));
        }
        if actor.role == Role::School {
            q = q.filter(events::status.ne(EventStatus::Draft.as_str()));
        }
        if let Some(p) = filter.programme_id {
            q = q.filter(events::programme_id.eq(p));
        }
        if let Some(k) = filter.kind {
            q = q.filter(events::kind.eq(k.as_str()));
        }
        if let Some(s) = filter.status {
            q = q.filter(events::status.eq(s.as_str()));
        }
        if let Some(from) = filter.from {
            q = q.filter(events::starts_at.ge(from));
        }
        if let Some(until) = filter.until {
            q = q.filter(events::starts_at.lt(until));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<Joined> = query()
        .select((
            Row::as_select(),
            schools::name.nullable(),
            venues::name.nullable(),
        ))
        .order((events::starts_at.asc(), events::id.asc()))
        .limit(params.per_page)
        .offset(params.offset())
        .load(conn)?;
    Page::of_rows_with(rows, params, total, view)
}

/// Creates an event unless the company is busy then (another event or tour date); a
/// clash is told with its time in `tz`.
pub fn create(
    conn: &mut AnyConnection,
    actor: &Actor,
    tz: chrono_tz::Tz,
    programme_id: i32,
    e: EventInput,
) -> AppResult<Event> {
    crate::db::write(conn, |conn| {
        occupancy::hold(conn, programme_id)?;
        let archived: bool = programmes::table
            .find(programme_id)
            .select(programmes::archived)
            .first(conn)?;
        if archived {
            return Err(AppError::Conflict("the programme is archived".into()));
        }
        let day = |t: NaiveDateTime| t.and_utc().with_timezone(&tz).date_naive();
        occupancy::within_dates(conn, programme_id, day(e.starts_at), "starts_at")?;
        occupancy::within_dates(conn, programme_id, day(e.ends_at), "ends_at")?;
        occupancy::ensure_free(
            conn,
            programme_id,
            e.starts_at,
            e.ends_at,
            Except::default(),
            tz,
        )?;
        create_unchecked(conn, actor, programme_id, e.clone())
    })
}

/// Creates an event without the overlap check (a confirmed visit fills its own slot);
/// the caller holds the transaction.
pub(crate) fn create_unchecked(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
    e: EventInput,
) -> AppResult<Event> {
    let at = now();
    let id: i32 = diesel::insert_into(events::table)
        .values((
            events::programme_id.eq(programme_id),
            events::kind.eq(e.kind.as_str()),
            events::school_id.eq(e.school_id),
            events::venue_id.eq(e.venue_id),
            events::title.eq(&e.title),
            events::joining_url.eq(&e.joining.url),
            events::joining_notes.eq(&e.joining.notes),
            events::starts_at.eq(e.starts_at),
            events::ends_at.eq(e.ends_at),
            events::capacity.eq(e.capacity),
            events::needs_approval.eq(e.needs_approval),
            events::status.eq(e.status.as_str()),
            events::created_at.eq(at),
            events::updated_at.eq(at),
        ))
        .returning(events::id)
        .get_result(conn)?;
    let created = get(conn, id)?;
    audit::record(
        conn,
        Some(actor.user_id),
        "event",
        id,
        "create",
        None,
        Some(&to_json(&created)),
    )?;
    Ok(created)
}

fn set_status(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    to: EventStatus,
    bump_sequence: bool,
) -> AppResult<Event> {
    let before = get(conn, id)?;
    let sequence = before.sequence + i32::from(bump_sequence);
    diesel::update(events::table.find(id))
        .set((
            events::status.eq(to.as_str()),
            events::sequence.eq(sequence),
            events::updated_at.eq(now()),
        ))
        .execute(conn)?;
    let after = get(conn, id)?;
    audit::record(
        conn,
        Some(actor.user_id),
        "event",
        id,
        "status",
        Some(&serde_json::json!({"status": before.status})),
        Some(&serde_json::json!({"status": after.status})),
    )?;
    Ok(after)
}

/// Undoes a completion (a lead pressed it too soon): the event is confirmed again, so its
/// attendance no longer counts until it is completed once more. Only a completed event.
pub fn reopen(conn: &mut AnyConnection, actor: &Actor, id: i32) -> AppResult<Event> {
    crate::db::write(conn, |conn| {
        occupancy::hold_event(conn, id)?;
        let e = get(conn, id)?;
        if e.status != EventStatus::Completed {
            return Err(AppError::Conflict(
                "only a completed event can be reopened".into(),
            ));
        }
        set_status(conn, actor, id, EventStatus::Confirmed, false)
    })
}

/// Marks an event completed: any event that is not cancelled, once it has started
/// (`EventStatus::can_complete`, which the pages use for their button too).
pub fn complete(conn: &mut AnyConnection, actor: &Actor, id: i32) -> AppResult<Event> {
    crate::db::write(conn, |conn| {
        occupancy::hold_event(conn, id)?;
        let e = get(conn, id)?;
        match e.status {
            EventStatus::Completed => Ok(e),
            EventStatus::Cancelled => Err(AppError::Conflict(
                "a cancelled event cannot be completed".into(),
            )),
            s if !s.can_complete(e.starts_at.naive_utc(), now()) => {
                Err(AppError::Conflict("the event has not started yet".into()))
            }
            _ => set_status(conn, actor, id, EventStatus::Completed, false),
        }
    })
}

/// Cancels the event itself (its bookings follow in `schedule::cancel_event`); the
/// caller holds the transaction. Cancelling twice is no change.
pub(crate) fn cancel_row(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
) -> AppResult<Option<Event>> {
    let e = get(conn, id)?;
    match e.status {
        EventStatus::Cancelled => Ok(None),
        EventStatus::Completed => Err(AppError::Conflict(
            "a completed event cannot be cancelled".into(),
        )),
        _ => Ok(Some(set_status(
            conn,
            actor,
            id,
            EventStatus::Cancelled,
            true,
        )?)),
    }
}

/// Takes the write lock first (so SQLite never has to upgrade a read lock under
/// contention) and finds the event.
pub(crate) fn touch(conn: &mut AnyConnection, id: i32) -> AppResult<()> {
    let n = diesel::update(events::table.find(id))
        .set(events::updated_at.eq(now()))
        .execute(conn)?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Several events in one query, in start order.
pub fn get_many(conn: &mut AnyConnection, ids: &[i32]) -> AppResult<Vec<Event>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(5_000) {
        let rows: Vec<Joined> = joined()
            .filter(crate::db::among(&*conn, events::id, chunk))
            .select((
                Row::as_select(),
                schools::name.nullable(),
                venues::name.nullable(),
            ))
            .load(conn)?;
        for row in rows {
            out.push(view(row)?);
        }
    }
    out.sort_by_key(|e| (e.starts_at, e.id));
    Ok(out)
}

/// Events held (started) between `since` and `at` but not yet completed or cancelled,
/// most recent first, with how many there are: their attendance is still to be entered
/// and confirmed by a lead.
pub fn held_not_completed(
    conn: &mut AnyConnection,
    since: NaiveDateTime,
    at: NaiveDateTime,
    limit: i64,
) -> AppResult<(i64, Vec<Event>)> {
    let total: i64 = events::table
        .filter(crate::any_of!(
            events::status,
            [EventStatus::Open.as_str(), EventStatus::Confirmed.as_str()]
        ))
        .filter(events::starts_at.le(at))
        .filter(events::starts_at.ge(since))
        .count()
        .get_result(conn)?;
    let rows: Vec<Joined> = joined()
        .filter(crate::any_of!(
            events::status,
            [EventStatus::Open.as_str(), EventStatus::Confirmed.as_str()]
        ))
        .filter(events::starts_at.le(at))
        .filter(events::starts_at.ge(since))
        .order((events::starts_at.desc(), events::id.asc()))
        .limit(limit)
        .select((
            Row::as_select(),
            schools::name.nullable(),
            venues::name.nullable(),
        ))
        .load(conn)?;
    Ok((total, rows.into_iter().map(view).collect::<AppResult<_>>()?))
}

/// A live stream's joining link and instructions, whoever asks (the schedule's own use:
/// letters, feeds, pages that have already checked who is looking).
pub(crate) fn joining_of(conn: &mut AnyConnection, id: i32) -> AppResult<Joining> {
    let (kind, url, notes): (String, Option<String>, String) = events::table
        .find(id)
        .select((events::kind, events::joining_url, events::joining_notes))
        .first(conn)?;
    if kind != EventKind::LiveStream.as_str() {
        return Ok(Joining::default());
    }
    Ok(Joining { url, notes })
}

/// The joining link of a live stream as this actor may see it: staff always, a school only
/// with a confirmed booking of that stream, nobody else (None: not theirs to see, or not
/// set).
pub fn joining_for(conn: &mut AnyConnection, actor: &Actor, id: i32) -> AppResult<Option<Joining>> {
    use crate::db::schema::bookings;
    let allowed = match (actor.role, actor.school_id) {
        (Role::Lead | Role::Admin, _) => true,
        (Role::School, Some(school)) => {
            bookings::table
                .filter(bookings::event_id.eq(id))
                .filter(bookings::school_id.eq(school))
                .filter(
                    bookings::status.eq(crate::domain::types::BookingStatus::Confirmed.as_str()),
                )
                .count()
                .get_result::<i64>(conn)?
                > 0
        }
        _ => false,
    };
    if !allowed {
        return Ok(None);
    }
    let joining = joining_of(conn, id)?;
    Ok(joining.is_set().then_some(joining))
}

/// The event with its joining link and instructions, if the actor may see them (see
/// [`joining_for`]): the answer to staff about one live stream.
pub fn reveal(conn: &mut AnyConnection, actor: &Actor, mut event: Event) -> AppResult<Event> {
    if event.kind == EventKind::LiveStream {
        if let Some(j) = joining_for(conn, actor, event.id)? {
            event.joining_url = j.url;
            event.joining_notes = Some(j.notes);
        }
    }
    Ok(event)
}
