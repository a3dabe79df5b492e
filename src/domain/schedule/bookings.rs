//! Bookings: a school's request for places at a venue performance or live stream, or for
//! a visit on a tour date, and its answers. Places confirmed never exceed an event's
//! capacity (see `occupancy`); the rest wait in arrival order. Each transition runs in
//! one transaction that starts with a write (so SQLite takes its write lock first) and
//! hands the notices it causes to `tell` inside it; `schedule` words and queues them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::app::now;
use crate::db::schema::{bookings, programmes, schools};
use crate::db::AnyConnection;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::{ListParams, Page};
use crate::domain::schedule::notices::Notice;
use crate::domain::schedule::{events as event_domain, visits};
use crate::domain::types::{BookingStatus, Role};
use crate::domain::{audit, must_exist, Actor};
use crate::error::{AppError, AppResult};

pub const MAX_PLACES: i64 = 2_000;
/// The longest message a lead sends with an answer (page and API alike).
pub const MAX_MESSAGE: usize = 500;

/// Hands a transition's notices over to be worded and queued, inside its transaction.
pub type Tell<'a> = &'a dyn Fn(&mut AnyConnection, &[Notice]) -> AppResult<()>;

#[derive(Queryable, Selectable)]
#[diesel(table_name = bookings)]
pub(super) struct Row {
    pub(super) id: i32,
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

/// What a booking is for: places at an event, or a visit on a tour date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Event(i32),
    Visit(i32),
}

/// Written as `event_id` and `slot_id` (one of them null), as the API has always had it.
impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (event, slot) = match *self {
            Target::Event(e) => (Some(e), None),
            Target::Visit(v) => (None, Some(v)),
        };
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("event_id", &event)?;
        map.serialize_entry("slot_id", &slot)?;
        map.end()
    }
}

/// Its schema in the API document: `event_id` and `slot_id`, one of them null.
impl utoipa::PartialSchema for Target {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let id = || {
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                    Type::Integer,
                    Type::Null,
                ]))
                .build()
        };
        ObjectBuilder::new()
            .property("event_id", id())
            .property("slot_id", id())
            .required("event_id")
            .required("slot_id")
            .additional_properties(None::<utoipa::openapi::schema::AdditionalProperties<_>>)
            .into()
    }
}

impl utoipa::ToSchema for Target {
    fn name() -> std::borrow::Cow<'static, str> {
        "BookingTarget".into()
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Booking {
    pub id: i32,
    #[serde(flatten)]
    pub target: Target,
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
    #[serde(serialize_with = "crate::domain::when::naive")]
    pub created_at: NaiveDateTime,
    /// A confirmed booking of a live stream: how to join (seen by staff and by the booking's
    /// own school, the only ones who see a booking).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joining_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joining_notes: Option<String>,
}

impl Booking {
    pub fn event_id(&self) -> Option<i32> {
        match self.target {
            Target::Event(e) => Some(e),
            Target::Visit(_) => None,
        }
    }

