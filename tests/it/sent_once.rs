//! Every page form is sent once: a double click, or Back and send again, does the work
//! once and sends the second request where the first went (issue 11, item 4).

use axum::http::{header, StatusCode};
use outreach::domain::types::Role;
use tower::ServiceExt;

use crate::both;
use crate::fixtures::venue_event;
use crate::harness::TestApp;

/// The sent-once keys of a page's forms, in order.
fn form_keys(page: &str) -> Vec<String> {
    page.split("name=\"form_key\" value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default().to_string())
        .collect()
}

fn location(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn programmes_titled(app: &TestApp, title: &'static str) -> i64 {
    app.with_db(move |c| {
        use diesel::prelude::*;
        use outreach::db::schema::programmes as p;
        p::table
            .filter(p::title.eq(title))
            .count()
            .get_result::<i64>(c)
            .unwrap()
    })
    .await
}

both!(a_double_clicked_add_programme_makes_one_across_processes);
async fn a_double_clicked_add_programme_makes_one_across_processes(app: TestApp) {
    let lead = Some(Role::Lead);
    let (s, _, page) = app.page("/programmes/new", lead).await;
    assert_eq!(s, StatusCode::OK);
    let keys = form_keys(&page);
    assert_eq!(keys.len(), 1, "the form carries one key");
    let fields = [
        ("title", "Double Click"),
        ("year", "2027"),
        ("status", "planned"),
        ("form_key", keys[0].as_str()),
    ];
    // Two clicks at once, each to its own process on the one database.
    let first = app
        .router
        .clone()
        .oneshot(app.form_request("/programmes", lead, &fields, true));
    let second = app
        .second_router()
        .oneshot(app.form_request("/programmes", lead, &fields, true));
    let (a, b) = tokio::join!(first, second);
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.status(), StatusCode::SEE_OTHER);
    let (to_a, to_b) = (location(a.headers()), location(b.headers()));
    assert!(to_a.starts_with("/programmes/"), "{to_a}");
    assert_eq!(to_a, to_b, "both clicks go to the one programme");
    assert_eq!(programmes_titled(&app, "Double Click").await, 1);

    // Back and send the same form again: still one, and the browser goes to it.
    let (s, headers, _) = app.form("/programmes", lead, &fields, true).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers), to_a);
    assert_eq!(programmes_titled(&app, "Double Click").await, 1);

    // Back, change a field and send again: a changed form is a new request, not a
    // "saved" that saved nothing.
    let changed = [
        ("title", "Double Click Two"),
        ("year", "2027"),
        ("form_key", keys[0].as_str()),
    ];
    let (s, headers, _) = app.form("/programmes", lead, &changed, true).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_ne!(location(&headers), to_a);
    assert_eq!(programmes_titled(&app, "Double Click Two").await, 1);

    // A new rendering of the form is a new programme.
    let (_, _, page) = app.page("/programmes/new", lead).await;
    let fresh = form_keys(&page);
    assert_ne!(fresh, keys, "each rendering has its own key");
    let fields = [
        ("title", "Double Click"),
        ("year", "2027"),
        ("form_key", fresh[0].as_str()),
    ];
    let (s, headers, _) = app.form("/programmes", lead, &fields, true).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_ne!(location(&headers), to_a);
    assert_eq!(programmes_titled(&app, "Double Click").await, 2);
}

both!(a_form_sent_back_with_errors_can_be_sent_again_corrected);
async fn a_form_sent_back_with_errors_can_be_sent_again_corrected(app: TestApp) {
    let lead = Some(Role::Lead);
    let (_, _, page) = app.page("/programmes/new", lead).await;
    let key = form_keys(&page).remove(0);
    let (s, _, body) = app
        .form(
            "/programmes",
            lead,
            &[("title", "Mended"), ("year", "ninety"), ("form_key", &key)],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(form_keys(&body).len(), 1, "the form comes back with a key");
    assert_eq!(programmes_titled(&app, "Mended").await, 0);
    let (s, _, _) = app
        .form(
            "/programmes",
            lead,
            &[("title", "Mended"), ("year", "2027"), ("form_key", &key)],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "the key was given back");
    assert_eq!(programmes_titled(&app, "Mended").await, 1);
}

both!(a_damaged_key_is_refused_and_changes_nothing);
async fn a_damaged_key_is_refused_and_changes_nothing(app: TestApp) {
    let before = app.count("programmes").await;
    let (s, _, body) = app
        .form(
            "/programmes",
            Some(Role::Lead),
            &[
                ("title", "Damaged"),
                ("year", "2027"),
                ("form_key", "x'; --"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body.contains("reload the page"), "{body}");
    assert_eq!(app.count("programmes").await, before);
    assert_eq!(app.count("form_submissions").await, 0);
}

both!(a_school_double_clicking_book_books_once_and_sees_its_booking);
async fn a_school_double_clicking_book_books_once_and_sees_its_booking(app: TestApp) {
    let event = venue_event(&app, 40, false).await;
    let book = format!("/events/{event}/book");
    let (_, _, page) = app.page(&book, Some(Role::School)).await;
    let keys = form_keys(&page);
    assert_eq!(keys.len(), 1, "the booking form has a page of its own");
    let fields = [
        ("pupils", "28"),
        ("staff", "2"),
        ("form_key", keys[0].as_str()),
    ];
    let (s1, h1, _) = app.form(&book, Some(Role::School), &fields, true).await;
    let (s2, h2, body) = app.form(&book, Some(Role::School), &fields, true).await;
    assert_eq!(s1, StatusCode::SEE_OTHER);
    assert_eq!(s2, StatusCode::SEE_OTHER, "not 'already booked': {body}");
    assert_eq!(location(&h1), location(&h2));
    assert!(location(&h2).contains("booking_confirmed"));
    assert_eq!(app.count("bookings").await, 1);
}

both!(an_address_holding_a_secret_is_never_kept);
async fn an_address_holding_a_secret_is_never_kept(app: TestApp) {
    let event = venue_event(&app, 40, false).await;
    let (s, booking) =
        crate::fixtures::book(&app, event, Role::School, serde_json::json!({"pupils": 20})).await;
    assert_eq!(s, StatusCode::CREATED);
    let b = booking["id"].as_i64().unwrap();
    let key = "0123456789abcdef0123456789abcdef";
    let path = format!("/bookings/{b}/feedback-links");
    let (s, headers, _) = app
        .form(&path, Some(Role::School), &[("form_key", key)], true)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(
        location(&headers).starts_with("/feedback/"),
        "the new link opens"
    );
    let kept: Vec<Option<String>> = app
        .with_db(|c| {
            use diesel::prelude::*;
            use outreach::db::schema::form_submissions as f;
            f::table.select(f::location).load(c).unwrap()
        })
        .await;
    assert_eq!(kept, vec![Some(format!("/bookings/{b}/feedback"))]);
    let (s, headers, _) = app
        .form(&path, Some(Role::School), &[("form_key", key)], true)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers), format!("/bookings/{b}/feedback"));
    assert_eq!(app.count("feedback_links").await, 1, "one link");
}

/// Every form of every page that changes something carries its sent-once key: the
/// templates put `ctx.form_fields()` in each, except signing in and out.
#[test]
fn every_page_form_carries_a_key() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        for form in text.split("<form").skip(1) {
            let form = form.split("</form>").next().unwrap();
            let head = form.split('>').next().unwrap();
            let post = head.contains("method=\"post\"");
            let sign = head.contains("action=\"/login") || head.contains("action=\"/logout");
            if post && !sign && !form.contains("ctx.form_fields()") {
                missing.push(format!("{name}: <form{head}>"));
            }
        }
    }
    assert!(missing.is_empty(), "forms without a key: {missing:#?}");
}

