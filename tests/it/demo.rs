//! The demo: the case study exactly as SPEC §3 says, and a current round dated from today
//! in which every demo account's first page says what to try and that action works;
//! `outreach demo --reset` puts it back and never touches a database that is not a demo.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use diesel::prelude::*;
use outreach::domain::demo::{self, DemoSummary, Marks};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::harness::{csrf_for, TestApp, CSRF};

/// Loads the demo (it loads only into an empty database: the harness's users, school
/// and organisation are taken away first).
pub async fn load_demo(app: &TestApp) -> DemoSummary {
    app.state
        .db(|c| {
            for sql in [
                "DELETE FROM api_tokens",
                "DELETE FROM sessions",
                "DELETE FROM users",
                "DELETE FROM schools",
                "DELETE FROM organisations",
            ] {
                diesel::sql_query(sql).execute(c)?;
            }
            demo::load(c)
        })
        .await
        .expect("the demo loads")
}

async fn marks(app: &TestApp) -> Marks {
    app.state
        .db(demo::marks)
        .await
        .expect("marks")
        .expect("a demo install")
}

/// A browser signed in as one of the demo's accounts.
struct Browser<'a> {
    app: &'a TestApp,
    session: String,
}

impl<'a> Browser<'a> {
    async fn sign_in(app: &'a TestApp, email: &'static str) -> Browser<'a> {
        let config = app.state.config.clone();
        let session = app
            .state
            .db(move |c| {
                let user = outreach::domain::users::find_by_email(c, email)?
                    .ok_or(outreach::error::AppError::NotFound)?;
                outreach::domain::sessions::start(c, &config, user.id)
            })
            .await
            .expect("a session");
        Browser { app, session }
    }

    async fn send(&self, method: Method, path: &str, form: &[(&str, &str)]) -> Answer {
        let mut req = Request::builder().method(method.clone()).uri(path).header(
            header::COOKIE,
            format!("outreach_csrf={CSRF}; outreach_session={}", self.session),
        );
        let body = if method == Method::POST {
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            s.append_pair("csrf_token", &csrf_for(&self.session));
            for (k, v) in form {
                s.append_pair(k, v);
            }
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(s.finish())
        } else {
            Body::empty()
        };
        let (status, headers, bytes) = self.app.send(req.body(body).expect("request")).await;
        Answer {
            status,
            location: headers
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(str::to_string),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, &[]).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.send(Method::POST, path, form).await
    }

    /// GETs a page, following redirects: where it ended and the page.
    async fn follow(&self, path: &str) -> (String, String) {
        let mut at = path.to_string();
        for _ in 0..5 {
            let a = self.get(&at).await;
            match (a.status.is_redirection(), a.location) {
                (true, Some(next)) => at = next,
                _ => {
                    assert_eq!(a.status, StatusCode::OK, "{at}: {}", a.body);
                    return (at, a.body);
                }
            }
        }
        panic!("{path} redirects too often");
    }
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

/// The demo's line on a page: its words and where its links go.
struct Line {
    text: String,
    links: Vec<String>,
}

