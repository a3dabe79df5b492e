//! What's on: the events a school can book places at and the open tour dates it can ask
//! a visit on, with the forms that book them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;

use crate::app::AppState;
use crate::domain::bookings::{self};
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::ListQuery;
use crate::domain::schedule;
use crate::domain::types::BookingStatus;
use crate::domain::types::{EventId, SlotId};
use crate::domain::users::User;
use crate::error::{AppResult, FieldErrors};
use crate::web::auth::Booker;
use crate::web::forms::{form_input, form_outcome};
use crate::web::picker;
use crate::web::respond::done;
use crate::web::view::local;
use crate::web::view::{Ctx, FieldsBuilder, FormField, PageCtx, RenderPage};

pub struct OfferLine {
    pub id: i32,
    pub title: String,
    pub when: String,
    pub place: String,
    pub places_left: Option<i32>,
    pub needs_approval: bool,
    /// The school's own booking of it, in words; it is not offered again.
    pub yours: Option<String>,
}

impl OfferLine {
    fn of(o: &crate::domain::schedule::offers::Offer, tz: chrono_tz::Tz) -> OfferLine {
        let what = if o.event.title.is_empty() {
            o.event.kind.label().to_string()
        } else {
            o.event.title.clone()
        };
        OfferLine {
            id: o.event.id,
            title: format!("{}: {what}", o.programme_title),
            when: local(o.event.starts_at, tz),
            place: o.event.place(),
            places_left: o.places_left,
            needs_approval: o.event.needs_approval,
            yours: o.yours.as_ref().map(|y| {
                let status = y.status.label().to_lowercase();
                format!("You have booked {} places: {status}.", y.places)
            }),
        }
    }
}

/// An open tour date: its id, "Title: Monday 4 February 2030", "Morning · 09:30–12:00".
fn date_line(
    s: &crate::domain::slots::Slot,
    title: &str,
    tz: chrono_tz::Tz,
) -> (i32, String, String) {
    let t = |x: chrono::NaiveDateTime| x.and_utc().with_timezone(&tz).format("%H:%M").to_string();
    (
        s.id,
        format!("{title}: {}", s.day.format("%A %-d %B %Y")),
        format!("{} · {}–{}", s.session, t(s.starts_at), t(s.ends_at)),
    )
}

#[derive(Template)]
#[template(path = "whats_on.html")]
struct WhatsOnPage {
    ctx: PageCtx,
    offers: Vec<OfferLine>,
    message: Option<String>,
    open_form: i32,
    /// Free tour dates: id, programme and day, session and times.
    dates: Vec<(i32, String, String)>,
    open_slot: i32,
    form_fields: Vec<FormField>,
    blank_fields: Vec<FormField>,
}

fn booking_fields(input: &Input, errors: &FieldErrors, staff: bool) -> Vec<FormField> {
    let mut f = FieldsBuilder::new(input, errors);
    if staff {
        f.school("school", "For the school").required = true;
    }
    f.required("pupils", "Pupils", "number");
    f.add("staff", "Staff", "number");
    f.add("year_groups", "Year groups", "text")
        .hint("e.g. Years 9 and 10");
    f.add("access_needs", "Access needs", "textarea");
    f.add("notes", "Notes", "textarea");
    f.finish()
}

/// What a form asks for: places at an event, or a visit on a tour date.
#[derive(Clone, Copy)]
enum Target {
    Event(i32),
    Slot(i32),
}

async fn whats_on_page(
    app: &AppState,
    ctx: Ctx,
    user: &User,
    submitted: Option<(Target, Input, FieldErrors, String)>,
) -> AppResult<WhatsOnPage> {
    let params = ListQuery {
        per_page: Some("100".into()),
        ..Default::default()
    }
    .params();
    let (staff, actor) = (user.role.is_staff(), user.actor());
    let on = app
        .db(move |c| crate::domain::schedule::offers::whats_on(c, &actor, &params))
        .await?;
    let tz = app.config.time_zone;
    let blank = Input::default();
    let (open_form, open_slot, form_fields, message) = match &submitted {
        Some((Target::Event(id), input, errors, message)) => (
            *id,
            0,
            booking_fields(input, errors, staff),
            Some(message.clone()),
        ),
        Some((Target::Slot(id), input, errors, message)) => (
            0,
            *id,
            booking_fields(input, errors, staff),
            Some(message.clone()),
        ),
        None => (0, 0, Vec::new(), None),
    };
    let dates = on
        .tour_dates
        .iter()
        .map(|d| date_line(&d.slot, &d.programme_title, tz))
        .collect();
    Ok(WhatsOnPage {
        ctx: ctx.titled("What's on"),
        offers: on
            .events
            .items
            .iter()
            .map(|o| OfferLine::of(o, tz))
            .collect(),
        message,
        open_form,
        dates,
        open_slot,
        form_fields,
        blank_fields: booking_fields(&blank, &FieldErrors::new(), staff),
    })
}

pub async fn whats_on(
    State(app): State<AppState>,
    ctx: Ctx,
    Booker(user): Booker,
) -> AppResult<Response> {
    whats_on_page(&app, ctx, &user, None).await?.page()
}

pub async fn book(
    State(app): State<AppState>,
    ctx: Ctx,
    Booker(user): Booker,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    submit(app, ctx, user, Target::Event(id), form_input(pairs)).await
}

pub async fn request_visit(
    State(app): State<AppState>,
    ctx: Ctx,
    Booker(user): Booker,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    submit(app, ctx, user, Target::Slot(id), form_input(pairs)).await
}

/// Books places at an event or asks for a visit on a tour date; on to Our bookings, or
/// back to What's on with the form open and its errors.
async fn submit(
    app: AppState,
    ctx: Ctx,
    user: User,
    target: Target,
    input: Input,
) -> AppResult<Response> {
    let (actor, rules, mut submitted) = (user.actor(), app.rules(), input.clone());
    let result = app
        .db(move |c| {
            let parsed =
                picker::parse_with_school(c, &mut submitted, |_, input| bookings::parse(input))?;
            match target {
                Target::Event(id) => schedule::book_event(c, &actor, &rules, EventId(id), parsed),
                Target::Slot(id) => schedule::request_visit(c, &actor, &rules, SlotId(id), parsed),
            }
        })
        .await;
    match form_outcome(result)? {
        Ok(b) => Ok(done(
            "/bookings",
            match b.status {
                BookingStatus::Confirmed => "booking_confirmed",
                BookingStatus::Waitlisted => "booking_waitlisted",
                _ => "booking_requested",
            },
        )),
        Err((errors, message)) => {
            let errors = picker::onto_picker(errors, "school_id", "school");
            whats_on_page(&app, ctx, &user, Some((target, input, errors, message)))
                .await?
                .page_with(StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}
