//! The role matrix: every route, as anonymous, school, lead, funder and admin.

use axum::http::{Method, StatusCode};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::harness::TestApp;

const ROLES: [Option<Role>; 5] = [
    None,
    Some(Role::School),
    Some(Role::Lead),
    Some(Role::Funder),
    Some(Role::Admin),
];

/// Allowed roles per API route; the rest get 401 (anonymous) or 403.
fn api_routes(app: &TestApp, booking: i64) -> Vec<(Method, String, serde_json::Value, Vec<Role>)> {
    use Role::*;
    let s = app.school_id;
    let o = app.organisation_id;
    let staff = vec![Lead, Admin];
    let readers = vec![Lead, Admin, Funder];
    let everyone = vec![School, Lead, Admin, Funder];
    vec![
        (Method::GET, "/me".into(), json!(null), everyone.clone()),
        (Method::GET, "/events".into(), json!(null), everyone.clone()),
        (
            Method::GET,
            "/feedback".into(),
            json!(null),
            everyone.clone(),
        ),
        (
            Method::GET,
            "/organisations".into(),
            json!(null),
            readers.clone(),
        ),
        (
            Method::GET,
            format!("/organisations/{o}"),
            json!(null),
            readers.clone(),
        ),
        (
            Method::GET,
            format!("/organisations/{o}/priorities"),
            json!(null),
            readers.clone(),
        ),
        (
            Method::POST,
            "/organisations".into(),
            json!({"name": "N"}),
            vec![Admin],
        ),
        (
            Method::PUT,
            format!("/organisations/{o}"),
            json!({"name": "Test Partnership"}),
            vec![Admin],
        ),
        (
            Method::POST,
            format!("/organisations/{o}/priorities"),
            json!({"title": "P"}),
            vec![Admin],
        ),
        (Method::GET, "/schools".into(), json!(null), staff.clone()),
        (
            Method::GET,
            format!("/schools/{s}"),
            json!(null),
            vec![School, Lead, Admin],
        ),
        (
            Method::POST,
            "/schools".into(),
            json!({"name": "N"}),
            staff.clone(),
        ),
        (
            Method::PUT,
            format!("/schools/{s}"),
            json!({"name": "Seed School", "urn": 900001}),
            staff.clone(),
        ),
        (Method::GET, "/venues".into(), json!(null), staff.clone()),
        (
            Method::POST,
            "/venues".into(),
            json!({"name": "N"}),
            staff.clone(),
        ),
        (
            Method::GET,
            "/programmes".into(),
            json!(null),
            everyone.clone(),
        ),
        (
            Method::POST,
            "/programmes".into(),
            json!({"title": "T", "year": 2019}),
            staff.clone(),
        ),
        (Method::GET, "/users".into(), json!(null), vec![Admin]),
        (
            Method::POST,
            "/users".into(),
            json!({"email": "x@example.org", "role": "lead", "password": "long enough pw"}),
            vec![Admin],
        ),
        (
            Method::GET,
            format!("/users/{}/tokens", app.lead.user_id),
            json!(null),
            vec![Admin],
        ),
        (
            Method::GET,
            format!("/bookings/{booking}/feedback-links"),
            json!(null),
            vec![School, Lead, Admin],
        ),
        (
            Method::POST,
            format!("/bookings/{booking}/feedback-links"),
            json!({}),
            vec![School, Lead, Admin],
        ),
    ]
}

