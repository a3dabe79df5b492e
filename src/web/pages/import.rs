//! The upload page for the national register's CSV (admin).

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::app::AppState;
use crate::domain::import::{self, ImportOptions, ImportReport};
use crate::error::{AppError, AppResult};
use crate::web::auth::Admin;
use crate::web::upload::spool;
use crate::web::view::{Ctx, PageCtx, RenderPage};

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    ctx: PageCtx,
    message: Option<String>,
    report: Option<ImportReport>,
}

pub async fn form(ctx: Ctx, Admin(_): Admin) -> AppResult<Response> {
    ImportPage {
        ctx: ctx.titled("Import schools"),
        message: None,
        report: None,
    }
    .page()
}

pub async fn upload(
    State(app): State<AppState>,
    ctx: Ctx,
    Admin(user): Admin,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let mut file: Option<(std::fs::File, u64)> = None;
    let mut options = ImportOptions::default();
    while let Some(field) = multipart.next_field().await.map_err(|e| {
        if crate::web::limits::is_too_large(&e) {
            crate::web::limits::too_large(app.config.limits.upload)
        } else {
            AppError::BadRequest(format!("the upload could not be read: {e}"))
        }
    })? {
        match field.name() {
            Some("file") => file = Some(spool(field, app.config.limits.upload).await?),
            Some("include_closed") => options.include_closed = true,
            _ => {}
        }
    }
    let ctx = ctx.titled("Import schools");
    let Some((file, _)) = file.filter(|(_, size)| *size > 0) else {
        return ImportPage {
            ctx,
            message: Some("Choose a CSV file to import.".into()),
            report: None,
        }
        .page_with(StatusCode::UNPROCESSABLE_ENTITY);
    };
    let actor = user.actor();
    let result = app
        .db(move |c| {
            let source = std::io::BufReader::new(file);
            import::import_schools_from(c, Some(&actor), source, options, &|_, _| {})
        })
        .await;
    match result {
        Ok(report) => ImportPage {
            ctx,
            message: None,
            report: Some(report),
        }
        .page(),
        Err(AppError::Invalid { fields, .. }) => {
            let why = fields.values().next().cloned().unwrap_or_default();
            ImportPage {
                ctx,
                message: Some(format!("Nothing was imported: {why}.")),
                report: None,
            }
            .page_with(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e),
    }
}
