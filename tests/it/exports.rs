//! Funder outputs: the workbook and CSV agree with the JSON, never leak unpublished quotes,
//! and only the right people can download them.

use std::io::Cursor;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use calamine::{Data, Reader, Xlsx};
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::{attend, complete, event};
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
    assert_summary_matches(&sheet(&mut book, "Summary"), impact);
    assert_events_match(&sheet(&mut book, "Events"), impact);
    let schools = sheet(&mut book, "Schools");
    assert_eq!(
        schools.len() as i64 - 1,
        impact["total"]["schools"].as_i64().unwrap()
    );
    book
}

/// The Summary's delivery table (each mode and the total), workshops, targets and narrative.
fn assert_summary_matches(summary: &[Vec<Data>], impact: &Value) {
    let at = summary
        .iter()
        .position(|r| text(&r[0]) == "Delivery")
        .expect("the delivery table");
    assert_eq!(
        summary[at].iter().take(5).map(text).collect::<Vec<_>>(),
        vec!["Delivery", "Events", "Schools", "Audience", "Pupils"]
    );
    let modes = [
        ("In school", "in_school"),
        ("Venue", "venue"),
        ("Live stream", "live_stream"),
        ("Total", ""),
    ];
    for (i, (label, key)) in modes.iter().enumerate() {
        let row = &summary[at + 1 + i];
        assert_eq!(text(&row[0]), *label);
        let figures = match *key {
            "" => &impact["total"],
            key => &impact["by_delivery"][key],
        };
        for (col, measure) in ["events", "schools", "audience", "pupils"]
            .iter()
            .enumerate()
        {
            let expected = figures[measure].as_i64().unwrap();
            assert_eq!(num(&row[col + 1]), expected, "{label} {measure}");
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
}

/// The Events sheet adds up to the JSON's audience, participants and counted events.
fn assert_events_match(events: &[Vec<Data>], impact: &Value) {
    let rows = || events.iter().skip(1);
    let audience: i64 = rows().map(|r| num(&r[8])).sum();
    let participants: i64 = rows().map(|r| num(&r[9])).sum();
    let counted = rows().filter(|r| text(&r[1]) != "Workshop").count() as i64;
    assert_eq!(audience, impact["total"]["audience"].as_i64().unwrap());
    assert_eq!(
        participants,
        impact["workshops"]["participants"].as_i64().unwrap()
    );
    assert_eq!(counted, impact["total"]["events"].as_i64().unwrap());
    for r in rows() {
        assert!(
            matches!(r[0], Data::DateTime(_)),
            "dates are real dates: {:?}",
            r[0]
        );
    }
}

/// The CSV records of a download.
fn csv_records(body: &[u8]) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(body)
        .records()
        .map(|r| r.expect("a CSV record"))
        .collect()
}

/// The case study with three quotes (one published, one without consent, one not
/// approved); its programme and the funder's impact JSON.
async fn case_study_with_quotes(app: &TestApp) -> (i64, Value) {
    let p = enter_case_study(app).await.programme;
    for (quote, consent, approve) in [
        ("Published words", true, true),
        ("No consent given", false, true),
        ("Still pending", true, false),
    ] {
        let body = json!({"programme_id": p, "role": "teacher", "quote": quote, "consent": consent, "rating": 4});
        let (_, f) = app.post("/feedback", Some(Role::Lead), body).await;
        if approve {
            let path = format!("/feedback/{}/moderate", f["id"]);
            app.post(&path, Some(Role::Lead), json!({"moderation": "approved"}))
                .await;
        }
    }
    let (_, impact) = app
        .get(&format!("/programmes/{p}/impact"), Some(Role::Funder))
        .await;
    (p, impact)
}

fn assert_only_the_published_quote(all: &str) {
    assert!(all.contains("Published words"), "{all}");
    assert!(
        !all.contains("No consent given") && !all.contains("Still pending"),
        "unpublished quotes never leave"
    );
}

both!(workbook_matches_the_json_and_holds_only_published_quotes);
async fn workbook_matches_the_json_and_holds_only_published_quotes(app: TestApp) {
    let (p, impact) = case_study_with_quotes(&app).await;
    let (s, headers, bytes) =
        download(&app, &format!("/programmes/{p}/impact.xlsx"), Role::Funder).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"ruby-2018-impact.xlsx\""
    );
    let mut book = assert_workbook_matches(bytes, &impact);
    let feedback = sheet(&mut book, "Feedback");
    let all: Vec<String> = feedback.iter().flatten().map(text).collect();
    assert_only_the_published_quote(&all.join("|"));
}

