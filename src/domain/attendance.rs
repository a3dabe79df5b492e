//! Attendance: who came to an event, one row per school or named group, entered by a lead
//! after the event. Every change is audited.

use std::collections::HashSet;

use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{attendance, events, schools};
use crate::db::AnyConnection;
use crate::domain::input::{Input, Json};
use crate::domain::types::EventStatus;
use crate::domain::{audit, events as event_domain, Actor};
use crate::error::{AppError, AppResult, FieldErrors};

pub const MAX_PEOPLE: i64 = 100_000;

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct AttendanceRow {
    pub school_id: Option<i32>,
    pub school_name: Option<String>,
    pub group: Option<String>,
    pub pupils: i32,
    pub staff: i32,
    pub other: i32,
}

impl AttendanceRow {
    pub fn people(&self) -> i64 {
        i64::from(self.pupils) + i64::from(self.staff) + i64::from(self.other)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RowInput {
    pub school_id: Option<i32>,
    pub group: Option<String>,
    pub pupils: i32,
    pub staff: i32,
    pub other: i32,
}

/// Checks every row; errors are named `rows[i].field`. Blank rows (no school, no group, no
/// numbers) are dropped, so a form grid can carry spare lines.
pub fn parse(rows: &[Input]) -> AppResult<Vec<RowInput>> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    let mut seen_schools = HashSet::new();
    let mut seen_groups = HashSet::new();
    for (i, input) in rows.iter().enumerate() {
        let blank = ["school_id", "group", "pupils", "staff", "other"]
            .iter()
            .all(|k| {
                input
                    .get(k)
                    .is_none_or(|v| v.trim().is_empty() || v.trim() == "0")
            });
        let mut v = input.validator();
        if blank {
            // Nothing to save, but a value of the wrong type, or a field that is not one
            // of a row's, is still refused.
            v.of_type("group", Json::Text);
            for k in ["school_id", "pupils", "staff", "other"] {
                v.of_type(k, Json::Number);
            }
            if let Err(AppError::Invalid { fields, .. }) = v.finish() {
                for (k, why) in fields {
                    errors.insert(format!("rows[{i}].{k}"), why);
                }
            }
            continue;
        }
        let school_id = v.id_opt("school_id");
        let group = Some(v.text_or_empty("group", 100)).filter(|g| !g.is_empty());
        let pupils = v.int_opt("pupils", 0, MAX_PEOPLE).unwrap_or(0);
        let staff = v.int_opt("staff", 0, MAX_PEOPLE).unwrap_or(0);
        let other = v.int_opt("other", 0, MAX_PEOPLE).unwrap_or(0);
        match (&school_id, &group) {
            (None, None) if !v.has_error("school_id") => v.error(
                "school_id",
                "choose a school, or name a group such as \"public\"",
            ),
            (Some(_), Some(_)) => v.error("group", "a row is a school or a named group, not both"),
            (Some(id), None) if !seen_schools.insert(*id) => {
                v.error("school_id", "this school already has a row")
            }
            (None, Some(g)) if !seen_groups.insert(g.to_lowercase()) => {
                v.error("group", "this group already has a row")
            }
            _ => {}
        }
        if let Err(AppError::Invalid { fields, .. }) = v.finish() {
            for (k, why) in fields {
                errors.insert(format!("rows[{i}].{k}"), why);
            }
            continue;
        }
        out.push(RowInput {
            school_id,
            group,
            pupils,
            staff,
            other,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::invalid(errors))
    }
}

/// Whether any attendance is recorded for the event.
pub fn any_recorded(conn: &mut AnyConnection, event_id: i32) -> AppResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        attendance::table.filter(attendance::event_id.eq(event_id)),
    ))
    .get_result(conn)?)
}

