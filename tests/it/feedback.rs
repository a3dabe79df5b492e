//! Feedback: quotes, consent and moderation, the quote bank, and the form behind a link.

use axum::http::{header, StatusCode};
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::a_programme;
use crate::harness::TestApp;

/// Moderates a piece of feedback as the lead: the status and JSON.
async fn moderate(app: &TestApp, feedback: &Value, body: Value) -> (StatusCode, Value) {
    let path = format!("/feedback/{}/moderate", feedback["id"]);
    app.post(&path, Some(Role::Lead), body).await
}

/// A funded 2018 programme with a pupil's quote without consent (approved; it cannot be
/// featured) and a teacher's with consent (pending): (programme, private, public).
async fn two_quotes(app: &TestApp) -> (i64, Value, Value) {
    let p = a_programme(app).year(2018).funded().create().await;
    let lead = Some(Role::Lead);
    let (s, private) = app.post("/feedback", lead, json!({"programme_id": p, "role": "pupil", "quote": "Private words", "consent": false, "school_id": app.school_id})).await;
    assert_eq!(s, StatusCode::CREATED, "{private}");
    assert_eq!(private["moderation"], "pending");
    let (_, public) = app.post("/feedback", lead, json!({"programme_id": p, "role": "teacher", "quote": "Moving and insightful", "consent": true, "rating": 5})).await;
    let (s, v) = moderate(
        app,
        &private,
        json!({"moderation": "approved", "featured": true}),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no consent, no feature: {v}"
    );
    let (s, _) = moderate(app, &private, json!({"moderation": "approved"})).await;
    assert_eq!(s, StatusCode::OK);
    (p, private, public)
}

both!(quotes_need_consent_and_approval_to_be_seen);
async fn quotes_need_consent_and_approval_to_be_seen(app: TestApp) {
    let (p, private, public) = two_quotes(&app).await;
    let funder = Some(Role::Funder);
    let bank = format!("/programmes/{p}/feedback");
    let (_, seen) = app.get(&bank, funder).await;
    assert_eq!(
        seen["total"], 0,
        "approved without consent stays hidden, pending stays hidden: {seen}"
    );
    let (s, v) = moderate(
        &app,
        &public,
        json!({"moderation": "approved", "featured": true}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, seen) = app.get(&bank, funder).await;
    assert_eq!(seen["total"], 1);
    assert_eq!(seen["items"][0]["quote"], "Moving and insightful");
    let (s, _) = app
        .get(&format!("/feedback/{}", private["id"]), funder)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, all) = app.get(&bank, Some(Role::Lead)).await;
    assert_eq!(all["total"], 2, "the lead sees everything to moderate");
    let (s, _) = app.get(&bank, Some(Role::School)).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a school sees nothing of a programme it could not book and has not booked"
    );
}

both!(the_pages_show_only_published_quotes);
async fn the_pages_show_only_published_quotes(app: TestApp) {
    let (p, _, public) = two_quotes(&app).await;
    let feature = json!({"moderation": "approved", "featured": true});
    assert_eq!(moderate(&app, &public, feature).await.0, StatusCode::OK);
    let funder = Some(Role::Funder);
    let (_, _, impact) = app.page(&format!("/programmes/{p}/impact"), funder).await;
    assert!(impact.contains("Moving and insightful"));
    assert!(!impact.contains("Private words"));
    let (_, _, page) = app
        .page(&format!("/programmes/{p}/feedback?q=insight"), funder)
        .await;
    assert!(page.contains("Moving and insightful"));
    assert!(!page.contains("Record a quote"));
}

