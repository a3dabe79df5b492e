//! Downloads of the funder outputs, shared by pages and the API: the workbook and the CSV
//! tables of a programme, a year or an organisation. Built off the async runtime.

use std::io::{Seek, SeekFrom};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use tokio_util::io::ReaderStream;

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

/// The files of every scope (`…/export/{file}`), as the API document lists them.
pub const FILES: [&str; 5] = [
    "impact.xlsx",
    "schools.csv",
    "events.csv",
    "attendance.csv",
    "feedback.csv",
];

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
    // Exports are the longest database work there is; only a few run at once, so they
    // can never take every connection.
    // The turn moves into the blocking work, so a request that times out (and is dropped)
    // still holds it until its database work is done.
    let turn = app.export_permit().await?;
    match file {
        File::Workbook => {
            // Written to a temporary file while the connection is held, then sent from
            // the file, like the CSV tables: never held whole in memory.
            let (file, size, stem) = app
                .db(move |c| {
                    let _turn = turn;
                    let (r, stem) = report(c, &user, scope)?;
                    let today = now().and_utc().with_timezone(&tz).date_naive();
                    let mut file = tempfile::tempfile().map_err(AppError::internal)?;
                    export::xlsx::workbook_to(c, &r, now(), tz, today, &mut file)?;
                    let size = file.seek(SeekFrom::End(0)).map_err(AppError::internal)?;
                    file.seek(SeekFrom::Start(0)).map_err(AppError::internal)?;
                    Ok((file, size, stem))
                })
                .await?;
            let mut parts: Vec<&str> = stem.iter().map(String::as_str).collect();
            parts.push("impact");
            let name = export::file_name(&parts, "xlsx");
            Ok(from_file(
                file,
                size,
                attachment(
                    &name,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            ))
        }
        File::Csv(table) => {
            // The file is written whole to a temporary file while the connection is held,
            // then sent from the file: a client that reads slowly (or never) holds a file
            // handle, never a database connection.
            let (file, size, stem) = app
                .db(move |c| {
                    let _turn = turn;
                    let (r, stem) = report(c, &user, scope)?;
                    let mut file = tempfile::tempfile().map_err(AppError::internal)?;
                    let ids = export::scope_ids(&r);
                    export::csv::write(
                        c,
                        table,
                        &ids,
                        &r.counts,
                        now(),
                        tz,
                        std::io::BufWriter::with_capacity(64 * 1024, &mut file),
                    )?;
                    let size = file.seek(SeekFrom::End(0)).map_err(AppError::internal)?;
                    file.seek(SeekFrom::Start(0)).map_err(AppError::internal)?;
                    Ok((file, size, stem))
                })
                .await?;
            let mut parts: Vec<&str> = stem.iter().map(String::as_str).collect();
            parts.push(table.name());
            let name = export::file_name(&parts, "csv");
            Ok(from_file(
                file,
                size,
                attachment(&name, "text/csv; charset=utf-8"),
            ))
        }
    }
}

/// A download sent from its temporary file, with its length.
fn from_file(
    file: std::fs::File,
    size: u64,
    headers: [(header::HeaderName, String); 2],
) -> Response {
    let stream = ReaderStream::with_capacity(tokio::fs::File::from_std(file), 64 * 1024);
    let mut response = (headers, Body::from_stream(stream)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    response
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

#[cfg(test)]
mod tests {
    #[test]
    fn every_listed_file_is_one() {
        for name in super::FILES {
            assert!(super::parse_file(name).is_ok(), "{name}");
        }
        assert!(super::parse_file("secrets.csv").is_err());
    }
}
