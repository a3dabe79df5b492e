//! Pages of programmes: staff set them up; funders read their organisation's.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;

use crate::app::AppState;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::ListQuery;
use crate::domain::organisations as orgs;
use crate::domain::programmes::{self, Programme};
use crate::domain::types::ProgrammeStatus;
use crate::domain::{attendance, events};
use crate::error::{AppResult, FieldErrors};
use crate::impact::narrative::thousands;
use crate::web::auth::{Reader, Staff};
use crate::web::forms::{form_input, form_outcome};
use crate::web::respond::done;
use crate::web::view::local;
use crate::web::view::{
    ArchiveAction, Cell, Ctx, FieldsBuilder, FormField, FormView, ListView, PageCtx, RenderPage,
};

pub async fn list(
    State(app): State<AppState>,
    ctx: Ctx,
    Reader(user): Reader,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let params = q.params();
    let (p, actor) = (params.clone(), user.actor());
    let page = app.db(move |c| programmes::list(c, &actor, &p)).await?;
    let mut view = ListView::new(
        ctx.titled("Programmes"),
        "/programmes",
        &page,
        params.q,
        params.include_archived,
    );
    if user.role.is_staff() {
        view.new_href = Some("/programmes/new".into());
        view.new_label = "Add a programme".into();
        view.empty = "No programmes yet. Add one for each production's round: title, year, funder and targets.".into();
    } else {
        view.empty = "No programmes have been shared with your organisation yet.".into();
    }
    view.search_hint = "Title, theme or year".into();
    view.columns = vec!["Title", "Year", "Funder", "Dates", "Status"];
    view.rows = page
        .items
        .iter()
        .map(|p| {
            let title = if p.archived {
                format!("{} (archived)", p.title)
            } else {
                p.title.clone()
            };
            vec![
                Cell::link(title, format!("/programmes/{}", p.id)),
                Cell::text(p.year),
                Cell::opt(p.organisation_name.clone()),
                Cell::text(dates(p)),
                Cell::text(p.status),
            ]
        })
        .collect();
    view.page()
}

fn dates(p: &Programme) -> String {
    let fmt = |d: chrono::NaiveDate| d.format("%-d %b %Y").to_string();
    match (p.starts_on, p.ends_on) {
        (Some(s), Some(e)) => format!("{} – {}", fmt(s), fmt(e)),
        (Some(s), None) => format!("from {}", fmt(s)),
        (None, Some(e)) => format!("until {}", fmt(e)),
        (None, None) => "—".into(),
    }
}

type Choices = (Vec<(String, String)>, Vec<(String, String)>);

async fn choices(app: &AppState) -> AppResult<Choices> {
    app.db(|c| {
        let mut organisations = vec![(String::new(), "— none —".to_string())];
        organisations.extend(
            orgs::all(c)?
                .into_iter()
                .map(|o| (o.id.to_string(), o.name)),
        );
        let names: std::collections::HashMap<i32, String> =
            orgs::all(c)?.into_iter().map(|o| (o.id, o.name)).collect();
        let mut priorities = vec![(String::new(), "— none —".to_string())];
        priorities.extend(
            orgs::all_priorities(c)?
                .into_iter()
                .map(|(id, org, title)| {
                    (
                        id.to_string(),
                        format!(
                            "{}: {}",
                            names.get(&org).map(String::as_str).unwrap_or(""),
                            title
                        ),
                    )
                }),
        );
        Ok((organisations, priorities))
    })
    .await
}

fn fields(input: &Input, errors: &FieldErrors, choices: Choices) -> Vec<FormField> {
    let mut f = FieldsBuilder::new(input, errors);
    f.required("title", "Title", "text")
        .hint("The production, e.g. Ruby");
    f.required("year", "Year", "number");
    f.add("theme", "Theme", "text")
        .hint("e.g. Child sexual exploitation; drug use and County Lines");
    f.select("organisation_id", "Funder", choices.0);
    f.select("priority_id", "Plan priority", choices.1)
        .hint("A priority of the funder above.");
    f.add("starts_on", "Starts on", "date");
    f.add("ends_on", "Ends on", "date");
    f.add("target_schools", "Target: schools", "number");
    f.add("target_audience", "Target: audience", "number");
    f.add("target_events", "Target: events", "number");
    f.choice::<ProgrammeStatus>("status", "Status", None);
    f.finish()
}

fn input_of(p: &Programme) -> Input {
    let opt = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    Input::from_pairs([
        ("title", p.title.clone()),
        ("year", p.year.to_string()),
        ("theme", p.theme.clone()),
        ("organisation_id", opt(p.organisation_id)),
        ("priority_id", opt(p.priority_id)),
        ("starts_on", date(p.starts_on)),
        ("ends_on", date(p.ends_on)),
        ("target_schools", opt(p.target_schools)),
        ("target_audience", opt(p.target_audience)),
        ("target_events", opt(p.target_events)),
        ("status", p.status.as_str().to_string()),
    ])
}

async fn form(
    app: &AppState,
    ctx: PageCtx,
    action: String,
    input: &Input,
    errors: &FieldErrors,
    existing: Option<&Programme>,
) -> AppResult<FormView> {
    Ok(FormView {
        more: None,
        ctx,
        action,
        fields: fields(input, errors, choices(app).await?),
        submit: if existing.is_some() {
            "Save changes"
        } else {
            "Add programme"
        },
        cancel: existing
            .map(|p| format!("/programmes/{}", p.id))
            .unwrap_or_else(|| "/programmes".into()),
        message: None,
        archive: existing.map(|p| ArchiveAction {
            action: format!("/programmes/{}", p.id),
            archived: p.archived,
            what: "programme",
        }),
    })
}

