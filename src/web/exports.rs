//! Downloads of the funder outputs, shared by pages and the API: the workbook and the CSV
//! tables of a programme, a year or an organisation. Built off the async runtime.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::app::{now, AppState};
use crate::domain::users::User;
use crate::error::{AppError, AppResult};
use crate::export::{self, csv::Table, xlsx::Report};
use crate::web::auth::Reader;

/// What a download covers.
#[derive(Debug, Clone, Copy)]
enum Scope {
    Programme(i32),
    Year(i32),
    Organisation(i32),
}

enum File {
    Workbook,
    Csv(Table),
}

fn parse_file(name: &str) -> AppResult<File> {
    if name == "impact.xlsx" {
        return Ok(File::Workbook);
    }
    name.strip_suffix(".csv")
        .and_then(Table::parse)
        .map(File::Csv)
        .ok_or(AppError::NotFound)
}

/// The report of a scope, as the user may see it (a funder: its own organisation only).
fn report(
    conn: &mut crate::db::AnyConnection,
    user: &User,
    scope: Scope,
) -> AppResult<(Report, Vec<String>)> {
    let actor = user.actor();
    match scope {
        Scope::Programme(id) => export::programme_report(conn, &actor, id, now()),
        Scope::Year(year) => export::year_report(conn, &actor, year, now()),
        Scope::Organisation(id) => export::organisation_report(conn, &actor, id, now()),
    }
}

fn attachment(name: &str, content_type: &'static str) -> [(header::HeaderName, String); 2] {
    [
        (header::CONTENT_TYPE, content_type.to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ),
    ]
}

async fn download(app: AppState, user: User, scope: Scope, file: File) -> AppResult<Response> {
    let tz = app.config.time_zone;
    match file {
        File::Workbook => {
            let (bytes, stem) = app
                .db(move |c| {
                    let (r, stem) = report(c, &user, scope)?;
                    let today = now().and_utc().with_timezone(&tz).date_naive();
                    Ok((export::xlsx::workbook(c, &r, now(), tz, today)?, stem))
                })
                .await?;
            let mut parts: Vec<&str> = stem.iter().map(String::as_str).collect();
            parts.push("impact");
            let name = export::file_name(&parts, "xlsx");
            Ok((
                attachment(
                    &name,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                bytes,
            )
                .into_response())
        }
        File::Csv(table) => {
            // Check access and gather the figures first, so refusals are proper errors.
            let (r, stem) = {
                let user = user.clone();
                app.db(move |c| report(c, &user, scope)).await?
            };
            let mut parts: Vec<&str> = stem.iter().map(String::as_str).collect();
            parts.push(table.name());
            let name = export::file_name(&parts, "csv");
            let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
            let pool = app.pool.clone();
            tokio::task::spawn_blocking(move || {
                let result = pool.get().map_err(AppError::from).and_then(|mut conn| {
                    let ids = export::scope_ids(&r);
                    export::csv::write(
                        &mut conn,
                        table,
                        &ids,
                        &r.counts,
                        now(),
                        tz,
                        ChannelWriter {
                            tx,
                            buf: Vec::new(),
                        },
                    )
                });
                if let Err(e) = result {
                    tracing::error!(error = %e, "CSV export stopped");
                }
            });
            let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv()
                    .await
                    .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
            });
            Ok((
                attachment(&name, "text/csv; charset=utf-8"),
                Body::from_stream(stream),
            )
                .into_response())
        }
    }
}

/// Sends what the CSV writer writes to the response, in chunks.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx.blocking_send(chunk).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was closed")
        })
    }
}

impl Drop for ChannelWriter {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

pub async fn programme_workbook(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    download(app, user, Scope::Programme(id), File::Workbook).await
}

pub async fn programme_file(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path((id, file)): Path<(i32, String)>,
) -> AppResult<Response> {
    download(app, user, Scope::Programme(id), parse_file(&file)?).await
}

pub async fn year_file(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path((year, file)): Path<(i32, String)>,
) -> AppResult<Response> {
    download(app, user, Scope::Year(year), parse_file(&file)?).await
}

pub async fn organisation_workbook(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    download(app, user, Scope::Organisation(id), File::Workbook).await
}

pub async fn organisation_file(
    State(app): State<AppState>,
    Reader(user): Reader,
    Path((id, file)): Path<(i32, String)>,
) -> AppResult<Response> {
    download(app, user, Scope::Organisation(id), parse_file(&file)?).await
}
