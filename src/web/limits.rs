//! Limits every request meets before a handler reads it: a body cap chosen by route (forms
//! and JSON are small; the register upload is large and streamed) checked against the
//! declared length before a byte is read and enforced while reading, and a time limit.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::Limited;

use crate::app::AppState;
use crate::domain::types::Role;
use crate::error::AppError;
use crate::web::auth;

/// Request limits of the install.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// Largest body of a form or a JSON request from a signed-in client.
    pub body: usize,
    /// Largest body from a client with no session or token (the login and feedback forms).
    pub anonymous_body: usize,
    /// Largest upload of the register CSV.
    pub upload: usize,
    /// Time to answer an ordinary request (the head of a download included).
    pub request_timeout: Duration,
    /// Time to receive and import an upload.
    pub upload_timeout: Duration,
}

impl Default for RequestLimits {
    fn default() -> RequestLimits {
        RequestLimits {
            // The largest real form (attendance of a busy event, a long quote) is a few
            // kilobytes; a JSON attendance list of a thousand rows is about 60 KB.
            body: 256 * 1024,
            // A 2,000-character quote in any script, percent-encoded, is under 20 KB.
            anonymous_body: 64 * 1024,
            // The national register with all its columns is about 60 MB.
            upload: 128 * 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            upload_timeout: Duration::from_secs(600),
        }
    }
}

/// The body cap the guard chose for a request, for the layers and handlers that read it.
#[derive(Debug, Clone, Copy)]
pub struct BodyCap(pub usize);

/// The routes that take an upload (page and API).
pub fn is_upload(path: &str) -> bool {
    matches!(path, "/import/schools" | "/api/v1/import/schools")
}

/// The path as the client sent it (before any nesting stripped a prefix).
fn full_path(request: &Request) -> String {
    request
        .extensions()
        .get::<OriginalUri>()
        .map(|u| u.path().to_string())
        .unwrap_or_else(|| request.uri().path().to_string())
}

/// Only an admin's upload gets the upload's size and time: anyone else's is an ordinary
/// request, so an anonymous sender cannot hold a connection for ten minutes.
async fn admin_asking(app: &AppState, headers: &HeaderMap, path: &str) -> bool {
    auth::user_of(app, headers, path.starts_with("/api/"))
        .await
        .ok()
        .flatten()
        .is_some_and(|u| u.role == Role::Admin)
}

/// No token and no session: the login and feedback forms, or someone guessing.
fn anonymous(headers: &HeaderMap) -> bool {
    auth::bearer_secret(headers).is_none() && auth::session_secret(headers).is_none()
}

pub async fn guard(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let limits = app.config.limits;
    let path = full_path(&request);
    let (cap, timeout) = if is_upload(&path) && admin_asking(&app, request.headers(), &path).await {
        (limits.upload, limits.upload_timeout)
    } else if anonymous(request.headers()) {
        (limits.anonymous_body, limits.request_timeout)
    } else {
        (limits.body, limits.request_timeout)
    };
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().parse::<u64>());
    match declared {
        Some(Ok(n)) if n > cap as u64 => return too_large(cap).into_response(),
        Some(Err(_)) => {
            return AppError::BadRequest("the Content-Length header is not a number".into())
                .into_response()
        }
        _ => {}
    }
    let mut request = request.map(|body| Body::new(Limited::new(body, cap)));
    request.extensions_mut().insert(BodyCap(cap));
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::Unavailable("the request took too long; please try again".into())
            .into_response(),
    }
}

pub fn too_large(cap: usize) -> AppError {
    AppError::PayloadTooLarge(format!(
        "the request is larger than the {} allowed here",
        human_size(cap)
    ))
}

fn human_size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MB", bytes / (1024 * 1024))
    } else {
        format!("{} KB", bytes / 1024)
    }
}

/// True when a body error comes from the size cap.
pub fn is_too_large(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        current = e.source();
    }
    false
}
