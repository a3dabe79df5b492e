//! The directory through the API: create, list, update, archive; bad input changes nothing.

use axum::http::{Method, StatusCode};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::harness::TestApp;

both!(admin_builds_the_directory_and_lists_it);
async fn admin_builds_the_directory_and_lists_it(app: TestApp) {
    let admin = Some(Role::Admin);
    let (s, org) = app
        .post(
            "/organisations",
            admin,
            json!({"name": "South Cumbria CSP", "kind": "partnership"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{org}");
    let org_id = org["id"].as_i64().unwrap();
    assert_eq!(org["kind"], "partnership");

    let (s, pr) = app
        .post(
            &format!("/organisations/{org_id}/priorities"),
            admin,
            json!({"title": "Substance abuse and drug supply", "aims": "Raise awareness"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{pr}");
    let (s, t) = app
        .post(
            &format!("/priorities/{}/targets", pr["id"]),
            admin,
            json!({"measure": "schools", "value": 10, "description": "ten schools"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let (_, prs) = app
        .get(&format!("/organisations/{org_id}/priorities"), admin)
        .await;
    assert_eq!(prs["items"][0]["targets"][0]["value"], 10);

    let (s, school) = app
        .post("/schools", admin, json!({"name": "Fellside Primary", "urn": 112035, "district": "South Lakeland", "phase": "primary", "postcode": "la14 4jb", "pupils": 168, "fsm_percent": 8.6, "unknown_field": "ignored"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{school}");
    assert_eq!(school["postcode"], "LA14 4JB");
    assert_eq!(school["fsm_percent"], 8.6);

    let (s, venue) = app
        .post(
            "/venues",
            admin,
            json!({"name": "Brewery Arts Centre", "kind": "arts_centre", "capacity": 300}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{venue}");

    let (s, prog) = app
        .post("/programmes", admin, json!({"title": "Ruby", "year": 2018, "organisation_id": org_id, "priority_id": pr["id"], "theme": "CSE", "starts_on": "2018-01-08", "ends_on": "2018-07-20", "target_schools": 9, "target_audience": 1500, "target_events": 11}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{prog}");
    assert_eq!(prog["organisation_name"], "South Cumbria CSP");
    assert_eq!(prog["starts_on"], "2018-01-08");

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

    // Update keeps the id; the audit log records before and after.
    let id = school["id"].as_i64().unwrap();
    let (s, updated) = app
        .api(
            Method::PUT,
            &format!("/schools/{id}"),
            admin,
            Some(json!({"name": "Fellside Primary School", "urn": 112035})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "Fellside Primary School");
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
    let (s, _) = app
        .get("/venues?per_page=abc&page=-2", Some(Role::Lead))
        .await;
    assert_eq!(s, StatusCode::OK);
}

both!(invalid_input_is_422_and_changes_nothing);
async fn invalid_input_is_422_and_changes_nothing(app: TestApp) {
    let admin = Some(Role::Admin);
    let before = (
        app.count("schools").await,
        app.count("programmes").await,
        app.count("venues").await,
        app.count("organisations").await,
        app.count("audit_entries").await,
    );
    let long = "x".repeat(201);
    let cases = [
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
    ];
    for (path, body, field) in cases {
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
    let after = (
        app.count("schools").await,
        app.count("programmes").await,
        app.count("venues").await,
        app.count("organisations").await,
        app.count("audit_entries").await,
    );
    assert_eq!(before, after);
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