fn hint_of(page: &str) -> Option<Line> {
    let start = page.find("class=\"demo-hint\"")?;
    let end = start + page[start..].find("</p>")?;
    let html = &page[start..end];
    let links = html
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect();
    let mut text = String::new();
    let mut in_tag = false;
    for ch in html[html.find('>').unwrap_or(0)..].chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    Some(Line {
        text: text.replace("&#x27;", "'").replace("&amp;", "&"),
        links,
    })
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn count(app: &TestApp, sql: impl Into<String>) -> i64 {
    let sql: String = sql.into();
    app.state
        .db(move |c| Ok(diesel::sql_query(sql).get_result::<N>(c)?.n))
        .await
        .expect("a count")
}

both!(every_demo_account_has_something_to_do);
async fn every_demo_account_has_something_to_do(app: TestApp) {
    // Outside a demo install nobody is told what to try, even with a demo's address.
    let (_, _, home) = app.page("/", Some(Role::Lead)).await;
    assert!(
        home.contains("Waiting for you") && !home.contains("demo-hint"),
        "{home}"
    );
    app.with_db(|c| {
        outreach::domain::users::create(
            c,
            None,
            outreach::domain::users::UserInput {
                email: "lead@demo.example".into(),
                name: "Not the demo".into(),
                role: Role::Lead,
                school_id: None,
                organisation_id: None,
                password: Some("a long enough password".into()),
            },
        )
    })
    .await
    .expect("a user");
    let (_, page) = Browser::sign_in(&app, "lead@demo.example")
        .await
        .follow("/")
        .await;
    assert!(!page.contains("demo-hint"), "{page}");
    // The demo loads only into an empty database.
    assert!(
        matches!(
            app.state.db(demo::load).await,
            Err(outreach::error::AppError::Conflict(_))
        ),
        "the demo loaded over a database with users and schools"
    );

    let summary = load_demo(&app).await;
    let marks = marks(&app).await;
    assert!(
        matches!(
            app.state.db(demo::load).await,
            Err(outreach::error::AppError::Conflict(_))
        ),
        "the demo loads only into an empty database"
    );

    // The case study is exactly SPEC §3's, and County Lines 2019 is still only planned.
    let token = app
        .state
        .db(|c| {
            let admin = outreach::domain::users::find_by_email(c, "admin@demo.example")?
                .ok_or(outreach::error::AppError::NotFound)?;
            Ok(outreach::domain::tokens::create(c, None, admin.id, "test")?.1)
        })
        .await
        .expect("a token");
    let impact = |id: i32| {
        let token = token.clone();
        let app = &app;
        async move {
            let req = Request::builder()
                .uri(format!("/api/v1/programmes/{id}/impact"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request");
            let (s, _, body) = app.send(req).await;
            (
                s,
                serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default(),
            )
        }
    };
    let (s, ruby) = impact(summary.ruby_id).await;
    assert_eq!(s, StatusCode::OK, "{ruby}");
    crate::impact::assert_case_study(&ruby);
    let (_, county) = impact(summary.county_lines_id).await;
    assert_eq!(county["total"]["schools"], 0);
    assert_eq!(
        county["targets"][0],
        json!({"measure": "schools", "target": 10, "achieved": 0, "percent": 0})
    );
    // The current round serves the same priority and its ten-schools target: two
    // visits held and counted so far.
    let (_, current) = impact(summary.current_id).await;
    assert_eq!(
        current["targets"][0],
        json!({"measure": "schools", "target": 10, "achieved": 2, "percent": 20}),
        "{current}"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM programmes WHERE priority_id = (SELECT priority_id FROM programmes WHERE title = 'County Lines')").await,
        2
    );
    // Register-like schools in two districts: three pages of the directory.
    assert_eq!(summary.schools, 140);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(DISTINCT district) AS n FROM schools WHERE urn >= 913001"
        )
        .await,
        2
    );

    // The school lands on What's on, told to book the Brewery Arts Centre performance.
    let school = Browser::sign_in(&app, "school@demo.example").await;
    let (landed, page) = school.follow("/").await;
    assert_eq!(landed, "/whats-on");
    let line = hint_of(&page).expect("the school's line");
    assert!(
        line.text
            .contains("You are the demo school, Burneside Beck School: book places at the Brewery Arts Centre performance"),
        "{}",
        line.text
    );
    let book = format!("/events/{}/book", marks.brewery_show_id);
    assert_eq!(line.links, vec![book.clone()]);
    // What's on has a performance with places left, a full workshop with a waiting list,
    // a performance the company confirms, a live stream, and free tour dates.
    assert!(page.contains("<strong>138</strong> places left"), "{page}");
    assert!(page.contains("<strong>Full</strong>"));
    assert!(page.contains("the company confirms each request"));
    assert!(page.contains("Streamed performance, with questions to the cast"));
    assert_eq!(page.matches("Request this date").count(), 11);
    // The action works: the form, then places confirmed.
    let form = school.get(&book).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("<form") && form.body.contains("name=\"pupils\""));
    let booked = school
        .post(&book, &[("pupils", "30"), ("staff", "3")])
        .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.body);
    assert_eq!(
        count(&app, format!("SELECT COUNT(*) AS n FROM bookings b JOIN users u ON u.school_id = b.school_id WHERE u.email = 'school@demo.example' AND b.status = 'confirmed' AND b.event_id = {}", marks.brewery_show_id)).await,
        1
    );
    // Once booked, the line no longer offers it.
    let (_, page) = school.follow("/").await;
    let line = hint_of(&page).expect("the school's line");
    assert_eq!(line.links, vec!["/bookings".to_string()], "{}", line.text);

    // The demo school's visit was held; its feedback link is live and answers came in.
    let (s, _, form) = app.page(&summary.feedback_path, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains("<form"), "{form}");
    let booking = marks.demo_school_booking_id;
    assert_eq!(
        app.with_db(move |c| {
            use outreach::db::schema::feedback;
            feedback::table
                .filter(feedback::booking_id.eq(booking))
                .filter(feedback::moderation.eq("pending"))
                .count()
                .get_result::<i64>(c)
        })
        .await
        .expect("feedback"),
        3
    );

    // The lead: three requests to answer, a visit held whose attendance is to be entered.
    let lead = Browser::sign_in(&app, "lead@demo.example").await;
    let (landed, page) = lead.follow("/").await;
    assert_eq!(landed, "/");
    let line = hint_of(&page).expect("the lead's line");
    assert!(
        line.text.contains(
            "3 requests are waiting for your answer, and the visit to Kent Valley Academy on"
        ),
        "{}",
        line.text
    );
    let held = format!("/events/{}", marks.awaiting_attendance_id);
    assert_eq!(line.links, vec!["/requests".to_string(), held.clone()]);
    assert!(page.contains("1 booking is on a waiting list"), "{page}");
    let requests = lead.get("/requests").await.body;
    for school in [
        "Fellside High School",
        "Kirkby Lonsdale School",
        "Furness Park School",
    ] {
        assert!(requests.contains(school), "{school}: {requests}");
    }
    let confirm = requests
        .split("action=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|a| a.ends_with("/confirm"))
        .expect("a confirm form")
        .to_string();
    let confirmed = lead.post(&confirm, &[("message", "")]).await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.body
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM bookings WHERE status = 'requested'"
        )
        .await,
        2
    );
    let event = lead.get(&held).await;
    assert_eq!(event.status, StatusCode::OK);
    assert!(event
        .body
        .contains(&format!("action=\"{held}/attendance\"")));
    // The visit's school is on its grid already, with what it booked as a hint.
    assert!(
        event.body.contains("Booked for 150 pupils and 10 staff"),
        "{}",
        event.body
    );
    let id = marks.awaiting_attendance_id;
    let (status, starts, rows) = app
        .with_db(move |c| {
            use outreach::db::schema::{attendance, events};
            let (status, starts): (String, chrono::NaiveDateTime) = events::table
                .find(id)
                .select((events::status, events::starts_at))
                .first(c)?;
            let rows: i64 = attendance::table
                .filter(attendance::event_id.eq(id))
                .count()
                .get_result(c)?;
            Ok::<_, diesel::result::Error>((status, starts, rows))
        })
        .await
        .expect("the held visit");
    assert_eq!((status.as_str(), rows), ("confirmed", 0));
    assert!(starts < outreach::app::now());

    // The funder lands on its partnership's figures, pointed at the case study.
    let funder = Browser::sign_in(&app, "funder@demo.example").await;
    let (landed, page) = funder.follow("/").await;
    assert!(landed.starts_with("/organisations/"), "{landed}");
    let line = hint_of(&page).expect("the funder's line");
    assert_eq!(
        line.links,
        vec![
            format!("/programmes/{}/impact", marks.ruby_id),
            format!("/programmes/{}/impact", marks.current_id),
        ]
    );
    let (_, ruby_page) = funder.follow(&line.links[0]).await;
    assert!(ruby_page.contains("1,520"), "{ruby_page}");

    // The admin is pointed at users, the register import and the audit log.
    let admin = Browser::sign_in(&app, "admin@demo.example").await;
    let (_, page) = admin.follow("/").await;
    let line = hint_of(&page).expect("the admin's line");
    assert_eq!(line.links, vec!["/users/new", "/import/schools", "/audit"]);
    let form = admin.get("/users/new").await;
    assert!(form.status == StatusCode::OK && form.body.contains("<form"));
}