/// A confirmed booking of the seed school, of a live stream of a new programme.
async fn school_booking(app: &TestApp, programme: i64) -> i64 {
    let (s, e) = app
        .post(
            &format!("/programmes/{programme}/events"),
            Some(Role::Lead),
            json!({"kind": "live_stream", "starts_at": "2031-03-01T10:00:00Z", "ends_at": "2031-03-01T11:00:00Z"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let event = e["id"].as_i64().unwrap();
    let (s, b) = app
        .post(
            &format!("/events/{event}/bookings"),
            Some(Role::School),
            json!({"pupils": 20, "staff": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["id"].as_i64().unwrap()
}

both!(api_role_matrix);
async fn api_role_matrix(app: TestApp) {
    let (_, p) = app
        .post(
            "/programmes",
            Some(Role::Admin),
            json!({"title": "Shared", "year": 2020, "organisation_id": app.organisation_id}),
        )
        .await;
    let booking = school_booking(&app, p["id"].as_i64().unwrap()).await;
    for (method, path, body, allowed) in api_routes(&app, booking) {
        for role in ROLES {
            let body = if body.is_null() {
                None
            } else {
                Some(body.clone())
            };
            let (status, v) = app.api(method.clone(), &path, role, body).await;
            let expected_ok = role.is_some_and(|r| allowed.contains(&r));
            match role {
                None => assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} anonymous"
                ),
                Some(r) if expected_ok => assert!(
                    status.is_success(),
                    "{method} {path} as {r:?}: {status} {v}"
                ),
                Some(r) => {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{method} {path} as {r:?}: {v}"
                    );
                    assert_eq!(v["error"]["code"], "forbidden");
                }
            }
        }
    }
}

both!(school_token_cannot_create_a_programme);
async fn school_token_cannot_create_a_programme(app: TestApp) {
    let (s, v) = app
        .post(
            "/programmes",
            Some(Role::School),
            json!({"title": "Ruby", "year": 2018}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(v["error"]["code"], "forbidden");
    assert_eq!(app.count("programmes").await, 0);
    // A school user reads its own school, not another.
    let (_, other) = app
        .post("/schools", Some(Role::Admin), json!({"name": "Other"}))
        .await;
    let (s, _) = app
        .get(&format!("/schools/{}", other["id"]), Some(Role::School))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// The pages of the role matrix, with the roles that may open each; a shared programme
/// with a live stream open for booking (so a school may see it) is made first.
async fn page_routes(app: &TestApp) -> Vec<(String, Vec<Role>)> {
    use Role::*;
    let (_, p) = app
        .post(
            "/programmes",
            Some(Role::Admin),
            json!({"title": "Shared", "year": 2020, "organisation_id": app.organisation_id}),
        )
        .await;
    let programme = p["id"].as_i64().unwrap();
    // A live stream open for booking (so the school may see the programme), booked.
    let booking = school_booking(app, programme).await;
    vec![
        ("/".into(), vec![Lead, Admin]),
        ("/whats-on".into(), vec![School, Lead, Admin]),
        ("/bookings".into(), vec![School, Lead, Admin]),
        ("/requests".into(), vec![Lead, Admin]),
        ("/outbox".into(), vec![Admin]),
        ("/programmes".into(), vec![Lead, Funder, Admin]),
        ("/programmes/new".into(), vec![Lead, Admin]),
        ("/schools".into(), vec![Lead, Admin]),
        ("/schools/new".into(), vec![Lead, Admin]),
        ("/schools/search?q=Seed".into(), vec![Lead, Admin]),
        (
            format!("/bookings/{booking}/feedback"),
            vec![School, Lead, Admin],
        ),
        (format!("/schools/{}", app.school_id), vec![Lead, Admin]),
        ("/venues".into(), vec![Lead, Admin]),
        ("/venues/new".into(), vec![Lead, Admin]),
        ("/organisations".into(), vec![Admin]),
        ("/organisations/new".into(), vec![Admin]),
        (
            format!("/organisations/{}", app.organisation_id),
            vec![Admin],
        ),
        ("/users".into(), vec![Admin]),
        ("/users/new".into(), vec![Admin]),
        (format!("/users/{}/tokens", app.lead.user_id), vec![Admin]),
        ("/import/schools".into(), vec![Admin]),
        ("/audit".into(), vec![Admin]),
        (
            format!("/programmes/{}/report", programme),
            vec![Lead, Funder, Admin],
        ),
        (
            format!("/programmes/{}/impact", programme),
            vec![Lead, Funder, Admin],
        ),
        (
            format!("/programmes/{}/feedback", programme),
            vec![School, Lead, Funder, Admin],
        ),
        (
            format!("/organisations/{}/impact", app.organisation_id),
            vec![Lead, Funder, Admin],
        ),
        ("/impact/years/2020".into(), vec![Lead, Funder, Admin]),
    ]
}

both!(page_role_matrix);
async fn page_role_matrix(app: TestApp) {
    use Role::*;
    let pages = page_routes(&app).await;
    let (s, headers, _) = app.page("/", Some(Funder)).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "a funder lands on its figures");
    assert_eq!(headers["location"], "/impact");
    let (s, headers, _) = app.page("/", Some(School)).await;
    assert_eq!(
        (s, headers["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/whats-on"),
        "a school lands on what it can book"
    );
    for (path, allowed) in pages {
        for role in ROLES {
            // `/` is each role's landing page, and the public listing for anyone else.
            if path == "/" && matches!(role, None | Some(Funder) | Some(School)) {
                continue;
            }
            let (status, headers, body) = app.page(&path, role).await;
            match role {
                None => {
                    assert_eq!(status, StatusCode::SEE_OTHER, "{path} anonymous");
                    assert!(headers["location"]
                        .to_str()
                        .unwrap()
                        .starts_with("/login?next="));
                }
                Some(r) if allowed.contains(&r) => {
                    assert_eq!(status, StatusCode::OK, "{path} as {r:?}")
                }
                Some(r) => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{path} as {r:?}");
                    assert!(
                        body.contains("<h1>Not allowed</h1>"),
                        "{path}: an error page with the layout"
                    );
                }
            }
        }
    }
}

both!(page_posts_are_guarded_by_role);
async fn page_posts_are_guarded_by_role(app: TestApp) {
    // Page POSTs are guarded the same way.
    let before = app.count("organisations").await;
    let (s, _, _) = app
        .form(
            "/organisations",
            Some(Role::Lead),
            &[("name", "X"), ("kind", "funder")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = app
        .form("/schools", Some(Role::Funder), &[("name", "X")], true)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = app
        .form(
            "/programmes",
            Some(Role::School),
            &[("title", "X"), ("year", "2019")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(app.count("organisations").await, before);
    assert_eq!(app.count("programmes").await, 0);
}
