//! Booking places: capacity under concurrency, the waiting list, who may book, cancel rules.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use outreach::domain::types::Role;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::both;
use crate::fixtures::{a_programme, event, schools, venue_event};
use crate::harness::TestApp;

both!(concurrent_requests_never_exceed_capacity);
async fn concurrent_requests_never_exceed_capacity(app: TestApp) {
    let e = venue_event(&app, 10, false).await;
    let ids = schools(&app, 44).await;
    // A second app process on the same database: its own pool and router.
    let second = {
        let url = outreach::db::DbUrl::parse(&app.database_url).unwrap();
        let pool = outreach::db::connect(&url, 6).unwrap();
        let config = outreach::config::Config::new(
            &app.database_url,
            "127.0.0.1:0",
            Some("http://localhost"),
            "Europe/London",
            None,
        )
        .unwrap();
        outreach::build_router(outreach::app::App::new(pool, config))
    };
    let token = Arc::new(app.lead.token.clone());
    let mut tasks = Vec::new();
    for (i, school) in ids.iter().enumerate() {
        let router = if i % 2 == 0 {
            app.router.clone()
        } else {
            second.clone()
        };
        let token = token.clone();
        let body = json!({"school_id": school, "pupils": 1}).to_string();
        tasks.push(tokio::spawn(async move {
            let req = Request::builder()
                .method(Method::POST)
                .uri(format!("/api/v1/events/{e}/bookings"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body))
                .unwrap();
            let response = router.oneshot(req).await.unwrap();
            let status = response.status();
            let bytes = http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .to_bytes();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }));
    }
    let mut confirmed = 0;
    let mut waitlisted = 0;
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
    let (_, list) = app
        .get(
            &format!("/bookings?event_id={e}&status=confirmed"),
            Some(Role::Lead),
        )
        .await;
    assert_eq!(list["total"], 10);
}

