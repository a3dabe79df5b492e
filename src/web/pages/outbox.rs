//! The outbox page (admin): every queued, kept, sent or failed message.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use crate::app::AppState;
use crate::domain::list::ListQuery;
use crate::domain::mail::{self, Message};
use crate::error::AppResult;
use crate::web::auth::Admin;
use crate::web::view::{Ctx, PageCtx, RenderPage};

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    ctx: PageCtx,
    smtp: bool,
    items: Vec<Message>,
    total: i64,
    page: i64,
    pages: i64,
}

pub async fn list(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(_): Admin,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let params = q.params();
    let page = app.db(move |c| mail::list(c, &params)).await?;
    OutboxPage {
        ctx: ctx.titled("Outbox"),
        smtp: app.config.smtp_url.is_some(),
        total: page.total,
        page: page.page,
        pages: page.pages(),
        items: page.items,
    }
    .page()
}
