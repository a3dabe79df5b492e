//! Every API error has one JSON shape, whatever refused the request: the domain, or the
//! router before a handler ran (a path or query value, a method, an address).

use axum::http::{Method, StatusCode};
use outreach::domain::types::Role;
use serde_json::Value;

use crate::both;
use crate::harness::TestApp;

fn assert_error_shape(v: &Value, code: &str) {
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    assert!(v["error"]["fields"].is_object(), "{v}");
}

both!(refusals_before_a_handler_are_json_too);
async fn refusals_before_a_handler_are_json_too(app: TestApp) {
    let lead = Some(Role::Lead);
    let (s, v) = app.api(Method::GET, "/programmes/abc", lead, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error_shape(&v, "bad_request");
    let (s, v) = app
        .api(Method::GET, "/bookings?event_id=abc", lead, None)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_error_shape(&v, "invalid");
    let (s, v) = app
        .api(
            Method::GET,
            "/programmes/1/events?page=1&per_page=%ZZ",
            lead,
            None,
        )
        .await;
    assert!(s.is_client_error() || s.is_success(), "{s} {v}");
    if s.is_client_error() {
        assert!(v["error"]["code"].is_string(), "{v}");
    }
    let (s, v) = app.api(Method::GET, "/no-such-thing", lead, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error_shape(&v, "not_found");
    let (s, v) = app.api(Method::DELETE, "/programmes", lead, None).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_error_shape(&v, "method_not_allowed");
    let (s, v) = app.api(Method::GET, "/programmes/999999", lead, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error_shape(&v, "not_found");
}

both!(a_field_nobody_reads_is_refused_by_name);
async fn a_field_nobody_reads_is_refused_by_name(app: TestApp) {
    let (_, f) = app
        .post(
            "/feedback",
            Some(Role::Lead),
            serde_json::json!({"programme_id": crate::fixtures::a_programme(&app).create().await, "role": "teacher", "quote": "Good", "consent": true}),
        )
        .await;
    let path = format!("/feedback/{}/moderate", f["id"]);
    let (s, v) = app
        .post(
            &path,
            Some(Role::Lead),
            serde_json::json!({"state": "approved"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        v["error"]["fields"]["state"],
        "is not a field of this request"
    );
    let (_, still) = app
        .get(&format!("/feedback/{}", f["id"]), Some(Role::Lead))
        .await;
    assert_eq!(still["moderation"], "pending", "nothing changed");
}

both!(a_null_field_or_a_parameter_nobody_reads_is_refused_by_name);
async fn a_null_field_or_a_parameter_nobody_reads_is_refused_by_name(app: TestApp) {
    let lead = Some(Role::Lead);
    let p = crate::fixtures::a_programme(&app).create().await;
    let (s, v) = app
        .post(
            "/feedback",
            lead,
            serde_json::json!({"programme_id": p, "role": "teacher", "quote": "Good", "consent": true, "stars": null}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        v["error"]["fields"]["stars"],
        "is not a field of this request"
    );
    assert_eq!(app.count("feedback").await, 0, "nothing was written");
    let (s, v) = app
        .post(
            "/feedback",
            lead,
            serde_json::json!({"programme_id": p, "role": "teacher", "quote": "Good", "consent": true, "rating": null}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::CREATED,
        "a null known field is an absent one: {v}"
    );
    let (s, v) = app
        .post(
            "/programmes",
            Some(Role::Admin),
            serde_json::json!({"title": "T", "year": 2031, "starts_on": "", "status": " "}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a blank date is no date: {v}"
    );
    assert!(v["error"]["fields"]["starts_on"].is_string(), "{v}");
    assert!(v["error"]["fields"]["status"].is_string(), "{v}");
    let (s, v) = app.get("/events?programme=3&kind=workshop", lead).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_error_shape(&v, "invalid");
    assert_eq!(
        v["error"]["fields"]["programme"],
        "is not a parameter of this request"
    );
    assert!(v["error"]["fields"].get("kind").is_none(), "{v}");
    let (s, v) = app.get("/events?programme=3", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "who asks comes first: {v}");
    let (s, v) = app.get(&format!("/programmes/{p}?verbose=1"), lead).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = app
        .get(&format!("/events?programme_id={p}&page=2"), lead)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

/// RFC 3339 to the second with an offset: "2031-03-03T09:30:00+00:00".
fn assert_rfc3339(v: &Value) {
    let t = v.as_str().unwrap_or_default();
    let ok = t.len() == 25
        && chrono::DateTime::parse_from_rfc3339(t).is_ok()
        && (t.ends_with("+00:00") || t.ends_with("+01:00"));
    assert!(ok, "a time with its offset, to the second: {v}");
}

both!(every_time_carries_its_offset_to_the_second);
async fn every_time_carries_its_offset_to_the_second(app: TestApp) {
    let p = crate::fixtures::a_programme(&app)
        .funded()
        .between("2031-01-06", "2031-07-18")
        .create()
        .await;
    let e = crate::fixtures::live_stream(&app, p, 5, None).await;
    let (_, b) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::School),
            serde_json::json!({"pupils": 9}),
        )
        .await;
    let day = serde_json::json!({"day": "2031-03-03", "session": "morning"});
    let (_, slot) = app
        .post(&format!("/programmes/{p}/slots"), Some(Role::Lead), day)
        .await;
    let (_, ev) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    let (_, tokens) = app
        .get(
            &format!("/users/{}/tokens", app.lead.user_id),
            Some(Role::Admin),
        )
        .await;
    for t in [
        &b["created_at"],
        &slot["starts_at"],
        &slot["ends_at"],
        &ev["starts_at"],
        &ev["ends_at"],
        &tokens["items"][0]["created_at"],
    ] {
        assert_rfc3339(t);
    }
    assert_eq!(slot["starts_at"], "2031-03-03T09:30:00+00:00");
}

both!(an_action_that_takes_no_body_refuses_one);
async fn an_action_that_takes_no_body_refuses_one(app: TestApp) {
    let p = crate::fixtures::a_programme(&app)
        .between("2031-01-06", "2031-07-18")
        .create()
        .await;
    let e = crate::fixtures::live_stream(&app, p, 5, Some(50)).await;
    let path = format!("/events/{e}/cancel");
    let lead = Some(Role::Lead);
    let (s, v) = app
        .post(&path, lead, serde_json::json!({"reason": "rain"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        v["error"]["fields"]["reason"],
        "is not a field of this request"
    );
    let (s, v) = app.post(&path, lead, serde_json::json!([1])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _) = app
        .post(&path, None, serde_json::json!({"reason": "rain"}))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "who asks comes first");
    let (_, still) = app.get(&format!("/events/{e}"), lead).await;
    assert_eq!(still["status"], "open", "nothing changed: {still}");
    let (s, v) = app.post(&path, lead, serde_json::json!({})).await;
    assert_eq!(s, StatusCode::OK, "an empty object is no body: {v}");
    assert_eq!(v["status"], "cancelled");
}
