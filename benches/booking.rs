//! Booking write rate: N concurrent booking requests through the router (in process, no
//! network), on SQLite or PostgreSQL. Run: `cargo bench --bench booking -- [sqlite|postgres] [N] [CONCURRENCY]`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, Method, Request};
use diesel::prelude::*;
use outreach::app::{now, App};
use outreach::config::Config;
use outreach::db::{self, schema};
use tower::ServiceExt;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let backend = args
        .first()
        .map(String::as_str)
        .unwrap_or("sqlite")
        .to_string();
    let n: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(16);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = if backend == "postgres" {
        let server = std::env::var("TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!("outreach_booking_bench_{}", std::process::id());
        let mut admin =
            diesel::PgConnection::establish(&format!("{server}/postgres")).expect("postgres");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create");
        format!("{server}/{name}")
    } else {
        format!("sqlite://{}", dir.path().join("bench.db").display())
    };
    let config = Config::new(&url, "127.0.0.1:0", None, "Europe/London", None).expect("config");
    let pool = db::connect(&config.database, config.pool_size).expect("connect");
    db::migrate(&mut pool.get().expect("conn")).expect("migrate");
    let (token, event, schools) = {
        let mut c = pool.get().expect("conn");
        let at = now();
        let user = outreach::domain::users::create(
            &mut c,
            None,
            outreach::domain::users::UserInput {
                email: "bench@example.org".into(),
                name: String::new(),
                role: outreach::domain::types::Role::Lead,
                school_id: None,
                organisation_id: None,
                password: Some("a bench password".into()),
            },
        )
        .expect("user");
        let (_, token) =
            outreach::domain::tokens::create(&mut c, None, user.id, "bench").expect("token");
        let programme: i32 = diesel::insert_into(schema::programmes::table)
            .values((
                schema::programmes::title.eq("Bench"),
                schema::programmes::year.eq(2030),
                schema::programmes::created_at.eq(at),
                schema::programmes::updated_at.eq(at),
            ))
            .returning(schema::programmes::id)
            .get_result(&mut c)
            .expect("programme");
        let start = chrono::NaiveDate::from_ymd_opt(2031, 1, 1)
            .and_then(|d| d.and_hms_opt(19, 0, 0))
            .expect("date");
        let event: i32 = diesel::insert_into(schema::events::table)
            .values((
                schema::events::programme_id.eq(programme),
                schema::events::kind.eq("live_stream"),
                schema::events::starts_at.eq(start),
                schema::events::ends_at.eq(start + chrono::Duration::hours(1)),
                schema::events::capacity.eq((n / 2) as i32),
                schema::events::created_at.eq(at),
                schema::events::updated_at.eq(at),
            ))
            .returning(schema::events::id)
            .get_result(&mut c)
            .expect("event");
        let mut schools = Vec::with_capacity(n);
        for i in 0..n {
            let id: i32 = diesel::insert_into(schema::schools::table)
                .values((
                    schema::schools::name.eq(format!("School {i}")),
                    schema::schools::created_at.eq(at),
                    schema::schools::updated_at.eq(at),
                ))
                .returning(schema::schools::id)
                .get_result(&mut c)
                .expect("school");
            schools.push(id);
        }
        (token, event, schools)
    };
    let router = outreach::build_router(App::new(pool, config));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let token = Arc::new(token);
    let started = Instant::now();
    let (ok, confirmed) = runtime.block_on(async move {
        let queue = Arc::new(tokio::sync::Mutex::new(schools));
        let mut workers = Vec::new();
        for _ in 0..concurrency {
            let (router, token, queue) = (router.clone(), token.clone(), queue.clone());
            workers.push(tokio::spawn(async move {
                let (mut ok, mut confirmed) = (0usize, 0usize);
                loop {
                    let Some(school) = queue.lock().await.pop() else {
                        break;
                    };
                    let req = Request::builder()
                        .method(Method::POST)
                        .uri(format!("/api/v1/events/{event}/bookings"))
                        .header(header::AUTHORIZATION, format!("Bearer {token}"))
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Body::from(format!(
                            "{{\"school_id\": {school}, \"pupils\": 1}}"
                        )))
                        .expect("request");
                    let response = router.clone().oneshot(req).await.expect("router");
                    if response.status().as_u16() == 201 {
                        ok += 1;
                        let body = http_body_util::BodyExt::collect(response.into_body())
                            .await
                            .expect("body")
                            .to_bytes();
                        if body.windows(11).any(|w| w == b"\"confirmed\"") {
                            confirmed += 1;
                        }
                    }
                }
                (ok, confirmed)
            }));
        }
        let mut totals = (0, 0);
        for w in workers {
            let (a, b) = w.await.expect("worker");
            totals.0 += a;
            totals.1 += b;
        }
        totals
    });
    let secs = started.elapsed().as_secs_f64();
    println!("{backend}: {ok}/{n} booking requests answered 201 in {secs:.2} s with {concurrency} at a time: {:.0} requests/s; {confirmed} confirmed (capacity {}), the rest waitlisted", ok as f64 / secs, n / 2);
    if backend == "postgres" {
        let server = std::env::var("TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        if let Ok(mut admin) = diesel::PgConnection::establish(&format!("{server}/postgres")) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS outreach_booking_bench_{} WITH (FORCE)",
                std::process::id()
            ))
            .execute(&mut admin);
        }
    }
}
