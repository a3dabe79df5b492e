//! Property tests: whatever arrives, the parsers answer (a value or a 4xx) and never panic,
//! and an import that fails writes nothing. Case counts are proptest's, set per test.

use std::io::Cursor;

use outreach::domain::import::{import_schools_from, ImportOptions};
use outreach::domain::input::Input;
use outreach::domain::{attendance, bookings};
use proptest::prelude::*;
use serde_json::Value;

/// Any field text: printable and not, long and short, numbers and dates among it.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "-?[0-9]{1,12}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?)?",
        Just(String::new()),
    ]
}

fn input(names: &'static [&'static str]) -> impl Strategy<Value = Input> {
    proptest::collection::vec((proptest::sample::select(names), text()), 0..8)
        .prop_map(Input::from_pairs)
}

/// Any JSON value, nested a little.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn client_error(e: &outreach::error::AppError) -> bool {
    e.status().is_client_error()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_json_body_is_read_or_refused_as_4xx(body in json()) {
        if let Err(e) = Input::from_json(&body) {
            prop_assert!(client_error(&e), "{e:?}");
        }
    }

    #[test]
    fn a_booking_is_parsed_within_its_bounds_or_refused(
        input in input(&["pupils", "staff", "school_id", "year_groups", "access_needs", "notes", "message"])
    ) {
        match bookings::parse(&input) {
            Ok(b) => {
                prop_assert!(b.pupils >= 0 && b.staff >= 0, "{} {}", b.pupils, b.staff);
                prop_assert!(b.pupils + b.staff >= 1);
            }
            Err(e) => prop_assert!(client_error(&e), "{e:?}"),
        }
    }

    #[test]
    fn attendance_rows_are_parsed_or_refused_by_row(
        rows in proptest::collection::vec(input(&["school_id", "group", "pupils", "staff", "other"]), 0..6)
    ) {
        match attendance::parse(&rows) {
            Ok(parsed) => prop_assert!(parsed.len() <= rows.len()),
            Err(e) => prop_assert!(client_error(&e), "{e:?}"),
        }
    }

    #[test]
    fn dates_and_times_are_read_within_the_years_or_refused(raw in text()) {
        let input = Input::from_pairs([("day", raw.clone()), ("at", raw)]);
        let mut v = input.validator();
        let day = v.date_opt("day");
        let at = v.datetime("at", Some(chrono_tz::Europe::London));
        use chrono::Datelike;
        for year in day.map(|d| d.year()).into_iter().chain(at.map(|t| t.year())) {
            prop_assert!(outreach::domain::input::YEARS.contains(&year), "{year}");
        }
        let _ = v.finish();
    }
}

/// A fresh SQLite database, migrated.
fn database() -> (tempfile::TempDir, outreach::db::DbPool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let pool = outreach::db::connect(&outreach::db::DbUrl::parse(&url).unwrap(), 1).unwrap();
    outreach::db::migrate(&mut pool.get().unwrap()).unwrap();
    (dir, pool)
}

fn schools(conn: &mut outreach::db::AnyConnection) -> i64 {
    use diesel::prelude::*;
    outreach::db::schema::schools::table
        .count()
        .get_result(conn)
        .unwrap()
}

/// A register-like file: the real header, then rows of any text in its columns.
fn register() -> impl Strategy<Value = Vec<u8>> {
    let header = "URN,EstablishmentName,EstablishmentStatus (name),PhaseOfEducation (name),Postcode,Town,NumberOfPupils,PercentageFSM,DistrictAdministrative (name)";
    proptest::collection::vec(proptest::collection::vec(text(), 9), 0..12).prop_map(move |rows| {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(header.split(',')).unwrap();
        for r in rows {
            w.write_record(&r).unwrap();
        }
        w.into_inner().unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_import_answers_and_a_refused_one_writes_nothing(
        bytes in prop_oneof![proptest::collection::vec(any::<u8>(), 0..2048), register()]
    ) {
        let (_dir, pool) = database();
        let mut conn = pool.get().unwrap();
        let before = schools(&mut conn);
        let options = ImportOptions { include_closed: false };
        match import_schools_from(&mut conn, None, Cursor::new(bytes), options, &|_, _| {}) {
            Ok(report) => prop_assert_eq!(schools(&mut conn), before + report.inserted as i64),
            Err(e) => {
                prop_assert!(client_error(&e), "{e:?}");
                prop_assert_eq!(schools(&mut conn), before, "nothing half-written");
            }
        }
    }
}
