//! What schools and staff are told: every time in the install's zone (Europe/London in
//! the tests), with the place, as text and HTML.

use axum::http::{Method, StatusCode};
use diesel::prelude::*;
use outreach::db::schema::outbox;
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::fixtures::a_programme;
use crate::harness::TestApp;

/// (to, subject, text, html) of every queued message, oldest first.
async fn letters(app: &TestApp) -> Vec<(String, String, String, Option<String>)> {
    app.with_db(|c| {
        outbox::table
            .order(outbox::id.asc())
            .select((
                outbox::to_address,
                outbox::subject,
                outbox::body,
                outbox::body_html,
            ))
            .load(c)
            .unwrap()
    })
    .await
}

both!(a_school_booked_for_ten_in_summer_is_told_ten);
async fn a_school_booked_for_ten_in_summer_is_told_ten(app: TestApp) {
    let p = a_programme(&app).create().await;
    // 09:00 UTC on 10 June is 10:00 in London (BST).
    let (s, e) = app
        .post(
            &format!("/programmes/{p}/events"),
            Some(Role::Lead),
            json!({"kind": "live_stream", "starts_at": "2031-06-10T09:00:00Z", "ends_at": "2031-06-10T10:00:00Z", "capacity": 100}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, b) = app
        .post(
            &format!("/events/{}/bookings", e["id"]),
            Some(Role::School),
            json!({"pupils": 20}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let sent = letters(&app).await;
    let (to, subject, text, html) = &sent[0];
    assert_eq!(to, "school@example.org");
    assert_eq!(subject, "Booking confirmed");
    assert!(text.contains("Tue 10 Jun 2031, 10:00"), "{text}");
    assert!(
        text.contains("Ruby: live stream") && text.contains("Live stream"),
        "{text}"
    );
    assert!(!text.contains("UTC") && !text.contains("09:00"), "{text}");
    let html = html.as_deref().unwrap();
    assert!(html.contains("<p>Your places are confirmed.</p>"), "{html}");
    assert!(html.contains("10:00"));

    // A clash is told in local time too.
    let (s, v) = app
        .post(
            &format!("/programmes/{p}/events"),
            Some(Role::Lead),
            json!({"kind": "live_stream", "starts_at": "2031-06-10T09:30:00Z", "ends_at": "2031-06-10T10:30:00Z"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let why = v["error"]["message"].as_str().unwrap();
    assert!(
        why.contains("10 Jun 2031 10:00") && !why.contains("UTC"),
        "{why}"
    );

    // Moved an hour later: the school is told 11:00.
    let (s, _) = app
        .api(
            Method::PUT,
            &format!("/events/{}", e["id"]),
            Some(Role::Lead),
            Some(json!({"starts_at": "2031-06-10T10:00:00Z", "ends_at": "2031-06-10T11:00:00Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let sent = letters(&app).await;
    let (_, subject, text, _) = sent.last().unwrap();
    assert_eq!(subject, "Event moved");
    assert!(text.contains("11:00") && !text.contains("UTC"), "{text}");
}

both!(a_visit_request_is_told_in_local_time_to_school_and_staff);
async fn a_visit_request_is_told_in_local_time_to_school_and_staff(app: TestApp) {
    let p = a_programme(&app).create().await;
    let (s, slot) = app
        .post(
            &format!("/programmes/{p}/slots"),
            Some(Role::Lead),
            json!({"day": "2031-06-11", "session": "morning"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{slot}");
    let (s, _) = app
        .post(
            &format!("/slots/{}/bookings", slot["id"]),
            Some(Role::School),
            json!({"pupils": 60, "staff": 4}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let sent = letters(&app).await;
    let to_school = sent.iter().find(|l| l.0 == "school@example.org").unwrap();
    assert_eq!(to_school.1, "Visit request received");
    assert!(
        to_school
            .2
            .contains("Wednesday 11 June 2031, morning (09:30\u{2013}12:00)"),
        "{}",
        to_school.2
    );
    let to_staff: Vec<_> = sent
        .iter()
        .filter(|l| l.1 == "A visit request is waiting")
        .collect();
    assert_eq!(to_staff.len(), 2, "the lead and the admin");
    assert!(to_staff[0].2.contains("Seed School asked for a visit"));
}
