//! The words of every notice: subject, text and HTML, with every time in the install's
//! zone and the place of the event. Letters are queued in the outbox inside the
//! transaction of the change they tell about. No mail text is written anywhere else.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::programmes;
use crate::db::AnyConnection;
use crate::domain::input::TextEnum;
use crate::domain::local_time;
use crate::domain::mail::{self, Letter};
use crate::domain::schedule::bookings::{self, Booking, Target};
use crate::domain::schedule::notices::{Notice, Step};
use crate::domain::schedule::{events, visits};
use crate::error::AppResult;

/// Queues a letter for each notice; how many messages that made.
pub fn send(conn: &mut AnyConnection, tz: chrono_tz::Tz, notices: &[Notice]) -> AppResult<usize> {
    let mut sent = 0;
    for notice in notices {
        sent += match *notice {
            Notice::Booking { booking_id, step } => {
                mail::letter_about_booking(conn, booking_id, |conn| {
                    let b = bookings::load(conn, booking_id)?;
                    about_booking(conn, tz, &b, step)
                })?
            }
            Notice::DateTaken { booking_id } => {
                mail::letter_about_booking(conn, booking_id, |conn| {
                    let b = bookings::load(conn, booking_id)?;
                    let what = describe(conn, tz, &b)?;
                    Ok(Letter::plain(
                        "Tour date taken",
                        format!(
                            "Another school was given the date you asked for; please choose another from What's on.\n\n{what}"
                        ),
                    ))
                })?
            }
            Notice::Waiting { booking_id } => {
                let b = bookings::load(conn, booking_id)?;
                let what = describe(conn, tz, &b)?;
                let (subject, asked) = match b.target {
                    Target::Event(_) => (
                        "A booking request is waiting",
                        format!("{} asked for {} places.", b.school_name, b.places),
                    ),
                    Target::Visit(_) => (
                        "A visit request is waiting",
                        format!("{} asked for a visit.", b.school_name),
                    ),
                };
                mail::letter_to_staff(conn, &Letter::plain(subject, format!("{asked}\n\n{what}")))?
            }
            Notice::VisitMoved { event_id } => {
                let e = events::get(conn, event_id)?;
                let Some(school) = e.school_id else { continue };
                let letter = Letter::plain(
                    "Visit moved",
                    format!(
                        "Please note: the {} at your school has moved to {}.",
                        e.kind.label().to_lowercase(),
                        local_time(e.starts_at.naive_utc(), tz, "%A %-d %B %Y, %H:%M")
                    ),
                );
                mail::letter_to_school(conn, school, |_| Ok(letter))?
            }
        };
    }
    Ok(sent)
}

fn about_booking(
    conn: &mut AnyConnection,
    tz: chrono_tz::Tz,
    b: &Booking,
    step: Step,
) -> AppResult<Letter> {
    let visit = matches!(b.target, Target::Visit(_));
    let (subject, opening) = match (step, visit) {
        (Step::Received, false) => ("Request received", "We have your request and will confirm it soon.".to_string()),
        (Step::Received, true) => ("Visit request received", "We have your request for a visit and will confirm it soon.".to_string()),
        (Step::Confirmed, false) => ("Booking confirmed", "Your places are confirmed.".to_string()),
        (Step::Confirmed, true) => ("Visit confirmed", "Your visit is confirmed: a performance and a workshop at your school.".to_string()),
        (Step::Waitlisted, _) => ("On the waiting list", "The event is full, so your request is on the waiting list. We will tell you if places free up.".to_string()),
        (Step::Declined, _) => ("Booking declined", "We are sorry: we cannot offer this.".to_string()),
        (Step::Cancelled, _) => ("Booking cancelled", "This booking is cancelled.".to_string()),
        (Step::MovedUp, _) => ("You have moved up from the waiting list", "Places freed up, and your booking is now confirmed.".to_string()),
        (Step::EventCancelled, _) => ("Event cancelled", "We are sorry: this event has been cancelled, so your booking is cancelled too.".to_string()),
        (Step::EventMoved, _) => ("Event moved", "Please note: this event has moved to a new time (below). Your booking stands.".to_string()),
        (Step::Reminder, _) => ("Reminder", format!("A reminder: this is coming up on {}.", local_time(starts_at(conn, b)?, tz, "%A %-d %B %Y at %H:%M"))),
        (Step::Joining, _) => ("How to join the live stream", "Here is how to join the live stream (it replaces any details we sent before).".to_string()),
        (Step::StartingSoon, _) => ("Starting soon: the live stream", format!("The live stream starts at {}. Here is how to join.", local_time(starts_at(conn, b)?, tz, "%H:%M"))),
    };
    let what = describe(conn, tz, b)?;
    let mut text = format!(
        "{opening}\n\n{what}\nPlaces: {} pupils and {} staff.",
        b.pupils, b.staff
    );
    if !b.message.is_empty() {
        text.push_str(&format!("\nMessage: {}", b.message));
    }
    // A live stream's joining details go only to a school whose booking is confirmed.
    let confirmed = matches!(
        step,
        Step::Confirmed
            | Step::MovedUp
            | Step::Reminder
            | Step::Joining
            | Step::StartingSoon
            | Step::EventMoved
    );
    if let (Target::Event(id), true) = (b.target, confirmed) {
        if b.status == crate::domain::types::BookingStatus::Confirmed {
            let joining = events::joining_of(conn, id)?;
            if joining.is_set() {
                text.push_str("\n\nHow to join:");
                if let Some(url) = &joining.url {
                    text.push_str(&format!("\n{url}"));
                }
                if !joining.notes.is_empty() {
                    text.push_str(&format!("\n{}", joining.notes));
                }
            } else if events::get(conn, id)?.kind == crate::domain::types::EventKind::LiveStream {
                text.push_str("\n\nWe will send the joining link before the stream.");
            }
        }
    }
    Ok(Letter::plain(subject, text))
}

