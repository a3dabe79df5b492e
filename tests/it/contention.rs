//! Promises under contention: requests sent at once, half of them through a second app
//! process on the same database, never break a rule and never meet a server error.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::{a_programme, event, live_stream, schools};
use crate::harness::{send_json, TestApp};

/// Sends POSTs at once as the lead, alternating between the app and a second app
/// process; the answers in order.
async fn at_once(app: &TestApp, requests: Vec<(String, Value)>) -> Vec<(StatusCode, Value)> {
    let requests = requests
        .into_iter()
        .map(|(path, body)| (Method::POST, path, body))
        .collect();
    all_at_once(app, requests).await
}

/// Sends requests of any method at once as the lead, as `at_once` does.
async fn all_at_once(
    app: &TestApp,
    requests: Vec<(Method, String, Value)>,
) -> Vec<(StatusCode, Value)> {
    let second = app.second_router();
    let token = Arc::new(app.lead.token.clone());
    let mut tasks = Vec::new();
    for (i, (method, path, body)) in requests.into_iter().enumerate() {
        let router = [app.router.clone(), second.clone()][i % 2].clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            send_json(router, &token, method, &path, body).await
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("a task"));
    }
    answers
}

/// How many answers had each status; a server error fails the test.
fn tally(answers: &[(StatusCode, Value)]) -> (usize, usize) {
    for (s, v) in answers {
        assert!(!s.is_server_error(), "never a server error: {s} {v}");
    }
    let ok = answers.iter().filter(|(s, _)| s.is_success()).count();
    let conflicts = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .count();
    (ok, conflicts)
}

both!(events_at_one_hour_created_at_once_make_one);
async fn events_at_one_hour_created_at_once_make_one(app: TestApp) {
    let p = a_programme(&app).funded().create().await;
    let stream = json!({"kind": "live_stream", "starts_at": "2031-03-01T10:00:00Z", "ends_at": "2031-03-01T11:00:00Z"});
    let requests = (0..10)
        .map(|_| (format!("/programmes/{p}/events"), stream.clone()))
        .collect();
    let answers = at_once(&app, requests).await;
    assert_eq!(tally(&answers), (1, 9), "{answers:?}");
    assert_eq!(app.count("events").await, 1);
}

