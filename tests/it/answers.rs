//! After an event: each school with a confirmed booking is asked once how many came and
//! what they thought; its numbers are a proposal a lead accepts or sets aside.

use axum::http::{Method, StatusCode};
use diesel::prelude::*;
use outreach::db::schema::{attendance, event_answers, feedback, outbox};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::fixtures::a_programme;
use crate::harness::TestApp;

/// The answer links in the letters to `to`, oldest first.
async fn links_to(app: &TestApp, to: &'static str) -> Vec<String> {
    app.mailed_links(to, "/answers/").await
}

/// A live stream booked by the seeded school (30 pupils, 3 staff) and by a second school
/// (booked by the lead), then moved to yesterday: held, not yet completed.
async fn held_stream(app: &TestApp) -> (i64, i64) {
    let p = a_programme(app).create().await;
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    let (_, e) = app
        .post(
            &format!("/programmes/{p}/events"),
            Some(Role::Lead),
            json!({"kind": "live_stream", "starts_at": start.to_rfc3339(), "ends_at": (start + chrono::Duration::hours(1)).to_rfc3339()}),
        )
        .await;
    let e = e["id"].as_i64().expect("an event");
    let (s, b) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::School),
            json!({"pupils": 30, "staff": 3}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (_, other) = app
        .post(
            "/schools",
            Some(Role::Admin),
            json!({"name": "Beck Side School"}),
        )
        .await;
    let other = other["id"].as_i64().expect("a school");
    // Its office has a contact in Outreach (a school without one cannot be asked).
    app.with_db(move |c| {
        outreach::domain::users::create(
            c,
            None,
            outreach::domain::users::UserInput {
                email: "beck@example.org".into(),
                name: "Beck Side office".into(),
                role: Role::School,
                school_id: Some(other as i32),
                organisation_id: None,
                password: Some("a long enough password".into()),
            },
        )
    })
    .await
    .expect("a contact");
    let (s, b) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::Lead),
            json!({"school_id": other, "pupils": 60}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let y = chrono::Utc::now() - chrono::Duration::days(1);
    let (s, v) = app
        .api(
            Method::PUT,
            &format!("/events/{e}"),
            Some(Role::Lead),
            Some(json!({"starts_at": y.to_rfc3339(), "ends_at": (y + chrono::Duration::hours(1)).to_rfc3339()})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    (e, other)
}

both!(completing_asks_each_school_booked_once);
async fn completing_asks_each_school_booked_once(app: TestApp) {
    let (e, _) = held_stream(&app).await;
    assert!(links_to(&app, "school@example.org").await.is_empty());
    // Two leads press Complete at once; then it is undone and completed again.
    let mut runs = Vec::new();
    for _ in 0..2 {
        let router = app.router.clone();
        let token = app.lead.token.clone();
        runs.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let req = axum::http::Request::builder()
                .method(Method::POST)
                .uri(format!("/api/v1/events/{e}/complete"))
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .expect("request");
            router.oneshot(req).await.expect("router").status()
        }));
    }
    for r in runs {
        assert_eq!(r.await.expect("a request"), StatusCode::OK);
    }
    app.post(&format!("/events/{e}/reopen"), Some(Role::Lead), json!({}))
        .await;
    let (s, _) = app
        .post(
            &format!("/events/{e}/complete"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // One letter to the school's contact, one row per school booked, ever.
    let links = links_to(&app, "school@example.org").await;
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(app.count("event_answers").await, 2);
    let subjects: Vec<String> = app
        .with_db(|c| {
            outbox::table
                .filter(outbox::to_address.eq("school@example.org"))
                .select(outbox::subject)
                .load(c)
                .unwrap_or_default()
        })
        .await;
    assert!(
        subjects.contains(&"Thank you: how did it go?".to_string()),
        "{subjects:?}"
    );
    // Nobody has answered yet: the list is empty, the page says 0 of 2.
    let (_, list) = app
        .get(&format!("/events/{e}/answers"), Some(Role::Lead))
        .await;
    assert_eq!(list["items"], json!([]));
    let (_, _, page) = app.page(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert!(page.contains("0 of 2 schools answered"), "{page}");
}

both!(a_school_answers_once_and_a_lead_decides);
async fn a_school_answers_once_and_a_lead_decides(app: TestApp) {
    let (e, other) = held_stream(&app).await;
    app.post(
        &format!("/events/{e}/complete"),
        Some(Role::Lead),
        json!({}),
    )
    .await;
    let link = links_to(&app, "school@example.org").await.remove(0);

    // The form, with no login, starts from what the school booked.
    let (s, _, form) = app.page(&link, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        form.contains("name=\"pupils\"") && form.contains("value=\"30\""),
        "{form}"
    );
    // Bad numbers: refused by the field, nothing kept.
    let (s, _, page) = app
        .form(&link, None, &[("pupils", "-4"), ("staff", "2")], true)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"e-pupils\""), "{page}");
    assert_eq!(app.count("feedback").await, 0);
    // The answer: 58 watched, with a quote and a rating.
    let (s, headers, body) = app
        .form(
            &link,
            None,
            &[
                ("pupils", "58"),
                ("staff", "4"),
                ("other", "0"),
                ("role", "teacher"),
                ("rating", "5"),
                ("quote", "The class talked about it all afternoon."),
                ("consent", "true"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    assert!(headers["location"]
        .to_str()
        .unwrap_or("")
        .ends_with("?thanks=1"));
    let moderation: Vec<String> = app
        .with_db(|c| {
            feedback::table
                .select(feedback::moderation)
                .load(c)
                .unwrap_or_default()
        })
        .await;
    assert_eq!(moderation, vec!["pending".to_string()]);
    // Once: a second answer through the link is refused, and the page says why.
    let (s, _, page) = app.form(&link, None, &[("pupils", "99")], true).await;
    assert_eq!(s, StatusCode::CONFLICT, "{page}");
    let (_, _, page) = app.page(&link, None).await;
    assert!(page.contains("already answered"), "{page}");

    // The lead sees it beside the attendance, and through the API.
    let (_, _, page) = app.page(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert!(page.contains("1 of 2 schools answered"), "{page}");
    assert!(
        page.contains("says 58 pupils, 4 staff, 0 other adults"),
        "{page}"
    );
    let (s, list) = app
        .get(&format!("/events/{e}/answers"), Some(Role::Lead))
        .await;
    assert_eq!(s, StatusCode::OK);
    let item = &list["items"][0];
    assert_eq!(
        (
            item["pupils"].as_i64(),
            item["staff"].as_i64(),
            item["other"].as_i64(),
            item["status"].as_str()
        ),
        (Some(58), Some(4), Some(0), Some("pending")),
        "{list}"
    );
    let (s, _) = app
        .get(&format!("/events/{e}/answers"), Some(Role::School))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Accepted: written as the school's attendance row, audited like any change.
    let id = item["id"].as_i64().expect("an id");
    let (s, a) = app
        .post(
            &format!("/answers/{id}/accept"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, a["status"].as_str()),
        (StatusCode::OK, Some("accepted")),
        "{a}"
    );
    let school = app.school_id;
    let rows: Vec<(Option<i32>, i32, i32, i32)> = app
        .with_db(move |c| {
            attendance::table
                .filter(attendance::event_id.eq(e as i32))
                .select((
                    attendance::school_id,
                    attendance::pupils,
                    attendance::staff,
                    attendance::other_adults,
                ))
                .load(c)
                .unwrap_or_default()
        })
        .await;
    assert_eq!(rows, vec![(Some(school), 58, 4, 0)]);
    let (_, _, audit) = app
        .page("/audit?entity=attendance", Some(Role::Admin))
        .await;
    assert!(audit.contains("58"), "{audit}");
    // Deciding again the other way is refused; the same way is no change.
    let (s, _) = app
        .post(&format!("/answers/{id}/keep"), Some(Role::Lead), json!({}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = app
        .post(
            &format!("/answers/{id}/accept"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // The other school answers; the lead keeps their own figure from the event page.
    let other_answer: i32 = app
        .with_db(move |c| {
            diesel::update(event_answers::table.filter(event_answers::school_id.eq(other as i32)))
                .set((
                    event_answers::status.eq("pending"),
                    event_answers::pupils.eq(75),
                    event_answers::staff.eq(5),
                    event_answers::other_adults.eq(0),
                    event_answers::answered_at.eq(outreach::app::now()),
                ))
                .execute(c)
                .expect("an answer");
            event_answers::table
                .filter(event_answers::school_id.eq(other as i32))
                .select(event_answers::id)
                .first(c)
                .expect("its id")
        })
        .await;
    let (s, headers, _) = app
        .form(
            &format!("/answers/{other_answer}/keep"),
            Some(Role::Lead),
            &[],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(headers["location"]
        .to_str()
        .unwrap_or("")
        .contains("notice=answer_kept"));
    assert_eq!(app.count("attendance").await, 1, "the lead's figures stand");

    // A wrong link says only that.
    let (s, _, page) = app
        .page(&format!("/answers/{}", "0".repeat(64)), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(page.contains("This link does not work"));
}

both!(a_school_that_has_not_answered_is_reminded_once);
async fn a_school_that_has_not_answered_is_reminded_once(app: TestApp) {
    let (e, _) = held_stream(&app).await;
    app.post(
        &format!("/events/{e}/complete"),
        Some(Role::Lead),
        json!({}),
    )
    .await;
    let remind = |app: &TestApp| {
        let state = app.state.clone();
        tokio::spawn(async move {
            state
                .db(|c| {
                    outreach::domain::answers::remind(
                        c,
                        chrono_tz::Europe::London,
                        "http://localhost",
                        7,
                    )
                })
                .await
                .expect("remind")
        })
    };
    // Not yet a week: nobody is reminded.
    assert_eq!(remind(&app).await.expect("a run"), 0);
    app.with_db(|c| {
        diesel::update(event_answers::table)
            .set(event_answers::asked_at.eq(outreach::app::now() - chrono::Duration::days(8)))
            .execute(c)
    })
    .await
    .expect("a week ago");
    // Two workers at once, then again: each school is reminded once.
    let (a, b) = (remind(&app), remind(&app));
    let n = a.await.expect("a run") + b.await.expect("a run") + remind(&app).await.expect("a run");
    assert_eq!(n, 2, "two schools asked, each reminded once");
    let links = links_to(&app, "school@example.org").await;
    assert_eq!(links.len(), 2, "{links:?}");
    assert_ne!(links[0], links[1], "the reminder carries a new link");
    // Either link opens the form.
    for link in &links {
        let (s, _, _) = app.page(link, None).await;
        assert_eq!(s, StatusCode::OK, "{link}");
    }
}
