//! How people arrive: invitations (sent, resent, withdrawn, expired, accepted), sign-in
//! links for school contacts, a teacher asking for an account, a programme's schools
//! invited at once, and the public listing. Each mail is read from the outbox and its
//! link followed.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use diesel::prelude::*;
use outreach::db::schema::{invitations, outbox, school_requests, users};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::fixtures::{a_programme, a_venue, book, event, schools};
use crate::harness::TestApp;

const NEW_PASSWORD: &str = "seven green herons";

/// The session cookie a response sets, if any.
fn session_of(h: &axum::http::HeaderMap) -> Option<String> {
    h.get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find_map(|c| c.strip_prefix("outreach_session="))
        .map(|c| c.split(';').next().unwrap_or("").to_string())
        .filter(|c| !c.is_empty())
}

both!(an_invited_person_sets_up_their_account_once);
async fn an_invited_person_sets_up_their_account_once(app: TestApp) {
    let (s, v) = app
        .post(
            "/invitations",
            Some(Role::Admin),
            json!({"email": " New.Lead@Example.org ", "role": "lead"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["email"], "new.lead@example.org");
    assert_eq!(v["role"], "lead");
    assert_eq!(v["status"], "pending");
    let expires = chrono::DateTime::parse_from_rfc3339(v["expires_at"].as_str().unwrap_or(""))
        .expect("an RFC 3339 expiry");
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!((167..=168).contains(&days), "seven days: {days} hours");
    let sent = app
        .mailed_links("new.lead@example.org", "/invitations/")
        .await;
    assert_eq!(sent.len(), 1);
    let link = sent[0].clone();
    // The secret is stored only as its hash.
    let token = link.trim_start_matches("/invitations/").to_string();
    let stored: Vec<String> = app
        .with_db(|c| {
            invitations::table
                .select(invitations::token_hash)
                .load(c)
                .unwrap_or_default()
        })
        .await;
    assert!(!stored.contains(&token));

    // The page names the address; a weak password or no name is refused by its field.
    let (s, _, page) = app.page(&link, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("new.lead@example.org") && page.contains("a project lead"));
    let (s, _, page) = app
        .form(
            &link,
            None,
            &[("name", ""), ("password", "password123")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"e-name\"") && page.contains("id=\"e-password\""));
    assert!(page.contains("most common"), "{page}");
    assert_eq!(app.count("users").await, 4, "nothing made");

    // Accepted: the account is made with the invitation's role and the person is in.
    let (s, h, _) = app
        .form(
            &link,
            None,
            &[("name", "Nadia Lead"), ("password", NEW_PASSWORD)],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h[header::LOCATION]
        .to_str()
        .unwrap_or("")
        .contains("notice=welcome"));
    let session = session_of(&h).expect("signed in");
    let (s, page) = app.page_as(&session, "/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Welcome, Nadia Lead"), "{page}");
    let (name, role): (String, String) = app
        .with_db(|c| {
            users::table
                .filter(users::email.eq("new.lead@example.org"))
                .select((users::name, users::role))
                .first(c)
                .expect("the new user")
        })
        .await;
    assert_eq!((name.as_str(), role.as_str()), ("Nadia Lead", "lead"));
    let (_, list) = app
        .get("/invitations?status=accepted", Some(Role::Admin))
        .await;
    assert_eq!(list["total"], 1);
    assert!(list["items"][0]["user_id"].is_number());

    // Once: the link is spent, and the address cannot be invited again.
    let (s, _, page) = app.page(&link, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(page.contains("does not work"));
    let (s, _, _) = app
        .form(
            &link,
            None,
            &[
                ("name", "Someone Else"),
                ("password", "another good phrase"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = app
        .post(
            "/invitations",
            Some(Role::Admin),
            json!({"email": "new.lead@example.org", "role": "lead"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["fields"]["email"], "already has an account");
    // A made-up link opens nothing.
    let (s, _, _) = app
        .page(&format!("/invitations/{}", "a".repeat(64)), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

both!(invitations_are_resent_withdrawn_and_expire_and_leads_invite_only_schools_and_funders);
async fn invitations_are_resent_withdrawn_and_expire_and_leads_invite_only_schools_and_funders(
    app: TestApp,
) {
    // Who may invite whom.
    let (s, v) = app
        .post(
            "/invitations",
            Some(Role::Lead),
            json!({"email": "boss@example.org", "role": "admin"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"]["fields"]["role"]
        .as_str()
        .unwrap_or("")
        .contains("administrator"));
    for role in [Role::School, Role::Funder] {
        let (s, _) = app
            .post(
                "/invitations",
                Some(role),
                json!({"email": "x@example.org", "role": "school", "school_id": app.school_id}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, v) = app
        .post(
            "/invitations",
            Some(Role::Lead),
            json!({"email": "teacher@example.org", "role": "school"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"]["fields"]["school_id"].is_string(), "{v}");
    let (s, v) = app
        .post(
            "/invitations",
            Some(Role::Lead),
            json!({"email": "teacher@example.org", "role": "school", "school_id": app.school_id, "nickname": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["error"]["fields"]["nickname"].is_string(),
        "an unknown field: {v}"
    );
    assert_eq!(app.count("invitations").await, 0);
    assert_eq!(app.count("outbox").await, 0);

    let (s, v) = app
        .post(
            "/invitations",
            Some(Role::Lead),
            json!({"email": "teacher@example.org", "role": "school", "school_id": app.school_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["school_name"], "Seed School");
    let id = v["id"].as_i64().unwrap();
    // A second invitation to a waiting address is refused: resend instead.
    let (s, v) = app
        .post(
            "/invitations",
            Some(Role::Admin),
            json!({"email": "teacher@example.org", "role": "school", "school_id": app.school_id}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"]["fields"]["email"]
        .as_str()
        .unwrap_or("")
        .contains("resend"));

    // Resent: a new link; the old one stops working.
    let first = app
        .mailed_links("teacher@example.org", "/invitations/")
        .await
        .remove(0);
    let (s, v) = app
        .post(
            &format!("/invitations/{id}/resend"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "pending");
    let sent = app
        .mailed_links("teacher@example.org", "/invitations/")
        .await;
    assert_eq!(sent.len(), 2);
    assert_ne!(sent[0], sent[1]);
    let (s, _, _) = app.page(&first, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, page) = app.page(&sent[1], None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("a contact for Seed School"), "{page}");

    // Expired: the link opens nothing, the list says so, and inviting again renews it.
    app.with_db(move |c| {
        diesel::update(invitations::table.find(id as i32))
            .set(invitations::expires_at.eq(outreach::app::now() - chrono::Duration::minutes(1)))
            .execute(c)
    })
    .await
    .expect("a week later");
    let (s, _, _) = app.page(&sent[1], None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, list) = app
        .get("/invitations?status=expired", Some(Role::Lead))
        .await;
    assert_eq!(list["total"], 1, "{list}");
    let (s, v) = app
        .post(
            "/invitations",
            Some(Role::Lead),
            json!({"email": "teacher@example.org", "role": "school", "school_id": app.school_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["id"].as_i64(), Some(id), "the same invitation, renewed");
    assert_eq!(app.count("invitations").await, 1);

    // Withdrawn: its link stops working; it cannot be resent or withdrawn again.
    let live = app
        .mailed_links("teacher@example.org", "/invitations/")
        .await
        .remove(2);
    let (s, v) = app
        .post(
            &format!("/invitations/{id}/withdraw"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "withdrawn");
    let (s, _, _) = app.page(&live, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for action in ["resend", "withdraw"] {
        let (s, _) = app
            .post(
                &format!("/invitations/{id}/{action}"),
                Some(Role::Lead),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "{action}");
    }
    let (s, _) = app
        .post("/invitations/999999/resend", Some(Role::Lead), json!({}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = app.get("/invitations?status=lost", Some(Role::Lead)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // The pages: the list, resend and withdraw (confirmed).
    let (s, _, page) = app.page("/invitations", Some(Role::Lead)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("teacher@example.org") && page.contains("Withdrawn"));
    let (s, _, page) = app
        .form(
            "/invitations",
            Some(Role::Lead),
            &[
                ("email", "officer@example.org"),
                ("role", "funder"),
                ("organisation_id", &app.organisation_id.to_string()),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{page}");
    let (s, _, page) = app
        .form(
            "/invitations",
            Some(Role::Lead),
            &[("email", "not an address"), ("role", "funder")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("id=\"e-email\"") && page.contains("id=\"e-organisation_id\""),
        "{page}"
    );
    let officer: i32 = app
        .with_db(|c| {
            invitations::table
                .filter(invitations::email.eq("officer@example.org"))
                .select(invitations::id)
                .first(c)
                .expect("the officer's invitation")
        })
        .await;
    let (s, _, _) = app
        .form(
            &format!("/invitations/{officer}/withdraw"),
            Some(Role::Lead),
            &[],
            true,
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "withdrawing asks to confirm"
    );
    let (s, _, _) = app
        .form(
            &format!("/invitations/{officer}/withdraw"),
            Some(Role::Lead),
            &[("confirm", "true")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, list) = app
        .get("/invitations?status=withdrawn", Some(Role::Admin))
        .await;
    assert_eq!(list["total"], 2, "{list}");
}

/// Asks for a sign-in link from a client: the status and the page.
async fn ask_link(app: &TestApp, email: &str, client: &str) -> (StatusCode, String) {
    let (s, _, page) = app
        .anon_form("/login/link", &[("email", email)], client)
        .await;
    (s, page)
}

both!(a_school_contact_signs_in_by_a_mailed_link_once);
async fn a_school_contact_signs_in_by_a_mailed_link_once(app: TestApp) {
    let (s, known) = ask_link(&app, "School@Example.org", "10.4.0.1").await;
    let (s2, unknown) = ask_link(&app, "nobody@example.org", "10.4.0.1").await;
    let (s3, lead) = ask_link(&app, "lead@example.org", "10.4.0.1").await;
    assert_eq!(
        (s, s2, s3),
        (StatusCode::OK, StatusCode::OK, StatusCode::OK)
    );
    let same = |p: &str| {
        p.replace("School@Example.org", "X")
            .replace("nobody@example.org", "X")
            .replace("lead@example.org", "X")
    };
    assert_eq!(same(&known), same(&unknown));
    assert_eq!(same(&known), same(&lead));
    let sent = app.mailed_links("school@example.org", "/login/link/").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(app.count("outbox").await, 1, "school contacts only");
    let link = sent[0].clone();

    // Opening the link spends nothing (a mail scanner may open it); the button signs in.
    for _ in 0..2 {
        let (s, _, page) = app.page(&link, None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("Sign in to Outreach"));
    }
    let (s, _, _) = app.form(&link, None, &[], true).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a bare POST spends nothing"
    );
    let (s, h, _) = app.form(&link, None, &[("confirm", "true")], true).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let session = session_of(&h).expect("signed in");
    let (s, page) = app.page_as(&session, "/bookings").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    // Once.
    let (s, h, page) = app.form(&link, None, &[("confirm", "true")], true).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(session_of(&h).is_none() && page.contains("does not work"));

    // Fifteen minutes old: nothing.
    ask_link(&app, "school@example.org", "10.4.0.2").await;
    let link = app
        .mailed_links("school@example.org", "/login/link/")
        .await
        .remove(1);
    app.with_db(|c| {
        use outreach::db::schema::login_links;
        diesel::update(login_links::table)
            .set(login_links::expires_at.eq(outreach::app::now() - chrono::Duration::seconds(1)))
            .execute(c)
    })
    .await
    .expect("later");
    let (s, _, _) = app.form(&link, None, &[("confirm", "true")], true).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A reset link is not a sign-in link.
    let reset = app
        .anon_form(
            "/password/forgot",
            &[("email", "school@example.org")],
            "10.4.0.3",
        )
        .await;
    assert_eq!(reset.0, StatusCode::OK);
    let reset = app
        .mailed_links("school@example.org", "/password/reset/")
        .await
        .remove(0);
    let (s, _, _) = app
        .page(&reset.replace("/password/reset/", "/login/link/"), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Limits: three links an hour per address, then the same answer and no mail; ten
    // asks an hour per client, then 429.
    for i in 0..4 {
        let (s, _) = ask_link(&app, "school@example.org", &format!("10.5.0.{i}")).await;
        assert_eq!(s, StatusCode::OK);
    }
    assert_eq!(
        app.mailed_links("school@example.org", "/login/link/")
            .await
            .len(),
        3
    );
    for i in 0..10 {
        let (s, _) = ask_link(&app, &format!("p{i}@example.org"), "10.6.0.1").await;
        assert_eq!(s, StatusCode::OK);
    }
    let (s, page) = ask_link(&app, "school@example.org", "10.6.0.1").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("try again later"));
}

both!(a_teacher_asks_for_an_account_and_a_lead_approves_it);
async fn a_teacher_asks_for_an_account_and_a_lead_approves_it(app: TestApp) {
    // The school is found on the server, without a script.
    let (s, _, page) = app.page("/join?q=seed", None).await;
    assert_eq!(s, StatusCode::OK);
    let choose = format!("/join?school={}", app.school_id);
    assert!(page.contains(&choose), "{page}");
    let (s, _, page) = app.page("/join?q=900001", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(&choose), "by URN");
    let (_, _, page) = app.page(&choose, None).await;
    assert!(page.contains("Seed School (URN 900001)") && page.contains("name=\"email\""));

    // Refused by the field, nothing stored.
    let school = app.school_id.to_string();
    let (s, _, page) = app
        .anon_form(
            "/join",
            &[("school_id", &school), ("name", ""), ("email", "nope")],
            "10.7.0.1",
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"e-name\"") && page.contains("id=\"e-email\""));
    let (s, _, _) = app
        .anon_form(
            "/join",
            &[
                ("school_id", "999999"),
                ("name", "Ann"),
                ("email", "ann@example.org"),
            ],
            "10.7.0.1",
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("school_requests").await, 0);

    // Asked: "we will e-mail you", and nothing else happens yet.
    let (s, _, page) = app
        .anon_form(
            "/join",
            &[
                ("school_id", &school),
                ("name", "Ann Teacher"),
                ("email", "Ann@Gmail.com"),
            ],
            "10.7.0.1",
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("We will e-mail"), "{page}");
    assert!(app
        .mailed_links("ann@gmail.com", "/invitations/")
        .await
        .is_empty());
    assert_eq!(app.count("invitations").await, 0);
    // The staff are told, with the way to Requests.
    let staff_mail: Vec<String> = app
        .with_db(|c| {
            outbox::table
                .filter(outbox::to_address.eq("lead@example.org"))
                .select(outbox::subject)
                .load(c)
                .unwrap_or_default()
        })
        .await;
    assert_eq!(
        staff_mail,
        ["A teacher asks for an account for Seed School"]
    );
    // Asking again, or for an address with an account, looks the same and stores nothing.
    for email in ["ann@gmail.com", "school@example.org"] {
        let (s, _, again) = app
            .anon_form(
                "/join",
                &[
                    ("school_id", &school),
                    ("name", "Ann Teacher"),
                    ("email", email),
                ],
                "10.7.0.2",
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(again.contains("We will e-mail"));
    }
    assert_eq!(app.count("school_requests").await, 1);

    // Staff see it on Requests and in the API; nobody else does.
    let (_, _, requests) = app.page("/requests", Some(Role::Lead)).await;
    assert!(
        requests.contains("Schools asking for an account") && requests.contains("ann@gmail.com")
    );
    let (s, v) = app
        .get("/school-requests?status=waiting", Some(Role::Lead))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 1);
    assert_eq!(
        v["items"][0]["school_id"].as_i64(),
        Some(app.school_id as i64)
    );
    let id = v["items"][0]["id"].as_i64().unwrap();
    for role in [Role::School, Role::Funder] {
        let (s, _) = app.get("/school-requests", Some(role)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app
            .post(
                &format!("/school-requests/{id}/approve"),
                Some(role),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }

    // Approved through the page: the teacher is invited for that school, and joins.
    let (s, _, _) = app
        .form(
            &format!("/school-requests/{id}/approve"),
            Some(Role::Lead),
            &[],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _) = app
        .post(
            &format!("/school-requests/{id}/approve"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "answered once");
    let link = app
        .mailed_links("ann@gmail.com", "/invitations/")
        .await
        .remove(0);
    let (s, h, _) = app
        .form(
            &link,
            None,
            &[("name", "Ann Teacher"), ("password", NEW_PASSWORD)],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let session = session_of(&h).expect("signed in");
    let (s, at) = app.page_as(&session, "/").await;
    assert!(
        s.is_redirection() && at.starts_with("/whats-on"),
        "a school lands on What's on"
    );
    let school_of: Option<i32> = app
        .with_db(|c| {
            users::table
                .filter(users::email.eq("ann@gmail.com"))
                .select(users::school_id)
                .first(c)
                .expect("Ann")
        })
        .await;
    assert_eq!(school_of, Some(app.school_id));

    // Declined: the teacher is told.
    app.anon_form(
        "/join",
        &[
            ("school_id", &school),
            ("name", "Bob"),
            ("email", "bob@example.net"),
        ],
        "10.7.0.3",
    )
    .await;
    let bob: i32 = app
        .with_db(|c| {
            school_requests::table
                .filter(school_requests::email.eq("bob@example.net"))
                .select(school_requests::id)
                .first(c)
                .expect("Bob's request")
        })
        .await;
    let (s, v) = app
        .post(
            &format!("/school-requests/{bob}/decline"),
            Some(Role::Admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "declined");
    let told: i64 = app
        .with_db(|c| {
            outbox::table
                .filter(outbox::to_address.eq("bob@example.net"))
                .count()
                .get_result(c)
                .unwrap_or(0)
        })
        .await;
    assert_eq!(told, 1);
    assert!(app
        .mailed_links("bob@example.net", "/invitations/")
        .await
        .is_empty());
}

both!(a_school_domain_on_record_approves_at_once_and_a_shared_one_never);
async fn a_school_domain_on_record_approves_at_once_and_a_shared_one_never(app: TestApp) {
    let ids = schools(&app, 2).await;
    let (a, b) = (ids[0], ids[1]);
    // School 00 is written to at beck.sch.example.org; the seeded school's office is at
    // example.org, as is School 01's: a shared domain. (The seeded school's contact's own
    // account is at example.org too: accounts never vouch.)
    let seed = app.school_id as i64;
    for (id, email) in [
        (a, "office@beck.sch.example.org"),
        (b, "office@example.org"),
        (seed, "head@example.org"),
    ] {
        let (s, v) = app
            .api(
                Method::PUT,
                &format!("/schools/{id}"),
                Some(Role::Admin),
                Some(json!({"name": format!("School {id}"), "contact_email": email})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["contact_email"], email);
    }
    let (s, v) = app
        .api(
            Method::PUT,
            &format!("/schools/{a}"),
            Some(Role::Admin),
            Some(json!({"name": "School A", "contact_email": "not an address"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"]["fields"]["contact_email"].is_string());

    let ask = |school: i64, email: &'static str, client: &'static str| {
        let app = &app;
        async move {
            let school = school.to_string();
            app.anon_form(
                "/join",
                &[
                    ("school_id", school.as_str()),
                    ("name", "A Teacher"),
                    ("email", email),
                ],
                client,
            )
            .await
        }
    };
    let (s, _, page) = ask(a, "head@beck.sch.example.org", "10.8.0.1").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("We will e-mail"));
    assert_eq!(
        app.mailed_links("head@beck.sch.example.org", "/invitations/")
            .await
            .len(),
        1,
        "approved at once"
    );
    let (_, v) = app
        .get("/school-requests?status=approved", Some(Role::Lead))
        .await;
    assert_eq!(v["total"], 1);
    // The same domain for another school, a shared domain, and a webmail one all wait.
    for (school, email) in [
        (b, "someone@beck.sch.example.org"),
        (b, "teacher2@example.org"),
        (a, "head.teacher@gmail.com"),
    ] {
        let (s, _, _) = ask(school, email, "10.8.0.2").await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            app.mailed_links(email, "/invitations/").await.is_empty(),
            "{email}"
        );
    }
    let (_, v) = app
        .get("/school-requests?status=waiting", Some(Role::Lead))
        .await;
    assert_eq!(v["total"], 3);
}

both!(a_programmes_schools_are_invited_at_once);
async fn a_programmes_schools_are_invited_at_once(app: TestApp) {
    let p = a_programme(&app).create().await;
    let ids = schools(&app, 3).await;
    let e = event(
        &app,
        p,
        json!({"kind": "live_stream", "starts_at": "2031-05-06T10:00:00Z", "ends_at": "2031-05-06T11:00:00Z"}),
    )
    .await;
    // The seeded school (which has a contact), and three new ones: one with an address,
    // one without, one with an address that is already invited.
    for school in [app.school_id as i64, ids[0], ids[1], ids[2]] {
        let (s, v) = book(
            &app,
            e,
            Role::Lead,
            json!({"school_id": school, "pupils": 30}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    for (id, email) in [
        (ids[0], "office@one.example.org"),
        (ids[2], "office@three.example.org"),
    ] {
        let (s, _) = app
            .api(
                Method::PUT,
                &format!("/schools/{id}"),
                Some(Role::Admin),
                Some(json!({"name": format!("School {id}"), "contact_email": email})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
    }
    let (s, _) = app
        .post(
            "/invitations",
            Some(Role::Lead),
            json!({"email": "office@three.example.org", "role": "school", "school_id": ids[2]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = app
        .get(&format!("/programmes/{p}/invitations"), Some(Role::Lead))
        .await;
    assert_eq!(s, StatusCode::OK);
    let states: Vec<(i64, String)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["school_id"].as_i64().unwrap(),
                i["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let state = |id: i64| states.iter().find(|s| s.0 == id).map(|s| s.1.clone());
    assert_eq!(state(app.school_id as i64).as_deref(), Some("has_account"));
    assert_eq!(state(ids[0]).as_deref(), Some("ready"));
    assert_eq!(state(ids[1]).as_deref(), Some("no_address"));
    assert_eq!(state(ids[2]).as_deref(), Some("invited"));
    let (s, _, page) = app
        .page(&format!("/programmes/{p}/invite"), Some(Role::Lead))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("Invite 1 school<") || page.contains("Invite 1 school</"),
        "{page}"
    );
    let (s, _) = app
        .get(&format!("/programmes/{p}/invitations"), Some(Role::Funder))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, _, _) = app
        .form(
            &format!("/programmes/{p}/invite"),
            Some(Role::Lead),
            &[],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        app.mailed_links("office@one.example.org", "/invitations/")
            .await
            .len(),
        1
    );
    assert_eq!(
        app.mailed_links("office@three.example.org", "/invitations/")
            .await
            .len(),
        1,
        "not twice"
    );
    // Nobody is left to invite.
    let (s, v) = app
        .post(
            &format!("/programmes/{p}/invitations"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["invited"], 0);
}

both!(the_public_listing_shows_places_never_schools_or_drafts);
async fn the_public_listing_shows_places_never_schools_or_drafts(app: TestApp) {
    let p = a_programme(&app).titled("Crossing the Line").create().await;
    let venue = a_venue(&app).await;
    let show = event(&app, p, json!({"kind": "performance", "venue_id": venue, "starts_at": "2031-03-15T19:00:00Z", "ends_at": "2031-03-15T20:30:00Z", "capacity": 100})).await;
    let (s, _) = book(&app, show, Role::School, json!({"pupils": 30, "staff": 2})).await;
    assert_eq!(s, StatusCode::CREATED);
    event(&app, p, json!({"kind": "live_stream", "starts_at": "2031-05-06T10:00:00Z", "ends_at": "2031-05-06T11:00:00Z", "joining_url": "https://stream.example.org/secret-room"})).await;
    event(&app, p, json!({"kind": "live_stream", "starts_at": "2031-05-07T10:00:00Z", "ends_at": "2031-05-07T11:00:00Z", "status": "draft"})).await;
    let (s, v) = app
        .post(
            &format!("/programmes/{p}/slots/bulk"),
            Some(Role::Lead),
            json!({"from": "2031-06-02", "to": "2031-06-04", "morning": true, "afternoon": false}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let hidden = a_programme(&app).titled("Old Round").create().await;
    event(&app, hidden, json!({"kind": "live_stream", "starts_at": "2031-05-08T10:00:00Z", "ends_at": "2031-05-08T11:00:00Z"})).await;
    let (s, _) = app
        .post(
            &format!("/programmes/{hidden}/archive"),
            Some(Role::Admin),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // A first visit, with no cookie at all.
    let req = Request::builder()
        .uri("/")
        .body(Body::empty())
        .expect("request");
    let (s, h, body) = app.send(req).await;
    let page = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[header::CACHE_CONTROL], "public, max-age=60");
    assert_eq!(h[header::VARY], "Cookie");
    assert!(
        h.get(header::SET_COOKIE).is_none(),
        "a cacheable page sets no cookie"
    );
    let (_, h, _) = app.page("/login", None).await;
    assert!(h[header::CACHE_CONTROL]
        .to_str()
        .unwrap_or("")
        .contains("no-store"));
    assert!(page.contains("Crossing the Line") && page.contains("Brewery Arts Centre"));
    assert!(page.contains("<strong>68</strong> places left"), "{page}");
    assert!(page.contains("June 2031 (3 dates)"), "{page}");
    assert!(page.contains("href=\"/join\""));
    for secret in ["Seed School", "secret-room", "Old Round", " 7 May 2031"] {
        assert!(!page.contains(secret), "{secret} must not show");
    }

    let req = Request::builder()
        .uri("/api/v1/public/whats-on")
        .body(Body::empty())
        .expect("request");
    let (s, h, body) = app.send(req).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[header::CACHE_CONTROL], "public, max-age=60");
    let text = String::from_utf8_lossy(&body);
    for secret in [
        "Seed School",
        "secret-room",
        "Old Round",
        "school_id",
        "joining",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let programmes = v["programmes"].as_array().unwrap();
    assert_eq!(programmes.len(), 1);
    let events = programmes[0]["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "the draft is not listed: {v}");
    assert_eq!(events[0]["places_left"], 68);
    assert!(events[1]["places_left"].is_null());
    assert_eq!(
        programmes[0]["tour_months"],
        json!([{"month": "2031-06", "free_dates": 3}])
    );

    // Signed in, `/` is still each role's own landing page.
    let (s, _, page) = app.page("/", Some(Role::Lead)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Welcome"));
}

both!(a_request_answered_meanwhile_and_shared_or_withdrawn_addresses_are_not_invited_twice);
async fn a_request_answered_meanwhile_and_shared_or_withdrawn_addresses_are_not_invited_twice(
    app: TestApp,
) {
    // Ann asks; meanwhile a lead invites her directly. Approving answers the request
    // with that invitation, and sends nothing more.
    let school = app.school_id.to_string();
    app.anon_form(
        "/join",
        &[
            ("school_id", &school),
            ("name", "Ann"),
            ("email", "ann@school.example.org"),
        ],
        "10.9.0.1",
    )
    .await;
    let (s, _) = app
        .post(
            "/invitations",
            Some(Role::Lead),
            json!({"email": "ann@school.example.org", "role": "school", "school_id": app.school_id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, v) = app
        .get("/school-requests?status=waiting", Some(Role::Lead))
        .await;
    let id = v["items"][0]["id"].as_i64().unwrap();
    let (s, v) = app
        .post(
            &format!("/school-requests/{id}/approve"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "approved");
    assert!(v["invitation_id"].is_number());
    assert_eq!(
        app.mailed_links("ann@school.example.org", "/invitations/")
            .await
            .len(),
        1
    );

    // A lead may not resend or withdraw an administrator's invitation.
    let (_, admin_inv) = app
        .post(
            "/invitations",
            Some(Role::Admin),
            json!({"email": "boss@example.org", "role": "admin"}),
        )
        .await;
    let admin_inv = admin_inv["id"].as_i64().unwrap();
    for action in ["resend", "withdraw"] {
        let (s, _) = app
            .post(
                &format!("/invitations/{admin_inv}/{action}"),
                Some(Role::Lead),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{action}");
    }

    // A programme whose schools share an address, or whose invitation was withdrawn:
    // none of them is invited by the one click.
    let p = a_programme(&app).create().await;
    let ids = schools(&app, 3).await;
    let e = event(&app, p, json!({"kind": "live_stream", "starts_at": "2031-05-06T10:00:00Z", "ends_at": "2031-05-06T11:00:00Z"})).await;
    for (id, email) in [
        (ids[0], "office@trust.example.org"),
        (ids[1], "office@trust.example.org"),
        (ids[2], "office@gone.example.org"),
    ] {
        book(&app, e, Role::Lead, json!({"school_id": id, "pupils": 10})).await;
        app.api(
            Method::PUT,
            &format!("/schools/{id}"),
            Some(Role::Admin),
            Some(json!({"name": format!("School {id}"), "contact_email": email})),
        )
        .await;
    }
    let (_, gone) = app
        .post(
            "/invitations",
            Some(Role::Lead),
            json!({"email": "office@gone.example.org", "role": "school", "school_id": ids[2]}),
        )
        .await;
    let (s, _) = app
        .post(
            &format!("/invitations/{}/withdraw", gone["id"]),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = app
        .get(&format!("/programmes/{p}/invitations"), Some(Role::Lead))
        .await;
    let states: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states.iter().filter(|s| **s == "shared_address").count(),
        2,
        "{v}"
    );
    assert!(states.contains(&"withdrawn"), "{v}");
    let (s, v) = app
        .post(
            &format!("/programmes/{p}/invitations"),
            Some(Role::Lead),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["invited"], 0);
}

both!(a_sign_in_link_dies_when_the_password_is_reset);
async fn a_sign_in_link_dies_when_the_password_is_reset(app: TestApp) {
    let (s, _, _) = app
        .anon_form(
            "/login/link",
            &[("email", "school@example.org")],
            "10.10.0.1",
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let link = app
        .mailed_links("school@example.org", "/login/link/")
        .await
        .remove(0);
    app.anon_form(
        "/password/forgot",
        &[("email", "school@example.org")],
        "10.10.0.2",
    )
    .await;
    let reset = app
        .mailed_links("school@example.org", "/password/reset/")
        .await
        .remove(0);
    let (s, _, _) = app
        .form(&reset, None, &[("new_password", NEW_PASSWORD)], true)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, h, _) = app.form(&link, None, &[("confirm", "true")], true).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(session_of(&h).is_none());
    // The audit log names who did it: the person, by the reset link.
    let (_, _, audit) = app.page("/audit", Some(Role::Admin)).await;
    assert!(audit.contains("by a mailed reset link"), "{audit}");
}
