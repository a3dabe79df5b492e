//! Feedback links: a random, unguessable token per confirmed booking that opens the
//! feedback form without a login. A link expires and opens nothing else.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::feedback as feedback_rows;
use crate::db::schema::{bookings, events, feedback_links, programmes, schools, tour_slots};
use crate::db::AnyConnection;
use crate::domain::feedback::{self, Feedback, FeedbackInput, Statement};
use crate::domain::input::{Input, TextEnum};
use crate::domain::throttle;
use crate::domain::tokens::{hash_secret, random_secret};
use crate::domain::types::{BookingStatus, RespondentRole, Role};
use crate::domain::{audit, Actor};
use crate::error::{AppError, AppResult};

/// How long a link stays open.
pub const LINK_DAYS: i64 = 90;
/// Answers accepted per link per hour (a class may share one link).
pub const ANSWERS_PER_HOUR: i64 = 60;

/// A link as it may be shown: never its secret, which exists only when it is made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedbackLink {
    pub id: i32,
    pub booking_id: i32,
    #[serde(serialize_with = "crate::domain::when::naive")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::when::naive")]
    pub expires_at: NaiveDateTime,
    /// Answers received through this link (its feedback rows).
    pub answers: i64,
}

type LinkRow = (i32, i32, NaiveDateTime, NaiveDateTime);

const LINK_COLUMNS: (
    feedback_links::id,
    feedback_links::booking_id,
    feedback_links::created_at,
    feedback_links::expires_at,
) = (
    feedback_links::id,
    feedback_links::booking_id,
    feedback_links::created_at,
    feedback_links::expires_at,
);

/// The links with their answers counted, in one query for all of them.
fn with_answers(conn: &mut AnyConnection, rows: Vec<LinkRow>) -> AppResult<Vec<FeedbackLink>> {
    let ids: Vec<i32> = rows.iter().map(|r| r.0).collect();
    let counts: std::collections::HashMap<i32, i64> = feedback_rows::table
        .filter(feedback_rows::link_id.eq_any(&ids))
        .group_by(feedback_rows::link_id)
        .select((
            feedback_rows::link_id.assume_not_null(),
            diesel::dsl::count_star(),
        ))
        .load::<(i32, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|(id, booking_id, created_at, expires_at)| FeedbackLink {
            id,
            booking_id,
            created_at,
            expires_at,
            answers: counts.get(&id).copied().unwrap_or(0),
        })
        .collect())
}

/// What the form shows: the programme and school it is about, and the statements.
#[derive(Debug, Clone)]
pub struct FormContext {
    pub link_id: i32,
    pub booking_id: i32,
    pub programme_id: i32,
    pub programme_title: String,
    pub event_id: Option<i32>,
    pub school_id: i32,
    pub school_name: String,
    pub statements: Vec<Statement>,
    /// Answers the booking's links may still take.
    pub answers_left: i32,
}

/// How many answers a booking's links take in all: the people it booked (one link is one
/// respondent group), so one link cannot be used to flood the ratings.
pub fn answer_cap(pupils: i32, staff: i32) -> i32 {
    (pupils + staff).max(1)
}

/// The booking's school and status, if the actor may manage its feedback links.
fn booking_for(
    conn: &mut AnyConnection,
    actor: &Actor,
    booking_id: i32,
) -> AppResult<(i32, String, i32, i32, i32)> {
    let (school_id, status, pupils, staff, answered): (i32, String, i32, i32, i32) =
        bookings::table
            .find(booking_id)
            .select((
                bookings::school_id,
                bookings::status,
                bookings::pupils,
                bookings::staff,
                bookings::feedback_answers,
            ))
            .first(conn)?;
    let allowed =
        actor.role.is_staff() || (actor.role == Role::School && actor.school_id == Some(school_id));
    if !allowed {
        return Err(if actor.role == Role::School {
            AppError::NotFound
        } else {
            AppError::Forbidden
        });
    }
    Ok((school_id, status, pupils, staff, answered))
}

/// The booking's links, newest first (staff, or the booking's own school).
pub fn links(
    conn: &mut AnyConnection,
    actor: &Actor,
    booking_id: i32,
) -> AppResult<Vec<FeedbackLink>> {
    booking_for(conn, actor, booking_id)?;
    let rows = feedback_links::table
        .filter(feedback_links::booking_id.eq(booking_id))
        .order(feedback_links::id.desc())
        .select(LINK_COLUMNS)
        .load(conn)?;
    with_answers(conn, rows)
}

