//! Calendars: the subscribable feeds and the month calendar of a programme.

use axum::http::{header, StatusCode};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::fixtures::{a_programme, book, event, live_stream, venue_event};
use crate::harness::TestApp;

/// Makes `role` a new link to a feed (`schools/ID` or `programmes/ID`); the status and the
/// feed's path on the site.
async fn make_link(app: &TestApp, feed: &str, role: Role) -> (StatusCode, String) {
    let (s, link) = app
        .post(
            &format!("/{feed}/calendar/regenerate"),
            Some(role),
            json!({}),
        )
        .await;
    let url = link["url"].as_str().unwrap_or("");
    (s, url.trim_start_matches("http://localhost").to_string())
}

both!(a_school_feed_follows_its_event_without_a_login);
async fn a_school_feed_follows_its_event_without_a_login(app: TestApp) {
    let e = venue_event(&app, 50, false).await;
    app.post(
        &format!("/events/{e}/bookings"),
        Some(Role::School),
        json!({"pupils": 20}),
    )
    .await;
    let feed = format!("schools/{}", app.school_id);
    let (_, info) = app
        .get(&format!("/{feed}/calendar"), Some(Role::School))
        .await;
    assert_eq!(info["made"], false);
    let (s, path) = make_link(&app, &feed, Role::School).await;
    assert_eq!(s, StatusCode::OK);
    let (_, info) = app
        .get(&format!("/{feed}/calendar"), Some(Role::School))
        .await;
    assert_eq!(info["made"], true);
    assert!(
        !info.to_string().contains("calendar/school/"),
        "shown only once"
    );
    let (s, headers, body) = app.page(&path, None).await;
    assert_eq!(s, StatusCode::OK, "no login needed: the token is the key");
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    assert!(body.contains(&format!("UID:event-{e}@localhost")));
    assert!(body.contains("SEQUENCE:0") && body.contains("STATUS:CONFIRMED"));
    // Cancelled: the same UID, a higher SEQUENCE, STATUS:CANCELLED.
    app.post(&format!("/events/{e}/cancel"), Some(Role::Lead), json!({}))
        .await;
    let (_, _, body) = app.page(&path, None).await;
    assert!(body.contains(&format!("UID:event-{e}@localhost")));
    assert!(
        body.contains("SEQUENCE:1") && body.contains("STATUS:CANCELLED"),
        "{body}"
    );
}

both!(a_renewed_school_link_retires_the_old_and_only_a_hash_is_kept);
async fn a_renewed_school_link_retires_the_old_and_only_a_hash_is_kept(app: TestApp) {
    let feed = format!("schools/{}", app.school_id);
    let (_, old) = make_link(&app, &feed, Role::School).await;
    let (_, other) = app
        .post("/schools", Some(Role::Admin), json!({"name": "Other"}))
        .await;
    let (s, _) = app
        .get(
            &format!("/schools/{}/calendar", other["id"]),
            Some(Role::School),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "not another school's");
    let (_, new) = make_link(&app, &feed, Role::School).await;
    assert_ne!(old, new);
    assert_eq!(app.page(&old, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.page(&new, None).await.0, StatusCode::OK);
    let bogus = format!("/calendar/school/{}.ics", "a".repeat(64));
    assert_eq!(app.page(&bogus, None).await.0, StatusCode::NOT_FOUND);
    let secret = new
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_string();
    let hashes: Vec<String> = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::calendar_links as cl;
            cl::table.select(cl::token_hash).load(c).unwrap()
        })
        .await;
    assert!(hashes.contains(&outreach::domain::tokens::hash_secret(&secret)));
    assert!(!hashes.contains(&secret));
}

