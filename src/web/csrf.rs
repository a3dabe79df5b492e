//! CSRF protection for the pages. Every form carries a `csrf_token` field: for a signed-in
//! browser a value derived from its session secret (which no other site can read or set
//! without also replacing the session), otherwise a random value echoed from a SameSite
//! cookie (double submit). Works across processes with no server-side state.
//!
//! Bodies are read only as far as the check needs, under the route's size cap: a form is
//! small; an upload is checked from its first part (the token) and the rest is streamed on
//! untouched, so no request makes the server buffer megabytes before it is authorised.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::domain::tokens::random_secret;
use crate::error::AppError;
use crate::web::limits::{is_too_large, too_large, BodyCap};
use crate::web::CSRF_COOKIE;

/// The token for this request's forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// How much of an upload is read to find its token (the first part).
const MULTIPART_HEAD: usize = 16 * 1024;

/// The token a form must carry: bound to the session when there is one, else the
/// anonymous cookie's value.
pub fn form_token(session: Option<&str>, cookie: Option<&str>) -> Option<String> {
    match session.filter(|s| !s.is_empty()) {
        Some(secret) => {
            let mut h = Sha256::new();
            h.update(b"outreach csrf v1:");
            h.update(secret.as_bytes());
            Some(hex::encode(h.finalize()))
        }
        None => cookie.map(str::to_string),
    }
}

fn well_formed(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

pub async fn protect(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let session = crate::web::auth::session_secret(request.headers());
    let cookie = CookieJar::from_headers(request.headers())
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| well_formed(v));
    let mut request = request;
    if !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        let Some(expected) = form_token(session.as_deref(), cookie.as_deref()) else {
            return AppError::CsrfRejected.into_response();
        };
        let cap = request
            .extensions()
            .get::<BodyCap>()
            .map(|c| c.0)
            .unwrap_or(app.config.limits.body);
        match check(request, &expected, cap).await {
            Ok(r) => request = r,
            Err(e) => return e.into_response(),
        }
    }
    let (cookie, fresh) = match cookie {
        Some(t) => (t, false),
        None => match random_secret() {
            Ok(t) => (t, true),
            Err(e) => return e.into_response(),
        },
    };
    let token = form_token(session.as_deref(), Some(&cookie)).unwrap_or(cookie.clone());
    request.extensions_mut().insert(CsrfToken(token));
    let mut response = next.run(request).await;
    // A page a shared cache may keep (the public listing, which has no form) never sets
    // the cookie: one visitor's token must not be handed to the next.
    let shared = response
        .headers()
        .get(axum::http::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("public"));
    if fresh && !shared {
        let secure = if app.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let set = format!("{CSRF_COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Strict{secure}");
        if let Ok(v) = HeaderValue::from_str(&set) {
            response.headers_mut().append(SET_COOKIE, v);
        }
    }
    response
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn body_error(e: axum::Error, cap: usize) -> AppError {
    if is_too_large(&e) {
        too_large(cap)
    } else {
        AppError::BadRequest("the request body could not be read".into())
    }
}

/// Finds the submitted token, compares, and puts back what was read.
async fn check(request: Request, expected: &str, cap: usize) -> Result<Request, AppError> {
    if let Some(h) = request.headers().get("x-csrf-token") {
        return match h.to_str() {
            Ok(h) if same(h, expected) => Ok(request),
            _ => Err(AppError::CsrfRejected),
        };
    }
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let kind = content_type.to_ascii_lowercase();
    let (parts, body) = request.into_parts();
    if kind.starts_with("application/x-www-form-urlencoded") {
        let bytes = axum::body::to_bytes(body, cap)
            .await
            .map_err(|e| body_error(e, cap))?;
        let submitted = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.into_owned());
        return match submitted {
            Some(s) if same(&s, expected) => Ok(Request::from_parts(parts, Body::from(bytes))),
            _ => Err(AppError::CsrfRejected),
        };
    }
    if kind.starts_with("multipart/form-data") {
        let boundary = multer::parse_boundary(&content_type).map_err(|_| AppError::CsrfRejected)?;
        let mut stream = body.into_data_stream();
        let mut head: Vec<u8> = Vec::new();
        loop {
            match first_part(&head, &boundary).await {
                Head::Token(s) if same(&s, expected) => break,
                Head::Token(_) | Head::Other => return Err(AppError::CsrfRejected),
                Head::Incomplete if head.len() > MULTIPART_HEAD => {
                    return Err(AppError::CsrfRejected)
                }
                Head::Incomplete => {}
            }
            match stream.next().await {
                Some(Ok(chunk)) => head.extend_from_slice(&chunk),
                Some(Err(e)) => return Err(body_error(e, cap)),
                None => return Err(AppError::CsrfRejected),
            }
        }
        let first = futures_util::stream::once(async move { Ok(Bytes::from(head)) });
        return Ok(Request::from_parts(
            parts,
            Body::from_stream(first.chain(stream)),
        ));
    }
    Err(AppError::CsrfRejected)
}

enum Head {
    Token(String),
    Other,
    Incomplete,
}

/// Reads the first part of a multipart body from the bytes received so far: the page
/// puts its `csrf_token` field first.
async fn first_part(head: &[u8], boundary: &str) -> Head {
    if head.is_empty() {
        return Head::Incomplete;
    }
    let bytes = Bytes::copy_from_slice(head);
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    match multipart.next_field().await {
        Ok(Some(field)) if field.name() == Some("csrf_token") => match field.text().await {
            Ok(text) => Head::Token(text),
            Err(_) => Head::Incomplete,
        },
        Ok(Some(_)) => Head::Other,
        Ok(None) | Err(_) => Head::Incomplete,
    }
}
