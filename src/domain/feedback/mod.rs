//! Feedback: quotes and form answers (rating, outcome statements), their consent and
//! moderation. A quote leaves the lead's view only when consent is given and it is approved.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{events, feedback, outcome_answers, programmes, schools};
use crate::db::AnyConnection;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::{ListParams, Page};
use crate::domain::types::{Moderation, RespondentRole, Role};
use crate::domain::{
    audit, like_pattern, lower, must_exist, programmes as programme_domain, to_json, Actor,
};
use crate::error::{AppError, AppResult};

mod outcomes;

pub use outcomes::{
    add_statement, statements, statements_for, summary, summary_for, OutcomeSummary, Statement,
    Summary,
};

pub const MAX_QUOTE: usize = 2000;

#[derive(Queryable, Selectable)]
#[diesel(table_name = feedback)]
struct Row {
    id: i32,
    programme_id: i32,
    event_id: Option<i32>,
    school_id: Option<i32>,
    booking_id: Option<i32>,
    link_id: Option<i32>,
    role: String,
    quote: String,
    rating: Option<i32>,
    consent: bool,
    moderation: String,
    featured: bool,
    source: String,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Feedback {
    pub id: i32,
    pub programme_id: i32,
    pub event_id: Option<i32>,
    pub school_id: Option<i32>,
    pub school_name: Option<String>,
    pub booking_id: Option<i32>,
    /// The feedback link it came through, for answers from the form.
    pub link_id: Option<i32>,
    pub role: RespondentRole,
    pub quote: String,
    pub rating: Option<i32>,
    pub consent: bool,
    pub moderation: Moderation,
    pub featured: bool,
    pub source: String,
    #[serde(serialize_with = "crate::domain::when::naive")]
    pub created_at: NaiveDateTime,
    pub answers: Vec<Answer>,
}

impl Feedback {
    pub fn moderation_key(&self) -> &'static str {
        self.moderation.as_str()
    }

    pub fn source_label(&self) -> &'static str {
        if self.source == "form" {
            "from the feedback form"
        } else {
            "recorded by a lead"
        }
    }

    /// May be shown outside the lead's moderation view.
    pub fn published(&self) -> bool {
        self.consent && self.moderation == Moderation::Approved
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Answer {
    pub statement_id: i32,
    pub answer: i32,
}

#[derive(Clone)]
pub struct FeedbackInput {
    pub programme_id: i32,
    pub event_id: Option<i32>,
    pub school_id: Option<i32>,
    pub booking_id: Option<i32>,
    /// The feedback link it came through, for answers from the form.
    pub link_id: Option<i32>,
    pub role: RespondentRole,
    pub quote: String,
    pub rating: Option<i32>,
    pub consent: bool,
    pub answers: Vec<(i32, i32)>,
}

/// Checks the fields; `quote_required` for a lead's quote, a form may give a rating alone.
pub fn parse(
    conn: &mut AnyConnection,
    input: &Input,
    quote_required: bool,
) -> AppResult<FeedbackInput> {
    let mut v = input.validator();
    let programme_id = v.id_opt("programme_id");
    if programme_id.is_none() && !v.has_error("programme_id") {
        v.error("programme_id", "is required");
    }
    let event_id = v.id_opt("event_id");
    let school_id = v.id_opt("school_id");
    let role = v.choice::<RespondentRole>("role");
    let quote = if quote_required {
        v.text("quote", MAX_QUOTE)
    } else {
        v.text_or_empty("quote", MAX_QUOTE)
    };
    let rating = v.int_opt("rating", 1, 5);
    if !input.has("consent") {
        v.error(
            "consent",
            "say whether the quote may be published (true or false)",
        );
    }
    let consent = v.flag("consent");
    if !quote_required && quote.is_empty() && rating.is_none() && !v.has_error("rating") {
        v.error("quote", "write a few words, or give a rating");
    }
    v.finish()?;
    let programme_id = programme_id.unwrap_or_default();
    must_exist(
        programmes::table
            .find(programme_id)
            .select(programmes::id)
            .first::<i32>(conn),
        "programme_id",
    )?;
    if let Some(e) = event_id {
        let owner: i32 = must_exist(
            events::table
                .find(e)
                .select(events::programme_id)
                .first(conn),
            "event_id",
        )?;
        if owner != programme_id {
            return Err(AppError::field(
                "event_id",
                "is an event of another programme",
            ));
        }
    }
    if let Some(s) = school_id {
        must_exist(
            schools::table
                .find(s)
                .select(schools::id)
                .first::<i32>(conn),
            "school_id",
        )?;
    }
    Ok(FeedbackInput {
        programme_id,
        event_id,
        school_id,
        booking_id: None,
        link_id: None,
        role: role.unwrap_or(RespondentRole::Other),
        quote,
        rating,
        consent,
        answers: Vec::new(),
    })
}

fn answers_of(conn: &mut AnyConnection, ids: &[i32]) -> AppResult<Vec<(i32, Answer)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(outcome_answers::table
        .filter(crate::db::among(&*conn, outcome_answers::feedback_id, ids))
        .order(outcome_answers::id.asc())
        .select((
            outcome_answers::feedback_id,
            outcome_answers::statement_id,
            outcome_answers::answer,
        ))
        .load::<(i32, i32, i32)>(conn)?
        .into_iter()
        .map(|(f, statement_id, answer)| {
            (
                f,
                Answer {
                    statement_id,
                    answer,
                },
            )
        })
        .collect())
}