both!(csv_files_match_the_json);
async fn csv_files_match_the_json(app: TestApp) {
    let (p, _) = case_study_with_quotes(&app).await;
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
    let audience: i64 = csv_records(&body)
        .iter()
        .map(|r| r[8].parse::<i64>().unwrap())
        .sum();
    assert_eq!(audience, 1945);
    let file = |name: &str| format!("/programmes/{p}/export/{name}");
    let (_, _, body) = download(&app, &file("schools.csv"), Role::Funder).await;
    assert_eq!(csv_records(&body).len(), 16);
    let (_, _, body) = download(&app, &file("attendance.csv"), Role::Funder).await;
    assert_eq!(csv_records(&body).len(), 9 + 9 + 3 + 5);
    let (_, _, body) = download(&app, &file("feedback.csv"), Role::Funder).await;
    let csv_text = String::from_utf8(body).unwrap();
    assert!(csv_text.starts_with("date,programme_id,said_by,school,rating,featured,quote\n"));
    assert_only_the_published_quote(&csv_text);
}

both!(organisation_and_year_workbooks_carry_the_programme_totals);
async fn organisation_and_year_workbooks_carry_the_programme_totals(app: TestApp) {
    enter_case_study(&app).await;
    for path in [
        format!("/organisations/{}/impact.xlsx", app.organisation_id),
        "/impact/years/2018/export/impact.xlsx".to_string(),
    ] {
        let (s, _, bytes) = download(&app, &path, Role::Funder).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        let summary = sheet(&mut book, "Summary");
        let total = summary.iter().find(|r| text(&r[0]) == "Total").unwrap();
        assert_eq!(num(&total[3]), 1945, "{path}");
        assert_eq!(num(&total[2]), 16, "{path}");
    }
}

/// A programme of edge cases: a school whose name needs CSV quoting, 1,000 pupils at
/// one event, a public group at a venue, and a cancelled live stream with attendance.
async fn edge_case_programme(app: &TestApp) -> i64 {
    let admin = Some(Role::Admin);
    let body =
        json!({"title": "Edge Cases", "year": 2020, "target_schools": 3, "target_audience": 0});
    let (_, p) = app.post("/programmes", admin, body).await;
    let p = p["id"].as_i64().unwrap();
    let school = json!({"name": "A, \"quoted\" school", "urn": 123456});
    let (_, a) = app.post("/schools", admin, school).await;
    let (_, v) = app.post("/venues", admin, json!({"name": "Hall"})).await;
    let (a, v) = (a["id"].as_i64().unwrap(), v["id"].as_i64().unwrap());
    let e1 = event(app, p, json!({"kind": "performance", "school_id": a, "starts_at": "2020-01-10T09:00:00Z", "ends_at": "2020-01-10T10:00:00Z"})).await;
    attend(
        app,
        e1,
        json!([{"school_id": a, "pupils": 1000, "staff": 234}]),
    )
    .await;
    complete(app, e1).await;
    let e2 = event(app, p, json!({"kind": "performance", "venue_id": v, "starts_at": "2020-01-11T19:00:00Z", "ends_at": "2020-01-11T20:00:00Z"})).await;
    let rows = json!([{"school_id": a, "pupils": 10}, {"group": "public", "other": 40}]);
    attend(app, e2, rows).await;
    complete(app, e2).await;
    let e3 = event(app, p, json!({"kind": "live_stream", "starts_at": "2020-01-12T19:00:00Z", "ends_at": "2020-01-12T20:00:00Z"})).await;
    attend(app, e3, json!([{"school_id": a, "pupils": 7}])).await;
    app.post(&format!("/events/{e3}/cancel"), Some(Role::Lead), json!({}))
        .await;
    p
}

