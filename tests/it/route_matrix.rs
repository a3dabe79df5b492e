//! Every route of the router, as every role: anonymous, a school (its own records and
//! another school's), a lead, a funder (its own organisation's and another's) and an admin.
//! The routes are read from the router's own source, so a route added without a line in
//! `EXPECTED` fails `every_route_has_an_expectation`.
//!
//! Allowed: the role check lets the request through (no 401, 403, 404 or sign-in page,
//! and never a server error; a 409 or 422 about the request itself is fine). Refused:
//! 403, or 404 where a record of someone else's is not admitted to exist. Anonymous: 401
//! from the API, the sign-in page from a page, unless the route is public.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{Method, StatusCode};
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::{a_programme, book, live_stream};
use crate::harness::{router_routes, TestApp};

/// `METHOD ROUTE [=> PATH] : WHO`. ROUTE is as the router writes it; PATH fills it from
/// the world (`{school}`, `{other_booking}`, …; ROUTE itself when left out). WHO: S school,
/// L lead, F funder, A admin, P anyone (anonymous too; a GET of a form's action only sends
/// the browser back), N no role at all (only a bearer of the install's own token, e.g.
/// `METRICS_TOKEN`). Lines that change records aim at spare ones, so no later line
/// depends on their outcome; the feed comes before its secret is made again, `/logout` last.
const EXPECTED: &str = r#"
GET  /calendar/{kind}/{file} => {school_feed} : P
GET  /api/v1/me : SLFA
POST /api/v1/me/password : SLFA
GET  /api/v1/invitations : LA
POST /api/v1/invitations : LA
POST /api/v1/invitations/{id}/resend => /api/v1/invitations/{spare_invitation}/resend : LA
POST /api/v1/invitations/{id}/withdraw => /api/v1/invitations/{spare_invitation}/withdraw : LA
GET  /api/v1/programmes/{id}/invitations => /api/v1/programmes/{programme}/invitations : LA
POST /api/v1/programmes/{id}/invitations => /api/v1/programmes/{programme}/invitations : LA
GET  /api/v1/school-requests : LA
POST /api/v1/school-requests/{id}/approve => /api/v1/school-requests/{school_request}/approve : LA
POST /api/v1/school-requests/{id}/decline => /api/v1/school-requests/{spare_school_request}/decline : LA
GET  /api/v1/public/whats-on : P
GET  /api/v1/organisations : LFA
POST /api/v1/organisations : A
GET  /api/v1/organisations/{id} => /api/v1/organisations/{org} : LFA
GET  /api/v1/organisations/{id} => /api/v1/organisations/{other_org} : LA
PUT  /api/v1/organisations/{id} => /api/v1/organisations/{spare_org} : A
POST /api/v1/organisations/{id}/archive => /api/v1/organisations/{spare_org}/archive : A
POST /api/v1/organisations/{id}/restore => /api/v1/organisations/{spare_org}/restore : A
GET  /api/v1/organisations/{id}/priorities => /api/v1/organisations/{org}/priorities : LFA
POST /api/v1/organisations/{id}/priorities => /api/v1/organisations/{org}/priorities : A
POST /api/v1/priorities/{id}/targets => /api/v1/priorities/{priority}/targets : A
GET  /api/v1/schools : LA
POST /api/v1/schools : LA
GET  /api/v1/schools/{id} => /api/v1/schools/{school} : SLA
GET  /api/v1/schools/{id} => /api/v1/schools/{other_school} : LA
PUT  /api/v1/schools/{id} => /api/v1/schools/{spare_school} : LA
POST /api/v1/schools/{id}/archive => /api/v1/schools/{spare_school}/archive : LA
POST /api/v1/schools/{id}/restore => /api/v1/schools/{spare_school}/restore : LA
GET  /api/v1/venues : LA
POST /api/v1/venues : LA
GET  /api/v1/venues/{id} => /api/v1/venues/{venue} : SLFA
PUT  /api/v1/venues/{id} => /api/v1/venues/{venue} : LA
POST /api/v1/venues/{id}/archive => /api/v1/venues/{venue}/archive : LA
POST /api/v1/venues/{id}/restore => /api/v1/venues/{venue}/restore : LA
GET  /api/v1/programmes : SLFA
POST /api/v1/programmes : LA
GET  /api/v1/programmes/{id} => /api/v1/programmes/{programme} : SLFA
GET  /api/v1/programmes/{id} => /api/v1/programmes/{other_programme} : SLA
PUT  /api/v1/programmes/{id} => /api/v1/programmes/{spare_programme} : LA
POST /api/v1/programmes/{id}/archive => /api/v1/programmes/{spare_programme}/archive : LA
POST /api/v1/programmes/{id}/restore => /api/v1/programmes/{spare_programme}/restore : LA
GET  /api/v1/programmes/{id}/events => /api/v1/programmes/{programme}/events : LFA
GET  /api/v1/programmes/{id}/events => /api/v1/programmes/{other_programme}/events : LA
POST /api/v1/programmes/{id}/events => /api/v1/programmes/{programme}/events : LA
GET  /api/v1/programmes/{id}/impact => /api/v1/programmes/{programme}/impact : LFA
GET  /api/v1/programmes/{id}/impact => /api/v1/programmes/{other_programme}/impact : LA
GET  /api/v1/events : SLFA
GET  /api/v1/events/{id} => /api/v1/events/{event} : LFA
GET  /api/v1/events/{id} => /api/v1/events/{other_event} : LA
PUT  /api/v1/events/{id} => /api/v1/events/{event} : LA
POST /api/v1/events/{id}/complete => /api/v1/events/{event}/complete : LA
POST /api/v1/events/{id}/reopen => /api/v1/events/{event}/reopen : LA
POST /api/v1/events/{id}/cancel => /api/v1/events/{spare_event}/cancel : LA
POST /api/v1/programmes/{id}/attendance.csv => /api/v1/programmes/{programme}/attendance.csv : LA
GET  /api/v1/events/{id}/answers => /api/v1/events/{event}/answers : LA
POST /api/v1/answers/{id}/accept => /api/v1/answers/{answer}/accept : LA
POST /api/v1/answers/{id}/keep => /api/v1/answers/{answer}/keep : LA
GET  /api/v1/events/{id}/attendance => /api/v1/events/{event}/attendance : LA
PUT  /api/v1/events/{id}/attendance => /api/v1/events/{event}/attendance : LA
GET  /api/v1/programmes/{id}/feedback => /api/v1/programmes/{programme}/feedback : SLFA
GET  /api/v1/programmes/{id}/feedback => /api/v1/programmes/{other_programme}/feedback : SLA
GET  /api/v1/programmes/{id}/feedback/summary => /api/v1/programmes/{programme}/feedback/summary : LFA
GET  /api/v1/programmes/{id}/feedback/summary => /api/v1/programmes/{other_programme}/feedback/summary : LA
GET  /api/v1/programmes/{id}/outcomes => /api/v1/programmes/{programme}/outcomes : LFA
GET  /api/v1/programmes/{id}/outcomes => /api/v1/programmes/{other_programme}/outcomes : LA
POST /api/v1/programmes/{id}/outcomes => /api/v1/programmes/{programme}/outcomes : LA
GET  /api/v1/feedback : SLFA
POST /api/v1/feedback : LA
GET  /api/v1/feedback/{id} => /api/v1/feedback/{feedback} : SLFA
GET  /api/v1/feedback/{id} => /api/v1/feedback/{other_feedback} : LA
POST /api/v1/feedback/{id}/moderate => /api/v1/feedback/{feedback}/moderate : LA
GET  /api/v1/bookings/{id}/feedback-links => /api/v1/bookings/{booking}/feedback-links : SLA
GET  /api/v1/bookings/{id}/feedback-links => /api/v1/bookings/{other_booking}/feedback-links : LA
POST /api/v1/bookings/{id}/feedback-links => /api/v1/bookings/{booking}/feedback-links : SLA
POST /api/v1/bookings/{id}/feedback-links => /api/v1/bookings/{other_booking}/feedback-links : LA
POST /api/v1/events/{id}/bookings => /api/v1/events/{event}/bookings : SLA
GET  /api/v1/programmes/{id}/slots => /api/v1/programmes/{programme}/slots : LFA
GET  /api/v1/programmes/{id}/slots => /api/v1/programmes/{other_programme}/slots : LA
POST /api/v1/programmes/{id}/slots => /api/v1/programmes/{programme}/slots : LA
POST /api/v1/programmes/{id}/slots/bulk => /api/v1/programmes/{programme}/slots/bulk : LA
POST /api/v1/slots/{id}/bookings => /api/v1/slots/{slot}/bookings : SLA
GET  /api/v1/bookings : SLA
GET  /api/v1/bookings.csv : SLA
GET  /api/v1/whats-on : SLA
GET  /api/v1/{kind}/{id}/calendar => /api/v1/schools/{school}/calendar : SLA
GET  /api/v1/{kind}/{id}/calendar => /api/v1/schools/{other_school}/calendar : LA
GET  /api/v1/{kind}/{id}/calendar => /api/v1/programmes/{programme}/calendar : LA
POST /api/v1/{kind}/{id}/calendar/regenerate => /api/v1/schools/{school}/calendar/regenerate : SLA
POST /api/v1/{kind}/{id}/calendar/regenerate => /api/v1/schools/{other_school}/calendar/regenerate : LA
POST /api/v1/{kind}/{id}/calendar/regenerate => /api/v1/programmes/{programme}/calendar/regenerate : LA
GET  /api/v1/bookings/{id} => /api/v1/bookings/{booking} : SLA
GET  /api/v1/bookings/{id} => /api/v1/bookings/{other_booking} : LA
POST /api/v1/bookings/{id}/confirm => /api/v1/bookings/{booking}/confirm : LA
POST /api/v1/bookings/{id}/decline => /api/v1/bookings/{booking}/decline : LA
POST /api/v1/bookings/{id}/cancel => /api/v1/bookings/{other_booking}/cancel : LA
POST /api/v1/bookings/{id}/cancel => /api/v1/bookings/{spare_booking}/cancel : SLA
GET  /api/v1/programmes/{id}/impact.xlsx => /api/v1/programmes/{programme}/impact.xlsx : LFA
GET  /api/v1/programmes/{id}/impact.xlsx => /api/v1/programmes/{other_programme}/impact.xlsx : LA
GET  /api/v1/programmes/{id}/export/{file} => /api/v1/programmes/{programme}/export/schools.csv : LFA
GET  /api/v1/programmes/{id}/export/{file} => /api/v1/programmes/{other_programme}/export/events.csv : LA
GET  /api/v1/impact/years/{year} => /api/v1/impact/years/2031 : LFA
GET  /api/v1/impact/years/{year}/export/{file} => /api/v1/impact/years/2031/export/feedback.csv : LFA
GET  /api/v1/organisations/{id}/impact.xlsx => /api/v1/organisations/{org}/impact.xlsx : LFA
GET  /api/v1/organisations/{id}/impact.xlsx => /api/v1/organisations/{other_org}/impact.xlsx : LA
GET  /api/v1/organisations/{id}/export/{file} => /api/v1/organisations/{org}/export/attendance.csv : LFA
GET  /api/v1/organisations/{id}/export/{file} => /api/v1/organisations/{other_org}/export/attendance.csv : LA
GET  /api/v1/organisations/{id}/impact => /api/v1/organisations/{org}/impact : LFA
GET  /api/v1/organisations/{id}/impact => /api/v1/organisations/{other_org}/impact : LA
GET  /api/v1/users : A
POST /api/v1/users : A
GET  /api/v1/users/{id} => /api/v1/users/{spare_user} : A
PUT  /api/v1/users/{id} => /api/v1/users/{spare_user} : A
POST /api/v1/users/{id}/archive => /api/v1/users/{spare_user}/archive : A
POST /api/v1/users/{id}/restore => /api/v1/users/{spare_user}/restore : A
GET  /api/v1/users/{id}/tokens => /api/v1/users/{spare_user}/tokens : A
POST /api/v1/users/{id}/tokens => /api/v1/users/{spare_user}/tokens : A
POST /api/v1/users/{id}/tokens/{token_id}/revoke => /api/v1/users/{spare_user}/tokens/{spare_token}/revoke : A
POST /api/v1/import/schools : A
GET  /api/v1/openapi.json : P
GET  / : P
GET  /login : P
POST /login : P
GET  /organisations : A
POST /organisations : A
GET  /organisations/new : A
GET  /organisations/{id} => /organisations/{org} : A
POST /organisations/{id} => /organisations/{spare_org} : A
GET  /organisations/{id}/edit => /organisations/{org}/edit : A
POST /organisations/{id}/archive => /organisations/{spare_org}/archive : A
POST /organisations/{id}/restore => /organisations/{spare_org}/restore : A
POST /organisations/{id}/priorities => /organisations/{org}/priorities : A
POST /priorities/{id}/targets => /priorities/{priority}/targets : A
GET  /schools : LA
POST /schools : LA
GET  /schools/search : LA
GET  /schools/new : LA
GET  /schools/{id} => /schools/{school} : LA
POST /schools/{id} => /schools/{spare_school} : LA
POST /schools/{id}/archive => /schools/{spare_school}/archive : LA
POST /schools/{id}/restore => /schools/{spare_school}/restore : LA
GET  /venues : LA
POST /venues : LA
GET  /venues/new : LA
GET  /venues/{id} => /venues/{venue} : LA
POST /venues/{id} => /venues/{venue} : LA
POST /venues/{id}/archive => /venues/{venue}/archive : LA
POST /venues/{id}/restore => /venues/{venue}/restore : LA
GET  /programmes : LFA
POST /programmes : LA
GET  /programmes/new : LA
GET  /programmes/{id} => /programmes/{programme} : LFA
GET  /programmes/{id} => /programmes/{other_programme} : LA
POST /programmes/{id} => /programmes/{spare_programme} : LA
GET  /programmes/{id}/edit => /programmes/{programme}/edit : LA
POST /programmes/{id}/archive => /programmes/{spare_programme}/archive : LA
POST /programmes/{id}/restore => /programmes/{spare_programme}/restore : LA
POST /programmes/{id}/events => /programmes/{programme}/events : LA
GET  /programmes/{id}/events/new => /programmes/{programme}/events/new : LA
GET  /events/{id} => /events/{event} : LFA
GET  /events/{id} => /events/{other_event} : LA
POST /events/{id}/attendance => /events/{event}/attendance : LA
POST /events/{id}/complete => /events/{event}/complete : LA
POST /events/{id}/reopen => /events/{event}/reopen : LA
POST /events/{id}/change => /events/{event}/change : LA
POST /events/{id}/cancel => /events/{spare_event}/cancel : LA
GET  /programmes/{id}/impact => /programmes/{programme}/impact : LFA
GET  /programmes/{id}/impact => /programmes/{other_programme}/impact : LA
GET  /programmes/{id}/report => /programmes/{programme}/report : LFA
GET  /programmes/{id}/report => /programmes/{other_programme}/report : LA
GET  /impact : LFA
GET  /impact/years/{year} => /impact/years/2031 : LFA
GET  /organisations/{id}/impact => /organisations/{org}/impact : LFA
GET  /organisations/{id}/impact => /organisations/{other_org}/impact : LA
GET  /programmes/{id}/feedback => /programmes/{programme}/feedback : SLFA
GET  /programmes/{id}/feedback => /programmes/{other_programme}/feedback : SLA
POST /programmes/{id}/feedback => /programmes/{programme}/feedback : LA
POST /programmes/{id}/outcomes => /programmes/{programme}/outcomes : LA
POST /feedback/{id}/moderate => /feedback/{feedback}/moderate : LA
GET  /bookings/{id}/feedback => /bookings/{booking}/feedback : SLA
GET  /bookings/{id}/feedback => /bookings/{other_booking}/feedback : LA
POST /bookings/{id}/feedback-links => /bookings/{booking}/feedback-links : SLA
POST /bookings/{id}/feedback-links => /bookings/{other_booking}/feedback-links : LA
GET  /programmes/{id}/attendance => /programmes/{programme}/attendance : LA
POST /programmes/{id}/attendance => /programmes/{programme}/attendance : LA
POST /programmes/{id}/attendance/upload => /programmes/{programme}/attendance/upload : LA
GET  /programmes/{id}/attendance.csv => /programmes/{programme}/attendance.csv : LA
GET  /password/forgot : P
POST /password/forgot : P
GET  /password/reset/{token} => /password/reset/{reset_token} : P
POST /password/reset/{token} => /password/reset/{reset_token} : P
GET  /account/password : SLFA
GET  /login/link : P
POST /login/link : P
GET  /login/link/{token} => /login/link/{sign_in_token} : P
POST /login/link/{token} => /login/link/{sign_in_token} : P
GET  /join : P
POST /join : P
POST /school-requests/{id}/approve => /school-requests/{school_request}/approve : LA
POST /school-requests/{id}/decline => /school-requests/{spare_school_request}/decline : LA
GET  /invitations : LA
POST /invitations : LA
GET  /invitations/new : LA
GET  /invitations/{token} => /invitations/{invitation_token} : P
POST /invitations/{token} => /invitations/{invitation_token} : P
POST /invitations/{id}/resend => /invitations/{spare_invitation}/resend : LA
POST /invitations/{id}/withdraw => /invitations/{spare_invitation}/withdraw : LA
GET  /programmes/{id}/invite => /programmes/{programme}/invite : LA
GET  /programmes/{id}/invite => /programmes/{other_programme}/invite : LA
POST /programmes/{id}/invite => /programmes/{programme}/invite : LA
POST /account/password : SLFA
GET  /answers/{token} => /answers/{answer_token} : P
POST /answers/{token} => /answers/{answer_token} : P
POST /answers/{id}/accept => /answers/{answer}/accept : LA
POST /answers/{id}/keep => /answers/{answer}/keep : LA
GET  /feedback/{token} => /feedback/{link_token} : P
POST /feedback/{token} => /feedback/{link_token} : P
GET  /programmes/{id}/impact.xlsx => /programmes/{programme}/impact.xlsx : LFA
GET  /programmes/{id}/impact.xlsx => /programmes/{other_programme}/impact.xlsx : LA
GET  /programmes/{id}/export/{file} => /programmes/{programme}/export/feedback.csv : LFA
GET  /programmes/{id}/export/{file} => /programmes/{other_programme}/export/feedback.csv : LA
GET  /impact/years/{year}/export/{file} => /impact/years/2031/export/impact.xlsx : LFA
GET  /organisations/{id}/impact.xlsx => /organisations/{org}/impact.xlsx : LFA
GET  /organisations/{id}/impact.xlsx => /organisations/{other_org}/impact.xlsx : LA
GET  /organisations/{id}/export/{file} => /organisations/{org}/export/schools.csv : LFA
GET  /organisations/{id}/export/{file} => /organisations/{other_org}/export/schools.csv : LA
GET  /users : A
POST /users : A
GET  /users/new : A
GET  /users/{id} => /users/{spare_user} : A
POST /users/{id} => /users/{spare_user} : A
POST /users/{id}/archive => /users/{spare_user}/archive : A
POST /users/{id}/restore => /users/{spare_user}/restore : A
GET  /users/{id}/tokens => /users/{spare_user}/tokens : A
POST /users/{id}/tokens => /users/{spare_user}/tokens : A
POST /users/{id}/tokens/{token_id}/revoke => /users/{spare_user}/tokens/{spare_token}/revoke : A
GET  /import/schools : A
POST /import/schools : A
GET  /programmes/{id}/slots => /programmes/{programme}/slots : LFA
GET  /programmes/{id}/slots => /programmes/{other_programme}/slots : LA
POST /programmes/{id}/slots => /programmes/{programme}/slots : LA
GET  /programmes/{id}/calendar => /programmes/{programme}/calendar : LFA
GET  /programmes/{id}/calendar => /programmes/{other_programme}/calendar : LA
POST /programmes/{id}/slots/bulk => /programmes/{programme}/slots/bulk : LA
GET  /slots/{id}/request => /slots/{slot}/request : SLA
POST /slots/{id}/request => /slots/{slot}/request : SLA
GET  /whats-on : SLA
GET  /{kind}/{id}/calendar/regenerate => /schools/{school}/calendar/regenerate : P
GET  /{kind}/{id}/calendar/regenerate => /programmes/{programme}/calendar/regenerate : P
POST /{kind}/{id}/calendar/regenerate => /schools/{school}/calendar/regenerate : SLA
POST /{kind}/{id}/calendar/regenerate => /schools/{other_school}/calendar/regenerate : LA
POST /{kind}/{id}/calendar/regenerate => /programmes/{programme}/calendar/regenerate : LA
GET  /events/{id}/book => /events/{event}/book : SLA
POST /events/{id}/book => /events/{event}/book : SLA
GET  /bookings : SLA
GET  /requests : LA
POST /bookings/{id}/confirm => /bookings/{booking}/confirm : LA
POST /bookings/{id}/decline => /bookings/{booking}/decline : LA
POST /bookings/{id}/cancel => /bookings/{other_booking}/cancel : LA
POST /bookings/{id}/cancel => /bookings/{spare_booking}/cancel : SLA
GET  /audit : A
GET  /outbox : A
POST /outbox/send-kept : A
GET  /healthz : P
GET  /readyz : P
GET  /metrics : N
GET  /api/v1/people/export => /api/v1/people/export?email=nobody%40example.org : A
POST /api/v1/people/erase : A
GET  /static/app.css : P
GET  /static/school-picker.js : P
GET  /static/forms.js : P
POST /logout : P
"#;

