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

/// The seeded school books places at an event (JSON).
async fn book(app: &TestApp, event: i64, body: Value) -> (StatusCode, Value) {
    app.post(
        &format!("/events/{event}/bookings"),
        Some(Role::School),
        body,
    )
    .await
}

/// The admin archives a programme.
async fn archive(app: &TestApp, programme: i64) {
    let path = format!("/programmes/{programme}/archive");
    let (s, v) = app.post(&path, Some(Role::Admin), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

/// Four programmes of the seed funder, as a school sees them.
struct Four {
    /// A live stream open for booking.
    bookable: i64,
    /// Booked by the school, then archived: its history.
    booked: i64,
    /// Nothing to book.
    hidden: i64,
    /// A live stream, archived before anyone booked.
    archived: i64,
}

async fn four_programmes(app: &TestApp) -> Four {
    let bookable = a_programme(app).titled("Bookable").funded().create().await;
    live_stream(app, bookable, 1, None).await;
    let booked = a_programme(app).titled("Booked").funded().create().await;
    let e = live_stream(app, booked, 2, None).await;
    let (s, _) = book(app, e, json!({"pupils": 20})).await;
    assert_eq!(s, StatusCode::CREATED);
    let hidden = a_programme(app)
        .titled("Internal plans")
        .funded()
        .create()
        .await;
    let archived = a_programme(app)
        .titled("Archived round")
        .funded()
        .create()
        .await;
    live_stream(app, archived, 3, None).await;
    archive(app, archived).await;
    archive(app, booked).await;
    Four {
        bookable,
        booked,
        hidden,
        archived,
    }
}

both!(a_school_lists_only_programmes_it_could_book_or_has_booked);
async fn a_school_lists_only_programmes_it_could_book_or_has_booked(app: TestApp) {
    four_programmes(&app).await;
    let (s, list) = app
        .get("/programmes?archived=true", Some(Role::School))
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut seen = titles(&list);
    seen.sort();
    assert_eq!(seen, vec!["Bookable", "Booked"], "{list}");
    assert_eq!(list["total"], 2);
    assert!(!list.to_string().contains("Test Partnership"), "{list}");
    let (_, staff) = app.get("/programmes?archived=true", Some(Role::Lead)).await;
    assert_eq!(staff["total"], 4);
}

both!(a_school_cannot_open_programmes_it_could_not_book);
async fn a_school_cannot_open_programmes_it_could_not_book(app: TestApp) {
    let four = four_programmes(&app).await;
    for id in [four.hidden, four.archived] {
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
    let (s, _) = app
        .get(&format!("/programmes/{}", four.booked), Some(Role::School))
        .await;
    assert_eq!(s, StatusCode::OK, "its own history stays open");
}

both!(a_school_sees_what_and_when_not_who_funds);
async fn a_school_sees_what_and_when_not_who_funds(app: TestApp) {
    let four = four_programmes(&app).await;
    let (s, seen) = app
        .get(
            &format!("/programmes/{}", four.bookable),
            Some(Role::School),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(seen["title"], "Bookable");
    for hidden in [
        "organisation_id",
        "organisation_name",
        "priority_id",
        "target_schools",
    ] {
        assert_eq!(seen[hidden], Value::Null, "{hidden}: {seen}");
    }
}

both!(an_archived_programme_takes_no_bookings);
async fn an_archived_programme_takes_no_bookings(app: TestApp) {
    let p = a_programme(&app)
        .titled("Old round")
        .funded()
        .create()
        .await;
    let e = live_stream(&app, p, 4, Some(100)).await;
    let day = json!({"day": "2031-06-02", "session": "morning"});
    let (s, slot) = app
        .post(&format!("/programmes/{p}/slots"), Some(Role::Lead), day)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{slot}");
    archive(&app, p).await;
    let (s, v) = book(&app, e, json!({"pupils": 20})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("archived"));
    let visit = format!("/slots/{}/bookings", slot["id"]);
    let (s, v) = app
        .post(&visit, Some(Role::School), json!({"pupils": 20}))
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
            use outreach::db::schema::events;
            events::table
                .find(e as i32)
                .select(events::places_confirmed)
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!(places, 0);
}

/// A funded programme with a lead's quote rated 5, and a confirmed booking of ten places
/// by the seeded school: (programme, booking).
async fn ten_places_and_a_quote(app: &TestApp) -> (i64, i64) {
    let p = a_programme(app).titled("Ruby").funded().create().await;
    let e = live_stream(app, p, 5, Some(100)).await;
    let (s, b) = book(app, e, json!({"pupils": 8, "staff": 2})).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(b["status"], "confirmed");
    let quote = json!({"programme_id": p, "role": "teacher", "quote": "Superb", "rating": 5, "consent": true});
    let (s, _) = app.post("/feedback", Some(Role::Lead), quote).await;
    assert_eq!(s, StatusCode::CREATED);
    (p, b["id"].as_i64().unwrap())
}

/// A new feedback link of a booking, made by the school: the form's path.
async fn feedback_link(app: &TestApp, booking: i64) -> String {
    let path = format!("/bookings/{booking}/feedback-links");
    let (s, link) = app.post(&path, Some(Role::School), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{link}");
    let url = link["url"].as_str().unwrap();
    url.trim_start_matches("http://localhost").to_string()
}

/// Sends a pupil's rating of 1 through a link `times` times: (accepted, refused).
async fn rate_one(app: &TestApp, form: &str, times: usize) -> (usize, usize) {
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..times {
        let answer = [("role", "pupil"), ("rating", "1")];
        match app.form(form, None, &answer, true).await.0 {
            StatusCode::SEE_OTHER => accepted += 1,
            StatusCode::CONFLICT => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    (accepted, refused)
}

both!(one_feedback_link_cannot_flood_the_ratings);
async fn one_feedback_link_cannot_flood_the_ratings(app: TestApp) {
    let (_, booking) = ten_places_and_a_quote(&app).await;
    let first = feedback_link(&app, booking).await;
    assert_eq!(
        rate_one(&app, &first, 30).await,
        (10, 20),
        "one answer per place booked"
    );
    // Another link of the same booking shares the cap.
    let second = feedback_link(&app, booking).await;
    let answer = [("role", "pupil"), ("rating", "1")];
    let (s, _, page) = app.form(&second, None, &answer, true).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("everyone it booked"), "{page}");
    assert_eq!(app.count("feedback").await, 11);
}

both!(answers_through_links_wait_for_a_lead);
async fn answers_through_links_wait_for_a_lead(app: TestApp) {
    let (p, booking) = ten_places_and_a_quote(&app).await;
    let first = feedback_link(&app, booking).await;
    feedback_link(&app, booking).await;
    assert_eq!(rate_one(&app, &first, 10).await, (10, 0));
    // The funder's average is the lead's 5 until a lead approves the answers.
    let summary = format!("/programmes/{p}/feedback/summary");
    let (_, summary) = app.get(&summary, Some(Role::Funder)).await;
    assert_eq!(summary["average_rating"], 5.0, "{summary}");
    assert_eq!(summary["awaiting_moderation"], 10);
    // The lead sees how many answered through the links, and what waits for moderation.
    let (s, _, page) = app
        .page(&format!("/programmes/{p}/feedback"), Some(Role::Lead))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("10 answers wait"), "{page}");
    assert!(page.contains("Answers through feedback links"));
    let links = format!("/bookings/{booking}/feedback-links");
    let (_, links) = app.get(&links, Some(Role::Lead)).await;
    let answers: Vec<i64> = links["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["answers"].as_i64().unwrap())
        .collect();
    assert_eq!(answers, vec![0, 10], "newest first: {links}");
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
