//! The audit log page (admin): filtered by record, person and days, each change in words
//! ("pupils 58 → 61") and each actor named as it was (a user, a feedback form's link, the
//! command line).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use crate::app::AppState;
use crate::domain::audit::{self, AuditFilter};
use crate::domain::list::ListQuery;
use crate::error::AppResult;
use crate::web::auth::Admin;
use crate::web::view::{local, Ctx, PageCtx, RenderPage};

pub struct AuditLine {
    pub when: String,
    pub who: String,
    pub what: String,
    pub href: Option<String>,
    pub action: String,
    pub change: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    ctx: PageCtx,
    entities: Vec<String>,
    entity: String,
    entity_id: String,
    who: String,
    from: String,
    to: String,
    any: bool,
    rows: Vec<AuditLine>,
    total: i64,
    page: i64,
    pages: i64,
    keep: String,
}

/// Where a record of the log can be seen, if it has a page.
fn page_of(entity: &str, id: i32) -> Option<String> {
    Some(match entity {
        "programme" => format!("/programmes/{id}"),
        "event" | "attendance" => format!("/events/{id}"),
        "school" => format!("/schools/{id}"),
        "venue" => format!("/venues/{id}"),
        "organisation" => format!("/organisations/{id}"),
        "user" => format!("/users/{id}"),
        _ => return None,
    })
}

pub async fn list(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(_): Admin,
    Query(q): Query<ListQuery>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<Response> {
    let text = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().chars().take(100).collect::<String>())
            .unwrap_or_default()
    };
    let date = |name: &str| chrono::NaiveDate::parse_from_str(&text(name), "%Y-%m-%d").ok();
    let (entity, who) = (text("entity"), text("who"));
    let entity_id = text("entity_id").parse::<i32>().ok().filter(|id| *id > 0);
    let (from, to) = (date("from"), date("to"));
    let tz = app.config.time_zone;
    // A local day's start, as the log's UTC time.
    let start_of = |d: chrono::NaiveDate| {
        use chrono::TimeZone;
        tz.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.naive_utc())
    };
    let filter = AuditFilter {
        entity: Some(entity.clone()).filter(|e| !e.is_empty()),
        entity_id,
        who: Some(who.clone()).filter(|w| !w.is_empty()),
        from: from.and_then(start_of),
        before: to.and_then(|d| d.succ_opt()).and_then(start_of),
    };
    let mut kept: Vec<(&str, String)> = Vec::new();
    if let Some(e) = &filter.entity {
        kept.push(("entity", e.clone()));
    }
    if let Some(id) = entity_id {
        kept.push(("entity_id", id.to_string()));
    }
    if let Some(w) = &filter.who {
        kept.push(("who", w.clone()));
    }
    for (name, d) in [("from", from), ("to", to)] {
        if let Some(d) = d {
            kept.push((name, d.to_string()));
        }
    }
    let any = !kept.is_empty();
    let mut keep = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&kept)
        .finish();
    if !keep.is_empty() {
        keep.push('&');
    }
    let (params, f) = (q.params(), filter.clone());
    let (page, entities) = app
        .db(move |c| Ok((audit::filtered(c, &params, &f)?, audit::entities(c)?)))
        .await?;
    let rows = page
        .items
        .iter()
        .map(|e| AuditLine {
            when: local(e.at.and_utc(), tz),
            who: audit::actor_name(e),
            what: format!("{} {}", e.entity, e.entity_id),
            href: page_of(&e.entity, e.entity_id),
            action: e.action.replace('_', " "),
            change: audit::describe(e),
        })
        .collect();
    AuditPage {
        ctx: ctx.titled("Audit log"),
        entities,
        entity,
        entity_id: entity_id.map(|i| i.to_string()).unwrap_or_default(),
        who,
        from: from.map(|d| d.to_string()).unwrap_or_default(),
        to: to.map(|d| d.to_string()).unwrap_or_default(),
        any,
        rows,
        total: page.total,
        page: page.page,
        pages: page.pages(),
        keep,
    }
    .page()
}
