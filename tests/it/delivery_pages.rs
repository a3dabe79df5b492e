//! The pages of events, attendance and impact.

use axum::http::{header, StatusCode};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::fixtures::{a_programme, event};
use crate::harness::TestApp;
use crate::impact::enter_case_study;

both!(impact_page_shows_the_case_study);
async fn impact_page_shows_the_case_study(app: TestApp) {
    let setup = enter_case_study(&app).await;
    let (s, _, page) = app
        .page(
            &format!("/programmes/{}/impact", setup.programme),
            Some(Role::Funder),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(
        "Ruby and its workshop were taken to nine schools, with 1,520 audience members in 2018."
    ));
    assert!(
        page.contains("<td class=\"num\">1,945</td>"),
        "the total audience is in the table"
    );
    assert!(page.contains("16 of 10 schools, 160 %"));
    assert!(page.contains("<svg class=\"chart\""));
    assert!(page.contains("South Lakeland"));
    let (s, _, _) = app
        .page(
            &format!("/programmes/{}/impact", setup.programme),
            Some(Role::School),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, group) = app
        .page(
            &format!("/organisations/{}/impact", app.organisation_id),
            Some(Role::Funder),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(group.contains("Year on year"));
    assert!(group.contains(">1,945<"));
    let report = format!("/programmes/{}/report", setup.programme);
    assert!(
        group.contains(&format!("href=\"{report}\"")),
        "the funder's landing page links each programme's printable report"
    );
    let (s, _, _) = app.page(&report, Some(Role::Funder)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, headers, _) = app.page("/impact", Some(Role::Funder)).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION].to_str().unwrap(),
        format!("/organisations/{}/impact", app.organisation_id)
    );
    let (s, _, year) = app.page("/impact/years/2018", Some(Role::Lead)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(year.contains("Ruby 2018"));
}

