//! Fixture builders shared by every test module: a programme (`a_programme(&app)…`),
//! events, attendance, schools and venues, made through the API as a person would.

use axum::http::{Method, StatusCode};
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::harness::TestApp;

/// A programme to be made: "Ruby", 2031, unless told otherwise.
pub struct ProgrammeBuilder<'a> {
    app: &'a TestApp,
    body: Value,
}

pub fn a_programme(app: &TestApp) -> ProgrammeBuilder<'_> {
    ProgrammeBuilder {
        app,
        body: json!({"title": "Ruby", "year": 2031}),
    }
}

impl<'a> ProgrammeBuilder<'a> {
    pub fn titled(self, title: &str) -> Self {
        self.with("title", json!(title))
    }

    pub fn year(self, year: i32) -> Self {
        self.with("year", json!(year))
    }

    /// Funded by the seeded organisation (so its funder user may read it).
    pub fn funded(self) -> Self {
        let org = self.app.organisation_id;
        self.with("organisation_id", json!(org))
    }

    /// Between these dates (tour dates must fall inside them).
    pub fn between(self, from: &str, to: &str) -> Self {
        self.with("starts_on", json!(from))
            .with("ends_on", json!(to))
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.body[key] = value;
        self
    }

    pub async fn create(self) -> i64 {
        let (s, p) = self
            .app
            .post("/programmes", Some(Role::Admin), self.body.clone())
            .await;
        assert_eq!(s, StatusCode::CREATED, "{}: {p}", self.body);
        p["id"].as_i64().unwrap()
    }
}

/// An event of a programme, made by the lead; its id.
pub async fn event(app: &TestApp, programme: i64, body: Value) -> i64 {
    let (s, v) = app
        .post(
            &format!("/programmes/{programme}/events"),
            Some(Role::Lead),
            body.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}: {v}");
    v["id"].as_i64().unwrap()
}

/// Asks for places at an event as a role: the status and the answer.
pub async fn book(app: &TestApp, event: i64, role: Role, body: Value) -> (StatusCode, Value) {
    app.post(&format!("/events/{event}/bookings"), Some(role), body)
        .await
}

/// A live stream on a day of May 2031, 10:00–11:00 UTC.
pub async fn live_stream(app: &TestApp, programme: i64, day: u32, capacity: Option<i64>) -> i64 {
    let mut body = json!({"kind": "live_stream",
        "starts_at": format!("2031-05-{day:02}T10:00:00Z"),
        "ends_at": format!("2031-05-{day:02}T11:00:00Z")});
    if let Some(c) = capacity {
        body["capacity"] = json!(c);
    }
    event(app, programme, body).await
}

/// A new venue, the Brewery Arts Centre (250 seats), made by an admin; its id.
pub async fn a_venue(app: &TestApp) -> i64 {
    let (s, v) = app
        .post(
            "/venues",
            Some(Role::Admin),
            json!({"name": "Brewery Arts Centre", "capacity": 250}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

/// A performance at a new venue (the Brewery Arts Centre) of a new programme, in 2030.
pub async fn venue_event(app: &TestApp, capacity: i64, needs_approval: bool) -> i64 {
    let p = a_programme(app).year(2030).funded().create().await;
    let v = a_venue(app).await;
    event(app, p, json!({"kind": "performance", "venue_id": v, "starts_at": "2030-03-15T19:00:00Z", "ends_at": "2030-03-15T20:30:00Z", "capacity": capacity, "needs_approval": needs_approval})).await
}

/// Replaces an event's attendance.
pub async fn attend(app: &TestApp, event: i64, rows: Value) {
    let (s, v) = app
        .api(
            Method::PUT,
            &format!("/events/{event}/attendance"),
            Some(Role::Lead),
            Some(rows),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

/// `n` new schools, "School 00" onwards; their ids.
pub async fn schools(app: &TestApp, n: usize) -> Vec<i64> {
    let mut out = Vec::new();
    for i in 0..n {
        let (_, s) = app
            .post(
                "/schools",
                Some(Role::Admin),
                json!({"name": format!("School {i:02}")}),
            )
            .await;
        out.push(s["id"].as_i64().unwrap());
    }
    out
}

/// Marks an event completed, as the lead.
pub async fn complete(app: &TestApp, event: i64) {
    let (s, v) = app
        .post(
            &format!("/events/{event}/complete"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("completed")),
        "completing event {event}: {v}"
    );
}
