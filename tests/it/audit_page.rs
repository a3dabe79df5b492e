//! The audit log as an admin reads it: filters, changes in words, actors named truthfully
//! (issue 11, item 10).

use axum::http::StatusCode;
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::fixtures::{a_programme, attend, event};
use crate::harness::TestApp;

both!(the_audit_log_filters_and_reads_as_words);
async fn the_audit_log_filters_and_reads_as_words(app: TestApp) {
    let admin = Some(Role::Admin);
    let p = a_programme(&app)
        .titled("Audited")
        .year(2020)
        .create()
        .await;
    let (_, kent) = app
        .post("/schools", admin, json!({"name": "Kent Valley School"}))
        .await;
    let kent = kent["id"].as_i64().unwrap();
    let e = event(&app, p, json!({"kind": "performance", "school_id": kent, "starts_at": "2020-01-10T09:00:00Z", "ends_at": "2020-01-10T10:00:00Z"})).await;
    attend(
        &app,
        e,
        json!([{"school_id": kent, "pupils": 58, "staff": 4}]),
    )
    .await;
    attend(
        &app,
        e,
        json!([{"school_id": kent, "pupils": 61, "staff": 4}]),
    )
    .await;

    let (s, _, page) = app.page("/audit?entity=attendance", admin).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("Kent Valley School: pupils 58 → 61"),
        "the change in words: {page}"
    );
    assert!(!page.contains("{&quot;"), "no raw JSON");
    assert!(page.contains("2 found"), "{page}");
    assert!(page.contains("<option value=\"attendance\" selected>"));
    assert!(page.contains(&format!("href=\"/events/{e}\"")));

    let (_, _, one) = app
        .page(&format!("/audit?entity=event&entity_id={e}"), admin)
        .await;
    assert!(one.contains("1 found"), "{one}");
    assert!(one.contains("made: "));

    // The attendance was the lead's, the school the admin's.
    let (_, _, by_lead) = app.page("/audit?who=lead", admin).await;
    assert!(by_lead.contains("lead@example.org"));
    assert!(!by_lead.contains("admin@example.org"), "{by_lead}");
    assert!(
        by_lead.contains("3 found"),
        "the event and two attendance writes: {by_lead}"
    );
    let (_, _, nobody) = app.page("/audit?who=nobody-at-all", admin).await;
    assert!(nobody.contains("No changes match these filters."));

    let (_, _, future) = app.page("/audit?from=2999-01-01", admin).await;
    assert!(future.contains("No changes match these filters."));
    let (_, _, today) = app
        .page(
            &format!("/audit?to={}", chrono::Utc::now().date_naive()),
            admin,
        )
        .await;
    assert!(
        !today.contains("No changes match"),
        "today is in a span ending today"
    );

    let (s, _, _) = app.page("/audit", Some(Role::Lead)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
