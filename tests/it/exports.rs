//! Funder outputs: the workbook and CSV agree with the JSON, never leak unpublished quotes,
//! and only the right people can download them.

use std::io::Cursor;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use calamine::{Data, Reader, Xlsx};
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::{attend, event};
use crate::harness::TestApp;
use crate::impact::enter_case_study;

async fn download(
    app: &TestApp,
    path: &str,
    role: Role,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let req = Request::builder()
        .uri(format!("/api/v1{path}"))
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.seeded(role).token),
        )
        .body(Body::empty())
        .unwrap();
    app.send(req).await
}

fn sheet(book: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> Vec<Vec<Data>> {
    let range = book.worksheet_range(name).expect(name);
    range.rows().map(|r| r.to_vec()).collect()
}

fn num(d: &Data) -> i64 {
    match d {
        Data::Float(f) => *f as i64,
        Data::Int(i) => *i,
        other => panic!("expected a number, found {other:?}"),
    }
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// Checks every figure of the workbook against the impact JSON.
fn assert_workbook_matches(bytes: Vec<u8>, impact: &Value) -> Xlsx<Cursor<Vec<u8>>> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("a workbook");
    assert_eq!(
        book.sheet_names(),
        vec!["Summary", "Schools", "Events", "Feedback"]
    );
    let summary = sheet(&mut book, "Summary");
    let at = summary
        .iter()
        .position(|r| text(&r[0]) == "Delivery")
        .expect("the delivery table");
    assert_eq!(
        summary[at].iter().take(5).map(text).collect::<Vec<_>>(),
        vec!["Delivery", "Events", "Schools", "Audience", "Pupils"]
    );
    for (i, (label, key)) in [
        ("In school", "in_school"),
        ("Venue", "venue"),
        ("Live stream", "live_stream"),
        ("Total", ""),
    ]
    .iter()
    .enumerate()
    {
        let row = &summary[at + 1 + i];
        assert_eq!(text(&row[0]), *label);
        let figures = if key.is_empty() {
            &impact["total"]
        } else {
            &impact["by_delivery"][key]
        };
        for (col, measure) in ["events", "schools", "audience", "pupils"]
            .iter()
            .enumerate()
        {
            assert_eq!(
                num(&row[col + 1]),
                figures[measure].as_i64().unwrap(),
                "{label} {measure}"
            );
        }
    }
    let find = |label: &str| {
        summary
            .iter()
            .find(|r| text(&r[0]) == label)
            .map(|r| num(&r[1]))
    };
    assert_eq!(find("Workshops"), impact["workshops"]["events"].as_i64());
    assert_eq!(
        find("Workshop participants"),
        impact["workshops"]["participants"].as_i64()
    );
    for t in impact["targets"].as_array().unwrap() {
        let measure = t["measure"].as_str().unwrap();
        let label = format!("{}{}", measure[..1].to_uppercase(), &measure[1..]);
        let row = summary
            .iter()
            .rev()
            .find(|r| text(&r[0]) == label)
            .expect("target row");
        assert_eq!(
            (num(&row[1]), num(&row[2])),
            (
                t["target"].as_i64().unwrap(),
                t["achieved"].as_i64().unwrap()
            )
        );
    }
    assert!(
        summary
            .iter()
            .any(|r| text(&r[0]) == impact["narrative"].as_str().unwrap()),
        "the narrative is in the Summary"
    );

    let events = sheet(&mut book, "Events");
    let audience: i64 = events.iter().skip(1).map(|r| num(&r[8])).sum();
    let participants: i64 = events.iter().skip(1).map(|r| num(&r[9])).sum();
    let counted = events
        .iter()
        .skip(1)
        .filter(|r| text(&r[1]) != "Workshop")
        .count() as i64;
    assert_eq!(audience, impact["total"]["audience"].as_i64().unwrap());
    assert_eq!(
        participants,
        impact["workshops"]["participants"].as_i64().unwrap()
    );
    assert_eq!(counted, impact["total"]["events"].as_i64().unwrap());
    for r in events.iter().skip(1) {
        assert!(
            matches!(r[0], Data::DateTime(_)),
            "dates are real dates: {:?}",
            r[0]
        );
    }
    let schools = sheet(&mut book, "Schools");
    assert_eq!(
        schools.len() as i64 - 1,
        impact["total"]["schools"].as_i64().unwrap()
    );
    book
}

both!(workbook_and_csv_match_the_json);
async fn workbook_and_csv_match_the_json(app: TestApp) {
    let setup = enter_case_study(&app).await;
    let p = setup.programme;
    let (_, impact) = app
        .get(&format!("/programmes/{p}/impact"), Some(Role::Funder))
        .await;
    // Quotes: one published, one without consent, one not approved.
    for (quote, consent, approve) in [
        ("Published words", true, true),
        ("No consent given", false, true),
        ("Still pending", true, false),
    ] {
        let (_, f) = app.post("/feedback", Some(Role::Lead), json!({"programme_id": p, "role": "teacher", "quote": quote, "consent": consent, "rating": 4})).await;
        if approve {
            app.post(
                &format!("/feedback/{}/moderate", f["id"]),
                Some(Role::Lead),
                json!({"moderation": "approved"}),
            )
            .await;
        }
    }
    let (s, headers, bytes) =
        download(&app, &format!("/programmes/{p}/impact.xlsx"), Role::Funder).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"ruby-2018-impact.xlsx\""
    );
    let mut book = assert_workbook_matches(bytes, &impact);
    let feedback = sheet(&mut book, "Feedback");
    let all: String = feedback
        .iter()
        .flatten()
        .map(text)
        .collect::<Vec<_>>()
        .join("|");
    assert!(all.contains("Published words"));
    assert!(
        !all.contains("No consent given") && !all.contains("Still pending"),
        "unpublished quotes never leave"
    );

    // CSV: the same figures.
    let (s, headers, body) = download(
        &app,
        &format!("/programmes/{p}/export/events.csv"),
        Role::Funder,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"ruby-2018-events.csv\""
    );
    let mut reader = csv::Reader::from_reader(body.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let audience: i64 = rows.iter().map(|r| r[8].parse::<i64>().unwrap()).sum();
    assert_eq!(audience, 1945);
    let (_, _, body) = download(
        &app,
        &format!("/programmes/{p}/export/schools.csv"),
        Role::Funder,
    )
    .await;
    assert_eq!(
        csv::Reader::from_reader(body.as_slice()).records().count(),
        16
    );
    let (_, _, body) = download(
        &app,
        &format!("/programmes/{p}/export/attendance.csv"),
        Role::Funder,
    )
    .await;
    assert_eq!(
        csv::Reader::from_reader(body.as_slice()).records().count(),
        9 + 9 + 3 + 5
    );
    let (_, _, body) = download(
        &app,
        &format!("/programmes/{p}/export/feedback.csv"),
        Role::Funder,
    )
    .await;
    let csv_text = String::from_utf8(body).unwrap();
    assert!(csv_text.starts_with("date,programme_id,said_by,school,rating,featured,quote\n"));
    assert!(
        csv_text.contains("Published words")
            && !csv_text.contains("No consent given")
            && !csv_text.contains("Still pending")
    );

    // The organisation's and the year's workbooks carry the same totals.
    for path in [
        format!("/organisations/{}/impact.xlsx", app.organisation_id),
        "/impact/years/2018/export/impact.xlsx".to_string(),
    ] {
        let (s, _, bytes) = download(&app, &path, Role::Funder).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        let mut group = impact.clone();
        group["targets"] = json!([]);
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        let summary = sheet(&mut book, "Summary");
        let total = summary.iter().find(|r| text(&r[0]) == "Total").unwrap();
        assert_eq!(num(&total[3]), 1945, "{path}");
        assert_eq!(num(&total[2]), 16, "{path}");
    }
}

both!(workbook_of_edge_cases_matches_the_json);
async fn workbook_of_edge_cases_matches_the_json(app: TestApp) {
    let admin = Some(Role::Admin);
    let (_, p) = app
        .post(
            "/programmes",
            admin,
            json!({"title": "Edge Cases", "year": 2020, "target_schools": 3, "target_audience": 0}),
        )
        .await;
    let p = p["id"].as_i64().unwrap();
    let (_, a) = app
        .post(
            "/schools",
            admin,
            json!({"name": "A, \"quoted\" school", "urn": 123456}),
        )
        .await;
    let (_, v) = app.post("/venues", admin, json!({"name": "Hall"})).await;
    let (a, v) = (a["id"].as_i64().unwrap(), v["id"].as_i64().unwrap());
    let e1 = event(&app, p, json!({"kind": "performance", "school_id": a, "starts_at": "2020-01-10T09:00:00Z", "ends_at": "2020-01-10T10:00:00Z"})).await;
    attend(
        &app,
        e1,
        json!([{"school_id": a, "pupils": 1000, "staff": 234}]),
    )
    .await;
    app.post(
        &format!("/events/{e1}/complete"),
        Some(Role::Lead),
        json!({}),
    )
    .await;
    let e2 = event(&app, p, json!({"kind": "performance", "venue_id": v, "starts_at": "2020-01-11T19:00:00Z", "ends_at": "2020-01-11T20:00:00Z"})).await;
    attend(
        &app,
        e2,
        json!([{"school_id": a, "pupils": 10}, {"group": "public", "other": 40}]),
    )
    .await;
    app.post(
        &format!("/events/{e2}/complete"),
        Some(Role::Lead),
        json!({}),
    )
    .await;
    let e3 = event(&app, p, json!({"kind": "live_stream", "starts_at": "2020-01-12T19:00:00Z", "ends_at": "2020-01-12T20:00:00Z"})).await;
    attend(&app, e3, json!([{"school_id": a, "pupils": 7}])).await;
    app.post(&format!("/events/{e3}/cancel"), Some(Role::Lead), json!({}))
        .await;
    let (_, impact) = app.get(&format!("/programmes/{p}/impact"), admin).await;
    assert_eq!(impact["total"]["audience"], 1284);
    let (s, _, bytes) = download(&app, &format!("/programmes/{p}/impact.xlsx"), Role::Admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_workbook_matches(bytes, &impact);
    let (_, _, body) = download(
        &app,
        &format!("/programmes/{p}/export/schools.csv"),
        Role::Admin,
    )
    .await;
    let csv_text = String::from_utf8(body).unwrap();
    assert!(
        csv_text.contains("\"A, \"\"quoted\"\" school\",123456"),
        "RFC 4180 quoting: {csv_text}"
    );

    // An empty programme gives a valid workbook with zeros.
    let (_, empty) = app
        .post(
            "/programmes",
            admin,
            json!({"title": "Empty", "year": 2021}),
        )
        .await;
    let (_, impact) = app
        .get(&format!("/programmes/{}/impact", empty["id"]), admin)
        .await;
    let (s, _, bytes) = download(
        &app,
        &format!("/programmes/{}/impact.xlsx", empty["id"]),
        Role::Admin,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_workbook_matches(bytes, &impact);
}

both!(only_the_right_people_download);
async fn only_the_right_people_download(app: TestApp) {
    let admin = Some(Role::Admin);
    let (_, mine) = app
        .post(
            "/programmes",
            admin,
            json!({"title": "Mine", "year": 2020, "organisation_id": app.organisation_id}),
        )
        .await;
    let (_, other) = app
        .post(
            "/organisations",
            admin,
            json!({"name": "Other Trust", "kind": "funder"}),
        )
        .await;
    let (_, theirs) = app
        .post(
            "/programmes",
            admin,
            json!({"title": "Theirs", "year": 2020, "organisation_id": other["id"]}),
        )
        .await;
    let files = [
        "impact.xlsx",
        "export/impact.xlsx",
        "export/schools.csv",
        "export/events.csv",
        "export/attendance.csv",
        "export/feedback.csv",
    ];
    for file in files {
        let path = format!("/programmes/{}/{file}", mine["id"]);
        let (s, _, _) = download(&app, &path, Role::School).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
        let (s, _, _) = download(&app, &path, Role::Funder).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        let path = format!("/programmes/{}/{file}", theirs["id"]);
        let (s, _, _) = download(&app, &path, Role::Funder).await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "{path}: another organisation's is not there"
        );
    }
    let (s, _, _) = download(
        &app,
        &format!("/organisations/{}/impact.xlsx", other["id"]),
        Role::Funder,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = download(
        &app,
        &format!("/programmes/{}/export/secrets.csv", mine["id"]),
        Role::Funder,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .get(&format!("/programmes/{}/impact.xlsx", mine["id"]), None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, headers, _) = app
        .page(&format!("/programmes/{}/impact.xlsx", mine["id"]), None)
        .await;
    assert_eq!(
        s,
        StatusCode::SEE_OTHER,
        "pages send the anonymous to the login"
    );
    assert!(headers[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    let (s, headers, _) = app
        .page(
            &format!("/programmes/{}/impact.xlsx", mine["id"]),
            Some(Role::Funder),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    // A year's workbook holds only what the funder may see.
    let (s, _, bytes) = download(&app, "/impact/years/2020/export/impact.xlsx", Role::Funder).await;
    assert_eq!(s, StatusCode::OK);
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    let summary = sheet(&mut book, "Summary");
    let listed = summary
        .iter()
        .find(|r| text(&r[0]) == "Programmes")
        .map(|r| text(&r[1]))
        .unwrap();
    assert_eq!(listed, "Mine 2020");
}
