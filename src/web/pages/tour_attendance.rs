//! A tour's attendance on one page: every held event of a programme with its rows, saved
//! at once; and the CSV upload (preview, then apply) with its template.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;

use crate::app::AppState;
use crate::domain::attendance::RowInput;
use crate::domain::input::Input;
use crate::domain::tour_attendance::{self as tour, Change, LineError};
use crate::domain::{attendance, bookings, events, programmes, schools};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::web::auth::Staff;
use crate::web::forms::form_input;
use crate::web::respond::done;
use crate::web::view::{local, Ctx, PageCtx, RenderPage};

/// A row of the grid.
pub struct Row {
    /// The event's words on the first row of each event.
    pub event_label: Option<String>,
    pub event_id: i32,
    pub school: String,
    pub group: String,
    pub pupils: String,
    pub staff: String,
    pub other: String,
    pub hint: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "tour_attendance.html")]
struct TourPage {
    ctx: PageCtx,
    programme_id: i32,
    programme_title: String,
    rows: Vec<Row>,
    message: Option<String>,
    /// A CSV previewed: its text, what it would change, and the lines refused.
    preview: Option<Preview>,
}

/// A CSV's text, each change with its event in words, and the lines refused.
type Preview = (String, Vec<(Change, String)>, Vec<LineError>);

const MAX_ROWS: usize = 2_000;

/// The rows of every held event: what is saved, then each booked school not on it yet,
/// then a spare row.
async fn grid(
    app: &AppState,
    user: &crate::domain::users::User,
    id: i32,
) -> AppResult<(String, Vec<Row>)> {
    let actor = user.actor();
    let tz = app.config.time_zone;
    app.db(move |c| {
        let p = programmes::get(c, &actor, id)?;
        let mut rows = Vec::new();
        for e in tour::held_events(c, id)? {
            let label = format!("{} · {} · {}", local(e.starts_at, tz), e.kind, e.place());
            let saved = attendance::for_event(c, e.id)?;
            let expected = bookings::expected_by_school(c, e.id)?;
            let mut ids: Vec<i32> = saved.iter().filter_map(|r| r.school_id).collect();
            ids.extend(expected.iter().map(|x| x.0));
            let labels = schools::labels(c, &ids)?;
            let label_of =
                |s: Option<i32>| s.and_then(|i| labels.get(&i).cloned()).unwrap_or_default();
            let mut first = Some(label);
            let mut push = |rows: &mut Vec<Row>, row: Row| {
                rows.push(Row {
                    event_label: first.take(),
                    ..row
                })
            };
            for r in &saved {
                push(
                    &mut rows,
                    Row {
                        event_label: None,
                        event_id: e.id,
                        school: label_of(r.school_id),
                        group: r.group.clone().unwrap_or_default(),
                        pupils: r.pupils.to_string(),
                        staff: r.staff.to_string(),
                        other: r.other.to_string(),
                        hint: String::new(),
                        error: None,
                    },
                );
            }
            for &(school, pupils, staff) in &expected {
                if saved.iter().any(|r| r.school_id == Some(school)) {
                    continue;
                }
                push(
                    &mut rows,
                    Row {
                        event_label: None,
                        event_id: e.id,
                        school: label_of(Some(school)),
                        group: String::new(),
                        pupils: String::new(),
                        staff: String::new(),
                        other: String::new(),
                        hint: format!("Booked for {pupils} pupils and {staff} staff"),
                        error: None,
                    },
                );
            }
            push(
                &mut rows,
                Row {
                    event_label: None,
                    event_id: e.id,
                    school: String::new(),
                    group: String::new(),
                    pupils: String::new(),
                    staff: String::new(),
                    other: String::new(),
                    hint: String::new(),
                    error: None,
                },
            );

            if rows.len() > MAX_ROWS {
                break;
            }
        }
        Ok((format!("{} {}", p.title, p.year), rows))
    })
    .await
}

pub async fn show(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (title, rows) = grid(&app, &user, id).await?;
    TourPage {
        ctx: ctx.titled(format!("Attendance: {title}")),
        programme_id: id,
        programme_title: title,
        rows,
        message: None,
        preview: None,
    }
    .page()
}

