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