pub async fn new_form(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(_): Staff,
) -> AppResult<Response> {
    let year = chrono::Utc::now().format("%Y").to_string();
    let input = Input::from_pairs([("year", year.as_str()), ("status", "planned")]);
    form(
        &app,
        ctx.titled("Add a programme"),
        "/programmes".into(),
        &input,
        &FieldErrors::new(),
        None,
    )
    .await?
    .page()
}

pub async fn create(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, submitted) = (user.actor(), input.clone());
    let result = app
        .db(move |c| {
            let parsed = programmes::parse(c, &submitted)?;
            programmes::create(c, &actor, parsed)
        })
        .await;
    match form_outcome(result)? {
        Ok(p) => Ok(done(&format!("/programmes/{}", p.id), "created")),
        Err((errors, message)) => form(
            &app,
            ctx.titled("Add a programme"),
            "/programmes".into(),
            &input,
            &errors,
            None,
        )
        .await?
        .rejected(&message),
    }
}

pub struct EventLine {
    pub id: i32,
    pub when: String,
    pub kind: String,
    pub place: String,
    pub status: String,
    pub status_key: &'static str,
    pub people: String,
}

#[derive(Template)]
#[template(path = "programme.html")]
struct ProgrammePage {
    ctx: PageCtx,
    p: Programme,
    priority: Option<String>,
    dates: String,
    targets: Vec<(&'static str, i32)>,
    events: Vec<EventLine>,
    page: i64,
    pages: i64,
    /// The user's own link to the programme's calendar feed (staff).
    calendar: Option<crate::web::calendar::LinkView>,
}

impl EventLine {
    /// An event's line; `people` counted at it, if any.
    fn of(e: &events::Event, people: Option<i64>, tz: chrono_tz::Tz) -> EventLine {
        EventLine {
            id: e.id,
            when: local(e.starts_at, tz),
            kind: e.kind.to_string(),
            place: e.place(),
            status: e.status.to_string(),
            status_key: e.status.as_str(),
            people: people.map(thousands).unwrap_or_else(|| "—".into()),
        }
    }
}

pub async fn show(
    State(app): State<AppState>,
    ctx: Ctx,
    Reader(user): Reader,
    Path(id): Path<i32>,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let actor = user.actor();
    let params = q.params();
    let (p, priority, events, people) = app
        .db(move |c| {
            let p = programmes::get(c, &actor, id)?;
            let priority = match p.priority_id {
                Some(pid) => orgs::all_priorities(c)?
                    .into_iter()
                    .find(|(i, _, _)| *i == pid)
                    .map(|(_, _, t)| t),
                None => None,
            };
            let events = events::list_for_programme(c, &actor, id, &params)?;
            let ids: Vec<i32> = events.items.iter().map(|e| e.id).collect();
            let people = attendance::people_by_event(c, &ids)?;
            Ok((p, priority, events, people))
        })
        .await?;
    let tz = app.config.time_zone;
    let lines = events
        .items
        .iter()
        .map(|e| EventLine::of(e, people.get(&e.id).copied(), tz))
        .collect();
    let targets = [
        ("Schools", p.target_schools),
        ("Audience", p.target_audience),
        ("Events", p.target_events),
    ]
    .into_iter()
    .filter_map(|(l, v)| v.map(|v| (l, v)))
    .collect();
    let calendar = if user.role.is_staff() {
        Some(
            crate::web::calendar::page_info(
                &app,
                &user,
                crate::domain::calendar::Feed::Programme(id),
            )
            .await?,
        )
    } else {
        None
    };
    ProgrammePage {
        calendar,
        dates: dates(&p),
        ctx: ctx.titled(format!("{} {}", p.title, p.year)),
        priority,
        targets,
        p,
        events: lines,
        page: events.page,
        pages: events.pages(),
    }
    .page()
}

pub async fn edit_form(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let p = app.db(move |c| programmes::get(c, &actor, id)).await?;
    form(
        &app,
        ctx.titled(format!("Edit {} {}", p.title, p.year)),
        format!("/programmes/{id}"),
        &input_of(&p),
        &FieldErrors::new(),
        Some(&p),
    )
    .await?
    .page()
}

pub async fn update(
    State(app): State<AppState>,
    ctx: Ctx,
    Staff(user): Staff,
    Path(id): Path<i32>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let input = form_input(pairs);
    let (actor, actor2, submitted) = (user.actor(), user.actor(), input.clone());
    let p = app.db(move |c| programmes::get(c, &actor2, id)).await?;
    let result = app
        .db(move |c| {
            let parsed = programmes::parse(c, &submitted)?;
            programmes::update(c, &actor, id, parsed)
        })
        .await;
    match form_outcome(result)? {
        Ok(_) => Ok(done(&format!("/programmes/{id}"), "saved")),
        Err((errors, message)) => form(
            &app,
            ctx.titled(format!("Edit {} {}", p.title, p.year)),
            format!("/programmes/{id}"),
            &input,
            &errors,
            Some(&p),
        )
        .await?
        .rejected(&message),
    }
}
