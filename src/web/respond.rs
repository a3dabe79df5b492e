//! Answers shared by pages and the API: JSON bodies, the redirect after a form, and the
//! tick-box a destructive form needs.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Serialize;

use crate::error::{AppError, AppResult};

pub fn created<T: Serialize>(value: T) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

pub fn ok<T: Serialize>(value: T) -> Response {
    Json(value).into_response()
}

/// A redirect after a successful POST, with a fixed notice for the next page (placed
/// before any `#fragment`, so the server sees it).
pub fn done(to: &str, notice: &str) -> Response {
    Redirect::to(&with_notice(to, notice)).into_response()
}

fn with_notice(to: &str, notice: &str) -> String {
    let (path, fragment) = match to.split_once('#') {
        Some((p, f)) => (p, format!("#{f}")),
        None => (to, String::new()),
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}notice={notice}{fragment}")
}

/// A destructive action needs its box ticked.
pub fn confirmed(pairs: &[(String, String)]) -> AppResult<()> {
    if pairs.iter().any(|(k, v)| k == "confirm" && v == "true") {
        Ok(())
    } else {
        Err(AppError::field("confirm", "tick the box to confirm"))
    }
}

#[cfg(test)]
mod tests {
    use super::with_notice;

    #[test]
    fn the_notice_goes_before_the_fragment() {
        assert_eq!(
            with_notice("/events/3#attendance", "saved"),
            "/events/3?notice=saved#attendance"
        );
        assert_eq!(with_notice("/a?b=1", "x"), "/a?b=1&notice=x");
        assert_eq!(with_notice("/a", "x"), "/a?notice=x");
    }
}