/// One line of `EXPECTED`.
struct Expectation {
    method: Method,
    route: String,
    path: String,
    who: String,
}

fn expectations() -> Vec<Expectation> {
    EXPECTED
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (left, who) = line.rsplit_once(" : ").expect("`: WHO`");
            let mut words = left.split_whitespace();
            let method =
                Method::from_bytes(words.next().expect("a method").as_bytes()).expect("a method");
            let route = words.next().expect("a route").to_string();
            let path = match (words.next(), words.next()) {
                (Some("=>"), Some(path)) => path.to_string(),
                (None, None) => route.clone(),
                _ => panic!("`ROUTE => PATH` in {line}"),
            };
            Expectation {
                method,
                route,
                path,
                who: who.trim().to_string(),
            }
        })
        .collect()
}

both!(every_route_has_an_expectation);
async fn every_route_has_an_expectation(_app: TestApp) {
    let routes = router_routes();
    assert!(routes.len() > 150, "found only {} routes", routes.len());
    let expected: BTreeSet<(String, String)> = expectations()
        .into_iter()
        .map(|e| (e.method.to_string(), e.route))
        .collect();
    let missing: Vec<_> = routes.difference(&expected).collect();
    assert!(
        missing.is_empty(),
        "routes with no expectation: {missing:?}"
    );
    let stale: Vec<_> = expected.difference(&routes).collect();
    assert!(stale.is_empty(), "expectations of no route: {stale:?}");
}