    pub fn slot_id(&self) -> Option<i32> {
        match self.target {
            Target::Visit(s) => Some(s),
            Target::Event(_) => None,
        }
    }
}

fn view((r, school_name): (Row, String)) -> AppResult<Booking> {
    let target = match (r.event_id, r.slot_id) {
        (Some(e), None) => Target::Event(e),
        (None, Some(s)) => Target::Visit(s),
        _ => {
            return Err(AppError::internal(format!(
                "booking {} is for neither one event nor one tour date",
                r.id
            )))
        }
    };
    Ok(Booking {
        id: r.id,
        target,
        school_id: r.school_id,
        school_name,
        status: BookingStatus::from_db(&r.status)?,
        pupils: r.pupils,
        staff: r.staff,
        places: r.pupils + r.staff,
        year_groups: r.year_groups,
        notes: r.notes,
        access_needs: r.access_needs,
        message: r.message,
        created_at: r.created_at,
        joining_url: None,
        joining_notes: None,
    })
}

/// Fills in the joining details of the confirmed bookings of live streams among these.
fn with_joining(conn: &mut AnyConnection, mut list: Vec<Booking>) -> AppResult<Vec<Booking>> {
    use crate::db::schema::events;
    let ids: Vec<i32> = list
        .iter()
        .filter(|b| b.status == BookingStatus::Confirmed)
        .filter_map(Booking::event_id)
        .collect();
    if ids.is_empty() {
        return Ok(list);
    }
    let found: Vec<(i32, Option<String>, String)> = events::table
        .filter(crate::db::among(&*conn, events::id, &ids))
        .filter(events::kind.eq(crate::domain::types::EventKind::LiveStream.as_str()))
        .select((events::id, events::joining_url, events::joining_notes))
        .load(conn)?;
    for b in &mut list {
        if b.status != BookingStatus::Confirmed {
            continue;
        }
        if let Some((_, url, notes)) = found.iter().find(|(id, ..)| Some(*id) == b.event_id()) {
            if url.is_some() || !notes.is_empty() {
                b.joining_url = url.clone();
                b.joining_notes = Some(notes.clone());
            }
        }
    }
    Ok(list)
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

/// The message sent with an answer (confirm, decline, cancel): optional, at most
/// `MAX_MESSAGE` characters; the same rule for pages and the API.
pub fn parse_message(input: &Input) -> AppResult<String> {
    let mut v = input.validator();
    let m = v.text_or_empty("message", MAX_MESSAGE);
    v.finish()?;
    Ok(m)
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

/// A booking whatever the actor (for the schedule's own use).
pub(crate) fn load(conn: &mut AnyConnection, id: i32) -> AppResult<Booking> {
    let row: (Row, String) = bookings::table
        .inner_join(schools::table)
        .filter(bookings::id.eq(id))
        .select((Row::as_select(), schools::name))
        .first(conn)?;
    Ok(with_joining(conn, vec![view(row)?])?.remove(0))
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
    /// Bookings of the programme's events and tour dates.
    pub programme_id: Option<i32>,
    pub school_id: Option<i32>,
    /// In the order of their dates, coming ones first (soonest first), then past ones
    /// (latest first); otherwise in the order they were made.
    pub by_date: bool,
}

pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    params: &ListParams,
    filter: &BookingFilter,
) -> AppResult<Page<Booking>> {
    use crate::db::schema::{events, tour_slots};
    let query = || {
        let mut q = bookings::table
            .inner_join(schools::table)
            .left_join(events::table.on(bookings::event_id.eq(events::id.nullable())))
            .left_join(tour_slots::table.on(bookings::slot_id.eq(tour_slots::id.nullable())))
            .into_boxed();
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
        if let Some(p) = filter.programme_id {
            q = q.filter(
                events::programme_id
                    .eq(p)
                    .or(tour_slots::programme_id.eq(p)),
            );
        }
        if let Some(s) = filter.school_id {
            q = q.filter(bookings::school_id.eq(s));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let ordered = if filter.by_date {
        use diesel::dsl::sql;
        use diesel::sql_types::{Integer, Nullable, Timestamp};
        const WHEN: &str = "COALESCE(events.starts_at, tour_slots.starts_at)";
        let at = now();
        query().order((
            sql::<Integer>(&format!("CASE WHEN {WHEN} >= "))
                .bind::<Timestamp, _>(at)
                .sql(" THEN 0 ELSE 1 END")
                .asc(),
            sql::<Nullable<Timestamp>>(&format!("CASE WHEN {WHEN} >= "))
                .bind::<Timestamp, _>(at)
                .sql(&format!(" THEN {WHEN} END"))
                .asc(),
            sql::<Nullable<Timestamp>>(WHEN).desc(),
            bookings::id.asc(),
        ))
    } else {
        query().order((bookings::created_at.asc(), bookings::id.asc()))
    };
    let rows = ordered
        .limit(params.per_page)
        .offset(params.offset())
        .select((Row::as_select(), schools::name))
        .load(conn)?;
    let list = rows.into_iter().map(view).collect::<AppResult<Vec<_>>>()?;
    Ok(Page::new(with_joining(conn, list)?, params, total))
}

/// Expected pupils and staff of an event's confirmed bookings, by school in booking order:
/// a hint for the attendance grid, never data.
pub fn expected_by_school(
    conn: &mut AnyConnection,
    event_id: i32,
) -> AppResult<Vec<(i32, i32, i32)>> {
    // A visit's performance and workshop are booked through their tour date.
    let slot: Option<i32> = crate::db::schema::events::table
        .find(event_id)
        .select(crate::db::schema::events::slot_id)
        .first(conn)
        .optional()?
        .flatten();
    let mut q = bookings::table
        .filter(bookings::status.eq(BookingStatus::Confirmed.as_str()))
        .into_boxed();
    q = match slot {
        Some(slot) => q.filter(
            bookings::event_id
                .eq(event_id)
                .or(bookings::slot_id.eq(slot)),
        ),
        None => q.filter(bookings::event_id.eq(event_id)),
    };
    Ok(q.order(bookings::id.asc())
        .select((bookings::school_id, bookings::pupils, bookings::staff))
        .load(conn)?)
}

/// A school's live bookings of events (requested, confirmed or waiting), by event: the
/// status and the places.
pub fn live_by_event(
    conn: &mut AnyConnection,
    school_id: i32,
) -> AppResult<Vec<(i32, BookingStatus, i32)>> {
    let rows: Vec<(Option<i32>, String, i32, i32)> = bookings::table
        .filter(bookings::school_id.eq(school_id))
        .filter(bookings::event_id.is_not_null())
        .filter(crate::any_of!(
            bookings::status,
            [
                BookingStatus::Requested.as_str(),
                BookingStatus::Confirmed.as_str(),
                BookingStatus::Waitlisted.as_str(),
            ]
        ))
        .select((
            bookings::event_id,
            bookings::status,
            bookings::pupils,
            bookings::staff,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(e, status, pupils, staff)| {
            let status = BookingStatus::from_db(&status)?;
            Ok((e.unwrap_or_default(), status, pupils + staff))
        })
        .collect()
}

/// The tour dates a school has asked for and not yet heard back on.
pub fn requested_slots(conn: &mut AnyConnection, school_id: i32) -> AppResult<Vec<i32>> {
    Ok(bookings::table
        .filter(bookings::school_id.eq(school_id))
        .filter(bookings::status.eq(BookingStatus::Requested.as_str()))
        .filter(bookings::slot_id.is_not_null())
        .select(bookings::slot_id.assume_not_null())
        .load(conn)?)
}

/// The programme of a booking (of its event or tour date): what `occupancy::hold` holds.
pub(super) fn programme_of(conn: &mut AnyConnection, id: i32) -> AppResult<i32> {
    Ok(match load(conn, id)?.target {
        Target::Event(e) => event_domain::get(conn, e)?.programme_id,
        Target::Visit(s) => visits::get(conn, s)?.programme_id,
    })
}

/// When what a booking is for starts.
pub fn starts_at(conn: &mut AnyConnection, target: Target) -> AppResult<NaiveDateTime> {
    Ok(match target {
        Target::Event(id) => event_domain::get(conn, id)?.starts_at.naive_utc(),
        Target::Visit(id) => visits::get(conn, id)?.starts_at,
    })
}

pub(super) fn set_status(
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

/// Nothing of an archived programme can be booked.
pub(crate) fn refuse_archived_programme(
    conn: &mut AnyConnection,
    programme_id: i32,
) -> AppResult<()> {
    let archived: bool = programmes::table
        .find(programme_id)
        .select(programmes::archived)
        .first(conn)?;
    if archived {
        return Err(archived_programme());
    }
    Ok(())
}

/// The refusal of a booking of an archived programme.
pub(crate) fn archived_programme() -> AppError {
    AppError::Conflict("this programme is archived and takes no bookings".into())
}

/// The name of a school that exists and is not archived; a field error on `school_id`
/// otherwise.
pub(super) fn check_school(conn: &mut AnyConnection, school_id: i32) -> AppResult<String> {
    must_exist(
        schools::table
            .find(school_id)
            .filter(schools::archived.eq(false))
            .select(schools::name)
            .first::<String>(conn),
        "school_id",
    )
}

/// Takes the write lock first (see `book_event`), and finds the booking.
pub(super) fn touch(conn: &mut AnyConnection, id: i32) -> AppResult<Booking> {
    let n = diesel::update(bookings::table.find(id))
        .set(bookings::updated_at.eq(now()))
        .execute(conn)?;
    if n == 0 {
        return Err(AppError::NotFound);
    }
    load(conn, id)
}

/// The bookings of an event that still hold or wait for places, in arrival order.
pub(super) fn live_bookings(conn: &mut AnyConnection, event_id: i32) -> AppResult<Vec<i32>> {
    Ok(bookings::table
        .filter(bookings::event_id.eq(event_id))
        .filter(crate::any_of!(
            bookings::status,
            [
                BookingStatus::Requested.as_str(),
                BookingStatus::Confirmed.as_str(),
                BookingStatus::Waitlisted.as_str(),
            ]
        ))
        .order((bookings::created_at.asc(), bookings::id.asc()))
        .select(bookings::id)
        .load(conn)?)
}

/// A booking just inserted, as its school sees it (with the joining details of a
/// confirmed live stream), read in the inserting transaction.
pub(super) fn inserted(
    conn: &mut AnyConnection,
    row: Row,
    school_name: String,
) -> AppResult<Booking> {
    Ok(with_joining(conn, vec![view((row, school_name))?])?.remove(0))
}

/// Inserts a booking row and gives it back; the caller holds the transaction and writes
/// the audit entry.
pub(super) fn insert(
    conn: &mut AnyConnection,
    actor: &Actor,
    target: Target,
    school_id: i32,
    status: BookingStatus,
    input: &BookingInput,
) -> QueryResult<Row> {
    let (event_id, slot_id) = match target {
        Target::Event(e) => (Some(e), None),
        Target::Visit(s) => (None, Some(s)),
    };
    let at = now();
    diesel::insert_into(bookings::table)
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
        // `Row::as_returning()` does not build over both databases at once; the same
        // columns, in `Row`'s order.
        .returning((
            bookings::id,
            bookings::event_id,
            bookings::slot_id,
            bookings::school_id,
            bookings::status,
            bookings::pupils,
            bookings::staff,
            bookings::year_groups,
            bookings::notes,
            bookings::access_needs,
            bookings::message,
            bookings::created_at,
        ))
        .get_result::<Row>(conn)
}

/// How many requests wait for a lead's answer, and how many bookings wait for places.
pub fn waiting_counts(conn: &mut AnyConnection) -> AppResult<(i64, i64)> {
    let count = |conn: &mut AnyConnection, status: BookingStatus| -> AppResult<i64> {
        Ok(bookings::table
            .filter(bookings::status.eq(status.as_str()))
            .count()
            .get_result(conn)?)
    };
    Ok((
        count(conn, BookingStatus::Requested)?,
        count(conn, BookingStatus::Waitlisted)?,
    ))
}
