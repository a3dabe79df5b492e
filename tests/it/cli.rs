//! The command line: adding a user and a token that then works, and clear start-up errors.

use std::io::Write;
use std::process::{Command, Stdio};

use axum::http::StatusCode;

use crate::both;
use crate::harness::TestApp;

/// Runs the `outreach` binary on the database with these arguments.
pub fn outreach(database_url: &str, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_outreach"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().expect("run")
}

both!(user_add_and_token_create_give_a_working_token);
async fn user_add_and_token_create_give_a_working_token(app: TestApp) {
    let url = app.database_url.clone();
    let out = tokio::task::spawn_blocking(move || {
        let added = outreach(
            &url,
            &[
                "user",
                "add",
                "--email",
                "newadmin@example.org",
                "--role",
                "admin",
                "--password-stdin",
            ],
            Some("a password of length\n"),
        );
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
        let short = outreach(
            &url,
            &[
                "user",
                "add",
                "--email",
                "x@example.org",
                "--role",
                "lead",
                "--password-stdin",
            ],
            Some("short\n"),
        );
        assert!(!short.status.success());
        assert!(String::from_utf8_lossy(&short.stderr).contains("password"));
        let token = outreach(
            &url,
            &["token", "create", "--email", "newadmin@example.org"],
            None,
        );
        assert!(
            token.status.success(),
            "{}",
            String::from_utf8_lossy(&token.stderr)
        );
        String::from_utf8(token.stdout).unwrap()
    })
    .await
    .unwrap();
    let secret = out.lines().last().unwrap().trim().to_string();
    assert!(secret.starts_with("otr_"));
    let req = axum::http::Request::builder()
        .uri("/api/v1/me")
        .header("authorization", format!("Bearer {secret}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (s, _, body) = app.send(req).await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("newadmin@example.org"));
}

both!(check_figures_compares_every_programme_with_a_recount);
async fn check_figures_compares_every_programme_with_a_recount(app: TestApp) {
    let p = crate::fixtures::a_programme(&app).funded().create().await;
    crate::fixtures::event(
        &app,
        p,
        serde_json::json!({"kind": "live_stream", "starts_at": "2019-03-01T10:00:00Z", "ends_at": "2019-03-01T11:00:00Z"}),
    )
    .await;
    let url = app.database_url.clone();
    let out = tokio::task::spawn_blocking(move || outreach(&url, &["check", "figures"], None))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("checked the figures of 2 programmes and organisations")
            && said.contains("all match"),
        "{said}"
    );
}

both!(user_invite_mails_a_link_that_sets_up_the_account);
async fn user_invite_mails_a_link_that_sets_up_the_account(app: TestApp) {
    let url = app.database_url.clone();
    let (ok, bad) = tokio::task::spawn_blocking(move || {
        let ok = outreach(
            &url,
            &[
                "user",
                "invite",
                "--email",
                "Contact@Example.org",
                "--role",
                "school",
                "--school",
                "900001",
                "--base-url",
                "https://outreach.example.org",
            ],
            None,
        );
        let bad = outreach(
            &url,
            &[
                "user",
                "invite",
                "--email",
                "x@example.org",
                "--role",
                "school",
            ],
            None,
        );
        (ok, bad)
    })
    .await
    .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let out = String::from_utf8_lossy(&ok.stdout).to_string();
    let link = out.lines().last().unwrap().trim().to_string();
    assert!(
        link.starts_with("https://outreach.example.org/invitations/"),
        "{out}"
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("school_id"));
    // The mail holds the same link; following it makes the school's contact.
    let path = link
        .trim_start_matches("https://outreach.example.org")
        .to_string();
    assert_eq!(app.count("outbox").await, 1);
    let (s, _, page) = app.page(&path, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("contact@example.org") && page.contains("Seed School"));
    let (s, _, _) = app
        .form(
            &path,
            None,
            &[
                ("name", "Carol Contact"),
                ("password", "a fine long phrase"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, v) = app
        .get(
            "/invitations?status=accepted",
            Some(outreach::domain::types::Role::Admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["items"][0]["school_id"].as_i64(),
        Some(app.school_id as i64)
    );
}

#[test]
fn bad_database_urls_give_one_clear_line() {
    let cases = [
        ("mysql://localhost/x", "unsupported database URL scheme"),
        (
            "postgres://postgres@127.0.0.1:1/nowhere",
            "cannot connect to PostgreSQL",
        ),
        (
            "sqlite:///nonexistent-dir/sub/outreach.db",
            "cannot open SQLite file",
        ),
    ];
    for (url, expected) in cases {
        let out = outreach(url, &["migrate"], None);
        assert!(!out.status.success(), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{url}: {stderr}");
        assert!(!stderr.contains("panicked"), "{url}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{url}: {stderr}");
    }
}

#[test]
fn a_database_from_a_newer_binary_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    assert!(outreach(&url, &["migrate"], None).status.success());
    let path = dir.path().join("x.db");
    outreach::db::tune_sqlite();
    let mut conn =
        <diesel::SqliteConnection as diesel::Connection>::establish(path.to_str().unwrap())
            .unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('29990101000000')",
        ),
        &mut conn,
    )
    .unwrap();
    let out = outreach(&url, &["migrate"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("newer version of Outreach"));
}

both!(mail_send_kept_queues_the_kept_mail_once);
async fn mail_send_kept_queues_the_kept_mail_once(app: TestApp) {
    app.with_db(|c| {
        for to in ["a@school.example", "b@school.example"] {
            outreach::domain::mail::queue(c, to, "Subject", "Body").unwrap();
        }
    })
    .await;
    while outreach::mailer::send_one(&app.state, "w", None)
        .await
        .unwrap()
    {}
    let url = app.database_url.clone();
    let out = tokio::task::spawn_blocking(move || outreach(&url, &["mail", "send-kept"], None))
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("queued 2 kept message(s)"), "{said}");
    let queued: i64 = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::outbox as o;
            o::table
                .filter(o::status.eq("queued"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(queued, 2);
}

#[test]
fn demo_and_demo_reset_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    // A reset of a database the demo was not loaded into deletes nothing.
    assert!(outreach(&url, &["migrate"], None).status.success());
    let mut add = outreach(
        &url,
        &[
            "user",
            "add",
            "--email",
            "real@example.org",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(add.status.success(), "{add:?}");
    assert!(outreach(
        &url,
        &["import", "schools", "tests/fixtures/register-sample.csv"],
        None
    )
    .status
    .success());
    let out = outreach(&url, &["demo", "--reset"], None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a demo install"), "{stderr}");
    // Nor does the demo load over it (a reset would then delete the real data).
    let out = outreach(&url, &["demo"], None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("loads only into an empty database"),
        "{stderr}"
    );
    let out = outreach(
        &url,
        &["token", "create", "--email", "real@example.org"],
        None,
    );
    assert!(
        out.status.success(),
        "the real admin is still there: {out:?}"
    );

    // On a fresh file: load, then reset, each saying what it did and how long it took.
    let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    add = outreach(&url, &["demo"], None);
    let stdout = String::from_utf8_lossy(&add.stdout);
    assert!(add.status.success(), "{add:?}");
    assert!(
        stdout.contains("loaded the demo in") && stdout.contains("140 schools"),
        "{stdout}"
    );
    assert!(stdout.contains("school@demo.example (School)"), "{stdout}");
    let again = outreach(&url, &["demo"], None);
    assert!(
        !again.status.success(),
        "the demo loads only into an empty database"
    );
    let reset = outreach(&url, &["demo", "--reset"], None);
    let stdout = String::from_utf8_lossy(&reset.stdout);
    assert!(reset.status.success(), "{reset:?}");
    assert!(
        stdout.contains("put the demo back to its first state in"),
        "{stdout}"
    );
}
