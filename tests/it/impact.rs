//! Events, attendance and the impact figures through the API, on both databases.

use axum::http::{Method, StatusCode};
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::{a_programme, attend, complete, event};
use crate::harness::TestApp;

const NARRATIVE: &str = "Ruby and its workshop were taken to nine schools, with 1,520 audience members in 2018. \
In addition, two schools were amongst 135 audience members at a performance at the Brewery Arts Centre. \
Five schools and 290 pupils experienced the performance by live stream.";

pub fn assert_case_study(impact: &Value) {
    let d = &impact["by_delivery"];
    assert_eq!(
        d["in_school"],
        json!({"events": 9, "schools": 9, "audience": 1520, "pupils": 1400}),
        "{impact}"
    );
    assert_eq!(
        (
            d["venue"]["events"].as_i64(),
            d["venue"]["schools"].as_i64(),
            d["venue"]["audience"].as_i64()
        ),
        (Some(1), Some(2), Some(135))
    );
    assert_eq!(
        (
            d["live_stream"]["events"].as_i64(),
            d["live_stream"]["schools"].as_i64(),
            d["live_stream"]["audience"].as_i64()
        ),
        (Some(1), Some(5), Some(290))
    );
    assert_eq!(
        (
            impact["total"]["events"].as_i64(),
            impact["total"]["schools"].as_i64(),
            impact["total"]["audience"].as_i64()
        ),
        (Some(11), Some(16), Some(1945))
    );
    assert_eq!(impact["workshops"]["events"], 9);
    assert_eq!(impact["narrative"], NARRATIVE);
}

pub struct Setup {
    pub programme: i64,
}

/// The case study entered by hand through the API.
pub async fn enter_case_study(app: &TestApp) -> Setup {
    let admin = Some(Role::Admin);
    let mut schools = Vec::new();
    for i in 0..16 {
        let district = ["South Lakeland", "Barrow-in-Furness"][i % 2];
        let body = json!({"name": format!("School {i:02}"), "district": district});
        let (s, v) = app.post("/schools", admin, body).await;
        assert_eq!(s, StatusCode::CREATED);
        schools.push(v["id"].as_i64().unwrap());
    }
    let brewery = json!({"name": "Brewery Arts Centre", "capacity": 250});
    let venue = app.post("/venues", admin, brewery).await.1["id"].clone();
    let programme = a_programme(app)
        .titled("Ruby")
        .year(2018)
        .funded()
        .with("target_schools", json!(10))
        .create()
        .await;
    let in_school = [
        (160, 14),
        (150, 13),
        (155, 14),
        (140, 12),
        (165, 14),
        (150, 13),
        (160, 13),
        (170, 14),
        (150, 13),
    ];
    for (i, (pupils, staff)) in in_school.iter().enumerate() {
        let (day, school) = (format!("2018-02-{:02}", i + 1), schools[i]);
        let show = json!({"kind": "performance", "school_id": school, "starts_at": format!("{day}T09:30:00Z"), "ends_at": format!("{day}T10:30:00Z")});
        let rows = json!([{"school_id": school, "pupils": pupils, "staff": staff, "other": 0}]);
        held(app, programme, show, rows).await;
        let ws = json!({"kind": "workshop", "school_id": school, "starts_at": format!("{day}T10:45:00+00:00"), "ends_at": format!("{day}T12:00:00+00:00")});
        held(
            app,
            programme,
            ws,
            json!([{"school_id": school, "pupils": 30, "staff": 2}]),
        )
        .await;
    }
    let special = json!({"kind": "performance", "venue_id": venue, "starts_at": "2018-03-15T19:00:00Z", "ends_at": "2018-03-15T20:30:00Z", "capacity": 250});
    held(app, programme, special, json!([{"school_id": schools[9], "pupils": 45, "staff": 5, "other": 0}, {"school_id": schools[10], "pupils": 38, "staff": 4, "other": 0}, {"group": "public", "pupils": 0, "staff": 0, "other": 43}])).await;
    let stream = json!({"kind": "live_stream", "starts_at": "2018-03-22T13:30:00Z", "ends_at": "2018-03-22T14:45:00Z"});
    let rows: Vec<Value> = [60, 55, 58, 62, 55]
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"school_id": schools[11 + i], "pupils": p}))
        .collect();
    held(app, programme, stream, Value::Array(rows)).await;
    Setup { programme }
}

/// An event that took place: made, its attendance entered, completed; its id.
pub async fn held(app: &TestApp, programme: i64, body: Value, rows: Value) -> i64 {
    let e = event(app, programme, body).await;
    attend(app, e, rows).await;
    complete(app, e).await;
    e
}