both!(workbook_of_edge_cases_matches_the_json);
async fn workbook_of_edge_cases_matches_the_json(app: TestApp) {
    let p = edge_case_programme(&app).await;
    let (_, impact) = app
        .get(&format!("/programmes/{p}/impact"), Some(Role::Admin))
        .await;
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
}

both!(an_empty_programme_gives_a_workbook_of_zeros);
async fn an_empty_programme_gives_a_workbook_of_zeros(app: TestApp) {
    let admin = Some(Role::Admin);
    let (_, empty) = app
        .post(
            "/programmes",
            admin,
            json!({"title": "Empty", "year": 2021}),
        )
        .await;
    let id = &empty["id"];
    let (_, impact) = app.get(&format!("/programmes/{id}/impact"), admin).await;
    assert_eq!(impact["total"]["audience"], 0);
    let (s, _, bytes) = download(&app, &format!("/programmes/{id}/impact.xlsx"), Role::Admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_workbook_matches(bytes, &impact);
}

/// A programme of the seed funder ("Mine") and one of another funder ("Theirs").
async fn two_funders_programmes(app: &TestApp) -> (Value, Value, Value) {
    let admin = Some(Role::Admin);
    let body = json!({"title": "Mine", "year": 2020, "organisation_id": app.organisation_id});
    let (_, mine) = app.post("/programmes", admin, body).await;
    let body = json!({"name": "Other Trust", "kind": "funder"});
    let (_, other) = app.post("/organisations", admin, body).await;
    let body = json!({"title": "Theirs", "year": 2020, "organisation_id": other["id"]});
    let (_, theirs) = app.post("/programmes", admin, body).await;
    (
        mine["id"].clone(),
        theirs["id"].clone(),
        other["id"].clone(),
    )
}

both!(funders_download_only_their_own_files);
async fn funders_download_only_their_own_files(app: TestApp) {
    let (mine, theirs, other) = two_funders_programmes(&app).await;
    let files = [
        "impact.xlsx",
        "export/impact.xlsx",
        "export/schools.csv",
        "export/events.csv",
        "export/attendance.csv",
        "export/feedback.csv",
    ];
    for file in files {
        let path = format!("/programmes/{mine}/{file}");
        let (s, _, _) = download(&app, &path, Role::School).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
        let (s, _, _) = download(&app, &path, Role::Funder).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        let path = format!("/programmes/{theirs}/{file}");
        let (s, _, _) = download(&app, &path, Role::Funder).await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "{path}: another organisation's is not there"
        );
    }
    for path in [
        format!("/organisations/{other}/impact.xlsx"),
        format!("/programmes/{mine}/export/secrets.csv"),
    ] {
        let (s, _, _) = download(&app, &path, Role::Funder).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
}

both!(the_anonymous_are_refused_and_pages_serve_the_workbook);
async fn the_anonymous_are_refused_and_pages_serve_the_workbook(app: TestApp) {
    let (mine, _, _) = two_funders_programmes(&app).await;
    let path = format!("/programmes/{mine}/impact.xlsx");
    let (s, _) = app.get(&path, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, headers, _) = app.page(&path, None).await;
    assert_eq!(
        s,
        StatusCode::SEE_OTHER,
        "pages send the anonymous to the login"
    );
    assert!(headers[header::LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/login"));
    let (s, headers, _) = app.page(&path, Some(Role::Funder)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
}

both!(a_years_workbook_holds_only_what_the_funder_may_see);
async fn a_years_workbook_holds_only_what_the_funder_may_see(app: TestApp) {
    two_funders_programmes(&app).await;
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
