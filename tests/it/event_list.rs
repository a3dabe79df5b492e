//! `GET /api/v1/events`: every event the caller may see, filtered by programme, kind,
//! status and dates.

use axum::http::StatusCode;
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::{a_programme, event, live_stream};
use crate::harness::TestApp;

fn ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

/// A funded programme with streams on 1 and 2 May 2031 and a draft performance at the
/// seeded school on 3 May; another organisation's programme with a stream on 4 May.
async fn two_funders_events(app: &TestApp) -> (i64, Vec<i64>, i64) {
    let p = a_programme(app).funded().create().await;
    let first = live_stream(app, p, 1, None).await;
    let second = live_stream(app, p, 2, None).await;
    let draft = event(app, p, json!({"kind": "performance", "school_id": app.school_id, "starts_at": "2031-05-03T09:00:00Z", "ends_at": "2031-05-03T10:00:00Z", "status": "draft"})).await;
    let (_, other) = app
        .post(
            "/organisations",
            Some(Role::Admin),
            json!({"name": "Other Trust"}),
        )
        .await;
    let q = a_programme(app)
        .with("organisation_id", other["id"].clone())
        .create()
        .await;
    let theirs = live_stream(app, q, 4, None).await;
    (p, vec![first, second, draft], theirs)
}

both!(events_are_listed_by_filter);
async fn events_are_listed_by_filter(app: TestApp) {
    let (p, ours, theirs) = two_funders_events(&app).await;
    let lead = Some(Role::Lead);
    let (s, all) = app.get("/events", lead).await;
    assert_eq!(s, StatusCode::OK, "{all}");
    assert_eq!(ids(&all), vec![ours[0], ours[1], ours[2], theirs]);
    let (_, mine) = app.get(&format!("/events?programme_id={p}"), lead).await;
    assert_eq!(ids(&mine), ours);
    let (_, streams) = app.get("/events?kind=live_stream&status=open", lead).await;
    assert_eq!(ids(&streams), vec![ours[0], ours[1], theirs]);
    let (_, days) = app.get("/events?from=2031-05-02&to=2031-05-03", lead).await;
    assert_eq!(
        ids(&days),
        vec![ours[1], ours[2]],
        "both days included, in local dates"
    );
    let (_, page) = app.get("/events?per_page=2&page=2", lead).await;
    assert_eq!(
        (ids(&page), page["total"].as_i64()),
        (vec![ours[2], theirs], Some(4))
    );
    let (s, bad) = app.get("/events?kind=circus&from=2031-13-01", lead).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad["error"]["fields"]["kind"].is_string() && bad["error"]["fields"]["from"].is_string()
    );
}