both!(case_study_entered_by_hand_gives_the_same_figures);
async fn case_study_entered_by_hand_gives_the_same_figures(app: TestApp) {
    let setup = enter_case_study(&app).await;
    let (s, impact) = app
        .get(
            &format!("/programmes/{}/impact", setup.programme),
            Some(Role::Funder),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{impact}");
    assert_case_study(&impact);
    assert_eq!(
        impact["targets"][0],
        json!({"measure": "schools", "target": 10, "achieved": 16, "percent": 160})
    );
    let (_, year) = app.get("/impact/years/2018", Some(Role::Funder)).await;
    assert_eq!(year["total"]["audience"], 1945);
    let (_, org) = app
        .get(
            &format!("/organisations/{}/impact", app.organisation_id),
            Some(Role::Funder),
        )
        .await;
    assert_eq!(org["total"]["schools"], 16);
    assert_eq!(org["programmes"][0]["total"]["events"], 11);
}

both!(counting_edge_cases_through_the_api);
async fn counting_edge_cases_through_the_api(app: TestApp) {
    let admin = Some(Role::Admin);
    let p = a_programme(&app).titled("Edge").year(2020).create().await;
    let id = |v: Value| v["id"].as_i64().unwrap();
    let a = id(app.post("/schools", admin, json!({"name": "A"})).await.1);
    let b = id(app.post("/schools", admin, json!({"name": "B"})).await.1);
    let v = id(app.post("/venues", admin, json!({"name": "Hall"})).await.1);
    // A: in school and at the venue; counted once in the total.
    held(&app, p, json!({"kind": "performance", "school_id": a, "starts_at": "2020-01-10T09:00:00Z", "ends_at": "2020-01-10T10:00:00Z"}), json!([{"school_id": a, "pupils": 100, "staff": 5}])).await;
    held(&app, p, json!({"kind": "performance", "venue_id": v, "starts_at": "2020-01-11T19:00:00Z", "ends_at": "2020-01-11T20:00:00Z"}), json!([{"school_id": a, "pupils": 10}, {"school_id": b, "pupils": 0, "staff": 0}, {"group": "public", "other": 40}])).await;
    // B only had a workshop: participants, not audience, not reached.
    held(&app, p, json!({"kind": "workshop", "school_id": b, "starts_at": "2020-01-12T09:00:00Z", "ends_at": "2020-01-12T10:00:00Z"}), json!([{"school_id": b, "pupils": 25, "staff": 1}])).await;
    // A cancelled and an open event with attendance count nothing.
    let e4 = event(&app, p, json!({"kind": "performance", "school_id": b, "starts_at": "2020-01-13T09:00:00Z", "ends_at": "2020-01-13T10:00:00Z"})).await;
    attend(&app, e4, json!([{"school_id": b, "pupils": 500}])).await;
    let (s, _) = app
        .post(&format!("/events/{e4}/cancel"), Some(Role::Lead), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let e5 = event(&app, p, json!({"kind": "performance", "school_id": b, "starts_at": "2020-01-14T09:00:00Z", "ends_at": "2020-01-14T10:00:00Z", "status": "draft"})).await;
    attend(&app, e5, json!([{"school_id": b, "pupils": 700}])).await;
    let (_, impact) = app.get(&format!("/programmes/{p}/impact"), admin).await;
    assert_eq!(
        impact["by_delivery"]["in_school"],
        json!({"events": 1, "schools": 1, "audience": 105, "pupils": 100})
    );
    assert_eq!(
        impact["by_delivery"]["venue"],
        json!({"events": 1, "schools": 1, "audience": 50, "pupils": 10})
    );
    assert_eq!(
        impact["total"],
        json!({"events": 2, "schools": 1, "audience": 155, "pupils": 110})
    );
    assert_eq!(
        impact["workshops"],
        json!({"events": 1, "participants": 26})
    );
}

/// Replaces an event's attendance as `role`: the answer.
async fn put_attendance(app: &TestApp, e: i64, role: Role, body: Value) -> (StatusCode, Value) {
    let path = format!("/events/{e}/attendance");
    app.api(Method::PUT, &path, Some(role), Some(body)).await
}

/// A 2020 programme with an in-school performance at the seeded school, attended by ten
/// pupils and a member of staff: (programme, event).
async fn a_performance_with_attendance(app: &TestApp) -> (i64, i64) {
    let p = a_programme(app).titled("T").year(2020).create().await;
    let s = app.school_id;
    let e = event(app, p, json!({"kind": "performance", "school_id": s, "starts_at": "2020-01-10T09:00:00Z", "ends_at": "2020-01-10T10:00:00Z"})).await;
    attend(app, e, json!([{"school_id": s, "pupils": 10, "staff": 1}])).await;
    (p, e)
}

both!(bad_attendance_is_refused_by_field);
async fn bad_attendance_is_refused_by_field(app: TestApp) {
    let (_, e) = a_performance_with_attendance(&app).await;
    let s = app.school_id;
    let audit_before = app.count("audit_entries").await;
    let cases = [
        (json!([{"school_id": s, "pupils": -1}]), "rows[0].pupils"),
        (
            json!([{"school_id": s, "pupils": "lots"}]),
            "rows[0].pupils",
        ),
        (
            json!([{"school_id": 99999, "pupils": 5}]),
            "rows[0].school_id",
        ),
        (json!([{"pupils": 5}]), "rows[0].school_id"),
        (
            json!([{"school_id": s, "group": "public", "pupils": 5}]),
            "rows[0].group",
        ),
        (
            json!([{"school_id": s, "pupils": 5}, {"school_id": s, "pupils": 6}]),
            "rows[1].school_id",
        ),
        (
            json!([{"group": "x".repeat(101), "other": 5}]),
            "rows[0].group",
        ),
        (
            json!([{"school_id": s, "pupils": 5, "staf": 1}]),
            "rows[0].staf",
        ),
        (json!([{"staf": 1}]), "rows[0].staf"),
    ];
    for (body, field) in cases {
        let (status, v) = put_attendance(&app, e, Role::Lead, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert!(
            v["error"]["fields"][field].is_string(),
            "{body} should name {field}: {v}"
        );
    }
    let (status, _) = put_attendance(&app, e, Role::Lead, json!({"school_id": s})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = put_attendance(&app, 99999, Role::Lead, json!([])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, rows) = app
        .get(&format!("/events/{e}/attendance"), Some(Role::Lead))
        .await;
    assert_eq!(
        rows["items"],
        json!([{"school_id": s, "school_name": "Seed School", "group": null, "pupils": 10, "staff": 1, "other": 0}])
    );
    assert_eq!(app.count("audit_entries").await, audit_before);
}

both!(a_cancelled_event_takes_no_attendance);
async fn a_cancelled_event_takes_no_attendance(app: TestApp) {
    let (_, e) = a_performance_with_attendance(&app).await;
    let (status, _) = app
        .post(&format!("/events/{e}/cancel"), Some(Role::Lead), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let rows = json!([{"school_id": app.school_id, "pupils": 3}]);
    let (status, v) = put_attendance(&app, e, Role::Lead, rows).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(app.count("attendance").await, 1);
}

both!(attendance_corrections_are_audited);
async fn attendance_corrections_are_audited(app: TestApp) {
    let (_, p) = app
        .post(
            "/programmes",
            Some(Role::Admin),
            json!({"title": "T", "year": 2020}),
        )
        .await;
    let p = p["id"].as_i64().unwrap();
    let s = app.school_id;
    let e = event(&app, p, json!({"kind": "performance", "school_id": s, "starts_at": "2020-01-10T09:00:00Z", "ends_at": "2020-01-10T10:00:00Z"})).await;
    attend(&app, e, json!([{"school_id": s, "pupils": 10}])).await;
    attend(&app, e, json!([{"school_id": s, "pupils": 12}])).await;
    let entries: Vec<(Option<String>, Option<String>)> = app
        .with_db(move |c| {
            use diesel::prelude::*;
            use outreach::db::schema::audit_entries as a;
            a::table
                .filter(a::entity.eq("attendance"))
                .filter(a::entity_id.eq(e as i32))
                .order(a::id.asc())
                .select((a::before_value, a::after_value))
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(entries.len(), 2);
    assert!(entries[1].0.as_deref().unwrap().contains("\"pupils\":10"));
    assert!(entries[1].1.as_deref().unwrap().contains("\"pupils\":12"));
}

both!(a_bad_event_is_refused_by_field);
async fn a_bad_event_is_refused_by_field(app: TestApp) {
    let p = a_programme(&app).titled("T").year(2020).create().await;
    let s = app.school_id;
    let before = app.count("events").await;
    let (ten, eleven) = ("2020-01-10T10:00:00Z", "2020-01-10T11:00:00Z");
    let cases = [
        (
            json!({"kind": "performance", "school_id": s, "starts_at": ten, "ends_at": "2020-01-10T09:00:00Z"}),
            "ends_at",
        ),
        (
            json!({"kind": "performance", "school_id": s, "starts_at": "2020-01-10T10:00:00", "ends_at": eleven}),
            "starts_at",
        ),
        (
            json!({"kind": "live_stream", "school_id": s, "starts_at": ten, "ends_at": eleven}),
            "school_id",
        ),
        (
            json!({"kind": "performance", "starts_at": ten, "ends_at": eleven}),
            "school_id",
        ),
        (
            json!({"kind": "performance", "school_id": 99999, "starts_at": ten, "ends_at": eleven}),
            "school_id",
        ),
        (
            json!({"kind": "circus", "school_id": s, "starts_at": ten, "ends_at": eleven}),
            "kind",
        ),
        (
            json!({"kind": "performance", "school_id": s, "starts_at": ten, "ends_at": eleven, "capacity": -1}),
            "capacity",
        ),
    ];
    for (body, field) in cases {
        let path = format!("/programmes/{p}/events");
        let (status, v) = app.post(&path, Some(Role::Lead), body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert!(
            v["error"]["fields"][field].is_string(),
            "{body} should name {field}: {v}"
        );
    }
    let stream = json!({"kind": "live_stream", "starts_at": ten, "ends_at": eleven});
    let (status, _) = app
        .post("/programmes/99999/events", Some(Role::Lead), stream)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("events").await, before);
}

both!(events_keep_offsets_and_follow_their_life);
async fn events_keep_offsets_and_follow_their_life(app: TestApp) {
    let p = a_programme(&app).titled("T").year(2020).create().await;
    // Times keep their instant: 09:00 at UTC+2 is 07:00 UTC, told as 08:00 in London's June.
    let e = event(&app, p, json!({"kind": "live_stream", "starts_at": "2020-06-10T09:00:00+02:00", "ends_at": "2020-06-10T10:00:00+02:00"})).await;
    let (_, v) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(v["starts_at"], "2020-06-10T08:00:00+01:00");
    let future = event(&app, p, json!({"kind": "live_stream", "starts_at": "2999-01-10T10:00:00Z", "ends_at": "2999-01-10T11:00:00Z"})).await;
    let (status, _) = app
        .post(
            &format!("/events/{future}/complete"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an event that has not started cannot be completed"
    );
    complete(&app, e).await;
    let (status, _) = app
        .post(&format!("/events/{e}/cancel"), Some(Role::Lead), json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a completed event cannot be cancelled"
    );
}

/// A programme of the seed funder ("Mine") with a live stream, and one of another
/// organisation ("Theirs"): (mine, its event, theirs, the other organisation).
async fn mine_and_theirs(app: &TestApp) -> (i64, i64, i64, Value) {
    let p = a_programme(app)
        .titled("Mine")
        .year(2020)
        .funded()
        .create()
        .await;
    let (_, other_org) = app
        .post(
            "/organisations",
            Some(Role::Admin),
            json!({"name": "Other"}),
        )
        .await;
    let q = a_programme(app)
        .titled("Theirs")
        .year(2020)
        .with("organisation_id", other_org["id"].clone())
        .create()
        .await;
    let e = event(app, p, json!({"kind": "live_stream", "starts_at": "2020-01-10T10:00:00Z", "ends_at": "2020-01-10T11:00:00Z"})).await;
    (p, e, q, other_org["id"].clone())
}

both!(schools_and_funders_cannot_deliver);
async fn schools_and_funders_cannot_deliver(app: TestApp) {
    let (p, e, _, _) = mine_and_theirs(&app).await;
    let body = json!({"kind": "live_stream", "starts_at": "2020-01-10T10:00:00Z", "ends_at": "2020-01-10T11:00:00Z"});
    for role in [Role::School, Role::Funder] {
        let (s, _) = app
            .post(&format!("/programmes/{p}/events"), Some(role), body.clone())
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = put_attendance(&app, e, role, json!([])).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .post(&format!("/events/{e}/complete"), Some(role), json!({}))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
}

both!(delivery_roles);
async fn delivery_roles(app: TestApp) {
    let (p, _, q, other_org) = mine_and_theirs(&app).await;
    let impact = |id: i64| format!("/programmes/{id}/impact");
    let (s, _) = app.get(&impact(p), Some(Role::School)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app.get(&impact(p), Some(Role::Funder)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.get(&impact(q), Some(Role::Funder)).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a funder never sees another organisation's figures"
    );
    let (s, _) = app
        .get(
            &format!("/organisations/{other_org}/impact"),
            Some(Role::Funder),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.get(&impact(p), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}
