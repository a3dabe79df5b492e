//! Calendar feeds (RFC 5545): a secret URL per school and per programme to subscribe to.
//! A moved event keeps its UID and raises SEQUENCE; a cancelled one says STATUS:CANCELLED.

use diesel::prelude::*;
use icalendar::{Calendar, Component, Event as IcsEvent, EventLike, EventStatus as IcsStatus};

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{bookings, calendar_links, events, programmes, schools, users};
use crate::db::AnyConnection;
use crate::domain::events::{self as event_domain, Event};
use crate::domain::input::TextEnum;
use crate::domain::tokens::{hash_secret, random_secret};
use crate::domain::types::{BookingStatus, EventStatus, Role};
use crate::domain::{audit, Actor};
use crate::error::{AppError, AppResult};

/// Which feed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Feed {
    School(i32),
    Programme(i32),
}

impl Feed {
    fn kind(&self) -> &'static str {
        match self {
            Feed::School(_) => "school",
            Feed::Programme(_) => "programme",
        }
    }

    fn id(&self) -> i32 {
        match self {
            Feed::School(id) | Feed::Programme(id) => *id,
        }
    }
}

/// Staff may subscribe to any feed, a school only to its own. A funder reads figures and
/// makes nothing, a feed link included.
fn may_use(role: Role, school_id: Option<i32>, feed: Feed) -> bool {
    match (feed, role) {
        (_, Role::Lead | Role::Admin) => true,
        (Feed::School(id), Role::School) => school_id == Some(id),
        _ => false,
    }
}

fn check_exists(conn: &mut AnyConnection, feed: Feed) -> AppResult<()> {
    match feed {
        Feed::School(id) => schools::table
            .find(id)
            .select(schools::id)
            .first::<i32>(conn)?,
        Feed::Programme(id) => programmes::table
            .find(id)
            .select(programmes::id)
            .first::<i32>(conn)?,
    };
    Ok(())
}

/// What may be shown of someone's link to a feed: when it was made and last read. The
/// secret itself is stored only as a hash and shown once, when it is made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkInfo {
    pub made: bool,
    #[serde(serialize_with = "crate::domain::when::naive_opt")]
    pub created_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "crate::domain::when::naive_opt")]
    pub last_used_at: Option<NaiveDateTime>,
}

fn live_link(
    conn: &mut AnyConnection,
    actor: &Actor,
    feed: Feed,
) -> AppResult<Option<(i32, NaiveDateTime, Option<NaiveDateTime>)>> {
    Ok(calendar_links::table
        .filter(calendar_links::user_id.eq(actor.user_id))
        .filter(calendar_links::feed.eq(feed.kind()))
        .filter(calendar_links::feed_id.eq(feed.id()))
        .filter(calendar_links::revoked_at.is_null())
        .order(calendar_links::id.desc())
        .select((
            calendar_links::id,
            calendar_links::created_at,
            calendar_links::last_used_at,
        ))
        .first(conn)
        .optional()?)
}

/// The actor's own link to a feed, if made.
pub fn link_info(conn: &mut AnyConnection, actor: &Actor, feed: Feed) -> AppResult<LinkInfo> {
    if !may_use(actor.role, actor.school_id, feed) {
        return Err(AppError::Forbidden);
    }
    check_exists(conn, feed)?;
    Ok(match live_link(conn, actor, feed)? {
        Some((_, created_at, last_used_at)) => LinkInfo {
            made: true,
            created_at: Some(created_at),
            last_used_at,
        },
        None => LinkInfo {
            made: false,
            created_at: None,
            last_used_at: None,
        },
    })
}

