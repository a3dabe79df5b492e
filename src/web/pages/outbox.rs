//! The outbox page (admin): every queued, kept, sent or failed message, and the kept ones
//! sent once an SMTP server is set.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Form;

use crate::app::AppState;
use crate::domain::list::ListQuery;
use crate::domain::mail::{self, Message};
use crate::error::{AppError, AppResult};
use crate::web::auth::Admin;
use crate::web::respond::{confirmed, done};
use crate::web::view::{local, Ctx, PageCtx, RenderPage};

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    ctx: PageCtx,
    smtp: bool,
    /// Messages kept while no SMTP server was set, never sent.
    kept: i64,
    /// Each message, with when it was queued in the install's zone.
    items: Vec<(Message, String)>,
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
    let (page, kept) = app
        .db(move |c| Ok((mail::list(c, &params)?, mail::kept(c)?)))
        .await?;
    let tz = app.config.time_zone;
    OutboxPage {
        ctx: ctx.titled("Outbox"),
        smtp: app.config.smtp_url.is_some(),
        kept,
        total: page.total,
        page: page.page,
        pages: page.pages(),
        items: page
            .items
            .into_iter()
            .map(|m| {
                let when = local(m.created_at.and_utc(), tz);
                (m, when)
            })
            .collect(),
    }
    .page()
}

/// Sends the kept messages now that an SMTP server is set (the box must be ticked).
pub async fn send_kept(
    State(app): State<AppState>,
    Admin(user): Admin,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    if app.config.smtp_url.is_none() {
        return Err(AppError::Conflict(
            "no SMTP server is set (SMTP_URL), so the kept mail cannot be sent yet".into(),
        ));
    }
    confirmed(&pairs)?;
    let by = user.id;
    app.db(move |c| mail::send_kept(c, Some(by))).await?;
    Ok(done("/outbox", "kept_mail_queued"))
}
