//! No input panics a handler or reaches a user as a 500: every GET route, as every role,
//! with every query parameter set to extreme values, and with extreme path ids.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::harness::{all_routes, TestApp, CSRF};

const PARAMS: &[&str] = &[
    "page",
    "per_page",
    "q",
    "archived",
    "month",
    "next",
    "notice",
    "thanks",
    "new",
    "include_closed",
    "status",
    "kind",
    "from",
    "to",
    "programme_id",
    "school_id",
    "moderation",
    "year",
];

fn extremes() -> Vec<String> {
    vec![
        "+262142-12".into(),
        "-262144-01".into(),
        "-9223372036854775809".into(),
        "99999999999999999999999999".into(),
        "1e309".into(),
        "NaN".into(),
        "%00%ff".into(),
        "'; DROP TABLE schools; --".into(),
        "\u{202e}\u{0}\u{fffd}".into(),
        "x".repeat(1500),
    ]
}

/// Only GET routes: the others are exercised by their own tests.
fn get_routes(ids: &[&str]) -> Vec<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let sources: String = [
        "src/web/pages/mod.rs",
        "src/web/api/mod.rs",
        "src/web/router.rs",
    ]
    .iter()
    .map(|f| std::fs::read_to_string(format!("{root}/{f}")).unwrap())
    .collect();
    let all = all_routes(ids);
    // A route is a GET route when its registration mentions get(.
    let gets: Vec<bool> = sources
        .split(".route(")
        .skip(1)
        .filter(|p| p.trim_start().starts_with('"'))
        .map(|p| {
            let call = p.split(".route(").next().unwrap_or("");
            call.contains("get(")
        })
        .collect();
    all.into_iter()
        .zip(gets)
        .filter(|(_, g)| *g)
        .map(|(p, _)| p)
        .collect()
}

async fn get(app: &TestApp, uri: &str, role: Role) -> StatusCode {
    let req = Request::builder()
        .uri(uri)
        .header(
            header::COOKIE,
            format!(
                "outreach_csrf={CSRF}; outreach_session={}",
                app.seeded(role).session
            ),
        )
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.seeded(role).token),
        )
        .body(Body::empty())
        .unwrap();
    app.send(req).await.0
}

/// Enough data that pages have something to compute: a programme with an event.
async fn some_data(app: &TestApp) {
    let (_, p) = app
        .post(
            "/programmes",
            Some(Role::Admin),
            json!({"title": "T", "year": 2019, "organisation_id": app.organisation_id}),
        )
        .await;
    let p = p["id"].as_i64().unwrap();
    let (s, _) = app
        .post(
            &format!("/programmes/{p}/events"),
            Some(Role::Lead),
            json!({"kind": "live_stream", "starts_at": "2031-01-01T10:00:00Z", "ends_at": "2031-01-01T11:00:00Z"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
}

both!(extreme_query_values_never_reach_a_500);
async fn extreme_query_values_never_reach_a_500(app: TestApp) {
    some_data(&app).await;
    let routes = get_routes(&[]);
    assert!(routes.len() > 50, "{} GET routes", routes.len());
    for value in extremes() {
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        let query: Vec<String> = PARAMS.iter().map(|p| format!("{p}={encoded}")).collect();
        let query = query.join("&");
        for route in &routes {
            for role in [Role::Admin, Role::Lead, Role::Funder, Role::School] {
                let uri = format!("{route}?{query}");
                let s = get(&app, &uri, role).await;
                assert!(
                    !s.is_server_error(),
                    "{s} for GET {route} as {role:?} with {:?}",
                    &value.chars().take(40).collect::<String>()
                );
            }
        }
    }
}

both!(extreme_path_ids_never_reach_a_500);
async fn extreme_path_ids_never_reach_a_500(app: TestApp) {
    some_data(&app).await;
    for id in [
        "0",
        "-1",
        "2147483647",
        "2147483648",
        "99999999999999999999",
        "abc",
        "1.5",
    ] {
        for route in get_routes(&[id]) {
            for role in [Role::Admin, Role::School] {
                let s = get(&app, &route, role).await;
                assert!(!s.is_server_error(), "{s} for GET {route} as {role:?}");
            }
        }
    }
    let (s, _, _) = app
        .page("/impact/years/2147483647", Some(Role::Funder))
        .await;
    assert!(!s.is_server_error());
    let (s, _, _) = app
        .page(
            "/impact/years/-2147483648/export/events.csv",
            Some(Role::Lead),
        )
        .await;
    assert!(!s.is_server_error());
}

both!(dates_outside_the_calendar_are_refused_with_a_reason);
async fn dates_outside_the_calendar_are_refused_with_a_reason(app: TestApp) {
    let (_, p) = app
        .post(
            "/programmes",
            Some(Role::Admin),
            json!({"title": "T", "year": 2019}),
        )
        .await;
    let p = p["id"].as_i64().unwrap();
    for (starts, ends) in [
        ("+262142-12-31T10:00:00Z", "+262142-12-31T11:00:00Z"),
        ("0001-01-01T10:00:00Z", "0001-01-01T11:00:00Z"),
    ] {
        let (s, v) = app
            .post(
                &format!("/programmes/{p}/events"),
                Some(Role::Lead),
                json!({"kind": "live_stream", "starts_at": starts, "ends_at": ends}),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["error"]["fields"]["starts_at"].is_string(), "{v}");
    }
    let (s, v) = app
        .post(
            &format!("/programmes/{p}/slots/bulk"),
            Some(Role::Lead),
            json!({"from": "9999-01-01", "to": "9999-01-05", "morning": true}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(app.count("events").await, 0);
    assert_eq!(app.count("tour_slots").await, 0);
}