/// Makes the actor a new link to a feed and returns its secret (shown this once); the
/// actor's previous link to it stops working. Other people's links are untouched.
pub fn make_link(conn: &mut AnyConnection, actor: &Actor, feed: Feed) -> AppResult<String> {
    if !may_use(actor.role, actor.school_id, feed) {
        return Err(AppError::Forbidden);
    }
    check_exists(conn, feed)?;
    let fresh = random_secret()?;
    crate::db::write(conn, |conn| {
        let at = now();
        let replaced = diesel::update(
            calendar_links::table
                .filter(calendar_links::user_id.eq(actor.user_id))
                .filter(calendar_links::feed.eq(feed.kind()))
                .filter(calendar_links::feed_id.eq(feed.id()))
                .filter(calendar_links::revoked_at.is_null()),
        )
        .set(calendar_links::revoked_at.eq(at))
        .execute(conn)?;
        let id: i32 = diesel::insert_into(calendar_links::table)
            .values((
                calendar_links::feed.eq(feed.kind()),
                calendar_links::feed_id.eq(feed.id()),
                calendar_links::user_id.eq(actor.user_id),
                calendar_links::token_hash.eq(hash_secret(&fresh)),
                calendar_links::created_at.eq(at),
            ))
            .returning(calendar_links::id)
            .get_result(conn)?;
        audit::record(
            conn,
            Some(actor.user_id),
            "calendar_link",
            id,
            if replaced > 0 { "renew" } else { "create" },
            None,
            Some(&serde_json::json!({"feed": feed.kind(), "feed_id": feed.id()})),
        )?;
        Ok(fresh.clone())
    })
}

/// The feed a secret opens, if its link is live and its owner may still use the feed.
fn feed_of(conn: &mut AnyConnection, kind: &str, token: &str) -> AppResult<Feed> {
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    // The link, its feed, when it was last read, and its owner's role and school.
    type Found = (i32, String, i32, Option<NaiveDateTime>, String, Option<i32>);
    let found: Option<Found> = calendar_links::table
        .inner_join(users::table)
        .filter(calendar_links::token_hash.eq(hash_secret(token)))
        .filter(calendar_links::revoked_at.is_null())
        .filter(users::archived.eq(false))
        .select((
            calendar_links::id,
            calendar_links::feed,
            calendar_links::feed_id,
            calendar_links::last_used_at,
            users::role,
            users::school_id,
        ))
        .first(conn)
        .optional()?;
    let Some((id, feed_kind, feed_id, last_used, role, school_id)) = found else {
        return Err(AppError::NotFound);
    };
    let feed = match feed_kind.as_str() {
        "school" => Feed::School(feed_id),
        "programme" => Feed::Programme(feed_id),
        _ => return Err(AppError::NotFound),
    };
    let role = Role::parse(&role).ok_or(AppError::NotFound)?;
    if feed.kind() != kind || !may_use(role, school_id, feed) {
        return Err(AppError::NotFound);
    }
    // Calendar apps poll often; the time of use is written at most once an hour.
    let at = now();
    if last_used.is_none_or(|t| at - t > chrono::Duration::hours(1)) {
        diesel::update(calendar_links::table.find(id))
            .set(calendar_links::last_used_at.eq(at))
            .execute(conn)?;
    }
    Ok(feed)
}

