//! What's on: the events a school can book places at and the open tour dates it can ask
//! a visit on, with the forms that book them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;

use crate::app::{AppState, Turn};
use crate::domain::bookings::{self};
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::ListQuery;
use crate::domain::schedule;
use crate::domain::types::BookingStatus;
use crate::domain::types::{EventId, SlotId};
use crate::domain::users::User;
use crate::error::{AppError, AppResult, FieldErrors};
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

/// Offers of one month.
pub struct Month<T> {
    pub name: String,
    pub items: Vec<T>,
}

/// Offers of one production, by month.
pub struct Production<T> {
    pub title: String,
    pub months: Vec<Month<T>>,
}

/// Groups items (already in date order) by production (programme id and title), in order
/// of each production's first date, then by month.
fn grouped<T>(items: Vec<((i32, String), String, T)>) -> Vec<Production<T>> {
    let mut out: Vec<Production<T>> = Vec::new();
    let mut ids: Vec<i32> = Vec::new();
    for ((id, title), month, item) in items {
        let at = match ids.iter().position(|p| *p == id) {
            Some(i) => i,
            None => {
                ids.push(id);
                out.push(Production {
                    title,
                    months: Vec::new(),
                });
                out.len() - 1
            }
        };
        let months = &mut out[at].months;
        match months.last_mut() {
            Some(m) if m.name == month => m.items.push(item),
            _ => months.push(Month {
                name: month,
                items: vec![item],
            }),
        }
    }
    out
}

/// A free tour date in the list: its id, day, and session with times.
pub struct DateLine {
    pub id: i32,
    pub day: String,
    pub session: String,
}

