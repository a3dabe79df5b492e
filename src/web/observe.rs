//! Seeing how the service runs: one log line per request (its id, route pattern, status
//! and time; never a path, query, body or header, so never a token, password, address or
//! quote), the Prometheus metrics behind `GET /metrics`, and the request id given back in
//! `X-Request-Id`.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use diesel::prelude::*;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tracing::Instrument;

use crate::app::AppState;
use crate::db::schema::{bookings, feedback, outbox};
use crate::error::AppError;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Answered {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Named {
    state: &'static str,
}

/// Seconds a request may take, as the latency histograms count them.
const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The process's metrics. Request counts and latencies are this process's own; the pool
/// is this process's pool; the outbox and the hour's bookings and answers are read from the
/// database at each scrape, so every process reports the same (take `max` across them).
pub struct Metrics {
    registry: Registry,
    requests: Family<Answered, Counter>,
    latency: Family<Route, Histogram, fn() -> Histogram>,
    pool: Family<Named, Gauge>,
    pool_size: Gauge,
    pool_waiting: Gauge,
    outbox: Family<Named, Gauge>,
    bookings_hour: Gauge,
    answers_hour: Gauge,
    /// Database visits waiting for a connection of this process's pool.
    pub waiting: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("outreach");
        let requests = Family::<Answered, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by route pattern, method and status",
            requests.clone(),
        );
        let latency =
            Family::<Route, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request (to its headers), by route pattern",
            latency.clone(),
        );
        let pool = Family::<Named, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database connections of this process, in use or idle",
            pool.clone(),
        );
        let pool_size = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "The most database connections this process opens",
            pool_size.clone(),
        );
        let pool_waiting = Gauge::default();
        registry.register(
            "db_pool_waiting",
            "Requests of this process waiting for a database connection",
            pool_waiting.clone(),
        );
        let outbox = Family::<Named, Gauge>::default();
        registry.register(
            "outbox_messages",
            "Mail in the outbox waiting to be sent (queued) or given up (failed)",
            outbox.clone(),
        );
        let bookings_hour = Gauge::default();
        registry.register(
            "bookings_last_hour",
            "Bookings made in the last hour (all processes)",
            bookings_hour.clone(),
        );
        let answers_hour = Gauge::default();
        registry.register(
            "feedback_answers_last_hour",
            "Feedback answers given in the last hour (all processes)",
            answers_hour.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            pool,
            pool_size,
            pool_waiting,
            outbox,
            bookings_hour,
            answers_hour,
            waiting: AtomicI64::new(0),
        }
    }
}

impl Metrics {
    fn answered(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&Answered {
                route: route.to_string(),
                method: method.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&Route {
                route: route.to_string(),
            })
            .observe(seconds);
    }
}

/// Counts of the database the metrics read at each scrape.
struct Counts {
    queued: i64,
    failed: i64,
    bookings: i64,
    answers: i64,
}

fn counts(conn: &mut crate::db::AnyConnection) -> Result<Counts, AppError> {
    use crate::domain::input::TextEnum;
    use crate::domain::types::MailStatus;
    let hour_ago = crate::app::now() - Duration::hours(1);
    let in_state = |conn: &mut crate::db::AnyConnection, s: MailStatus| {
        outbox::table
            .filter(outbox::status.eq(s.as_str()))
            .count()
            .get_result::<i64>(conn)
    };
    Ok(Counts {
        queued: in_state(conn, MailStatus::Queued)? + in_state(conn, MailStatus::Sending)?,
        failed: in_state(conn, MailStatus::Failed)?,
        bookings: bookings::table
            .filter(bookings::created_at.ge(hour_ago))
            .count()
            .get_result(conn)?,
        answers: feedback::table
            .filter(feedback::created_at.ge(hour_ago))
            .count()
            .get_result(conn)?,
    })
}

/// `GET /metrics`: Prometheus text, only when `METRICS_TOKEN` is set (404 otherwise), and
/// only to a request carrying it as a bearer token (401 otherwise).
pub async fn metrics(State(app): State<AppState>, request: Request) -> Response {
    let Some(expected) = app.config.metrics_token.as_deref() else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compared as digests, so the time taken says nothing of the token, not even its length.
    let digest = crate::domain::tokens::hash_secret;
    if !crate::web::csrf::same(&digest(given.trim()), &digest(expected)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "the metrics need the bearer token METRICS_TOKEN",
        )
            .into_response();
    }
    let m = &app.metrics;
    let state = app.pool.state();
    let in_use = state.connections.saturating_sub(state.idle_connections);
    m.pool
        .get_or_create(&Named { state: "in_use" })
        .set(i64::from(in_use));
    m.pool
        .get_or_create(&Named { state: "idle" })
        .set(i64::from(state.idle_connections));
    m.pool_size.set(i64::from(app.pool.max_size()));
    m.pool_waiting.set(m.waiting.load(Ordering::Relaxed).max(0));
    match app.db(counts).await {
        Ok(c) => {
            m.outbox
                .get_or_create(&Named { state: "queued" })
                .set(c.queued);
            m.outbox
                .get_or_create(&Named { state: "failed" })
                .set(c.failed);
            m.bookings_hour.set(c.bookings);
            m.answers_hour.set(c.answers);
        }
        // The process's own figures are still worth a scrape when the database is not.
        Err(e) => tracing::warn!(error = %e, "metrics could not read the database"),
    }
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &m.registry).is_err() {
        return AppError::internal("the metrics could not be written").into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Where the matched route's pattern is put for `observe` (routing happens inside it).
#[derive(Clone, Default)]
pub struct RouteSlot(Arc<OnceLock<String>>);

/// On every matched route: tells `observe` the route's pattern (`/api/v1/events/{id}`,
/// never the path itself).
pub async fn mark_route(request: Request, next: Next) -> Response {
    if let (Some(slot), Some(matched)) = (
        request.extensions().get::<RouteSlot>(),
        request.extensions().get::<MatchedPath>(),
    ) {
        let _ = slot.0.set(matched.as_str().to_string());
    }
    next.run(request).await
}

/// A request id unique in this process and unlikely to repeat across processes: a random
/// tag of the process and a counter.
fn request_id() -> String {
    static TAG: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let tag = *TAG.get_or_init(|| {
        let mut b = [0u8; 4];
        let _ = getrandom::fill(&mut b);
        u32::from_le_bytes(b)
    });
    format!("{tag:08x}{:08x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The outermost layer: a span carrying the request id (so anything logged while answering
/// names it), one log line when the answer's headers go out, the metrics, and the id in
/// `X-Request-Id`.
pub async fn observe(State(app): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id();
    let slot = RouteSlot::default();
    request.extensions_mut().insert(slot.clone());
    // Only the methods the app answers become labels; any other token a client sends is
    // "other", so no client can make new series.
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let span = tracing::info_span!("request", id = %id);
    let mut response = next.run(request).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    let route = slot.0.get().map(String::as_str).unwrap_or("unmatched");
    let status = response.status().as_u16();
    app.metrics.answered(route, method, status, seconds);
    span.in_scope(|| {
        tracing::info!(
            target: "outreach::access",
            method,
            route,
            status,
            ms = (seconds * 1000.0 * 10.0).round() / 10.0,
            "answered"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}
