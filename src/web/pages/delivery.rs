//! Pages of events and their attendance (staff enter; funders may read).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;

use crate::app::AppState;
use crate::domain::input::{Input, TextEnum};
use crate::domain::types::EventId;
use crate::domain::types::{EventKind, EventStatus};
use crate::domain::{attendance, audit, events, programmes, schools, venues};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::web::auth::{Reader, Staff};
use crate::web::forms::{form_input, form_outcome};
use crate::web::pages::attendance_grid::{self as grid, GridRow};
use crate::web::picker;
use crate::web::respond::{confirmed, done};
use crate::web::view::{local, Ctx, FieldsBuilder, FormField, PageCtx, RenderPage};

#[derive(Template)]
#[template(path = "event_form.html")]
struct EventFormPage {
    ctx: PageCtx,
    programme_id: i32,
    programme_title: String,
    fields: Vec<FormField>,
    message: Option<String>,
}

async fn event_form(
    app: &AppState,
    ctx: PageCtx,
    programme_id: i32,
    programme_title: String,
    input: &Input,
    errors: &FieldErrors,
) -> AppResult<EventFormPage> {
    let venue_choices = app
        .db(|c| {
            let params = crate::domain::list::ListQuery {
                per_page: Some("200".into()),
                ..Default::default()
            }
            .params();
            let mut v = vec![(String::new(), "— not at a venue —".to_string())];
            v.extend(
                venues::list(c, &params)?
                    .items
                    .into_iter()
                    .map(|v| (v.id.to_string(), v.name)),
            );
            Ok(v)
        })
        .await?;
    let mut f = FieldsBuilder::new(input, errors);
    f.choice::<EventKind>("kind", "Kind", None);
    f.required("starts_at", "Starts", "datetime-local")
        .hint("In the install's time zone.");
    f.required("ends_at", "Ends", "datetime-local");
    f.school("school", "At a school");
    f.select("venue_id", "Or at a venue", venue_choices)
        .hint("Leave both empty for a live stream.");
    f.add("capacity", "Capacity (places)", "number");
    f.add("title", "Title", "text")
        .hint("Optional, e.g. “Special performance”.");
    f.add("joining_url", "Joining link (live streams)", "url")
        .hint("https:// address; only schools with a confirmed booking see it.");
    f.add(
        "joining_notes",
        "Joining instructions (live streams)",
        "textarea",
    )
    .hint("Optional: an access code, or what to do first.");
    f.add(
        "needs_approval",
        "Requests need the lead's approval",
        "checkbox",
    );
    let mut status = vec![];
    for s in [
        EventStatus::Open,
        EventStatus::Draft,
        EventStatus::Confirmed,
    ] {
        status.push((s.as_str().to_string(), s.label().to_string()));
    }
    f.select("status", "Status", status)
        .hint("Draft hides it from schools.");
    Ok(EventFormPage {
        ctx,
        programme_id,
        programme_title,
        fields: f.finish(),
        message: None,
    })
}

pub async fn new_event(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let p = app.db(move |c| programmes::get(c, &actor, id)).await?;
    let input = Input::from_pairs([("kind", "performance"), ("status", "open")]);
    event_form(
        &app,
        ctx.titled("Add an event"),
        id,
        p.title,
        &input,
        &FieldErrors::new(),
    )
    .await?
    .page()
}

