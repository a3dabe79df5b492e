//! The outbox and its worker: each message handled once, kept without SMTP, retried on failure.

use axum::http::StatusCode;
use outreach::domain::types::Role;

use crate::both;
use crate::harness::TestApp;

async fn queue(app: &TestApp, n: usize) {
    app.with_db(move |c| {
        for i in 0..n {
            outreach::domain::mail::queue(
                c,
                &format!("head{i}@school.example"),
                "Booking confirmed",
                "Your places are confirmed.",
            )
            .unwrap();
        }
    })
    .await;
}

both!(two_workers_never_take_the_same_message);
async fn two_workers_never_take_the_same_message(app: TestApp) {
    queue(&app, 30).await;
    let second = {
        let url = outreach::db::DbUrl::parse(&app.database_url).unwrap();
        let pool = outreach::db::connect(&url, 4).unwrap();
        let config = outreach::config::Config::new(
            &app.database_url,
            "127.0.0.1:0",
            None,
            "Europe/London",
            None,
        )
        .unwrap();
        outreach::app::App::new(pool, config)
    };
    let run = |state: outreach::app::AppState, name: &'static str| async move {
        let mut handled = 0;
        while outreach::mailer::send_one(&state, name, None)
            .await
            .unwrap()
        {
            handled += 1;
        }
        handled
    };
    let (a, b) = tokio::join!(run(app.state.clone(), "worker-a"), run(second, "worker-b"));
    assert_eq!(a + b, 30, "every message handled exactly once ({a} + {b})");
    let kept: Vec<(String, Option<String>)> = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::outbox as o;
            o::table.select((o::status, o::claimed_by)).load(c).unwrap()
        })
        .await;
    assert!(kept.iter().all(|(s, w)| s == "kept" && w.is_some()));
    let (s, _, page) = app.page("/outbox", Some(Role::Admin)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("head0@school.example") && page.contains("Your places are confirmed."));
    let (s, _, _) = app.page("/outbox", Some(Role::Lead)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

both!(a_failing_smtp_server_is_retried_and_visible);
async fn a_failing_smtp_server_is_retried_and_visible(app: TestApp) {
    queue(&app, 1).await;
    // Nothing listens on port 1: the send fails at once.
    let transport = lettre::SmtpTransport::builder_dangerous("127.0.0.1")
        .port(1)
        .timeout(Some(std::time::Duration::from_secs(2)))
        .build();
    assert!(outreach::mailer::send_one(&app.state, "w", Some(transport))
        .await
        .unwrap());
    let (status, attempts, error): (String, i32, Option<String>) = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::outbox as o;
            o::table
                .select((o::status, o::attempts, o::last_error))
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!(
        (status.as_str(), attempts),
        ("queued", 1),
        "queued again for a later attempt"
    );
    assert!(error.is_some_and(|e| !e.is_empty()));
    // Not due yet: the backoff holds it back.
    assert!(!outreach::mailer::send_one(&app.state, "w", None)
        .await
        .unwrap());
}

/// The app again, on the same database, with an SMTP server set.
fn with_smtp(mut app: TestApp) -> TestApp {
    let url = outreach::db::DbUrl::parse(&app.database_url).unwrap();
    let pool = outreach::db::connect(&url, 4).unwrap();
    let config = outreach::config::Config::new(
        &app.database_url,
        "127.0.0.1:0",
        Some("http://localhost"),
        "Europe/London",
        Some("smtp://127.0.0.1:2525"),
    )
    .unwrap();
    app.router = outreach::build_router(outreach::app::App::new(pool, config));
    app
}

async fn statuses(app: &TestApp) -> Vec<String> {
    app.with_db(|c| {
        use diesel::prelude::*;
        use outreach::db::schema::outbox as o;
        o::table
            .order(o::id.asc())
            .select(o::status)
            .load(c)
            .unwrap()
    })
    .await
}

both!(kept_mail_is_sent_once_an_smtp_server_is_set);
async fn kept_mail_is_sent_once_an_smtp_server_is_set(app: TestApp) {
    queue(&app, 3).await;
    while outreach::mailer::send_one(&app.state, "w", None)
        .await
        .unwrap()
    {}
    assert_eq!(statuses(&app).await, vec!["kept"; 3]);
    let (_, _, page) = app.page("/outbox", Some(Role::Admin)).await;
    assert!(
        page.contains("3 messages were never sent") && page.contains("Set <code>SMTP_URL</code>")
    );
    let confirm = [("confirm", "true")];
    let (s, _, _) = app
        .form("/outbox/send-kept", Some(Role::Admin), &confirm, true)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "no SMTP server yet");
    let app = with_smtp(app);
    let (s, _, _) = app
        .form("/outbox/send-kept", Some(Role::Lead), &confirm, true)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = app
        .form("/outbox/send-kept", Some(Role::Admin), &[], true)
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the box must be ticked"
    );
    assert_eq!(statuses(&app).await, vec!["kept"; 3]);
    let (_, _, page) = app.page("/outbox", Some(Role::Admin)).await;
    assert!(page.contains("Send the kept mail"));
    let (s, _, _) = app
        .form("/outbox/send-kept", Some(Role::Admin), &confirm, true)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        statuses(&app).await,
        vec!["queued"; 3],
        "queued for the worker, once"
    );
    let (s, _, _) = app
        .form("/outbox/send-kept", Some(Role::Admin), &confirm, true)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(
        statuses(&app).await,
        vec!["queued"; 3],
        "nothing kept is left to queue twice"
    );
}
