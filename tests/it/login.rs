//! Login under attack: redirects that stay on the site, limits that cannot lock the owner
//! out or be overrun, bounded input, equal work for every failure, and pruning.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use diesel::prelude::*;
use outreach::db::schema::{login_attempts, outbox, sessions};
use outreach::domain::types::Role;

use crate::both;
use crate::harness::{TestApp, CSRF, PASSWORD};

/// POSTs the login form from a client address.
async fn login_from(
    app: &TestApp,
    client: &str,
    email: &str,
    password: &str,
    next: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap) {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("csrf_token", CSRF)
        .append_pair("email", email)
        .append_pair("password", password);
    if let Some(n) = next {
        form.append_pair("next", n);
    }
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::COOKIE, format!("outreach_csrf={CSRF}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.finish()))
        .unwrap();
    let addr: SocketAddr = format!("{client}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    let (s, h, _) = app.send(req).await;
    (s, h)
}

const HOSTILE_NEXT: &[&str] = &[
    "//evil.example/x",
    "/\t/evil.example/x",
    "/%09/evil.example/x",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "/%5Cevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/ /evil.example",
    "/\r\nLocation: https://evil.example/",
    "evil.example",
    "",
];

both!(only_local_paths_are_followed_after_login);
async fn only_local_paths_are_followed_after_login(app: TestApp) {
    for next in HOSTILE_NEXT {
        // The login page keeps only a safe target in its form...
        let q: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        let (s, _, body) = app.page(&format!("/login?next={q}"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            body.contains("name=\"next\" value=\"/\""),
            "{next:?} was kept in the form"
        );
        // ...a signed-in visitor is sent home...
        let (s, headers, _) = app
            .page(&format!("/login?next={q}"), Some(Role::Lead))
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], "/", "{next:?}");
        // ...and so is one who posts it.
        let (s, headers) =
            login_from(&app, "10.0.0.9", "lead@example.org", PASSWORD, Some(next)).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], "/", "{next:?}");
    }
    // An ordinary local path with a query is followed.
    let (_, headers) = login_from(
        &app,
        "10.0.0.9",
        "lead@example.org",
        PASSWORD,
        Some("/schools?q=abbey%20primary&page=2"),
    )
    .await;
    assert_eq!(
        headers[header::LOCATION],
        "/schools?q=abbey%20primary&page=2"
    );
}

both!(an_attacker_cannot_lock_the_owner_out);
async fn an_attacker_cannot_lock_the_owner_out(app: TestApp) {
    for _ in 0..8 {
        let (s, _) = login_from(&app, "203.0.113.7", "admin@example.org", "wrong!", None).await;
        assert!(
            s == StatusCode::UNPROCESSABLE_ENTITY || s == StatusCode::TOO_MANY_REQUESTS,
            "{s}"
        );
    }
    // The attacker's address is limited for this account...
    let (s, _) = login_from(&app, "203.0.113.7", "admin@example.org", PASSWORD, None).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // ...the owner, from their own address, is not.
    let (s, headers) = login_from(&app, "198.51.100.2", "admin@example.org", PASSWORD, None).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/");
}