both!(event_form_reads_local_time);
async fn event_form_reads_local_time(app: TestApp) {
    let (_, p) = app
        .post(
            "/programmes",
            Some(Role::Admin),
            json!({"title": "T", "year": 2026}),
        )
        .await;
    let p = p["id"].as_i64().unwrap();
    let school = app.school_id.to_string();
    let path = format!("/programmes/{p}/events");
    let (s, _, body) = app
        .form(
            &path,
            Some(Role::Lead),
            &[
                ("kind", "performance"),
                ("starts_at", "2026-06-10T10:00"),
                ("ends_at", "2026-06-10T09:00"),
                ("school_id", &school),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("must be after the start"));
    assert_eq!(app.count("events").await, 0);
    let (s, headers, _) = app
        .form(
            &path,
            Some(Role::Lead),
            &[
                ("kind", "performance"),
                ("starts_at", "2026-06-10T10:00"),
                ("ends_at", "2026-06-10T11:00"),
                ("school_id", &school),
                ("status", "open"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().unwrap().to_string();
    let id: i64 = location
        .trim_start_matches("/events/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (_, e) = app.get(&format!("/events/{id}"), Some(Role::Lead)).await;
    assert_eq!(
        e["starts_at"], "2026-06-10T10:00:00+01:00",
        "10:00 in London in June (09:00 UTC), with its offset"
    );
    let (_, _, page) = app.page(&location, Some(Role::Lead)).await;
    assert!(
        page.contains("Wed 10 Jun 2026, 10:00"),
        "shown in the install's time zone"
    );
}

/// A funded 2020 programme's in-school performance at the seeded school; its id.
async fn a_performance(app: &TestApp) -> i64 {
    a_performance_on(app, "2020-01-10").await
}

/// The same, on another day of 2020 (a new programme each time).
async fn a_performance_on(app: &TestApp, day: &str) -> i64 {
    let p = a_programme(app)
        .titled("T")
        .year(2020)
        .funded()
        .create()
        .await;
    event(app, p, json!({"kind": "performance", "school_id": app.school_id, "starts_at": format!("{day}T09:00:00Z"), "ends_at": format!("{day}T10:00:00Z")})).await
}

both!(attendance_grid_saves_and_rejects);
async fn attendance_grid_saves_and_rejects(app: TestApp) {
    let e = a_performance(&app).await;
    let school = app.school_id.to_string();
    let path = format!("/events/{e}/attendance");
    let bad = [
        ("rows", "2"),
        ("school_id_0", &school),
        ("pupils_0", "-5"),
        ("group_1", "public"),
        ("other_1", "40"),
    ];
    let (s, _, body) = app.form(&path, Some(Role::Lead), &bad, true).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("must be at least 0"));
    assert!(body.contains("value=\"-5\""), "what was typed is kept");
    assert_eq!(app.count("attendance").await, 0);
    let good = [
        ("rows", "3"),
        ("school_id_0", &school),
        ("pupils_0", "120"),
        ("staff_0", "8"),
        ("group_1", "public"),
        ("other_1", "40"),
        ("school_id_2", ""),
    ];
    let (s, headers, _) = app.form(&path, Some(Role::Lead), &good, true).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().unwrap().to_string();
    assert_eq!(
        location,
        format!("/events/{e}?notice=attendance_saved#attendance"),
        "the notice is in the query, the place in the fragment"
    );
    let (_, _, shown) = app.page(&location, Some(Role::Lead)).await;
    assert!(
        shown.contains("Attendance saved. A completed event"),
        "it says what was saved"
    );
    let (_, rows) = app.get(&path, Some(Role::Lead)).await;
    assert_eq!(rows["items"].as_array().unwrap().len(), 2);
    let (_, _, page) = app.page(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert!(
        page.contains("Seed School added: 120 pupils, 8 staff, 0 other adults"),
        "the history shows the change in words"
    );
}

both!(a_funder_reads_the_event_and_never_writes);
async fn a_funder_reads_the_event_and_never_writes(app: TestApp) {
    let e = a_performance(&app).await;
    let school = app.school_id.to_string();
    let one = [("rows", "1"), ("school_id_0", &school), ("pupils_0", "1")];
    let path = format!("/events/{e}/attendance");
    let (s, _, _) = app.form(&path, Some(Role::Funder), &one, true).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(app.count("attendance").await, 0);
    let (s, _, page) = app.page(&format!("/events/{e}"), Some(Role::Funder)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !page.contains("Save attendance"),
        "a funder reads, never writes"
    );
}

both!(cancelling_needs_its_box_and_completing_with_no_attendance_asks);
async fn cancelling_needs_its_box_and_completing_with_no_attendance_asks(app: TestApp) {
    let e = a_performance(&app).await;
    let (s, _, _) = app
        .form(&format!("/events/{e}/cancel"), Some(Role::Lead), &[], true)
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cancelling needs its box ticked"
    );
    let complete = format!("/events/{e}/complete");
    let (s, _, body) = app.form(&complete, Some(Role::Lead), &[], true).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "with no attendance, completing asks first"
    );
    assert!(
        body.contains("No attendance is recorded for this event. Enter it below first"),
        "{body}"
    );
    let (_, v) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_ne!(v["status"], "completed");
    let (_, _, page) = app.page(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert!(page.contains("No attendance is recorded yet: complete it anyway"));
    assert!(
        !page.contains("Cancel event"),
        "what has started is not offered a cancel"
    );
    let (s, _, _) = app
        .form(&complete, Some(Role::Lead), &[("confirm", "true")], true)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, v) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(v["status"], "completed");
    // Pressed too soon: a lead undoes it, and it can be completed again later.
    let (_, _, page) = app.page(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert!(page.contains("Undo “completed”"));
    let (s, _, _) = app
        .form(&format!("/events/{e}/reopen"), Some(Role::Lead), &[], true)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, v) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(v["status"], "confirmed", "{v}");
    let (s, v) = app
        .post(&format!("/events/{e}/reopen"), Some(Role::Lead), json!({}))
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "only a completed event reopens: {v}"
    );
    let (s, _) = app
        .post(
            &format!("/events/{e}/reopen"),
            Some(Role::Funder),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // With attendance recorded, completing is one press.
    let held = a_performance_on(&app, "2020-01-11").await;
    let rows = json!([{"school_id": app.school_id, "pupils": 30, "staff": 2}]);
    let path = format!("/events/{held}/attendance");
    let (s, _) = app
        .api(axum::http::Method::PUT, &path, Some(Role::Lead), Some(rows))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = app
        .form(
            &format!("/events/{held}/complete"),
            Some(Role::Lead),
            &[],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
}

both!(a_future_event_can_be_moved_and_cancelled_but_not_completed);
async fn a_future_event_can_be_moved_and_cancelled_but_not_completed(app: TestApp) {
    let e = crate::fixtures::venue_event(&app, 30, false).await;
    let (_, _, page) = app.page(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert!(page.contains("Move it, or change its capacity"));
    assert!(page.contains("Cancel event"));
    assert!(
        !page.contains("Mark completed"),
        "only what can succeed is offered"
    );
}

both!(a_lead_sees_who_booked_an_event);
async fn a_lead_sees_who_booked_an_event(app: TestApp) {
    let e = crate::fixtures::venue_event(&app, 30, false).await;
    let (_, other) = app
        .post(
            "/schools",
            Some(Role::Admin),
            json!({"name": "Kent Valley School"}),
        )
        .await;
    let book = |school: serde_json::Value, pupils: i64| json!({"school_id": school, "pupils": pupils, "staff": 2});
    let path = format!("/events/{e}/bookings");
    let (s, _) = app
        .post(&path, Some(Role::Lead), book(json!(app.school_id), 20))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, waiting) = app
        .post(&path, Some(Role::Lead), book(other["id"].clone(), 20))
        .await;
    assert_eq!(waiting["status"], "waitlisted");
    let (s, _, page) = app.page(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("22 of 30 places taken; 1 booking waits for places."),
        "{page}"
    );
    assert!(page.contains("Seed School") && page.contains("Kent Valley School"));
    assert!(page.contains("On the waiting list"));
    assert!(page.contains(&format!("/bookings?event_id={e}")));
    let (_, _, funder) = app.page(&format!("/events/{e}"), Some(Role::Funder)).await;
    assert!(
        !funder.contains("Kent Valley School"),
        "a funder reads figures, not who booked"
    );
    // The link lists that event's bookings only.
    let e2 = crate::fixtures::venue_event(&app, 30, false).await;
    app.post(
        &format!("/events/{e2}/bookings"),
        Some(Role::Lead),
        book(json!(app.school_id), 5),
    )
    .await;
    let (_, _, list) = app
        .page(&format!("/bookings?event_id={e}"), Some(Role::Lead))
        .await;
    assert!(list.contains("Bookings of one event"));
    assert!(list.contains("Kent Valley School"));
    assert_eq!(
        list.matches("Seed School").count(),
        1,
        "not the other event's booking"
    );
}
