//! A school's answers after an event: the form behind its link (no login), and a lead's
//! decision on each answer, beside the event's attendance.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::feedback_links::AGREE;
use crate::app::AppState;
use crate::domain::answers;
use crate::domain::input::Input;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::web::auth::{ClientAddr, Staff};
use crate::web::forms::form_input;
use crate::web::respond::done;
use crate::web::view::{Ctx, PageCtx, RenderPage};

#[derive(Template)]
#[template(path = "answer_form.html")]
struct AnswerPage {
    ctx: PageCtx,
    token: String,
    thanks: bool,
    answered: bool,
    what: String,
    pupils: String,
    staff: String,
    other: String,
    /// Each outcome statement: its id, words, and the answer typed (kept on an error).
    statements: Vec<(i32, String, String)>,
    roles: Vec<(&'static str, &'static str)>,
    agree: Vec<(i32, &'static str)>,
    role: String,
    rating: String,
    quote: String,
    consent: bool,
    errors: FieldErrors,
    message: Option<String>,
}

fn page(
    ctx: Ctx,
    token: String,
    form: answers::Form,
    input: &Input,
    errors: FieldErrors,
    thanks: bool,
) -> AnswerPage {
    let typed =
        |name: &str, default: String| input.get(name).map(str::to_string).unwrap_or(default);
    AnswerPage {
        ctx: ctx.titled(format!("How did it go at {}?", form.school_name)),
        token,
        thanks,
        answered: form.answered,
        what: form.what,
        pupils: typed("pupils", form.booked.0.to_string()),
        staff: typed("staff", form.booked.1.to_string()),
        other: typed("other", "0".into()),
        statements: form
            .statements
            .into_iter()
            .map(|s| {
                let chosen = typed(&format!("outcome_{}", s.id), String::new());
                (s.id, s.text, chosen)
            })
            .collect(),
        roles: crate::domain::feedback_links::roles(),
        agree: AGREE.to_vec(),
        role: typed("role", "teacher".into()),
        rating: typed("rating", String::new()),
        quote: typed("quote", String::new()),
        consent: input.get("consent") == Some("true"),
        message: (!errors.is_empty())
            .then(|| "Please correct the fields marked below.".to_string()),
        errors,
    }
}

#[derive(serde::Deserialize)]
pub struct Thanks {
    thanks: Option<String>,
}

#[derive(Template)]
#[template(path = "answer_gone.html")]
struct Gone {
    ctx: PageCtx,
    posted: bool,
}

fn gone(ctx: Ctx, posted: bool) -> AppResult<Response> {
    Gone {
        ctx: ctx.titled("This link does not work".to_string()),
        posted,
    }
    .page_with(StatusCode::NOT_FOUND)
}

pub async fn public_get(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Query(q): Query<Thanks>,
) -> AppResult<Response> {
    let (t, tz) = (token.clone(), app.config.time_zone);
    match app.db(move |c| answers::open(c, &t, tz)).await {
        Ok(form) => page(
            ctx,
            token,
            form,
            &Input::default(),
            FieldErrors::new(),
            q.thanks.is_some(),
        )
        .page(),
        Err(AppError::NotFound) => gone(ctx, false),
        Err(e) => Err(e),
    }
}

pub async fn public_post(
    State(app): State<AppState>,
    ctx: Ctx,
    ClientAddr(client): ClientAddr,
    Path(token): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (t, submitted, tz) = (token.clone(), input.clone(), app.config.time_zone);
    let result = app
        .db(move |c| answers::answer(c, &t, &submitted, &client, tz))
        .await;
    let reopen = |app: &AppState, token: &str| {
        let t = token.to_string();
        let app = app.clone();
        async move { app.db(move |c| answers::open(c, &t, tz)).await }
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/answers/{token}?thanks=1")).into_response()),
        Err(AppError::Invalid { fields, .. }) => {
            let form = reopen(&app, &token).await?;
            page(ctx, token, form, &input, fields, false)
                .page_with(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e @ (AppError::Conflict(_) | AppError::TooManyRequests(_))) => {
            let form = reopen(&app, &token).await?;
            let status = e.status();
            let mut p = page(ctx, token, form, &input, FieldErrors::new(), false);
            p.message = Some(crate::web::forms::sentence(&e.to_string()));
            p.page_with(status)
        }
        Err(AppError::NotFound) => gone(ctx, true),
        Err(e) => Err(e),
    }
}

/// A lead accepts a school's figures into the attendance.
pub async fn accept(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let a = app
        .db(move |c| answers::decide(c, &actor, id, true))
        .await?;
    Ok(done(
        &format!("/events/{}#answers", a.event_id),
        "answer_accepted",
    ))
}

/// A lead keeps their own figure.
pub async fn keep(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let a = app
        .db(move |c| answers::decide(c, &actor, id, false))
        .await?;
    Ok(done(
        &format!("/events/{}#answers", a.event_id),
        "answer_kept",
    ))
}