/// Makes a new link for a confirmed booking and returns it with its secret, which is
/// stored only as a hash and shown this once. A booking may have several links (a class
/// each); together they take at most `answer_cap` answers.
pub fn make_link(
    conn: &mut AnyConnection,
    actor: &Actor,
    booking_id: i32,
) -> AppResult<(FeedbackLink, String)> {
    let token = random_secret()?;
    crate::db::write(conn, |conn| {
        let (_, status, ..) = booking_for(conn, actor, booking_id)?;
        if status != "confirmed" {
            return Err(AppError::Conflict(
                "only a confirmed booking has feedback links".into(),
            ));
        }
        let at = now();
        let id: i32 = diesel::insert_into(feedback_links::table)
            .values((
                feedback_links::booking_id.eq(booking_id),
                feedback_links::token_hash.eq(hash_secret(&token)),
                feedback_links::created_by.eq(actor.user_id),
                feedback_links::created_at.eq(at),
                feedback_links::expires_at.eq(at + Duration::days(LINK_DAYS)),
            ))
            .returning(feedback_links::id)
            .get_result(conn)?;
        let row: LinkRow = feedback_links::table
            .find(id)
            .select(LINK_COLUMNS)
            .first(conn)?;
        let link = with_answers(conn, vec![row])?.remove(0);
        audit::record(
            conn,
            Some(actor.user_id),
            "booking",
            booking_id,
            "feedback_link",
            None,
            Some(&serde_json::json!({"link_id": id, "expires_at": link.expires_at})),
        )?;
        Ok((link, token.clone()))
    })
}

/// The form behind a token; a wrong or expired token, or a booking no longer confirmed,
/// is not found.
pub fn open(conn: &mut AnyConnection, token: &str) -> AppResult<FormContext> {
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    #[derive(Queryable)]
    struct Found {
        link_id: i32,
        expires_at: NaiveDateTime,
        booking_id: i32,
        event_id: Option<i32>,
        slot_id: Option<i32>,
        school_id: i32,
        school_name: String,
        status: String,
        pupils: i32,
        staff: i32,
        answered: i32,
    }
    let found: Option<Found> = feedback_links::table
        .inner_join(bookings::table.inner_join(schools::table))
        .filter(feedback_links::token_hash.eq(hash_secret(token)))
        .select((
            feedback_links::id,
            feedback_links::expires_at,
            bookings::id,
            bookings::event_id,
            bookings::slot_id,
            bookings::school_id,
            schools::name,
            bookings::status,
            bookings::pupils,
            bookings::staff,
            bookings::feedback_answers,
        ))
        .first(conn)
        .optional()?;
    let f = found.ok_or(AppError::NotFound)?;
    if f.status != BookingStatus::Confirmed.as_str() || f.expires_at <= now() {
        return Err(AppError::NotFound);
    }
    let programme_id = programme_of(conn, f.event_id, f.slot_id)?;
    let programme_title: String = programmes::table
        .find(programme_id)
        .select(programmes::title)
        .first(conn)?;
    let statements = feedback::statements(conn, programme_id)?;
    Ok(FormContext {
        link_id: f.link_id,
        booking_id: f.booking_id,
        programme_id,
        programme_title,
        event_id: f.event_id,
        school_id: f.school_id,
        school_name: f.school_name,
        statements,
        answers_left: (answer_cap(f.pupils, f.staff) - f.answered).max(0),
    })
}

/// The programme of a booking's event or tour date.
fn programme_of(
    conn: &mut AnyConnection,
    event_id: Option<i32>,
    slot_id: Option<i32>,
) -> AppResult<i32> {
    Ok(match (event_id, slot_id) {
        (Some(e), _) => events::table
            .find(e)
            .select(events::programme_id)
            .first(conn)?,
        (None, Some(slot)) => tour_slots::table
            .find(slot)
            .select(tour_slots::programme_id)
            .first(conn)?,
        (None, None) => return Err(AppError::NotFound),
    })
}

