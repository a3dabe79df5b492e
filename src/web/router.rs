//! The whole router: pages (with CSRF and HTML errors), the API, health and static files.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

use crate::app::AppState;
use crate::error::AppError;
use crate::web::{api, csrf, layers, limits, observe, once, pages};

pub fn build_router(state: AppState) -> Router {
    // Each part gets the size and time limits before anything reads a body; pages get
    // them inside the HTML error layer, so a refusal is a page.
    let guard = || from_fn_with_state(state.clone(), limits::guard);
    let mark = || axum::middleware::from_fn(observe::mark_route);
    let pages = pages::routes()
        .route_layer(mark())
        .fallback(page_not_found)
        .layer(from_fn_with_state(state.clone(), once::layer))
        .layer(from_fn_with_state(state.clone(), csrf::protect))
        .layer(guard())
        .layer(from_fn_with_state(state.clone(), layers::html_errors));
    let plain = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/static/app.css", get(stylesheet))
        .route("/static/school-picker.js", get(picker_script))
        .route("/static/forms.js", get(forms_script))
        .route("/calendar/{kind}/{file}", get(crate::web::calendar::feed))
        .route("/metrics", get(observe::metrics))
        .route_layer(mark())
        .layer(guard());
    Router::new()
        .merge(plain)
        .nest(
            "/api/v1",
            api::routes()
                .route_layer(from_fn_with_state(state.clone(), layers::known_query))
                .route_layer(mark())
                .layer(guard())
                .layer(axum::middleware::from_fn(layers::json_errors)),
        )
        .merge(pages)
        // The guard above caps every body; axum's own 2 MB default would cut uploads.
        .layer(DefaultBodyLimit::disable())
        .layer(from_fn_with_state(state.clone(), layers::security_headers))
        .layer(CatchPanicLayer::custom(layers::panic_response))
        .layer(from_fn_with_state(state.clone(), observe::observe))
        .with_state(state)
}

async fn page_not_found() -> AppError {
    AppError::NotFound
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when a database connection is free, the database answers and its schema is this
/// binary's (no migration pending); 503 with the reason otherwise.
async fn readyz(State(app): State<AppState>) -> Response {
    let unready = |why: String| (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
    if let Some(exhausted) = app.pool_exhausted() {
        return unready(exhausted);
    }
    let probe = app.db(|c| Ok(crate::db::pending_migrations(c))).await;
    match probe {
        Ok(Ok(0)) => (StatusCode::OK, "ready").into_response(),
        Ok(Ok(n)) => unready(format!(
            "{n} database migration(s) pending: run `outreach migrate` or restart `outreach serve`"
        )),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the migrations could not be read");
            unready("database unavailable".into())
        }
        Err(_) => unready("database unavailable".into()),
    }
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

async fn picker_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/school-picker.js"),
    )
        .into_response()
}

async fn forms_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/forms.js"),
    )
        .into_response()
}
