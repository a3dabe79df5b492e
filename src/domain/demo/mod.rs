//! The demo install: the case study of SPEC §2–§3 exactly (`case_study`), register-like
//! schools of two districts (`register`), and the partnership's current round dated from
//! the day it is loaded (`current`), so that every demo account has something to do; a
//! line on each demo account's first page says what to try (`hints`). `outreach demo
//! --reset` puts a demo install back to its first state, dated from that day.

pub mod case_study;
pub mod current;
mod hints;
pub mod register;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app::now;
use crate::db::schema::{organisations, programmes as programme_rows};
use crate::db::AnyConnection;
use crate::domain::settings;
use crate::domain::types::Role;
use crate::domain::users::{self, User, UserInput};
use crate::domain::{Actor, Rules};
use crate::error::{AppError, AppResult};

pub use case_study::PRIORITIES;
pub use hints::{hint, Hint, HintPart};

/// The password of the demo accounts; printed when the demo loads.
pub const DEMO_PASSWORD: &str = "outreach-demo";

/// The demo accounts: e-mail, name and role.
pub const ACCOUNTS: [(&str, &str, Role); 4] = [
    ("admin@demo.example", "Demo Admin", Role::Admin),
    ("lead@demo.example", "Demo Lead", Role::Lead),
    ("funder@demo.example", "Demo Funder", Role::Funder),
    ("school@demo.example", "Demo School Office", Role::School),
];

/// The case-study school the demo school account belongs to (Burneside Beck School).
const DEMO_SCHOOL: usize = 16;

/// What the demo made that its hints point at, kept with the install (`install_settings`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Marks {
    pub loaded_on: NaiveDate,
    pub ruby_id: i32,
    pub current_id: i32,
    pub brewery_show_id: i32,
    pub awaiting_attendance_id: i32,
    pub demo_school_booking_id: i32,
}

/// Whether the database holds nothing anyone made: no users, schools, venues,
/// organisations or programmes. The demo loads only into such a database, so a demo
/// install never holds anything made before it (and a reset loses only demo work).
pub fn is_empty(conn: &mut AnyConnection) -> AppResult<bool> {
    let orgs: i64 = organisations::table.count().get_result(conn)?;
    let progs: i64 = programme_rows::table.count().get_result(conn)?;
    let users: i64 = crate::db::schema::users::table.count().get_result(conn)?;
    let schools: i64 = crate::db::schema::schools::table.count().get_result(conn)?;
    let venues: i64 = crate::db::schema::venues::table.count().get_result(conn)?;
    Ok(orgs + progs + users + schools + venues == 0)
}

/// Whether the demo was loaded into this database.
pub fn is_demo(conn: &mut AnyConnection) -> AppResult<bool> {
    Ok(settings::get(conn, settings::DEMO)?.is_some())
}

/// The demo's marks, if this is a demo install (none if they cannot be read).
pub fn marks(conn: &mut AnyConnection) -> AppResult<Option<Marks>> {
    Ok(settings::get(conn, settings::DEMO)?.and_then(|v| serde_json::from_str(&v).ok()))
}

pub struct DemoSummary {
    pub ruby_id: i32,
    pub county_lines_id: i32,
    pub current_id: i32,
    pub schools: usize,
    pub accounts: Vec<(String, Role)>,
    /// The address (path) of the demo school's live feedback form.
    pub feedback_path: String,
}

/// Loads the demo into an empty database, in one transaction, dated from today in the
/// install's zone.
pub fn load(conn: &mut AnyConnection) -> AppResult<DemoSummary> {
    if !is_empty(conn)? {
        return Err(AppError::Conflict("the database already holds users, schools or programmes; the demo loads only into an empty database (give it a new SQLite file or PostgreSQL database)".into()));
    }
    crate::db::write(conn, load_here)
}

/// Puts a demo install back to its first state, dated from today: everything in the
/// database is deleted and the demo loaded again, in one transaction. Refused on a
/// database that is not a demo install (its data would be lost).
pub fn reset(conn: &mut AnyConnection) -> AppResult<DemoSummary> {
    if !is_demo(conn)? && !is_empty(conn)? {
        return Err(AppError::Conflict(
            "this database is not a demo install; --reset deletes everything in it, so it runs only on a database `outreach demo` (or `serve --demo`) loaded".into(),
        ));
    }
    crate::db::write(conn, |conn| {
        wipe(conn)?;
        load_here(conn)
    })
}

