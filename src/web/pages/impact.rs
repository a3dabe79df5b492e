//! Impact pages: a programme's figures, and the same rolled up per year and per
//! organisation with a year-on-year comparison. Every number comes from `impact`.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use crate::app::{now, AppState};
use crate::domain::feedback;
use crate::domain::types::Role;
use crate::domain::{organisations as orgs, reports};
use crate::error::{AppError, AppResult};
use crate::impact::narrative::thousands;
use crate::impact::{ByDelivery, Figures, Workshops};
use crate::web::auth::Reader;
use crate::web::charts;
use crate::web::view::{Ctx, PageCtx, RenderPage};

pub struct TableRow {
    pub label: &'static str,
    pub events: String,
    pub schools: String,
    pub audience: String,
    pub pupils: String,
    pub total: bool,
}

fn table(by: &ByDelivery, total: &Figures) -> Vec<TableRow> {
    let row = |label, f: &Figures, total| TableRow {
        label,
        events: thousands(f.events),
        schools: thousands(f.schools),
        audience: thousands(f.audience),
        pupils: thousands(f.pupils),
        total,
    };
    vec![
        row("In school", &by.in_school, false),
        row("Venue", &by.venue, false),
        row("Live stream", &by.live_stream, false),
        row("Total", total, true),
    ]
}

fn chart(by: &ByDelivery) -> String {
    charts::bars(
        "Audience by delivery",
        &[
            ("In school".to_string(), by.in_school.audience),
            ("Venue".to_string(), by.venue.audience),
            ("Live stream".to_string(), by.live_stream.audience),
        ],
    )
}

pub struct TargetLine {
    pub text: String,
    pub target: i64,
    /// The bar stops at the target; the text tells of more.
    pub shown: i64,
    pub percent: String,
}

impl TargetLine {
    fn of(t: &crate::impact::TargetProgress) -> TargetLine {
        let percent = t.percent.map(|p| format!("{p} %")).unwrap_or_default();
        let text = format!(
            "{} of {} {}{}",
            thousands(t.achieved),
            thousands(t.target),
            t.measure,
            t.percent.map(|p| format!(", {p} %")).unwrap_or_default()
        );
        TargetLine {
            text,
            target: t.target.max(1),
            shown: t.achieved.min(t.target.max(1)),
            percent,
        }
    }
}

/// An outcome statement: its text, how many answered, and the share who agree.
fn outcome_line(o: feedback::OutcomeSummary) -> (String, i64, String) {
    let agree = o.percent_agree.map(|p| format!("{p} %"));
    (o.text, o.answers, agree.unwrap_or_else(|| "—".into()))
}

/// A featured quote and who said it ("Teacher, Fellside Primary School").
fn quote_line(f: feedback::Feedback) -> (String, String) {
    let who = [Some(f.role.to_string()), f.school_name]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    (f.quote, who)
}

#[derive(Template)]
#[template(path = "impact.html")]
struct ProgrammeImpactPage {
    ctx: PageCtx,
    /// The A4 report: no navigation or downloads, a date and the programme's facts.
    printable: bool,
    generated: String,
    facts: String,
    download_base: String,
    report_href: Option<String>,
    programme_id: i32,
    programme_name: String,
    narrative: String,
    table: Vec<TableRow>,
    workshops_events: String,
    workshops_participants: String,
    chart: String,
    targets: Vec<TargetLine>,
    districts: Vec<(String, i64)>,
    ratings: i64,
    average: String,
    outcomes: Vec<(String, i64, String)>,
    quotes: Vec<(String, String)>,
}

pub async fn programme(
    State(app): State<AppState>,
    ctx: Ctx,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    programme_page(app, ctx, user, id, false).await
}

/// The printable A4 report of a programme: the same figures, laid out for paper.
pub async fn report(
    State(app): State<AppState>,
    ctx: Ctx,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    programme_page(app, ctx, user, id, true).await
}

async fn programme_page(
    app: AppState,
    ctx: Ctx,
    user: crate::domain::users::User,
    id: i32,
    printable: bool,
) -> AppResult<Response> {
    let actor = user.actor();
    let (impact, districts, summary, featured) = app
        .db(move |c| {
            let impact = reports::programme_impact(c, &actor, id, now())?;
            let districts = reports::districts(c, &impact.counts)?;
            let summary = feedback::summary(c, id)?;
            // The programme's access was checked by its figures just now.
            let featured = feedback::featured(c, &actor, id, 10)?;
            Ok((impact, districts, summary, featured))
        })
        .await?;
    let targets = impact.targets.iter().map(TargetLine::of).collect();
    let p = &impact.programme;
    let tz = app.config.time_zone;
    let mut facts = vec![format!("{} {}", p.title, p.year)];
    if let Some(f) = &p.organisation_name {
        facts.push(format!("funded by {f}"));
    }
    if !p.theme.is_empty() {
        facts.push(p.theme.clone());
    }
    ProgrammeImpactPage {
        ctx: ctx.titled(format!("Impact of {} {}", p.title, p.year)),
        printable,
        generated: now()
            .and_utc()
            .with_timezone(&tz)
            .format("%-d %B %Y")
            .to_string(),
        facts: facts.join(" · "),
        download_base: format!("/programmes/{}", p.id),
        report_href: Some(format!("/programmes/{}/report", p.id)),
        programme_id: p.id,
        programme_name: format!("{} {}", p.title, p.year),
        narrative: impact.narrative.clone(),
        table: table(&impact.by_delivery, &impact.total),
        workshops_events: thousands(impact.workshops.events),
        workshops_participants: thousands(impact.workshops.participants),
        chart: chart(&impact.by_delivery),
        targets,
        districts,
        ratings: summary.ratings,
        average: summary
            .average_rating
            .map(|a| format!("{a:.1}"))
            .unwrap_or_default(),
        outcomes: summary.outcomes.into_iter().map(outcome_line).collect(),
        quotes: featured.into_iter().map(quote_line).collect(),
    }
    .page()
}