fn views(conn: &mut AnyConnection, rows: Vec<(Row, Option<String>)>) -> AppResult<Vec<Feedback>> {
    let ids: Vec<i32> = rows.iter().map(|(r, _)| r.id).collect();
    let answers = answers_of(conn, &ids)?;
    rows.into_iter()
        .map(|(r, school_name)| {
            Ok(Feedback {
                answers: answers
                    .iter()
                    .filter(|(f, _)| *f == r.id)
                    .map(|(_, a)| a.clone())
                    .collect(),
                id: r.id,
                programme_id: r.programme_id,
                event_id: r.event_id,
                school_id: r.school_id,
                school_name,
                booking_id: r.booking_id,
                link_id: r.link_id,
                role: RespondentRole::from_db(&r.role)?,
                quote: r.quote,
                rating: r.rating,
                consent: r.consent,
                moderation: Moderation::from_db(&r.moderation)?,
                featured: r.featured,
                source: r.source,
                created_at: r.created_at,
            })
        })
        .collect()
}

fn load(conn: &mut AnyConnection, id: i32) -> AppResult<Feedback> {
    let row: (Row, Option<String>) = feedback::table
        .left_join(schools::table)
        .filter(feedback::id.eq(id))
        .select((Row::as_select(), schools::name.nullable()))
        .first(conn)?;
    views(conn, vec![row])?.pop().ok_or(AppError::NotFound)
}

/// What the actor may see of one piece of feedback.
pub fn get(conn: &mut AnyConnection, actor: &Actor, id: i32) -> AppResult<Feedback> {
    let f = load(conn, id)?;
    programme_domain::get(conn, actor, f.programme_id)?;
    let visible = match actor.role {
        Role::Lead | Role::Admin => true,
        Role::School => f.published() && f.school_id.is_some() && f.school_id == actor.school_id,
        Role::Funder => f.published(),
    };
    if visible {
        Ok(f)
    } else {
        Err(AppError::NotFound)
    }
}

/// Which feedback of a programme a list shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Filter {
    All,
    /// Consent given and approved: the quote bank and every export.
    Published,
    Featured,
}

pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
    params: &ListParams,
    filter: Filter,
) -> AppResult<Page<Feedback>> {
    programme_domain::get(conn, actor, programme_id)?;
    let which = Which {
        programme_id: Some(programme_id),
        ..Which::default()
    };
    search(conn, actor, &which, params, filter)
}

/// Which feedback a list across programmes holds: any left out means any.
#[derive(Debug, Clone, Default)]
pub struct Which {
    pub programme_id: Option<i32>,
    pub school_id: Option<i32>,
    pub moderation: Option<Moderation>,
}

impl Which {
    /// Reads `programme_id`, `school_id` and `moderation`.
    pub fn parse(input: &Input) -> AppResult<Which> {
        let mut v = input.validator();
        let which = Which {
            programme_id: v.id_opt("programme_id"),
            school_id: v.id_opt("school_id"),
            moderation: v.choice_opt::<Moderation>("moderation"),
        };
        v.finish()?;
        Ok(which)
    }
}

/// Feedback the actor may see, across programmes: staff all of it; a funder what is
/// published of its organisation's programmes; a school what is published of its own.
pub fn search(
    conn: &mut AnyConnection,
    actor: &Actor,
    which: &Which,
    params: &ListParams,
    filter: Filter,
) -> AppResult<Page<Feedback>> {
    let (total, items) = find(conn, actor, which, params, filter, true)?;
    Ok(Page::new(items, params, total.unwrap_or_default()))
}

/// The first `how_many` featured, published quotes of a programme, for a page that has
/// already checked that the actor may see it: one query for the quotes (and one for their
/// answers), with no count and no second access check.
pub fn featured(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
    how_many: i64,
) -> AppResult<Vec<Feedback>> {
    let which = Which {
        programme_id: Some(programme_id),
        ..Which::default()
    };
    let params = ListParams {
        page: 1,
        per_page: how_many,
        q: None,
        include_archived: false,
    };
    Ok(find(conn, actor, &which, &params, Filter::Featured, false)?.1)
}