pub async fn create_event(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, mut submitted, tz, rules) = (
        user.actor(),
        input.clone(),
        app.config.time_zone,
        app.rules(),
    );
    let p = {
        let actor = actor.clone();
        app.db(move |c| programmes::get(c, &actor, id)).await?
    };
    let result = app
        .db(move |c| {
            let parsed = picker::parse_with_school(c, &mut submitted, |c, input| {
                events::parse(c, input, Some(tz))
            })?;
            crate::domain::schedule::create_event(c, &actor, &rules, id, parsed)
        })
        .await;
    match form_outcome(result)? {
        Ok(e) => Ok(done(&format!("/events/{}", e.id), "created")),
        Err((errors, message)) => {
            let errors = picker::onto_picker(errors, "school_id", "school");
            let mut page = event_form(
                &app,
                ctx.titled("Add an event"),
                id,
                p.title,
                &input,
                &errors,
            )
            .await?;
            page.message = Some(message);
            page.page_with(StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventPage {
    ctx: PageCtx,
    e: events::Event,
    programme_title: String,
    status_key: &'static str,
    when: String,
    starts_local: String,
    ends_local: String,
    can_complete: bool,
    /// Attendance is entered once the event has started.
    started: bool,
    rows: Vec<GridRow>,
    /// What is recorded, read-only: who, pupils, staff, other adults.
    saved: Vec<(String, i32, i32, i32)>,
    message: Option<String>,
    history: Vec<(String, String, String)>,
    /// Staff only: who booked, in the order they asked (school, places, state key, state).
    booked: Vec<(String, i32, &'static str, String)>,
    /// Staff only: how many bookings wait for places.
    waiting: usize,
    /// Staff only: how many schools were asked after the event, and their answers
    /// (id, school, "58 pupils, 4 staff, 0 other adults", state key, state, waiting for a
    /// decision).
    asked: i64,
    answers: Vec<(i32, String, String, &'static str, String, bool)>,
    /// Days after asking that a silent school is reminded.
    reminder_days: i64,
    /// Why a change was refused (its form is then open, with what was typed).
    change_errors: Vec<String>,
}

async fn event_page(
    app: &AppState,
    ctx: Ctx,
    user: &crate::domain::users::User,
    id: i32,
    submitted: Option<(Vec<Input>, FieldErrors)>,
) -> AppResult<EventPage> {
    let actor = user.actor();
    let submitted_ids: Vec<i32> = submitted
        .iter()
        .flat_map(|(inputs, _)| inputs.iter())
        .filter_map(|i| i.get("school_id").and_then(|v| v.parse().ok()))
        .collect();
    let staff = user.role.is_staff();
    let (e, p, saved, expected, labels, history, booked, (asked, answers)) = app
        .db(move |c| {
            let e = events::get(c, id)?;
            let p = programmes::get(c, &actor, e.programme_id)?;
            // The joining link: staff only (a funder reads this page too).
            let e = events::reveal(c, &actor, e)?;
            let booked = if staff {
                let every = crate::domain::list::ListParams {
                    page: 1,
                    per_page: crate::domain::list::MAX_PER_PAGE,
                    q: None,
                    include_archived: false,
                };
                let only_this = crate::domain::bookings::BookingFilter {
                    event_id: Some(id),
                    ..Default::default()
                };
                crate::domain::bookings::list(c, &actor, &every, &only_this)?.items
            } else {
                Vec::new()
            };
            let saved = attendance::for_event(c, id)?;
            let expected = crate::domain::bookings::expected_by_school(c, id)?;
            // Labels only of the schools on this page, never of the register.
            let mut ids: Vec<i32> = saved.iter().filter_map(|r| r.school_id).collect();
            ids.extend(expected.iter().map(|x| x.0));
            ids.extend(submitted_ids);
            let labels = schools::labels(c, &ids)?;
            Ok((
                e,
                p,
                saved,
                expected,
                labels,
                audit::for_entity(c, "attendance", id)?,
                booked,
                if staff {
                    crate::domain::answers::for_event(c, id)?
                } else {
                    (0, Vec::new())
                },
            ))
        })
        .await?;
    let label_of = |id: Option<i32>| id.and_then(|i| labels.get(&i).cloned()).unwrap_or_default();
    let tz = app.config.time_zone;
    let rows = grid::rows(submitted.as_ref(), &saved, &expected, label_of);
    let history = grid::history(history, tz);
    // "Performance · Brewery Arts Centre", "Workshop: making choices · Kent Valley
    // Academy", "Live stream: Streamed performance" (a live stream's place is its kind).
    let what = if e.title.is_empty() {
        e.kind.to_string()
    } else {
        format!("{}: {}", e.kind, e.title)
    };
    let title = if e.school_id.is_some() || e.venue_id.is_some() {
        format!("{what} · {}", e.place())
    } else {
        what
    };
    Ok(EventPage {
        ctx: ctx.titled(title),
        programme_title: format!("{} {}", p.title, p.year),
        status_key: e.status.as_str(),
        starts_local: e
            .starts_at
            .with_timezone(&tz)
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
        ends_local: e
            .ends_at
            .with_timezone(&tz)
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
        when: format!(
            "{} – {}",
            local(e.starts_at, tz),
            e.ends_at.with_timezone(&tz).format("%H:%M")
        ),
        can_complete: e
            .status
            .can_complete(e.starts_at.naive_utc(), crate::app::now()),
        started: e.starts_at.naive_utc() <= crate::app::now(),
        rows,
        saved: saved
            .iter()
            .map(|r| {
                (
                    r.school_name
                        .clone()
                        .or(r.group.clone())
                        .unwrap_or_default(),
                    r.pupils,
                    r.staff,
                    r.other,
                )
            })
            .collect(),
        message: submitted
            .map(|_| "Please correct the rows marked below; nothing was saved.".to_string()),
        asked,
        reminder_days: app.config.answer_reminder_days,
        change_errors: Vec::new(),
        answers: answers
            .into_iter()
            .map(|a| {
                let ours = saved
                    .iter()
                    .find(|r| r.school_id == Some(a.school_id))
                    .map(|r| {
                        format!(
                            "{} pupils, {} staff, {} other adults",
                            r.pupils, r.staff, r.other
                        )
                    })
                    .unwrap_or_else(|| "none yet".into());
                (
                    a.id,
                    a.school_name,
                    format!(
                        "{} pupils, {} staff, {} other adults (our figures: {ours})",
                        a.pupils, a.staff, a.other
                    ),
                    a.status.as_str(),
                    a.status.label().to_string(),
                    a.status == crate::domain::answers::AnswerStatus::Pending,
                )
            })
            .collect(),
        history,
        waiting: booked
            .iter()
            .filter(|b| b.status == crate::domain::types::BookingStatus::Waitlisted)
            .count(),
        booked: booked
            .into_iter()
            .map(|b| {
                (
                    b.school_name,
                    b.places,
                    b.status.as_str(),
                    b.status.to_string(),
                )
            })
            .collect(),
        e,
    })
}

pub async fn show_event(
    State(app): State<AppState>,
    ctx: Ctx,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    event_page(&app, ctx, &user, id, None).await?.page()
}

pub async fn save_attendance(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let rows = grid::inputs(&form_input(pairs));
    let (actor, mut submitted) = (user.actor(), rows.clone());
    let result = app
        .db(move |c| {
            let mut picked = FieldErrors::new();
            for (i, row) in submitted.iter_mut().enumerate() {
                let key = format!("rows[{i}].school_id");
                picker::resolve(c, row, "school", "school_id", &key, &mut picked)?;
            }
            let parsed = picker::merged(picked, attendance::parse(&submitted))?;
            attendance::replace(c, &actor, id, parsed)
        })
        .await;
    match result {
        Ok(_) => Ok(done(
            &format!("/events/{id}#attendance"),
            "attendance_saved",
        )),
        Err(AppError::Invalid { fields, .. }) => {
            event_page(&app, ctx, &user, id, Some((rows, fields)))
                .await?
                .page_with(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}

pub async fn complete(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let actor = user.actor();
    let (rules, base) = (app.rules(), app.config.base_url.clone());
    // Completing counts the event's attendance in the figures: with none recorded, the
    // page asks first, on the event's own page (the API completes as asked).
    let ticked = confirmed(&pairs).is_ok();
    let done_it = app
        .db(move |c| {
            if !ticked && !attendance::any_recorded(c, id)? {
                events::get(c, id)?;
                return Ok(false);
            }
            crate::domain::schedule::complete_event(c, &actor, &rules, &base, EventId(id))
                .map(|_| true)
        })
        .await?;
    if done_it {
        return Ok(done(&format!("/events/{id}"), "event_completed"));
    }
    let mut page = event_page(&app, ctx, &user, id, None).await?;
    page.message = Some(
        "No attendance is recorded for this event. Enter it below first, or tick the box to complete it counting nobody."
            .into(),
    );
    page.page_with(StatusCode::UNPROCESSABLE_ENTITY)
}

/// Undoes a completion from the event page.
pub async fn reopen(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    app.db(move |c| events::reopen(c, &actor, id)).await?;
    Ok(done(&format!("/events/{id}"), "event_reopened"))
}

pub async fn cancel(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    confirmed(&pairs)?;
    let actor = user.actor();
    let rules = app.rules();
    app.db(move |c| crate::domain::schedule::cancel_event(c, &actor, &rules, EventId(id)))
        .await?;
    Ok(done(&format!("/events/{id}"), "event_cancelled"))
}

/// The event page's "Move or change capacity" form.
pub async fn change(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, tz) = (user.actor(), app.config.time_zone);
    let rules = app.rules();
    let sent = input.clone();
    let result = app
        .db(move |c| {
            crate::domain::schedule::change_event(c, &actor, &rules, EventId(id), &sent, Some(tz))
        })
        .await;
    match result {
        Ok(_) => Ok(done(&format!("/events/{id}"), "event_changed")),
        // The page again, its change form open with what was typed and why it was refused.
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            let status = e.status();
            let why: Vec<String> = match &e {
                AppError::Invalid { fields, .. } => fields
                    .iter()
                    .map(|(k, v)| {
                        let name = match k.as_str() {
                            "starts_at" => "Starts",
                            "ends_at" => "Ends",
                            "capacity" => "Capacity",
                            "joining_url" => "Joining link",
                            "joining_notes" => "Joining instructions",
                            other => other,
                        };
                        format!("{name}: {v}")
                    })
                    .collect(),
                other => vec![crate::web::forms::sentence(&other.to_string())],
            };
            let mut page = event_page(&app, ctx, &user, id, None).await?;
            page.change_errors = why;
            for (field, slot) in [
                ("starts_at", &mut page.starts_local),
                ("ends_at", &mut page.ends_local),
            ] {
                if let Some(v) = input.get(field) {
                    *slot = v.to_string();
                }
            }
            if let Some(v) = input.get("joining_url") {
                page.e.joining_url = Some(v.to_string());
            }
            if let Some(v) = input.get("joining_notes") {
                page.e.joining_notes = Some(v.to_string());
            }
            page.page_with(status)
        }
        Err(e) => Err(e),
    }
}
