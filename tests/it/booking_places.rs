//! Places at events: capacity under concurrency, the waiting list, approval, the rules of a booking and its cancellation, through the API and the pages.

use std::sync::Arc;

use axum::http::{header, StatusCode};
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::{a_programme, book, event, schools, venue_event};
use crate::harness::{post_json, TestApp};

both!(concurrent_requests_never_exceed_capacity);
async fn concurrent_requests_never_exceed_capacity(app: TestApp) {
    let e = venue_event(&app, 10, false).await;
    let ids = schools(&app, 44).await;
    let second = app.second_router();
    let token = Arc::new(app.lead.token.clone());
    let mut tasks = Vec::new();
    for (i, school) in ids.iter().enumerate() {
        let router = [app.router.clone(), second.clone()][i % 2].clone();
        let (token, body) = (token.clone(), json!({"school_id": school, "pupils": 1}));
        let path = format!("/events/{e}/bookings");
        tasks.push(tokio::spawn(async move {
            post_json(router, &token, &path, body).await
        }));
    }
    let (mut confirmed, mut waitlisted) = (0, 0);
    for t in tasks {
        let (status, v) = t.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "no request fails: {v}");
        match v["status"].as_str() {
            Some("confirmed") => confirmed += 1,
            Some("waitlisted") => waitlisted += 1,
            other => panic!("unexpected status {other:?}"),
        }
    }
    assert_eq!((confirmed, waitlisted), (10, 34));
    let (_, ev) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(ev["places_confirmed"], 10);
    let confirmed_list = format!("/bookings?event_id={e}&status=confirmed");
    let (_, list) = app.get(&confirmed_list, Some(Role::Lead)).await;
    assert_eq!(list["total"], 10);
}

/// The subjects of the mail queued to an address, oldest first.
async fn subjects_to(app: &TestApp, address: &'static str) -> Vec<String> {
    app.with_db(move |c| {
        use diesel::prelude::*;
        use outreach::db::schema::outbox as o;
        o::table
            .filter(o::to_address.eq(address))
            .order(o::id.asc())
            .select(o::subject)
            .load(c)
            .unwrap()
    })
    .await
}

/// How many status changes of bookings the audit log holds.
async fn booking_status_changes(app: &TestApp) -> usize {
    let actions: Vec<String> = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::audit_entries as a;
            a::table
                .filter(a::entity.eq("booking"))
                .select(a::action)
                .load(c)
                .unwrap()
        })
        .await;
    actions.iter().filter(|a| *a == "status").count()
}

/// Acts on a booking (`confirm`, `decline`, `cancel`) as a role: the status and JSON.
async fn act(
    app: &TestApp,
    booking: &Value,
    action: &str,
    role: Role,
    body: Value,
) -> (StatusCode, Value) {
    let path = format!("/bookings/{}/{action}", booking["id"]);
    app.post(&path, Some(role), body).await
}

both!(waiting_list_moves_up_in_order_when_places_free);
async fn waiting_list_moves_up_in_order_when_places_free(app: TestApp) {
    let e = venue_event(&app, 10, false).await;
    let mut ids = schools(&app, 4).await;
    ids[1] = app.school_id as i64; // the seeded school has a contact to mail
    let places = |i: usize, pupils: i64| json!({"school_id": ids[i], "pupils": pupils, "staff": 1});
    let (_, a) = book(&app, e, Role::Lead, places(0, 7)).await;
    assert_eq!(
        (a["status"].as_str(), a["places"].as_i64()),
        (Some("confirmed"), Some(8))
    );
    let (_, b) = book(&app, e, Role::Lead, places(1, 5)).await;
    assert_eq!(b["status"], "waitlisted");
    let (_, c) = book(&app, e, Role::Lead, places(2, 1)).await;
    assert_eq!(
        c["status"], "confirmed",
        "a small request that fits is confirmed"
    );
    let (_, d) = book(&app, e, Role::Lead, places(3, 2)).await;
    assert_eq!(d["status"], "waitlisted");
    // A frees 8 places: B (6) moves up first; then D (3) no longer fits (2 + 6 + 3 > 10).
    let why = json!({"message": "Coach fell through"});
    let (s, cancelled) = act(&app, &a, "cancel", Role::Lead, why).await;
    assert_eq!(s, StatusCode::OK, "{cancelled}");
    let lead = Some(Role::Lead);
    let (_, b) = app.get(&format!("/bookings/{}", b["id"]), lead).await;
    assert_eq!(b["status"], "confirmed");
    let (_, d) = app.get(&format!("/bookings/{}", d["id"]), lead).await;
    assert_eq!(d["status"], "waitlisted");
    let (_, ev) = app.get(&format!("/events/{e}"), lead).await;
    assert_eq!(ev["places_confirmed"], 8);
    assert_eq!(
        subjects_to(&app, "school@example.org").await,
        vec![
            "On the waiting list",
            "You have moved up from the waiting list"
        ],
        "the school is told each step"
    );
    assert!(booking_status_changes(&app).await >= 2);
}

