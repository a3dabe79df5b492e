//! Feeds the records of a group of programmes into the impact rules, streaming events and
//! attendance in batches so memory does not grow with attendance rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{attendance, events, programmes, venues};
use crate::db::AnyConnection;
use crate::domain::input::TextEnum;
use crate::domain::programmes::{self as programme_domain, Programme};
use crate::domain::types::{EventKind, EventStatus};
use crate::domain::Actor;
use crate::error::AppResult;
use crate::impact::{
    self, narrative, AttendanceFact, ByDelivery, Counts, EventFact, Figures, Tally, TargetProgress,
    Workshops,
};

const BATCH: i64 = 10_000;

type EventCols = (
    i32,
    String,
    String,
    NaiveDateTime,
    Option<i32>,
    Option<String>,
);

fn fact((id, kind, status, starts_at, school_id, venue_name): EventCols) -> EventFact {
    EventFact {
        id,
        kind: EventKind::parse(&kind).unwrap_or(EventKind::Performance),
        status: EventStatus::parse(&status).unwrap_or(EventStatus::Draft),
        starts_at,
        at_school: school_id.is_some(),
        venue_name,
    }
}

/// Counts the events of the given programmes as at `now`.
pub fn counts(
    conn: &mut AnyConnection,
    programme_ids: &[i32],
    now: NaiveDateTime,
) -> AppResult<Counts> {
    let mut tally = Tally::new(now);
    // Only completed events can count; the rules check again.
    let completed = EventStatus::Completed.as_str();
    let mut last = 0;
    loop {
        let batch: Vec<EventCols> = events::table
            .left_join(venues::table)
            .filter(events::programme_id.eq_any(programme_ids))
            .filter(events::status.eq(completed))
            .filter(events::id.gt(last))
            .order(events::id.asc())
            .limit(BATCH)
            .select((
                events::id,
                events::kind,
                events::status,
                events::starts_at,
                events::school_id,
                venues::name.nullable(),
            ))
            .load(conn)?;
        let Some(end) = batch.last().map(|e| e.0) else {
            break;
        };
        last = end;
        for e in batch {
            tally.add_event(&fact(e));
        }
    }
    let mut last = 0;
    loop {
        let batch: Vec<(i32, EventCols, Option<i32>, i32, i32, i32)> = attendance::table
            .inner_join(events::table.left_join(venues::table))
            .filter(events::programme_id.eq_any(programme_ids))
            .filter(events::status.eq(completed))
            .filter(attendance::id.gt(last))
            .order(attendance::id.asc())
            .limit(BATCH)
            .select((
                attendance::id,
                (
                    events::id,
                    events::kind,
                    events::status,
                    events::starts_at,
                    events::school_id,
                    venues::name.nullable(),
                ),
                attendance::school_id,
                attendance::pupils,
                attendance::staff,
                attendance::other_adults,
            ))
            .load(conn)?;
        let Some(end) = batch.last().map(|r| r.0) else {
            break;
        };
        last = end;
        for (_, event, school_id, pupils, staff, other) in batch {
            let row = AttendanceFact {
                school_id,
                pupils: pupils.into(),
                staff: staff.into(),
                other: other.into(),
            };
            tally.add_attendance(&fact(event), &row);
        }
    }
    Ok(tally.finish())
}

/// The impact answer of SPEC §5 for one programme.
#[derive(Debug, Clone, Serialize)]
pub struct ProgrammeImpact {
    pub programme: Programme,
    pub by_delivery: ByDelivery,
    pub total: Figures,
    pub workshops: Workshops,
    pub targets: Vec<TargetProgress>,
    pub narrative: String,
    #[serde(skip)]
    pub counts: Counts,
}

pub fn programme_impact(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    now: NaiveDateTime,
) -> AppResult<ProgrammeImpact> {
    let programme = programme_domain::get(conn, actor, id)?;
    let counts = counts(conn, &[id], now)?;
    let targets = impact::progress(
        &counts,
        programme.target_schools.map(i64::from),
        programme.target_audience.map(i64::from),
        programme.target_events.map(i64::from),
    );
    Ok(ProgrammeImpact {
        narrative: narrative::write(&programme.title, Some(programme.year), &counts),
        by_delivery: counts.by_delivery.clone(),
        total: counts.total,
        workshops: counts.workshops,
        targets,
        programme,
        counts,
    })
}