/// What a demo install holds, ids included, as lines to compare.
async fn fingerprint(app: &TestApp) -> Vec<String> {
    #[derive(QueryableByName)]
    struct L {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    app.state
        .db(|c| {
            let mut out = Vec::new();
            for sql in [
                "SELECT CAST(id AS TEXT) || ' ' || name || ' ' || COALESCE(CAST(urn AS TEXT), '') || ' ' || district || ' ' || postcode || ' ' || COALESCE(CAST(pupils AS TEXT), '') || ' ' || COALESCE(CAST(fsm_percent AS TEXT), '') AS line FROM schools ORDER BY id",
                "SELECT CAST(id AS TEXT) || ' ' || title || ' ' || status AS line FROM programmes ORDER BY id",
                "SELECT CAST(id AS TEXT) || ' ' || kind || ' ' || status || ' ' || CAST(starts_at AS TEXT) || ' ' || CAST(places_confirmed AS TEXT) AS line FROM events ORDER BY id",
                "SELECT CAST(id AS TEXT) || ' ' || CAST(day AS TEXT) || ' ' || status AS line FROM tour_slots ORDER BY id",
                "SELECT CAST(id AS TEXT) || ' ' || status || ' ' || CAST(school_id AS TEXT) || ' ' || CAST(pupils AS TEXT) AS line FROM bookings ORDER BY id",
                "SELECT CAST(event_id AS TEXT) || ' ' || CAST(pupils AS TEXT) || ' ' || CAST(staff AS TEXT) AS line FROM attendance ORDER BY id",
                "SELECT CAST(id AS TEXT) || ' ' || quote || ' ' || moderation AS line FROM feedback ORDER BY id",
                "SELECT CAST(id AS TEXT) || ' ' || email || ' ' || role AS line FROM users ORDER BY id",
            ] {
                out.extend(
                    diesel::sql_query(sql)
                        .load::<L>(c)?
                        .into_iter()
                        .map(|l| l.line),
                );
            }
            Ok(out)
        })
        .await
        .expect("fingerprint")
}

both!(reset_puts_the_demo_back_and_never_touches_real_data);
async fn reset_puts_the_demo_back_and_never_touches_real_data(app: TestApp) {
    // A database the demo was not loaded into is refused, and nothing in it changes.
    let (users, schools) = (app.count("users").await, app.count("schools").await);
    let refused = app.state.db(demo::reset).await;
    match refused {
        Err(outreach::error::AppError::Conflict(m)) => {
            assert!(m.contains("not a demo install"), "{m}")
        }
        Err(e) => panic!("refused with {e}"),
        Ok(_) => panic!("a reset deleted a database that is not a demo"),
    }
    assert_eq!(
        (app.count("users").await, app.count("schools").await),
        (users, schools)
    );

    load_demo(&app).await;
    // The first reset leaves exactly the demo (the harness's own rows go too) ...
    app.state.db(demo::reset).await.expect("a reset");
    let first = fingerprint(&app).await;
    assert_eq!(app.count("users").await, 4);
    // ... someone then uses it: books, answers, renames, deletes ...
    let school = Browser::sign_in(&app, "school@demo.example").await;
    let marks = marks(&app).await;
    let booked = school
        .post(
            &format!("/events/{}/book", marks.brewery_show_id),
            &[("pupils", "20")],
        )
        .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.body);
    app.with_db(|c| {
        diesel::sql_query("UPDATE schools SET name = 'Renamed' WHERE urn = 913001").execute(c)?;
        diesel::sql_query("DELETE FROM outcome_answers").execute(c)?;
        diesel::sql_query("DELETE FROM feedback").execute(c)
    })
    .await
    .expect("changes");
    assert_ne!(fingerprint(&app).await, first);
    // ... and a reset puts back exactly the first state, ids and all.
    let again = app.state.db(demo::reset).await.expect("a reset");
    assert_eq!(fingerprint(&app).await, first);
    assert_eq!(again.schools, 140);
    assert_eq!(app.count("sessions").await, 0, "everyone signs in again");
}
