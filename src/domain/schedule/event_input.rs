//! What a lead sends to make an event, checked: its kind, times and place (a live stream
//! is online; anything else is at a school or a venue that exists).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{schools, venues};
use crate::db::AnyConnection;
use crate::domain::input::{Input, Validator};
use crate::domain::must_exist;
use crate::domain::types::{EventKind, EventStatus};
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct EventInput {
    pub kind: EventKind,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub school_id: Option<i32>,
    pub venue_id: Option<i32>,
    pub capacity: Option<i32>,
    pub needs_approval: bool,
    pub status: EventStatus,
    pub title: String,
    /// A live stream's joining link (https) and instructions, seen only by staff and by
    /// schools with a confirmed booking of it.
    pub joining: Joining,
}

/// Where and how to join a live stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Joining {
    pub url: Option<String>,
    pub notes: String,
}

impl Joining {
    pub fn is_set(&self) -> bool {
        self.url.is_some() || !self.notes.is_empty()
    }
}

/// The longest joining link and instructions.
pub const MAX_JOINING_URL: usize = 500;
pub const MAX_JOINING_NOTES: usize = 1000;

/// Reads `joining_url` (a full https address) and `joining_notes`.
pub(crate) fn joining_fields(v: &mut Validator<'_>) -> Joining {
    let url = v.text_or_empty("joining_url", MAX_JOINING_URL);
    let notes = v.text_or_empty("joining_notes", MAX_JOINING_NOTES);
    let url = url.trim().to_string();
    let url = if url.is_empty() {
        None
    } else {
        match url::Url::parse(&url) {
            Ok(u) if u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()) => {
                Some(url)
            }
            _ => {
                v.error(
                    "joining_url",
                    "must be a full https:// address, like https://meet.example.org/stream",
                );
                None
            }
        }
    };
    Joining {
        url,
        notes: notes.trim().to_string(),
    }
}

/// Checks the fields and the place: a live stream is online, anything else is at a school
/// or a venue that exists.
pub fn parse(
    conn: &mut AnyConnection,
    input: &Input,
    local: Option<chrono_tz::Tz>,
) -> AppResult<EventInput> {
    let mut v = input.validator();
    let kind = v.choice::<EventKind>("kind");
    let starts_at = v.datetime("starts_at", local);
    let ends_at = v.datetime("ends_at", local);
    let school_id = v.id_opt("school_id");
    let venue_id = v.id_opt("venue_id");
    let capacity = v.int_opt("capacity", 0, 100_000);
    let needs_approval = v.flag("needs_approval");
    let status = v
        .choice_opt::<EventStatus>("status")
        .unwrap_or(EventStatus::Open);
    let title = v.text_or_empty("title", 200);
    let joining = joining_fields(&mut v);
    if joining.is_set() && kind.is_some_and(|k| k != EventKind::LiveStream) {
        let field = if joining.url.is_some() {
            "joining_url"
        } else {
            "joining_notes"
        };
        v.error(field, "only a live stream has a joining link");
    }
    if matches!(status, EventStatus::Completed | EventStatus::Cancelled) {
        v.error(
            "status",
            "a new event is draft, open or confirmed; complete or cancel it afterwards",
        );
    }
    if let (Some(s), Some(e)) = (starts_at, ends_at) {
        if e <= s {
            v.error("ends_at", "must be after the start");
        }
    }
    match (kind, school_id, venue_id) {
        (Some(EventKind::LiveStream), Some(_), _) => {
            v.error("school_id", "a live stream is online: leave the school out")
        }
        (Some(EventKind::LiveStream), _, Some(_)) => {
            v.error("venue_id", "a live stream is online: leave the venue out")
        }
        (Some(_), Some(_), Some(_)) => v.error(
            "venue_id",
            "an event is at a school or at a venue, not both",
        ),
        (Some(EventKind::Performance | EventKind::Workshop), None, None) => v.error(
            "school_id",
            "choose the school (or a venue) where it is held",
        ),
        _ => {}
    }
    v.finish()?;
    if let Some(id) = school_id {
        must_exist(
            schools::table
                .find(id)
                .filter(schools::archived.eq(false))
                .select(schools::id)
                .first::<i32>(conn),
            "school_id",
        )?;
    }
    let mut capacity = capacity;
    if let Some(id) = venue_id {
        must_exist(
            venues::table
                .find(id)
                .filter(venues::archived.eq(false))
                .select(venues::id)
                .first::<i32>(conn),
            "venue_id",
        )?;
        capacity = within_venue(conn, id, capacity)?;
    }
    Ok(EventInput {
        kind: kind.unwrap_or(EventKind::Performance),
        starts_at: starts_at.unwrap_or_default(),
        ends_at: ends_at.unwrap_or_default(),
        school_id,
        venue_id,
        capacity,
        needs_approval,
        status,
        title,
        joining,
    })
}

/// An event at a venue holds at most the venue's capacity, and that by default.
pub(crate) fn within_venue(
    conn: &mut AnyConnection,
    venue_id: i32,
    capacity: Option<i32>,
) -> AppResult<Option<i32>> {
    let (name, limit): (String, Option<i32>) = venues::table
        .find(venue_id)
        .select((venues::name, venues::capacity))
        .first(conn)?;
    match (capacity, limit) {
        (Some(c), Some(l)) if c > l => Err(AppError::field(
            "capacity",
            format!("{name} holds {l}; an event there can have at most {l} places"),
        )),
        (None, limit) => Ok(limit),
        (given, _) => Ok(given),
    }
}
