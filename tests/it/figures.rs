//! Figures kept, not recounted: whatever is written (attendance and its corrections,
//! completions, reopenings, cancellations, moves, a venue renamed, even a write that goes
//! round the app), the figures served equal a recount of the raw rows, and unchanged
//! figures are read from what was kept.

use axum::http::{Method, StatusCode};
use outreach::domain::types::Role;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::{a_programme, a_venue, event, schools};
use crate::harness::TestApp;

/// The recount of the raw rows of these programmes, as the API writes figures.
async fn recount(app: &TestApp, ids: Vec<i32>) -> Value {
    let c = app
        .with_db(move |c| {
            outreach::domain::reports::recount(c, &ids, outreach::app::now()).expect("recount")
        })
        .await;
    json!({"by_delivery": c.by_delivery, "total": c.total, "workshops": c.workshops})
}

fn served(v: &Value) -> Value {
    json!({"by_delivery": v["by_delivery"], "total": v["total"], "workshops": v["workshops"]})
}

both!(figures_served_equal_a_recount_after_every_write);
async fn figures_served_equal_a_recount_after_every_write(app: TestApp) {
    let p = a_programme(&app).year(2019).funded().create().await;
    let q = a_programme(&app)
        .titled("Other")
        .year(2019)
        .funded()
        .create()
        .await;
    let ids = schools(&app, 4).await;
    let venue = a_venue(&app).await;
    let mut events = Vec::new();
    for (i, programme) in [p, p, p, p, p, p, q, q].into_iter().enumerate() {
        let day = format!("2019-03-{:02}", 4 + i);
        let school = ids[i % ids.len()];
        let body = match i % 4 {
            0 => json!({"kind": "performance", "school_id": school}),
            1 => json!({"kind": "workshop", "school_id": school}),
            2 => json!({"kind": "performance", "venue_id": venue, "capacity": 250}),
            _ => json!({"kind": "live_stream"}),
        };
        let mut body = body;
        body["starts_at"] = json!(format!("{day}T10:00:00Z"));
        body["ends_at"] = json!(format!("{day}T11:00:00Z"));
        events.push(event(&app, programme, body).await);
    }
    let org = app.organisation_id;
    let mut rng = rand_xorshift::XorShiftRng::seed_from_u64(2019);
    let mut kinds_done = [0usize; 7];
    for step in 0..70 {
        let e = events[rng.random_range(0..events.len())];
        let kind = rng.random_range(0..7);
        let status = match kind {
            // Attendance written or corrected: one to three rows of schools and a group.
            0 | 1 => {
                let mut rows = Vec::new();
                for s in ids.iter().take(rng.random_range(0..4)) {
                    rows.push(json!({"school_id": s, "pupils": rng.random_range(0..200), "staff": rng.random_range(0..10), "other": rng.random_range(0..3)}));
                }
                if rng.random_range(0..3) == 0 {
                    rows.push(json!({"group": "public", "pupils": 0, "staff": 0, "other": rng.random_range(0..60)}));
                }
                app.api(
                    Method::PUT,
                    &format!("/events/{e}/attendance"),
                    Some(Role::Lead),
                    Some(Value::Array(rows)),
                )
                .await
                .0
            }
            2 => {
                app.post(
                    &format!("/events/{e}/complete"),
                    Some(Role::Lead),
                    json!({}),
                )
                .await
                .0
            }
            3 => {
                app.post(&format!("/events/{e}/reopen"), Some(Role::Lead), json!({}))
                    .await
                    .0
            }
            // A move to another day (refused for a completed event, which is fine too).
            4 => {
                let day = format!("2019-04-{:02}", rng.random_range(1..29));
                app.api(
                    Method::PUT,
                    &format!("/events/{e}"),
                    Some(Role::Lead),
                    Some(json!({"starts_at": format!("{day}T14:00:00Z"), "ends_at": format!("{day}T15:00:00Z")})),
                )
                .await
                .0
            }
            // A cancellation, now and then.
            5 if rng.random_range(0..4) == 0 => {
                app.post(&format!("/events/{e}/cancel"), Some(Role::Lead), json!({}))
                    .await
                    .0
            }
            // The venue renamed (the narrative names it).
            6 => {
                app.api(
                    Method::PUT,
                    &format!("/venues/{venue}"),
                    Some(Role::Admin),
                    Some(json!({"name": format!("Venue {step}"), "capacity": 250})),
                )
                .await
                .0
            }
            _ => StatusCode::OK,
        };
        assert!(!status.is_server_error(), "step {step}: {status}");
        if status.is_success() {
            kinds_done[kind] += 1;
        }
        for _ in 0..2 {
            // Twice: counted and kept, then read from what was kept.
            let (s, v) = app
                .get(&format!("/programmes/{p}/impact"), Some(Role::Lead))
                .await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(
                served(&v),
                recount(&app, vec![p as i32]).await,
                "step {step}"
            );
            let (s, v) = app
                .get(&format!("/organisations/{org}/impact"), Some(Role::Funder))
                .await;
            assert_eq!(s, StatusCode::OK);
            assert_eq!(
                served(&v),
                recount(&app, vec![p as i32, q as i32]).await,
                "step {step}: the organisation"
            );
        }
    }
    for (kind, n) in kinds_done.iter().enumerate().take(5) {
        assert!(*n > 0, "writes of kind {kind} happened");
    }
    let kept = app.count("figures_cache").await;
    assert!(kept > 0, "figures were kept");

    // A write that goes round the app (a correction by hand in the database) is seen too.
    let completed: Vec<i32> = app
        .with_db(move |c| {
            use diesel::prelude::*;
            use outreach::db::schema::events as ev;
            ev::table
                .filter(ev::programme_id.eq(p as i32))
                .filter(ev::status.eq("completed"))
                .select(ev::id)
                .load(c)
                .unwrap_or_default()
        })
        .await;
    if let Some(&e) = completed.first() {
        let school = ids[0] as i32;
        app.with_db(move |c| {
            diesel::sql_query(format!(
                "INSERT INTO attendance (event_id, school_id, pupils, staff, other_adults, created_at, updated_at) \
                 SELECT {e}, {school}, 1000, 0, 0, created_at, updated_at FROM events WHERE id = {e} \
                 AND NOT EXISTS (SELECT 1 FROM attendance WHERE event_id = {e} AND school_id = {school})"
            ))
            .execute(c)
            .expect("a row by hand");
            diesel::sql_query(format!(
                "UPDATE attendance SET pupils = pupils + 7 WHERE event_id = {e}"
            ))
            .execute(c)
            .expect("a correction by hand")
        })
        .await;
        let (_, v) = app
            .get(&format!("/programmes/{p}/impact"), Some(Role::Lead))
            .await;
        assert_eq!(served(&v), recount(&app, vec![p as i32]).await);
    }

    // The check of a live database finds nothing amiss.
    let found = app
        .with_db(|c| {
            outreach::domain::reports::check_figures(c, outreach::app::now()).expect("check")
        })
        .await;
    assert!(found.checked >= 3, "{found:?}");
    assert!(found.differences.is_empty(), "{found:?}");

    // Kept figures tampered with are found, and named.
    app.with_db(|c| {
        use diesel::prelude::*;
        use outreach::db::schema::figures_cache as f;
        let rows: Vec<(String, String)> = f::table
            .select((f::key, f::counts))
            .load(c)
            .unwrap_or_default();
        for (key, counts) in rows {
            let mut v: Value = serde_json::from_str(&counts).expect("kept json");
            v["total"]["events"] = json!(v["total"]["events"].as_i64().unwrap_or(0) + 1);
            diesel::update(f::table.find(key))
                .set(f::counts.eq(v.to_string()))
                .execute(c)
                .expect("tampered");
        }
    })
    .await;
    let found = app
        .with_db(|c| {
            outreach::domain::reports::check_figures(c, outreach::app::now()).expect("check")
        })
        .await;
    assert!(
        found
            .differences
            .iter()
            .any(|d| d.starts_with(&format!("programme {p} "))),
        "{found:?}"
    );
}

use diesel::RunQueryDsl;