/// The records the paths name: the seeded school's and organisation's, someone else's,
/// and spare ones for the lines that change things.
async fn world(app: &TestApp) -> BTreeMap<&'static str, String> {
    let admin = Some(Role::Admin);
    let lead = Some(Role::Lead);
    let id = |v: &Value| {
        v["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("an id in {v}"))
            .to_string()
    };
    let mut w = BTreeMap::new();
    w.insert("school", app.school_id.to_string());
    w.insert("org", app.organisation_id.to_string());
    let (_, other_school) = app
        .post("/schools", admin, json!({"name": "Other School"}))
        .await;
    let (_, spare_school) = app
        .post("/schools", admin, json!({"name": "Spare School"}))
        .await;
    let (_, other_org) = app
        .post("/organisations", admin, json!({"name": "Other Trust"}))
        .await;
    let (_, spare_org) = app
        .post("/organisations", admin, json!({"name": "Spare Trust"}))
        .await;
    let (_, priority) = app
        .post(
            &format!("/organisations/{}/priorities", app.organisation_id),
            admin,
            json!({"title": "Wellbeing"}),
        )
        .await;
    let (_, venue) = app
        .post("/venues", admin, json!({"name": "Hall", "capacity": 300}))
        .await;
    let programme = a_programme(app)
        .funded()
        .between("2031-01-06", "2031-07-18")
        .create()
        .await;
    let other_programme = a_programme(app)
        .titled("Elsewhere")
        .with("organisation_id", other_org["id"].clone())
        .create()
        .await;
    let spare_programme = a_programme(app).titled("Spare").create().await;
    let e = live_stream(app, programme, 5, Some(200)).await;
    let spare_event = live_stream(app, programme, 6, Some(200)).await;
    let other_event = live_stream(app, other_programme, 7, Some(200)).await;
    let (_, booking) = book_for(app, e, &app.school_id.to_string()).await;
    let (_, spare_booking) = book_for(app, spare_event, &app.school_id.to_string()).await;
    let (_, other_booking) = book_for(app, other_event, &id(&other_school)).await;
    let (_, slot) = app
        .post(
            &format!("/programmes/{programme}/slots"),
            lead,
            json!({"day": "2031-03-03", "session": "morning"}),
        )
        .await;
    let (_, f) = feedback(app, programme, &app.school_id.to_string()).await;
    let (_, other_f) = feedback(app, other_programme, &id(&other_school)).await;
    for fb in [&f, &other_f] {
        let path = format!("/feedback/{}/moderate", fb["id"]);
        app.post(&path, lead, json!({"moderation": "approved"}))
            .await;
    }
    let (_, spare_user) = app
        .post(
            "/users",
            admin,
            json!({"email": "spare@example.org", "role": "lead", "password": "long enough pw"}),
        )
        .await;
    let (_, token) = app
        .post(
            &format!("/users/{}/tokens", spare_user["id"]),
            admin,
            json!({"label": "spare"}),
        )
        .await;
    let (_, link) = app
        .post(
            &format!("/bookings/{}/feedback-links", booking["id"]),
            lead,
            json!({}),
        )
        .await;
    let (_, feed) = app
        .post(
            &format!("/schools/{}/calendar/regenerate", app.school_id),
            Some(Role::School),
            json!({}),
        )
        .await;
    let local = |url: &Value| {
        let url = url.as_str().expect("a url");
        url[url.find("://").map(|i| i + 3).unwrap_or(0)..]
            .split_once('/')
            .map(|(_, p)| format!("/{p}"))
            .expect("a path")
    };
    let link_path = local(&link["url"]);
    w.insert(
        "link_token",
        link_path.rsplit('/').next().expect("a token").to_string(),
    );
    w.insert("school_feed", local(&feed["url"]));
    // A school's answer after the event, waiting for a lead (made here: the world's events
    // are still to come, so none can be completed).
    let answer_token = "a".repeat(64);
    let (event_id, booking_id, school_id) = (
        e as i32,
        booking["id"].as_i64().expect("a booking") as i32,
        app.school_id,
    );
    let hash = outreach::domain::tokens::hash_secret(&answer_token);
    let answer: i32 = app
        .with_db(move |c| {
            use diesel::prelude::*;
            use outreach::db::schema::event_answers as a;
            let at = outreach::app::now();
            diesel::insert_into(a::table)
                .values((
                    a::event_id.eq(event_id),
                    a::booking_id.eq(booking_id),
                    a::school_id.eq(school_id),
                    a::token_hash.eq(hash),
                    a::expires_at.eq(at + chrono::Duration::days(90)),
                    a::status.eq("pending"),
                    a::pupils.eq(20),
                    a::staff.eq(2),
                    a::other_adults.eq(0),
                    a::asked_at.eq(at),
                    a::answered_at.eq(at),
                ))
                .returning(a::id)
                .get_result(c)
                .expect("an answer")
        })
        .await;
    w.insert("answer", answer.to_string());
    // A live password-reset link of the spare user's.
    let reset_token = "c".repeat(64);
    let (reset_hash, spare_id) = (
        outreach::domain::tokens::hash_secret(&reset_token),
        spare_user["id"].as_i64().expect("a user") as i32,
    );
    app.with_db(move |c| {
        use diesel::prelude::*;
        use outreach::db::schema::login_links as l;
        let at = outreach::app::now();
        diesel::insert_into(l::table)
            .values((
                l::user_id.eq(spare_id),
                l::purpose.eq("reset"),
                l::token_hash.eq(reset_hash),
                l::expires_at.eq(at + chrono::Duration::hours(1)),
                l::created_at.eq(at),
            ))
            .execute(c)
            .expect("a reset link")
    })
    .await;
    w.insert("reset_token", reset_token);
    // A live sign-in link of the school's contact, a live invitation (to a school contact,
    // which a lead may resend and withdraw) and two waiting requests for an account.
    let sign_in_token = "d".repeat(64);
    let invitation_token = "e".repeat(64);
    let (sign_in_hash, invitation_hash, school_user, seed_school) = (
        outreach::domain::tokens::hash_secret(&sign_in_token),
        outreach::domain::tokens::hash_secret(&invitation_token),
        app.school.user_id,
        app.school_id,
    );
    let (invitation, requests) = app
        .with_db(move |c| {
            use diesel::prelude::*;
            use outreach::db::schema::{invitations as i, login_links as l, school_requests as r};
            let at = outreach::app::now();
            diesel::insert_into(l::table)
                .values((
                    l::user_id.eq(school_user),
                    l::purpose.eq("sign_in"),
                    l::token_hash.eq(sign_in_hash),
                    l::expires_at.eq(at + chrono::Duration::minutes(15)),
                    l::created_at.eq(at),
                ))
                .execute(c)
                .expect("a sign-in link");
            let invitation: Vec<i32> = [
                ("invited@example.org", invitation_hash),
                ("spare.invited@example.org", "f".repeat(64)),
            ]
            .into_iter()
            .map(|(email, hash)| {
                diesel::insert_into(i::table)
                    .values((
                        i::email.eq(email),
                        i::role.eq("school"),
                        i::school_id.eq(seed_school),
                        i::token_hash.eq(hash),
                        i::sent_at.eq(at),
                        i::expires_at.eq(at + chrono::Duration::days(7)),
                        i::created_at.eq(at),
                    ))
                    .returning(i::id)
                    .get_result(c)
                    .expect("an invitation")
            })
            .collect();
            let requests: Vec<i32> = ["asker@example.org", "other.asker@example.org"]
                .into_iter()
                .map(|email| {
                    diesel::insert_into(r::table)
                        .values((
                            r::school_id.eq(seed_school),
                            r::name.eq("A Teacher"),
                            r::email.eq(email),
                            r::status.eq("waiting"),
                            r::created_at.eq(at),
                        ))
                        .returning(r::id)
                        .get_result(c)
                        .expect("a request")
                })
                .collect();
            (invitation, requests)
        })
        .await;
    w.insert("sign_in_token", sign_in_token);
    w.insert("invitation_token", invitation_token);
    w.insert("spare_invitation", invitation[1].to_string());
    w.insert("school_request", requests[0].to_string());
    w.insert("spare_school_request", requests[1].to_string());
    w.insert("answer_token", answer_token);
    for (k, v) in [
        ("other_school", &other_school),
        ("spare_school", &spare_school),
        ("other_org", &other_org),
        ("spare_org", &spare_org),
        ("priority", &priority),
        ("venue", &venue),
        ("booking", &booking),
        ("spare_booking", &spare_booking),
        ("other_booking", &other_booking),
        ("slot", &slot),
        ("feedback", &f),
        ("other_feedback", &other_f),
        ("spare_user", &spare_user),
        ("spare_token", &token["token"]),
    ] {
        w.insert(k, id(v));
    }
    for (k, v) in [
        ("programme", programme),
        ("other_programme", other_programme),
        ("spare_programme", spare_programme),
        ("event", e),
        ("spare_event", spare_event),
        ("other_event", other_event),
    ] {
        w.insert(k, v.to_string());
    }
    w
}

