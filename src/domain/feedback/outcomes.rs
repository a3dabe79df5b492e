//! Outcome statements ("I know how to help a friend who is being pressured") and the
//! summary of a programme's ratings and outcome answers: what counts, and how much.

use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{feedback, outcome_answers, outcome_statements, programmes};
use crate::db::AnyConnection;
use crate::domain::input::{Input, TextEnum};
use crate::domain::types::Moderation;
use crate::domain::{audit, must_exist, Actor};
use crate::error::AppResult;

/// A statement of a programme's feedback form, answered on a five-point scale.
#[derive(Debug, Clone, Serialize, Queryable, utoipa::ToSchema)]
pub struct Statement {
    pub id: i32,
    pub programme_id: i32,
    pub text: String,
    pub position: i32,
}

pub fn statements(conn: &mut AnyConnection, programme_id: i32) -> AppResult<Vec<Statement>> {
    Ok(outcome_statements::table
        .filter(outcome_statements::programme_id.eq(programme_id))
        .order((
            outcome_statements::position.asc(),
            outcome_statements::id.asc(),
        ))
        .select((
            outcome_statements::id,
            outcome_statements::programme_id,
            outcome_statements::text,
            outcome_statements::position,
        ))
        .load(conn)?)
}

pub fn add_statement(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
    input: &Input,
) -> AppResult<Statement> {
    let mut v = input.validator();
    let text = v.text("text", 300);
    v.finish()?;
    crate::db::write(conn, |conn| {
        must_exist(
            programmes::table
                .find(programme_id)
                .select(programmes::id)
                .first::<i32>(conn),
            "programme_id",
        )?;
        let position = statements(conn, programme_id)?.len() as i32 + 1;
        let id: i32 = diesel::insert_into(outcome_statements::table)
            .values((
                outcome_statements::programme_id.eq(programme_id),
                outcome_statements::text.eq(&text),
                outcome_statements::position.eq(position),
            ))
            .returning(outcome_statements::id)
            .get_result(conn)?;
        audit::record(
            conn,
            Some(actor.user_id),
            "outcome_statement",
            id,
            "create",
            None,
            Some(&serde_json::json!({"text": text})),
        )?;
        Ok(Statement {
            id,
            programme_id,
            text: text.clone(),
            position,
        })
    })
}

/// Ratings and outcome answers of a programme's feedback, summarised. What a lead recorded
/// counts unless rejected; an answer through a feedback link counts once a lead approved
/// it (so a flood through one link never reaches the figures). Consent is about
/// publishing words, so a rating without it still counts.
#[derive(Debug, Clone, Serialize, Default, utoipa::ToSchema)]
pub struct Summary {
    pub responses: i64,
    /// Answers through feedback links waiting for a lead; not counted until approved.
    pub awaiting_moderation: i64,
    pub ratings: i64,
    pub average_rating: Option<f64>,
    /// per rating 1..=5, how many
    pub rating_counts: [i64; 5],
    pub outcomes: Vec<OutcomeSummary>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutcomeSummary {
    pub statement_id: i32,
    pub text: String,
    pub answers: i64,
    /// answers of 4 or 5 (agree, strongly agree)
    pub agree: i64,
    pub percent_agree: Option<i64>,
}

/// The summary of a programme the actor may see.
pub fn summary_for(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
) -> AppResult<Summary> {
    crate::domain::programmes::get(conn, actor, programme_id)?;
    summary(conn, programme_id)
}

/// The statements of a programme the actor may see.
pub fn statements_for(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
) -> AppResult<Vec<Statement>> {
    crate::domain::programmes::get(conn, actor, programme_id)?;
    statements(conn, programme_id)
}

/// Three queries whatever the programme holds: its feedback by source, moderation and
/// rating; its statements; and every statement's answers at once.
pub fn summary(conn: &mut AnyConnection, programme_id: i32) -> AppResult<Summary> {
    let approved = Moderation::Approved.as_str();
    let rejected = Moderation::Rejected.as_str();
    let pending = Moderation::Pending.as_str();
    let groups: Vec<(String, String, Option<i32>, i64)> = feedback::table
        .filter(feedback::programme_id.eq(programme_id))
        .group_by((feedback::source, feedback::moderation, feedback::rating))
        .select((
            feedback::source,
            feedback::moderation,
            feedback::rating,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let mut s = Summary::default();
    let mut sum = 0;
    for (source, moderation, rating, n) in groups {
        if source == "form" && moderation == pending {
            s.awaiting_moderation += n;
        }
        // What counts: a lead's record unless rejected, an answer through a link once
        // approved.
        let counts = moderation != rejected && (source == "lead" || moderation == approved);
        if !counts {
            continue;
        }
        s.responses += n;
        if let Some(r @ 1..=5) = rating {
            s.rating_counts[(r - 1) as usize] += n;
            s.ratings += n;
            sum += i64::from(r) * n;
        }
    }
    s.average_rating =
        (s.ratings > 0).then(|| (sum as f64 / s.ratings as f64 * 10.0).round() / 10.0);
    let list = statements(conn, programme_id)?;
    let counts: Vec<(i32, i32, i64)> = if list.is_empty() {
        Vec::new()
    } else {
        outcome_answers::table
            .inner_join(feedback::table)
            .inner_join(outcome_statements::table)
            .filter(outcome_statements::programme_id.eq(programme_id))
            .filter(feedback::moderation.ne(rejected))
            .filter(
                feedback::source
                    .eq("lead")
                    .or(feedback::moderation.eq(approved)),
            )
            .group_by((outcome_answers::statement_id, outcome_answers::answer))
            .select((
                outcome_answers::statement_id,
                outcome_answers::answer,
                diesel::dsl::count_star(),
            ))
            .load(conn)?
    };
    for st in list {
        let of_this = || counts.iter().filter(|c| c.0 == st.id);
        let answers: i64 = of_this().map(|c| c.2).sum();
        let agree: i64 = of_this().filter(|c| c.1 >= 4).map(|c| c.2).sum();
        s.outcomes.push(OutcomeSummary {
            statement_id: st.id,
            text: st.text,
            answers,
            agree,
            percent_agree: (answers > 0).then(|| (agree * 200 + answers) / (2 * answers)),
        });
    }
    Ok(s)
}
