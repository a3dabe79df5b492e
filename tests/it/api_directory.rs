//! The directory through the API: create, list, update, archive; bad input changes nothing.

use axum::http::{Method, StatusCode};
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::harness::TestApp;

/// What `build_directory` made, as the API answered.
struct Built {
    org: Value,
    priorities: Value,
    school: Value,
    programme: Value,
}

/// An organisation with a priority and its target, a school, a venue and a programme,
/// each made by the admin and answered 201.
async fn build_directory(app: &TestApp) -> Built {
    let admin = Some(Role::Admin);
    let made = |path: String, body: Value| async move {
        let (s, v) = app.post(&path, admin, body).await;
        assert_eq!(s, StatusCode::CREATED, "{path}: {v}");
        v
    };
    let org = made(
        "/organisations".into(),
        json!({"name": "South Cumbria CSP", "kind": "partnership"}),
    )
    .await;
    let org_id = org["id"].as_i64().unwrap();
    let priority = json!({"title": "Substance abuse and drug supply", "aims": "Raise awareness"});
    let pr = made(format!("/organisations/{org_id}/priorities"), priority).await;
    let target = json!({"measure": "schools", "value": 10, "description": "ten schools"});
    made(format!("/priorities/{}/targets", pr["id"]), target).await;
    let (_, priorities) = app
        .get(&format!("/organisations/{org_id}/priorities"), admin)
        .await;
    let school = made("/schools".into(), json!({"name": "Fellside Primary", "urn": 112035, "district": "South Lakeland", "phase": "primary", "postcode": "la14 4jb", "pupils": 168, "fsm_percent": 8.6})).await;
    let venue = json!({"name": "Brewery Arts Centre", "kind": "arts_centre", "capacity": 300});
    made("/venues".into(), venue).await;
    let programme = made("/programmes".into(), json!({"title": "Ruby", "year": 2018, "organisation_id": org_id, "priority_id": pr["id"], "theme": "CSE", "starts_on": "2018-01-08", "ends_on": "2018-07-20", "target_schools": 9, "target_audience": 1500, "target_events": 11})).await;
    Built {
        org,
        priorities,
        school,
        programme,
    }
}

both!(admin_builds_the_directory);
async fn admin_builds_the_directory(app: TestApp) {
    let built = build_directory(&app).await;
    assert_eq!(built.org["kind"], "partnership");
    assert_eq!(built.priorities["items"][0]["targets"][0]["value"], 10);
    assert_eq!(built.school["postcode"], "LA14 4JB");
    assert_eq!(built.school["fsm_percent"], 8.6);
    assert_eq!(built.programme["organisation_name"], "South Cumbria CSP");
    assert_eq!(built.programme["starts_on"], "2018-01-08");
}

both!(directory_lists_find_by_search);
async fn directory_lists_find_by_search(app: TestApp) {
    build_directory(&app).await;
    let admin = Some(Role::Admin);
    let (s, list) = app.get("/programmes", admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["total"], 1);
    assert_eq!(list["page"], 1);
    assert_eq!(list["per_page"], 50);
    assert_eq!(list["items"][0]["title"], "Ruby");
    let (_, list) = app.get("/schools?q=fells", admin).await;
    assert_eq!(list["total"], 1);
    let (_, list) = app.get("/schools?q=112035", admin).await;
    assert_eq!(list["items"][0]["name"], "Fellside Primary");
    let (_, list) = app.get("/venues", admin).await;
    assert_eq!(list["items"][0]["capacity"], 300);
    let (_, list) = app.get("/organisations?q=CUMBRIA", admin).await;
    assert_eq!(list["total"], 1);
}

both!(an_update_keeps_the_id_and_is_audited);
async fn an_update_keeps_the_id_and_is_audited(app: TestApp) {
    let built = build_directory(&app).await;
    let id = built.school["id"].as_i64().unwrap();
    let renamed = json!({"name": "Fellside Primary School", "urn": 112035});
    let path = format!("/schools/{id}");
    let (s, updated) = app
        .api(Method::PUT, &path, Some(Role::Admin), Some(renamed))
        .await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Fellside Primary School");
    assert_eq!(updated["id"], id);
    assert!(app.count("audit_entries").await >= 6);
}

