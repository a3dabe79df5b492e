//! Tour dates and visits: offered without clashes, requested, confirmed into events at the school, through the API and the pages.

use axum::http::StatusCode;
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::{a_programme, schools};
use crate::harness::TestApp;

/// County Lines 2030, touring 7 January to 19 July.
async fn county_lines_2030(app: &TestApp) -> i64 {
    a_programme(app)
        .titled("County Lines")
        .year(2030)
        .between("2030-01-07", "2030-07-19")
        .create()
        .await
}

/// Offers a tour date as the lead (JSON); the answer.
async fn offer(app: &TestApp, p: i64, body: Value) -> (StatusCode, Value) {
    app.post(&format!("/programmes/{p}/slots"), Some(Role::Lead), body)
        .await
}

both!(a_tour_date_is_offered_once_and_blocks_events);
async fn a_tour_date_is_offered_once_and_blocks_events(app: TestApp) {
    let p = county_lines_2030(&app).await;
    let morning = json!({"day": "2030-02-04", "session": "morning"});
    let (s, slot) = offer(&app, p, morning.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{slot}");
    let (s, v) = offer(&app, p, morning).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tour date of 4 Feb 2030"),
        "the clash is named: {v}"
    );
    let stream = json!({"kind": "live_stream", "starts_at": "2030-02-04T10:00:00Z", "ends_at": "2030-02-04T11:00:00Z"});
    let (s, v) = app
        .post(&format!("/programmes/{p}/events"), Some(Role::Lead), stream)
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "an event cannot overlap a tour date: {v}"
    );
}

both!(a_bad_tour_date_is_refused_by_field);
async fn a_bad_tour_date_is_refused_by_field(app: TestApp) {
    let p = county_lines_2030(&app).await;
    for (body, field) in [
        (json!({"day": "2031-01-05", "session": "morning"}), "day"),
        (json!({"day": "2020-01-06", "session": "morning"}), "day"),
        (
            json!({"day": "2030-02-05", "session": "evening"}),
            "session",
        ),
        (json!({"session": "morning"}), "day"),
    ] {
        let (s, v) = offer(&app, p, body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert!(v["error"]["fields"][field].is_string(), "{field}: {v}");
    }
    assert_eq!(app.count("tour_slots").await, 0);
}

both!(tour_dates_are_offered_in_bulk_and_listed_to_staff);
async fn tour_dates_are_offered_in_bulk_and_listed_to_staff(app: TestApp) {
    let p = county_lines_2030(&app).await;
    let lead = Some(Role::Lead);
    offer(&app, p, json!({"day": "2030-02-04", "session": "morning"})).await;
    // Every weekday of two weeks, mornings: ten dates, one of them already offered.
    let bulk = format!("/programmes/{p}/slots/bulk");
    let two_weeks = json!({"from": "2030-02-04", "to": "2030-02-17", "morning": true});
    let (s, made) = app.post(&bulk, lead, two_weeks).await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    assert_eq!(made["created"].as_array().unwrap().len(), 9);
    assert_eq!(made["skipped"].as_array().unwrap().len(), 1);
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
    let no_session = json!({"from": "2030-02-04", "to": "2030-02-17"});
    let (s, _) = app.post(&bulk, lead, no_session).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a session must be chosen"
    );
}

/// A programme with one free tour date, a visit requested on it by the seeded school and
/// one by another school: (programme, slot, mine, theirs, the other school).
async fn two_requests_for_one_date(app: &TestApp) -> (i64, i64, Value, Value, i64) {
    let p = county_lines_2030(app).await;
    let lead = Some(Role::Lead);
    let (_, slot) = offer(app, p, json!({"day": "2030-03-04", "session": "morning"})).await;
    let slot = slot["id"].as_i64().unwrap();
    let other = schools(app, 1).await[0];
    let (s, mine) = app.post(&format!("/slots/{slot}/bookings"), Some(Role::School), json!({"pupils": 150, "staff": 10, "year_groups": "Years 9 and 10", "access_needs": "Step-free hall"})).await;
    assert_eq!(
        (s, mine["status"].as_str()),
        (StatusCode::CREATED, Some("requested")),
        "{mine}"
    );
    let (_, theirs) = app
        .post(
            &format!("/slots/{slot}/bookings"),
            lead,
            json!({"pupils": 90, "school_id": other}),
        )
        .await;
    (p, slot, mine, theirs, other)
}