/// What the form sent: its rows as typed, the events it holds (with each one's first
/// row), the rows to keep per event, and the rows refused (`line N`).
type Sent = (
    Vec<Input>,
    Vec<(usize, i32)>,
    Vec<(usize, i32, RowInput)>,
    FieldErrors,
);

/// Reads the grid: a row with a school or group and a number is kept; a row whose numbers
/// are all empty is not (so clearing a row removes it).
fn rows_of(c: &mut crate::db::AnyConnection, input: &Input) -> AppResult<Sent> {
    let n: usize = input
        .get("rows")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(MAX_ROWS);
    let mut typed = Vec::new();
    let mut events: Vec<(usize, i32)> = Vec::new();
    let mut kept = Vec::new();
    let mut errors = FieldErrors::new();
    for i in 0..n {
        let row = Input::from_pairs(
            ["event", "school", "group", "pupils", "staff", "other"]
                .iter()
                .map(|k| {
                    (
                        k.to_string(),
                        input
                            .get(&format!("{k}_{i}"))
                            .unwrap_or("")
                            .trim()
                            .to_string(),
                    )
                }),
        );
        let text = |k: &str| row.get(k).unwrap_or("").to_string();
        let event_id = text("event").parse::<i32>().unwrap_or(0);
        if !events.iter().any(|(_, e)| *e == event_id) {
            events.push((i, event_id));
        }
        let numbers: Vec<String> = ["pupils", "staff", "other"]
            .iter()
            .map(|k| text(k))
            .collect();
        if numbers.iter().all(|n| n.is_empty()) {
            typed.push(row);
            continue;
        }
        let mut counts = [0i32; 3];
        let mut bad = None;
        for (j, n) in numbers.iter().enumerate() {
            if n.is_empty() {
                continue;
            }
            match n.parse::<i64>() {
                Ok(v) if (0..=attendance::MAX_PEOPLE).contains(&v) => counts[j] = v as i32,
                _ => {
                    bad = Some(format!(
                        "numbers must be whole numbers from 0 to {}",
                        attendance::MAX_PEOPLE
                    ))
                }
            }
        }
        let (school, group) = (text("school"), text("group"));
        let school_id = if school.is_empty() {
            None
        } else {
            match schools::resolve(c, &school)? {
                Ok(found) => found,
                Err(why) => {
                    bad.get_or_insert(why);
                    None
                }
            }
        };
        if school_id.is_none() && group.is_empty() && bad.is_none() {
            bad = Some("choose a school, or name a group such as \"public\"".into());
        }
        if school_id.is_some() && !group.is_empty() {
            bad.get_or_insert("a row is a school or a named group, not both".into());
        }
        if group.chars().count() > 100 {
            bad.get_or_insert("a group's name is at most 100 characters".into());
        }
        match bad {
            Some(why) => {
                errors.insert(format!("line {i}"), why);
            }
            None => kept.push((
                i,
                event_id,
                RowInput {
                    school_id,
                    group: school_id.is_none().then_some(group),
                    pupils: counts[0],
                    staff: counts[1],
                    other: counts[2],
                },
            )),
        }
        typed.push(row);
    }
    Ok((typed, events, kept, errors))
}