both!(waiting_list_moves_up_in_order_when_places_free);
async fn waiting_list_moves_up_in_order_when_places_free(app: TestApp) {
    let e = venue_event(&app, 10, false).await;
    let mut ids = schools(&app, 4).await;
    ids[1] = app.school_id as i64; // the seeded school has a contact to mail
    let lead = Some(Role::Lead);
    let book =
        |school: i64, pupils: i64| json!({"school_id": school, "pupils": pupils, "staff": 1});
    let (_, a) = app
        .post(&format!("/events/{e}/bookings"), lead, book(ids[0], 7))
        .await;
    assert_eq!(a["status"], "confirmed");
    assert_eq!(a["places"], 8);
    let (_, b) = app
        .post(&format!("/events/{e}/bookings"), lead, book(ids[1], 5))
        .await;
    assert_eq!(b["status"], "waitlisted");
    let (_, c) = app
        .post(&format!("/events/{e}/bookings"), lead, book(ids[2], 1))
        .await;
    assert_eq!(
        c["status"], "confirmed",
        "a small request that fits is confirmed"
    );
    let (_, d) = app
        .post(&format!("/events/{e}/bookings"), lead, book(ids[3], 2))
        .await;
    assert_eq!(d["status"], "waitlisted");
    // A frees 8 places: B (6) moves up first, then D (3) no longer fits (6 + 2 + 3 > 10)… D fits? 2 + 6 = 8, +3 = 11: no.
    let (s, cancelled) = app
        .post(
            &format!("/bookings/{}/cancel", a["id"]),
            lead,
            json!({"message": "Coach fell through"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{cancelled}");
    let (_, b) = app.get(&format!("/bookings/{}", b["id"]), lead).await;
    assert_eq!(b["status"], "confirmed");
    let (_, d) = app.get(&format!("/bookings/{}", d["id"]), lead).await;
    assert_eq!(d["status"], "waitlisted");
    let (_, ev) = app.get(&format!("/events/{e}"), lead).await;
    assert_eq!(ev["places_confirmed"], 8);
    let mails: Vec<(String, String)> = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::outbox as o;
            o::table
                .order(o::id.asc())
                .select((o::to_address, o::subject))
                .load(c)
                .unwrap()
        })
        .await;
    let to_school: Vec<&str> = mails
        .iter()
        .filter(|m| m.0 == "school@example.org")
        .map(|m| m.1.as_str())
        .collect();
    assert_eq!(
        to_school,
        vec![
            "On the waiting list",
            "You have moved up from the waiting list"
        ],
        "the school is told each step"
    );
    let audit: Vec<String> = app
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
    assert!(audit.iter().filter(|a| *a == "status").count() >= 2);
}

both!(approval_decline_and_confirm);
async fn approval_decline_and_confirm(app: TestApp) {
    let e = venue_event(&app, 20, true).await;
    let ids = schools(&app, 2).await;
    let lead = Some(Role::Lead);
    let (_, a) = app
        .post(
            &format!("/events/{e}/bookings"),
            lead,
            json!({"school_id": ids[0], "pupils": 12}),
        )
        .await;
    assert_eq!(a["status"], "requested");
    let (_, b) = app
        .post(
            &format!("/events/{e}/bookings"),
            lead,
            json!({"school_id": ids[1], "pupils": 15}),
        )
        .await;
    let (s, a) = app
        .post(
            &format!("/bookings/{}/confirm", a["id"]),
            lead,
            json!({"message": "See you there"}),
        )
        .await;
    assert_eq!(
        (s, a["status"].as_str()),
        (StatusCode::OK, Some("confirmed"))
    );
    let (s, b2) = app
        .post(&format!("/bookings/{}/confirm", b["id"]), lead, json!({}))
        .await;
    assert_eq!(
        (s, b2["status"].as_str()),
        (StatusCode::OK, Some("waitlisted")),
        "past capacity it waits"
    );
    let (s, b3) = app
        .post(
            &format!("/bookings/{}/decline", b["id"]),
            lead,
            json!({"message": "Full, sorry"}),
        )
        .await;
    assert_eq!(
        (s, b3["status"].as_str(), b3["message"].as_str()),
        (StatusCode::OK, Some("declined"), Some("Full, sorry"))
    );
    let (s, _) = app
        .post(&format!("/bookings/{}/decline", a["id"]), lead, json!({}))
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "a confirmed booking is cancelled, not declined"
    );
    let (s, _) = app
        .post(
            &format!("/bookings/{}/confirm", a["id"]),
            Some(Role::School),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

both!(booking_rules);
async fn booking_rules(app: TestApp) {
    let e = venue_event(&app, 30, false).await;
    let school = Some(Role::School);
    // A school books for itself; the school is implied.
    let (s, mine) = app
        .post(
            &format!("/events/{e}/bookings"),
            school,
            json!({"pupils": 20, "staff": 2, "year_groups": "Year 9"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mine}");
    assert_eq!(mine["school_id"].as_i64(), Some(app.school_id as i64));
    let (s, v) = app
        .post(
            &format!("/events/{e}/bookings"),
            school,
            json!({"pupils": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "the same event twice: {v}");
    let others = schools(&app, 1).await;
    let (s, _) = app
        .post(
            &format!("/events/{e}/bookings"),
            school,
            json!({"pupils": 2, "school_id": others[0]}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "never for another school");
    let (s, v) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::Lead),
            json!({"pupils": 2}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a lead names the school: {v}"
    );
    let (s, _) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::Funder),
            json!({"pupils": 2, "school_id": others[0]}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for (body, field) in [
        (
            json!({"pupils": 0, "staff": 0, "school_id": others[0]}),
            "pupils",
        ),
        (json!({"pupils": -3, "school_id": others[0]}), "pupils"),
        (json!({"pupils": 31, "school_id": others[0]}), "pupils"),
        (json!({"school_id": others[0]}), "pupils"),
    ] {
        let (s, v) = app
            .post(
                &format!("/events/{e}/bookings"),
                Some(Role::Lead),
                body.clone(),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert!(v["error"]["fields"][field].is_string());
    }
    let (s, _) = app
        .post(
            "/events/99999/bookings",
            Some(Role::Lead),
            json!({"pupils": 2, "school_id": others[0]}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Past, cancelled and draft events are not bookable.
    let p = a_programme(&app).year(2030).funded().create().await;
    let past = event(&app, p, json!({"kind": "live_stream", "starts_at": "2020-01-01T10:00:00Z", "ends_at": "2020-01-01T11:00:00Z"})).await;
    let (s, _) = app
        .post(
            &format!("/events/{past}/bookings"),
            school,
            json!({"pupils": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let draft = event(&app, p, json!({"kind": "live_stream", "starts_at": "2030-01-02T10:00:00Z", "ends_at": "2030-01-02T11:00:00Z", "status": "draft"})).await;
    let (s, _) = app
        .post(
            &format!("/events/{draft}/bookings"),
            school,
            json!({"pupils": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a school does not see drafts");
    let gone = event(&app, p, json!({"kind": "live_stream", "starts_at": "2030-01-03T10:00:00Z", "ends_at": "2030-01-03T11:00:00Z"})).await;
    app.post(
        &format!("/events/{gone}/cancel"),
        Some(Role::Lead),
        json!({}),
    )
    .await;
    let (s, _) = app
        .post(
            &format!("/events/{gone}/bookings"),
            school,
            json!({"pupils": 2}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(app.count("bookings").await, 1, "nothing else was stored");
    // A school sees only its own bookings.
    let (_, theirs) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::Lead),
            json!({"pupils": 2, "school_id": others[0]}),
        )
        .await;
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
    // The school cancels its own before the cut-off.
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

both!(school_books_through_the_pages_and_the_lead_answers);
async fn school_books_through_the_pages_and_the_lead_answers(app: TestApp) {
    let open = venue_event(&app, 40, false).await;
    let approval = venue_event(&app, 40, true).await;
    let (s, _, page) = app.page("/whats-on", Some(Role::School)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("40</strong> places left"));
    let (s, _, body) = app
        .form(
            &format!("/events/{open}/book"),
            Some(Role::School),
            &[("pupils", "-1")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("must be at least 0") && body.contains("value=\"-1\""));
    let (s, headers, _) = app
        .form(
            &format!("/events/{open}/book"),
            Some(Role::School),
            &[("pupils", "28"), ("staff", "2"), ("year_groups", "Year 9")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(headers[header::LOCATION]
        .to_str()
        .unwrap()
        .contains("booking_confirmed"));
    let (_, _, page) = app.page("/whats-on", Some(Role::School)).await;
    assert!(
        page.contains("10</strong> places left"),
        "the places taken are no longer offered"
    );
    let (s, _, _) = app
        .form(
            &format!("/events/{approval}/book"),
            Some(Role::School),
            &[("pupils", "20")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, mine) = app.page("/bookings", Some(Role::School)).await;
    assert!(mine.contains("Confirmed") && mine.contains("Requested"));
    let (_, _, queue) = app.page("/requests", Some(Role::Lead)).await;
    assert!(queue.contains("Seed School"));
    let id: i32 = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::bookings as b;
            b::table
                .filter(b::status.eq("requested"))
                .select(b::id)
                .first(c)
                .unwrap()
        })
        .await;
    let (s, _, _) = app
        .form(
            &format!("/bookings/{id}/confirm"),
            Some(Role::School),
            &[],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = app
        .form(
            &format!("/bookings/{id}/confirm"),
            Some(Role::Lead),
            &[("message", "Welcome!")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, v) = app
        .get(&format!("/bookings/{id}"), Some(Role::School))
        .await;
    assert_eq!(
        (v["status"].as_str(), v["message"].as_str()),
        (Some("confirmed"), Some("Welcome!"))
    );
    let (s, _, _) = app
        .form(
            &format!("/bookings/{id}/cancel"),
            Some(Role::School),
            &[],
            true,
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cancelling needs its box ticked"
    );
    let (s, _, _) = app
        .form(
            &format!("/bookings/{id}/cancel"),
            Some(Role::School),
            &[("confirm", "true")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, v) = app
        .get(&format!("/bookings/{id}"), Some(Role::School))
        .await;
    assert_eq!(v["status"], "cancelled");
    let (s, _, _) = app.page("/whats-on", Some(Role::Funder)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

both!(tour_dates_are_offered_without_clashes);
async fn tour_dates_are_offered_without_clashes(app: TestApp) {
    let p = a_programme(&app)
        .titled("County Lines")
        .year(2030)
        .between("2030-01-07", "2030-07-19")
        .create()
        .await;
    let lead = Some(Role::Lead);
    let (s, slot) = app
        .post(
            &format!("/programmes/{p}/slots"),
            lead,
            json!({"day": "2030-02-04", "session": "morning"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{slot}");
    let (s, v) = app
        .post(
            &format!("/programmes/{p}/slots"),
            lead,
            json!({"day": "2030-02-04", "session": "morning"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tour date of 4 Feb 2030"),
        "the clash is named: {v}"
    );
    let (s, v) = app.post(&format!("/programmes/{p}/events"), lead, json!({"kind": "live_stream", "starts_at": "2030-02-04T10:00:00Z", "ends_at": "2030-02-04T11:00:00Z"})).await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "an event cannot overlap a tour date: {v}"
    );
    for (body, field) in [
        (json!({"day": "2031-01-05", "session": "morning"}), "day"),
        (json!({"day": "2020-01-06", "session": "morning"}), "day"),
        (
            json!({"day": "2030-02-05", "session": "evening"}),
            "session",
        ),
        (json!({"session": "morning"}), "day"),
    ] {
        let (s, v) = app
            .post(&format!("/programmes/{p}/slots"), lead, body.clone())
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert!(v["error"]["fields"][field].is_string(), "{field}: {v}");
    }
    // Every weekday of two weeks, mornings: ten dates, one of them already offered.
    let (s, bulk) = app
        .post(
            &format!("/programmes/{p}/slots/bulk"),
            lead,
            json!({"from": "2030-02-04", "to": "2030-02-17", "morning": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{bulk}");
    assert_eq!(bulk["created"].as_array().unwrap().len(), 9);
    assert_eq!(bulk["skipped"].as_array().unwrap().len(), 1);
    let (_, list) = app
        .get(&format!("/programmes/{p}/slots"), Some(Role::Funder))
        .await;
    assert_eq!(
        list,
        json!({"error": {"code": "not_found", "message": "not found", "fields": {}}}),
        "a funder sees only its organisation's programmes"
    );
    let (_, list) = app.get(&format!("/programmes/{p}/slots"), lead).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 10);
    let (s, _) = app
        .post(
            &format!("/programmes/{p}/slots/bulk"),
            lead,
            json!({"from": "2030-02-04", "to": "2030-02-17"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a session must be chosen"
    );
}

both!(visit_requests_become_events_and_a_slot_holds_one_visit);
async fn visit_requests_become_events_and_a_slot_holds_one_visit(app: TestApp) {
    let p = a_programme(&app)
        .titled("County Lines")
        .year(2030)
        .between("2030-01-07", "2030-07-19")
        .create()
        .await;
    let lead = Some(Role::Lead);
    let (_, slot) = app
        .post(
            &format!("/programmes/{p}/slots"),
            lead,
            json!({"day": "2030-03-04", "session": "morning"}),
        )
        .await;
    let slot = slot["id"].as_i64().unwrap();
    let other = schools(&app, 1).await[0];
    let (s, mine) = app.post(&format!("/slots/{slot}/bookings"), Some(Role::School), json!({"pupils": 150, "staff": 10, "year_groups": "Years 9 and 10", "access_needs": "Step-free hall"})).await;
    assert_eq!(
        (s, mine["status"].as_str()),
        (StatusCode::CREATED, Some("requested")),
        "{mine}"
    );
    let (s, _) = app
        .post(
            &format!("/slots/{slot}/bookings"),
            Some(Role::School),
            json!({"pupils": 20}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "the same school twice");
    let (_, theirs) = app
        .post(
            &format!("/slots/{slot}/bookings"),
            lead,
            json!({"pupils": 90, "school_id": other}),
        )
        .await;
    let (s, v) = app
        .post(
            &format!("/bookings/{}/confirm", mine["id"]),
            lead,
            json!({"message": "See you then"}),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("confirmed")),
        "{v}"
    );
    let (_, evs) = app.get(&format!("/programmes/{p}/events"), lead).await;
    let kinds: Vec<(&str, i64)> = evs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["school_id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("performance", app.school_id as i64),
            ("workshop", app.school_id as i64)
        ]
    );
    let (_, t) = app.get(&format!("/bookings/{}", theirs["id"]), lead).await;
    assert_eq!(
        t["status"], "declined",
        "the other request is told the date was taken"
    );
    let (s, _) = app
        .post(
            &format!("/bookings/{}/confirm", theirs["id"]),
            lead,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The database itself refuses a second confirmed visit on the slot.
    let second = app
        .with_db(move |c| {
            use diesel::prelude::*;
            use outreach::db::schema::bookings as b;
            let now = outreach::app::now();
            diesel::insert_into(b::table)
                .values((
                    b::slot_id.eq(slot as i32),
                    b::school_id.eq(other as i32),
                    b::status.eq("confirmed"),
                    b::pupils.eq(1),
                    b::created_at.eq(now),
                    b::updated_at.eq(now),
                ))
                .execute(c)
        })
        .await;
    assert!(
        second.is_err(),
        "two confirmed visits on one slot are impossible"
    );
    // Cancelling the visit frees the date and cancels its events.
    let (s, _) = app
        .post(&format!("/bookings/{}/cancel", mine["id"]), lead, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, slots) = app.get(&format!("/programmes/{p}/slots"), lead).await;
    assert_eq!(slots["items"][0]["status"], "open");
    let (_, evs) = app.get(&format!("/programmes/{p}/events"), lead).await;
    assert!(evs["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["status"] == "cancelled"));
}

both!(tour_dates_through_the_pages);
async fn tour_dates_through_the_pages(app: TestApp) {
    let p = a_programme(&app)
        .titled("County Lines")
        .year(2030)
        .between("2030-01-07", "2030-07-19")
        .create()
        .await;
    let path = format!("/programmes/{p}/slots");
    let (s, _, body) = app
        .form(
            &format!("{path}/bulk"),
            Some(Role::Lead),
            &[
                ("from", "2030-02-04"),
                ("to", "2030-02-01"),
                ("morning", "true"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("must be on or after the first day"));
    let (s, _, _) = app
        .form(
            &format!("{path}/bulk"),
            Some(Role::Lead),
            &[
                ("from", "2030-02-04"),
                ("to", "2030-02-08"),
                ("afternoon", "true"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _, body) = app
        .form(
            &path,
            Some(Role::Lead),
            &[("day", "2030-02-04"), ("session", "afternoon")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("already busy"),
        "the clash is named on the page"
    );
    let (_, _, page) = app.page(&path, Some(Role::Lead)).await;
    assert_eq!(page.matches("status-open").count(), 5);
    let (_, _, whats_on) = app.page("/whats-on", Some(Role::School)).await;
    assert!(whats_on.contains("County Lines: Monday 4 February 2030"));
    let slot: i32 = app
        .with_db(|c| {
            use diesel::prelude::*;
            outreach::db::schema::tour_slots::table
                .select(outreach::db::schema::tour_slots::id)
                .order(outreach::db::schema::tour_slots::id.asc())
                .first(c)
                .unwrap()
        })
        .await;
    let (s, _, body) = app
        .form(
            &format!("/slots/{slot}/request"),
            Some(Role::School),
            &[("pupils", "")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("is required"));
    let (s, _, _) = app
        .form(
            &format!("/slots/{slot}/request"),
            Some(Role::School),
            &[("pupils", "120"), ("staff", "8")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, mine) = app.page("/bookings", Some(Role::School)).await;
    assert!(mine.contains("Visit to the school") && mine.contains("Mon 4 Feb 2030"));
    let (_, _, whats_on) = app.page("/whats-on", Some(Role::School)).await;
    assert!(
        !whats_on.contains("County Lines: Monday 4 February 2030"),
        "a date already asked for is not offered again"
    );
    assert!(whats_on.contains("County Lines: Tuesday 5 February 2030"));
    let (s, _, _) = app
        .form(
            &path,
            Some(Role::School),
            &[("day", "2030-03-04"), ("session", "morning")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

both!(calendar_feeds_follow_the_events);
async fn calendar_feeds_follow_the_events(app: TestApp) {
    let e = venue_event(&app, 50, false).await;
    app.post(
        &format!("/events/{e}/bookings"),
        Some(Role::School),
        json!({"pupils": 20}),
    )
    .await;
    let (s, info) = app
        .get(
            &format!("/schools/{}/calendar", app.school_id),
            Some(Role::School),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{info}");
    assert_eq!(info["made"], false);
    let (s, link) = app
        .post(
            &format!("/schools/{}/calendar/regenerate", app.school_id),
            Some(Role::School),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{link}");
    let (_, info) = app
        .get(
            &format!("/schools/{}/calendar", app.school_id),
            Some(Role::School),
        )
        .await;
    assert_eq!(info["made"], true);
    assert!(
        !info.to_string().contains("calendar/school/"),
        "the secret is shown only once"
    );
    let url = link["url"].as_str().unwrap().to_string();
    let path = url.trim_start_matches("http://localhost").to_string();
    let (s, headers, body) = app.page(&path, None).await;
    assert_eq!(s, StatusCode::OK, "no login needed: the token is the key");
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    assert!(body.contains("BEGIN:VCALENDAR") && body.contains(&format!("UID:event-{e}@localhost")));
    assert!(body.contains("SEQUENCE:0") && body.contains("STATUS:CONFIRMED"));
    // Cancelled: the same UID, a higher SEQUENCE, STATUS:CANCELLED.
    app.post(&format!("/events/{e}/cancel"), Some(Role::Lead), json!({}))
        .await;
    let (_, _, body) = app.page(&path, None).await;
    assert!(
        body.contains(&format!("UID:event-{e}@localhost"))
            && body.contains("SEQUENCE:1")
            && body.contains("STATUS:CANCELLED"),
        "{body}"
    );
    // Another school cannot read this school's link; a renewed link retires the old one.
    let (_, other) = app
        .post("/schools", Some(Role::Admin), json!({"name": "Other"}))
        .await;
    let (s, _) = app
        .get(
            &format!("/schools/{}/calendar", other["id"]),
            Some(Role::School),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, renewed) = app
        .post(
            &format!("/schools/{}/calendar/regenerate", app.school_id),
            Some(Role::School),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_ne!(renewed["url"], link["url"]);
    let (s, _, _) = app.page(&path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = app
        .page(&format!("/calendar/school/{}.ics", "a".repeat(64)), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Only a hash of each secret is stored.
    let secret = renewed["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_string();
    let hashes: Vec<String> = app
        .with_db(|c| {
            use diesel::prelude::*;
            outreach::db::schema::calendar_links::table
                .select(outreach::db::schema::calendar_links::token_hash)
                .load(c)
                .unwrap()
        })
        .await;
    assert!(hashes.contains(&outreach::domain::tokens::hash_secret(&secret)));
    assert!(!hashes.contains(&secret));
    // The programme's feed, for staff, each with a link of their own.
    let (_, ev) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    let programme = ev["programme_id"].as_i64().unwrap();
    let (s, plink) = app
        .post(
            &format!("/programmes/{programme}/calendar/regenerate"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let lead_path = plink["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://localhost")
        .to_string();
    let (s, _, body) = app.page(&lead_path, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("Brewery Arts Centre"));
    let (s, _) = app
        .post(
            &format!("/programmes/{programme}/calendar/regenerate"),
            Some(Role::Admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = app.page(&lead_path, None).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "another person's new link leaves the lead's working"
    );
    for role in [Role::School, Role::Funder] {
        let (s, _) = app
            .get(&format!("/programmes/{programme}/calendar"), Some(role))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role:?}");
        // Regenerating is a write: never a school's or a funder's to make for a programme.
        let (s, _) = app
            .post(
                &format!("/programmes/{programme}/calendar/regenerate"),
                Some(role),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role:?}");
    }
    let (s, _, _) = app.page(&lead_path, None).await;
    assert_eq!(s, StatusCode::OK, "the lead's link still works");
    // A link stops working when its owner loses access.
    let (s, _) = app
        .post(
            &format!("/users/{}/archive", app.lead.user_id),
            Some(Role::Admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = app.page(&lead_path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

both!(cancelling_an_event_cancels_its_bookings_and_tells_the_schools);
async fn cancelling_an_event_cancels_its_bookings_and_tells_the_schools(app: TestApp) {
    let e = venue_event(&app, 5, false).await;
    let others = schools(&app, 1).await;
    let (_, mine) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::School),
            json!({"pupils": 4}),
        )
        .await;
    let (_, waiting) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::Lead),
            json!({"pupils": 4, "school_id": others[0]}),
        )
        .await;
    assert_eq!(
        (mine["status"].as_str(), waiting["status"].as_str()),
        (Some("confirmed"), Some("waitlisted"))
    );
    let (s, _) = app
        .post(&format!("/events/{e}/cancel"), Some(Role::Lead), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    for id in [&mine["id"], &waiting["id"]] {
        let (_, b) = app.get(&format!("/bookings/{id}"), Some(Role::Lead)).await;
        assert_eq!(b["status"], "cancelled", "{b}");
    }
    let (_, ev) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(ev["places_confirmed"], 0);
    let told: i64 = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::outbox as o;
            o::table
                .filter(o::to_address.eq("school@example.org"))
                .filter(o::subject.eq("Event cancelled"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(told, 1);
}

both!(moving_an_event_tells_the_schools_and_capacity_changes_move_the_queue);
async fn moving_an_event_tells_the_schools_and_capacity_changes_move_the_queue(app: TestApp) {
    let e = venue_event(&app, 4, false).await;
    let others = schools(&app, 1).await;
    app.post(
        &format!("/events/{e}/bookings"),
        Some(Role::School),
        json!({"pupils": 4}),
    )
    .await;
    let (_, waiting) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::Lead),
            json!({"pupils": 3, "school_id": others[0]}),
        )
        .await;
    assert_eq!(waiting["status"], "waitlisted");
    let (s, v) = app.api(Method::PUT, &format!("/events/{e}"), Some(Role::Lead), Some(json!({"starts_at": "2030-03-16T19:00:00Z", "ends_at": "2030-03-16T20:30:00Z", "capacity": 2}))).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "capacity below the places confirmed: {v}"
    );
    let (s, moved) = app.api(Method::PUT, &format!("/events/{e}"), Some(Role::Lead), Some(json!({"starts_at": "2030-03-16T19:00:00Z", "ends_at": "2030-03-16T20:30:00Z", "capacity": 7}))).await;
    assert_eq!(s, StatusCode::OK, "{moved}");
    assert_eq!(
        (moved["sequence"].as_i64(), moved["starts_at"].as_str()),
        (Some(1), Some("2030-03-16T19:00:00Z"))
    );
    let (_, w) = app
        .get(&format!("/bookings/{}", waiting["id"]), Some(Role::Lead))
        .await;
    assert_eq!(
        w["status"], "confirmed",
        "the larger capacity moved the queue up"
    );
    let told: i64 = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::outbox as o;
            o::table
                .filter(o::to_address.eq("school@example.org"))
                .filter(o::subject.eq("Event moved"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(told, 1);
    let (s, _) = app
        .api(
            Method::PUT,
            &format!("/events/{e}"),
            Some(Role::School),
            Some(json!({"starts_at": "2030-03-16T19:00:00Z", "ends_at": "2030-03-16T20:30:00Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

both!(schools_are_reminded_once_before_the_event);
async fn schools_are_reminded_once_before_the_event(app: TestApp) {
    let p = a_programme(&app).year(2030).funded().create().await;
    let start = chrono::Utc::now() + chrono::Duration::days(2);
    let (s, e) = app.post(&format!("/programmes/{p}/events"), Some(Role::Lead), json!({"kind": "live_stream", "starts_at": start.to_rfc3339(), "ends_at": (start + chrono::Duration::hours(1)).to_rfc3339()})).await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let far = chrono::Utc::now() + chrono::Duration::days(20);
    let (_, later) = app.post(&format!("/programmes/{p}/events"), Some(Role::Lead), json!({"kind": "live_stream", "starts_at": far.to_rfc3339(), "ends_at": (far + chrono::Duration::hours(1)).to_rfc3339()})).await;
    app.post(
        &format!("/events/{}/bookings", e["id"]),
        Some(Role::School),
        json!({"pupils": 10}),
    )
    .await;
    app.post(
        &format!("/events/{}/bookings", later["id"]),
        Some(Role::School),
        json!({"pupils": 10}),
    )
    .await;
    let rules = app.state.rules();
    assert_eq!(rules.reminder_days, 3);
    let first = app
        .with_db(move |c| outreach::domain::schedule::queue_reminders(c, &rules).unwrap())
        .await;
    let again = app
        .with_db(move |c| outreach::domain::schedule::queue_reminders(c, &rules).unwrap())
        .await;
    assert_eq!(
        (first, again),
        (1, 0),
        "one reminder, for the event within three days, once"
    );
}

both!(month_calendar_shows_dates_and_events_with_their_state);
async fn month_calendar_shows_dates_and_events_with_their_state(app: TestApp) {
    let p = a_programme(&app)
        .titled("County Lines")
        .year(2030)
        .between("2030-01-07", "2030-07-19")
        .create()
        .await;
    app.post(
        &format!("/programmes/{p}/slots"),
        Some(Role::Lead),
        json!({"day": "2030-02-04", "session": "morning"}),
    )
    .await;
    let e = event(&app, p, json!({"kind": "live_stream", "starts_at": "2030-02-06T13:30:00Z", "ends_at": "2030-02-06T14:30:00Z"})).await;
    app.post(&format!("/events/{e}/cancel"), Some(Role::Lead), json!({}))
        .await;
    let (s, _, page) = app
        .page(
            &format!("/programmes/{p}/calendar?month=2030-02"),
            Some(Role::Lead),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("February 2030"));
    assert!(page.contains("Tour date (morning)") && page.contains("cal-item status-open"));
    assert!(page.contains(&format!("/events/{e}")) && page.contains("cal-item status-cancelled"));
    let (_, _, march) = app
        .page(
            &format!("/programmes/{p}/calendar?month=2030-03"),
            Some(Role::Lead),
        )
        .await;
    assert!(!march.contains("Tour date (morning)"));
    let (_, _, default) = app
        .page(&format!("/programmes/{p}/calendar"), Some(Role::Lead))
        .await;
    assert!(
        default.contains("February 2030"),
        "opens on the month of the next date"
    );
    let (s, _, _) = app
        .page(
            &format!("/programmes/{p}/calendar?month=nonsense"),
            Some(Role::Lead),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = app
        .page(&format!("/programmes/{p}/calendar"), Some(Role::School))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