both!(approval_decline_and_confirm);
async fn approval_decline_and_confirm(app: TestApp) {
    let e = venue_event(&app, 20, true).await;
    let ids = schools(&app, 2).await;
    let (_, a) = book(
        &app,
        e,
        Role::Lead,
        json!({"school_id": ids[0], "pupils": 12}),
    )
    .await;
    assert_eq!(a["status"], "requested");
    let (_, b) = book(
        &app,
        e,
        Role::Lead,
        json!({"school_id": ids[1], "pupils": 15}),
    )
    .await;
    let see_you = json!({"message": "See you there"});
    let (s, a2) = act(&app, &a, "confirm", Role::Lead, see_you).await;
    assert_eq!(
        (s, a2["status"].as_str()),
        (StatusCode::OK, Some("confirmed"))
    );
    let (s, b2) = act(&app, &b, "confirm", Role::Lead, json!({})).await;
    assert_eq!(
        (s, b2["status"].as_str()),
        (StatusCode::OK, Some("waitlisted")),
        "past capacity it waits"
    );
    let full = json!({"message": "Full, sorry"});
    let (s, b3) = act(&app, &b, "decline", Role::Lead, full).await;
    assert_eq!(
        (s, b3["status"].as_str(), b3["message"].as_str()),
        (StatusCode::OK, Some("declined"), Some("Full, sorry"))
    );
    let (s, _) = act(&app, &a, "decline", Role::Lead, json!({})).await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a confirmed booking is cancelled, not declined"
    );
    let (s, _) = act(&app, &a, "confirm", Role::School, json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

both!(who_may_book_for_which_school);
async fn who_may_book_for_which_school(app: TestApp) {
    let e = venue_event(&app, 30, false).await;
    let body = json!({"pupils": 20, "staff": 2, "year_groups": "Year 9"});
    let (s, mine) = book(&app, e, Role::School, body).await;
    assert_eq!(s, StatusCode::CREATED, "{mine}");
    assert_eq!(
        mine["school_id"].as_i64(),
        Some(app.school_id as i64),
        "implied"
    );
    let (s, v) = book(&app, e, Role::School, json!({"pupils": 2})).await;
    assert_eq!(s, StatusCode::CONFLICT, "the same event twice: {v}");
    let other = schools(&app, 1).await[0];
    let for_other = json!({"pupils": 2, "school_id": other});
    let (s, _) = book(&app, e, Role::School, for_other.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "never for another school");
    let (s, v) = book(&app, e, Role::Lead, json!({"pupils": 2})).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a lead names the school: {v}"
    );
    let (s, _) = book(&app, e, Role::Funder, for_other).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

both!(bad_booking_fields_are_refused_by_name);
async fn bad_booking_fields_are_refused_by_name(app: TestApp) {
    let e = venue_event(&app, 30, false).await;
    let other = schools(&app, 1).await[0];
    for body in [
        json!({"pupils": 0, "staff": 0, "school_id": other}),
        json!({"pupils": -3, "school_id": other}),
        json!({"pupils": 31, "school_id": other}),
        json!({"school_id": other}),
    ] {
        let (s, v) = book(&app, e, Role::Lead, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert!(v["error"]["fields"]["pupils"].is_string());
    }
    let (s, _) = app
        .post(
            "/events/99999/bookings",
            Some(Role::Lead),
            json!({"pupils": 2, "school_id": other}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(app.count("bookings").await, 0);
}

both!(past_cancelled_and_draft_events_take_no_bookings);
async fn past_cancelled_and_draft_events_take_no_bookings(app: TestApp) {
    let p = a_programme(&app).year(2030).funded().create().await;
    let at = |day: &str, extra: Value| {
        let mut body = json!({"kind": "live_stream", "starts_at": format!("{day}T10:00:00Z"), "ends_at": format!("{day}T11:00:00Z")});
        if let Some(status) = extra.get("status") {
            body["status"] = status.clone();
        }
        body
    };
    let past = event(&app, p, at("2020-01-01", json!({}))).await;
    let (s, _) = book(&app, past, Role::School, json!({"pupils": 2})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let draft = event(&app, p, at("2030-01-02", json!({"status": "draft"}))).await;
    let (s, _) = book(&app, draft, Role::School, json!({"pupils": 2})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a school does not see drafts");
    let gone = event(&app, p, at("2030-01-03", json!({}))).await;
    app.post(
        &format!("/events/{gone}/cancel"),
        Some(Role::Lead),
        json!({}),
    )
    .await;
    let (s, _) = book(&app, gone, Role::School, json!({"pupils": 2})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(app.count("bookings").await, 0, "nothing was stored");
}

both!(a_school_sees_and_cancels_only_its_own_bookings);
async fn a_school_sees_and_cancels_only_its_own_bookings(app: TestApp) {
    let e = venue_event(&app, 30, false).await;
    let (_, mine) = book(&app, e, Role::School, json!({"pupils": 20, "staff": 2})).await;
    let other = schools(&app, 1).await[0];
    let (_, theirs) = book(
        &app,
        e,
        Role::Lead,
        json!({"pupils": 2, "school_id": other}),
    )
    .await;
    let school = Some(Role::School);
    let (_, list) = app.get("/bookings", school).await;
    assert_eq!(list["total"], 1);
    let (s, _) = app.get("/bookings", Some(Role::Funder)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a funder does not read bookings");
    let (s, _) = app
        .get(&format!("/bookings/{}", theirs["id"]), school)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .post(
            &format!("/bookings/{}/cancel", theirs["id"]),
            school,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Its own, before the cut-off, it may cancel; the places go back.
    let (s, v) = app
        .post(
            &format!("/bookings/{}/cancel", mine["id"]),
            school,
            json!({}),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (_, ev) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(ev["places_confirmed"], 2);
}

both!(school_cannot_cancel_after_the_cut_off);
async fn school_cannot_cancel_after_the_cut_off(app: TestApp) {
    let p = a_programme(&app).year(2030).funded().create().await;
    let soon = (chrono::Utc::now() + chrono::Duration::hours(30))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let soon_end = (chrono::Utc::now() + chrono::Duration::hours(31))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let e = event(
        &app,
        p,
        json!({"kind": "live_stream", "starts_at": soon, "ends_at": soon_end, "capacity": 100}),
    )
    .await;
    let (_, b) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::School),
            json!({"pupils": 30}),
        )
        .await;
    let (s, v) = app
        .post(
            &format!("/bookings/{}/cancel", b["id"]),
            Some(Role::School),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, _) = app
        .post(
            &format!("/bookings/{}/cancel", b["id"]),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "a lead still can");
}

/// Posts a page form as a role; the status and the page.
async fn submit(
    app: &TestApp,
    path: &str,
    role: Role,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let (s, headers, body) = app.form(path, Some(role), fields, true).await;
    let location = headers
        .get(header::LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (s, if body.is_empty() { location } else { body })
}

both!(a_school_books_places_on_the_pages);
async fn a_school_books_places_on_the_pages(app: TestApp) {
    let open = venue_event(&app, 40, false).await;
    let (s, _, page) = app.page("/whats-on", Some(Role::School)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("40</strong> places left"));
    let book = format!("/events/{open}/book");
    let (s, body) = submit(&app, &book, Role::School, &[("pupils", "-1")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("must be at least 0") && body.contains("value=\"-1\""));
    let fields = [("pupils", "28"), ("staff", "2"), ("year_groups", "Year 9")];
    let (s, to) = submit(&app, &book, Role::School, &fields).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(to.contains("booking_confirmed"), "{to}");
    let (_, _, page) = app.page("/whats-on", Some(Role::School)).await;
    assert!(
        page.contains("10</strong> places left"),
        "places taken are not offered again"
    );
    let (s, _, _) = app.page("/whats-on", Some(Role::Funder)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

both!(the_lead_answers_a_request_on_the_pages_and_the_school_cancels);
async fn the_lead_answers_a_request_on_the_pages_and_the_school_cancels(app: TestApp) {
    let approval = venue_event(&app, 40, true).await;
    let (s, _) = submit(
        &app,
        &format!("/events/{approval}/book"),
        Role::School,
        &[("pupils", "20")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, mine) = app.page("/bookings", Some(Role::School)).await;
    assert!(mine.contains("Requested"));
    let (_, _, queue) = app.page("/requests", Some(Role::Lead)).await;
    assert!(queue.contains("Seed School"));
    let (_, list) = app.get("/bookings", Some(Role::School)).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let confirm = format!("/bookings/{id}/confirm");
    assert_eq!(
        submit(&app, &confirm, Role::School, &[]).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, _) = submit(&app, &confirm, Role::Lead, &[("message", "Welcome!")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, v) = app
        .get(&format!("/bookings/{id}"), Some(Role::School))
        .await;
    assert_eq!(
        (v["status"].as_str(), v["message"].as_str()),
        (Some("confirmed"), Some("Welcome!"))
    );
    let cancel = format!("/bookings/{id}/cancel");
    let (s, _) = submit(&app, &cancel, Role::School, &[]).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cancelling needs its box ticked"
    );
    let (s, _) = submit(&app, &cancel, Role::School, &[("confirm", "true")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, v) = app
        .get(&format!("/bookings/{id}"), Some(Role::School))
        .await;
    assert_eq!(v["status"], "cancelled");
}
