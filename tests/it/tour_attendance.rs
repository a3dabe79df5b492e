//! A tour's attendance at once: the CSV upload (preview, all or nothing), its template,
//! and the page with every held event.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use diesel::prelude::*;
use outreach::db::schema::attendance;
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::a_programme;
use crate::harness::TestApp;

/// Sends a CSV to the API as the lead.
async fn upload(app: &TestApp, programme: i64, dry: bool, csv: &str) -> (StatusCode, Value) {
    let q = if dry { "?dry_run=true" } else { "" };
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/programmes/{programme}/attendance.csv{q}"))
        .header(header::AUTHORIZATION, format!("Bearer {}", app.lead.token))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv.to_string()))
        .expect("request");
    let (s, _, bytes) = app.send(req).await;
    (s, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn rows(app: &TestApp) -> Vec<(i32, Option<i32>, Option<String>, i32, i32, i32)> {
    app.with_db(|c| {
        attendance::table
            .order((attendance::event_id.asc(), attendance::id.asc()))
            .select((
                attendance::event_id,
                attendance::school_id,
                attendance::group_name,
                attendance::pupils,
                attendance::staff,
                attendance::other_adults,
            ))
            .load(c)
            .unwrap_or_default()
    })
    .await
}

/// A programme with two events held (a venue performance yesterday, a live stream the day
/// before) and one still to come; a second school, URN 900002.
async fn tour(app: &TestApp) -> (i64, i64, i64, i64, i64) {
    let p = a_programme(app).create().await;
    let (_, venue) = app
        .post(
            "/venues",
            Some(Role::Admin),
            json!({"name": "Hall", "capacity": 300}),
        )
        .await;
    let at = |days: i64| chrono::Utc::now() + chrono::Duration::days(days);
    let make = |body: Value| async move {
        let (s, e) = app
            .post(&format!("/programmes/{p}/events"), Some(Role::Lead), body)
            .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        e["id"].as_i64().expect("an event")
    };
    let show = make(json!({"kind": "performance", "venue_id": venue["id"], "starts_at": at(-1).to_rfc3339(), "ends_at": (at(-1) + chrono::Duration::hours(1)).to_rfc3339()})).await;
    let stream = make(json!({"kind": "live_stream", "starts_at": at(-2).to_rfc3339(), "ends_at": (at(-2) + chrono::Duration::hours(1)).to_rfc3339()})).await;
    let coming = make(json!({"kind": "live_stream", "starts_at": at(9).to_rfc3339(), "ends_at": (at(9) + chrono::Duration::hours(1)).to_rfc3339()})).await;
    let (_, other) = app
        .post(
            "/schools",
            Some(Role::Admin),
            json!({"name": "Second School", "urn": 900002}),
        )
        .await;
    (
        p,
        show,
        stream,
        coming,
        other["id"].as_i64().expect("a school"),
    )
}

both!(a_csv_is_previewed_then_written_all_or_nothing);
async fn a_csv_is_previewed_then_written_all_or_nothing(app: TestApp) {
    let (p, show, stream, coming, other) = tour(&app).await;
    let elsewhere = a_programme(&app).titled("Elsewhere").create().await;
    let (_, foreign) = app
        .post(
            &format!("/programmes/{elsewhere}/events"),
            Some(Role::Lead),
            json!({"kind": "live_stream", "starts_at": "2020-01-01T10:00:00Z", "ends_at": "2020-01-01T11:00:00Z"}),
        )
        .await;
    let foreign = foreign["id"].as_i64().unwrap_or_default();
    // A row already there for the second school, left alone by what follows.
    app.api(
        Method::PUT,
        &format!("/events/{show}/attendance"),
        Some(Role::Lead),
        Some(json!([{"school_id": other, "pupils": 40, "staff": 3, "other": 0}])),
    )
    .await;
    let bad = format!(
        "event_id,urn,group,pupils,staff,other\n\
         {show},900001,,55,4,0\n\
         {stream},,public,0,0,40\n\
         {show},999999,,10,1,0\n\
         {coming},900001,,10,1,0\n\
         {foreign},900001,,10,1,0\n\
         {stream},900001,,lots,1,0\n\
         {show},900001,,56,4,0\n\
         {stream},900001,public,5,0,0\n"
    );
    let (s, preview) = upload(&app, p, true, &bad).await;
    assert_eq!(s, StatusCode::OK, "{preview}");
    assert_eq!(
        preview["changes"].as_array().map(Vec::len),
        Some(2),
        "{preview}"
    );
    let refused: Vec<i64> = preview["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["line"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(refused, vec![4, 5, 6, 7, 8, 9], "{preview}");
    let reasons = preview["errors"].to_string();
    for why in [
        "URN 999999",
        "has not started",
        "not in this programme",
        "whole number",
        "repeats line 2",
        "not both",
    ] {
        assert!(reasons.contains(why), "{why}: {reasons}");
    }
    let before = rows(&app).await;
    // Written: refused as a whole, nothing changes.
    let (s, v) = upload(&app, p, false, &bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"]["fields"]["line 4"].is_string(), "{v}");
    assert_eq!(rows(&app).await, before);
    // The good lines alone: written, each event's change in its history.
    let good = format!(
        "event_id,urn,group,pupils,staff,other\n{show},900001,,55,4,0\n{stream},,public,0,0,40\n"
    );
    let (s, v) = upload(&app, p, false, &good).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["changes"][0]["before"], Value::Null);
    assert_eq!(
        v["changes"][0]["after"],
        json!({"pupils": 55, "staff": 4, "other": 0})
    );
    let school = app.school_id;
    assert_eq!(
        rows(&app).await,
        vec![
            (show as i32, Some(other as i32), None, 40, 3, 0),
            (show as i32, Some(school), None, 55, 4, 0),
            (stream as i32, None, Some("public".to_string()), 0, 0, 40),
        ]
    );
    // Again with a correction: the preview says what it was.
    let fix = format!("event_id,urn,pupils\n{show},900001,58\n");
    let (_, preview) = upload(&app, p, true, &fix).await;
    assert_eq!(
        preview["changes"][0]["before"],
        json!({"pupils": 55, "staff": 4, "other": 0})
    );
    assert_eq!(
        preview["changes"][0]["after"],
        json!({"pupils": 58, "staff": 0, "other": 0})
    );
    // An event named by its day and kind instead of its number (as the template reads).
    let day = (chrono::Utc::now() - chrono::Duration::days(1))
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive();
    let by_day = format!(
        "event_id,date,kind,urn,pupils
,{day} 23:59,performance,900001,1
,{day},performance,900001,57
,{day},workshop,900001,5
"
    );
    let (_, preview) = upload(&app, p, true, &by_day).await;
    assert_eq!(preview["changes"][0]["event_id"], show, "{preview}");
    assert_eq!(preview["changes"][0]["after"]["pupils"], 57);
    let refused = preview["errors"].to_string();
    assert!(
        refused.contains("no performance on") && refused.contains("no workshop on"),
        "{refused}"
    );
    // A file with no event_id column is refused with its header named.
    let (s, v) = upload(&app, p, false, "urn,pupils\n900001,5\n").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["error"]["fields"]["line 1"]
            .as_str()
            .unwrap_or("")
            .contains("event_id"),
        "{v}"
    );
}

both!(the_tour_page_saves_every_event_at_once);
async fn the_tour_page_saves_every_event_at_once(app: TestApp) {
    let (p, show, stream, coming, _) = tour(&app).await;
    let (s, _, page) = app
        .page(&format!("/programmes/{p}/attendance"), Some(Role::Lead))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains(&format!("/events/{show}\""))
            && page.contains(&format!("/events/{stream}\"")),
        "{page}"
    );
    assert!(
        !page.contains(&format!("/events/{coming}\"")),
        "an event still to come has no row"
    );
    // Row 0 is the performance's spare row, row 1 the stream's (each event, then a spare).
    let (event0, event1) = (show.to_string(), stream.to_string());
    let fields = |pupils0: &'static str, school0: &'static str| {
        vec![
            ("rows", "2".to_string()),
            ("event_0", event0.clone()),
            ("school_0", school0.to_string()),
            ("pupils_0", pupils0.to_string()),
            ("staff_0", "3".to_string()),
            ("event_1", event1.clone()),
            ("group_1", "public".to_string()),
            ("other_1", "25".to_string()),
        ]
    };
    // A school nobody knows: the row says so, and nothing is saved for either event.
    let sent = fields("30", "No Such School At All");
    let sent: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, _, page) = app
        .form(
            &format!("/programmes/{p}/attendance"),
            Some(Role::Lead),
            &sent,
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("nothing was saved"), "{page}");
    assert!(rows(&app).await.is_empty());
    let sent = fields("30", "900001");
    let sent: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, _, _) = app
        .form(
            &format!("/programmes/{p}/attendance"),
            Some(Role::Lead),
            &sent,
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let school = app.school_id;
    assert_eq!(
        rows(&app).await,
        vec![
            (show as i32, Some(school), None, 30, 3, 0),
            (stream as i32, None, Some("public".to_string()), 0, 0, 25),
        ]
    );

    // The file on the page: checked first (nothing written), then written on confirming.
    let csv = format!("event_id,urn,group,pupils,staff,other\n{show},900001,,31,3,0\n");
    let (s, _, page) = app
        .form(
            &format!("/programmes/{p}/attendance/upload"),
            Some(Role::Lead),
            &[("csv", &csv)],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Write these 1 changes"), "{page}");
    assert_eq!(rows(&app).await[0].3, 30);
    let (s, _, _) = app
        .form(
            &format!("/programmes/{p}/attendance/upload"),
            Some(Role::Lead),
            &[("csv", &csv), ("apply", "true")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(rows(&app).await[0].3, 31);

    // Clearing a row's numbers removes it; the other event is left as it was.
    let (_, _, page) = app
        .page(&format!("/programmes/{p}/attendance"), Some(Role::Lead))
        .await;
    assert!(page.contains("value=\"public\""), "{page}");
    let sent = [
        ("rows", "2"),
        ("event_0", event0.as_str()),
        ("school_0", "900001"),
        ("pupils_0", "31"),
        ("staff_0", "3"),
        ("other_0", "0"),
        ("event_1", event1.as_str()),
        ("group_1", "public"),
    ];
    let (s, _, _) = app
        .form(
            &format!("/programmes/{p}/attendance"),
            Some(Role::Lead),
            &sent,
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        rows(&app).await,
        vec![(show as i32, Some(school), None, 31, 3, 0)]
    );

    // The template: each held event, with the school booked and what it booked.
    let (s, headers, csv) = app
        .page(&format!("/programmes/{p}/attendance.csv"), Some(Role::Lead))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap_or("")
        .starts_with("text/csv"));
    assert!(
        csv.starts_with("event_id,date,kind,place,urn,school,group,pupils,staff,other"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!("\n{show},")) && !csv.contains(&format!("\n{coming},")),
        "{csv}"
    );
    // Sent back as it came, the template changes nothing and refuses nothing.
    let (s, back) = upload(&app, p, true, &csv).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (back["changes"].clone(), back["errors"].clone()),
        (json!([]), json!([])),
        "{back}"
    );
}
