//! Choosing a school never puts the register on a page: pickers are text boxes searched on
//! the server, read back by label, URN or an unambiguous name.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::event;
use crate::harness::TestApp;

/// A register of `n` schools, three of them called Abbey Primary School.
fn register(n: usize) -> String {
    let mut out = String::from("URN,EstablishmentName,Town,Postcode,EstablishmentStatus (name)\n");
    for (urn, town) in [
        (810001, "Kendal"),
        (810002, "Ulverston"),
        (810003, "Penrith"),
    ] {
        out.push_str(&format!("{urn},Abbey Primary School,{town},LA1 1AA,Open\n"));
    }
    for i in 0..n {
        out.push_str(&format!(
            "{},Register School {i:05},Town {},CA{} 2BB,Open\n",
            700_000 + i,
            i % 40,
            i % 9
        ));
    }
    out
}

async fn import(app: &TestApp, n: usize) {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/import/schools")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.admin.token))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(register(n)))
        .unwrap();
    let (s, _, body) = app.send(req).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
}

async fn school_event(app: &TestApp) -> i64 {
    let (_, p) = app
        .post(
            "/programmes",
            Some(Role::Admin),
            json!({"title": "Ruby", "year": 2018}),
        )
        .await;
    event(
        app,
        p["id"].as_i64().unwrap(),
        json!({"kind": "performance", "school_id": app.school_id,
               "starts_at": "2018-02-01T09:30:00Z", "ends_at": "2018-02-01T10:30:00Z"}),
    )
    .await
}

both!(no_page_grows_with_the_register);
async fn no_page_grows_with_the_register(app: TestApp) {
    import(&app, 3000).await;
    let e = school_event(&app).await;
    let (s, _, page) = app.page(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!page.contains("Register School 01234"));
    assert!(
        page.len() < 60_000,
        "the event page is {} bytes",
        page.len()
    );
    // 200 rows with one bad one: the page that comes back holds the 200 rows, not the register.
    let mut fields: Vec<(String, String)> = vec![("rows".into(), "200".into())];
    for i in 0..200 {
        fields.push((format!("school_{i}"), format!("{}", 700_000 + i)));
        fields.push((format!("pupils_{i}"), "10".into()));
    }
    fields[1].1 = "Nowhere Academy".into();
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (s, _, page) = app
        .form(
            &format!("/events/{e}/attendance"),
            Some(Role::Lead),
            &borrowed,
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("no school matches"), "the bad row says why");
    assert!(page.len() < 400_000, "the page is {} bytes", page.len());
    assert_eq!(app.count("attendance").await, 0, "nothing was saved");
    // Every other page with a picker stays small too.
    for path in [
        "/whats-on".to_string(),
        "/users/new".to_string(),
        "/programmes/1/feedback".to_string(),
        "/programmes/1/events/new".to_string(),
    ] {
        let (s, _, page) = app.page(&path, Some(Role::Admin)).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert!(page.len() < 60_000, "{path} is {} bytes", page.len());
        assert!(
            !page.contains("Register School 0"),
            "{path} lists the register"
        );
    }
}

/// The school picker's text for one attendance row: the status and the page.
async fn one_row(app: &TestApp, event: i64, school: &str) -> (StatusCode, String) {
    let (s, _, page) = app
        .form(
            &format!("/events/{event}/attendance"),
            Some(Role::Lead),
            &[("rows", "1"), ("school_0", school), ("pupils_0", "3")],
            true,
        )
        .await;
    (s, page)
}

/// The search's offers for `q`, as `role` (None when refused).
async fn offers(app: &TestApp, q: &str, role: Role) -> Option<Vec<String>> {
    let req = Request::builder()
        .uri(format!("/schools/search?q={q}"))
        .header(
            header::COOKIE,
            format!("outreach_session={}", app.seeded(role).session),
        )
        .body(Body::empty())
        .unwrap();
    let (s, _, body) = app.send(req).await;
    if s != StatusCode::OK {
        return None;
    }
    let offers: Value = serde_json::from_slice(&body).unwrap();
    Some(
        offers
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["label"].as_str().unwrap().to_string())
            .collect(),
    )
}

