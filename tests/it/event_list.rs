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
