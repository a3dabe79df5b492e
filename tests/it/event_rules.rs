//! The rules of an event, one set for pages and API: a venue's capacity, the programme's
//! dates, attendance once it has started, and answers that tell the state after a change.

use axum::http::{Method, StatusCode};
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::{a_programme, live_stream, schools};
use crate::harness::TestApp;

/// A hall for 120 of a programme touring 6 January to 18 July 2031: (programme, hall).
async fn a_hall(app: &TestApp) -> (i64, Value) {
    let p = a_programme(app)
        .funded()
        .between("2031-01-06", "2031-07-18")
        .create()
        .await;
    let body = json!({"name": "Kendal Hall", "capacity": 120});
    let (_, hall) = app.post("/venues", Some(Role::Admin), body).await;
    (p, hall["id"].clone())
}

fn at_the_hall(hall: &Value, capacity: Option<i64>) -> Value {
    let mut body = json!({"kind": "performance", "venue_id": hall, "starts_at": "2031-03-10T19:00:00Z", "ends_at": "2031-03-10T20:30:00Z"});
    if let Some(c) = capacity {
        body["capacity"] = json!(c);
    }
    body
}

both!(an_event_at_a_venue_holds_at_most_the_venue);
async fn an_event_at_a_venue_holds_at_most_the_venue(app: TestApp) {
    let (p, hall) = a_hall(&app).await;
    let path = format!("/programmes/{p}/events");
    let (s, v) = app
        .post(&path, Some(Role::Lead), at_the_hall(&hall, Some(500)))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        v["error"]["fields"]["capacity"],
        "Kendal Hall holds 120; an event there can have at most 120 places"
    );
    let (s, e) = app
        .post(&path, Some(Role::Lead), at_the_hall(&hall, None))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    assert_eq!(e["capacity"], 120, "the venue's capacity by default");
    let change = json!({"starts_at": e["starts_at"], "ends_at": e["ends_at"], "capacity": 121});
    let (s, v) = app
        .api(
            Method::PUT,
            &format!("/events/{}", e["id"]),
            Some(Role::Lead),
            Some(change),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(app.count("events").await, 1);
}

both!(events_keep_to_the_programmes_dates);
async fn events_keep_to_the_programmes_dates(app: TestApp) {
    let (p, _) = a_hall(&app).await;
    let path = format!("/programmes/{p}/events");
    let late = json!({"kind": "live_stream", "starts_at": "2031-09-01T10:00:00Z", "ends_at": "2031-09-01T11:00:00Z"});
    let (s, v) = app.post(&path, Some(Role::Lead), late).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        v["error"]["fields"]["starts_at"],
        "is outside the programme's dates (6 Jan 2031 to 18 Jul 2031)"
    );
    let e = live_stream(&app, p, 5, None).await;
    let moved = json!({"starts_at": "2031-12-01T10:00:00Z", "ends_at": "2031-12-01T11:00:00Z"});
    let (s, v) = app
        .api(
            Method::PUT,
            &format!("/events/{e}"),
            Some(Role::Lead),
            Some(moved),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (_, still) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(still["starts_at"], "2031-05-05T11:00:00+01:00", "unmoved");
}

both!(attendance_waits_for_the_event_to_start);
async fn attendance_waits_for_the_event_to_start(app: TestApp) {
    let p = a_programme(&app).funded().create().await;
    let e = live_stream(&app, p, 5, None).await;
    let rows = json!([{"school_id": app.school_id, "pupils": 30}]);
    let path = format!("/events/{e}/attendance");
    let (s, v) = app
        .api(Method::PUT, &path, Some(Role::Lead), Some(rows))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        v["error"]["fields"]["event"],
        "attendance can be entered once the event has started"
    );
    assert_eq!(app.count("attendance").await, 0);
    let (_, _, page) = app.page(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert!(page.contains("Attendance can be entered once the event has started"));
    assert!(!page.contains("Save attendance"));
}

both!(a_change_answers_the_state_after_it);
async fn a_change_answers_the_state_after_it(app: TestApp) {
    let (p, hall) = a_hall(&app).await;
    let path = format!("/programmes/{p}/events");
    let (_, e) = app
        .post(&path, Some(Role::Lead), at_the_hall(&hall, Some(10)))
        .await;
    let ids = schools(&app, 2).await;
    for school in &ids {
        let body = json!({"school_id": school, "pupils": 7, "staff": 1});
        app.post(
            &format!("/events/{}/bookings", e["id"]),
            Some(Role::Lead),
            body,
        )
        .await;
    }
    let bigger = json!({"starts_at": e["starts_at"], "ends_at": e["ends_at"], "capacity": 20});
    let (s, after) = app
        .api(
            Method::PUT,
            &format!("/events/{}", e["id"]),
            Some(Role::Lead),
            Some(bigger),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{after}");
    assert_eq!(after["capacity"], 20);
    assert_eq!(
        after["places_confirmed"], 16,
        "the waiting school moved up: {after}"
    );
}

both!(a_booking_that_has_taken_place_is_not_cancelled);
async fn a_booking_that_has_taken_place_is_not_cancelled(app: TestApp) {
    let p = a_programme(&app).funded().create().await;
    let e = live_stream(&app, p, 5, None).await;
    let path = format!("/events/{e}/bookings");
    let (_, b) = app
        .post(&path, Some(Role::School), json!({"pupils": 30}))
        .await;
    // The stream took place yesterday.
    app.with_db(move |c| {
        use diesel::prelude::*;
        use outreach::db::schema::events;
        let yesterday = outreach::app::now() - chrono::Duration::days(1);
        diesel::update(events::table.find(e as i32))
            .set((
                events::starts_at.eq(yesterday),
                events::ends_at.eq(yesterday + chrono::Duration::hours(1)),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    let (_, _, page) = app.page("/bookings", Some(Role::Lead)).await;
    assert!(
        !page.contains(&format!("/bookings/{}/cancel", b["id"])),
        "no Cancel button"
    );
    let cancel = format!("/bookings/{}/cancel", b["id"]);
    let (s, v) = app.post(&cancel, Some(Role::Lead), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(
        v["error"]["message"],
        "it has already started, so it can no longer be cancelled"
    );
}

both!(whats_on_shows_a_school_its_own_booking);
async fn whats_on_shows_a_school_its_own_booking(app: TestApp) {
    let p = a_programme(&app).funded().create().await;
    let e = live_stream(&app, p, 5, Some(100)).await;
    let (_, _, before) = app.page("/whats-on", Some(Role::School)).await;
    assert!(before.contains(&format!("/events/{e}/book")));
    let path = format!("/events/{e}/bookings");
    app.post(&path, Some(Role::School), json!({"pupils": 30, "staff": 3}))
        .await;
    let (_, _, after) = app.page("/whats-on", Some(Role::School)).await;
    assert!(
        after.contains("You have booked 33 places: confirmed."),
        "{after}"
    );
    assert!(
        !after.contains(&format!("/events/{e}/book")),
        "not offered again"
    );
    let (_, _, lead) = app.page("/whats-on", Some(Role::Lead)).await;
    assert!(
        lead.contains(&format!("/events/{e}/book")),
        "staff book for any school"
    );
}