fn load_here(conn: &mut AnyConnection) -> AppResult<DemoSummary> {
    let zone = crate::domain::when::zone();
    let today = now().and_utc().with_timezone(&zone).date_naive();
    let rules = Rules {
        time_zone: zone,
        cancel_cutoff: chrono::Duration::days(2),
        reminder_days: 3,
        starting_soon: chrono::Duration::minutes(30),
    };
    let mut accounts = Vec::new();
    let mut account = |conn: &mut AnyConnection,
                       (email, name, role): (&str, &str, Role),
                       school_id: Option<i32>,
                       organisation_id: Option<i32>,
                       by: Option<&Actor>|
     -> AppResult<User> {
        let u = users::create(
            conn,
            by,
            UserInput {
                email: email.into(),
                name: name.into(),
                role,
                school_id,
                organisation_id,
                password: Some(DEMO_PASSWORD.into()),
            },
        )?;
        accounts.push((u.email.clone(), role));
        Ok(u)
    };
    let admin = account(conn, ACCOUNTS[0], None, None, None)?.actor();
    let case = case_study::load(conn, &admin)?;
    let generated = register::load(conn, &admin)?;
    let lead = account(conn, ACCOUNTS[1], None, None, Some(&admin))?.actor();
    account(
        conn,
        ACCOUNTS[2],
        None,
        Some(case.organisation_id),
        Some(&admin),
    )?;
    let school = account(
        conn,
        ACCOUNTS[3],
        Some(case.school_ids[DEMO_SCHOOL]),
        None,
        Some(&admin),
    )?
    .actor();
    let current = current::load(conn, &lead, &school, &rules, &case, today)?;
    let marks = Marks {
        loaded_on: today,
        ruby_id: case.ruby_id,
        current_id: current.programme_id,
        brewery_show_id: current.brewery_show_id,
        awaiting_attendance_id: current.awaiting_attendance_id,
        demo_school_booking_id: current.demo_school_booking_id,
    };
    settings::set(
        conn,
        settings::DEMO,
        &serde_json::to_string(&marks).map_err(AppError::internal)?,
    )?;
    Ok(DemoSummary {
        ruby_id: case.ruby_id,
        county_lines_id: case.county_lines_id,
        current_id: current.programme_id,
        schools: case.school_ids.len() + generated.len(),
        accounts,
        feedback_path: format!("/feedback/{}", current.feedback_token),
    })
}

#[derive(QueryableByName)]
struct TableName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Deletes every row of every table but the migrations' own, and starts ids again from 1
/// (inside the caller's transaction).
fn wipe(conn: &mut AnyConnection) -> AppResult<()> {
    let postgres = matches!(conn, AnyConnection::Postgresql(_));
    let list = if postgres {
        "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() \
         AND tablename <> '__diesel_schema_migrations'"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite%' AND name <> '__diesel_schema_migrations'"
    };
    let tables: Vec<String> = diesel::sql_query(list)
        .load::<TableName>(conn)?
        .into_iter()
        .map(|t| t.name)
        .collect();
    if tables.is_empty() {
        return Ok(());
    }
    let quoted: Vec<String> = tables.iter().map(|t| format!("\"{t}\"")).collect();
    if postgres {
        diesel::sql_query(format!(
            "TRUNCATE {} RESTART IDENTITY CASCADE",
            quoted.join(", ")
        ))
        .execute(conn)?;
    } else {
        // Foreign keys are checked when the transaction commits, so the order is free.
        diesel::sql_query("PRAGMA defer_foreign_keys = ON").execute(conn)?;
        for t in &quoted {
            diesel::sql_query(format!("DELETE FROM {t}")).execute(conn)?;
        }
        let sequences: i64 = diesel::sql_query(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'sqlite_sequence'",
        )
        .get_result::<Count>(conn)?
        .n;
        if sequences > 0 {
            diesel::sql_query("DELETE FROM sqlite_sequence").execute(conn)?;
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Used by the CLI to say who can log in.
pub fn describe(accounts: &[(String, Role)]) -> String {
    accounts
        .iter()
        .map(|(e, r)| format!("{e} ({r})"))
        .collect::<Vec<_>>()
        .join(", ")
}