/// `search`'s page of feedback, with the total when `counted`.
fn find(
    conn: &mut AnyConnection,
    actor: &Actor,
    which: &Which,
    params: &ListParams,
    filter: Filter,
    counted: bool,
) -> AppResult<(Option<i64>, Vec<Feedback>)> {
    // Outside the lead's moderation view, only published feedback is ever listed.
    let filter = match actor.role {
        Role::Funder | Role::School if filter == Filter::All => Filter::Published,
        _ => filter,
    };
    let funded: Option<Vec<i32>> = match actor.role {
        Role::Funder => Some(
            programmes::table
                .filter(programmes::organisation_id.eq(actor.organisation_id.unwrap_or(-1)))
                .select(programmes::id)
                .load(conn)?,
        ),
        _ => None,
    };
    let dialect = crate::db::Dialect::from(&*conn);
    let query = || {
        let mut q = feedback::table.left_join(schools::table).into_boxed();
        if let Some(p) = which.programme_id {
            q = q.filter(feedback::programme_id.eq(p));
        }
        if let Some(s) = which.school_id {
            q = q.filter(feedback::school_id.eq(s));
        }
        if let Some(m) = which.moderation {
            q = q.filter(feedback::moderation.eq(m.as_str()));
        }
        if let Some(ids) = &funded {
            q = q.filter(crate::db::among(dialect, feedback::programme_id, ids));
        }
        if filter != Filter::All {
            q = q
                .filter(feedback::consent.eq(true))
                .filter(feedback::moderation.eq(Moderation::Approved.as_str()));
        }
        if filter == Filter::Featured {
            q = q.filter(feedback::featured.eq(true));
        }
        if actor.role == Role::School {
            q = q.filter(feedback::school_id.eq(actor.school_id.unwrap_or(-1)));
        }
        if let Some(term) = &params.q {
            q = q.filter(lower(feedback::quote).like(like_pattern(term)).escape('\\'));
        }
        q
    };
    let total: Option<i64> = if counted {
        Some(query().count().get_result(conn)?)
    } else {
        None
    };
    let rows = query()
        .order((feedback::featured.desc(), feedback::id.desc()))
        .limit(params.per_page)
        .offset(params.offset())
        .select((Row::as_select(), schools::name.nullable()))
        .load(conn)?;
    Ok((total, views(conn, rows)?))
}

pub fn create(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    source: &str,
    f: FeedbackInput,
) -> AppResult<Feedback> {
    crate::db::write(conn, |conn| {
        let at = now();
        let id: i32 = diesel::insert_into(feedback::table)
            .values((
                feedback::programme_id.eq(f.programme_id),
                feedback::event_id.eq(f.event_id),
                feedback::school_id.eq(f.school_id),
                feedback::booking_id.eq(f.booking_id),
                feedback::link_id.eq(f.link_id),
                feedback::role.eq(f.role.as_str()),
                feedback::quote.eq(&f.quote),
                feedback::rating.eq(f.rating),
                feedback::consent.eq(f.consent),
                feedback::source.eq(source),
                feedback::created_by.eq(actor.map(|a| a.user_id)),
                feedback::created_at.eq(at),
                feedback::updated_at.eq(at),
            ))
            .returning(feedback::id)
            .get_result(conn)?;
        for (statement_id, answer) in &f.answers {
            diesel::insert_into(outcome_answers::table)
                .values((
                    outcome_answers::feedback_id.eq(id),
                    outcome_answers::statement_id.eq(statement_id),
                    outcome_answers::answer.eq(answer),
                ))
                .execute(conn)?;
        }
        let created = load(conn, id)?;
        audit::record(
            conn,
            actor.map(|a| a.user_id),
            "feedback",
            id,
            "create",
            None,
            Some(&to_json(&created)),
        )?;
        Ok(created)
    })
}

/// Approves, rejects or (un)features feedback. Featuring needs consent and approval.
pub fn moderate(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    moderation: Option<Moderation>,
    featured: Option<bool>,
) -> AppResult<Feedback> {
    crate::db::write(conn, |conn| {
        let before = load(conn, id)?;
        let moderation = moderation.unwrap_or(before.moderation);
        let featured = featured.unwrap_or(before.featured) && moderation == Moderation::Approved;
        if featured && !before.consent {
            return Err(AppError::field(
                "featured",
                "a quote without consent to publish cannot be featured",
            ));
        }
        diesel::update(feedback::table.find(id))
            .set((
                feedback::moderation.eq(moderation.as_str()),
                feedback::featured.eq(featured),
                feedback::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let after = load(conn, id)?;
        audit::record(
            conn,
            Some(actor.user_id),
            "feedback",
            id,
            "moderate",
            Some(
                &serde_json::json!({"moderation": before.moderation, "featured": before.featured}),
            ),
            Some(&serde_json::json!({"moderation": after.moderation, "featured": after.featured})),
        )?;
        Ok(after)
    })
}
