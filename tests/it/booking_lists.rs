//! The bookings lists as people read them: the production named, in date order, and the
//! staff's filters by programme, state and school (issue 11, items 3 and 8).

use axum::http::StatusCode;
use outreach::domain::types::Role;
use serde_json::json;

use crate::both;
use crate::fixtures::{a_programme, book, live_stream};
use crate::harness::TestApp;

struct Lists {
    ruby: i64,
    lines: i64,
    abbey: i64,
}

/// Ruby's stream on 20 May 2031 and County Lines' on 5 May; Seed School books Ruby first,
/// then County Lines; Abbey Primary (URN 112233, Kendal) books Ruby.
async fn two_productions(app: &TestApp) -> Lists {
    let ruby = a_programme(app)
        .titled("Ruby")
        .year(2030)
        .funded()
        .create()
        .await;
    let lines = a_programme(app)
        .titled("County Lines")
        .year(2030)
        .funded()
        .create()
        .await;
    let ruby_stream = live_stream(app, ruby, 20, Some(100)).await;
    let lines_stream = live_stream(app, lines, 5, Some(100)).await;
    let (_, abbey) = app
        .post(
            "/schools",
            Some(Role::Admin),
            json!({"name": "Abbey Primary School", "urn": 112233, "town": "Kendal"}),
        )
        .await;
    let abbey = abbey["id"].as_i64().unwrap();
    for (event, body) in [
        (ruby_stream, json!({"pupils": 20})),
        (lines_stream, json!({"pupils": 30})),
    ] {
        let (s, b) = book(app, event, Role::School, body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let (s, b) = book(
        app,
        ruby_stream,
        Role::Lead,
        json!({"school_id": abbey, "pupils": 25}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    Lists { ruby, lines, abbey }
}

/// The table rows of a bookings page.
fn rows(page: &str) -> Vec<&str> {
    page.split("<tbody>")
        .nth(1)
        .unwrap_or_default()
        .split("</tbody>")
        .next()
        .unwrap_or_default()
        .split("<tr>")
        .skip(1)
        .collect()
}

both!(our_bookings_name_the_production_in_date_order);
async fn our_bookings_name_the_production_in_date_order(app: TestApp) {
    two_productions(&app).await;
    let (s, _, page) = app.page("/bookings", Some(Role::School)).await;
    assert_eq!(s, StatusCode::OK);
    let rows = rows(&page);
    assert_eq!(rows.len(), 2, "{page}");
    assert!(
        rows[0].contains("County Lines (2030)"),
        "the sooner date first, though booked later: {}",
        rows[0]
    );
    assert!(rows[1].contains("Ruby (2030)"));
    assert!(
        !page.contains("name=\"programme_id\""),
        "a school has no staff filters"
    );
}

both!(staff_filter_bookings_by_programme_state_and_school);
async fn staff_filter_bookings_by_programme_state_and_school(app: TestApp) {
    let l = two_productions(&app).await;
    let lead = Some(Role::Lead);
    let (_, _, all) = app.page("/bookings", lead).await;
    assert_eq!(rows(&all).len(), 3);
    assert!(
        all.contains("Abbey Primary School (URN 112233, Kendal)"),
        "staff tell same-named schools apart"
    );

    let (_, _, ruby) = app
        .page(&format!("/bookings?programme_id={}", l.ruby), lead)
        .await;
    let ruby_rows = rows(&ruby);
    assert_eq!(ruby_rows.len(), 2);
    assert!(ruby_rows.iter().all(|r| r.contains("Ruby (2030)")));
    assert!(ruby.contains("2 bookings match."));
    assert!(ruby.contains(&format!("<option value=\"{}\" selected>", l.ruby)));

    let (_, _, abbey) = app.page("/bookings?school=112233", lead).await;
    let abbey_rows = rows(&abbey);
    assert_eq!(abbey_rows.len(), 1);
    assert!(abbey_rows[0].contains("Abbey Primary School"));

    let (_, _, both_filters) = app
        .page(
            &format!("/bookings?programme_id={}&school=Seed+School", l.lines),
            lead,
        )
        .await;
    assert_eq!(rows(&both_filters).len(), 1);

    let (_, _, waiting) = app.page("/bookings?status=waitlisted", lead).await;
    assert!(rows(&waiting).is_empty());
    assert!(waiting.contains("No bookings match these filters."));

    let (s, _, unknown) = app.page("/bookings?school=Nowhere+Academy", lead).await;
    assert_eq!(s, StatusCode::OK);
    assert!(rows(&unknown).is_empty());
    assert!(
        unknown.contains("id=\"e-flt-school\""),
        "the reason sits by the field: {unknown}"
    );
    assert!(
        unknown.contains("value=\"Nowhere Academy\""),
        "the text is kept"
    );

    // Paging keeps the filter.
    let (_, _, first) = app
        .page(
            &format!("/bookings?programme_id={}&per_page=1", l.ruby),
            lead,
        )
        .await;
    assert_eq!(rows(&first).len(), 1);
    assert!(
        first.contains(&format!("?programme_id={}&#38;page=2", l.ruby)),
        "{first}"
    );
}

both!(the_api_filters_bookings_by_programme_and_school);
async fn the_api_filters_bookings_by_programme_and_school(app: TestApp) {
    let l = two_productions(&app).await;
    let lead = Some(Role::Lead);
    let (s, list) = app
        .get(&format!("/bookings?programme_id={}", l.ruby), lead)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["total"], 2);
    let (_, list) = app
        .get(
            &format!("/bookings?programme_id={}&school_id={}", l.ruby, l.abbey),
            lead,
        )
        .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["school_id"], l.abbey);
    let (_, list) = app
        .get(
            &format!("/bookings?programme_id={}", l.lines),
            Some(Role::School),
        )
        .await;
    assert_eq!(list["total"], 1, "a school's own, of that programme");
    let (s, e) = app.get("/bookings?programme_id=ruby", lead).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.to_string().contains("programme_id"), "{e}");
    let (s, csv) = app
        .api(
            axum::http::Method::GET,
            &format!("/bookings.csv?school_id={}", l.abbey),
            lead,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let text = csv.as_str().unwrap_or_default().to_string();
    assert_eq!(
        text.lines().count(),
        2,
        "a header and Abbey's booking: {text}"
    );
}

both!(whats_on_is_grouped_and_each_form_has_a_page);
async fn whats_on_is_grouped_and_each_form_has_a_page(app: TestApp) {
    let school = Some(Role::School);
    let ruby = a_programme(&app)
        .titled("Ruby")
        .year(2031)
        .funded()
        .create()
        .await;
    let lines = a_programme(&app)
        .titled("County Lines")
        .year(2031)
        .funded()
        .create()
        .await;
    let may = live_stream(&app, ruby, 20, Some(100)).await;
    let june = crate::fixtures::event(&app, ruby, json!({"kind": "live_stream", "starts_at": "2031-06-03T10:00:00Z", "ends_at": "2031-06-03T11:00:00Z", "capacity": 50})).await;
    live_stream(&app, lines, 5, Some(100)).await;
    let (s, slot) = app
        .post(
            &format!("/programmes/{ruby}/slots"),
            Some(Role::Lead),
            json!({"day": "2031-06-09", "session": "morning"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{slot}");

    let (s, _, page) = app.page("/whats-on", school).await;
    assert_eq!(s, StatusCode::OK);
    let at = |needle: &str| {
        page.find(needle)
            .unwrap_or_else(|| panic!("{needle}: {page}"))
    };
    let offers = at("Performances and live streams");
    // Productions in the order of their first date; months within them.
    let lines_at = page[offers..].find(">County Lines</h3>").unwrap() + offers;
    let ruby_at = page[offers..].find(">Ruby</h3>").unwrap() + offers;
    assert!(
        lines_at < ruby_at,
        "County Lines (5 May) before Ruby (20 May)"
    );
    let may_at = page[ruby_at..].find("May 2031").unwrap();
    let june_at = page[ruby_at..].find("June 2031").unwrap();
    assert!(may_at < june_at);
    assert!(
        at("June 2031") < offers,
        "the tour date's month, under visits"
    );
    // No form on the list: each has a page of its own, so ids are never shared.
    assert!(!page.contains("id=\"f-pupils\""));
    assert!(page.contains(&format!("href=\"/events/{may}/book\"")));
    assert!(page.contains(&format!("href=\"/events/{june}/book\"")));
    assert!(page.contains(&format!("href=\"/slots/{}/request\"", slot["id"])));

    let (s, _, form) = app.page(&format!("/events/{june}/book"), school).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(form.matches("id=\"f-pupils\"").count(), 1);
    assert!(form.contains("50 left"), "{form}");
    let (s, _, bad) = app
        .form(
            &format!("/events/{june}/book"),
            school,
            &[("pupils", "many")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("aria-invalid=\"true\"") && bad.contains("value=\"many\""));
    assert!(
        bad.contains("50 left"),
        "the error is shown on the form's own page"
    );
    let (s, _, _) = app
        .form(
            &format!("/events/{june}/book"),
            school,
            &[("pupils", "20")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, _, again) = app.page(&format!("/events/{june}/book"), school).await;
    assert!(again.contains("You have booked 20 places"), "{again}");
    assert!(!again.contains("id=\"f-pupils\""), "not offered twice");

    let (s, _, visit) = app
        .page(&format!("/slots/{}/request", slot["id"]), school)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(visit.contains("Request visit") && visit.contains("Monday 9 June 2031"));
    let (s, _, _) = app.page("/events/999999/book", school).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
