//! CSRF protection for the pages: a random token in a SameSite cookie that every form
//! echoes in a hidden `csrf_token` field (double submit). Works across processes with no
//! server-side state.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use subtle_eq::constant_time_eq;

use crate::app::AppState;
use crate::domain::tokens::random_secret;
use crate::error::AppError;
use crate::web::CSRF_COOKIE;

/// The token for this request's forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// Largest form body read for the check (uploads included).
const MAX_BODY: usize = 64 * 1024 * 1024;

pub async fn protect(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(request.headers());
    let cookie_token = jar
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 64);
    let mut request = request;
    if !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        let Some(token) = &cookie_token else {
            return AppError::CsrfRejected.into_response();
        };
        match check(request, token).await {
            Ok(r) => request = r,
            Err(e) => return e.into_response(),
        }
    }
    let (token, fresh) = match cookie_token {
        Some(t) => (t, false),
        None => match random_secret() {
            Ok(t) => (t, true),
            Err(e) => return e.into_response(),
        },
    };
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(request).await;
    if fresh {
        let secure = if app.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, v);
        }
    }
    response
}

/// Reads the body, finds the submitted token, compares, and puts the body back.
async fn check(request: Request, token: &str) -> Result<Request, AppError> {
    if let Some(h) = request
        .headers()
        .get("x-csrf-token")
        .and_then(|h| h.to_str().ok())
    {
        return if constant_time_eq(h.as_bytes(), token.as_bytes()) {
            Ok(request)
        } else {
            Err(AppError::CsrfRejected)
        };
    }
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| AppError::BadRequest("the request body is too large".into()))?;
    let submitted = if content_type.starts_with("application/x-www-form-urlencoded") {
        url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.into_owned())
    } else if content_type.starts_with("multipart/form-data") {
        multipart_token(&content_type, bytes.clone()).await
    } else {
        None
    };
    match submitted {
        Some(s) if constant_time_eq(s.as_bytes(), token.as_bytes()) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(AppError::CsrfRejected),
    }
}

async fn multipart_token(content_type: &str, bytes: bytes::Bytes) -> Option<String> {
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("csrf_token") {
            return field.text().await.ok();
        }
    }
    None
}

mod subtle_eq {
    /// Compares without stopping at the first difference.
    pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}
