//! What follows for bookings when an event is cancelled or moved, and the reminders before it.

use axum::http::{Method, StatusCode};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::fixtures::{a_programme, schools, venue_event};
use crate::harness::TestApp;

both!(cancelling_an_event_cancels_its_bookings_and_tells_the_schools);
async fn cancelling_an_event_cancels_its_bookings_and_tells_the_schools(app: TestApp) {
    let e = venue_event(&app, 5, false).await;
    let others = schools(&app, 1).await;
    let (_, mine) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::School),
            json!({"pupils": 4}),
        )
        .await;
    let (_, waiting) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::Lead),
            json!({"pupils": 4, "school_id": others[0]}),
        )
        .await;
    assert_eq!(
        (mine["status"].as_str(), waiting["status"].as_str()),
        (Some("confirmed"), Some("waitlisted"))
    );
    let (s, _) = app
        .post(&format!("/events/{e}/cancel"), Some(Role::Lead), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    for id in [&mine["id"], &waiting["id"]] {
        let (_, b) = app.get(&format!("/bookings/{id}"), Some(Role::Lead)).await;
        assert_eq!(b["status"], "cancelled", "{b}");
    }
    let (_, ev) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(ev["places_confirmed"], 0);
    let told: i64 = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::outbox as o;
            o::table
                .filter(o::to_address.eq("school@example.org"))
                .filter(o::subject.eq("Event cancelled"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(told, 1);
}

both!(moving_an_event_tells_the_schools_and_capacity_changes_move_the_queue);
async fn moving_an_event_tells_the_schools_and_capacity_changes_move_the_queue(app: TestApp) {
    let e = venue_event(&app, 4, false).await;
    let others = schools(&app, 1).await;
    app.post(
        &format!("/events/{e}/bookings"),
        Some(Role::School),
        json!({"pupils": 4}),
    )
    .await;
    let (_, waiting) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::Lead),
            json!({"pupils": 3, "school_id": others[0]}),
        )
        .await;
    assert_eq!(waiting["status"], "waitlisted");
    let (s, v) = app.api(Method::PUT, &format!("/events/{e}"), Some(Role::Lead), Some(json!({"starts_at": "2030-03-16T19:00:00Z", "ends_at": "2030-03-16T20:30:00Z", "capacity": 2}))).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "capacity below the places confirmed: {v}"
    );
    let (s, moved) = app.api(Method::PUT, &format!("/events/{e}"), Some(Role::Lead), Some(json!({"starts_at": "2030-03-16T19:00:00Z", "ends_at": "2030-03-16T20:30:00Z", "capacity": 7}))).await;
    assert_eq!(s, StatusCode::OK, "{moved}");
    assert_eq!(
        (moved["sequence"].as_i64(), moved["starts_at"].as_str()),
        (Some(1), Some("2030-03-16T19:00:00+00:00"))
    );
    let (_, w) = app
        .get(&format!("/bookings/{}", waiting["id"]), Some(Role::Lead))
        .await;
    assert_eq!(
        w["status"], "confirmed",
        "the larger capacity moved the queue up"
    );
    let told: i64 = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::outbox as o;
            o::table
                .filter(o::to_address.eq("school@example.org"))
                .filter(o::subject.eq("Event moved"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(told, 1);
    let (s, _) = app
        .api(
            Method::PUT,
            &format!("/events/{e}"),
            Some(Role::School),
            Some(json!({"starts_at": "2030-03-16T19:00:00Z", "ends_at": "2030-03-16T20:30:00Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

both!(schools_are_reminded_once_before_the_event);
async fn schools_are_reminded_once_before_the_event(app: TestApp) {
    let p = a_programme(&app).year(2030).funded().create().await;
    let start = chrono::Utc::now() + chrono::Duration::days(2);
    let (s, e) = app.post(&format!("/programmes/{p}/events"), Some(Role::Lead), json!({"kind": "live_stream", "starts_at": start.to_rfc3339(), "ends_at": (start + chrono::Duration::hours(1)).to_rfc3339()})).await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let far = chrono::Utc::now() + chrono::Duration::days(20);
    let (_, later) = app.post(&format!("/programmes/{p}/events"), Some(Role::Lead), json!({"kind": "live_stream", "starts_at": far.to_rfc3339(), "ends_at": (far + chrono::Duration::hours(1)).to_rfc3339()})).await;
    app.post(
        &format!("/events/{}/bookings", e["id"]),
        Some(Role::School),
        json!({"pupils": 10}),
    )
    .await;
    app.post(
        &format!("/events/{}/bookings", later["id"]),
        Some(Role::School),
        json!({"pupils": 10}),
    )
    .await;
    let rules = app.state.rules();
    assert_eq!(rules.reminder_days, 3);
    let first = app
        .with_db(move |c| outreach::domain::schedule::queue_reminders(c, &rules).unwrap())
        .await;
    let again = app
        .with_db(move |c| outreach::domain::schedule::queue_reminders(c, &rules).unwrap())
        .await;
    assert_eq!(
        (first, again),
        (1, 0),
        "one reminder, for the event within three days, once"
    );
}
