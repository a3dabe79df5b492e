//! Operating it: `/metrics` behind its token, `/readyz` refusing when the pool is
//! exhausted or a migration is pending, request ids, and a server that stops on SIGTERM
//! after finishing the request in flight.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use diesel::prelude::*;
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::fixtures::{a_programme, book, live_stream};
use crate::harness::{free_port, Serve, TestApp};

use crate::harness::METRICS_TOKEN;

/// The app again on the same database with this `METRICS_TOKEN` (and fresh metrics).
fn with_metrics(app: &mut TestApp, token: Option<&str>) -> outreach::app::AppState {
    let mut config = app.state.config.clone();
    config.metrics_token = token.map(str::to_string);
    let state = outreach::app::App::new(app.state.pool.clone(), config);
    app.router = outreach::build_router(state.clone());
    state
}

async fn scrape(app: &TestApp, token: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::builder().uri("/metrics");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let (status, _, body) = app.send(req.body(Body::empty()).unwrap()).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The value of the sample named exactly `sample` (name and labels) in Prometheus text.
fn sample(text: &str, sample: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

both!(metrics_are_served_only_with_their_token_and_count_what_happened);
async fn metrics_are_served_only_with_their_token_and_count_what_happened(mut app: TestApp) {
    // Off unless METRICS_TOKEN is set.
    with_metrics(&mut app, None);
    assert_eq!(
        scrape(&app, Some(METRICS_TOKEN)).await.0,
        StatusCode::NOT_FOUND
    );
    let state = with_metrics(&mut app, Some(METRICS_TOKEN));
    assert_eq!(scrape(&app, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        scrape(&app, Some("a-metrics-token-of-some-lengtX")).await.0,
        StatusCode::UNAUTHORIZED
    );
    // An API token is not the metrics token.
    assert_eq!(
        scrape(&app, Some(&app.admin.token.clone())).await.0,
        StatusCode::UNAUTHORIZED
    );

    let p = a_programme(&app).funded().create().await;
    let stream = live_stream(&app, p, 12, Some(100)).await;
    let (s, v) = book(
        &app,
        stream,
        Role::School,
        json!({"pupils": 30, "staff": 2}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, _) = book(
        &app,
        stream,
        Role::School,
        json!({"pupils": 30, "staff": 2}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _, _) = app.page("/no/such/page", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A method of the client's own making is counted as "other", never as a new label.
    let odd = axum::http::Request::builder()
        .method(axum::http::Method::from_bytes(b"BREW").unwrap())
        .uri("/healthz")
        .body(Body::empty())
        .unwrap();
    app.send(odd).await;

    let (status, text) = scrape(&app, Some(METRICS_TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let booked = r#"outreach_http_requests_total{route="/api/v1/events/{id}/bookings",method="POST",status="#;
    assert_eq!(
        sample(&text, &format!("{booked}\"201\"}}")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &format!("{booked}\"409\"}}")),
        Some(1.0),
        "{text}"
    );
    // A path no route matched is counted under one name, never by its path.
    assert_eq!(
        sample(
            &text,
            r#"outreach_http_requests_total{route="unmatched",method="GET",status="404"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains("/no/such/page"));
    assert!(!text.contains("BREW"), "{text}");
    assert!(
        text.contains(r#"route="/healthz",method="other""#),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"outreach_http_request_duration_seconds_count{route="/api/v1/events/{id}/bookings"}"#
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "outreach_bookings_last_hour"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "outreach_db_pool_max_connections"), Some(6.0));
    assert!(sample(&text, r#"outreach_db_pool_connections{state="in_use"}"#).is_some());
    assert_eq!(sample(&text, "outreach_db_pool_waiting"), Some(0.0));
    // The outbox as the database holds it.
    let queued: i64 = app
        .with_db(|c| {
            use outreach::db::schema::outbox as o;
            o::table
                .filter(o::status.eq_any(["queued", "sending"]))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(
        sample(&text, r#"outreach_outbox_messages{state="queued"}"#),
        Some(queued as f64),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"outreach_outbox_messages{state="failed"}"#),
        Some(0.0)
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
    drop(state);
}

both!(every_answer_carries_its_own_request_id);
async fn every_answer_carries_its_own_request_id(app: TestApp) {
    let mut ids = std::collections::HashSet::new();
    for path in ["/healthz", "/login", "/api/v1/me", "/nowhere"] {
        let (_, headers, _) = app.page(path, None).await;
        let id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path} has no X-Request-Id"))
            .to_string();
        assert_eq!(id.len(), 16, "{id}");
        assert!(ids.insert(id), "ids repeat");
    }
}

async fn readyz(app: &TestApp) -> (StatusCode, String) {
    let (status, _, body) = app.page("/readyz", None).await;
    (status, body)
}

/// Asks `/readyz` until it gives `want` (at most 10 s).
async fn readyz_until(app: &TestApp, want: StatusCode) -> String {
    let started = Instant::now();
    loop {
        let (status, body) = readyz(app).await;
        if status == want {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "/readyz stayed {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

both!(readyz_fails_while_the_pool_is_exhausted_or_a_migration_is_pending);
async fn readyz_fails_while_the_pool_is_exhausted_or_a_migration_is_pending(app: TestApp) {
    assert_eq!(readyz(&app).await, (StatusCode::OK, "ready".into()));

    // Every connection of the pool held by database work that waits for the test.
    let size = app.state.pool.max_size() as usize;
    // (A gate that opens by itself after 30 s, so a failing test fails, never hangs.)
    let gate = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let inside = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut held = Vec::new();
    for _ in 0..size {
        let (state, gate, inside) = (app.state.clone(), gate.clone(), inside.clone());
        held.push(tokio::spawn(async move {
            state
                .db(move |_| {
                    inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let (open, opened) = &*gate;
                    let shut = open.lock().unwrap();
                    let _ = opened
                        .wait_timeout_while(shut, Duration::from_secs(30), |o| !*o)
                        .unwrap();
                    Ok(())
                })
                .await
        }));
    }
    let started = Instant::now();
    while inside.load(std::sync::atomic::Ordering::SeqCst) < size {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the pool was never held"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Every connection busy is not yet exhausted: only when a request waits for one.
    assert_eq!(app.state.pool_exhausted(), None);
    let state = app.state.clone();
    let waiter = tokio::spawn(async move { state.db(|_| Ok(())).await });
    while app
        .state
        .metrics
        .waiting
        .load(std::sync::atomic::Ordering::SeqCst)
        < 1
    {
        assert!(started.elapsed() < Duration::from_secs(20), "no one waited");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body.contains("pool is exhausted") && body.contains(&format!("all {size} connections")),
        "{body}"
    );
    {
        let (open, opened) = &*gate;
        *open.lock().unwrap() = true;
        opened.notify_all();
    }
    for h in held {
        h.await.unwrap().unwrap();
    }
    waiter.await.unwrap().unwrap();
    assert_eq!(readyz_until(&app, StatusCode::OK).await, "ready");

    // The database's record of its last migration taken away: that migration is pending.
    let last: String = app
        .with_db(|c| {
            diesel::sql_query(
                "DELETE FROM __diesel_schema_migrations WHERE version = \
                 (SELECT MAX(version) FROM __diesel_schema_migrations) RETURNING version",
            )
            .get_result::<Version>(c)
            .unwrap()
            .version
        })
        .await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("1 database migration(s) pending"), "{body}");
    app.with_db(move |c| {
        diesel::sql_query(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('".to_string() + &last + "')",
        )
        .execute(c)
        .unwrap()
    })
    .await;
    assert_eq!(readyz(&app).await, (StatusCode::OK, "ready".into()));
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// Runs `outreach` on the database with these arguments; its standard output.
fn outreach(url: &str, args: &[&str], stdin: Option<&str>) -> String {
    let out = crate::cli::outreach(url, args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// SIGTERM while a request is being answered (its body half sent): the server takes no new
/// connection, answers that request in full, and exits 0; what it answered is written.
#[test]
fn sigterm_finishes_the_request_in_flight_then_exits_cleanly() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("stop.db").display());
    outreach(&url, &["migrate"], None);
    outreach(
        &url,
        &[
            "user",
            "add",
            "--email",
            "admin@example.org",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("a password of length\n"),
    );
    let token = outreach(
        &url,
        &["token", "create", "--email", "admin@example.org"],
        None,
    );
    let token = token.lines().last().expect("a token").trim().to_string();
    let port = free_port();
    let mut served = Serve::start(&url, port, &[("SHUTDOWN_GRACE_SECONDS", "20")]);
    let server = &mut served.0;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let body = json!({"title": "Begun before the stop", "year": 2031}).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    write!(
        stream,
        "POST /api/v1/programmes HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .expect("send the first half");
    // The server has the request's headers and waits for the rest of its body.
    std::thread::sleep(Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    // Draining: no new connection is taken, the process is still there.
    let refused = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            refused.elapsed() < Duration::from_secs(5),
            "new connections are still taken after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        server.try_wait().expect("wait").is_none(),
        "the server left a request in flight"
    );
    stream.write_all(rest.as_bytes()).expect("send the rest");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("the answer");
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().expect("wait") {
            break status;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(15),
            "the server did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    // What was answered 201 is in the database.
    let pool = outreach::db::connect(&outreach::db::DbUrl::parse(&url).unwrap(), 1).unwrap();
    let mut conn = pool.get().unwrap();
    let titles: Vec<String> = {
        use outreach::db::schema::programmes as p;
        p::table
            .select(p::title)
            .load(&mut conn)
            .expect("programmes")
    };
    assert_eq!(titles, ["Begun before the stop"]);
}