/// The feed behind a token, as iCalendar text; a wrong token is not found.
pub fn feed(
    conn: &mut AnyConnection,
    kind: &str,
    token: &str,
    base_url: &str,
) -> AppResult<(String, String)> {
    // A school's feed follows its own bookings: what it holds is confirmed, what waits is
    // tentative, and what it cancelled or was declined is cancelled, whatever the event.
    let mut booked: std::collections::HashMap<i32, IcsStatus> = Default::default();
    let (name, ids): (String, Vec<i32>) = match feed_of(conn, kind, token)? {
        Feed::School(id) => {
            let name: String = schools::table.find(id).select(schools::name).first(conn)?;
            // Visits at the school, and events it has booked places at.
            let mut ids: Vec<i32> = events::table
                .filter(events::school_id.eq(id))
                .filter(events::status.ne(EventStatus::Draft.as_str()))
                .select(events::id)
                .load(conn)?;
            let bookings: Vec<(i32, String)> = bookings::table
                .filter(bookings::school_id.eq(id))
                .filter(bookings::event_id.is_not_null())
                .select((bookings::event_id.assume_not_null(), bookings::status))
                .load(conn)?;
            for (event_id, status) in bookings {
                let status = BookingStatus::from_db(&status)?;
                let said = match status {
                    BookingStatus::Confirmed => IcsStatus::Confirmed,
                    BookingStatus::Requested | BookingStatus::Waitlisted => IcsStatus::Tentative,
                    BookingStatus::Cancelled | BookingStatus::Declined => IcsStatus::Cancelled,
                };
                // Of a school's bookings of one event, the liveliest speaks.
                let rank = |s: &IcsStatus| match s {
                    IcsStatus::Confirmed => 2,
                    IcsStatus::Tentative => 1,
                    _ => 0,
                };
                let keep = booked
                    .get(&event_id)
                    .is_some_and(|k| rank(k) >= rank(&said));
                if !keep {
                    booked.insert(event_id, said);
                }
                ids.push(event_id);
            }
            (format!("{name} · Outreach"), ids)
        }
        Feed::Programme(id) => {
            let (title, year): (String, i32) = programmes::table
                .find(id)
                .select((programmes::title, programmes::year))
                .first(conn)?;
            let ids = events::table
                .filter(events::programme_id.eq(id))
                .filter(events::status.ne(EventStatus::Draft.as_str()))
                .select(events::id)
                .load(conn)?;
            (format!("{title} {year} · Outreach"), ids)
        }
    };
    let mut ids = ids;
    ids.sort_unstable();
    ids.dedup();
    let mut cal = Calendar::new();
    cal.name(&name);
    let host = url::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "outreach".into());
    let events = event_domain::get_many(conn, &ids)?;
    let mut programme_ids: Vec<i32> = events.iter().map(|e| e.programme_id).collect();
    programme_ids.sort_unstable();
    programme_ids.dedup();
    let titles: std::collections::HashMap<i32, String> = programmes::table
        .filter(crate::db::among(&*conn, programmes::id, &programme_ids))
        .select((programmes::id, programmes::title))
        .load::<(i32, String)>(conn)?
        .into_iter()
        .collect();
    for e in &events {
        let status = match (e.status, booked.get(&e.id)) {
            (EventStatus::Cancelled, _) => IcsStatus::Cancelled,
            (_, Some(said)) => *said,
            _ => IcsStatus::Confirmed,
        };
        let mut entry = ics_event(
            e,
            titles
                .get(&e.programme_id)
                .map(String::as_str)
                .unwrap_or(""),
            &host,
            status,
        );
        // A live stream's joining link goes only into the feed of a school whose booking
        // of it is confirmed (never a programme's feed).
        if matches!(booked.get(&e.id), Some(IcsStatus::Confirmed))
            && e.status != EventStatus::Cancelled
        {
            let joining = event_domain::joining_of(conn, e.id)?;
            if joining.is_set() {
                let mut how = String::from("How to join:");
                if let Some(url) = &joining.url {
                    entry.url(url);
                    how.push_str(&format!("\n{url}"));
                }
                if !joining.notes.is_empty() {
                    how.push_str(&format!("\n{}", joining.notes));
                }
                entry.description(&how);
            }
        }
        cal.push(entry);
    }
    Ok((name, cal.done().to_string()))
}

fn ics_event(e: &Event, programme: &str, host: &str, status: IcsStatus) -> IcsEvent {
    let mut ev = IcsEvent::new();
    ev.uid(&format!("event-{}@{host}", e.id))
        .summary(&format!("{programme}: {}", e.kind.label().to_lowercase()))
        .location(&e.place())
        .starts(e.starts_at)
        .ends(e.ends_at)
        .sequence(e.sequence.max(0) as u32)
        .status(status);
    ev.done()
}