/// The lead books 20 pupils and 2 staff of a school on an event.
async fn book_for(app: &TestApp, event: i64, school: &str) -> (StatusCode, Value) {
    let school: i64 = school.parse().expect("an id");
    let body = json!({"school_id": school, "pupils": 20, "staff": 2});
    book(app, event, Role::Lead, body).await
}

/// The lead records a teacher's consented feedback of a school on a programme.
async fn feedback(app: &TestApp, programme: i64, school: &str) -> (StatusCode, Value) {
    let body = json!({"programme_id": programme, "school_id": school.parse::<i64>().expect("an id"),
        "role": "teacher", "quote": "Good", "consent": true});
    app.post("/feedback", Some(Role::Lead), body).await
}

fn fill(path: &str, world: &BTreeMap<&'static str, String>) -> String {
    let mut out = path.to_string();
    for (k, v) in world {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    assert!(
        !out.contains('{'),
        "{path} names something the world has not: {out}"
    );
    out
}

/// What one request answered: the status, where it sent the browser, the body.
async fn call(
    app: &TestApp,
    method: &Method,
    path: &str,
    role: Option<Role>,
) -> (StatusCode, String, String) {
    if let Some(api) = path.strip_prefix("/api/v1") {
        let body = match *method {
            Method::GET => None,
            Method::PUT if api.ends_with("/attendance") => Some(json!([])),
            _ => Some(json!({})),
        };
        let (s, v) = app.api(method.clone(), api, role, body).await;
        return (s, String::new(), v.to_string());
    }
    let (s, headers, body) = if *method == Method::GET {
        app.page(path, role).await
    } else {
        app.form(path, role, &[], true).await
    };
    let location = headers
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_string();
    (s, location, body)
}

fn letter(role: Role) -> char {
    match role {
        Role::School => 'S',
        Role::Lead => 'L',
        Role::Funder => 'F',
        Role::Admin => 'A',
    }
}

both!(every_route_as_every_role);
async fn every_route_as_every_role(app: TestApp) {
    let world = world(&app).await;
    let mut checked = 0;
    let mut wrong = Vec::new();
    for e in expectations() {
        let path = fill(&e.path, &world);
        let public = e.who.contains('P');
        for role in [
            None,
            Some(Role::School),
            Some(Role::Funder),
            Some(Role::Lead),
            Some(Role::Admin),
        ] {
            let (status, location, body) = call(&app, &e.method, &path, role).await;
            checked += 1;
            let to_login = location.starts_with("/login");
            let let_through = !matches!(
                status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
            ) && !to_login;
            let allowed = public || role.is_some_and(|r| e.who.contains(letter(r)));
            let fine = if status.is_server_error() {
                false
            } else if e.who == "N" {
                matches!(
                    status,
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
                )
            } else if public {
                // Signing out sends anyone to the sign-in page.
                !matches!(
                    status,
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
                )
            } else if allowed {
                let_through
            } else if role.is_none() {
                matches!(status, StatusCode::UNAUTHORIZED) || to_login
            } else {
                matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
            };
            if !fine {
                let said: String = body.chars().take(160).collect();
                wrong.push(format!(
                    "{} {path} as {role:?}: {status} {location} (expected {}) {said}",
                    e.method,
                    if allowed { "through" } else { "refused" }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

both!(every_documented_body_field_is_one_the_server_reads);
async fn every_documented_body_field_is_one_the_server_reads(app: TestApp) {
    let world = world(&app).await;
    let doc = serde_json::to_value(outreach::web::api::document()).expect("the document");
    let mut seen = BTreeSet::new();
    let mut checked = 0;
    for e in expectations() {
        let Some(api) = e.path.strip_prefix("/api/v1") else {
            continue;
        };
        let method = e.method.as_str().to_lowercase();
        if !seen.insert((method.clone(), e.route.clone())) {
            continue;
        }
        let schema = &doc["paths"][&e.route][&method]["requestBody"]["content"]["application/json"]
            ["schema"];
        let (properties, array) = match schema["type"].as_str() {
            Some("array") => (&schema["items"]["properties"], true),
            Some("object") => (&schema["properties"], false),
            _ => continue,
        };
        // Every documented field, as null (which the server takes as left out): a field
        // the handler does not read would come back as "is not a field of this request".
        let nulls: serde_json::Map<String, Value> = properties
            .as_object()
            .expect("properties")
            .keys()
            .map(|k| (k.clone(), Value::Null))
            .collect();
        let body = if array {
            json!([nulls])
        } else {
            Value::Object(nulls)
        };
        let path = fill(api, &world);
        let (status, v) = app
            .api(e.method.clone(), &path, Some(Role::Admin), Some(body))
            .await;
        checked += 1;
        let unread: Vec<&String> = v["error"]["fields"]
            .as_object()
            .map(|f| {
                f.iter()
                    .filter(|(_, why)| why.as_str().is_some_and(|w| w.contains("is not a field")))
                    .map(|(k, _)| k)
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            unread.is_empty(),
            "{} {} documents fields it does not read: {unread:?} ({status} {v})",
            e.method,
            e.route
        );
    }
    assert!(checked >= 25, "only {checked} bodies checked");
}