both!(a_confirmed_visit_becomes_a_performance_and_workshop_at_the_school);
async fn a_confirmed_visit_becomes_a_performance_and_workshop_at_the_school(app: TestApp) {
    let (p, slot, mine, theirs, _) = two_requests_for_one_date(&app).await;
    let lead = Some(Role::Lead);
    let (s, _) = app
        .post(
            &format!("/slots/{slot}/bookings"),
            Some(Role::School),
            json!({"pupils": 20}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "the same school twice");
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
    let here = app.school_id as i64;
    assert_eq!(kinds, vec![("performance", here), ("workshop", here)]);
    // 4 March 2030 is in winter time: the morning session 09:30-12:00 is split at the half
    // hour below its middle, so nobody is asked to start at 10:45:00 or 10:37:30.
    let times: Vec<(&str, &str)> = evs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["starts_at"].as_str().unwrap(),
                e["ends_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        times,
        vec![
            ("2030-03-04T09:30:00+00:00", "2030-03-04T10:30:00+00:00"),
            ("2030-03-04T10:30:00+00:00", "2030-03-04T12:00:00+00:00"),
        ]
    );
    let (_, t) = app.get(&format!("/bookings/{}", theirs["id"]), lead).await;
    assert_eq!(
        t["status"], "declined",
        "the other request is told the date was taken"
    );
}

both!(a_tour_date_holds_one_visit);
async fn a_tour_date_holds_one_visit(app: TestApp) {
    let (_, slot, mine, theirs, other) = two_requests_for_one_date(&app).await;
    let lead = Some(Role::Lead);
    app.post(
        &format!("/bookings/{}/confirm", mine["id"]),
        lead,
        json!({}),
    )
    .await;
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
}

both!(cancelling_a_visit_frees_the_date_and_cancels_its_events);
async fn cancelling_a_visit_frees_the_date_and_cancels_its_events(app: TestApp) {
    let (p, _, mine, _, _) = two_requests_for_one_date(&app).await;
    let lead = Some(Role::Lead);
    app.post(
        &format!("/bookings/{}/confirm", mine["id"]),
        lead,
        json!({}),
    )
    .await;
    let (s, _) = app
        .post(&format!("/bookings/{}/cancel", mine["id"]), lead, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, slots) = app.get(&format!("/programmes/{p}/slots"), lead).await;
    assert_eq!(slots["items"][0]["status"], "open");
    let (_, evs) = app.get(&format!("/programmes/{p}/events"), lead).await;
    let statuses: Vec<&str> = evs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["cancelled", "cancelled"]);
}

/// County Lines 2030 with five afternoons offered on the pages (4–8 February 2030): the
/// programme, and the first tour date.
async fn five_afternoons_by_form(app: &TestApp) -> (i64, i32) {
    let p = county_lines_2030(app).await;
    let bulk = format!("/programmes/{p}/slots/bulk");
    let week = [
        ("from", "2030-02-04"),
        ("to", "2030-02-08"),
        ("afternoon", "true"),
    ];
    let (s, _, _) = app.form(&bulk, Some(Role::Lead), &week, true).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let slot: i32 = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::tour_slots;
            tour_slots::table
                .select(tour_slots::id)
                .order(tour_slots::id.asc())
                .first(c)
                .unwrap()
        })
        .await;
    (p, slot)
}

both!(the_lead_offers_tour_dates_on_the_pages);
async fn the_lead_offers_tour_dates_on_the_pages(app: TestApp) {
    let (p, _) = five_afternoons_by_form(&app).await;
    let path = format!("/programmes/{p}/slots");
    let backwards = [
        ("from", "2030-02-04"),
        ("to", "2030-02-01"),
        ("morning", "true"),
    ];
    let (s, _, body) = app
        .form(&format!("{path}/bulk"), Some(Role::Lead), &backwards, true)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("must be on or after the first day"));
    let taken = [("day", "2030-02-04"), ("session", "afternoon")];
    let (s, _, body) = app.form(&path, Some(Role::Lead), &taken, true).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("already busy"),
        "the clash is named on the page"
    );
    let (_, _, page) = app.page(&path, Some(Role::Lead)).await;
    assert_eq!(page.matches("status-open").count(), 5);
    let school_offers = [("day", "2030-03-04"), ("session", "morning")];
    let (s, _, _) = app
        .form(&path, Some(Role::School), &school_offers, true)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

both!(a_school_asks_for_a_tour_date_on_the_pages);
async fn a_school_asks_for_a_tour_date_on_the_pages(app: TestApp) {
    let (_, slot) = five_afternoons_by_form(&app).await;
    let (_, _, whats_on) = app.page("/whats-on", Some(Role::School)).await;
    assert!(whats_on.contains(">County Lines</h3>") && whats_on.contains("February 2030"));
    assert!(whats_on.contains("Monday 4 February 2030"));
    let request = format!("/slots/{slot}/request");
    assert!(whats_on.contains(&format!("href=\"{request}\"")));
    let (s, _, form) = app.page(&request, Some(Role::School)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains("County Lines: Monday 4 February 2030"));
    let (s, _, body) = app
        .form(&request, Some(Role::School), &[("pupils", "")], true)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("is required"));
    let filled = [("pupils", "120"), ("staff", "8")];
    let (s, _, _) = app.form(&request, Some(Role::School), &filled, true).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, mine) = app.page("/bookings", Some(Role::School)).await;
    assert!(mine.contains("Visit to the school") && mine.contains("Mon 4 Feb 2030"));
    let (_, _, whats_on) = app.page("/whats-on", Some(Role::School)).await;
    assert!(
        !whats_on.contains("Monday 4 February 2030"),
        "a date already asked for is not offered again"
    );
    assert!(whats_on.contains("Tuesday 5 February 2030"));
    let (_, _, asked) = app.page(&request, Some(Role::School)).await;
    assert!(
        asked.contains("You have asked for this date") && !asked.contains("id=\"f-pupils\""),
        "the form is not offered again: {asked}"
    );
}
