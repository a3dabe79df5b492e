//! The rows behind the exports, read in batches: counted events with their figures,
//! schools reached, attendance, and published feedback.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{attendance, events, feedback, schools, venues};
use crate::db::AnyConnection;
use crate::domain::input::TextEnum;
use crate::domain::types::{DeliveryMode, EventKind, EventStatus, Moderation, RespondentRole};
use crate::error::AppResult;
use crate::impact::{self, AttendanceFact, Counts, EventFact, EventFigures};

const BATCH: i64 = 5_000;

#[derive(diesel::QueryableByName)]
struct EventSums {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    event_id: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pupils: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    staff: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    other: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    schools_with_people: i64,
}

pub struct EventRow {
    pub id: i32,
    pub starts_at: NaiveDateTime,
    pub kind: EventKind,
    pub delivery: DeliveryMode,
    pub place: String,
    pub figures: EventFigures,
}

type EventCols = (
    i32,
    String,
    String,
    NaiveDateTime,
    Option<i32>,
    Option<String>,
    Option<String>,
);

/// Every counted event of the programmes, in date order, with its own figures.
pub fn counted_events(
    conn: &mut AnyConnection,
    programme_ids: &[i32],
    now: NaiveDateTime,
    mut each: impl FnMut(EventRow) -> AppResult<()>,
) -> AppResult<()> {
    let mut after: Option<(NaiveDateTime, i32)> = None;
    loop {
        let mut q = events::table
            .left_join(schools::table)
            .left_join(venues::table)
            .filter(crate::db::among(
                &*conn,
                events::programme_id,
                programme_ids,
            ))
            .filter(events::status.eq(EventStatus::Completed.as_str()))
            .filter(events::starts_at.le(now))
            .into_boxed();
        if let Some((t, id)) = after {
            q = q.filter(
                events::starts_at
                    .gt(t)
                    .or(events::starts_at.eq(t).and(events::id.gt(id))),
            );
        }
        let batch: Vec<EventCols> = q
            .order((events::starts_at.asc(), events::id.asc()))
            .limit(BATCH)
            .select((
                events::id,
                events::kind,
                events::status,
                events::starts_at,
                events::school_id,
                schools::name.nullable(),
                venues::name.nullable(),
            ))
            .load(conn)?;
        let Some(last) = batch.last() else { break };
        after = Some((last.3, last.0));
        // Per event, summed by the database (a tenth of the rows to read): the counts,
        // and the schools (not groups) with anyone there. The ids are integers the
        // database gave, written into the statement.
        let ids = batch
            .iter()
            .map(|e| e.0.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let sums: Vec<EventSums> = diesel::sql_query(format!(
            "SELECT a.event_id AS event_id, SUM(a.pupils) AS pupils, SUM(a.staff) AS staff, \
             SUM(a.other_adults) AS other, \
             SUM(CASE WHEN a.school_id IS NOT NULL AND a.pupils + a.staff + a.other_adults > 0 \
             THEN 1 ELSE 0 END) AS schools_with_people \
             FROM attendance a WHERE a.event_id IN ({ids}) GROUP BY a.event_id"
        ))
        .load(conn)?;
        let mut by_event: std::collections::HashMap<i32, (AttendanceFact, i64)> = sums
            .into_iter()
            .map(|g| {
                let fact = AttendanceFact {
                    school_id: None,
                    pupils: g.pupils,
                    staff: g.staff,
                    other: g.other,
                };
                (g.event_id, (fact, g.schools_with_people))
            })
            .collect();
        for (id, kind, status, starts_at, school_id, school_name, venue_name) in batch {
            let kind = EventKind::from_db(&kind)?;
            let fact = EventFact {
                id,
                kind,
                status: EventStatus::from_db(&status)?,
                starts_at,
                at_school: school_id.is_some(),
                venue_name: venue_name.clone(),
            };
            let (sums, schools_with_people) = by_event.remove(&id).unwrap_or_default();
            if let Some(figures) = impact::event_figures(&fact, now, schools_with_people, sums) {
                each(EventRow {
                    id,
                    starts_at,
                    kind,
                    delivery: fact.mode(),
                    place: school_name
                        .or(venue_name)
                        .unwrap_or_else(|| "Live stream".into()),
                    figures,
                })?;
            }
        }
    }
    Ok(())
}

pub struct SchoolRow {
    pub name: String,
    pub urn: Option<i32>,
    pub district: String,
    pub reach: impact::SchoolReach,
}

/// The schools reached, by name, with their audience in each delivery mode.
pub fn schools_reached(conn: &mut AnyConnection, counts: &Counts) -> AppResult<Vec<SchoolRow>> {
    let mut out = Vec::with_capacity(counts.schools.len());
    for chunk in counts.schools.chunks(5_000) {
        let ids: Vec<i32> = chunk.iter().map(|s| s.school_id).collect();
        let info: std::collections::HashMap<i32, (String, Option<i32>, String)> = schools::table
            .filter(crate::db::among(&*conn, schools::id, &ids))
            .select((schools::id, schools::name, schools::urn, schools::district))
            .load::<(i32, String, Option<i32>, String)>(conn)?
            .into_iter()
            .map(|(id, n, u, d)| (id, (n, u, d)))
            .collect();
        for reach in chunk {
            let (name, urn, district) = info.get(&reach.school_id).cloned().unwrap_or_default();
            out.push(SchoolRow {
                name,
                urn,
                district,
                reach: reach.clone(),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.urn.cmp(&b.urn)));
    Ok(out)
}

pub struct QuoteRow {
    pub programme_id: i32,
    pub created_at: NaiveDateTime,
    pub role: RespondentRole,
    pub school: Option<String>,
    pub quote: String,
    pub rating: Option<i32>,
    pub featured: bool,
}

/// Published feedback only: consent given and approved. Nothing else ever leaves.
pub fn published_quotes(
    conn: &mut AnyConnection,
    programme_ids: &[i32],
) -> AppResult<Vec<QuoteRow>> {
    type QuoteCols = (
        i32,
        NaiveDateTime,
        String,
        Option<String>,
        String,
        Option<i32>,
        bool,
    );
    let rows: Vec<QuoteCols> = feedback::table
        .left_join(schools::table)
        .filter(crate::db::among(
            &*conn,
            feedback::programme_id,
            programme_ids,
        ))
        .filter(feedback::consent.eq(true))
        .filter(feedback::moderation.eq(Moderation::Approved.as_str()))
        .filter(feedback::quote.ne(""))
        .order((
            feedback::featured.desc(),
            feedback::created_at.asc(),
            feedback::id.asc(),
        ))
        .select((
            feedback::programme_id,
            feedback::created_at,
            feedback::role,
            schools::name.nullable(),
            feedback::quote,
            feedback::rating,
            feedback::featured,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(programme_id, created_at, role, school, quote, rating, featured)| {
                Ok(QuoteRow {
                    programme_id,
                    created_at,
                    role: RespondentRole::from_db(&role)?,
                    school,
                    quote,
                    rating,
                    featured,
                })
            },
        )
        .collect()
}

pub struct AttendanceLine {
    pub event_id: i32,
    pub starts_at: NaiveDateTime,
    pub kind: EventKind,
    pub status: EventStatus,
    pub school: Option<String>,
    pub urn: Option<i32>,
    pub group: Option<String>,
    pub pupils: i32,
    pub staff: i32,
    pub other: i32,
}

type AttendanceCols = (
    i32,
    i32,
    NaiveDateTime,
    String,
    String,
    Option<String>,
    Option<i32>,
    Option<String>,
    i32,
    i32,
    i32,
);

/// Every attendance row of the programmes' events (any status), in batches.
pub fn attendance(
    conn: &mut AnyConnection,
    programme_ids: &[i32],
    mut each: impl FnMut(AttendanceLine) -> AppResult<()>,
) -> AppResult<()> {
    let mut last = 0;
    loop {
        let batch: Vec<AttendanceCols> = attendance::table
            .inner_join(events::table)
            .left_join(schools::table)
            .filter(crate::db::among(
                &*conn,
                events::programme_id,
                programme_ids,
            ))
            .filter(attendance::id.gt(last))
            .order(attendance::id.asc())
            .limit(BATCH * 4)
            .select((
                attendance::id,
                events::id,
                events::starts_at,
                events::kind,
                events::status,
                schools::name.nullable(),
                schools::urn.nullable(),
                attendance::group_name,
                attendance::pupils,
                attendance::staff,
                attendance::other_adults,
            ))
            .load(conn)?;
        let Some(end) = batch.last().map(|r| r.0) else {
            break;
        };
        last = end;
        for (_, event_id, starts_at, kind, status, school, urn, group, pupils, staff, other) in
            batch
        {
            each(AttendanceLine {
                event_id,
                starts_at,
                kind: EventKind::from_db(&kind)?,
                status: EventStatus::from_db(&status)?,
                school,
                urn,
                group,
                pupils,
                staff,
                other,
            })?;
        }
    }
    Ok(())
}
