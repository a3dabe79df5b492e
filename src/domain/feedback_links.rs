//! Feedback links: a random, unguessable token per confirmed booking that opens the
//! feedback form without a login. A link expires and opens nothing else.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{bookings, events, login_attempts, programmes, schools};
use crate::db::AnyConnection;
use crate::domain::feedback::{self, Feedback, FeedbackInput, Statement};
use crate::domain::input::{Input, TextEnum};
use crate::domain::tokens::random_secret;
use crate::domain::types::{RespondentRole, Role};
use crate::domain::{audit, Actor};
use crate::error::{AppError, AppResult};

/// How long a link stays open.
pub const LINK_DAYS: i64 = 90;
/// Answers accepted per link per hour (a class may share one link).
pub const ANSWERS_PER_HOUR: i64 = 60;

#[derive(Debug, Clone, Serialize)]
pub struct FeedbackLink {
    pub booking_id: i32,
    pub token: String,
    pub expires_at: NaiveDateTime,
}

/// What the form shows: the programme and school it is about, and the statements.
#[derive(Debug, Clone)]
pub struct FormContext {
    pub booking_id: i32,
    pub programme_id: i32,
    pub programme_title: String,
    pub event_id: Option<i32>,
    pub school_id: i32,
    pub school_name: String,
    pub statements: Vec<Statement>,
}

/// The booking's link, made on first asking (or anew once expired). Staff, or the
/// booking's own school, may ask.
pub fn link_for_booking(
    conn: &mut AnyConnection,
    actor: &Actor,
    booking_id: i32,
) -> AppResult<FeedbackLink> {
    conn.transaction(|conn| {
        let (school_id, status, token, expires): (
            i32,
            String,
            Option<String>,
            Option<NaiveDateTime>,
        ) = bookings::table
            .find(booking_id)
            .select((
                bookings::school_id,
                bookings::status,
                bookings::feedback_token,
                bookings::feedback_expires_at,
            ))
            .first(conn)?;
        let allowed = actor.role.is_staff()
            || (actor.role == Role::School && actor.school_id == Some(school_id));
        if !allowed {
            return Err(if actor.role == Role::School {
                AppError::NotFound
            } else {
                AppError::Forbidden
            });
        }
        if status != "confirmed" {
            return Err(AppError::Conflict(
                "only a confirmed booking has a feedback link".into(),
            ));
        }
        if let (Some(token), Some(expires_at)) = (token, expires) {
            if expires_at > now() {
                return Ok(FeedbackLink {
                    booking_id,
                    token,
                    expires_at,
                });
            }
        }
        let token = random_secret()?;
        let expires_at = now() + Duration::days(LINK_DAYS);
        diesel::update(bookings::table.find(booking_id))
            .set((
                bookings::feedback_token.eq(&token),
                bookings::feedback_expires_at.eq(expires_at),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            Some(actor.user_id),
            "booking",
            booking_id,
            "feedback_link",
            None,
            Some(&serde_json::json!({"expires_at": expires_at})),
        )?;
        Ok(FeedbackLink {
            booking_id,
            token,
            expires_at,
        })
    })
}

/// The form behind a token; a wrong or expired token is not found.
pub fn open(conn: &mut AnyConnection, token: &str) -> AppResult<FormContext> {
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    type Found = (i32, Option<i32>, i32, String, Option<NaiveDateTime>, String);
    let found: Option<Found> = bookings::table
        .inner_join(schools::table)
        .filter(bookings::feedback_token.eq(token))
        .select((
            bookings::id,
            bookings::event_id,
            bookings::school_id,
            schools::name,
            bookings::feedback_expires_at,
            bookings::status,
        ))
        .first(conn)
        .optional()?;
    let Some((booking_id, event_id, school_id, school_name, expires_at, status)) = found else {
        return Err(AppError::NotFound);
    };
    if status != "confirmed" || expires_at.is_none_or(|e| e <= now()) {
        return Err(AppError::NotFound);
    }
    let programme_id: i32 = match event_id {
        Some(e) => events::table
            .find(e)
            .select(events::programme_id)
            .first(conn)?,
        None => {
            let slot: Option<i32> = bookings::table
                .find(booking_id)
                .select(bookings::slot_id)
                .first(conn)?;
            crate::db::schema::tour_slots::table
                .find(slot.ok_or(AppError::NotFound)?)
                .select(crate::db::schema::tour_slots::programme_id)
                .first(conn)?
        }
    };
    let programme_title: String = programmes::table
        .find(programme_id)
        .select(programmes::title)
        .first(conn)?;
    let statements = feedback::statements(conn, programme_id)?;
    Ok(FormContext {
        booking_id,
        programme_id,
        programme_title,
        event_id,
        school_id,
        school_name,
        statements,
    })
}

/// Records an answer through a link, under its rate limit.
pub fn answer(
    conn: &mut AnyConnection,
    token: &str,
    input: &Input,
    client: &str,
) -> AppResult<Feedback> {
    let ctx = open(conn, token)?;
    let key = format!("feedback:{}", &token[..16]);
    let client_key = format!("feedback-client:{client}");
    let since = now() - Duration::hours(1);
    for (k, limit) in [
        (&key, ANSWERS_PER_HOUR),
        (&client_key, ANSWERS_PER_HOUR * 2),
    ] {
        let n: i64 = login_attempts::table
            .filter(login_attempts::key.eq(k))
            .filter(login_attempts::attempted_at.gt(since))
            .count()
            .get_result(conn)?;
        if n >= limit {
            return Err(AppError::TooManyRequests(
                "this form has had many answers in the last hour; please try again later".into(),
            ));
        }
    }
    let mut v = input.validator();
    let role = v.choice::<RespondentRole>("role");
    let quote = v.text_or_empty("quote", feedback::MAX_QUOTE);
    let rating = v.int_opt("rating", 1, 5);
    let consent = v.flag("consent");
    let mut answers = Vec::new();
    for st in &ctx.statements {
        let name = format!("outcome_{}", st.id);
        if let Some(a) = v.int_opt(&name, 1, 5) {
            answers.push((st.id, a));
        }
    }
    if quote.is_empty() && rating.is_none() && answers.is_empty() && !v.has_error("rating") {
        v.error("quote", "write a few words, or give a rating");
    }
    v.finish()?;
    conn.transaction(|conn| {
        for k in [&key, &client_key] {
            diesel::insert_into(login_attempts::table)
                .values((
                    login_attempts::key.eq(k),
                    login_attempts::attempted_at.eq(now()),
                ))
                .execute(conn)?;
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
                role: role.unwrap_or(RespondentRole::Other),
                quote,
                rating,
                consent,
                answers,
            },
        )
    })
}

/// The role choices of the form, for people.
pub fn roles() -> Vec<(&'static str, &'static str)> {
    RespondentRole::ALL
        .iter()
        .map(|r| (r.as_str(), r.label()))
        .collect()
}
