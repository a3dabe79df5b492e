//! Feedback pages: the lead's quote recording and moderation, and the quote bank (the
//! links a booking makes, and the form behind them, are in `feedback_links`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;

use crate::app::AppState;
use crate::domain::feedback::{self, Feedback, Filter, Statement};
use crate::domain::feedback_links;
use crate::domain::input::Input;
use crate::domain::list::ListQuery;
use crate::domain::types::{Moderation, RespondentRole};
use crate::domain::{events, programmes};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::web::auth::{CurrentUser, Staff};
use crate::web::forms::{form_input, form_outcome};
use crate::web::picker;
use crate::web::respond::done;
use crate::web::view::{Ctx, FieldsBuilder, FormField, PageCtx, RenderPage};

#[derive(Template)]
#[template(path = "feedback.html")]
struct FeedbackPage {
    ctx: PageCtx,
    programme_id: i32,
    programme_name: String,
    q: String,
    items: Vec<Feedback>,
    total: i64,
    page: i64,
    pages: i64,
    fields: Vec<FormField>,
    message: Option<String>,
    statements: Vec<Statement>,
    statement_error: Option<String>,
    /// Staff: bookings with feedback links, and answers waiting to be moderated.
    links: Vec<feedback_links::BookingLinks>,
    awaiting: i64,
}

struct Submitted {
    quote: Option<(Input, FieldErrors)>,
    statement_error: Option<String>,
}

async fn feedback_page(
    app: &AppState,
    ctx: Ctx,
    user: &crate::domain::users::User,
    id: i32,
    q: ListQuery,
    submitted: Submitted,
) -> AppResult<FeedbackPage> {
    let actor = user.actor();
    let params = q.params();
    let staff = user.role.is_staff();
    let filter = if staff {
        Filter::All
    } else {
        Filter::Published
    };
    let p2 = params.clone();
    let (p, list, statements, event_choices, (links, awaiting)) = app
        .db(move |c| {
            let p = programmes::get(c, &actor, id)?;
            let list = feedback::list(c, &actor, id, &p2, filter)?;
            let statements = feedback::statements(c, id)?;
            let e = if staff {
                let all = crate::domain::list::ListQuery {
                    per_page: Some("200".into()),
                    ..Default::default()
                }
                .params();
                events::list_for_programme(c, &actor, id, &all)?.items
            } else {
                Vec::new()
            };
            let links = if staff {
                (
                    feedback_links::by_programme(c, id)?,
                    feedback::summary(c, id)?.awaiting_moderation,
                )
            } else {
                (Vec::new(), 0)
            };
            Ok((p, list, statements, e, links))
        })
        .await?;
    let (input, errors, message) = match submitted.quote {
        Some((input, errors)) => (
            input,
            errors,
            Some("Please correct the fields marked below; nothing was saved.".to_string()),
        ),
        None => (
            Input::from_pairs([("role", "teacher")]),
            FieldErrors::new(),
            None,
        ),
    };
    let fields = quote_fields(&input, &errors, event_choices, app.config.time_zone);
    Ok(FeedbackPage {
        ctx: ctx.titled(if staff {
            format!("Feedback on {}", p.title)
        } else {
            format!("Quote bank: {}", p.title)
        }),
        programme_id: id,
        programme_name: format!("{} {}", p.title, p.year),
        q: params.q.unwrap_or_default(),
        total: list.total,
        page: list.page,
        pages: list.pages(),
        items: list.items,
        fields,
        message,
        statements,
        statement_error: submitted.statement_error,
        links,
        awaiting,
    })
}

/// The lead's form for recording a quote; `events` to choose the one it is about.
fn quote_fields(
    input: &Input,
    errors: &FieldErrors,
    events: Vec<events::Event>,
    tz: chrono_tz::Tz,
) -> Vec<FormField> {
    let mut f = FieldsBuilder::new(input, errors);
    f.required("quote", "Quote", "textarea");
    f.choice::<RespondentRole>("role", "Said by a", None);
    f.school("school", "School");
    let mut choices = vec![(String::new(), "— the programme as a whole —".to_string())];
    choices.extend(events.into_iter().map(|ev| {
        let when = crate::web::view::local(ev.starts_at, tz);
        (
            ev.id.to_string(),
            format!("{when} · {} · {}", ev.kind, ev.place()),
        )
    }));
    f.select("event_id", "About the event", choices);
    f.add("rating", "Rating (1–5)", "number");
    f.add(
        "consent",
        "They agreed that their words may be published",
        "checkbox",
    );
    f.finish()
}

pub async fn page(
    State(app): State<AppState>,
    ctx: Ctx,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i32>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    feedback_page(
        &app,
        ctx,
        &user,
        id,
        q,
        Submitted {
            quote: None,
            statement_error: None,
        },
    )
    .await?
    .page()
}

pub async fn record(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let mut input = form_input(pairs);
    input.set("programme_id", id.to_string());
    if !input.has("consent") {
        input.set("consent", "false");
    }
    let (actor, mut submitted) = (user.actor(), input.clone());
    let result = app
        .db(move |c| {
            let parsed = picker::parse_with_school(c, &mut submitted, |c, input| {
                feedback::parse(c, input, true)
            })?;
            feedback::create(c, Some(&actor), "lead", parsed)
        })
        .await;
    match form_outcome(result)? {
        Ok(_) => Ok(done(
            &format!("/programmes/{id}/feedback"),
            "feedback_recorded",
        )),
        Err((errors, _)) => feedback_page(
            &app,
            ctx,
            &user,
            id,
            ListQuery::default(),
            Submitted {
                quote: Some((input, picker::onto_picker(errors, "school_id", "school"))),
                statement_error: None,
            },
        )
        .await?
        .page_with(StatusCode::UNPROCESSABLE_ENTITY),
    }
}

pub async fn add_statement(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let actor = user.actor();
    let result = app
        .db(move |c| feedback::add_statement(c, &actor, id, &input))
        .await;
    match result {
        Ok(_) => Ok(done(
            &format!("/programmes/{id}/feedback#outcomes"),
            "statement_added",
        )),
        Err(AppError::Invalid { fields, .. }) => {
            let why = fields.values().next().cloned();
            feedback_page(
                &app,
                ctx,
                &user,
                id,
                ListQuery::default(),
                Submitted {
                    quote: None,
                    statement_error: why,
                },
            )
            .await?
            .page_with(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

pub async fn moderate(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let action = pairs
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let (moderation, featured) = match action {
        "approve" => (Some(Moderation::Approved), None),
        "reject" => (Some(Moderation::Rejected), Some(false)),
        "feature" => (None, Some(true)),
        "unfeature" => (None, Some(false)),
        _ => {
            return Err(AppError::field(
                "action",
                "must be approve, reject, feature or unfeature",
            ))
        }
    };
    let actor = user.actor();
    let f = app
        .db(move |c| feedback::moderate(c, &actor, id, moderation, featured))
        .await?;
    Ok(done(
        &format!("/programmes/{}/feedback", f.programme_id),
        "saved",
    ))
}
