//! A live stream's joining link: set by a lead, seen by staff and by schools with a
//! confirmed booking of the stream, and nowhere else; told to those schools when it is set
//! or changed, and again shortly before the stream starts (once, whoever queues it).

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use diesel::prelude::*;
use outreach::db::schema::outbox;
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::a_programme;
use crate::harness::TestApp;

const LINK: &str = "https://stream.example.org/ruby-live";
const NEW_LINK: &str = "https://stream.example.org/ruby-live-2";
const NOTES: &str = "Access code 4821";

/// Letters to one address: (subject, text).
async fn letters_to(app: &TestApp, to: &'static str) -> Vec<(String, String)> {
    app.with_db(move |c| {
        outbox::table
            .filter(outbox::to_address.eq(to))
            .order(outbox::id.asc())
            .select((outbox::subject, outbox::body))
            .load(c)
            .unwrap_or_default()
    })
    .await
}

/// A second school with a contact who has an API token and a session.
struct Other {
    school_id: i64,
    token: String,
    session: String,
}

async fn other_school(app: &TestApp) -> Other {
    let (s, school) = app
        .post(
            "/schools",
            Some(Role::Admin),
            json!({"name": "Other Valley School", "urn": 900777}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{school}");
    let school_id = school["id"].as_i64().unwrap_or_default();
    let config = app.state.config.clone();
    let (token, session) = app
        .state
        .db(move |c| {
            let u = outreach::domain::users::create(
                c,
                None,
                outreach::domain::users::UserInput {
                    email: "other@example.org".into(),
                    name: "Other office".into(),
                    role: Role::School,
                    school_id: Some(school_id as i32),
                    organisation_id: None,
                    password: Some("a long enough password".into()),
                },
            )?;
            let (_, token) = outreach::domain::tokens::create(c, None, u.id, "test")?;
            let session = outreach::domain::sessions::start(c, &config, u.id)?;
            Ok((token, session))
        })
        .await
        .expect("the other school's contact");
    Other {
        school_id,
        token,
        session,
    }
}

async fn api_as(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("/api/v1{path}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let (s, _, bytes) = app.send(req.body(body).expect("request")).await;
    (s, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// A page as someone holding this session, which must answer 200; its body.
async fn page_as(app: &TestApp, session: &str, path: &str) -> String {
    let (s, body) = app.page_as(session, path).await;
    assert_eq!(s, StatusCode::OK, "{path}");
    body
}

/// A live stream with its joining link, three weeks ahead, 2 places: the seeded school
/// books both (confirmed), the other school waits.
async fn stream(app: &TestApp) -> (i64, i64, Other) {
    let p = a_programme(app).funded().create().await;
    let start = chrono::Utc::now() + chrono::Duration::days(21);
    let (s, e) = app
        .post(
            &format!("/programmes/{p}/events"),
            Some(Role::Lead),
            json!({"kind": "live_stream", "starts_at": start.to_rfc3339(), "ends_at": (start + chrono::Duration::hours(1)).to_rfc3339(), "capacity": 2, "joining_url": LINK, "joining_notes": NOTES}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    assert_eq!(
        (e["joining_url"].as_str(), e["joining_notes"].as_str()),
        (Some(LINK), Some(NOTES)),
        "staff see it"
    );
    let e = e["id"].as_i64().unwrap_or_default();
    let (s, b) = app
        .post(
            &format!("/events/{e}/bookings"),
            Some(Role::School),
            json!({"pupils": 2}),
        )
        .await;
    assert_eq!(
        (s, b["status"].as_str()),
        (StatusCode::CREATED, Some("confirmed")),
        "{b}"
    );
    let other = other_school(app).await;
    let (s, b) = api_as(
        app,
        &other.token,
        Method::POST,
        &format!("/events/{e}/bookings"),
        Some(json!({"pupils": 2})),
    )
    .await;
    assert_eq!(
        (s, b["status"].as_str()),
        (StatusCode::CREATED, Some("waitlisted")),
        "{b}"
    );
    (p, e, other)
}

both!(only_staff_and_schools_booked_see_the_joining_link);
async fn only_staff_and_schools_booked_see_the_joining_link(app: TestApp) {
    let (p, e, other) = stream(&app).await;

    // The API: staff see it on the event; a funder and every list never.
    let (_, seen) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(seen["joining_url"], LINK);
    let (s, funder) = app.get(&format!("/events/{e}"), Some(Role::Funder)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !funder.to_string().contains("stream.example.org"),
        "{funder}"
    );
    for list in [
        format!("/events?programme_id={p}"),
        format!("/programmes/{p}/events"),
    ] {
        let (s, l) = app.get(&list, Some(Role::Lead)).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        assert!(!l.to_string().contains("stream.example.org"), "{list}: {l}");
    }
    // A booking: the confirmed school sees how to join; the school still waiting does not.
    let (_, mine) = app.get("/bookings", Some(Role::School)).await;
    assert_eq!(mine["items"][0]["joining_url"], LINK, "{mine}");
    assert_eq!(mine["items"][0]["joining_notes"], NOTES);
    let (_, theirs) = api_as(&app, &other.token, Method::GET, "/bookings", None).await;
    assert_eq!(theirs["items"].as_array().map(Vec::len), Some(1));
    assert!(
        !theirs.to_string().contains("stream.example.org"),
        "{theirs}"
    );

    // Pages: Our bookings shows it to the booked school only; What's on to nobody.
    let (_, _, ours) = app.page("/bookings", Some(Role::School)).await;
    assert!(ours.contains(LINK) && ours.contains(NOTES), "{ours}");
    let waiting = page_as(&app, &other.session, "/bookings").await;
    assert!(!waiting.contains("stream.example.org"));
    for session in [app.school.session.clone(), other.session.clone()] {
        let on = page_as(&app, &session, "/whats-on").await;
        assert!(!on.contains("stream.example.org"), "What's on");
    }
    let (_, _, event_page) = app.page(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert!(event_page.contains(LINK), "the lead's event page");
    let (_, _, event_page) = app.page(&format!("/events/{e}"), Some(Role::Funder)).await;
    assert!(
        !event_page.contains("stream.example.org"),
        "a funder's event page"
    );

    // Calendar feeds: the booked school's carries it; the waiting school's and the
    // programme's do not.
    let feed = |role: Option<Role>, token: Option<String>, path: String| {
        let app = &app;
        async move {
            let (s, link) = match token {
                Some(t) => {
                    api_as(
                        app,
                        &t,
                        Method::POST,
                        &format!("/{path}/calendar/regenerate"),
                        Some(json!({})),
                    )
                    .await
                }
                None => {
                    app.post(&format!("/{path}/calendar/regenerate"), role, json!({}))
                        .await
                }
            };
            assert_eq!(s, StatusCode::OK, "{link}");
            let at = link["url"]
                .as_str()
                .unwrap_or("")
                .trim_start_matches("http://localhost")
                .to_string();
            let (s, _, body) = app.page(&at, None).await;
            assert_eq!(s, StatusCode::OK);
            body
        }
    };
    let ours = feed(
        Some(Role::School),
        None,
        format!("schools/{}", app.school_id),
    )
    .await;
    assert!(
        ours.contains("URL:https://stream.example.org/ruby-live") && ours.contains("4821"),
        "{ours}"
    );
    let theirs = feed(
        None,
        Some(other.token.clone()),
        format!("schools/{}", other.school_id),
    )
    .await;
    assert!(
        theirs.contains(&format!("event-{e}@")) && !theirs.contains("stream.example.org"),
        "{theirs}"
    );
    let programme = feed(Some(Role::Lead), None, format!("programmes/{p}")).await;
    assert!(!programme.contains("stream.example.org"), "{programme}");

    // Exports: the bookings CSV and the programme's workbook never carry it.
    let req = Request::builder()
        .uri("/api/v1/bookings.csv")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.lead.token))
        .body(Body::empty())
        .expect("request");
    let (s, _, bytes) = app.send(req).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!String::from_utf8_lossy(&bytes).contains("stream.example.org"));
    let req = Request::builder()
        .uri(format!("/api/v1/programmes/{p}/impact.xlsx"))
        .header(header::AUTHORIZATION, format!("Bearer {}", app.lead.token))
        .body(Body::empty())
        .expect("request");
    let (s, _, bytes) = app.send(req).await;
    assert_eq!(s, StatusCode::OK);
    use calamine::{Reader, Xlsx};
    let mut book = Xlsx::new(std::io::Cursor::new(bytes)).expect("a workbook");
    for name in book.sheet_names() {
        let sheet = book.worksheet_range(&name).expect("a sheet");
        for cell in sheet.used_cells() {
            assert!(!cell.2.to_string().contains("stream.example.org"), "{name}");
        }
    }
}

both!(the_schools_booked_are_told_how_to_join_once_each_time);
async fn the_schools_booked_are_told_how_to_join_once_each_time(app: TestApp) {
    let (_, e, _) = stream(&app).await;
    // Confirmed: the letter says how to join; waiting: not a word of it.
    let ours = letters_to(&app, "school@example.org").await;
    assert_eq!(ours.len(), 1);
    assert!(
        ours[0].1.contains(LINK) && ours[0].1.contains(NOTES),
        "{}",
        ours[0].1
    );
    let theirs = letters_to(&app, "other@example.org").await;
    assert_eq!(theirs[0].0, "On the waiting list");
    assert!(!theirs[0].1.contains("stream.example.org"));

    // A new link, set with nothing else: the booked school is told once, the waiting one not.
    let (s, changed) = app
        .api(
            Method::PUT,
            &format!("/events/{e}"),
            Some(Role::Lead),
            Some(json!({"joining_url": NEW_LINK})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{changed}");
    assert_eq!(
        (
            changed["joining_url"].as_str(),
            changed["joining_notes"].as_str(),
            changed["sequence"].as_i64()
        ),
        (Some(NEW_LINK), Some(NOTES), Some(1))
    );
    let ours = letters_to(&app, "school@example.org").await;
    assert_eq!(ours.len(), 2);
    assert_eq!(ours[1].0, "How to join the live stream");
    assert!(ours[1].1.contains(NEW_LINK) && ours[1].1.contains(NOTES));
    assert_eq!(letters_to(&app, "other@example.org").await.len(), 1);
    // A change that names nothing to change is refused.
    let (s, v) = app
        .api(
            Method::PUT,
            &format!("/events/{e}"),
            Some(Role::Lead),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // The same link again changes nothing and tells nobody.
    app.api(
        Method::PUT,
        &format!("/events/{e}"),
        Some(Role::Lead),
        Some(json!({"joining_url": NEW_LINK})),
    )
    .await;
    assert_eq!(letters_to(&app, "school@example.org").await.len(), 2);

    // Refused with the field named, changing nothing: not https, or not a live stream.
    for bad in [
        "http://stream.example.org/x",
        "stream.example.org",
        "javascript:alert(1)",
    ] {
        let (s, v) = app
            .api(
                Method::PUT,
                &format!("/events/{e}"),
                Some(Role::Lead),
                Some(json!({"joining_url": bad})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        assert!(v["error"]["fields"]["joining_url"].is_string(), "{v}");
    }
    let (_, seen) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(seen["joining_url"], NEW_LINK);
    // On the event page, the form comes back open, with what was typed and why.
    let (s, _, page) = app
        .form(
            &format!("/events/{e}/change"),
            Some(Role::Lead),
            &[("joining_url", "http://stream.example.org/typed")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("Joining link: must be a full https:// address")
            && page.contains("http://stream.example.org/typed")
            && page.contains("id=\"change\" open"),
        "{page}"
    );
    let p = a_programme(&app).create().await;
    let (s, v) = app
        .post(
            &format!("/programmes/{p}/events"),
            Some(Role::Lead),
            json!({"kind": "performance", "school_id": app.school_id, "starts_at": "2031-03-01T10:00:00Z", "ends_at": "2031-03-01T11:00:00Z", "joining_url": LINK}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        v["error"]["fields"]["joining_url"],
        "only a live stream has a joining link"
    );

    // Cancelling the stream says so.
    app.post(&format!("/events/{e}/cancel"), Some(Role::Lead), json!({}))
        .await;
    let ours = letters_to(&app, "school@example.org").await;
    assert_eq!(ours.last().map(|l| l.0.as_str()), Some("Event cancelled"));
}

both!(starting_soon_goes_once_to_each_school_booked);
async fn starting_soon_goes_once_to_each_school_booked(app: TestApp) {
    let p = a_programme(&app).create().await;
    let start = chrono::Utc::now() + chrono::Duration::minutes(20);
    let (s, e) = app
        .post(
            &format!("/programmes/{p}/events"),
            Some(Role::Lead),
            json!({"kind": "live_stream", "starts_at": start.to_rfc3339(), "ends_at": (start + chrono::Duration::hours(1)).to_rfc3339(), "joining_url": LINK}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    app.post(
        &format!("/events/{}/bookings", e["id"]),
        Some(Role::School),
        json!({"pupils": 30}),
    )
    .await;
    // Two workers (as two processes would) queue at once, twice over.
    let rules = app.state.rules();
    let mut runs = Vec::new();
    for _ in 0..4 {
        let state = app.state.clone();
        runs.push(tokio::spawn(async move {
            state
                .db(move |c| outreach::domain::schedule::queue_starting_soon(c, &rules))
                .await
                .expect("queue")
        }));
    }
    let mut queued = 0;
    for r in runs {
        queued += r.await.expect("a worker");
    }
    assert_eq!(queued, 1);
    let ours = letters_to(&app, "school@example.org").await;
    let soon: Vec<_> = ours
        .iter()
        .filter(|l| l.0 == "Starting soon: the live stream")
        .collect();
    assert_eq!(soon.len(), 1, "{ours:?}");
    assert!(soon[0].1.contains(LINK));
}
