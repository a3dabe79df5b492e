//! Calendars: the subscribable feeds and the month calendar of a programme.

use axum::http::{header, StatusCode};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::fixtures::{a_programme, event, venue_event};
use crate::harness::TestApp;

both!(calendar_feeds_follow_the_events);
async fn calendar_feeds_follow_the_events(app: TestApp) {
    let e = venue_event(&app, 50, false).await;
    app.post(
        &format!("/events/{e}/bookings"),
        Some(Role::School),
        json!({"pupils": 20}),
    )
    .await;
    let (s, info) = app
        .get(
            &format!("/schools/{}/calendar", app.school_id),
            Some(Role::School),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{info}");
    assert_eq!(info["made"], false);
    let (s, link) = app
        .post(
            &format!("/schools/{}/calendar/regenerate", app.school_id),
            Some(Role::School),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{link}");
    let (_, info) = app
        .get(
            &format!("/schools/{}/calendar", app.school_id),
            Some(Role::School),
        )
        .await;
    assert_eq!(info["made"], true);
    assert!(
        !info.to_string().contains("calendar/school/"),
        "the secret is shown only once"
    );
    let url = link["url"].as_str().unwrap().to_string();
    let path = url.trim_start_matches("http://localhost").to_string();
    let (s, headers, body) = app.page(&path, None).await;
    assert_eq!(s, StatusCode::OK, "no login needed: the token is the key");
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    assert!(body.contains("BEGIN:VCALENDAR") && body.contains(&format!("UID:event-{e}@localhost")));
    assert!(body.contains("SEQUENCE:0") && body.contains("STATUS:CONFIRMED"));
    // Cancelled: the same UID, a higher SEQUENCE, STATUS:CANCELLED.
    app.post(&format!("/events/{e}/cancel"), Some(Role::Lead), json!({}))
        .await;
    let (_, _, body) = app.page(&path, None).await;
    assert!(
        body.contains(&format!("UID:event-{e}@localhost"))
            && body.contains("SEQUENCE:1")
            && body.contains("STATUS:CANCELLED"),
        "{body}"
    );
    // Another school cannot read this school's link; a renewed link retires the old one.
    let (_, other) = app
        .post("/schools", Some(Role::Admin), json!({"name": "Other"}))
        .await;
    let (s, _) = app
        .get(
            &format!("/schools/{}/calendar", other["id"]),
            Some(Role::School),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, renewed) = app
        .post(
            &format!("/schools/{}/calendar/regenerate", app.school_id),
            Some(Role::School),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_ne!(renewed["url"], link["url"]);
    let (s, _, _) = app.page(&path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = app
        .page(&format!("/calendar/school/{}.ics", "a".repeat(64)), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Only a hash of each secret is stored.
    let secret = renewed["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_string();
    let hashes: Vec<String> = app
        .with_db(|c| {
            use diesel::prelude::*;
            outreach::db::schema::calendar_links::table
                .select(outreach::db::schema::calendar_links::token_hash)
                .load(c)
                .unwrap()
        })
        .await;
    assert!(hashes.contains(&outreach::domain::tokens::hash_secret(&secret)));
    assert!(!hashes.contains(&secret));
    // The programme's feed, for staff, each with a link of their own.
    let (_, ev) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    let programme = ev["programme_id"].as_i64().unwrap();
    let (s, plink) = app
        .post(
            &format!("/programmes/{programme}/calendar/regenerate"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let lead_path = plink["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://localhost")
        .to_string();
    let (s, _, body) = app.page(&lead_path, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("Brewery Arts Centre"));
    let (s, _) = app
        .post(
            &format!("/programmes/{programme}/calendar/regenerate"),
            Some(Role::Admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = app.page(&lead_path, None).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "another person's new link leaves the lead's working"
    );
    for role in [Role::School, Role::Funder] {
        let (s, _) = app
            .get(&format!("/programmes/{programme}/calendar"), Some(role))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role:?}");
        // Regenerating is a write: never a school's or a funder's to make for a programme.
        let (s, _) = app
            .post(
                &format!("/programmes/{programme}/calendar/regenerate"),
                Some(role),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role:?}");
    }
    let (s, _, _) = app.page(&lead_path, None).await;
    assert_eq!(s, StatusCode::OK, "the lead's link still works");
    // A link stops working when its owner loses access.
    let (s, _) = app
        .post(
            &format!("/users/{}/archive", app.lead.user_id),
            Some(Role::Admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = app.page(&lead_path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

both!(month_calendar_shows_dates_and_events_with_their_state);
async fn month_calendar_shows_dates_and_events_with_their_state(app: TestApp) {
    let p = a_programme(&app)
        .titled("County Lines")
        .year(2030)
        .between("2030-01-07", "2030-07-19")
        .create()
        .await;
    app.post(
        &format!("/programmes/{p}/slots"),
        Some(Role::Lead),
        json!({"day": "2030-02-04", "session": "morning"}),
    )
    .await;
    let e = event(&app, p, json!({"kind": "live_stream", "starts_at": "2030-02-06T13:30:00Z", "ends_at": "2030-02-06T14:30:00Z"})).await;
    app.post(&format!("/events/{e}/cancel"), Some(Role::Lead), json!({}))
        .await;
    let (s, _, page) = app
        .page(
            &format!("/programmes/{p}/calendar?month=2030-02"),
            Some(Role::Lead),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("February 2030"));
    assert!(page.contains("Tour date (morning)") && page.contains("cal-item status-open"));
    assert!(page.contains(&format!("/events/{e}")) && page.contains("cal-item status-cancelled"));
    let (_, _, march) = app
        .page(
            &format!("/programmes/{p}/calendar?month=2030-03"),
            Some(Role::Lead),
        )
        .await;
    assert!(!march.contains("Tour date (morning)"));
    let (_, _, default) = app
        .page(&format!("/programmes/{p}/calendar"), Some(Role::Lead))
        .await;
    assert!(
        default.contains("February 2030"),
        "opens on the month of the next date"
    );
    let (s, _, _) = app
        .page(
            &format!("/programmes/{p}/calendar?month=nonsense"),
            Some(Role::Lead),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = app
        .page(&format!("/programmes/{p}/calendar"), Some(Role::School))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
