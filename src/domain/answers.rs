//! Schools' answers after an event: when a lead completes an event, each school with a
//! confirmed booking of it is asked once (a letter with a tokened link, no login) how many
//! came or watched, and for its feedback. The numbers are a proposal: a lead accepts them
//! into the attendance (written and audited as any attendance change) or keeps their own.
//! Schools that have not answered are reminded once, with a fresh link.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{bookings, event_answers, events, schools};
use crate::db::AnyConnection;
use crate::domain::attendance::{self, RowInput};
use crate::domain::feedback::{self, FeedbackInput, Statement};
use crate::domain::input::{Input, TextEnum};
use crate::domain::schedule::{bookings::MAX_PLACES, events as event_domain, letters};
use crate::domain::throttle;
use crate::domain::tokens::{hash_secret, random_secret};
use crate::domain::types::{BookingStatus, EventStatus, RespondentRole};
use crate::domain::{audit, Actor};
use crate::error::{AppError, AppResult};

/// How long a link stays open (as a feedback link does).
pub const LINK_DAYS: i64 = crate::domain::feedback_links::LINK_DAYS;

crate::text_enum!(AnswerStatus {
    Asked = "asked": "Asked",
    Pending = "pending": "Waiting for a lead",
    Accepted = "accepted": "Accepted",
    Kept = "kept": "Kept our figure",
});

/// A school's answer, as staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SchoolAnswer {
    pub id: i32,
    pub event_id: i32,
    pub booking_id: i32,
    pub school_id: i32,
    pub school_name: String,
    pub pupils: i32,
    pub staff: i32,
    pub other: i32,
    /// `pending` (waiting for a lead), `accepted` or `kept`.
    pub status: AnswerStatus,
    #[serde(serialize_with = "crate::domain::when::naive_opt")]
    pub answered_at: Option<NaiveDateTime>,
}

type Cols = (
    i32,
    i32,
    i32,
    i32,
    String,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    String,
    Option<NaiveDateTime>,
);

fn view(r: Cols) -> AppResult<SchoolAnswer> {
    Ok(SchoolAnswer {
        id: r.0,
        event_id: r.1,
        booking_id: r.2,
        school_id: r.3,
        school_name: r.4,
        pupils: r.5.unwrap_or(0),
        staff: r.6.unwrap_or(0),
        other: r.7.unwrap_or(0),
        status: AnswerStatus::from_db(&r.8)?,
        answered_at: r.9,
    })
}

#[diesel::dsl::auto_type(no_type_alias)]
fn columns() -> _ {
    (
        event_answers::id,
        event_answers::event_id,
        event_answers::booking_id,
        event_answers::school_id,
        schools::name,
        event_answers::pupils,
        event_answers::staff,
        event_answers::other_adults,
        event_answers::status,
        event_answers::answered_at,
    )
}

/// The confirmed bookings of an event: its own (a venue performance, a live stream) and,
/// for a visit's performance or workshop, the visit's.
fn confirmed_bookings(conn: &mut AnyConnection, event_id: i32) -> AppResult<Vec<(i32, i32)>> {
    let slot: Option<i32> = events::table
        .find(event_id)
        .select(events::slot_id)
        .first(conn)?;
    let mut q = bookings::table
        .filter(bookings::status.eq(BookingStatus::Confirmed.as_str()))
        .into_boxed();
    q = match slot {
        Some(slot) => q.filter(bookings::slot_id.eq(slot)),
        None => q.filter(bookings::event_id.eq(event_id)),
    };
    Ok(q.order(bookings::id.asc())
        .select((bookings::id, bookings::school_id))
        .load(conn)?)
}

