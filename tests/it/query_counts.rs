//! No page grows with the data: each heavy page sends the same number of queries to the
//! database for a programme of ten times as many events, schools and attendance rows.

use axum::http::StatusCode;
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::fixtures::{a_programme, a_venue, attend, complete, event, schools};
use crate::harness::TestApp;

/// Adds `n` held in-school visits (with attendance) of new schools, `n` venue
/// performances and live streams to come, and `n` tour dates, to programme `p`; and `n`
/// more programmes of the same funder, each of its own year, with a visit attended.
async fn grow(app: &TestApp, p: i64, venue: i64, n: usize, offset: usize) {
    let made = schools(app, n).await;
    for (i, school) in made.into_iter().enumerate() {
        let k = offset + i;
        let year = 1980 + k as i32;
        let other = a_programme(app)
            .titled(&format!("Tour {k}"))
            .year(year)
            .funded()
            .between(&format!("{year}-01-01"), &format!("{year}-12-31"))
            .create()
            .await;
        let day = format!("{year}-03-10");
        let e = event(app, other, json!({"kind": "performance", "school_id": school, "starts_at": format!("{day}T10:00:00Z"), "ends_at": format!("{day}T11:00:00Z")})).await;
        attend(
            app,
            e,
            json!([{"school_id": school, "pupils": 20, "staff": 1}]),
        )
        .await;
        complete(app, e).await;
        let (month, day) = (1 + k / 28, 1 + k % 28);
        let past = format!("2019-{month:02}-{day:02}");
        let e = event(app, p, json!({"kind": "performance", "school_id": school, "starts_at": format!("{past}T10:00:00Z"), "ends_at": format!("{past}T11:00:00Z")})).await;
        attend(
            app,
            e,
            json!([{"school_id": school, "pupils": 30 + k, "staff": 2}]),
        )
        .await;
        complete(app, e).await;
        let coming = format!("2031-{month:02}-{day:02}");
        let kind = if k.is_multiple_of(2) {
            json!({"kind": "performance", "venue_id": venue, "capacity": 100})
        } else {
            json!({"kind": "live_stream"})
        };
        let mut body = kind;
        body["starts_at"] = json!(format!("{coming}T18:00:00Z"));
        body["ends_at"] = json!(format!("{coming}T19:00:00Z"));
        event(app, p, body).await;
        let (s, v) = app
            .post(
                &format!("/programmes/{p}/slots"),
                Some(Role::Lead),
                json!({"day": coming, "session": "morning"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
}

/// The queries each page sends, read warm (a second time: the first read after a write
/// counts the figures again and keeps them).
async fn measure(app: &TestApp, pages: &[(String, Option<Role>)]) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (path, role) in pages {
        let (s, _, body) = app.page(path, *role).await;
        assert_eq!(s, StatusCode::OK, "{path}: {body}");
        let before = app.queries();
        app.page(path, *role).await;
        out.push((path.clone(), app.queries() - before));
    }
    out
}

both!(heavy_pages_send_the_same_queries_at_ten_times_the_data);
async fn heavy_pages_send_the_same_queries_at_ten_times_the_data(app: TestApp) {
    let p = a_programme(&app)
        .year(2019)
        .funded()
        .between("2019-01-01", "2031-12-31")
        .create()
        .await;
    let venue = a_venue(&app).await;
    grow(&app, p, venue, 3, 0).await;
    let org = app.organisation_id;
    let pages = vec![
        (format!("/programmes/{p}/impact"), Some(Role::Lead)),
        (format!("/organisations/{org}/impact"), Some(Role::Funder)),
        ("/programmes".to_string(), Some(Role::Lead)),
        (format!("/programmes/{p}"), Some(Role::Lead)),
        (
            format!("/programmes/{p}/calendar?month=2031-01"),
            Some(Role::Lead),
        ),
        ("/whats-on".to_string(), Some(Role::School)),
        ("/".to_string(), None),
    ];
    assert!(app.queries() > 0, "queries are counted");
    let small = measure(&app, &pages).await;
    grow(&app, p, venue, 27, 3).await;
    let large = measure(&app, &pages).await;
    assert_eq!(
        small, large,
        "queries per page, at 3 and at 30 of everything"
    );
}