both!(programme_feeds_are_staff_only_and_each_person_has_their_own);
async fn programme_feeds_are_staff_only_and_each_person_has_their_own(app: TestApp) {
    let e = venue_event(&app, 50, false).await;
    let (_, ev) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    let feed = format!("programmes/{}", ev["programme_id"]);
    let (s, lead_path) = make_link(&app, &feed, Role::Lead).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, body) = app.page(&lead_path, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("Brewery Arts Centre"));
    let (s, _) = make_link(&app, &feed, Role::Admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        app.page(&lead_path, None).await.0,
        StatusCode::OK,
        "another person's new link leaves the lead's"
    );
    for role in [Role::School, Role::Funder] {
        let (s, _) = app.get(&format!("/{feed}/calendar"), Some(role)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role:?}");
        // Making a link is a write: never a school's or a funder's, for a programme.
        assert_eq!(
            make_link(&app, &feed, role).await.0,
            StatusCode::FORBIDDEN,
            "{role:?}"
        );
    }
    assert_eq!(app.page(&lead_path, None).await.0, StatusCode::OK);
    // A link stops working when its owner loses access.
    let (s, _) = app
        .post(
            &format!("/users/{}/archive", app.lead.user_id),
            Some(Role::Admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(app.page(&lead_path, None).await.0, StatusCode::NOT_FOUND);
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

both!(a_school_feed_follows_its_own_bookings);
async fn a_school_feed_follows_its_own_bookings(app: TestApp) {
    let p = a_programme(&app)
        .between("2031-01-06", "2031-07-18")
        .create()
        .await;
    let held = live_stream(&app, p, 5, Some(100)).await;
    let full = live_stream(&app, p, 6, Some(30)).await;
    let dropped = live_stream(&app, p, 7, Some(100)).await;
    let (_, other) = app
        .post(
            "/schools",
            Some(Role::Admin),
            json!({"name": "Other School"}),
        )
        .await;
    let theirs = json!({"school_id": other["id"], "pupils": 20});
    assert_eq!(
        book(&app, full, Role::Lead, theirs).await.0,
        StatusCode::CREATED
    );
    let ours = || json!({"pupils": 20, "staff": 2});
    assert_eq!(
        book(&app, held, Role::School, ours()).await.0,
        StatusCode::CREATED
    );
    let (_, waiting) = book(&app, full, Role::School, ours()).await;
    assert_eq!(waiting["status"], "waitlisted");
    let (_, cancelled) = book(&app, dropped, Role::School, ours()).await;
    let (s, _) = app
        .post(
            &format!("/bookings/{}/cancel", cancelled["id"]),
            Some(Role::School),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, path) = make_link(&app, &format!("schools/{}", app.school_id), Role::School).await;
    let (_, _, body) = app.page(&path, None).await;
    let status_of = |e: i64| {
        let uid = format!("UID:event-{e}@localhost");
        let at = body.find(&uid).unwrap_or_else(|| panic!("{uid} in {body}"));
        let block = &body[..at];
        let start = block.rfind("BEGIN:VEVENT").expect("its event");
        let end = at + body[at..].find("END:VEVENT").expect("its end");
        body[start..end]
            .lines()
            .find_map(|l| l.strip_prefix("STATUS:"))
            .expect("a status")
            .trim()
            .to_string()
    };
    assert_eq!(status_of(held), "CONFIRMED");
    assert_eq!(
        status_of(full),
        "TENTATIVE",
        "a waiting booking is not a promise"
    );
    assert_eq!(
        status_of(dropped),
        "CANCELLED",
        "the school cancelled it; the event goes on"
    );
}

both!(a_new_calendar_link_is_a_link_to_open_and_an_address_to_copy);
async fn a_new_calendar_link_is_a_link_to_open_and_an_address_to_copy(app: TestApp) {
    let (s, _, page) = app
        .form(
            &format!("/schools/{}/calendar/regenerate", app.school_id),
            Some(Role::School),
            &[],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let url = page
        .split("id=\"feed-url\" class=\"secret\" type=\"text\" readonly value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the address, to select and copy without script")
        .to_string();
    assert!(
        url.starts_with("http://localhost/calendar/school/"),
        "{url}"
    );
    let webcal = url.replacen("http://", "webcal://", 1);
    assert!(
        page.contains(&format!("href=\"{webcal}\"")),
        "a link that opens a calendar app"
    );
    assert!(
        page.contains("data-copy=\"feed-url\" hidden"),
        "a copy button for script"
    );
    let path = url.trim_start_matches("http://localhost");
    let (s, _, body) = app.page(path, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.starts_with("BEGIN:VCALENDAR"));
}