/// Asks each school with a confirmed booking of a completed event, once ever: a row and a
/// letter with its link, in the caller's transaction. How many were asked now.
pub(crate) fn ask(
    conn: &mut AnyConnection,
    tz: chrono_tz::Tz,
    base_url: &str,
    event_id: i32,
) -> AppResult<usize> {
    let mut asked = 0;
    for (booking_id, school_id) in confirmed_bookings(conn, event_id)? {
        // A school with no contact in Outreach cannot be asked (its figures come from
        // the lead); it is not counted among those asked.
        if !crate::domain::mail::has_contact(conn, school_id)? {
            continue;
        }
        let already: i64 = event_answers::table
            .filter(event_answers::event_id.eq(event_id))
            .filter(event_answers::booking_id.eq(booking_id))
            .count()
            .get_result(conn)?;
        if already > 0 {
            continue;
        }
        let token = random_secret()?;
        let at = now();
        diesel::insert_into(event_answers::table)
            .values((
                event_answers::event_id.eq(event_id),
                event_answers::booking_id.eq(booking_id),
                event_answers::school_id.eq(school_id),
                event_answers::token_hash.eq(hash_secret(&token)),
                event_answers::expires_at.eq(at + Duration::days(LINK_DAYS)),
                event_answers::status.eq(AnswerStatus::Asked.as_str()),
                event_answers::asked_at.eq(at),
            ))
            .execute(conn)?;
        let link = format!("{}/answers/{token}", base_url.trim_end_matches('/'));
        letters::ask_for_answers(conn, tz, event_id, school_id, &link, false)?;
        asked += 1;
    }
    Ok(asked)
}

/// Reminds once each school asked `days` ago or more that has not answered, with a new
/// link (the first still works); whichever process gets there first. How many.
pub fn remind(
    conn: &mut AnyConnection,
    tz: chrono_tz::Tz,
    base_url: &str,
    days: i64,
) -> AppResult<usize> {
    let due: Vec<i32> = event_answers::table
        .inner_join(events::table)
        .filter(event_answers::status.eq(AnswerStatus::Asked.as_str()))
        .filter(event_answers::reminded_at.is_null())
        .filter(event_answers::asked_at.le(now() - Duration::days(days)))
        .filter(event_answers::expires_at.gt(now()))
        .filter(events::status.eq(EventStatus::Completed.as_str()))
        .select(event_answers::id)
        .load(conn)?;
    let mut sent = 0;
    for id in due {
        let token = random_secret()?;
        let told = crate::db::write(conn, |conn| {
            let claimed = diesel::update(
                event_answers::table
                    .find(id)
                    .filter(event_answers::reminded_at.is_null())
                    .filter(event_answers::status.eq(AnswerStatus::Asked.as_str())),
            )
            .set((
                event_answers::reminded_at.eq(now()),
                event_answers::reminder_token_hash.eq(hash_secret(&token)),
            ))
            .execute(conn)?;
            if claimed == 1 {
                let (event_id, school_id): (i32, i32) = event_answers::table
                    .find(id)
                    .select((event_answers::event_id, event_answers::school_id))
                    .first(conn)?;
                let link = format!("{}/answers/{token}", base_url.trim_end_matches('/'));
                letters::ask_for_answers(conn, tz, event_id, school_id, &link, true)?;
            }
            Ok::<_, AppError>(claimed == 1)
        })?;
        sent += usize::from(told);
    }
    Ok(sent)
}

/// What the school's form shows.
#[derive(Debug, Clone)]
pub struct Form {
    pub answer_id: i32,
    pub event_id: i32,
    pub booking_id: i32,
    pub programme_id: i32,
    pub school_id: i32,
    pub school_name: String,
    /// "Ruby: performance on Thu 15 Mar 2018, 19:00 at Brewery Arts Centre".
    pub what: String,
    /// The booking's pupils and staff, to start from.
    pub booked: (i32, i32),
    pub statements: Vec<Statement>,
    /// Already answered: the form thanks instead.
    pub answered: bool,
}

/// The form behind a link; a wrong or expired link, or a booking no longer confirmed, is
/// not found.
pub fn open(conn: &mut AnyConnection, token: &str, tz: chrono_tz::Tz) -> AppResult<Form> {
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let hash = hash_secret(token);
    type Found = (
        i32,
        i32,
        i32,
        i32,
        String,
        NaiveDateTime,
        String,
        String,
        i32,
        i32,
    );
    let found: Option<Found> = event_answers::table
        .inner_join(schools::table)
        .inner_join(bookings::table.on(bookings::id.eq(event_answers::booking_id)))
        .filter(
            event_answers::token_hash
                .eq(&hash)
                .or(event_answers::reminder_token_hash.eq(&hash)),
        )
        .select((
            event_answers::id,
            event_answers::event_id,
            event_answers::booking_id,
            event_answers::school_id,
            schools::name,
            event_answers::expires_at,
            event_answers::status,
            bookings::status,
            bookings::pupils,
            bookings::staff,
        ))
        .first(conn)
        .optional()?;
    let f = found.ok_or(AppError::NotFound)?;
    if f.5 <= now() || f.7 != BookingStatus::Confirmed.as_str() {
        return Err(AppError::NotFound);
    }
    let event = event_domain::get(conn, f.1)?;
    Ok(Form {
        answer_id: f.0,
        event_id: f.1,
        booking_id: f.2,
        programme_id: event.programme_id,
        school_id: f.3,
        school_name: f.4,
        what: letters::event_words(conn, tz, &event)?,
        booked: (f.8, f.9),
        statements: feedback::statements(conn, event.programme_id)?,
        answered: f.6 != AnswerStatus::Asked.as_str(),
    })
}