both!(each_role_lists_only_the_events_it_may_see);
async fn each_role_lists_only_the_events_it_may_see(app: TestApp) {
    let (_, ours, theirs) = two_funders_events(&app).await;
    let (_, funder) = app.get("/events", Some(Role::Funder)).await;
    assert_eq!(ids(&funder), ours, "its organisation's programmes only");
    let (_, school) = app.get("/events", Some(Role::School)).await;
    assert_eq!(
        ids(&school),
        vec![ours[0], ours[1], theirs],
        "bookable programmes, no drafts"
    );
    let (s, _) = app.get("/events", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

/// Quotes: the seeded school's published one and its pending one in the seed funder's
/// programme, another school's published one there, and one in another organisation's.
async fn quotes(app: &TestApp) -> (i64, Vec<i64>) {
    let p = a_programme(app).funded().create().await;
    let (_, other_org) = app
        .post(
            "/organisations",
            Some(Role::Admin),
            json!({"name": "Other Trust"}),
        )
        .await;
    let q = a_programme(app)
        .with("organisation_id", other_org["id"].clone())
        .create()
        .await;
    let (_, other_school) = app
        .post(
            "/schools",
            Some(Role::Admin),
            json!({"name": "Other School"}),
        )
        .await;
    let mut made = Vec::new();
    for (programme, school, approve) in [
        (p, json!(app.school_id), true),
        (p, json!(app.school_id), false),
        (p, other_school["id"].clone(), true),
        (q, json!(app.school_id), true),
    ] {
        let body = json!({"programme_id": programme, "school_id": school, "role": "teacher", "quote": "Words", "consent": true});
        let (_, f) = app.post("/feedback", Some(Role::Lead), body).await;
        if approve {
            let path = format!("/feedback/{}/moderate", f["id"]);
            app.post(&path, Some(Role::Lead), json!({"moderation": "approved"}))
                .await;
        }
        made.push(f["id"].as_i64().unwrap());
    }
    (p, made)
}

fn sorted(list: &Value) -> Vec<i64> {
    let mut v = ids(list);
    v.sort();
    v
}

both!(feedback_is_listed_across_programmes_by_who_may_see_it);
async fn feedback_is_listed_across_programmes_by_who_may_see_it(app: TestApp) {
    let (p, f) = quotes(&app).await;
    let lead = Some(Role::Lead);
    let (s, all) = app.get("/feedback", lead).await;
    assert_eq!(s, StatusCode::OK, "{all}");
    assert_eq!(sorted(&all), f);
    let (_, pending) = app.get("/feedback?moderation=pending", lead).await;
    assert_eq!(sorted(&pending), vec![f[1]]);
    let (_, ours) = app
        .get(
            &format!("/feedback?programme_id={p}&school_id={}", app.school_id),
            lead,
        )
        .await;
    assert_eq!(sorted(&ours), vec![f[0], f[1]]);
    let (_, funder) = app.get("/feedback", Some(Role::Funder)).await;
    assert_eq!(
        sorted(&funder),
        vec![f[0], f[2]],
        "published, of its organisation"
    );
    let (_, school) = app.get("/feedback", Some(Role::School)).await;
    assert_eq!(
        sorted(&school),
        vec![f[0], f[3]],
        "published, of its own school"
    );
    let (s, bad) = app.get("/feedback?moderation=maybe", lead).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad["error"]["fields"]["moderation"].is_string());
}

both!(whats_on_as_json_marks_a_schools_own_bookings);
async fn whats_on_as_json_marks_a_schools_own_bookings(app: TestApp) {
    let p = a_programme(&app)
        .funded()
        .between("2031-01-06", "2031-07-18")
        .create()
        .await;
    let booked = live_stream(&app, p, 5, Some(100)).await;
    let free = live_stream(&app, p, 6, Some(100)).await;
    let day = json!({"day": "2031-03-03", "session": "morning"});
    let (_, slot) = app
        .post(&format!("/programmes/{p}/slots"), Some(Role::Lead), day)
        .await;
    app.post(
        &format!("/events/{booked}/bookings"),
        Some(Role::School),
        json!({"pupils": 20, "staff": 2}),
    )
    .await;
    let (s, on) = app.get("/whats-on", Some(Role::School)).await;
    assert_eq!(s, StatusCode::OK, "{on}");
    let events = on["events"]["items"].as_array().unwrap();
    let find = |id: i64| events.iter().find(|o| o["event"]["id"] == id).unwrap();
    assert_eq!(
        find(booked)["yours"],
        json!({"status": "confirmed", "places": 22})
    );
    assert_eq!(find(free)["yours"], Value::Null);
    assert_eq!(find(free)["places_left"], 100);
    assert_eq!(on["tour_dates"][0]["id"], slot["id"]);
    assert_eq!(
        on["tour_dates"][0]["starts_at"],
        "2031-03-03T09:30:00+00:00"
    );
    let ask = format!("/slots/{}/bookings", slot["id"]);
    app.post(&ask, Some(Role::School), json!({"pupils": 60}))
        .await;
    let (_, on) = app.get("/whats-on", Some(Role::School)).await;
    assert_eq!(
        on["tour_dates"],
        json!([]),
        "a date asked for is not offered again"
    );
    let (s, _) = app.get("/whats-on", Some(Role::Funder)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

both!(bookings_download_as_csv_safe_for_spreadsheets);
async fn bookings_download_as_csv_safe_for_spreadsheets(app: TestApp) {
    let p = a_programme(&app).funded().create().await;
    let e = live_stream(&app, p, 5, Some(100)).await;
    let mine = json!({"pupils": 20, "staff": 2, "notes": "=HYPERLINK(\"http://x\")"});
    app.post(&format!("/events/{e}/bookings"), Some(Role::School), mine)
        .await;
    let (_, other) = app
        .post(
            "/schools",
            Some(Role::Admin),
            json!({"name": "Other School"}),
        )
        .await;
    let theirs = json!({"pupils": 5, "school_id": other["id"]});
    app.post(&format!("/events/{e}/bookings"), Some(Role::Lead), theirs)
        .await;
    let csv_of = |role: Role, path: &'static str| {
        let app = &app;
        async move {
            let req = axum::http::Request::builder()
                .uri(format!("/api/v1{path}"))
                .header(
                    "authorization",
                    format!("Bearer {}", app.seeded(role).token),
                )
                .body(axum::body::Body::empty())
                .unwrap();
            let (s, headers, body) = app.send(req).await;
            (s, headers, String::from_utf8(body).unwrap())
        }
    };
    let (s, headers, all) = csv_of(Role::Lead, "/bookings.csv").await;
    assert_eq!(s, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(all.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][4], "Seed School");
    assert_eq!(
        &rows[0][11], "'=HYPERLINK(\"http://x\")",
        "a formula never runs"
    );
    assert_eq!(&rows[0][8], "22");
    let (_, _, own) = csv_of(Role::School, "/bookings.csv").await;
    assert!(
        own.contains("Seed School") && !own.contains("Other School"),
        "{own}"
    );
    let (_, _, none) = csv_of(Role::Lead, "/bookings.csv?status=cancelled").await;
    assert_eq!(none.lines().count(), 1, "the header alone: {none}");
    let (s, _, _) = csv_of(Role::Funder, "/bookings.csv").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
