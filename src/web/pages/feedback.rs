//! Feedback pages: the lead's quote recording and moderation, the quote bank, and the
//! public form behind a booking's link.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use crate::app::AppState;
use crate::domain::feedback::{self, Feedback, Filter, Statement};
use crate::domain::feedback_links;
use crate::domain::input::Input;
use crate::domain::list::ListQuery;
use crate::domain::types::{Moderation, RespondentRole};
use crate::domain::{events, programmes};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::web::auth::{ClientAddr, CurrentUser, Staff};
use crate::web::pages::{done, form_input, form_outcome};
use crate::web::picker;
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
        Ok(_) => Ok(done(&format!("/programmes/{id}/feedback"), "created")),
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
            "created",
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

#[derive(Template)]
#[template(path = "feedback_links.html")]
struct LinksPage {
    ctx: PageCtx,
    booking_id: i32,
    links: Vec<LinkLine>,
    cap: i32,
    answered: i64,
    school: String,
}

struct LinkLine {
    made: String,
    expires: String,
    live: bool,
    answers: i64,
}

/// A booking's feedback links (for its school or staff): when each was made, how many
/// answered through it, and a button for a new one.
pub async fn booking_links(
    State(app): State<AppState>,
    ctx: Ctx,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let (links, booking) = app
        .db(move |c| {
            let links = feedback_links::links(c, &actor, id)?;
            let b = crate::domain::bookings::get(c, &actor, id)?;
            Ok((links, b))
        })
        .await?;
    let tz = app.config.time_zone;
    let day = |t: chrono::NaiveDateTime| crate::web::view::local_day(t, tz);
    let now = crate::app::now();
    LinksPage {
        ctx: ctx.titled("Feedback links"),
        booking_id: id,
        links: links
            .iter()
            .map(|l| LinkLine {
                made: day(l.created_at),
                expires: day(l.expires_at),
                live: l.expires_at > now,
                answers: l.answers,
            })
            .collect(),
        cap: feedback_links::answer_cap(booking.pupils, booking.staff),
        answered: links.iter().map(|l| l.answers).sum(),
        school: booking.school_name.clone(),
    }
    .page()
}

/// Makes a new feedback link and opens its form, whose address is shown to be shared.
pub async fn make_booking_link(
    State(app): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let (_, token) = app
        .db(move |c| feedback_links::make_link(c, &actor, id))
        .await?;
    Ok(Redirect::to(&format!("/feedback/{token}?new=1")).into_response())
}

#[derive(Template)]
#[template(path = "feedback_form.html")]
struct PublicForm {
    ctx: PageCtx,
    token: String,
    thanks: bool,
    school_name: String,
    programme_title: String,
    statements: Vec<(i32, String)>,
    roles: Vec<(&'static str, &'static str)>,
    agree: Vec<(i32, &'static str)>,
    role: String,
    rating: String,
    quote: String,
    consent: bool,
    errors: FieldErrors,
    message: Option<String>,
    /// The form's own address, shown when the link has just been made.
    new_link: Option<String>,
    answers_left: i32,
}

const AGREE: [(i32, &str); 5] = [
    (1, "Strongly disagree"),
    (2, "Disagree"),
    (3, "Neither"),
    (4, "Agree"),
    (5, "Strongly agree"),
];

fn public_form(
    ctx: Ctx,
    token: String,
    form: feedback_links::FormContext,
    input: &Input,
    errors: FieldErrors,
    thanks: bool,
) -> PublicForm {
    PublicForm {
        ctx: ctx.titled(format!("Your feedback on {}", form.programme_title)),
        token,
        thanks,
        school_name: form.school_name,
        programme_title: form.programme_title,
        statements: form
            .statements
            .into_iter()
            .map(|s| (s.id, s.text))
            .collect(),
        roles: feedback_links::roles(),
        agree: AGREE.to_vec(),
        role: input.get("role").unwrap_or("pupil").to_string(),
        rating: input.get("rating").unwrap_or("").to_string(),
        quote: input.get("quote").unwrap_or("").to_string(),
        consent: input.get("consent") == Some("true"),
        message: (!errors.is_empty())
            .then(|| "Please correct the fields marked below.".to_string()),
        errors,
        new_link: None,
        answers_left: form.answers_left,
    }
}

#[derive(serde::Deserialize)]
pub struct Thanks {
    thanks: Option<String>,
    new: Option<String>,
}

pub async fn public_get(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Query(q): Query<Thanks>,
) -> AppResult<Response> {
    let t = token.clone();
    let form = app
        .db(move |c| feedback_links::open(c, &t))
        .await
        .map_err(|_| link_gone())?;
    let mut page = public_form(
        ctx,
        token.clone(),
        form,
        &Input::default(),
        FieldErrors::new(),
        q.thanks.is_some(),
    );
    if q.new.is_some() {
        page.new_link = Some(format!("{}/feedback/{token}", app.config.base_url));
    }
    page.page()
}

/// A wrong or expired link says only that: it opens nothing else.
fn link_gone() -> AppError {
    AppError::NotFound
}

pub async fn public_post(
    State(app): State<AppState>,
    ctx: Ctx,
    ClientAddr(client): ClientAddr,
    Path(token): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (t, submitted) = (token.clone(), input.clone());
    let result = app
        .db(move |c| feedback_links::answer(c, &t, &submitted, &client))
        .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/feedback/{token}?thanks=1")).into_response()),
        Err(AppError::Invalid { fields, .. }) => {
            let t = token.clone();
            let form = app.db(move |c| feedback_links::open(c, &t)).await?;
            public_form(ctx, token, form, &input, fields, false)
                .page_with(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e @ (AppError::Conflict(_) | AppError::TooManyRequests(_))) => {
            let t = token.clone();
            let form = app.db(move |c| feedback_links::open(c, &t)).await?;
            let status = e.status();
            let mut page = public_form(ctx, token, form, &input, FieldErrors::new(), false);
            page.message = Some(crate::web::pages::capitalise(&e.to_string()));
            page.page_with(status)
        }
        Err(e) => Err(e),
    }
}