pub fn for_event(conn: &mut AnyConnection, event_id: i32) -> AppResult<Vec<AttendanceRow>> {
    type Cols = (Option<i32>, Option<String>, Option<String>, i32, i32, i32);
    let rows: Vec<Cols> = attendance::table
        .left_join(schools::table)
        .filter(attendance::event_id.eq(event_id))
        .order((
            attendance::group_name.asc(),
            schools::name.asc(),
            attendance::id.asc(),
        ))
        .select((
            attendance::school_id,
            schools::name.nullable(),
            attendance::group_name,
            attendance::pupils,
            attendance::staff,
            attendance::other_adults,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(school_id, school_name, group, pupils, staff, other)| AttendanceRow {
                school_id,
                school_name,
                group,
                pupils,
                staff,
                other,
            },
        )
        .collect())
}

/// Replaces the event's attendance with `rows`, in one transaction, audited old → new.
pub fn replace(
    conn: &mut AnyConnection,
    actor: &Actor,
    event_id: i32,
    rows: Vec<RowInput>,
) -> AppResult<Vec<AttendanceRow>> {
    crate::db::write(conn, |conn| {
        crate::domain::schedule::occupancy::hold_event(conn, event_id)?;
        let event = event_domain::get(conn, event_id)?;
        if event.status == EventStatus::Cancelled {
            return Err(AppError::field(
                "event",
                "attendance cannot be entered for a cancelled event",
            ));
        }
        if event.starts_at.naive_utc() > crate::app::now() {
            return Err(AppError::field(
                "event",
                "attendance can be entered once the event has started",
            ));
        }
        let ids: Vec<i32> = rows.iter().filter_map(|r| r.school_id).collect();
        let known: HashSet<i32> = schools::table
            .filter(crate::db::among(&*conn, schools::id, &ids))
            .select(schools::id)
            .load::<i32>(conn)?
            .into_iter()
            .collect();
        let mut errors = FieldErrors::new();
        for (i, r) in rows.iter().enumerate() {
            if let Some(id) = r.school_id {
                if !known.contains(&id) {
                    errors.insert(
                        format!("rows[{i}].school_id"),
                        "does not match an existing school".into(),
                    );
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::invalid(errors));
        }
        let before = for_event(conn, event_id)?;
        diesel::delete(attendance::table.filter(attendance::event_id.eq(event_id)))
            .execute(conn)?;
        let at = now();
        for r in &rows {
            diesel::insert_into(attendance::table)
                .values((
                    attendance::event_id.eq(event_id),
                    attendance::school_id.eq(r.school_id),
                    attendance::group_name.eq(&r.group),
                    attendance::pupils.eq(r.pupils),
                    attendance::staff.eq(r.staff),
                    attendance::other_adults.eq(r.other),
                    attendance::created_at.eq(at),
                    attendance::updated_at.eq(at),
                ))
                .execute(conn)?;
        }
        diesel::update(events::table.find(event_id))
            .set(events::updated_at.eq(at))
            .execute(conn)?;
        let after = for_event(conn, event_id)?;
        if before != after {
            audit::record(
                conn,
                Some(actor.user_id),
                "attendance",
                event_id,
                "replace",
                Some(&serde_json::to_value(&before).unwrap_or_default()),
                Some(&serde_json::to_value(&after).unwrap_or_default()),
            )?;
        }
        Ok(after)
    })
}

/// People recorded at each of the given events.
pub fn people_by_event(
    conn: &mut AnyConnection,
    event_ids: &[i32],
) -> AppResult<std::collections::HashMap<i32, i64>> {
    let rows: Vec<(i32, i32, i32, i32)> = attendance::table
        .filter(crate::db::among(&*conn, attendance::event_id, event_ids))
        .select((
            attendance::event_id,
            attendance::pupils,
            attendance::staff,
            attendance::other_adults,
        ))
        .load(conn)?;
    let mut out = std::collections::HashMap::new();
    for (e, p, s, o) in rows {
        *out.entry(e).or_insert(0) += i64::from(p) + i64::from(s) + i64::from(o);
    }
    Ok(out)
}
