//! A person changes their own password: the current one is asked for, the new one must be
//! long enough and not one of the most common, and every other sign-in ends.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::harness::{TestApp, CSRF, PASSWORD};

const NEW: &str = "three blue lanterns";

/// Signs in through the login form; whether it worked.
async fn signs_in(app: &TestApp, email: &str, password: &str) -> bool {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("csrf_token", CSRF)
        .append_pair("email", email)
        .append_pair("password", password);
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::COOKIE, format!("outreach_csrf={CSRF}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.finish()))
        .expect("request");
    let addr: SocketAddr = "10.9.8.7:40000".parse().expect("an address");
    req.extensions_mut().insert(ConnectInfo(addr));
    let (s, h, _) = app.send(req).await;
    s == StatusCode::SEE_OTHER
        && h.get(header::SET_COOKIE)
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.starts_with("outreach_session=") && !c.contains("Max-Age=0"))
}

both!(a_person_changes_their_password_and_other_sign_ins_end);
async fn a_person_changes_their_password_and_other_sign_ins_end(app: TestApp) {
    // The same lead signed in elsewhere too.
    let config = app.state.config.clone();
    let lead = app.lead.user_id;
    let elsewhere = app
        .state
        .db(move |c| outreach::domain::sessions::start(c, &config, lead))
        .await
        .expect("a second session");
    let (s, form) = app.page_as(&app.lead.session, "/account/password").await;
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains("name=\"current_password\"") && form.contains("name=\"new_password\""));

    // Refused, each with its reason by its field, and nothing changes.
    for (current, new, field, why) in [
        (
            "not my password",
            NEW,
            "current_password",
            "is not your current password",
        ),
        (
            PASSWORD,
            "short one",
            "new_password",
            "at least 10 characters",
        ),
        (
            PASSWORD,
            "Password123",
            "new_password",
            "most common passwords",
        ),
        (
            PASSWORD,
            "aaaaaaaaaaaa",
            "new_password",
            "one character repeated",
        ),
        (PASSWORD, PASSWORD, "new_password", "must differ"),
        ("", NEW, "current_password", "is required"),
    ] {
        let (s, _, page) = app
            .form(
                "/account/password",
                Some(Role::Lead),
                &[("current_password", current), ("new_password", new)],
                true,
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{new}: {page}");
        assert!(
            page.contains(&format!("id=\"e-{field}\"")) && page.contains(why),
            "{why}: {page}"
        );
        assert!(
            !page.contains(&format!("value=\"{current}\"")) || current.is_empty(),
            "a password is never sent back"
        );
    }
    assert!(signs_in(&app, "lead@example.org", PASSWORD).await);

    let (s, headers, _) = app
        .form(
            "/account/password",
            Some(Role::Lead),
            &[("current_password", PASSWORD), ("new_password", NEW)],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(headers[header::LOCATION]
        .to_str()
        .unwrap_or("")
        .contains("notice=password_changed"));
    // This browser stays signed in; the other is signed out.
    let (s, _) = app.page_as(&app.lead.session, "/").await;
    assert_eq!(s, StatusCode::OK);
    let (s, at) = app.page_as(&elsewhere, "/programmes").await;
    assert!(s.is_redirection() && at.starts_with("/login"), "{s} {at}");
    // The old password no longer works; the new one does.
    assert!(!signs_in(&app, "lead@example.org", PASSWORD).await);
    assert!(signs_in(&app, "lead@example.org", NEW).await);
    // The audit log says it was changed, never what to.
    let (_, _, audit) = app.page("/audit?entity=user", Some(Role::Admin)).await;
    assert!(!audit.contains(NEW));
}

both!(the_api_changes_the_callers_password);
async fn the_api_changes_the_callers_password(app: TestApp) {
    let (s, v) = app
        .post(
            "/me/password",
            Some(Role::School),
            json!({"current_password": "wrong one here", "new_password": NEW}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        v["error"]["fields"]["current_password"],
        "is not your current password"
    );
    let (s, v) = app
        .post(
            "/me/password",
            Some(Role::School),
            json!({"current_password": PASSWORD, "new_password": NEW, "extra": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = app
        .post(
            "/me/password",
            Some(Role::School),
            json!({"current_password": PASSWORD, "new_password": NEW}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    // Every session of the school's contact ends; its API token still works.
    let (s, _) = app.page_as(&app.school.session, "/bookings").await;
    assert!(s.is_redirection());
    let (s, _) = app.get("/me", Some(Role::School)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(signs_in(&app, "school@example.org", NEW).await);
    // A new account with a common password is refused the same way.
    let (s, v) = app
        .post(
            "/users",
            Some(Role::Admin),
            json!({"email": "new@example.org", "role": "lead", "password": "qwertyuiop"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["error"]["fields"]["password"]
            .as_str()
            .unwrap_or("")
            .contains("most common"),
        "{v}"
    );
}

/// Asks for a reset link for `email` from `client`: the status and the page.
async fn ask_reset(app: &TestApp, email: &str, client: &str) -> (StatusCode, String) {
    let (s, _, page) = app
        .anon_form("/password/forgot", &[("email", email)], client)
        .await;
    (s, page)
}

/// The reset links mailed to `to`, oldest first.
async fn reset_links(app: &TestApp, to: &'static str) -> Vec<String> {
    app.mailed_links(to, "/password/reset/").await
}

both!(a_forgotten_password_is_reset_by_a_mailed_link_once);
async fn a_forgotten_password_is_reset_by_a_mailed_link_once(app: TestApp) {
    // Known and unknown addresses get the same answer; only the known one gets mail.
    let (s, known) = ask_reset(&app, "Lead@Example.org", "10.1.1.1").await;
    let (s2, unknown) = ask_reset(&app, "nobody@example.org", "10.1.1.1").await;
    assert_eq!((s, s2), (StatusCode::OK, StatusCode::OK));
    let same = |p: &str| {
        p.replace("Lead@Example.org", "X")
            .replace("nobody@example.org", "X")
    };
    assert_eq!(same(&known), same(&unknown));
    let links = reset_links(&app, "lead@example.org").await;
    assert_eq!(links.len(), 1);
    assert_eq!(
        app.count("outbox").await,
        1,
        "nothing to the unknown address"
    );
    let link = links[0].clone();

    // The link opens the form; a weak password is refused by its field.
    let (s, _, page) = app.page(&link, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("name=\"new_password\""));
    let (s, _, page) = app
        .form(&link, None, &[("new_password", "password1234")], true)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("id=\"e-new_password\"") && page.contains("most common"),
        "{page}"
    );
    // Set: every session of the lead ends; the old password fails, the new one works.
    let (s, headers, _) = app.form(&link, None, &[("new_password", NEW)], true).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(headers[header::LOCATION]
        .to_str()
        .unwrap_or("")
        .contains("notice=password_reset"));
    let (s, _) = app.page_as(&app.lead.session, "/programmes").await;
    assert!(s.is_redirection(), "the lead's session ended");
    assert!(!signs_in(&app, "lead@example.org", PASSWORD).await);
    assert!(signs_in(&app, "lead@example.org", NEW).await);
    // Once: the link is spent.
    let (s, _, page) = app.page(&link, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(page.contains("does not work"));
    let (s, _, _) = app
        .form(
            &link,
            None,
            &[("new_password", "another long phrase")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // An hour old: it opens nothing.
    ask_reset(&app, "school@example.org", "10.1.1.2").await;
    let link = reset_links(&app, "school@example.org").await.remove(0);
    app.with_db(|c| {
        use diesel::prelude::*;
        use outreach::db::schema::login_links;
        diesel::update(login_links::table)
            .set(login_links::expires_at.eq(outreach::app::now() - chrono::Duration::minutes(1)))
            .execute(c)
    })
    .await
    .expect("an hour later");
    let (s, _, _) = app.page(&link, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = app
        .page(&format!("/password/reset/{}", "f".repeat(64)), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

both!(reset_links_are_limited_per_address_and_per_client);
async fn reset_links_are_limited_per_address_and_per_client(app: TestApp) {
    // Per address: three links an hour, then the same answer and no more mail.
    for i in 0..5 {
        let (s, page) = ask_reset(&app, "admin@example.org", &format!("10.2.0.{i}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("we have sent it a link"));
    }
    assert_eq!(reset_links(&app, "admin@example.org").await.len(), 3);
    // Per client: ten asks an hour, whatever the addresses, then 429.
    for i in 0..10 {
        let (s, _) = ask_reset(&app, &format!("someone{i}@example.org"), "10.3.0.1").await;
        assert_eq!(s, StatusCode::OK);
    }
    let (s, page) = ask_reset(&app, "funder@example.org", "10.3.0.1").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("try again later"), "{page}");
    assert!(reset_links(&app, "funder@example.org").await.is_empty());
}