#[derive(Template)]
#[template(path = "whats_on.html")]
struct WhatsOnPage {
    ctx: PageCtx,
    hint: Option<crate::domain::demo::Hint>,
    dates: Vec<Production<DateLine>>,
    offers: Vec<Production<OfferLine>>,
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

impl Target {
    fn action(self) -> String {
        match self {
            Target::Event(id) => format!("/events/{id}/book"),
            Target::Slot(id) => format!("/slots/{id}/request"),
        }
    }
}

pub async fn whats_on(
    State(app): State<AppState>,
    ctx: Ctx,
    Booker(user): Booker,
) -> AppResult<Response> {
    let params = ListQuery {
        per_page: Some("100".into()),
        ..Default::default()
    }
    .params();
    let actor = user.actor();
    let on = app
        .db(move |c| crate::domain::schedule::offers::whats_on(c, &actor, &params))
        .await?;
    let tz = app.config.time_zone;
    let month_of = |t: chrono::DateTime<chrono_tz::Tz>| t.format("%B %Y").to_string();
    let dates = grouped(
        on.tour_dates
            .iter()
            .map(|d| {
                let starts = d.slot.starts_at.and_utc().with_timezone(&tz);
                let (_, _, session) = date_line(&d.slot, &d.programme_title, tz);
                (
                    (d.slot.programme_id, d.programme_title.clone()),
                    month_of(starts),
                    DateLine {
                        id: d.slot.id,
                        day: d.slot.day.format("%A %-d %B %Y").to_string(),
                        session,
                    },
                )
            })
            .collect(),
    );
    let offers = grouped(
        on.events
            .items
            .iter()
            .map(|o| {
                (
                    (o.event.programme_id, o.programme_title.clone()),
                    month_of(o.event.starts_at.with_timezone(&tz)),
                    OfferLine::of(o, tz),
                )
            })
            .collect(),
    );
    WhatsOnPage {
        ctx: ctx.titled("What's on"),
        // What's on is the first page of a school only.
        hint: if user.role == crate::domain::types::Role::School {
            super::demo_hint(&app, &user).await?
        } else {
            None
        },
        dates,
        offers,
    }
    .page()
}

#[derive(Template)]
#[template(path = "book.html")]
struct BookPage {
    ctx: PageCtx,
    action: String,
    /// What is booked: its facts.
    facts: Vec<(&'static str, String)>,
    /// Why it cannot be booked again (the school's own booking or request), if so.
    taken: Option<String>,
    submit: &'static str,
    message: Option<String>,
    fields: Vec<FormField>,
}

/// The form page of a target, with what was typed and its errors.
async fn book_page(
    app: &AppState,
    ctx: Ctx,
    user: &User,
    target: Target,
    input: &Input,
    errors: &FieldErrors,
) -> AppResult<BookPage> {
    let actor = user.actor();
    let tz = app.config.time_zone;
    let fields = booking_fields(input, errors, user.role.is_staff());
    Ok(match target {
        Target::Event(id) => {
            let o = app
                .db(move |c| crate::domain::schedule::offers::offer(c, &actor, id))
                .await?;
            let line = OfferLine::of(&o, tz);
            let places = match line.places_left {
                Some(0) => "Full: requests go on the waiting list".to_string(),
                Some(n) => format!("{n} left"),
                None => "Available".into(),
            };
            let mut facts = vec![
                ("When", line.when.clone()),
                ("Where", line.place.clone()),
                ("Places", places),
            ];
            if line.needs_approval {
                facts.push(("Confirmation", "The company confirms each request".into()));
            }
            BookPage {
                ctx: ctx.titled(format!("Book places: {}", line.title)),
                action: target.action(),
                facts,
                taken: line.yours,
                submit: "Request places",
                message: None,
                fields,
            }
        }
        Target::Slot(id) => {
            let (d, asked) = app
                .db(move |c| crate::domain::schedule::offers::tour_date(c, &actor, id))
                .await?;
            let (_, day, session) = date_line(&d.slot, &d.programme_title, tz);
            BookPage {
                ctx: ctx.titled(format!("Request a visit: {day}")),
                action: target.action(),
                facts: vec![
                    ("Session", session),
                    (
                        "What comes",
                        "A performance and a workshop at your school".into(),
                    ),
                ],
                taken: asked.then(|| {
                    "You have asked for this date; the company will answer by email.".into()
                }),
                submit: "Request visit",
                message: None,
                fields,
            }
        }
    })
}

/// `GET /events/{id}/book`: the form that books places at an event.
pub async fn book_form(
    State(app): State<AppState>,
    ctx: Ctx,
    Booker(user): Booker,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let input = Input::default();
    book_page(
        &app,
        ctx,
        &user,
        Target::Event(id),
        &input,
        &FieldErrors::new(),
    )
    .await?
    .page()
}

/// `GET /slots/{id}/request`: the form that asks for a visit on a tour date.
pub async fn request_form(
    State(app): State<AppState>,
    ctx: Ctx,
    Booker(user): Booker,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let input = Input::default();
    book_page(
        &app,
        ctx,
        &user,
        Target::Slot(id),
        &input,
        &FieldErrors::new(),
    )
    .await?
    .page()
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
/// back to the form with its errors (or, when the offer is gone, to What's on's message).
async fn submit(
    app: AppState,
    ctx: Ctx,
    user: User,
    target: Target,
    input: Input,
) -> AppResult<Response> {
    let (actor, rules, mut submitted) = (user.actor(), app.rules(), input.clone());
    let turn = match target {
        Target::Event(id) => app.booking_turn(id).await?,
        Target::Slot(_) => Turn::default(),
    };
    let result = app
        .db(move |c| {
            let parsed =
                picker::parse_with_school(c, &mut submitted, |_, input| bookings::parse(input))?;
            match target {
                Target::Event(id) => {
                    schedule::book_event(c, &actor, &rules, EventId(id), parsed, turn)
                }
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
            match book_page(&app, ctx, &user, target, &input, &errors).await {
                Ok(mut page) => {
                    page.message = Some(message);
                    page.page_with(StatusCode::UNPROCESSABLE_ENTITY)
                }
                // The offer is gone (full, past, archived): the reason, on its own page.
                Err(AppError::NotFound) => Err(AppError::Conflict(message)),
                Err(e) => Err(e),
            }
        }
    }
}