both!(lists_are_paginated);
async fn lists_are_paginated(app: TestApp) {
    for i in 0..7 {
        let (s, _) = app
            .post(
                "/venues",
                Some(Role::Lead),
                json!({"name": format!("Hall {i}")}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (_, p1) = app.get("/venues?per_page=3", Some(Role::Lead)).await;
    assert_eq!(p1["total"], 7);
    assert_eq!(p1["items"].as_array().unwrap().len(), 3);
    let (_, p3) = app.get("/venues?per_page=3&page=3", Some(Role::Lead)).await;
    assert_eq!(p3["items"].as_array().unwrap().len(), 1);
    assert_eq!(p3["items"][0]["name"], "Hall 6");
    let (_, beyond) = app.get("/venues?per_page=3&page=9", Some(Role::Lead)).await;
    assert_eq!(beyond["items"].as_array().unwrap().len(), 0);
    let (s, v) = app
        .get("/venues?per_page=abc&page=-2", Some(Role::Lead))
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the API names bad paging: {v}"
    );
    assert!(v["error"]["fields"]["per_page"].is_string(), "{v}");
    assert!(v["error"]["fields"]["page"].is_string(), "{v}");
}

both!(a_json_value_of_the_wrong_type_is_refused);
async fn a_json_value_of_the_wrong_type_is_refused(app: TestApp) {
    let lead = Some(Role::Lead);
    let cases = [
        (json!({"name": false}), "name", "must be a JSON string"),
        (
            json!({"name": "Hall", "capacity": "120"}),
            "capacity",
            "must be a JSON number",
        ),
        (
            json!({"name": "Hall", "capacity": ""}),
            "capacity",
            "must be a JSON number",
        ),
    ];
    for (body, field, why) in cases {
        let (s, v) = app.post("/venues", lead, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(v["error"]["fields"][field], why, "{body}: {v}");
    }
    assert_eq!(app.count("venues").await, 0);
}

/// Bad directory input, with the field each should name.
fn bad_directory_input() -> Vec<(&'static str, Value, &'static str)> {
    let long = "x".repeat(201);
    vec![
        ("/schools", json!({}), "name"),
        ("/schools", json!({"name": long}), "name"),
        ("/schools", json!({"name": "A", "pupils": -1}), "pupils"),
        ("/schools", json!({"name": "A", "pupils": "many"}), "pupils"),
        (
            "/schools",
            json!({"name": "A", "fsm_percent": 140}),
            "fsm_percent",
        ),
        (
            "/schools",
            json!({"name": "A", "phase": "kindergarten"}),
            "phase",
        ),
        ("/schools", json!({"name": "A", "urn": [1]}), "urn"),
        // A field no rule reads is refused by name, never ignored.
        (
            "/schools",
            json!({"name": "A", "unknown_field": "x"}),
            "unknown_field",
        ),
        ("/venues", json!({"name": "V", "capacty": 20}), "capacty"),
        ("/venues", json!({"name": "V", "capacity": -5}), "capacity"),
        ("/venues", json!({"name": "V", "kind": "cinema"}), "kind"),
        ("/organisations", json!({"kind": "funder"}), "name"),
        (
            "/organisations",
            json!({"name": "O", "kind": "bank"}),
            "kind",
        ),
        ("/programmes", json!({"year": 2019}), "title"),
        ("/programmes", json!({"title": "Ruby"}), "year"),
        (
            "/programmes",
            json!({"title": "Ruby", "year": 2019, "starts_on": "2019-02-30"}),
            "starts_on",
        ),
        (
            "/programmes",
            json!({"title": "Ruby", "year": 2019, "starts_on": "2019-05-01", "ends_on": "2019-04-01"}),
            "ends_on",
        ),
        (
            "/programmes",
            json!({"title": "Ruby", "year": 2019, "organisation_id": 99999}),
            "organisation_id",
        ),
        (
            "/programmes",
            json!({"title": "Ruby", "year": 2019, "priority_id": 99999}),
            "priority_id",
        ),
        (
            "/programmes",
            json!({"title": "Ruby", "year": 2019, "target_schools": -1}),
            "target_schools",
        ),
    ]
}

/// The rows of the directory's tables and of the audit log.
async fn directory_counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "schools",
        "programmes",
        "venues",
        "organisations",
        "audit_entries",
    ] {
        counts.push(app.count(table).await);
    }
    counts
}

both!(invalid_input_is_422_and_changes_nothing);
async fn invalid_input_is_422_and_changes_nothing(app: TestApp) {
    let admin = Some(Role::Admin);
    let before = directory_counts(&app).await;
    for (path, body, field) in bad_directory_input() {
        let (s, err) = app.post(path, admin, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path} {body}: {err}");
        assert_eq!(err["error"]["code"], "invalid");
        assert!(
            err["error"]["fields"][field].is_string(),
            "{path} {body} should name {field}: {err}"
        );
    }
    let (s, err) = app.api(Method::POST, "/schools", admin, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(directory_counts(&app).await, before);
}

both!(malformed_json_and_unknown_ids);
async fn malformed_json_and_unknown_ids(app: TestApp) {
    use axum::body::Body;
    use axum::http::{header, Request};
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/schools")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.admin.token))
        .body(Body::from("{\"name\": "))
        .unwrap();
    let (s, _, body) = app.send(req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"]["code"], "bad_request");
    for path in [
        "/schools/9999",
        "/venues/9999",
        "/programmes/9999",
        "/organisations/9999",
        "/users/9999",
    ] {
        let (s, v) = app.get(path, Some(Role::Admin)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(v["error"]["code"], "not_found");
    }
    let (s, _) = app
        .api(
            Method::PUT,
            "/schools/9999",
            Some(Role::Admin),
            Some(json!({"name": "X"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.get("/no-such-endpoint", Some(Role::Admin)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

both!(urn_is_unique);
async fn urn_is_unique(app: TestApp) {
    let (s, _) = app
        .post(
            "/schools",
            Some(Role::Lead),
            json!({"name": "Copy", "urn": 900001}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(app.count("schools").await, 1);
}

both!(archived_records_leave_lists_but_stay_readable);
async fn archived_records_leave_lists_but_stay_readable(app: TestApp) {
    let lead = Some(Role::Lead);
    let id = app.school_id;
    let (s, v) = app
        .post(&format!("/schools/{id}/archive"), lead, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["archived"], true);
    let (_, list) = app.get("/schools", lead).await;
    assert_eq!(list["total"], 0);
    let (_, list) = app.get("/schools?archived=true", lead).await;
    assert_eq!(list["total"], 1);
    let (s, v) = app.get(&format!("/schools/{id}"), lead).await;
    assert_eq!(
        (s, v["name"].as_str()),
        (StatusCode::OK, Some("Seed School"))
    );
    // The school user tied to it still exists: nothing referencing it was removed.
    assert_eq!(app.count("users").await, 4);
    let (_, v) = app
        .post(&format!("/schools/{id}/restore"), lead, json!({}))
        .await;
    assert_eq!(v["archived"], false);
}

both!(funder_sees_only_its_organisation);
async fn funder_sees_only_its_organisation(app: TestApp) {
    let admin = Some(Role::Admin);
    let (_, other) = app
        .post(
            "/organisations",
            admin,
            json!({"name": "Other Trust", "kind": "funder"}),
        )
        .await;
    let (_, mine) = app
        .post(
            "/programmes",
            admin,
            json!({"title": "Ruby", "year": 2018, "organisation_id": app.organisation_id}),
        )
        .await;
    let (_, theirs) = app
        .post(
            "/programmes",
            admin,
            json!({"title": "Elsewhere", "year": 2018, "organisation_id": other["id"]}),
        )
        .await;
    let funder = Some(Role::Funder);
    let (_, list) = app.get("/programmes", funder).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], mine["id"]);
    let (s, _) = app
        .get(&format!("/programmes/{}", theirs["id"]), funder)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, orgs) = app.get("/organisations", funder).await;
    assert_eq!(orgs["total"], 1);
    let (s, _) = app
        .get(&format!("/organisations/{}", other["id"]), funder)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

both!(users_and_their_ties);
async fn users_and_their_ties(app: TestApp) {
    let admin = Some(Role::Admin);
    let (s, err) = app.post("/users", admin, json!({"email": "head@school.example", "role": "school", "password": "long enough password"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(err["error"]["fields"]["school_id"].is_string());
    let (s, err) = app
        .post(
            "/users",
            admin,
            json!({"email": "not-an-email", "role": "lead", "password": "short"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(err["error"]["fields"]["email"].is_string());
    assert!(err["error"]["fields"]["password"].is_string());
    let (s, err) = app.post("/users", admin, json!({"email": "Lead@Example.org", "role": "lead", "password": "long enough password"})).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "emails are unique, case-insensitively: {err}"
    );
    let (s, u) = app.post("/users", admin, json!({"email": "Head@School.example", "role": "school", "school_id": app.school_id, "password": "long enough password"})).await;
    assert_eq!(s, StatusCode::CREATED, "{u}");
    assert_eq!(u["email"], "head@school.example");
    assert!(u.get("password_hash").is_none());
    let stored: String = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::users;
            users::table
                .filter(users::email.eq("head@school.example"))
                .select(users::password_hash)
                .first::<String>(c)
                .unwrap()
        })
        .await;
    assert!(stored.starts_with("$argon2id$"), "{stored}");
}