/// Records a school's answer through its link, once: the numbers (a proposal for the
/// lead) and, if any was given, its feedback (waiting for moderation). Under an hourly
/// limit per link and per client.
pub fn answer(
    conn: &mut AnyConnection,
    token: &str,
    input: &Input,
    client: &str,
    tz: chrono_tz::Tz,
) -> AppResult<()> {
    let form = open(conn, token, tz)?;
    if form.answered {
        return Err(AppError::Conflict(
            "your school has already answered; thank you".into(),
        ));
    }
    let mut v = input.validator();
    let max = MAX_PLACES as i32;
    let pupils = v.int("pupils", 0, max.into());
    let staff = v.int_opt("staff", 0, max.into()).unwrap_or(0);
    let other = v.int_opt("other", 0, max.into()).unwrap_or(0);
    let role = v.choice_opt::<RespondentRole>("role");
    let quote = v.text_or_empty("quote", feedback::MAX_QUOTE);
    let rating = v.int_opt("rating", 1, 5);
    let consent = v.flag("consent");
    let mut outcomes = Vec::new();
    for st in &form.statements {
        if let Some(a) = v.int_opt(&format!("outcome_{}", st.id), 1, 5) {
            outcomes.push((st.id, a));
        }
    }
    v.finish()?;
    let link_key = throttle::key("answer-link", &form.answer_id.to_string());
    let client_key = throttle::key("answer-client", client);
    throttle::reserve(
        conn,
        &[
            throttle::Limit {
                key: &link_key,
                limit: 20,
                window: Duration::hours(1),
            },
            throttle::Limit {
                key: &client_key,
                limit: 60,
                window: Duration::hours(1),
            },
        ],
        "this form has been sent many times in the last hour; please try again later",
    )?;
    crate::db::write(conn, |conn| {
        let taken = diesel::update(
            event_answers::table
                .find(form.answer_id)
                .filter(event_answers::status.eq(AnswerStatus::Asked.as_str())),
        )
        .set((
            event_answers::status.eq(AnswerStatus::Pending.as_str()),
            event_answers::pupils.eq(pupils),
            event_answers::staff.eq(staff),
            event_answers::other_adults.eq(other),
            event_answers::answered_at.eq(now()),
        ))
        .execute(conn)?;
        if taken == 0 {
            return Err(AppError::Conflict(
                "your school has already answered; thank you".into(),
            ));
        }
        if !quote.is_empty() || rating.is_some() || !outcomes.is_empty() {
            let f = feedback::create(
                conn,
                None,
                "form",
                FeedbackInput {
                    programme_id: form.programme_id,
                    event_id: Some(form.event_id),
                    school_id: Some(form.school_id),
                    booking_id: Some(form.booking_id),
                    link_id: None,
                    role: role.unwrap_or(RespondentRole::Teacher),
                    quote: quote.clone(),
                    rating,
                    consent,
                    answers: outcomes.clone(),
                },
            )?;
            diesel::update(event_answers::table.find(form.answer_id))
                .set(event_answers::feedback_id.eq(f.id))
                .execute(conn)?;
        }
        audit::record(
            conn,
            None,
            "event_answer",
            form.answer_id,
            "answer",
            None,
            Some(&serde_json::json!({"pupils": pupils, "staff": staff, "other": other})),
        )?;
        Ok(())
    })
}

/// An event's answers received, and how many schools were asked.
pub fn for_event(conn: &mut AnyConnection, event_id: i32) -> AppResult<(i64, Vec<SchoolAnswer>)> {
    let asked: i64 = event_answers::table
        .filter(event_answers::event_id.eq(event_id))
        .count()
        .get_result(conn)?;
    let rows: Vec<Cols> = event_answers::table
        .inner_join(schools::table)
        .filter(event_answers::event_id.eq(event_id))
        .filter(event_answers::status.ne(AnswerStatus::Asked.as_str()))
        .order(event_answers::id.asc())
        .select(columns())
        .load(conn)?;
    Ok((asked, rows.into_iter().map(view).collect::<AppResult<_>>()?))
}