both!(visit_requests_confirmed_at_once_confirm_one);
async fn visit_requests_confirmed_at_once_confirm_one(app: TestApp) {
    let p = a_programme(&app)
        .funded()
        .between("2031-01-06", "2031-07-18")
        .create()
        .await;
    let day = json!({"day": "2031-03-03", "session": "morning"});
    let (s, slot) = app
        .post(&format!("/programmes/{p}/slots"), Some(Role::Lead), day)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{slot}");
    let mut requests = Vec::new();
    for school in schools(&app, 6).await {
        let body = json!({"pupils": 60, "school_id": school});
        let path = format!("/slots/{}/bookings", slot["id"]);
        let (s, b) = app.post(&path, Some(Role::Lead), body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        requests.push((format!("/bookings/{}/confirm", b["id"]), json!({})));
    }
    let answers = at_once(&app, requests).await;
    assert_eq!(tally(&answers), (1, 5), "{answers:?}");
    let (_, list) = app
        .get("/bookings?status=confirmed", Some(Role::Lead))
        .await;
    assert_eq!(list["total"], 1, "one confirmed visit per tour date");
    let (_, events) = app
        .get(&format!("/programmes/{p}/events"), Some(Role::Lead))
        .await;
    assert_eq!(
        events["total"], 2,
        "one performance and one workshop: {events}"
    );
}

both!(a_schools_second_booking_is_refused_by_name);
async fn a_schools_second_booking_is_refused_by_name(app: TestApp) {
    let p = a_programme(&app)
        .funded()
        .between("2031-01-06", "2031-07-18")
        .create()
        .await;
    let e = live_stream(&app, p, 5, Some(100)).await;
    let path = format!("/events/{e}/bookings");
    let (s, _) = app
        .post(&path, Some(Role::School), json!({"pupils": 20}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (letters, audit) = (app.count("outbox").await, app.count("audit_entries").await);
    let (s, v) = app
        .post(&path, Some(Role::School), json!({"pupils": 5}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(
        app.count("outbox").await,
        letters,
        "no letter for a refusal"
    );
    assert_eq!(app.count("audit_entries").await, audit, "nothing audited");
    assert_eq!(
        v["error"]["message"],
        "Seed School already has a booking for this live stream"
    );
    // The refusal comes from the unique index after the places were taken, and gives
    // them back with everything else.
    let (_, ev) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(ev["places_confirmed"], 20, "{ev}");
    let (_, live) = app
        .get(&format!("/bookings?event_id={e}"), Some(Role::Lead))
        .await;
    assert_eq!(live["total"], 1, "{live}");
    let day = json!({"day": "2031-03-03", "session": "morning"});
    let (_, slot) = app
        .post(&format!("/programmes/{p}/slots"), Some(Role::Lead), day)
        .await;
    let ask = format!("/slots/{}/bookings", slot["id"]);
    let (s, _) = app
        .post(&ask, Some(Role::School), json!({"pupils": 60}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = app
        .post(&ask, Some(Role::School), json!({"pupils": 60}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(
        v["error"]["message"],
        "Seed School has already asked for this tour date"
    );
    assert_eq!(app.count("bookings").await, 2);
}

both!(one_school_asking_for_a_date_at_once_asks_once);
async fn one_school_asking_for_a_date_at_once_asks_once(app: TestApp) {
    let p = a_programme(&app)
        .funded()
        .between("2031-01-06", "2031-07-18")
        .create()
        .await;
    let day = json!({"day": "2031-03-03", "session": "morning"});
    let (_, slot) = app
        .post(&format!("/programmes/{p}/slots"), Some(Role::Lead), day)
        .await;
    let ask = format!("/slots/{}/bookings", slot["id"]);
    let body = json!({"pupils": 60, "school_id": app.school_id});
    let answers = at_once(&app, (0..6).map(|_| (ask.clone(), body.clone())).collect()).await;
    assert_eq!(tally(&answers), (1, 5), "{answers:?}");
    assert_eq!(app.count("bookings").await, 1);
}

/// The stress test's ground: a performance at a hall for 20 with 12 places confirmed by
/// four schools, a tour date asked for by four schools, and eight schools to book.
struct Ground {
    programme: i64,
    event: i64,
    slot: Value,
    confirmed: Vec<i64>,
    requests: Vec<i64>,
    bookers: Vec<i64>,
}

async fn ground(app: &TestApp) -> Ground {
    let p = a_programme(app)
        .funded()
        .between("2031-01-06", "2031-07-18")
        .create()
        .await;
    let (_, hall) = app
        .post(
            "/venues",
            Some(Role::Admin),
            json!({"name": "Hall", "capacity": 400}),
        )
        .await;
    let e = event(app, p, json!({"kind": "performance", "venue_id": hall["id"], "starts_at": "2031-03-10T19:00:00Z", "ends_at": "2031-03-10T20:30:00Z", "capacity": 20})).await;
    let ids = schools(app, 16).await;
    let mut confirmed = Vec::new();
    for school in &ids[8..12] {
        let body = json!({"school_id": school, "pupils": 2, "staff": 1});
        let (s, b) = app
            .post(&format!("/events/{e}/bookings"), Some(Role::Lead), body)
            .await;
        assert_eq!(
            (s, b["status"].as_str()),
            (StatusCode::CREATED, Some("confirmed"))
        );
        confirmed.push(b["id"].as_i64().unwrap());
    }
    let day = json!({"day": "2031-03-03", "session": "morning"});
    let (_, slot) = app
        .post(&format!("/programmes/{p}/slots"), Some(Role::Lead), day)
        .await;
    let mut requests = Vec::new();
    for school in &ids[12..16] {
        let body = json!({"pupils": 60, "school_id": school});
        let (s, b) = app
            .post(
                &format!("/slots/{}/bookings", slot["id"]),
                Some(Role::Lead),
                body,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        requests.push(b["id"].as_i64().unwrap());
    }
    Ground {
        programme: p,
        event: e,
        slot,
        confirmed,
        requests,
        bookers: ids[..8].to_vec(),
    }
}

/// Everything at once: 16 bookings (each school twice), 4 cancellations, 4 confirmations
/// of one tour date, 4 events at one hour, one at the tour date's hour, a capacity change.
fn the_mix(g: &Ground) -> Vec<(Method, String, Value)> {
    let (p, e) = (g.programme, g.event);
    let mut mix = Vec::new();
    for (i, school) in g.bookers.iter().chain(g.bookers.iter()).enumerate() {
        let body = json!({"school_id": school, "pupils": i % 5 + 1, "staff": 1});
        mix.push((Method::POST, format!("/events/{e}/bookings"), body));
    }
    for b in &g.confirmed {
        mix.push((Method::POST, format!("/bookings/{b}/cancel"), json!({})));
    }
    for b in &g.requests {
        mix.push((Method::POST, format!("/bookings/{b}/confirm"), json!({})));
    }
    let stream = json!({"kind": "live_stream", "starts_at": "2031-04-01T10:00:00Z", "ends_at": "2031-04-01T11:00:00Z"});
    for _ in 0..4 {
        mix.push((
            Method::POST,
            format!("/programmes/{p}/events"),
            stream.clone(),
        ));
    }
    let at_the_date = json!({"kind": "live_stream", "starts_at": g.slot["starts_at"], "ends_at": g.slot["ends_at"]});
    mix.push((Method::POST, format!("/programmes/{p}/events"), at_the_date));
    let bigger = json!({"starts_at": "2031-03-10T19:00:00Z", "ends_at": "2031-03-10T20:30:00Z", "capacity": 24});
    mix.push((Method::PUT, format!("/events/{e}"), bigger));
    mix
}

both!(a_mix_at_once_keeps_every_promise);
async fn a_mix_at_once_keeps_every_promise(app: TestApp) {
    let g = ground(&app).await;
    let answers = all_at_once(&app, the_mix(&g)).await;
    tally(&answers);
    let lead = Some(Role::Lead);
    // Places: never over capacity, and what is confirmed is what the bookings hold.
    let (_, ev) = app.get(&format!("/events/{}", g.event), lead).await;
    let (capacity, taken) = (
        ev["capacity"].as_i64().unwrap(),
        ev["places_confirmed"].as_i64().unwrap(),
    );
    let (_, list) = app
        .get(
            &format!("/bookings?event_id={}&per_page=200", g.event),
            lead,
        )
        .await;
    let bookings = list["items"].as_array().unwrap().clone();
    let held = |status: &'static str| bookings.iter().filter(move |b| b["status"] == status);
    let confirmed: i64 = held("confirmed")
        .map(|b| b["places"].as_i64().unwrap())
        .sum();
    assert_eq!(taken, confirmed, "{ev}");
    assert!(taken <= capacity, "{taken} of {capacity}");
    // The waiting list: nobody waits who would fit in the places left.
    for b in held("waitlisted") {
        assert!(
            b["places"].as_i64().unwrap() > capacity - taken,
            "{b} waits with room free"
        );
    }
    // One live booking per school.
    let mut live: Vec<i64> = bookings
        .iter()
        .filter(|b| {
            ["confirmed", "waitlisted", "requested"].contains(&b["status"].as_str().unwrap())
        })
        .map(|b| b["school_id"].as_i64().unwrap())
        .collect();
    let n = live.len();
    live.sort();
    live.dedup();
    assert_eq!(live.len(), n, "one live booking per school and event");
    assert_no_overlap_and_one_visit(&app, &g).await;
}

/// One confirmed visit on the tour date, and no two of the programme's events or the tour
/// date at one time.
async fn assert_no_overlap_and_one_visit(app: &TestApp, g: &Ground) {
    let lead = Some(Role::Lead);
    let (_, all) = app
        .get("/bookings?status=confirmed&per_page=200", lead)
        .await;
    let visits = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["slot_id"] == g.slot["id"])
        .count();
    assert_eq!(visits, 1, "one confirmed visit per tour date");
    let (_, events) = app
        .get(
            &format!("/programmes/{}/events?per_page=200", g.programme),
            lead,
        )
        .await;
    // The tour date's own events (a performance and a workshop at the school) fill it;
    // nothing else of the programme may be there.
    let mut spans: Vec<(String, String, bool)> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] != "cancelled")
        .map(|e| {
            let at = |k: &str| e[k].as_str().unwrap()[..19].to_string();
            (at("starts_at"), at("ends_at"), e["school_id"].is_null())
        })
        .collect();
    spans.sort();
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "never two places at once: {pair:?}");
    }
    let (from, to) = (
        &g.slot["starts_at"].as_str().unwrap()[..19],
        &g.slot["ends_at"].as_str().unwrap()[..19],
    );
    for (starts, ends, elsewhere) in &spans {
        let inside = starts.as_str() < to && ends.as_str() > from;
        assert!(
            !(inside && *elsewhere),
            "nothing else on the tour date: {spans:?}"
        );
    }
    assert_eq!(
        spans.len(),
        4,
        "the hall, one stream at 10:00 and the visit's two: {spans:?}"
    );
}

both!(bookings_racing_a_cancellation_never_outlive_it);
async fn bookings_racing_a_cancellation_never_outlive_it(app: TestApp) {
    let p = a_programme(&app)
        .between("2031-01-06", "2031-07-18")
        .create()
        .await;
    let e = live_stream(&app, p, 5, Some(100)).await;
    let mut requests: Vec<(String, Value)> = schools(&app, 10)
        .await
        .into_iter()
        .map(|s| {
            let body = json!({"school_id": s, "pupils": 3, "staff": 1});
            (format!("/events/{e}/bookings"), body)
        })
        .collect();
    requests.insert(5, (format!("/events/{e}/cancel"), json!({})));
    let answers = at_once(&app, requests).await;
    tally(&answers);
    assert!(
        answers[5].0.is_success(),
        "the cancellation: {:?}",
        answers[5]
    );
    let lead = Some(Role::Lead);
    let (_, ev) = app.get(&format!("/events/{e}"), lead).await;
    assert_eq!(ev["status"], "cancelled");
    assert_eq!(ev["places_confirmed"], 0, "{ev}");
    let (_, list) = app
        .get(&format!("/bookings?event_id={e}&per_page=200"), lead)
        .await;
    for b in list["items"].as_array().unwrap() {
        assert_eq!(
            b["status"], "cancelled",
            "no booking outlives its event: {b}"
        );
    }
}

both!(a_booking_turn_is_given_back_whatever_the_answer);
/// Bookings of one event take turns in the process, two at a time (`App::booking_turn`);
/// every answer, a refusal or a fault of the input too, gives its turn back. A turn kept
/// would leave the next bookings waiting for the pool's wait and then a 503.
async fn a_booking_turn_is_given_back_whatever_the_answer(app: TestApp) {
    let p = a_programme(&app)
        .funded()
        .between("2031-01-06", "2031-07-18")
        .create()
        .await;
    let e = live_stream(&app, p, 5, Some(100)).await;
    let path = format!("/events/{e}/bookings");
    let (s, v) = app
        .post(&path, Some(Role::School), json!({"pupils": 20}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        v["status"], "confirmed",
        "the answer is the booking made: {v}"
    );
    for _ in 0..3 {
        let (s, v) = app
            .post(&path, Some(Role::School), json!({"pupils": 5}))
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "a second booking: {v}");
        let unknown = json!({"pupils": 5, "school_id": 999_999});
        let (s, v) = app.post(&path, Some(Role::Lead), unknown).await;
        assert!(s.is_client_error(), "an unknown school: {s} {v}");
        let (s, v) = app
            .post(&path, Some(Role::Lead), json!({"pupils": "many"}))
            .await;
        assert!(s.is_client_error(), "bad input: {s} {v}");
        let (s, v) = app
            .post(
                &path,
                Some(Role::Lead),
                json!({"pupils": 500, "school_id": 1}),
            )
            .await;
        assert!(s.is_client_error(), "more than the event holds: {s} {v}");
    }
    let others = schools(&app, 2).await;
    for school in others {
        let (s, v) = app
            .post(
                &path,
                Some(Role::Lead),
                json!({"pupils": 10, "school_id": school}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["school_id"], school, "{v}");
        assert_eq!(v["status"], "confirmed", "{v}");
    }
    let (_, ev) = app.get(&format!("/events/{e}"), Some(Role::Lead)).await;
    assert_eq!(ev["places_confirmed"], 40, "{ev}");
}
