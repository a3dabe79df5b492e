//! Middleware: security headers on every response, and HTML error pages for page routes.

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::app::AppState;
use crate::domain::sessions;
use crate::error::{AppError, ErrorInfo};
use crate::web::view::{ErrorPage, PageCtx, RenderPage};

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub async fn security_headers(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_static = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !is_static && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if app.config.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// A path with any segment that looks like a secret (a link's token) replaced.
pub fn redacted_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            let stem = seg.trim_end_matches(".ics");
            if stem.len() >= 32 && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                "[secret]"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Turns the JSON error of a page route into a page: a login redirect for 401, else an
/// error page with the layout.
pub async fn html_errors(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let session = crate::web::auth::session_secret(request.headers());
    let response = next.run(request).await;
    let Some(info) = response.extensions().get::<ErrorInfo>().cloned() else {
        return response;
    };
    if info.status == StatusCode::UNAUTHORIZED {
        let next_path = if path.starts_with('/') && !path.starts_with("//") {
            path
        } else {
            "/".into()
        };
        let target = format!(
            "/login?next={}",
            url::form_urlencoded::byte_serialize(next_path.as_bytes()).collect::<String>()
        );
        return Redirect::to(&target).into_response();
    }
    // A refusal for load or size is answered without another visit to the database.
    let busy = matches!(
        info.status,
        StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::TOO_MANY_REQUESTS
    );
    let user = match session.filter(|_| !busy) {
        Some(secret) => app
            .db(move |c| sessions::user_of(c, &secret))
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let page = ErrorPage {
        ctx: PageCtx::bare(user, title_for(info.status)),
        status: info.status.as_u16(),
        message: info.message.clone(),
    };
    match page.render_html() {
        Ok(html) => (info.status, Html(html)).into_response(),
        Err(_) => (info.status, info.message).into_response(),
    }
}

fn title_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::CONFLICT => "Conflict",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        StatusCode::PAYLOAD_TOO_LARGE => "Too large",
        StatusCode::SERVICE_UNAVAILABLE => "Busy",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "Cannot do that",
        _ => "Something went wrong",
    }
}

/// A handler that panicked: logged, and answered as any internal error (never a dropped
/// connection). Inputs are checked so this should not happen; it is the last net.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic");
    crate::error::AppError::internal(format!("handler panicked: {what}")).into_response()
}

/// Refuses query parameters the matched API route does not read, and a body sent to an
/// operation that takes none, naming each field (422): a misspelt filter or a stray field
/// is an error rather than something silently ignored.
pub async fn known_query(
    State(app): State<AppState>,
    matched: axum::extract::MatchedPath,
    request: Request,
    next: Next,
) -> Response {
    let names = crate::web::api::query_params_of(matched.as_str());
    let pairs = request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let mut unknown = crate::error::FieldErrors::new();
    for (name, value) in pairs {
        if !names.contains(&name.as_str()) {
            unknown.insert(name, "is not a parameter of this request".into());
        } else if let Some(why) = crate::domain::list::refuse_param(&name, &value) {
            unknown.insert(name, why);
        }
    }
    let (parts, mut body) = request.into_parts();
    let mut unreadable = None;
    if !crate::web::api::takes_body(matched.as_str(), &parts.method) {
        // An operation that takes no body refuses one, as a body refuses a field it does
        // not take. The guard layer outside has already capped its size.
        match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => match body_refusal(&bytes) {
                Some(AppError::Invalid { fields, .. }) => unknown.extend(fields),
                other => unreadable = other,
            },
            Err(e) => {
                let too_large = std::error::Error::source(&e)
                    .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
                let cap = parts.extensions.get::<crate::web::limits::BodyCap>();
                unreadable = Some(if let (true, Some(cap)) = (too_large, cap) {
                    crate::web::limits::too_large(cap.0)
                } else {
                    AppError::BadRequest(format!("the body could not be read: {e}"))
                })
            }
        }
        body = axum::body::Body::empty();
    }
    if unknown.is_empty() && unreadable.is_none() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    // Who is asking comes first: without a valid sign-in the handler answers 401.
    use axum::extract::FromRequestParts;
    // This layer is outside the API's own `ApiScope` layer: sign in as the API does.
    let mut api_parts = parts.clone();
    api_parts.extensions.insert(crate::web::ApiScope);
    if crate::web::auth::CurrentUser::from_request_parts(&mut api_parts, &app)
        .await
        .is_err()
    {
        return next.run(Request::from_parts(parts, body)).await;
    }
    match unreadable {
        Some(refusal) => refusal.into_response(),
        None => AppError::invalid(unknown).into_response(),
    }
}

/// Why a body sent to an operation that takes none is refused: none when it is empty or
/// `{}` (what many clients send), each field by name, or a 400 for anything else.
fn body_refusal(bytes: &[u8]) -> Option<AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(fields)) if fields.is_empty() => None,
        Ok(serde_json::Value::Object(fields)) => Some(AppError::invalid(
            fields
                .keys()
                .map(|k| (k.clone(), "is not a field of this request".to_string()))
                .collect(),
        )),
        _ => Some(AppError::BadRequest("this request takes no body".into())),
    }
}

/// Every API error has the one shape `{"error": {code, message, fields}}`: axum's own
/// refusals (a path or query value that does not parse, a method the route does not
/// have, a body of the wrong type) are rewritten into it, keeping their status.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error())
        || is_json
        || response.extensions().get::<ErrorInfo>().is_some()
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    let said = String::from_utf8_lossy(&bytes).trim().to_string();
    let (code, default) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "the request could not be read"),
        StatusCode::NOT_FOUND => ("not_found", "not found"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this address does not take that method",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "send the body as application/json",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the body is too large"),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid", "the request could not be read"),
        s if s.is_server_error() => ("internal", "internal error"),
        _ => ("bad_request", "the request could not be read"),
    };
    // A server error says nothing of its cause; a refusal says what axum said.
    let message = if said.is_empty() || status.is_server_error() {
        default.to_string()
    } else {
        said.chars().take(300).collect()
    };
    let body = serde_json::json!({"error": {"code": code, "message": message, "fields": {}}});
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::redacted_path;

    #[test]
    fn secrets_in_paths_are_not_logged() {
        let token = "ab".repeat(32);
        assert_eq!(
            redacted_path(&format!("/feedback/{token}")),
            "/feedback/[secret]"
        );
        assert_eq!(
            redacted_path(&format!("/calendar/school/{token}.ics")),
            "/calendar/school/[secret]"
        );
        assert_eq!(
            redacted_path("/programmes/12/feedback"),
            "/programmes/12/feedback"
        );
    }
}
