//! The pages: forms create and edit records, show errors next to fields and keep input.

use axum::http::{header, StatusCode};
use outreach::domain::types::Role;

use crate::both;
use crate::harness::TestApp;

both!(school_form_creates_and_rejects);
async fn school_form_creates_and_rejects(app: TestApp) {
    let lead = Some(Role::Lead);
    let (s, _, body) = app
        .form(
            "/schools",
            lead,
            &[
                ("name", "Priory High"),
                ("pupils", "-4"),
                ("phase", "secondary"),
                ("postcode", "la23 4jl"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("must be at least 0"), "the error is shown");
    assert!(
        body.contains("value=\"Priory High\""),
        "typed values are kept"
    );
    assert!(
        body.contains("id=\"e-pupils\""),
        "the error sits by its field"
    );
    assert_eq!(app.count("schools").await, 1);

    let (s, headers, _) = app
        .form(
            "/schools",
            lead,
            &[
                ("name", "Priory High"),
                ("pupils", "852"),
                ("phase", "secondary"),
                ("postcode", "la23 4jl"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(location.contains("notice=created"));
    let (s, _, body) = app.page(&location, lead).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("Created."));
    assert!(body.contains("value=\"LA23 4JL\""));
    let (_, _, list) = app.page("/schools?q=priory", lead).await;
    assert!(list.contains("Priory High"));
    assert!(!list.contains("Seed School"));
}

both!(archive_needs_confirmation);
async fn archive_needs_confirmation(app: TestApp) {
    let path = format!("/schools/{}/archive", app.school_id);
    let (s, _, _) = app.form(&path, Some(Role::Admin), &[], true).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, _, list) = app.page("/schools", Some(Role::Admin)).await;
    assert!(list.contains("Seed School"));
    let (s, _, _) = app
        .form(&path, Some(Role::Admin), &[("confirm", "true")], true)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, list) = app.page("/schools", Some(Role::Admin)).await;
    assert!(!list.contains("Seed School"));
    assert!(
        list.contains("No schools yet"),
        "the empty state says what to do"
    );
}

both!(organisation_priorities_and_targets_by_form);
async fn organisation_priorities_and_targets_by_form(app: TestApp) {
    let admin = Some(Role::Admin);
    let org = format!("/organisations/{}", app.organisation_id);
    let (s, _, _) = app
        .form(
            &format!("{org}/priorities"),
            admin,
            &[
                ("title", "Substance abuse and drug supply"),
                ("aims", "Raise awareness"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, page) = app.page(&org, admin).await;
    assert!(page.contains("Substance abuse and drug supply"));
    let priority_id: i32 = app
        .with_db(|c| {
            use diesel::prelude::*;
            outreach::db::schema::priorities::table
                .select(outreach::db::schema::priorities::id)
                .first(c)
                .unwrap()
        })
        .await;
    let (s, _, body) = app
        .form(
            &format!("/priorities/{priority_id}/targets"),
            admin,
            &[("measure", "schools"), ("value", "ten")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("must be a whole number"));
    let (s, _, _) = app
        .form(
            &format!("/priorities/{priority_id}/targets"),
            admin,
            &[
                ("measure", "schools"),
                ("value", "10"),
                ("description", "performances and workshops in ten schools"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(app.count("targets").await, 1);
}

both!(programme_form_offers_funders_and_shows_the_programme);
async fn programme_form_offers_funders_and_shows_the_programme(app: TestApp) {
    let lead = Some(Role::Lead);
    let (_, _, form) = app.page("/programmes/new", lead).await;
    assert!(form.contains("Test Partnership"));
    let org = app.organisation_id.to_string();
    let (s, _, body) = app
        .form(
            "/programmes",
            lead,
            &[
                ("title", "County Lines"),
                ("year", "2019"),
                ("organisation_id", &org),
                ("starts_on", "2019-09-01"),
                ("ends_on", "2019-08-01"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("must be on or after the start date"));
    let (s, headers, _) = app
        .form(
            "/programmes",
            lead,
            &[
                ("title", "County Lines"),
                ("year", "2019"),
                ("organisation_id", &org),
                ("target_schools", "10"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, page) = app
        .page(
            headers[header::LOCATION].to_str().unwrap(),
            Some(Role::Funder),
        )
        .await;
    assert!(page.contains("County Lines"));
    assert!(page.contains("Test Partnership"));
    assert!(!page.contains("/edit"), "a funder gets no edit link");
}

both!(user_form_and_token_page);
async fn user_form_and_token_page(app: TestApp) {
    let admin = Some(Role::Admin);
    let school = app.school_id.to_string();
    let (s, _, body) = app
        .form(
            "/users",
            admin,
            &[
                ("email", "office@school.example"),
                ("role", "school"),
                ("password", "long enough password"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("a school user must be tied to a school"));
    assert!(
        !body.contains("long enough password"),
        "passwords are never echoed"
    );
    let (s, _, _) = app
        .form(
            "/users",
            admin,
            &[
                ("email", "office@school.example"),
                ("role", "school"),
                ("school_id", &school),
                ("password", "long enough password"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let path = format!("/users/{}/tokens", app.funder.user_id);
    let (s, _, body) = app
        .form(&path, admin, &[("label", "dashboard")], true)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("shown once"));
    assert!(body.contains("otr_"));
}

both!(unknown_pages_are_404_pages);
async fn unknown_pages_are_404_pages(app: TestApp) {
    let (s, _, body) = app.page("/schools/99999", Some(Role::Lead)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("<h1>Not found</h1>"));
    let (s, _, _) = app.page("/nowhere", Some(Role::Lead)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = app.page("/schools/abc", Some(Role::Lead)).await;
    assert!(s.is_client_error());
}
