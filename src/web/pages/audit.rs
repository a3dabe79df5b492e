//! The audit log page (admin).

use axum::extract::{Query, State};
use axum::response::Response;

use crate::app::AppState;
use crate::domain::audit;
use crate::domain::list::ListQuery;
use crate::error::AppResult;
use crate::web::auth::Admin;
use crate::web::view::{Cell, Ctx, ListView, RenderPage};

pub async fn list(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(_): Admin,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let params = q.params();
    let p = params.clone();
    let tz = app.config.time_zone;
    let page = app.db(move |c| audit::list(c, &p)).await?;
    let mut view = ListView::new(ctx.titled("Audit log"), "/audit", &page, None, false);
    view.searchable = false;
    view.empty = "Nothing has been changed yet.".into();
    view.columns = vec!["When", "Who", "What", "Action", "Change"];
    view.rows = page
        .items
        .iter()
        .map(|e| {
            let when =
                e.at.and_utc()
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M")
                    .to_string();
            let change = match (&e.before_value, &e.after_value) {
                (Some(b), Some(a)) => format!("{} → {}", shorten(b), shorten(a)),
                (None, Some(a)) => shorten(a),
                (Some(b), None) => format!("was {}", shorten(b)),
                (None, None) => String::new(),
            };
            vec![
                Cell::text(when),
                Cell::text(e.user_name.clone().unwrap_or_else(|| "command line".into())),
                Cell::text(format!("{} {}", e.entity, e.entity_id)),
                Cell::text(&e.action),
                Cell::text(change),
            ]
        })
        .collect();
    view.page()
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s.to_string()
    }
}