/// Records an answer through a link: under an hourly rate limit per link and per client
/// (each attempt reserved before it is checked), and within the booking's answer cap
/// (held by one conditional UPDATE, so concurrent answers cannot pass it). Answers wait
/// for a lead's moderation before they count in published figures.
pub fn answer(
    conn: &mut AnyConnection,
    token: &str,
    input: &Input,
    client: &str,
) -> AppResult<Feedback> {
    let ctx = open(conn, token)?;
    let answer = parse_answer(input, &ctx)?;
    if ctx.answers_left == 0 {
        return Err(full());
    }
    reserve_attempt(conn, ctx.link_id, client)?;
    crate::db::write(conn, |conn| {
        // The first statement writes, so SQLite takes its write lock before any read.
        // Every booking holds at least one place, so the cap is at least one answer.
        let counted = diesel::update(
            bookings::table
                .find(ctx.booking_id)
                .filter(bookings::feedback_answers.lt(bookings::pupils + bookings::staff)),
        )
        .set(bookings::feedback_answers.eq(bookings::feedback_answers + 1))
        .execute(conn)?;
        if counted == 0 {
            return Err(full());
        }
        feedback::create(
            conn,
            None,
            "form",
            FeedbackInput {
                programme_id: ctx.programme_id,
                event_id: ctx.event_id,
                school_id: Some(ctx.school_id),
                booking_id: Some(ctx.booking_id),
                link_id: Some(ctx.link_id),
                ..answer.clone()
            },
        )
    })
}

/// The fields of an answer through the form (its programme's outcome statements among
/// them), checked; the booking's ids are filled in by `answer`.
fn parse_answer(input: &Input, ctx: &FormContext) -> AppResult<FeedbackInput> {
    let mut v = input.validator();
    let role = v.choice::<RespondentRole>("role");
    let quote = v.text_or_empty("quote", feedback::MAX_QUOTE);
    let rating = v.int_opt("rating", 1, 5);
    let consent = v.flag("consent");
    let mut answers = Vec::new();
    for st in &ctx.statements {
        if let Some(a) = v.int_opt(&format!("outcome_{}", st.id), 1, 5) {
            answers.push((st.id, a));
        }
    }
    if quote.is_empty() && rating.is_none() && answers.is_empty() && !v.has_error("rating") {
        v.error("quote", "write a few words, or give a rating");
    }
    v.finish()?;
    Ok(FeedbackInput {
        programme_id: ctx.programme_id,
        event_id: ctx.event_id,
        school_id: Some(ctx.school_id),
        booking_id: Some(ctx.booking_id),
        link_id: Some(ctx.link_id),
        role: role.unwrap_or(RespondentRole::Other),
        quote,
        rating,
        consent,
        answers,
    })
}

/// Counts an attempt against the hourly limits of the link and of the client, refusing
/// it when either is spent.
fn reserve_attempt(conn: &mut AnyConnection, link_id: i32, client: &str) -> AppResult<()> {
    let link_key = throttle::key("feedback-link", &link_id.to_string());
    let client_key = throttle::key("feedback-client", client);
    let hour = Duration::hours(1);
    throttle::reserve(
        conn,
        &[
            throttle::Limit {
                key: &link_key,
                limit: ANSWERS_PER_HOUR,
                window: hour,
            },
            throttle::Limit {
                key: &client_key,
                limit: ANSWERS_PER_HOUR * 2,
                window: hour,
            },
        ],
        "this form has had many answers in the last hour; please try again later",
    )?;
    Ok(())
}

/// A booking's links as a lead sees them on the programme's feedback page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BookingLinks {
    pub booking_id: i32,
    pub school_name: String,
    pub links: i64,
    pub answers: i32,
    pub cap: i32,
}

/// Every booking of a programme that has feedback links, with its answers and cap.
pub fn by_programme(conn: &mut AnyConnection, programme_id: i32) -> AppResult<Vec<BookingLinks>> {
    let rows: Vec<(i32, String, i32, i32, i32)> = feedback_links::table
        .inner_join(
            bookings::table
                .inner_join(schools::table)
                .left_join(events::table)
                .left_join(tour_slots::table),
        )
        .filter(
            events::programme_id
                .nullable()
                .eq(programme_id)
                .or(tour_slots::programme_id.nullable().eq(programme_id)),
        )
        .order((schools::name.asc(), bookings::id.asc()))
        .select((
            bookings::id,
            schools::name,
            bookings::pupils,
            bookings::staff,
            bookings::feedback_answers,
        ))
        .load(conn)?;
    let mut out: Vec<BookingLinks> = Vec::new();
    for (booking_id, school_name, pupils, staff, answers) in rows {
        match out.last_mut() {
            Some(last) if last.booking_id == booking_id => last.links += 1,
            _ => out.push(BookingLinks {
                booking_id,
                school_name,
                links: 1,
                answers,
                cap: answer_cap(pupils, staff),
            }),
        }
    }
    Ok(out)
}

fn full() -> AppError {
    AppError::Conflict(
        "this booking's feedback form has had an answer from everyone it booked; thank you".into(),
    )
}

/// The role choices of the form, for people.
pub fn roles() -> Vec<(&'static str, &'static str)> {
    RespondentRole::ALL
        .iter()
        .map(|r| (r.as_str(), r.label()))
        .collect()
}
