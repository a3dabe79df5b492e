//! The tour dates page of a programme: offering dates (staff) and seeing their state.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;

use crate::app::AppState;
use crate::domain::input::Input;
use crate::domain::input::TextEnum;
use crate::domain::slots::{self, Session};
use crate::domain::{programmes, users::User};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::web::auth::{Reader, Staff};
use crate::web::forms::{form_input, form_outcome};
use crate::web::respond::done;
use crate::web::view::{Ctx, FieldsBuilder, FormField, PageCtx, RenderPage};

#[derive(Template)]
#[template(path = "slots.html")]
struct SlotsPage {
    ctx: PageCtx,
    programme_id: i32,
    programme_name: String,
    slots: Vec<(String, String, String, &'static str, &'static str)>,
    one_fields: Vec<FormField>,
    bulk_fields: Vec<FormField>,
    message: Option<String>,
    skipped: Vec<String>,
}

enum Submitted {
    None,
    One(Input, FieldErrors, String),
    Bulk(Input, FieldErrors, String),
}

async fn page(
    app: &AppState,
    ctx: Ctx,
    user: &User,
    id: i32,
    submitted: Submitted,
    skipped: Vec<String>,
) -> AppResult<SlotsPage> {
    let actor = user.actor();
    let (p, list) = app
        .db(move |c| Ok((programmes::get(c, &actor, id)?, slots::list(c, &actor, id)?)))
        .await?;
    let tz = app.config.time_zone;
    let (one_in, one_err, bulk_in, bulk_err, message) = match submitted {
        Submitted::None => (
            Input::from_pairs([("session", "morning")]),
            FieldErrors::new(),
            Input::from_pairs([("morning", "true")]),
            FieldErrors::new(),
            None,
        ),
        Submitted::One(i, e, m) => (
            i,
            e,
            Input::from_pairs([("morning", "true")]),
            FieldErrors::new(),
            Some(m),
        ),
        Submitted::Bulk(i, e, m) => (
            Input::from_pairs([("session", "morning")]),
            FieldErrors::new(),
            i,
            e,
            Some(m),
        ),
    };
    let mut one = FieldsBuilder::new(&one_in, &one_err);
    one.required("day", "Day", "date");
    one.choice::<Session>("session", "Session", None);
    let mut bulk = FieldsBuilder::new(&bulk_in, &bulk_err);
    bulk.required("from", "From", "date");
    bulk.required("to", "To", "date");
    bulk.add("morning", "Mornings", "checkbox");
    bulk.add("afternoon", "Afternoons", "checkbox");
    Ok(SlotsPage {
        ctx: ctx.titled(format!("Tour dates of {} {}", p.title, p.year)),
        programme_id: id,
        programme_name: format!("{} {}", p.title, p.year),
        slots: list
            .into_iter()
            .map(|s| {
                let t = |x: chrono::NaiveDateTime| {
                    x.and_utc().with_timezone(&tz).format("%H:%M").to_string()
                };
                (
                    s.day.format("%a %-d %b %Y").to_string(),
                    s.session.label().to_string(),
                    format!("{}–{}", t(s.starts_at), t(s.ends_at)),
                    s.status.as_str(),
                    s.status.label(),
                )
            })
            .collect(),
        one_fields: one.finish(),
        bulk_fields: bulk.finish(),
        message,
        skipped,
    })
}

pub async fn show(
    State(app): State<AppState>,
    ctx: Ctx,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    page(&app, ctx, &user, id, Submitted::None, Vec::new())
        .await?
        .page()
}

pub async fn create(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, submitted, tz) = (user.actor(), input.clone(), app.config.time_zone);
    let result = app
        .db(move |c| slots::create(c, &actor, id, &submitted, tz))
        .await;
    match form_outcome(result)? {
        Ok(_) => Ok(done(&format!("/programmes/{id}/slots"), "tour_dates_added")),
        Err((errors, message)) => page(
            &app,
            ctx,
            &user,
            id,
            Submitted::One(input, errors, message),
            Vec::new(),
        )
        .await?
        .page_with(StatusCode::UNPROCESSABLE_ENTITY),
    }
}

pub async fn bulk(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, submitted, tz) = (user.actor(), input.clone(), app.config.time_zone);
    let result = app
        .db(move |c| slots::bulk(c, &actor, id, &submitted, tz))
        .await;
    match result {
        Ok(r) if r.skipped.is_empty() => {
            Ok(done(&format!("/programmes/{id}/slots"), "tour_dates_added"))
        }
        Ok(r) => {
            let skipped = r
                .skipped
                .iter()
                .map(|(d, why)| format!("{}: {why}", d.format("%a %-d %b %Y")))
                .collect();
            page(&app, ctx, &user, id, Submitted::None, skipped)
                .await?
                .page()
        }
        Err(AppError::Invalid { fields, .. }) => page(
            &app,
            ctx,
            &user,
            id,
            Submitted::Bulk(
                input,
                fields,
                "Please correct the fields marked below.".into(),
            ),
            Vec::new(),
        )
        .await?
        .page_with(StatusCode::UNPROCESSABLE_ENTITY),
        Err(e) => Err(e),
    }
}
