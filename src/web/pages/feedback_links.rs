//! A booking's feedback links (made by the school or staff, shown once) and the public
//! form behind a link: no login, one answer per place booked.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use crate::app::AppState;
use crate::domain::feedback_links;
use crate::domain::input::Input;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::web::auth::{ClientAddr, CurrentUser};
use crate::web::forms::form_input;
use crate::web::view::{Ctx, PageCtx, RenderPage};

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
    let mut response = Redirect::to(&format!("/feedback/{token}?new=1")).into_response();
    // A second send of the button goes to the booking's links, never to this secret.
    response
        .extensions_mut()
        .insert(crate::web::once::KeepInstead(format!(
            "/bookings/{id}/feedback"
        )));
    Ok(response)
}

#[derive(Template)]
#[template(path = "feedback_form.html")]
struct PublicForm {
    ctx: PageCtx,
    token: String,
    thanks: bool,
    school_name: String,
    programme_title: String,
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
    /// The form's own address, shown when the link has just been made.
    new_link: Option<String>,
    answers_left: i32,
}

/// The agree scale of an outcome statement (the feedback form and a school's answers).
pub(crate) const AGREE: [(i32, &str); 5] = [
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
            .map(|s| {
                let chosen = input
                    .get(&format!("outcome_{}", s.id))
                    .unwrap_or("")
                    .to_string();
                (s.id, s.text, chosen)
            })
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
    let form = match app.db(move |c| feedback_links::open(c, &t)).await {
        Ok(form) => form,
        Err(AppError::NotFound) => return link_gone(ctx, false),
        Err(e) => return Err(e),
    };
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

/// A wrong or expired link says only that, kindly, on a page of its own: it opens
/// nothing else, and it does not send a pupil to a sign-in page they have no use for.
fn link_gone(ctx: Ctx, posted: bool) -> AppResult<Response> {
    LinkGone {
        ctx: ctx.titled("This feedback link does not work".to_string()),
        posted,
    }
    .page_with(StatusCode::NOT_FOUND)
}

#[derive(Template)]
#[template(path = "link_gone.html")]
struct LinkGone {
    ctx: PageCtx,
    /// Answers were sent (and not saved).
    posted: bool,
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
            page.message = Some(crate::web::forms::sentence(&e.to_string()));
            page.page_with(status)
        }
        Err(AppError::NotFound) => link_gone(ctx, true),
        Err(e) => Err(e),
    }
}
