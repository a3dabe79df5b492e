//! Every page form is sent once. A form carries `form_key`, random per rendering
//! ([`crate::web::view::PageCtx::form_fields`]); the first request with it (and with the same
//! fields) does the work and the place its answer sent the browser is kept, so a second
//! request (a double click, Back and send again) is sent there and changes nothing. A
//! request whose form came back with errors gives its key back; one cut off by the client still
//! finishes and is recorded. An
//! address holding a secret is never kept. Across processes: the claim is a row.
//!
//! Runs after the CSRF check, which has already read the (small, capped) form body. Uploads
//! (multipart) are not covered: the one upload, the register import, changes nothing when
//! sent twice (schools are matched by URN).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::app::AppState;
use crate::domain::submissions::{self, Claim};
use crate::error::AppError;
use crate::web::limits::BodyCap;

/// How long a second request waits for the first to be answered.
const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);

pub async fn layer(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let form = request.method() == Method::POST
        && request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|t| {
                t.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
    if !form {
        return next.run(request).await;
    }
    let cap = request
        .extensions()
        .get::<BodyCap>()
        .map(|c| c.0)
        .unwrap_or(app.config.limits.body);
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, cap).await {
        Ok(b) => b,
        Err(_) => return AppError::BadRequest("the form could not be read".into()).into_response(),
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let key = pairs
        .iter()
        .find(|(k, _)| k == "form_key")
        .map(|(_, v)| v.clone());
    let path = parts.uri.path().to_string();
    let request = Request::from_parts(parts, Body::from(bytes));
    let Some(key) = key else {
        return next.run(request).await;
    };
    if !submissions::well_formed(&key) {
        return AppError::BadRequest(
            "the form was damaged on its way: reload the page and send it again".into(),
        )
        .into_response();
    }
    let fields = pairs
        .iter()
        .filter(|(k, _)| k != "csrf_token" && k != "form_key")
        .map(|(k, v)| (k.as_str(), v.as_str()));
    let hash = submissions::key_hash(&key, "POST", &path, fields);
    // The claim, the work and its record run to the end in a task of their own, even when
    // this request is cut off (a time limit, a closed connection, a browser that dropped the
    // first of two clicks): database work would finish anyway, so its claim must be answered.
    let task = tokio::spawn(async move {
        let waited = tokio::time::Instant::now();
        loop {
            let h = hash.clone();
            let claim = match app
                .db(move |c| submissions::claim(c, &h, crate::app::now()))
                .await
            {
                Ok(c) => c,
                Err(e) => return e.into_response(),
            };
            match claim {
                Claim::Mine => break,
                Claim::Done(location) => return Redirect::to(&location).into_response(),
                Claim::InHand(since) => {
                    let stale = crate::app::now() - since > chrono::Duration::seconds(60);
                    if stale || waited.elapsed() > WAIT {
                        return AppError::Conflict(
                            "this form was sent before, and that request was not answered: \
                             look for what it made before sending it again (reload the page \
                             to send it anew)"
                                .into(),
                        )
                        .into_response();
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
        }
        let response = next.run(request).await;
        let outcome = outcome(&path, &response);
        record(&app, hash, outcome).await;
        response
    });
    match task.await {
        Ok(response) => response,
        // A panic: the claim stays in hand (whether the work was done is unknown).
        Err(e) => AppError::internal(format!("a form's request failed: {e}")).into_response(),
    }
}

/// Where a second send should go after this answer: None when the request failed.
fn outcome(path: &str, response: &Response) -> Option<String> {
    let status = response.status();
    let outcome = if status.is_redirection() {
        response
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_string)
    } else if status.is_success() {
        // A page shown in answer (a new token, an import's result): a second request
        // goes to the form's own address.
        Some(path.to_string())
    } else {
        None
    };
    response
        .extensions()
        .get::<KeepInstead>()
        .map(|k| k.0.clone())
        .or(outcome)
        // Never an address with a secret in it (a new feedback link's page).
        .filter(|l| {
            let p = l.split(['?', '#']).next().unwrap_or_default();
            crate::web::layers::redacted_path(p) == p
        })
}

/// Keeps where the first request's answer led, or gives the key back when it failed.
async fn record(app: &AppState, hash: String, outcome: Option<String>) {
    let kept = match outcome {
        Some(location) => {
            app.db(move |c| submissions::answered(c, &hash, &location))
                .await
        }
        None => app.db(move |c| submissions::give_back(c, &hash)).await,
    };
    if let Err(e) = kept {
        tracing::warn!(error = %e, "a form's sent-once key was not updated");
    }
}

/// Where a second send should go instead of the answer's own address (set by a handler
/// whose answer's address holds a secret).
#[derive(Debug, Clone)]
pub struct KeepInstead(pub String);
