//! The line on a demo account's first page: who you are and what to try, worked out from
//! the install as it is now (a request already answered is not offered again). Only in a
//! demo install, and only for its four accounts.

use chrono::NaiveDateTime;

use crate::db::AnyConnection;
use crate::domain::schedule::{bookings, events};
use crate::domain::types::Role;
use crate::domain::users::User;
use crate::domain::{organisations, schools};
use crate::error::{AppError, AppResult};

/// A piece of the line: words, or words that link somewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintPart {
    pub text: String,
    pub href: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub parts: Vec<HintPart>,
}

impl Hint {
    /// The line as plain words.
    pub fn text(&self) -> String {
        self.parts.iter().map(|p| p.text.as_str()).collect()
    }

    /// Where its links go.
    pub fn links(&self) -> Vec<&str> {
        self.parts
            .iter()
            .filter_map(|p| p.href.as_deref())
            .collect()
    }
}

fn say(text: impl Into<String>) -> HintPart {
    HintPart {
        text: text.into(),
        href: None,
    }
}

fn link(text: impl Into<String>, href: impl Into<String>) -> HintPart {
    HintPart {
        text: text.into(),
        href: Some(href.into()),
    }
}

fn day(t: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%A %-d %B").to_string()
}

/// The hint for this user, if the install is a demo and the user one of its accounts.
pub fn hint(
    conn: &mut AnyConnection,
    user: &User,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
) -> AppResult<Option<Hint>> {
    if !super::ACCOUNTS
        .iter()
        .any(|(email, ..)| *email == user.email)
    {
        return Ok(None);
    }
    let Some(marks) = super::marks(conn)? else {
        return Ok(None);
    };
    let parts = match user.role {
        Role::School => {
            let school_id = user.school_id.ok_or(AppError::NotFound)?;
            let name = schools::get(conn, school_id)?.name;
            let show = events::get(conn, marks.brewery_show_id)?;
            let booked = bookings::live_by_event(conn, school_id)?
                .iter()
                .any(|(e, ..)| *e == show.id);
            let mut parts = vec![say(format!("You are the demo school, {name}: "))];
            if !booked && show.status.takes_bookings() && show.starts_at.naive_utc() > now {
                parts.push(link(
                    format!(
                        "book places at the {} performance on {}",
                        show.place(),
                        day(show.starts_at, tz)
                    ),
                    format!("/events/{}/book", show.id),
                ));
                parts.push(say(", or ask for a visit on a free tour date below."));
            } else {
                parts.push(say("ask for a visit on a free tour date below, or see "));
                parts.push(link("Our bookings", "/bookings"));
                parts.push(say(
                    ", where a feedback link lets your pupils answer after a visit.",
                ));
            }
            parts
        }
        Role::Lead => {
            let (requested, _) = bookings::waiting_counts(conn)?;
            let held = events::get(conn, marks.awaiting_attendance_id)?;
            let mut parts = vec![say("You are the demo lead: ")];
            if requested > 0 {
                parts.push(link(
                    format!(
                        "{requested} request{} {} waiting for your answer",
                        if requested == 1 { "" } else { "s" },
                        if requested == 1 { "is" } else { "are" }
                    ),
                    "/requests",
                ));
            } else {
                parts.push(link("every request is answered", "/requests"));
            }
            if held.status.can_complete(held.starts_at.naive_utc(), now) {
                parts.push(say(", and "));
                parts.push(link(
                    format!(
                        "the visit to {} on {} needs its attendance",
                        held.place(),
                        day(held.starts_at, tz)
                    ),
                    format!("/events/{}", held.id),
                ));
                parts.push(say("."));
            } else {
                parts.push(say("; plan the next date in "));
                parts.push(link(
                    super::current::TITLE,
                    format!("/programmes/{}", marks.current_id),
                ));
                parts.push(say("."));
            }
            parts
        }
        Role::Funder => {
            let org = match user.organisation_id {
                Some(id) => organisations::get(conn, id)?.name,
                None => return Ok(None),
            };
            vec![
                say(format!(
                    "You are the demo funder, for {org}: these are its figures. See "
                )),
                link(
                    "Ruby 2018, the case study",
                    format!("/programmes/{}/impact", marks.ruby_id),
                ),
                say(", or how "),
                link(
                    format!("{} is doing now", super::current::TITLE),
                    format!("/programmes/{}/impact", marks.current_id),
                ),
                say("."),
            ]
        }
        Role::Admin => vec![
            say("You are the demo admin: "),
            link("add a user", "/users/new"),
            say(", "),
            link("import schools from the register", "/import/schools"),
            say(", or read "),
            link("the audit log", "/audit"),
            say("."),
        ],
    };
    Ok(Some(Hint { parts }))
}