pub async fn save(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let actor = user.actor();
    let sent = input.clone();
    let result = app
        .db(move |c| {
            programmes::get(c, &actor, id)?;
            let (rows, events, kept, errors) = rows_of(c, &sent)?;
            match tour::replace_events(c, &actor, id, &events, kept, errors) {
                Ok(_) => Ok(Ok(())),
                Err(AppError::Invalid { fields, .. }) => Ok(Err((rows, fields))),
                Err(e) => Err(e),
            }
        })
        .await?;
    match result {
        Ok(()) => Ok(done(
            &format!("/programmes/{id}/attendance"),
            "attendance_saved",
        )),
        Err((rows, fields)) => {
            let (title, fresh) = grid(&app, &user, id).await?;
            let labels: Vec<Option<String>> = {
                let mut seen = std::collections::HashSet::new();
                rows.iter()
                    .map(|r| {
                        let e = r.get("event").unwrap_or("").to_string();
                        let first = seen.insert(e.clone());
                        first
                            .then(|| {
                                fresh
                                    .iter()
                                    .find(|f| f.event_id.to_string() == e)
                                    .and_then(|f| f.event_label.clone())
                            })
                            .flatten()
                    })
                    .collect()
            };
            let rows = rows
                .into_iter()
                .zip(labels)
                .enumerate()
                .map(|(i, (r, label))| Row {
                    event_label: label,
                    event_id: r.get("event").and_then(|v| v.parse().ok()).unwrap_or(0),
                    school: r.get("school").unwrap_or("").to_string(),
                    group: r.get("group").unwrap_or("").to_string(),
                    pupils: r.get("pupils").unwrap_or("").to_string(),
                    staff: r.get("staff").unwrap_or("").to_string(),
                    other: r.get("other").unwrap_or("").to_string(),
                    hint: String::new(),
                    error: fields.get(&format!("line {i}")).cloned(),
                })
                .collect();
            TourPage {
                ctx: ctx.titled(format!("Attendance: {title}")),
                programme_id: id,
                programme_title: title,
                rows,
                message: Some("Please correct the rows marked below; nothing was saved.".into()),
                preview: None,
            }
            .page_with(StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// The CSV pasted or uploaded: previewed (nothing written) or applied.
pub async fn upload(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let text = input.get("csv").unwrap_or("").to_string();
    let apply = input.get("apply") == Some("true");
    let (actor, tz) = (user.actor(), app.config.time_zone);
    let sent = text.clone();
    let outcome = app
        .db(move |c| {
            programmes::get(c, &actor, id)?;
            let (lines, errors) = tour::parse_csv(c, id, tz, sent.as_bytes())?;
            if apply {
                match tour::apply(c, &actor, id, &lines, errors) {
                    Ok(_) => return Ok(None),
                    Err(AppError::Invalid { .. }) => {}
                    Err(e) => return Err(e),
                }
                let (lines, errors) = tour::parse_csv(c, id, tz, sent.as_bytes())?;
                let (changes, mut refused) = tour::plan(c, id, &lines)?;
                refused.extend(errors);
                refused.sort_by_key(|e| e.line);
                Ok(Some((changes, refused)))
            } else {
                let (changes, mut refused) = tour::plan(c, id, &lines)?;
                refused.extend(errors);
                refused.sort_by_key(|e| e.line);
                Ok(Some((changes, refused)))
            }
        })
        .await?;
    let Some((changes, refused)) = outcome else {
        return Ok(done(
            &format!("/programmes/{id}/attendance"),
            "attendance_saved",
        ));
    };
    let (title, rows) = grid(&app, &user, id).await?;
    let tz = app.config.time_zone;
    let event_ids: Vec<i32> = changes.iter().map(|c| c.event_id).collect();
    let words = app
        .db(move |c| {
            let found = events::get_many(c, &event_ids)?;
            Ok(found
                .into_iter()
                .map(|e| {
                    (
                        e.id,
                        format!("{} · {} · {}", local(e.starts_at, tz), e.kind, e.place()),
                    )
                })
                .collect::<std::collections::HashMap<i32, String>>())
        })
        .await?;
    let changes = changes
        .into_iter()
        .map(|c| {
            let w = words.get(&c.event_id).cloned().unwrap_or_default();
            (c, w)
        })
        .collect();
    let status = if refused.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let message = (!refused.is_empty()).then(|| {
        format!(
            "{} line{} cannot be used; nothing will be written until the file is corrected.",
            refused.len(),
            if refused.len() == 1 { "" } else { "s" }
        )
    });
    TourPage {
        ctx: ctx.titled(format!("Attendance: {title}")),
        programme_id: id,
        programme_title: title,
        rows,
        message,
        preview: Some((text, changes, refused)),
    }
    .page_with(status)
}

/// The template: each held event's booked schools, ready to fill in.
pub async fn template(
    State(app): State<AppState>,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let (actor, tz) = (user.actor(), app.config.time_zone);
    let bytes = app.db(move |c| tour::template(c, &actor, id, tz)).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"attendance.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}