both!(the_per_address_limit_holds_across_accounts);
async fn the_per_address_limit_holds_across_accounts(app: TestApp) {
    let limit = app.state.config.login_limit_ip;
    for i in 0..limit {
        let (s, _) = login_from(
            &app,
            "203.0.113.8",
            &format!("guess{i}@example.org"),
            "wrong!",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (s, _) = login_from(&app, "203.0.113.8", "lead@example.org", PASSWORD, None).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
}

both!(concurrent_guesses_cannot_overrun_the_limit);
async fn concurrent_guesses_cannot_overrun_the_limit(app: TestApp) {
    // All 25 are in flight at once: each waits on its own blocking thread.
    let guesses: Vec<String> = (0..25).map(|i| format!("guess {i}")).collect();
    let results = futures_util::future::join_all(
        guesses
            .iter()
            .map(|g| login_from(&app, "203.0.113.9", "admin@example.org", g, None)),
    )
    .await;
    let mut checked = 0;
    for (status, _) in results {
        match status {
            StatusCode::UNPROCESSABLE_ENTITY => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    let limit = app.state.config.login_limit_account;
    assert!(
        checked <= limit,
        "{checked} passwords were checked against a limit of {limit}"
    );
    assert!(checked >= 1);
    // Refused attempts are not kept: the table holds the checked ones (two keys each).
    let rows: i64 = app
        .with_db(|c| login_attempts::table.count().get_result(c).unwrap())
        .await;
    assert_eq!(rows, checked * 2);
}

both!(oversized_login_input_is_refused_and_never_stored);
async fn oversized_login_input_is_refused_and_never_stored(app: TestApp) {
    let (s, _) = login_from(
        &app,
        "203.0.113.10",
        &format!("{}@example.org", "a".repeat(200_000)),
        "x",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "not even read");
    // Within the anonymous body cap, far beyond any address.
    let long_email = format!("{}@example.org", "a".repeat(40_000));
    let (s, _) = login_from(&app, "203.0.113.10", &long_email, "x", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = login_from(
        &app,
        "203.0.113.10",
        "admin@example.org",
        &"p".repeat(40_000),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A NUL (which PostgreSQL refuses in text) is a wrong address, not a server error.
    let (s, _) = login_from(&app, "203.0.113.10", "admin\0@example.org", "x", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A failure of ordinary size is recorded under keys of fixed length, not the address.
    let (s, _) = login_from(&app, "203.0.113.10", "admin@example.org", "wrong", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let keys: Vec<String> = app
        .with_db(|c| {
            login_attempts::table
                .select(login_attempts::key)
                .load(c)
                .unwrap()
        })
        .await;
    // Four failures, each counted under two keys; none holds the address or its length.
    assert_eq!(keys.len(), 8, "{keys:?}");
    assert!(
        keys.iter().all(|k| k.len() < 64 && !k.contains('@')),
        "{keys:?}"
    );
}

both!(expired_rows_are_pruned);
async fn expired_rows_are_pruned(app: TestApp) {
    let now = outreach::app::now();
    let user = app.lead.user_id;
    app.with_db(move |c| {
        for (id, expires) in [
            ("old", now - chrono::Duration::hours(1)),
            ("live", now + chrono::Duration::hours(1)),
        ] {
            diesel::insert_into(sessions::table)
                .values((
                    sessions::id.eq(id),
                    sessions::user_id.eq(user),
                    sessions::created_at.eq(now - chrono::Duration::days(20)),
                    sessions::expires_at.eq(expires),
                ))
                .execute(c)
                .unwrap();
        }
        for at in [
            now - chrono::Duration::days(2),
            now - chrono::Duration::minutes(5),
        ] {
            diesel::insert_into(login_attempts::table)
                .values((
                    login_attempts::key.eq("k"),
                    login_attempts::attempted_at.eq(at),
                ))
                .execute(c)
                .unwrap();
        }
        for (status, age) in [("sent", 200), ("kept", 100), ("sent", 10), ("queued", 200)] {
            diesel::insert_into(outbox::table)
                .values((
                    outbox::to_address.eq("a@example.org"),
                    outbox::subject.eq("s"),
                    outbox::body.eq("b"),
                    outbox::status.eq(status),
                    outbox::next_attempt_at.eq(now),
                    outbox::created_at.eq(now - chrono::Duration::days(age)),
                ))
                .execute(c)
                .unwrap();
        }
    })
    .await;
    let sessions_before = app.count("sessions").await;
    let pruned = app
        .with_db(move |c| outreach::domain::maintenance::prune(c, now).unwrap())
        .await;
    assert_eq!(pruned.sessions, 1);
    assert_eq!(pruned.attempts, 1);
    assert_eq!(pruned.mail, 2, "old sent and kept mail; never queued mail");
    assert_eq!(app.count("sessions").await, sessions_before - 1);
    assert_eq!(app.count("login_attempts").await, 1);
    assert_eq!(app.count("outbox").await, 2);
    // The seeded sessions still work.
    let (s, _, _) = app.page("/programmes", Some(Role::Lead)).await;
    assert_eq!(s, StatusCode::OK);
}

both!(every_failed_login_costs_one_password_hash);
async fn every_failed_login_costs_one_password_hash(app: TestApp) {
    // Archive the funder: its failed logins must cost what an unknown address costs.
    let (s, _) = app
        .post(
            &format!("/users/{}/archive", app.funder.user_id),
            Some(Role::Admin),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let time = |email: &'static str, client: &'static str| {
        let app = &app;
        async move {
            let mut best = Duration::MAX;
            for _ in 0..3 {
                let started = Instant::now();
                let (s, _) = login_from(app, client, email, PASSWORD, None).await;
                assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{email}");
                best = best.min(started.elapsed());
            }
            best
        }
    };
    let unknown = time("nobody@example.org", "192.0.2.1").await;
    let archived = time("funder@example.org", "192.0.2.2").await;
    // A skipped hash is ten times faster; equal work is within a small factor.
    assert!(
        archived * 3 > unknown && unknown * 3 > archived,
        "archived {archived:?} vs unknown {unknown:?}"
    );
}

/// POSTs the login form as a proxy would pass it on.
async fn login_via(
    router: &axum::Router,
    peer: &str,
    forwarded: &str,
    email: &str,
    password: &str,
) -> StatusCode {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("csrf_token", CSRF)
        .append_pair("email", email)
        .append_pair("password", password);
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::COOKIE, format!("outreach_csrf={CSRF}"))
        .header("x-forwarded-for", forwarded)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.finish()))
        .unwrap();
    let addr: SocketAddr = format!("{peer}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    tower::ServiceExt::oneshot(router.clone(), req)
        .await
        .unwrap()
        .status()
}

both!(clients_behind_a_trusted_proxy_are_told_apart);
async fn clients_behind_a_trusted_proxy_are_told_apart(app: TestApp) {
    let mut config = app.state.config.clone();
    config.trusted_proxies = outreach::web::client::parse_trusted("10.0.0.0/8").unwrap();
    let router = outreach::build_router(outreach::app::App::new(app.state.pool.clone(), config));
    // An attacker behind the load balancer fails until limited...
    for _ in 0..6 {
        login_via(
            &router,
            "10.0.0.2",
            "203.0.113.66",
            "admin@example.org",
            "wrong",
        )
        .await;
    }
    assert_eq!(
        login_via(
            &router,
            "10.0.0.2",
            "203.0.113.66",
            "admin@example.org",
            PASSWORD
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // ...while the owner, behind the same load balancer, logs in.
    assert_eq!(
        login_via(
            &router,
            "10.0.0.2",
            "198.51.100.9",
            "admin@example.org",
            PASSWORD
        )
        .await,
        StatusCode::SEE_OTHER
    );
    // A client that talks to Outreach directly cannot pick its address by header.
    for _ in 0..6 {
        login_via(
            &router,
            "192.0.2.50",
            "198.51.100.9",
            "lead@example.org",
            "wrong",
        )
        .await;
    }
    assert_eq!(
        login_via(
            &router,
            "192.0.2.50",
            "198.51.100.10",
            "lead@example.org",
            PASSWORD
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

both!(over_long_logins_are_limited_before_any_hashing);
async fn over_long_logins_are_limited_before_any_hashing(app: TestApp) {
    let long = format!("{}@example.org", "a".repeat(300));
    let limit = app.state.config.login_limit_ip;
    let mut limited = 0;
    for _ in 0..limit + 5 {
        let (s, _) = login_from(&app, "203.0.113.77", &long, "x", None).await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert!(limited >= 5, "over-long logins were never limited");
}
