//! The pages of events, attendance and impact.

use axum::http::{header, StatusCode};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::fixtures::event;
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
        e["starts_at"], "2026-06-10T09:00:00Z",
        "10:00 in London in June is 09:00 UTC"
    );
    let (_, _, page) = app.page(&location, Some(Role::Lead)).await;
    assert!(
        page.contains("Wed 10 Jun 2026, 10:00"),
        "shown in the install's time zone"
    );
}

both!(attendance_grid_saves_and_rejects);
async fn attendance_grid_saves_and_rejects(app: TestApp) {
    let (_, p) = app
        .post(
            "/programmes",
            Some(Role::Admin),
            json!({"title": "T", "year": 2020, "organisation_id": app.organisation_id}),
        )
        .await;
    let e = event(&app, p["id"].as_i64().unwrap(), json!({"kind": "performance", "school_id": app.school_id, "starts_at": "2020-01-10T09:00:00Z", "ends_at": "2020-01-10T10:00:00Z"})).await;
    let school = app.school_id.to_string();
    let path = format!("/events/{e}/attendance");
    let (s, _, body) = app
        .form(
            &path,
            Some(Role::Lead),
            &[
                ("rows", "2"),
                ("school_id_0", &school),
                ("pupils_0", "-5"),
                ("group_1", "public"),
                ("other_1", "40"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("must be at least 0"));
    assert!(body.contains("value=\"-5\""), "what was typed is kept");
    assert_eq!(app.count("attendance").await, 0);
    let (s, _, _) = app
        .form(
            &path,
            Some(Role::Lead),
            &[
                ("rows", "3"),
                ("school_id_0", &school),
                ("pupils_0", "120"),
                ("staff_0", "8"),
                ("group_1", "public"),
                ("other_1", "40"),
                ("school_id_2", ""),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, rows) = app
        .get(&format!("/events/{e}/attendance"), Some(Role::Lead))
        .await;
    assert_eq!(rows["items"].as_array().unwrap().len(), 2);
    let (_, _, page) = app.page(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert!(
        page.contains("Seed School 120/8/0"),
        "the history shows the change"
    );
    let (s, _, _) = app
        .form(
            &path,
            Some(Role::Funder),
            &[("rows", "1"), ("school_id_0", &school), ("pupils_0", "1")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, page) = app.page(&format!("/events/{e}"), Some(Role::Funder)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !page.contains("Save attendance"),
        "a funder reads, never writes"
    );
    let (s, _, _) = app
        .form(&format!("/events/{e}/cancel"), Some(Role::Lead), &[], true)
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cancelling needs its box ticked"
    );
    let (s, _, _) = app
        .form(
            &format!("/events/{e}/complete"),
            Some(Role::Lead),
            &[],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, v) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(v["status"], "completed");
}