/// A reload of (or Back to) a page shown in answer to a form visits the form's action
/// address: every page action without a page of its own leads, by `back_to`, to a page
/// that exists, and the router says so with a redirect, never a bare 405.
#[test]
fn every_form_address_visited_leads_to_a_page() {
    let routes = crate::harness::router_routes();
    let concrete = |route: &str| {
        route
            .split('/')
            .map(|s| if s.starts_with('{') { "7" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    };
    let pages: std::collections::BTreeSet<String> = routes
        .iter()
        .filter(|(m, r)| m == "GET" && !r.starts_with("/{kind}") && !r.contains("api"))
        .map(|(_, r)| concrete(r))
        .collect();
    let mut lost = Vec::new();
    for (method, route) in &routes {
        let with_get = routes.contains(&("GET".to_string(), route.clone()));
        if method != "POST"
            || with_get
            || route.starts_with("/api/")
            || route.starts_with("/{kind}")
        {
            continue;
        }
        let to = outreach::web::pages::back_to(&concrete(route));
        if !pages.contains(&to) {
            lost.push(format!("{route} → {to}"));
        }
    }
    assert!(lost.is_empty(), "actions leading nowhere: {lost:#?}");
}

both!(a_visit_to_a_form_address_goes_to_its_page);
async fn a_visit_to_a_form_address_goes_to_its_page(app: TestApp) {
    let lead = Some(Role::Lead);
    for (action, page) in [
        ("/events/3/attendance", "/events/3"),
        ("/programmes/2/events", "/programmes/2"),
        ("/outbox/send-kept", "/outbox"),
        ("/bookings/4/confirm", "/bookings"),
    ] {
        let (s, headers, _) = app.page(action, lead).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{action}");
        assert_eq!(location(&headers), page, "{action}");
    }
    // Another method, past the CSRF check, is still refused.
    let (s, _, _) = app
        .send(
            axum::http::Request::builder()
                .method(axum::http::Method::DELETE)
                .uri("/events/3/attendance")
                .header(
                    header::COOKIE,
                    format!("outreach_csrf={}", crate::harness::CSRF),
                )
                .header("x-csrf-token", crate::harness::CSRF)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::METHOD_NOT_ALLOWED,
        "only a visit is led back"
    );
}

#[test]
fn back_to_leads_only_to_this_site() {
    use outreach::web::pages::back_to;
    assert_eq!(back_to("/events/5/attendance"), "/events/5");
    assert_eq!(back_to("/outbox/send-kept"), "/outbox");
    assert_eq!(back_to("/\\evil.com/x"), "/");
    assert_eq!(back_to("//evil.com/x"), "/");
    assert_eq!(back_to("/%2F%2Fevil.com/7/x"), "/");
}

both!(a_first_click_cut_off_still_counts_once);
async fn a_first_click_cut_off_still_counts_once(app: TestApp) {
    let lead = Some(Role::Lead);
    let (_, _, page) = app.page("/programmes/new", lead).await;
    let key = form_keys(&page).remove(0);
    let fields = [
        ("title", "Cut Off"),
        ("year", "2027"),
        ("form_key", key.as_str()),
    ];
    // The browser drops the first request (a double click) while it is in hand.
    let first = tokio::spawn(app.router.clone().oneshot(app.form_request(
        "/programmes",
        lead,
        &fields,
        true,
    )));
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    first.abort();
    let (s, headers, _) = app.form("/programmes", lead, &fields, true).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(location(&headers).starts_with("/programmes/"));
    assert_eq!(
        programmes_titled(&app, "Cut Off").await,
        1,
        "the dropped request's work is recorded, and not done twice"
    );
}
