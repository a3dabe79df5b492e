//! Backup and restore: a copy taken while bookings are being written comes back whole and
//! consistent; a quiet one comes back identical, row for row and figure for figure.

use axum::http::StatusCode;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use outreach::db;
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::cli::outreach;
use crate::fixtures::{a_programme, live_stream, schools};
use crate::harness::TestApp;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Rows by table, and each event's places taken against its confirmed bookings' places.
type Census = (Vec<(String, i64)>, Vec<(i64, i64)>);

/// The rows of every table (the migrations' record too), and each event's places taken
/// against the places of its confirmed bookings.
fn census(url: &str) -> Census {
    let pool = db::connect(&db::DbUrl::parse(url).expect("url"), 1).expect("connect");
    let c = &mut *pool.get().expect("conn");
    let tables = match c {
        db::AnyConnection::Sqlite(_) => {
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        db::AnyConnection::Postgresql(_) => {
            "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY name"
        }
    };
    let names: Vec<Name> = diesel::sql_query(tables).load(c).expect("tables");
    assert!(names.len() > 20, "every table: {}", names.len());
    let rows = names
        .into_iter()
        .map(|t| {
            let n = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {}", t.name))
                .get_result::<Count>(c)
                .expect("count")
                .n;
            (t.name, n)
        })
        .collect();
    #[derive(QueryableByName)]
    struct Places {
        #[diesel(sql_type = BigInt)]
        taken: i64,
        #[diesel(sql_type = BigInt)]
        booked: i64,
    }
    let places = diesel::sql_query(
        "SELECT CAST(e.places_confirmed AS BIGINT) AS taken, \
         CAST(COALESCE((SELECT SUM(b.pupils + b.staff) FROM bookings b \
         WHERE b.event_id = e.id AND b.status = 'confirmed'), 0) AS BIGINT) AS booked \
         FROM events e ORDER BY e.id",
    )
    .load::<Places>(c)
    .expect("places")
    .into_iter()
    .map(|p| (p.taken, p.booked))
    .collect();
    (rows, places)
}

/// Books ten places at the event for each school, as the lead, one after another.
async fn book(app: &TestApp, event: i64, schools: Vec<i64>) {
    for school in schools {
        let body = json!({"pupils": 9, "staff": 1, "school_id": school});
        let (status, v) = app
            .post(&format!("/events/{event}/bookings"), Some(Role::Lead), body)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
    }
}

fn run(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = outreach(url, args, None);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

both!(a_backup_taken_while_bookings_are_written_comes_back_whole);
async fn a_backup_taken_while_bookings_are_written_comes_back_whole(app: TestApp) {
    let p = a_programme(&app)
        .funded()
        .between("2031-01-06", "2031-07-18")
        .create()
        .await;
    let e = live_stream(&app, p, 5, Some(200)).await;
    let (early, late) = {
        let all = schools(&app, 60).await;
        (all[..20].to_vec(), all[20..].to_vec())
    };
    book(&app, e, early).await;
    let files = tempfile::tempdir().expect("dir");
    let during = files.path().join("during.backup");
    let quiet = files.path().join("quiet.backup");

    // A backup while forty more bookings are being made.
    let url = app.database_url.clone();
    let during_path = during.to_string_lossy().into_owned();
    let backup = tokio::task::spawn_blocking(move || run(&url, &["backup", during_path.as_str()]));
    book(&app, e, late).await;
    let (ok, said, err) = backup.await.expect("backup");
    assert!(ok, "{err}");
    assert!(said.contains("backed up to"), "{said}");

    // Taken while writes went on, it is one moment of the database: whole bookings,
    // places that add up, figures that match a recount.
    let restored = app.spare_database();
    let (ok, said, err) = run(&restored.url, &["restore", &during.to_string_lossy()]);
    assert!(ok, "{err}");
    assert!(said.contains("restored"), "{said}");
    let (rows, places) = census(&restored.url);
    let bookings = rows
        .iter()
        .find(|(t, _)| t == "bookings")
        .map(|(_, n)| *n)
        .expect("bookings");
    assert!((20..=60).contains(&bookings), "{bookings} bookings");
    for (taken, booked) in places {
        assert_eq!(
            taken, booked,
            "places taken are the confirmed bookings' places"
        );
    }
    let (ok, said, err) = run(&restored.url, &["check", "figures"]);
    assert!(ok, "{said}{err}");

    // Taken when all is quiet, it is the database: every table, every figure.
    let (ok, _, err) = run(&app.database_url, &["backup", &quiet.to_string_lossy()]);
    assert!(ok, "{err}");
    let copy = app.spare_database();
    let (ok, _, err) = run(&copy.url, &["restore", &quiet.to_string_lossy()]);
    assert!(ok, "{err}");
    assert_eq!(census(&copy.url), census(&app.database_url));
    let programme = p.to_string();
    let figures = |url: &str| run(url, &["report", "impact", "--programme", &programme]);
    let (ok, original, err) = figures(&app.database_url);
    assert!(ok, "{err}");
    assert!(original.contains("\"audience\""), "{original}");
    assert_eq!(figures(&copy.url).1, original);
    // The restored copy serves: its lead's token still works.
    let (status, v) = outreach_api_events(&copy.url, &app.lead.token).await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

/// `GET /api/v1/events` on a fresh app over the database, with the token.
async fn outreach_api_events(url: &str, token: &str) -> (StatusCode, serde_json::Value) {
    let config = outreach::config::Config::new(url, "127.0.0.1:0", None, "Europe/London", None)
        .expect("config");
    let pool = db::connect(&config.database, 2).expect("connect");
    let router = outreach::build_router(outreach::app::App::new(pool, config));
    crate::harness::send_json(
        router,
        token,
        axum::http::Method::GET,
        "/events",
        json!(null),
    )
    .await
}

both!(a_restore_never_overwrites_and_a_backup_never_replaces);
async fn a_restore_never_overwrites_and_a_backup_never_replaces(app: TestApp) {
    let files = tempfile::tempdir().expect("dir");
    let file = files.path().join("one.backup");
    let name = file.to_string_lossy().into_owned();
    let (ok, _, err) = run(&app.database_url, &["backup", &name]);
    assert!(ok, "{err}");
    let size = std::fs::metadata(&file).expect("file").len();
    let (ok, _, err) = run(&app.database_url, &["backup", &name]);
    assert!(!ok);
    assert!(err.contains("exists already"), "{err}");
    assert_eq!(std::fs::metadata(&file).expect("file").len(), size);
    // Into a database that holds anything: refused, and the database is as it was.
    let before = census(&app.database_url);
    let (ok, _, err) = run(&app.database_url, &["restore", &name]);
    assert!(!ok);
    assert!(err.contains("restore into a new database"), "{err}");
    assert_eq!(census(&app.database_url), before);
    // Not a backup at all.
    let junk = files.path().join("junk.backup");
    std::fs::write(&junk, "not a backup").expect("write");
    let spare = app.spare_database();
    let (ok, _, err) = run(&spare.url, &["restore", &junk.to_string_lossy()]);
    assert!(!ok, "{err}");
    assert!(err.contains("is not a"), "{err}");
    // A wrong SQLite path is an error, never an empty backup (and makes no database).
    if let Some(path) = spare.url.strip_prefix("sqlite://") {
        let nowhere = files.path().join("nowhere.backup");
        let (ok, _, err) = run(&spare.url, &["backup", &nowhere.to_string_lossy()]);
        assert!(!ok);
        assert!(err.contains("cannot open the database"), "{err}");
        assert!(!nowhere.exists(), "no file is left by a failed backup");
        assert!(!std::path::Path::new(path).exists(), "no database is made");
    }
    // Made by a newer Outreach (a migration this binary does not know): refused before
    // anything is changed.
    app.with_db(|c| {
        diesel::sql_query(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('99991231000000')",
        )
        .execute(c)
        .expect("a migration from the future")
    })
    .await;
    let newer = files.path().join("newer.backup");
    let (ok, _, err) = run(&app.database_url, &["backup", &newer.to_string_lossy()]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(&spare.url, &["restore", &newer.to_string_lossy()]);
    assert!(!ok);
    assert!(err.contains("newer version"), "{err}");
}

/// Scheduled backups (SQLite only): each run copies the database into the folder, the
/// newest `BACKUP_KEEP` copies are kept and nothing else in the folder is touched, a copy
/// restores to the same rows, and the admin's home page says how the last one went.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_keep_the_newest_and_the_admin_sees_the_last() {
    crate::harness::run(crate::harness::Db::Sqlite, |mut app: TestApp| async move {
        use outreach::backups::{due, run_once, Schedule};
        let folder = tempfile::tempdir().expect("dir");
        std::fs::write(folder.path().join("notes.txt"), "the operator's own").unwrap();
        let schedule = Schedule {
            dir: folder.path().to_path_buf(),
            keep: 2,
            every: chrono::Duration::hours(24),
        };
        let mut config = app.state.config.clone();
        config.backups = Some(schedule.clone());
        let state = outreach::app::App::new(app.state.pool.clone(), config);
        app.router = outreach::build_router(state.clone());
        assert!(home(&app, Role::Admin)
            .await
            .contains("the first is made within a minute"));
        let p = a_programme(&app).funded().create().await;
        let mut made = Vec::new();
        for day in [12, 14, 16] {
            live_stream(&app, p, day, Some(100)).await;
            let b = run_once(&state, &schedule).await.expect("a run");
            assert!(b.ok, "{b:?}");
            assert!(b.bytes.unwrap_or(0) > 0);
            made.push(b.file.clone().expect("a file"));
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let mut left: Vec<String> = std::fs::read_dir(folder.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["notes.txt".to_string(), made[1].clone(), made[2].clone()]
        );
        // The newest copy is the database as it was: restored, the same rows.
        let copy = folder.path().join("restored.db");
        let copy_url = format!("sqlite://{}", copy.display());
        let (ok, _, err) = run(
            &copy_url,
            &["restore", &folder.path().join(&made[2]).to_string_lossy()],
        );
        assert!(ok, "{err}");
        assert_eq!(census(&copy_url), census(&app.database_url));
        // Recorded: not due again for a day; the admin sees it, a lead does not.
        let last = state
            .db(outreach::backups::last)
            .await
            .unwrap()
            .expect("recorded");
        assert!(!due(Some(&last), outreach::app::now(), schedule.every));
        let page = home(&app, Role::Admin).await;
        assert!(
            page.contains("Last backup:") && page.contains(&made[2]),
            "{page}"
        );
        assert!(!home(&app, Role::Lead).await.contains("Backups"));
        // A folder that cannot be written: recorded as failed, in words, on the page.
        let broken = Schedule {
            dir: folder.path().join("notes.txt"),
            ..schedule.clone()
        };
        let b = run_once(&state, &broken).await.expect("a run");
        assert!(!b.ok && b.error.is_some(), "{b:?}");
        let page = home(&app, Role::Admin).await;
        assert!(page.contains("The last backup failed"), "{page}");
        assert!(due(
            Some(&b),
            outreach::app::now() + chrono::Duration::hours(1),
            schedule.every
        ));
    })
    .await;
}

/// The home page of a role.
async fn home(app: &TestApp, role: Role) -> String {
    let (s, _, page) = app.page("/", Some(role)).await;
    assert_eq!(s, StatusCode::OK);
    page
}
