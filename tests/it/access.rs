//! Who may see and change what, beyond the role matrix: a school sees only programmes it
//! could book or has booked, archived programmes take no bookings, feedback links cannot
//! flood the figures, and API tokens can expire.

use axum::http::StatusCode;
use diesel::prelude::*;
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::{a_programme, live_stream};
use crate::harness::TestApp;

fn titles(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_string())
        .collect()
}

both!(a_school_sees_only_programmes_it_could_book_or_has_booked);
async fn a_school_sees_only_programmes_it_could_book_or_has_booked(app: TestApp) {
    let bookable = a_programme(&app).titled("Bookable").funded().create().await;
    live_stream(&app, bookable, 1, None).await;
    let booked = a_programme(&app).titled("Booked").funded().create().await;
    let e = live_stream(&app, booked, 2, None).await;
    let (s, _) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::School),
            json!({"pupils": 20}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let hidden = a_programme(&app)
        .titled("Internal plans")
        .funded()
        .create()
        .await;
    let archived = a_programme(&app)
        .titled("Archived round")
        .funded()
        .create()
        .await;
    live_stream(&app, archived, 3, None).await;
    let (s, _) = app
        .post(
            &format!("/programmes/{archived}/archive"),
            Some(Role::Admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // The booked programme is archived later: the school still sees its own history.
    let (s, _) = app
        .post(
            &format!("/programmes/{booked}/archive"),
            Some(Role::Admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    let (s, list) = app
        .get("/programmes?archived=true", Some(Role::School))
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut seen = titles(&list);
    seen.sort();
    assert_eq!(seen, vec!["Bookable", "Booked"], "{list}");
    assert_eq!(list["total"], 2);
    let (_, staff) = app.get("/programmes?archived=true", Some(Role::Lead)).await;
    assert_eq!(staff["total"], 4);

    for id in [hidden, archived] {
        let (s, _) = app
            .get(&format!("/programmes/{id}"), Some(Role::School))
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _, page) = app
            .page(&format!("/programmes/{id}/feedback"), Some(Role::School))
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(!page.contains("Internal plans") && !page.contains("Archived round"));
        let (s, _) = app
            .get(&format!("/programmes/{id}/events"), Some(Role::School))
            .await;
        assert!(
            matches!(s, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{s}"
        );
    }
    let (s, seen) = app
        .get(&format!("/programmes/{bookable}"), Some(Role::School))
        .await;
    assert_eq!(s, StatusCode::OK);
    // What it is and when, not who funds it or the funder's targets.
    assert_eq!(seen["title"], "Bookable");
    for hidden in [
        "organisation_id",
        "organisation_name",
        "priority_id",
        "target_schools",
    ] {
        assert_eq!(seen[hidden], Value::Null, "{hidden}: {seen}");
    }
    assert!(!list.to_string().contains("Test Partnership"), "{list}");
}

both!(an_archived_programme_takes_no_bookings);
async fn an_archived_programme_takes_no_bookings(app: TestApp) {
    let p = a_programme(&app)
        .titled("Old round")
        .funded()
        .create()
        .await;
    let e = live_stream(&app, p, 4, Some(100)).await;
    let (s, slot) = app
        .post(
            &format!("/programmes/{p}/slots"),
            Some(Role::Lead),
            json!({"day": "2031-06-02", "session": "morning"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{slot}");
    let (s, _) = app
        .post(
            &format!("/programmes/{p}/archive"),
            Some(Role::Admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::School),
            json!({"pupils": 20}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("archived"));
    let (s, v) = app
        .post(
            &format!("/slots/{}/bookings", slot["id"]),
            Some(Role::School),
            json!({"pupils": 20}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    // The page form, posted directly, is refused the same way.
    let (s, _, _) = app
        .form(
            &format!("/events/{e}/book"),
            Some(Role::School),
            &[("pupils", "20")],
            true,
        )
        .await;
    assert!(
        s == StatusCode::CONFLICT || s == StatusCode::UNPROCESSABLE_ENTITY,
        "{s}"
    );
    assert_eq!(app.count("bookings").await, 0);
    let places: i32 = app
        .with_db(move |c| {
            outreach::db::schema::events::table
                .find(e as i32)
                .select(outreach::db::schema::events::places_confirmed)
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!(places, 0);
}

both!(one_feedback_link_cannot_flood_the_ratings);
async fn one_feedback_link_cannot_flood_the_ratings(app: TestApp) {
    let p = a_programme(&app).titled("Ruby").funded().create().await;
    let e = live_stream(&app, p, 5, Some(100)).await;
    let (s, b) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::School),
            json!({"pupils": 8, "staff": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(b["status"], "confirmed");
    let booking = b["id"].as_i64().unwrap();
    // The lead records a quote with a rating of 5.
    let (s, _) = app
        .post(
            "/feedback",
            Some(Role::Lead),
            json!({"programme_id": p, "role": "teacher", "quote": "Superb", "rating": 5, "consent": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, link) = app
        .post(
            &format!("/bookings/{booking}/feedback-links"),
            Some(Role::School),
            json!({}),
        )
        .await;
    let path = link["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://localhost")
        .to_string();
    let mut accepted = 0;
    let mut refused = 0;
    for _ in 0..30 {
        let (s, _, _) = app
            .form(&path, None, &[("role", "pupil"), ("rating", "1")], true)
            .await;
        match s {
            StatusCode::SEE_OTHER => accepted += 1,
            StatusCode::CONFLICT => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((accepted, refused), (10, 20), "one answer per place booked");
    // Another link of the same booking shares the cap.
    let (_, second) = app
        .post(
            &format!("/bookings/{booking}/feedback-links"),
            Some(Role::School),
            json!({}),
        )
        .await;
    let second = second["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://localhost")
        .to_string();
    let (s, _, page) = app
        .form(&second, None, &[("role", "pupil"), ("rating", "1")], true)
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("everyone it booked"), "{page}");
    assert_eq!(app.count("feedback").await, 11);
    // The funder's average is the lead's 5 until a lead approves the answers.
    let (_, summary) = app
        .get(
            &format!("/programmes/{p}/feedback/summary"),
            Some(Role::Funder),
        )
        .await;
    assert_eq!(summary["average_rating"], 5.0, "{summary}");
    assert_eq!(summary["awaiting_moderation"], 10);
    // The lead sees how many answered through the links, and what waits for moderation.
    let (s, _, page) = app
        .page(&format!("/programmes/{p}/feedback"), Some(Role::Lead))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("10 answers wait"), "{page}");
    assert!(page.contains("Answers through feedback links"));
    let (_, links) = app
        .get(
            &format!("/bookings/{booking}/feedback-links"),
            Some(Role::Lead),
        )
        .await;
    let answers: Vec<i64> = links["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["answers"].as_i64().unwrap())
        .collect();
    assert_eq!(answers, vec![0, 10], "{links}");
}

both!(api_tokens_can_expire_and_show_their_use);
async fn api_tokens_can_expire_and_show_their_use(app: TestApp) {
    let (s, made) = app
        .post(
            &format!("/users/{}/tokens", app.lead.user_id),
            Some(Role::Admin),
            json!({"label": "report script", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    assert!(made["token"]["expires_at"].is_string());
    let secret = made["secret"].as_str().unwrap().to_string();
    let call = |secret: String| {
        let app = &app;
        async move {
            let req = axum::http::Request::builder()
                .uri("/api/v1/me")
                .header("authorization", format!("Bearer {secret}"))
                .body(axum::body::Body::empty())
                .unwrap();
            app.send(req).await.0
        }
    };
    assert_eq!(call(secret.clone()).await, StatusCode::OK);
    let (s, bad) = app
        .post(
            &format!("/users/{}/tokens", app.lead.user_id),
            Some(Role::Admin),
            json!({"expires_in_days": 0}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad["error"]["fields"]["expires_in_days"].is_string());
    let (_, _, page) = app
        .page(
            &format!("/users/{}/tokens", app.lead.user_id),
            Some(Role::Admin),
        )
        .await;
    assert!(page.contains("report script") && page.contains("Expires"));
    // Past its expiry, the token is refused.
    let id = made["token"]["id"].as_i64().unwrap() as i32;
    app.with_db(move |c| {
        use outreach::db::schema::api_tokens as t;
        diesel::update(t::table.find(id))
            .set(t::expires_at.eq(outreach::app::now() - chrono::Duration::minutes(1)))
            .execute(c)
            .unwrap();
    })
    .await;
    assert_eq!(call(secret).await, StatusCode::UNAUTHORIZED);
    let (_, _, page) = app
        .page(
            &format!("/users/{}/tokens", app.lead.user_id),
            Some(Role::Admin),
        )
        .await;
    assert!(page.contains("expired"), "{page}");
}

both!(revoking_a_token_on_its_page_needs_confirmation);
async fn revoking_a_token_on_its_page_needs_confirmation(app: TestApp) {
    let (_, made) = app
        .post(
            &format!("/users/{}/tokens", app.lead.user_id),
            Some(Role::Admin),
            json!({"label": "script"}),
        )
        .await;
    let path = format!(
        "/users/{}/tokens/{}/revoke",
        app.lead.user_id, made["token"]["id"]
    );
    let (s, _, _) = app.form(&path, Some(Role::Admin), &[], true).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _, _) = app
        .form(&path, Some(Role::Admin), &[("confirm", "true")], true)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, page) = app
        .page(
            &format!("/users/{}/tokens", app.lead.user_id),
            Some(Role::Admin),
        )
        .await;
    assert!(page.contains("revoked"));
    // A bad lifetime comes back beside its field, not as a bare error page.
    let (s, _, page) = app
        .form(
            &format!("/users/{}/tokens", app.lead.user_id),
            Some(Role::Admin),
            &[("expires_in_days", "0")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Expires after must be at least 1"), "{page}");
}
