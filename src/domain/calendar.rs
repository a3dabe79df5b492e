//! Calendar feeds (RFC 5545): a secret URL per school and per programme to subscribe to.
//! A moved event keeps its UID and raises SEQUENCE; a cancelled one says STATUS:CANCELLED.

use diesel::prelude::*;
use icalendar::{Calendar, Component, Event as IcsEvent, EventLike, EventStatus as IcsStatus};

use crate::db::schema::{bookings, events, programmes, schools};
use crate::db::AnyConnection;
use crate::domain::events::{self as event_domain, Event};
use crate::domain::input::TextEnum;
use crate::domain::tokens::random_secret;
use crate::domain::types::{EventStatus, Role};
use crate::domain::{audit, Actor};
use crate::error::{AppError, AppResult};

/// Which feed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Feed {
    School(i32),
    Programme(i32),
}

fn allowed(conn: &mut AnyConnection, actor: &Actor, feed: Feed) -> AppResult<()> {
    match (feed, actor.role) {
        (_, Role::Lead | Role::Admin) => Ok(()),
        (Feed::School(id), Role::School) if actor.school_id == Some(id) => Ok(()),
        (Feed::Programme(id), Role::Funder) => {
            crate::domain::programmes::get(conn, actor, id).map(|_| ())
        }
        _ => Err(AppError::Forbidden),
    }
}

/// The feed's secret token, made on first asking or anew when `regenerate` (the old URL
/// then stops working).
pub fn token(
    conn: &mut AnyConnection,
    actor: &Actor,
    feed: Feed,
    regenerate: bool,
) -> AppResult<String> {
    allowed(conn, actor, feed)?;
    conn.transaction(|conn| {
        let current: Option<String> = match feed {
            Feed::School(id) => schools::table
                .find(id)
                .select(schools::ics_token)
                .first(conn)?,
            Feed::Programme(id) => programmes::table
                .find(id)
                .select(programmes::ics_token)
                .first(conn)?,
        };
        if let (Some(t), false) = (&current, regenerate) {
            return Ok(t.clone());
        }
        let fresh = random_secret()?;
        let (entity, id) = match feed {
            Feed::School(id) => {
                diesel::update(schools::table.find(id))
                    .set(schools::ics_token.eq(&fresh))
                    .execute(conn)?;
                ("school", id)
            }
            Feed::Programme(id) => {
                diesel::update(programmes::table.find(id))
                    .set(programmes::ics_token.eq(&fresh))
                    .execute(conn)?;
                ("programme", id)
            }
        };
        audit::record(
            conn,
            Some(actor.user_id),
            entity,
            id,
            if regenerate {
                "calendar_token_regenerated"
            } else {
                "calendar_token_created"
            },
            None,
            None,
        )?;
        Ok(fresh)
    })
}

/// The feed behind a token, as iCalendar text; a wrong token is not found.
pub fn feed(
    conn: &mut AnyConnection,
    kind: &str,
    token: &str,
    base_url: &str,
) -> AppResult<(String, String)> {
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let (name, ids): (String, Vec<i32>) = match kind {
        "school" => {
            let (id, name): (i32, String) = schools::table
                .filter(schools::ics_token.eq(token))
                .select((schools::id, schools::name))
                .first(conn)
                .optional()?
                .ok_or(AppError::NotFound)?;
            // Visits at the school, and events it holds confirmed (or cancelled) places at.
            let mut ids: Vec<i32> = events::table
                .filter(events::school_id.eq(id))
                .select(events::id)
                .load(conn)?;
            ids.extend(
                bookings::table
                    .filter(bookings::school_id.eq(id))
                    .filter(bookings::status.eq_any(["confirmed", "cancelled"]))
                    .filter(bookings::event_id.is_not_null())
                    .select(bookings::event_id.assume_not_null())
                    .load::<i32>(conn)?,
            );
            (format!("{name} · Outreach"), ids)
        }
        "programme" => {
            let (id, title, year): (i32, String, i32) = programmes::table
                .filter(programmes::ics_token.eq(token))
                .select((programmes::id, programmes::title, programmes::year))
                .first(conn)
                .optional()?
                .ok_or(AppError::NotFound)?;
            let ids = events::table
                .filter(events::programme_id.eq(id))
                .filter(events::status.ne(EventStatus::Draft.as_str()))
                .select(events::id)
                .load(conn)?;
            (format!("{title} {year} · Outreach"), ids)
        }
        _ => return Err(AppError::NotFound),
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
        .filter(programmes::id.eq_any(&programme_ids))
        .select((programmes::id, programmes::title))
        .load::<(i32, String)>(conn)?
        .into_iter()
        .collect();
    for e in &events {
        cal.push(ics_event(
            e,
            titles
                .get(&e.programme_id)
                .map(String::as_str)
                .unwrap_or(""),
            &host,
        ));
    }
    Ok((name, cal.done().to_string()))
}

fn ics_event(e: &Event, programme: &str, host: &str) -> IcsEvent {
    let mut ev = IcsEvent::new();
    ev.uid(&format!("event-{}@{host}", e.id))
        .summary(&format!("{programme}: {}", e.kind.label().to_lowercase()))
        .location(&e.place())
        .starts(e.starts_at)
        .ends(e.ends_at)
        .sequence(e.sequence.max(0) as u32)
        .status(if e.status == EventStatus::Cancelled {
            IcsStatus::Cancelled
        } else {
            IcsStatus::Confirmed
        });
    ev.done()
}