/// The figures of a group of programmes (a year, or an organisation), with each programme's
/// own line.
#[derive(Debug, Clone, Serialize)]
pub struct GroupImpact {
    pub title: String,
    pub programmes: Vec<ProgrammeLine>,
    pub by_delivery: ByDelivery,
    pub total: Figures,
    pub workshops: Workshops,
    pub narrative: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgrammeLine {
    pub id: i32,
    pub title: String,
    pub year: i32,
    pub total: Figures,
    pub workshops: Workshops,
}

/// Programmes the actor may see, filtered by year and/or organisation.
pub fn programme_ids(
    conn: &mut AnyConnection,
    actor: &Actor,
    year: Option<i32>,
    organisation_id: Option<i32>,
) -> AppResult<Vec<(i32, String, i32)>> {
    let mut q = programmes::table
        .filter(programmes::archived.eq(false))
        .into_boxed();
    if let Some(y) = year {
        q = q.filter(programmes::year.eq(y));
    }
    if let Some(o) = organisation_id {
        q = q.filter(programmes::organisation_id.eq(o));
    }
    if actor.role == crate::domain::types::Role::Funder {
        q = q.filter(programmes::organisation_id.eq(actor.organisation_id.unwrap_or(-1)));
    }
    Ok(q.order((programmes::year.asc(), programmes::title.asc()))
        .select((programmes::id, programmes::title, programmes::year))
        .load(conn)?)
}

pub fn group_impact(
    conn: &mut AnyConnection,
    actor: &Actor,
    title: String,
    year: Option<i32>,
    organisation_id: Option<i32>,
    now: NaiveDateTime,
) -> AppResult<GroupImpact> {
    let list = programme_ids(conn, actor, year, organisation_id)?;
    let mut lines = Vec::new();
    for (id, t, y) in &list {
        let c = counts(conn, &[*id], now)?;
        lines.push(ProgrammeLine {
            id: *id,
            title: t.clone(),
            year: *y,
            total: c.total,
            workshops: c.workshops,
        });
    }
    let ids: Vec<i32> = list.iter().map(|p| p.0).collect();
    let all = counts(conn, &ids, now)?;
    Ok(GroupImpact {
        narrative: narrative::write_group(&title, None, &all),
        title,
        programmes: lines,
        by_delivery: all.by_delivery.clone(),
        total: all.total,
        workshops: all.workshops,
    })
}

/// Schools reached, counted by district (largest first).
pub fn districts(conn: &mut AnyConnection, counts: &Counts) -> AppResult<Vec<(String, i64)>> {
    use crate::db::schema::schools;
    let mut by: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    let ids: Vec<i32> = counts.schools.iter().map(|s| s.school_id).collect();
    for chunk in ids.chunks(5_000) {
        let names: Vec<String> = schools::table
            .filter(schools::id.eq_any(chunk))
            .select(schools::district)
            .load(conn)?;
        for d in names {
            let d = if d.trim().is_empty() {
                "District not recorded".to_string()
            } else {
                d
            };
            *by.entry(d).or_insert(0) += 1;
        }
    }
    let mut out: Vec<(String, i64)> = by.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(out)
}

/// Each year's totals for the programmes the actor may see (of one organisation if given).
pub fn by_year(
    conn: &mut AnyConnection,
    actor: &Actor,
    organisation_id: Option<i32>,
    now: NaiveDateTime,
) -> AppResult<Vec<(i32, Figures, Workshops)>> {
    let list = programme_ids(conn, actor, None, organisation_id)?;
    let mut years: Vec<i32> = list.iter().map(|p| p.2).collect();
    years.dedup();
    let mut out = Vec::new();
    for y in years {
        let ids: Vec<i32> = list.iter().filter(|p| p.2 == y).map(|p| p.0).collect();
        let c = counts(conn, &ids, now)?;
        out.push((y, c.total, c.workshops));
    }
    Ok(out)
}
