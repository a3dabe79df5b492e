//! Personal data: an admin's export of everything held about one person, erasing a person,
//! and the retention rule; every figure stays as it was.

use axum::http::StatusCode;
use diesel::prelude::*;
use outreach::domain::types::Role;
use serde_json::{json, Value};

use crate::both;
use crate::fixtures::{a_programme, attend, book, complete, event, live_stream};
use crate::harness::TestApp;

const SCHOOL_EMAIL: &str = "school@example.org";
const LEAD_EMAIL: &str = "lead@example.org";
const INVITED: &str = "sam_teacher@example.org";

/// A funded programme with a performance attended and completed, a live stream the school
/// booked with notes, and two answers the lead entered (one with consent, approved and
/// featured; one without): (programme, consented answer id, private answer id).
async fn world(app: &TestApp) -> (i64, i64, i64) {
    let lead = Some(Role::Lead);
    let p = a_programme(app).funded().create().await;
    let show = event(
        app,
        p,
        json!({"kind": "performance", "school_id": app.school_id,
        "starts_at": "2025-03-10T09:00:00Z", "ends_at": "2025-03-10T10:00:00Z"}),
    )
    .await;
    attend(
        app,
        show,
        json!([{"school_id": app.school_id, "pupils": 90, "staff": 4}]),
    )
    .await;
    complete(app, show).await;
    let stream = live_stream(app, p, 20, Some(200)).await;
    let (s, v) = book(
        app,
        stream,
        Role::School,
        json!({"pupils": 28, "staff": 2,
        "notes": "Two pupils use wheelchairs", "access_needs": "Step-free entrance"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, public) = app
        .post(
            "/feedback",
            lead,
            json!({"programme_id": p, "event_id": show,
        "role": "teacher", "quote": "Moving and insightful", "consent": true, "rating": 5,
        "school_id": app.school_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{public}");
    let (s, v) = app
        .post(
            &format!("/feedback/{}/moderate", public["id"]),
            lead,
            json!({"moderation": "approved", "featured": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, private) = app
        .post(
            "/feedback",
            lead,
            json!({"programme_id": p, "event_id": show,
        "role": "pupil", "quote": "I told my mum about it", "consent": false, "rating": 4,
        "school_id": app.school_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{private}");
    (
        p,
        public["id"].as_i64().unwrap(),
        private["id"].as_i64().unwrap(),
    )
}

/// The figures funders are given: the programme's and the organisation's impact.
async fn figures(app: &TestApp, p: i64) -> (Value, Value) {
    let admin = Some(Role::Admin);
    let (s, programme) = app.get(&format!("/programmes/{p}/impact"), admin).await;
    assert_eq!(s, StatusCode::OK, "{programme}");
    let (s, organisation) = app
        .get(
            &format!("/organisations/{}/impact", app.organisation_id),
            admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{organisation}");
    (programme, organisation)
}

/// Feedback rows as the database holds them: (id, quote, consent, rating).
async fn answers(app: &TestApp) -> Vec<(i32, String, bool, Option<i32>)> {
    app.with_db(|c| {
        use outreach::db::schema::feedback as f;
        f::table
            .order(f::id)
            .select((f::id, f::quote, f::consent, f::rating))
            .load(c)
            .unwrap()
    })
    .await
}

/// Audit values that hold the text.
async fn audit_mentions(app: &TestApp, text: &str) -> i64 {
    let pattern = format!("%{text}%");
    app.with_db(move |c| {
        use outreach::db::schema::audit_entries as a;
        a::table
            .filter(
                a::before_value
                    .like(pattern.clone())
                    .or(a::after_value.like(pattern)),
            )
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

async fn export(app: &TestApp, email: &str) -> (StatusCode, Value) {
    let q: String = url::form_urlencoded::byte_serialize(email.as_bytes()).collect();
    app.get(&format!("/people/export?email={q}"), Some(Role::Admin))
        .await
}

both!(an_export_holds_what_is_held_about_one_person);
async fn an_export_holds_what_is_held_about_one_person(app: TestApp) {
    let (p, _, _) = world(&app).await;
    // Only an admin, and only with an address.
    for role in [Role::Lead, Role::Funder, Role::School] {
        let (s, _) = app
            .get("/people/export?email=school%40example.org", Some(role))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role:?}");
    }
    let (s, v) = app.get("/people/export", Some(Role::Admin)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        export(&app, "not an address").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let (s, school) = export(&app, " School@Example.org ").await;
    assert_eq!(s, StatusCode::OK, "{school}");
    assert_eq!(school["found"], true);
    assert_eq!(school["accounts"][0]["email"], SCHOOL_EMAIL);
    assert_eq!(school["accounts"][0]["role"], "school");
    let made = school["bookings_made"].as_array().unwrap();
    assert_eq!(made.len(), 1, "{school}");
    assert_eq!(made[0]["notes"], "Two pupils use wheelchairs");
    assert_eq!(made[0]["access_needs"], "Step-free entrance");
    assert!(school["audit_entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["by_them"] == true && e["entity"] == "booking"));
    assert_eq!(school["open_sessions"], 1);
    assert_eq!(school["api_tokens"].as_array().unwrap().len(), 1);
    // Nothing of anyone else's.
    let text = school.to_string();
    assert!(
        !text.contains(LEAD_EMAIL) && !text.contains("I told my mum"),
        "{text}"
    );

    let (_, lead) = export(&app, LEAD_EMAIL).await;
    let given = lead["answers_given"].as_array().unwrap();
    assert_eq!(given.len(), 2, "{lead}");
    assert!(given.iter().all(|a| a["programme_id"] == p));
    assert!(lead["audit_entries"].as_array().unwrap().len() >= 3);

    let (s, nobody) = export(&app, "nobody@example.org").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(nobody["found"], false);
    assert_eq!(nobody["accounts"], json!([]));
}

both!(erasing_a_person_keeps_every_figure_and_leaves_nothing_of_them);
async fn erasing_a_person_keeps_every_figure_and_leaves_nothing_of_them(app: TestApp) {
    let (p, public, private) = world(&app).await;
    let before = figures(&app, p).await;
    let rows = answers(&app).await;
    // Someone invited, then changed their mind: the invitation's audit entry holds the address.
    let (s, v) = app
        .post(
            "/invitations",
            Some(Role::Admin),
            json!({"email": INVITED, "role": "school",
            "school_id": app.school_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(audit_mentions(&app, INVITED).await > 0);

    // Bad bodies and the wrong people change nothing.
    let (s, _) = app
        .post(
            "/people/erase",
            Some(Role::Lead),
            json!({"email": SCHOOL_EMAIL}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app
        .post("/people/erase", Some(Role::Admin), json!({"email": 7}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = app
        .post(
            "/people/erase",
            Some(Role::Admin),
            json!({"email": "admin@example.org"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(answers(&app).await, rows);

    // The school's contact: their account, bookings' notes, mail and audit values.
    let (s, v) = app
        .post(
            "/people/erase",
            Some(Role::Admin),
            json!({"email": SCHOOL_EMAIL}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["erased"]["accounts"], 1, "{v}");
    assert_eq!(v["erased"]["booking_notes"], 1, "{v}");
    assert_eq!(figures(&app, p).await, before);
    let (s, _) = app.get("/me", Some(Role::School)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "their token no longer works");
    let (_, gone) = export(&app, SCHOOL_EMAIL).await;
    assert_eq!(gone["found"], false, "{gone}");
    assert_eq!(audit_mentions(&app, SCHOOL_EMAIL).await, 0);
    let made: Vec<(String, String)> = app
        .with_db(|c| {
            use outreach::db::schema::bookings as b;
            b::table
                .select((b::notes, b::access_needs))
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(made, [(String::new(), String::new())]);
    // The invited person: the invitation keeps its place in the counts, not the address.
    let (s, v) = app
        .post(
            "/people/erase",
            Some(Role::Admin),
            json!({"email": INVITED}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["erased"]["invitations"], 1, "{v}");
    assert_eq!(v["erased"]["accounts"], 0, "{v}");
    assert_eq!(audit_mentions(&app, INVITED).await, 0);
    assert_eq!(export(&app, INVITED).await.1["found"], false);
    let (_, invitations) = app.get("/invitations", Some(Role::Admin)).await;
    assert_eq!(
        invitations["items"][0]["status"], "withdrawn",
        "{invitations}"
    );
    let (name, email, sessions): (String, String, i64) = app
        .with_db(|c| {
            use outreach::db::schema::{sessions as s, users as u};
            let (name, email) = u::table
                .filter(u::role.eq("school"))
                .select((u::name, u::email))
                .first::<(String, String)>(c)
                .unwrap();
            let n = s::table
                .inner_join(u::table)
                .filter(u::role.eq("school"))
                .count()
                .get_result(c)
                .unwrap();
            (name, email, n)
        })
        .await;
    assert_eq!(name, "Former user");
    assert!(email.ends_with("@erased.invalid"), "{email}");
    assert_eq!(sessions, 0);
    let held: i64 = app
        .with_db(|c| {
            use outreach::db::schema::outbox as o;
            o::table
                .filter(o::to_address.eq(SCHOOL_EMAIL))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(held, 0);

    // The lead who entered the answers, keeping the quote given with consent.
    let (s, v) = app
        .post(
            "/people/erase",
            Some(Role::Admin),
            json!({"email": LEAD_EMAIL, "keep_consented_quotes": true}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["erased"]["quotes_removed"], 1, "{v}");
    assert_eq!(v["erased"]["quotes_kept"], 1, "{v}");
    assert_eq!(figures(&app, p).await, before);
    assert_eq!(audit_mentions(&app, "I told my mum").await, 0);
    let after = answers(&app).await;
    assert_eq!(after.len(), rows.len(), "every answer is still counted");
    let of = |id: i64| after.iter().find(|a| i64::from(a.0) == id).unwrap().clone();
    assert_eq!(of(public).1, "Moving and insightful");
    assert_eq!((of(private).1.as_str(), of(private).3), ("", Some(4)));
    // The featured quote is still published.
    let (_, featured) = app
        .get(
            &format!("/programmes/{p}/feedback?filter=featured"),
            Some(Role::Admin),
        )
        .await;
    assert!(
        featured.to_string().contains("Moving and insightful"),
        "{featured}"
    );
    // The erasure is on the record, naming no one.
    let erasures: Vec<Option<String>> = app
        .with_db(|c| {
            use outreach::db::schema::audit_entries as a;
            a::table
                .filter(a::entity.eq("person"))
                .filter(a::action.eq("erased"))
                .select(a::after_value)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(erasures.len(), 3);
    assert!(erasures.iter().flatten().all(|e| !e.contains('@')));
}

both!(retention_anonymises_people_gone_and_keeps_every_figure);
async fn retention_anonymises_people_gone_and_keeps_every_figure(app: TestApp) {
    let (p, public, private) = world(&app).await;
    let before = figures(&app, p).await;
    let rows = answers(&app).await;
    let later = outreach::app::now() + chrono::Duration::days(4 * 365);
    assert!(audit_mentions(&app, "I told my mum").await > 0);
    // Nothing is old enough yet.
    let now = outreach::app::now();
    let none = app
        .with_db(move |c| outreach::domain::privacy::apply_retention(c, now, 3).unwrap())
        .await;
    assert_eq!(none, Default::default());
    // Four years on, no one has signed in since: all are gone, but the install keeps its
    // only admin.
    let done = app
        .with_db(move |c| outreach::domain::privacy::apply_retention(c, later, 3).unwrap())
        .await;
    assert_eq!(done.accounts, 3, "{done:?}");
    assert_eq!(done.quotes_removed, 1, "{done:?}");
    assert_eq!(done.booking_notes, 1, "{done:?}");
    assert_eq!(figures(&app, p).await, before);
    let after = answers(&app).await;
    assert_eq!(after.len(), rows.len());
    let of = |id: i64| after.iter().find(|a| i64::from(a.0) == id).unwrap().clone();
    assert_eq!(
        of(public).1,
        "Moving and insightful",
        "consented quotes stay"
    );
    assert_eq!(of(private).1, "");
    // (Mail to them goes 90 days after it was queued, by the hourly pruning.)
    for email in [SCHOOL_EMAIL, LEAD_EMAIL, "funder@example.org"] {
        assert_eq!(
            export(&app, email).await.1["accounts"],
            json!([]),
            "{email}"
        );
        assert_eq!(audit_mentions(&app, email).await, 0, "{email}");
    }
    assert_eq!(
        export(&app, "admin@example.org").await.1["accounts"][0]["name"],
        "Test Administrator"
    );
    assert_eq!(audit_mentions(&app, "I told my mum").await, 0);
    let made: Vec<(String, String)> = app
        .with_db(|c| {
            use outreach::db::schema::bookings as b;
            b::table
                .select((b::notes, b::access_needs))
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(made, [(String::new(), String::new())]);
    // A second run finds nothing left to do.
    let again = app
        .with_db(move |c| outreach::domain::privacy::apply_retention(c, later, 3).unwrap())
        .await;
    assert_eq!(again, Default::default());
}