/// The API's list: an event's answers (staff).
pub fn list(conn: &mut AnyConnection, event_id: i32) -> AppResult<Vec<SchoolAnswer>> {
    event_domain::get(conn, event_id)?;
    Ok(for_event(conn, event_id)?.1)
}

fn get(conn: &mut AnyConnection, id: i32) -> AppResult<SchoolAnswer> {
    let row: Cols = event_answers::table
        .inner_join(schools::table)
        .filter(event_answers::id.eq(id))
        .filter(event_answers::status.ne(AnswerStatus::Asked.as_str()))
        .select(columns())
        .first(conn)?;
    view(row)
}

/// A lead decides on a waiting answer: `accept` writes it as the school's attendance row
/// (replacing the row the school had, audited as any attendance change); otherwise the
/// lead keeps their own figure. Deciding again is no change.
pub fn decide(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    accept: bool,
) -> AppResult<SchoolAnswer> {
    let to = if accept {
        AnswerStatus::Accepted
    } else {
        AnswerStatus::Kept
    };
    crate::db::write(conn, |conn| {
        // The decision is claimed first, by one conditional UPDATE: of two leads deciding
        // at once, one decides and the other is told.
        let claimed = diesel::update(
            event_answers::table
                .find(id)
                .filter(event_answers::status.eq(AnswerStatus::Pending.as_str())),
        )
        .set((
            event_answers::status.eq(to.as_str()),
            event_answers::decided_by.eq(actor.user_id),
            event_answers::decided_at.eq(now()),
        ))
        .execute(conn)?;
        let a = get(conn, id)?;
        if claimed == 0 {
            return if a.status == to {
                Ok(a)
            } else {
                Err(AppError::Conflict(format!(
                    "this answer was already {}",
                    a.status.as_str()
                )))
            };
        }
        if accept {
            let mut rows: Vec<RowInput> = attendance::for_event(conn, a.event_id)?
                .into_iter()
                .filter(|r| r.school_id != Some(a.school_id))
                .map(|r| RowInput {
                    school_id: r.school_id,
                    group: r.group,
                    pupils: r.pupils,
                    staff: r.staff,
                    other: r.other,
                })
                .collect();
            rows.push(RowInput {
                school_id: Some(a.school_id),
                group: None,
                pupils: a.pupils,
                staff: a.staff,
                other: a.other,
            });
            attendance::replace(conn, actor, a.event_id, rows)?;
        }
        audit::record(
            conn,
            Some(actor.user_id),
            "event_answer",
            id,
            to.as_str(),
            Some(&serde_json::json!({"status": AnswerStatus::Pending})),
            Some(&serde_json::json!({"status": to})),
        )?;
        Ok(a)
    })
}

/// Answers waiting for a lead's decision: how many, and the event of the oldest.
pub fn waiting(conn: &mut AnyConnection) -> AppResult<(i64, Option<i32>)> {
    let n: i64 = event_answers::table
        .filter(event_answers::status.eq(AnswerStatus::Pending.as_str()))
        .count()
        .get_result(conn)?;
    let first: Option<i32> = event_answers::table
        .filter(event_answers::status.eq(AnswerStatus::Pending.as_str()))
        .order(event_answers::answered_at.asc())
        .select(event_answers::event_id)
        .first(conn)
        .optional()?;
    Ok((n, first))
}

/// The demo's history: a school asked after an event has answered these numbers (a row
/// of its own: the demo's schools have no contacts to mail).
pub(crate) fn record_for_demo(
    conn: &mut AnyConnection,
    event_id: i32,
    booking_id: i32,
    school_id: i32,
    (pupils, staff, other): (i32, i32, i32),
) -> AppResult<()> {
    let at = now();
    diesel::insert_into(event_answers::table)
        .values((
            event_answers::event_id.eq(event_id),
            event_answers::booking_id.eq(booking_id),
            event_answers::school_id.eq(school_id),
            event_answers::token_hash.eq(hash_secret(&random_secret()?)),
            event_answers::expires_at.eq(at + Duration::days(LINK_DAYS)),
            event_answers::status.eq(AnswerStatus::Pending.as_str()),
            event_answers::pupils.eq(pupils),
            event_answers::staff.eq(staff),
            event_answers::other_adults.eq(other),
            event_answers::asked_at.eq(at),
            event_answers::answered_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}