both!(bad_feedback_is_refused);
async fn bad_feedback_is_refused(app: TestApp) {
    let p = a_programme(&app).year(2018).funded().create().await;
    let (_, other) = app
        .post(
            "/programmes",
            Some(Role::Admin),
            json!({"title": "Other", "year": 2019}),
        )
        .await;
    let (_, e) = app.post(&format!("/programmes/{}/events", other["id"]), Some(Role::Lead), json!({"kind": "live_stream", "starts_at": "2019-01-01T10:00:00Z", "ends_at": "2019-01-01T11:00:00Z"})).await;
    let cases = [
        (
            json!({"programme_id": p, "role": "pupil", "quote": "x", "consent": true, "rating": 6}),
            "rating",
        ),
        (
            json!({"programme_id": p, "role": "pupil", "quote": "x", "consent": true, "rating": 0}),
            "rating",
        ),
        (
            json!({"programme_id": p, "role": "pupil", "quote": "x".repeat(2001), "consent": true}),
            "quote",
        ),
        (
            json!({"programme_id": p, "role": "pupil", "quote": "x"}),
            "consent",
        ),
        (
            json!({"programme_id": p, "role": "headteacher", "quote": "x", "consent": true}),
            "role",
        ),
        (
            json!({"programme_id": p, "role": "pupil", "consent": true}),
            "quote",
        ),
        (
            json!({"programme_id": 99999, "role": "pupil", "quote": "x", "consent": true}),
            "programme_id",
        ),
        (
            json!({"programme_id": p, "role": "pupil", "quote": "x", "consent": true, "event_id": e["id"]}),
            "event_id",
        ),
        (
            json!({"programme_id": p, "role": "pupil", "quote": "x", "consent": true, "school_id": 99999}),
            "school_id",
        ),
    ];
    for (body, field) in cases {
        let (s, v) = app.post("/feedback", Some(Role::Lead), body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert!(v["error"]["fields"][field].is_string(), "{field}: {v}");
    }
    assert_eq!(app.count("feedback").await, 0);
    let (s, _) = app
        .post(
            "/feedback",
            Some(Role::School),
            json!({"programme_id": p, "role": "pupil", "quote": "x", "consent": true}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// A confirmed booking of the seeded school on an event of a new programme.
async fn booking(app: &TestApp, p: i64, school: i32) -> i32 {
    // Each on its own day: the company is never in two places at once.
    let day = 1 + (school % 27);
    let (_, e) = app.post(&format!("/programmes/{p}/events"), Some(Role::Lead), json!({"kind": "live_stream", "starts_at": format!("2018-01-{day:02}T10:00:00Z"), "ends_at": format!("2018-01-{day:02}T11:00:00Z")})).await;
    let event = e["id"].as_i64().unwrap() as i32;
    app.with_db(move |c| {
        use diesel::prelude::*;
        use outreach::db::schema::bookings as b;
        let now = outreach::app::now();
        diesel::insert_into(b::table)
            .values((
                b::event_id.eq(event),
                b::school_id.eq(school),
                b::status.eq("confirmed"),
                b::pupils.eq(30),
                b::created_at.eq(now),
                b::updated_at.eq(now),
            ))
            .returning(b::id)
            .get_result::<i32>(c)
            .unwrap()
    })
    .await
}

/// A programme with one outcome statement, a confirmed booking of the seeded school and
/// a feedback link made by that school: (programme, booking, the form's path).
async fn booking_with_link(app: &TestApp) -> (i64, i32, String) {
    let p = a_programme(app).year(2018).funded().create().await;
    app.post(
        &format!("/programmes/{p}/outcomes"),
        Some(Role::Lead),
        json!({"text": "I know how to help a friend"}),
    )
    .await;
    let b = booking(app, p, app.school_id).await;
    let (s, link) = app
        .post(
            &format!("/bookings/{b}/feedback-links"),
            Some(Role::School),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{link}");
    let url = link["url"].as_str().unwrap();
    (p, b, url.trim_start_matches("http://localhost").to_string())
}

/// The id of the programme's first outcome statement.
async fn first_statement(app: &TestApp) -> i32 {
    app.with_db(|c| {
        use diesel::prelude::*;
        use outreach::db::schema::outcome_statements as st;
        st::table.select(st::id).first(c).unwrap()
    })
    .await
}

both!(feedback_links_are_hashed_and_only_the_booking_school_makes_them);
async fn feedback_links_are_hashed_and_only_the_booking_school_makes_them(app: TestApp) {
    let (p, b, path) = booking_with_link(&app).await;
    let token = path.rsplit('/').next().unwrap().to_string();
    assert_eq!(token.len(), 64);
    let stored: Vec<String> = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::feedback_links as fl;
            fl::table.select(fl::token_hash).load(c).unwrap()
        })
        .await;
    assert_eq!(stored, vec![outreach::domain::tokens::hash_secret(&token)]);
    // A second link is another respondent group; the list never shows secrets.
    let (s, again) = app
        .post(
            &format!("/bookings/{b}/feedback-links"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert!(!again["url"].as_str().unwrap().ends_with(&token));
    let (_, list) = app
        .get(&format!("/bookings/{b}/feedback-links"), Some(Role::School))
        .await;
    assert_eq!(list["total"], 2);
    assert!(!list.to_string().contains(&token), "{list}");
    let (_, other_school) = app
        .post("/schools", Some(Role::Admin), json!({"name": "Other"}))
        .await;
    let other = booking(&app, p, other_school["id"].as_i64().unwrap() as i32).await;
    let (s, _) = app
        .post(
            &format!("/bookings/{other}/feedback-links"),
            Some(Role::School),
            json!({}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a school cannot make another school's link"
    );
}

both!(the_feedback_form_checks_its_fields_and_token);
async fn the_feedback_form_checks_its_fields_and_token(app: TestApp) {
    let (_, _, path) = booking_with_link(&app).await;
    let (s, _, form) = app.page(&path, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains("Seed School") && form.contains("I know how to help a friend"));
    let (s, _, body) = app
        .form(&path, None, &[("role", "pupil"), ("rating", "9")], true)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("must be at most 5"));
    let (s, _, _) = app
        .form(&path, None, &[("role", "pupil"), ("rating", "5")], false)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "the form carries a CSRF token");
    assert_eq!(app.count("feedback").await, 0);
}

both!(an_answer_through_a_link_counts_once_approved);
async fn an_answer_through_a_link_counts_once_approved(app: TestApp) {
    let (p, _, path) = booking_with_link(&app).await;
    let outcome = format!("outcome_{}", first_statement(&app).await);
    let answer = [
        ("role", "pupil"),
        ("rating", "5"),
        (outcome.as_str(), "4"),
        ("quote", "Eye-opening"),
        ("consent", "true"),
    ];
    let (s, headers, _) = app.form(&path, None, &answer, true).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(headers[header::LOCATION]
        .to_str()
        .unwrap()
        .ends_with("?thanks=1"));
    let (_, list) = app
        .get(&format!("/programmes/{p}/feedback"), Some(Role::Lead))
        .await;
    let f: &Value = &list["items"][0];
    assert_eq!(
        (
            f["source"].as_str(),
            f["rating"].as_i64(),
            f["moderation"].as_str()
        ),
        (Some("form"), Some(5), Some("pending"))
    );
    assert_eq!(f["answers"][0]["answer"], 4);
    assert_eq!(f["school_id"].as_i64(), Some(app.school_id as i64));
    let summary_path = format!("/programmes/{p}/feedback/summary");
    let before = app.get(&summary_path, Some(Role::Funder)).await.1;
    assert_eq!(before["average_rating"], Value::Null, "{before}");
    assert_eq!(before["awaiting_moderation"], 1);
    let (s, _) = app
        .post(
            &format!("/feedback/{}/moderate", f["id"]),
            Some(Role::Lead),
            json!({"moderation": "approved"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let after = app.get(&summary_path, Some(Role::Funder)).await.1;
    assert_eq!(after["average_rating"], 5.0);
    assert_eq!(after["outcomes"][0]["percent_agree"], 100);
}

both!(wrong_and_expired_links_open_nothing);
async fn wrong_and_expired_links_open_nothing(app: TestApp) {
    let (_, b, path) = booking_with_link(&app).await;
    let (s, headers, body) = app
        .page(&format!("/feedback/{}", "0".repeat(64)), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(
        headers.get("location").is_none(),
        "a pupil is not sent to sign in"
    );
    assert!(body.contains("This feedback link does not work"), "{body}");
    assert!(body.contains("ask your teacher"), "it says what to do");
    let (s, _, _) = app.page("/feedback/../../admin", None).await;
    assert!(s.is_client_error());
    app.with_db(move |c| {
        use diesel::prelude::*;
        use outreach::db::schema::feedback_links as fl;
        diesel::update(fl::table.filter(fl::booking_id.eq(b)))
            .set(fl::expires_at.eq(outreach::app::now() - chrono::Duration::days(1)))
            .execute(c)
            .unwrap();
    })
    .await;
    let (s, _, body) = app.page(&path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("It may have expired"), "{body}");
    let (s, _, body) = app
        .form(&path, None, &[("role", "pupil"), ("rating", "5")], true)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("Nothing you typed was saved"), "{body}");
    assert_eq!(app.count("feedback").await, 0);
}

both!(feedback_form_is_rate_limited);
async fn feedback_form_is_rate_limited(app: TestApp) {
    let p = a_programme(&app).year(2018).funded().create().await;
    let b = booking(&app, p, app.school_id).await;
    // A booking large enough that the hourly limit, not the answer cap, is met first.
    app.with_db(move |c| {
        use diesel::prelude::*;
        use outreach::db::schema::bookings as bk;
        diesel::update(bk::table.find(b))
            .set(bk::pupils.eq(200))
            .execute(c)
            .unwrap();
    })
    .await;
    let (_, link) = app
        .post(
            &format!("/bookings/{b}/feedback-links"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    let token = link["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let limit = outreach::domain::feedback_links::ANSWERS_PER_HOUR;
    for _ in 0..limit {
        let (s, _, _) = app
            .form(
                &format!("/feedback/{token}"),
                None,
                &[("role", "pupil"), ("rating", "4")],
                true,
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
    }
    let (s, _, _) = app
        .form(
            &format!("/feedback/{token}"),
            None,
            &[("role", "pupil"), ("rating", "4")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.count("feedback").await, limit);
}

both!(lead_records_and_moderates_by_form);
async fn lead_records_and_moderates_by_form(app: TestApp) {
    let p = a_programme(&app).year(2018).funded().create().await;
    let path = format!("/programmes/{p}/feedback");
    let (s, _, body) = app
        .form(
            &path,
            Some(Role::Lead),
            &[("role", "teacher"), ("quote", ""), ("rating", "7")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("is required") && body.contains("must be at most 5"));
    let (s, _, _) = app
        .form(
            &path,
            Some(Role::Lead),
            &[
                ("role", "teacher"),
                ("quote", "Great discussion starter"),
                ("consent", "true"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let id: i32 = app
        .with_db(|c| {
            use diesel::prelude::*;
            outreach::db::schema::feedback::table
                .select(outreach::db::schema::feedback::id)
                .first(c)
                .unwrap()
        })
        .await;
    for action in ["approve", "feature"] {
        let (s, _, _) = app
            .form(
                &format!("/feedback/{id}/moderate"),
                Some(Role::Lead),
                &[("action", action)],
                true,
            )
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER);
    }
    let (_, f) = app
        .get(&format!("/feedback/{id}"), Some(Role::Funder))
        .await;
    assert_eq!(
        (f["moderation"].as_str(), f["featured"].as_bool()),
        (Some("approved"), Some(true))
    );
    let (s, _, _) = app
        .form(
            &format!("/feedback/{id}/moderate"),
            Some(Role::Funder),
            &[("action", "reject")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
