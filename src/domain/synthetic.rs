//! A large generated data set for benchmarks (`outreach demo --synthetic --events N`): one
//! programme with N completed events and their attendance, written in multi-row inserts.

use diesel::prelude::*;

use crate::app::now;
use crate::db::AnyConnection;
use crate::domain::organisations::{self as orgs, OrganisationInput};
use crate::domain::programmes::{self, ProgrammeInput};
use crate::domain::types::{OrganisationKind, ProgrammeStatus};
use crate::domain::users::{self, UserInput};
use crate::error::AppResult;

pub struct Synthetic {
    pub programme_id: i32,
    pub events: i64,
    pub attendance_rows: i64,
}

const CHUNK: usize = 500;

fn insert_rows(conn: &mut AnyConnection, head: &str, rows: &[String]) -> AppResult<()> {
    for chunk in rows.chunks(CHUNK) {
        diesel::sql_query(format!("{head} VALUES {}", chunk.join(","))).execute(conn)?;
    }
    Ok(())
}

/// Generates `events` completed events spread over the delivery modes, each with
/// `rows_per_event` attendance rows (distinct schools), in one transaction.
pub fn generate(
    conn: &mut AnyConnection,
    events: i64,
    rows_per_event: i64,
    progress: &dyn Fn(i64, i64),
) -> AppResult<Synthetic> {
    let schools_n = (rows_per_event * 4).clamp(200, 5_000);
    crate::db::write(conn, |conn| {
        let actor = match users::find_by_email(conn, "synthetic@demo.example")? {
            Some(u) => u,
            None => users::create(
                conn,
                None,
                UserInput {
                    email: "synthetic@demo.example".into(),
                    name: "Synthetic data".into(),
                    role: crate::domain::types::Role::Admin,
                    school_id: None,
                    organisation_id: None,
                    password: Some(crate::domain::tokens::random_secret()?),
                },
            )?,
        }
        .actor();
        let org = orgs::create(
            conn,
            &actor,
            OrganisationInput {
                name: format!("Synthetic Trust {}", now().format("%Y%m%d%H%M%S")),
                kind: OrganisationKind::Funder,
            },
        )?;
        let programme = programmes::create(
            conn,
            &actor,
            ProgrammeInput {
                title: format!("Synthetic {events}"),
                year: 2025,
                theme: "Generated for benchmarks".into(),
                organisation_id: Some(org.id),
                priority_id: None,
                starts_on: None,
                ends_on: None,
                target_schools: Some(schools_n as i32),
                target_audience: None,
                target_events: Some(events as i32),
                status: ProgrammeStatus::Completed,
            },
        )?;
        let stamp = now().format("%Y-%m-%d %H:%M:%S").to_string();
        let tag = now().format("%H%M%S%f").to_string();
        let first_school: i64 = {
            let rows: Vec<String> = (0..schools_n)
                .map(|i| {
                    let district = ["South Lakeland", "Barrow-in-Furness", "Copeland", "Eden"][(i % 4) as usize];
                    format!("('Synthetic School {tag}-{i}', '{district}', 'secondary', 'LA9 {i}', '{stamp}', '{stamp}')")
                })
                .collect();
            insert_rows(
                conn,
                "INSERT INTO schools (name, district, phase, postcode, created_at, updated_at)",
                &rows,
            )?;
            first_id(conn, "schools", &format!("Synthetic School {tag}-0"))?
        };
        let venue: i64 = {
            insert_rows(
                conn,
                "INSERT INTO venues (name, kind, created_at, updated_at)",
                &[format!(
                    "('Synthetic Hall {tag}', 'community', '{stamp}', '{stamp}')"
                )],
            )?;
            first_id(conn, "venues", &format!("Synthetic Hall {tag}"))?
        };
        let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 6)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .unwrap_or_default();
        let mut done = 0;
        let batch = 2_000;
        let mut attendance_rows = 0;
        while done < events {
            let n = batch.min(events - done);
            let mut event_rows = Vec::with_capacity(n as usize);
            for i in done..done + n {
                let at = start + chrono::Duration::minutes(i * 5);
                let end = at + chrono::Duration::minutes(60);
                let (kind, school, venue_id) = match i % 10 {
                    0..=5 => ("performance", Some(first_school + (i % schools_n)), None),
                    6 | 7 => ("workshop", Some(first_school + (i % schools_n)), None),
                    8 => ("performance", None, Some(venue)),
                    _ => ("live_stream", None, None),
                };
                let opt =
                    |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_else(|| "NULL".into());
                event_rows.push(format!(
                    "({}, '{kind}', {}, {}, '{}', '{}', 'completed', '{stamp}', '{stamp}')",
                    programme.id,
                    opt(school),
                    opt(venue_id),
                    at.format("%Y-%m-%d %H:%M:%S"),
                    end.format("%Y-%m-%d %H:%M:%S")
                ));
            }
            insert_rows(conn, "INSERT INTO events (programme_id, kind, school_id, venue_id, starts_at, ends_at, status, created_at, updated_at)", &event_rows)?;
            let ids: Vec<(i32, Option<i32>)> = {
                use crate::db::schema::events as e;
                e::table
                    .filter(e::programme_id.eq(programme.id))
                    .order(e::id.desc())
                    .limit(n)
                    .select((e::id, e::school_id))
                    .load(conn)?
            };
            let mut rows = Vec::new();
            for (k, (event_id, school)) in ids.into_iter().enumerate() {
                let count = if school.is_some() { 1 } else { rows_per_event };
                for r in 0..count {
                    let school_id = match school {
                        Some(s) => i64::from(s),
                        None => first_school + ((k as i64 * 7 + r) % schools_n),
                    };
                    let pupils = 20 + (k as i64 + r) % 150;
                    rows.push(format!(
                        "({event_id}, {school_id}, {pupils}, {}, 0, '{stamp}', '{stamp}')",
                        1 + pupils / 12
                    ));
                }
            }
            attendance_rows += rows.len() as i64;
            insert_rows(conn, "INSERT INTO attendance (event_id, school_id, pupils, staff, other_adults, created_at, updated_at)", &rows)?;
            done += n;
            progress(done, events);
        }
        Ok(Synthetic {
            programme_id: programme.id,
            events,
            attendance_rows,
        })
    })
}

fn first_id(conn: &mut AnyConnection, table: &str, name: &str) -> AppResult<i64> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        id: i32,
    }
    let row: Id = diesel::sql_query(format!("SELECT id FROM {table} WHERE name = $1"))
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result(conn)?;
    Ok(i64::from(row.id))
}