both!(the_search_offers_same_named_schools_with_urn_and_town);
async fn the_search_offers_same_named_schools_with_urn_and_town(app: TestApp) {
    import(&app, 10).await;
    assert_eq!(
        offers(&app, "abbey", Role::Lead).await.unwrap(),
        vec![
            "Abbey Primary School (URN 810001, Kendal)",
            "Abbey Primary School (URN 810002, Ulverston)",
            "Abbey Primary School (URN 810003, Penrith)"
        ]
    );
    assert_eq!(
        offers(&app, "abbey", Role::School).await,
        None,
        "staff only"
    );
}

both!(a_chosen_label_or_a_urn_is_read_back_to_the_right_school);
async fn a_chosen_label_or_a_urn_is_read_back_to_the_right_school(app: TestApp) {
    import(&app, 10).await;
    let e = school_event(&app).await;
    let (s, _, _) = app
        .form(
            &format!("/events/{e}/attendance"),
            Some(Role::Lead),
            &[
                ("rows", "2"),
                ("school_0", "Abbey Primary School (URN 810002, Ulverston)"),
                ("pupils_0", "30"),
                ("school_1", "810003"),
                ("pupils_1", "20"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, rows) = app
        .get(&format!("/events/{e}/attendance"), Some(Role::Lead))
        .await;
    let saved: Vec<i64> = rows["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["school_id"].as_i64().unwrap())
        .collect();
    let mut expected = Vec::new();
    for urn in ["810002", "810003"] {
        let (_, found) = app
            .get(&format!("/schools?q={urn}"), Some(Role::Lead))
            .await;
        expected.push(found["items"][0]["id"].as_i64().unwrap());
    }
    assert_eq!(saved, expected);
    // The saved rows come back in the form as labels.
    let (_, _, page) = app.page(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert!(page.contains("Abbey Primary School (URN 810002, Ulverston)"));
    assert!(page.contains("Abbey Primary School (URN 810003, Penrith)"));
}

both!(what_names_no_one_school_says_why);
async fn what_names_no_one_school_says_why(app: TestApp) {
    import(&app, 10).await;
    let e = school_event(&app).await;
    let (s, page) = one_row(&app, e, "Abbey Primary School").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("3 schools are called"), "{page}");
    assert!(page.contains("URN 810002, Ulverston"));
    let (s, page) = one_row(&app, e, "Register School").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("more than 5 schools match"), "{page}");
    let (s, page) = one_row(&app, e, "Abbey\u{0}").await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a NUL is refused, never a 500"
    );
    assert!(page.contains("control characters"));
    let (s, page) = one_row(&app, e, "999999").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("no school in the directory has the URN 999999"));
    // Part of a name that fits one school is that school.
    let (s, _) = one_row(&app, e, "register school 00007").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
}

both!(the_user_form_picks_a_school_the_same_way);
async fn the_user_form_picks_a_school_the_same_way(app: TestApp) {
    import(&app, 10).await;
    let (s, _, _) = app
        .form(
            "/users",
            Some(Role::Admin),
            &[
                ("email", "head@abbey.example"),
                ("role", "school"),
                ("school", "Abbey Primary School (URN 810001, Kendal)"),
                ("password", "a long enough password"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, users) = app.get("/users?q=head@abbey", Some(Role::Admin)).await;
    let school_id = users["items"][0]["school_id"].as_i64().unwrap();
    let (_, school) = app
        .get(&format!("/schools/{school_id}"), Some(Role::Admin))
        .await;
    assert_eq!(
        (school["urn"].as_i64(), school["town"].as_str()),
        (Some(810001), Some("Kendal"))
    );
}