#[derive(Template)]
#[template(path = "impact_group.html")]
struct GroupPage {
    ctx: PageCtx,
    hint: Option<crate::domain::demo::Hint>,
    download_base: String,
    report_href: Option<String>,
    links: Vec<(String, String)>,
    narrative: String,
    table: Vec<TableRow>,
    workshops_events: String,
    workshops_participants: String,
    chart: String,
    years: Vec<(i32, String, String, String, String, String, String)>,
    /// Each programme with its events, schools, audience and pupils written out.
    programmes: Vec<(reports::ProgrammeLine, String, String, String, String)>,
}

fn year_rows(
    rows: Vec<(i32, Figures, Workshops)>,
) -> Vec<(i32, String, String, String, String, String, String)> {
    rows.into_iter()
        .map(|(y, f, w)| {
            (
                y,
                thousands(f.events),
                thousands(f.schools),
                thousands(f.audience),
                thousands(f.pupils),
                thousands(w.events),
                thousands(w.participants),
            )
        })
        .collect()
}

fn group_page(
    ctx: PageCtx,
    download_base: String,
    links: Vec<(String, String)>,
    g: reports::GroupImpact,
    years: Vec<(i32, Figures, Workshops)>,
) -> GroupPage {
    GroupPage {
        ctx,
        hint: None,
        download_base,
        report_href: None,
        links,
        narrative: g.narrative,
        table: table(&g.by_delivery, &g.total),
        workshops_events: thousands(g.workshops.events),
        workshops_participants: thousands(g.workshops.participants),
        chart: chart(&g.by_delivery),
        years: year_rows(years),
        programmes: g
            .programmes
            .into_iter()
            .map(|p| {
                let t = p.total;
                (
                    p,
                    thousands(t.events),
                    thousands(t.schools),
                    thousands(t.audience),
                    thousands(t.pupils),
                )
            })
            .collect(),
    }
}

/// The funder's landing page: its organisation's figures. Staff choose an organisation.
pub async fn landing(State(app): State<AppState>, Reader(user): Reader) -> AppResult<Response> {
    match (user.role, user.organisation_id) {
        (Role::Funder, Some(org)) => {
            Ok(Redirect::to(&format!("/organisations/{org}/impact")).into_response())
        }
        (Role::Funder, None) => Err(AppError::NotFound),
        _ => {
            let first = app.db(orgs::all).await?.into_iter().next();
            match first {
                Some(o) => {
                    Ok(Redirect::to(&format!("/organisations/{}/impact", o.id)).into_response())
                }
                None => Ok(Redirect::to("/programmes").into_response()),
            }
        }
    }
}

pub async fn organisation(
    State(app): State<AppState>,
    ctx: Ctx,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let (name, g, years) = app
        .db(move |c| {
            let (org, g) = reports::organisation_impact(c, &actor, id, now())?;
            let years = reports::by_year(c, &actor, Some(id), now())?;
            Ok((org.name, g, years))
        })
        .await?;
    let links = years
        .iter()
        .map(|(y, _, _)| (format!("/impact/years/{y}"), format!("{y}")))
        .collect();
    let mut page = group_page(
        ctx.titled(format!("Impact: {name}")),
        format!("/organisations/{id}"),
        links,
        g,
        years,
    );
    // The funder's own organisation is its first page.
    if user.organisation_id == Some(id) {
        page.hint = super::demo_hint(&app, &user).await?;
    }
    page.page()
}

pub async fn year(
    State(app): State<AppState>,
    ctx: Ctx,
    Reader(user): Reader,
    Path(year): Path<i32>,
) -> AppResult<Response> {
    let actor = user.actor();
    let g = app
        .db(move |c| reports::year_impact(c, &actor, year, now()))
        .await?;
    let links = vec![
        (
            format!("/impact/years/{}", year.saturating_sub(1)),
            format!("← {}", year.saturating_sub(1)),
        ),
        (
            format!("/impact/years/{}", year.saturating_add(1)),
            format!("{} →", year.saturating_add(1)),
        ),
    ];
    group_page(
        ctx.titled(format!("Impact in {year}")),
        format!("/impact/years/{year}"),
        links,
        g,
        Vec::new(),
    )
    .page()
}