/// When what the booking is for starts (UTC).
fn starts_at(conn: &mut AnyConnection, b: &Booking) -> AppResult<NaiveDateTime> {
    Ok(match b.target {
        Target::Event(id) => events::get(conn, id)?.starts_at.naive_utc(),
        Target::Visit(id) => visits::get(conn, id)?.starts_at,
    })
}

/// What a booking is for, in words: "Ruby: performance on Thu 15 Mar 2018, 19:00 at
/// Brewery Arts Centre", or "County Lines: a visit to your school on Monday 4 February
/// 2019, morning (09:30–12:00)".
fn describe(conn: &mut AnyConnection, tz: chrono_tz::Tz, b: &Booking) -> AppResult<String> {
    match b.target {
        Target::Event(id) => {
            let e = events::get(conn, id)?;
            event_words(conn, tz, &e)
        }
        Target::Visit(id) => {
            let s = visits::get(conn, id)?;
            let title = programme_title(conn, s.programme_id)?;
            Ok(format!(
                "{title}: a visit to your school on {}, {} ({}\u{2013}{})",
                local_time(s.starts_at, tz, "%A %-d %B %Y"),
                s.session.label().to_lowercase(),
                local_time(s.starts_at, tz, "%H:%M"),
                local_time(s.ends_at, tz, "%H:%M"),
            ))
        }
    }
}

fn programme_title(conn: &mut AnyConnection, id: i32) -> AppResult<String> {
    Ok(programmes::table
        .find(id)
        .select(programmes::title)
        .first(conn)?)
}

/// An event in words: "Ruby: performance on Thu 15 Mar 2018, 19:00 at Brewery Arts Centre".
pub(crate) fn event_words(
    conn: &mut AnyConnection,
    tz: chrono_tz::Tz,
    e: &events::Event,
) -> AppResult<String> {
    let title = programme_title(conn, e.programme_id)?;
    Ok(format!(
        "{title}: {} on {} at {}",
        e.kind.label().to_lowercase(),
        local_time(e.starts_at.naive_utc(), tz, "%a %-d %b %Y, %H:%M"),
        e.place()
    ))
}

/// After a completed event: thanks, and the link to say how many came and what they
/// thought (a reminder says it again, once).
pub(crate) fn ask_for_answers(
    conn: &mut AnyConnection,
    tz: chrono_tz::Tz,
    event_id: i32,
    school_id: i32,
    link: &str,
    reminder: bool,
) -> AppResult<usize> {
    let e = events::get(conn, event_id)?;
    let what = event_words(conn, tz, &e)?;
    let watched = if e.kind == crate::domain::types::EventKind::LiveStream {
        "watched"
    } else {
        "came"
    };
    let (subject, opening) = if reminder {
        (
            "A reminder: how did it go?",
            format!("We have not yet heard how many {watched}, and we would still like to know. It takes a minute, with no login."),
        )
    } else {
        (
            "Thank you: how did it go?",
            format!("Thank you for joining us. Please tell us how many pupils, staff and other adults {watched}, and what you thought. It takes a minute, with no login."),
        )
    };
    let letter = Letter::plain(
        subject,
        format!("{opening}\n\n{what}\n\n{link}\n\nThe link works for 90 days; please do not share it outside your school."),
    );
    mail::letter_to_school(conn, school_id, |_| Ok(letter))
}
