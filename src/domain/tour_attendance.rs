//! A tour's attendance at once: lines of (event, school by URN or a named group, pupils,
//! staff, other adults), from a CSV file or the programme's attendance page. Each line sets
//! that row of that event's attendance (other rows stay). Every line is checked first;
//! any refused line means nothing is written; otherwise all is written in one
//! transaction, audited per event as any attendance change.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{bookings, events, schools, tour_slots};
use crate::db::AnyConnection;
use crate::domain::attendance::{self, RowInput, MAX_PEOPLE};
use crate::domain::input::TextEnum;
use crate::domain::types::{BookingStatus, EventStatus};
use crate::domain::{local_time, Actor};
use crate::error::{AppError, AppResult, FieldErrors};

/// One line to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Its line in the file (the header is line 1).
    pub line: usize,
    pub event_id: i32,
    pub school_id: Option<i32>,
    pub group: Option<String>,
    pub pupils: i32,
    pub staff: i32,
    pub other: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub pupils: i32,
    pub staff: i32,
    pub other: i32,
}

/// What a line changes: the row before (none: a new row) and after.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    pub line: usize,
    pub event_id: i32,
    pub school_id: Option<i32>,
    /// The school's name, or the group's.
    pub who: String,
    pub before: Option<Counts>,
    pub after: Counts,
}

/// A refused line and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineError {
    pub line: usize,
    pub reason: String,
}

fn refused(line: usize, reason: impl Into<String>) -> LineError {
    LineError {
        line,
        reason: reason.into(),
    }
}

/// Reads the CSV: a header naming `event_id`, `urn` and/or `group`, `pupils`, and
/// optionally `staff` and `other` (other columns, such as the template's descriptions, are
/// ignored). Schools are found by URN.
pub fn parse_csv(conn: &mut AnyConnection, bytes: &[u8]) -> AppResult<(Vec<Line>, Vec<LineError>)> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|c| c.trim_start_matches('\u{feff}').to_lowercase())
            .collect(),
        Err(e) => {
            return Ok((
                Vec::new(),
                vec![refused(1, format!("cannot read the header: {e}"))],
            ))
        }
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let (event, urn, group, pupils, staff, other) = (
        col("event_id"),
        col("urn"),
        col("group"),
        col("pupils"),
        col("staff"),
        col("other"),
    );
    let Some(event) = event else {
        return Ok((
            Vec::new(),
            vec![refused(1, "the header must name an event_id column")],
        ));
    };
    let Some(pupils) = pupils else {
        return Ok((
            Vec::new(),
            vec![refused(1, "the header must name a pupils column")],
        ));
    };
    if urn.is_none() && group.is_none() {
        return Ok((
            Vec::new(),
            vec![refused(1, "the header must name a urn or a group column")],
        ));
    }
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    let mut urns: HashMap<i32, Option<i32>> = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(refused(line, format!("cannot read this line: {e}")));
                continue;
            }
        };
        let cell = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("").trim();
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let number = |name: &str, c: Option<usize>, required: bool| -> Result<i32, String> {
            let text = cell(c);
            if text.is_empty() {
                return if required {
                    Err(format!("{name} is required"))
                } else {
                    Ok(0)
                };
            }
            match text.parse::<i64>() {
                Ok(n) if (0..=MAX_PEOPLE).contains(&n) => Ok(n as i32),
                _ => Err(format!(
                    "{name} must be a whole number from 0 to {MAX_PEOPLE}"
                )),
            }
        };
        let event_id = match cell(Some(event)).parse::<i32>() {
            Ok(id) if id > 0 => id,
            _ => {
                errors.push(refused(line, "event_id must be an event's number"));
                continue;
            }
        };
        let (urn_text, group_text) = (cell(urn), cell(group));
        let (school_id, group_name) = match (urn_text.is_empty(), group_text.is_empty()) {
            (false, false) => {
                errors.push(refused(line, "give a school's URN or a group, not both"));
                continue;
            }
            (true, true) => {
                errors.push(refused(
                    line,
                    "give a school's URN, or a group such as \"public\"",
                ));
                continue;
            }
            (false, true) => {
                let Ok(u) = urn_text.parse::<i32>() else {
                    errors.push(refused(line, format!("URN \"{urn_text}\" is not a number")));
                    continue;
                };
                let found = match urns.get(&u) {
                    Some(found) => *found,
                    None => {
                        let found = schools::table
                            .filter(schools::urn.eq(u))
                            .filter(schools::archived.eq(false))
                            .select(schools::id)
                            .first::<i32>(conn)
                            .optional()?;
                        urns.insert(u, found);
                        found
                    }
                };
                match found {
                    Some(id) => (Some(id), None),
                    None => {
                        errors.push(refused(
                            line,
                            format!("no school in the directory has URN {u}"),
                        ));
                        continue;
                    }
                }
            }
            (true, false) if group_text.chars().count() > 100 => {
                errors.push(refused(line, "a group's name is at most 100 characters"));
                continue;
            }
            (true, false) => (None, Some(group_text.to_string())),
        };
        let counts = (
            number("pupils", Some(pupils), true),
            number("staff", staff, false),
            number("other", other, false),
        );
        match counts {
            (Ok(p), Ok(s), Ok(o)) => lines.push(Line {
                line,
                event_id,
                school_id,
                group: group_name,
                pupils: p,
                staff: s,
                other: o,
            }),
            (p, s, o) => {
                let why: Vec<String> = [p.err(), s.err(), o.err()].into_iter().flatten().collect();
                errors.push(refused(line, why.join("; ")));
            }
        }
    }
    Ok((lines, errors))
}

/// What the lines would change, and the lines refused (an event not of this programme,
/// cancelled or still to come; a row given twice).
pub fn plan(
    conn: &mut AnyConnection,
    programme_id: i32,
    lines: &[Line],
) -> AppResult<(Vec<Change>, Vec<LineError>)> {
    let mut changes = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<(i32, Option<i32>, Option<String>), usize> = HashMap::new();
    let mut current: HashMap<i32, Vec<attendance::AttendanceRow>> = HashMap::new();
    let now = crate::app::now();
    for l in lines {
        let found: Option<(i32, String, chrono::NaiveDateTime)> = events::table
            .find(l.event_id)
            .select((events::programme_id, events::status, events::starts_at))
            .first(conn)
            .optional()?;
        match found {
            Some((p, _, _)) if p != programme_id => {
                errors.push(refused(
                    l.line,
                    format!("event {} is not in this programme", l.event_id),
                ));
                continue;
            }
            None => {
                errors.push(refused(l.line, format!("there is no event {}", l.event_id)));
                continue;
            }
            Some((_, status, _)) if status == EventStatus::Cancelled.as_str() => {
                errors.push(refused(
                    l.line,
                    format!("event {} was cancelled", l.event_id),
                ));
                continue;
            }
            Some((_, _, starts)) if starts > now => {
                errors.push(refused(
                    l.line,
                    format!("event {} has not started yet", l.event_id),
                ));
                continue;
            }
            Some(_) => {}
        }
        let key = (
            l.event_id,
            l.school_id,
            l.group.as_ref().map(|g| g.to_lowercase()),
        );
        if let Some(first) = seen.insert(key, l.line) {
            errors.push(refused(
                l.line,
                format!("repeats line {first} (the same event and school or group)"),
            ));
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = current.entry(l.event_id) {
            slot.insert(attendance::for_event(conn, l.event_id)?);
        }
        let rows = current.get(&l.event_id).map(Vec::as_slice).unwrap_or(&[]);
        let before = rows.iter().find(|r| match (l.school_id, &l.group) {
            (Some(s), _) => r.school_id == Some(s),
            (None, Some(g)) => r.group.as_ref().is_some_and(|x| x.eq_ignore_ascii_case(g)),
            _ => false,
        });
        let who = match (l.school_id, &l.group) {
            (Some(id), _) => schools::table
                .find(id)
                .select(schools::name)
                .first::<String>(conn)?,
            (None, Some(g)) => g.clone(),
            _ => String::new(),
        };
        changes.push(Change {
            line: l.line,
            event_id: l.event_id,
            school_id: l.school_id,
            who,
            before: before.map(|r| Counts {
                pupils: r.pupils,
                staff: r.staff,
                other: r.other,
            }),
            after: Counts {
                pupils: l.pupils,
                staff: l.staff,
                other: l.other,
            },
        });
    }
    Ok((changes, errors))
}

/// Writes the lines, all or nothing, in one transaction (each event's change audited).
/// Refused lines are the error's fields, named `line N`.
pub fn apply(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
    lines: &[Line],
    parse_errors: Vec<LineError>,
) -> AppResult<Vec<Change>> {
    crate::db::write(conn, |conn| {
        crate::domain::schedule::occupancy::hold(conn, programme_id)?;
        let (changes, mut errors) = plan(conn, programme_id, lines)?;
        errors.extend(parse_errors.iter().cloned());
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            let fields: FieldErrors = errors
                .into_iter()
                .map(|e| (format!("line {}", e.line), e.reason))
                .collect();
            return Err(AppError::invalid(fields));
        }
        let mut by_event: BTreeMap<i32, Vec<&Line>> = BTreeMap::new();
        for l in lines {
            by_event.entry(l.event_id).or_default().push(l);
        }
        for (event_id, given) in by_event {
            let mut rows: Vec<RowInput> = attendance::for_event(conn, event_id)?
                .into_iter()
                .filter(|r| {
                    !given.iter().any(|l| match (l.school_id, &l.group) {
                        (Some(s), _) => r.school_id == Some(s),
                        (None, Some(g)) => {
                            r.group.as_ref().is_some_and(|x| x.eq_ignore_ascii_case(g))
                        }
                        _ => false,
                    })
                })
                .map(|r| RowInput {
                    school_id: r.school_id,
                    group: r.group,
                    pupils: r.pupils,
                    staff: r.staff,
                    other: r.other,
                })
                .collect();
            rows.extend(given.iter().map(|l| RowInput {
                school_id: l.school_id,
                group: l.group.clone(),
                pupils: l.pupils,
                staff: l.staff,
                other: l.other,
            }));
            attendance::replace(conn, actor, event_id, rows)?;
        }
        Ok(changes)
    })
}

/// The template: a line per held event of the programme and school booked (or the school
/// visited), numbers from the bookings, with the event's date, kind and place and the
/// school's name to read by (ignored when read back).
pub fn template(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
    tz: chrono_tz::Tz,
) -> AppResult<Vec<u8>> {
    let now = crate::app::now();
    crate::domain::programmes::get(conn, actor, programme_id)?;
    let ids: Vec<i32> = events::table
        .filter(events::programme_id.eq(programme_id))
        .filter(events::status.ne(EventStatus::Cancelled.as_str()))
        .filter(events::starts_at.le(now))
        .order((events::starts_at.asc(), events::id.asc()))
        .select(events::id)
        .load(conn)?;
    let held = crate::domain::events::get_many(conn, &ids)?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let text_cell = |s: &str| crate::export::csv::text(s);
    out.write_record([
        "event_id", "date", "kind", "place", "urn", "school", "group", "pupils", "staff", "other",
    ])
    .map_err(AppError::internal)?;
    for e in held {
        let slot: Option<i32> = events::table
            .find(e.id)
            .select(events::slot_id)
            .first(conn)?;
        let booked: Vec<(Option<i32>, String, i32, i32)> = match slot {
            Some(slot) => bookings::table
                .inner_join(schools::table)
                .inner_join(tour_slots::table)
                .filter(tour_slots::id.eq(slot))
                .filter(bookings::status.eq(BookingStatus::Confirmed.as_str()))
                .select((
                    schools::urn,
                    schools::name,
                    bookings::pupils,
                    bookings::staff,
                ))
                .load(conn)?,
            None => bookings::table
                .inner_join(schools::table)
                .filter(bookings::event_id.eq(e.id))
                .filter(bookings::status.eq(BookingStatus::Confirmed.as_str()))
                .select((
                    schools::urn,
                    schools::name,
                    bookings::pupils,
                    bookings::staff,
                ))
                .load(conn)?,
        };
        let when = local_time(e.starts_at.naive_utc(), tz, "%Y-%m-%d %H:%M");
        let kind = e.kind.as_str().to_string();
        let place = text_cell(&e.place());
        if booked.is_empty() {
            out.write_record([
                e.id.to_string(),
                when.clone(),
                kind.clone(),
                place.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ])
            .map_err(AppError::internal)?;
        }
        for (urn, name, pupils, staff) in booked {
            out.write_record([
                e.id.to_string(),
                when.clone(),
                kind.clone(),
                place.clone(),
                urn.map(|u| u.to_string()).unwrap_or_default(),
                text_cell(&name),
                String::new(),
                pupils.to_string(),
                staff.to_string(),
                "0".into(),
            ])
            .map_err(AppError::internal)?;
        }
    }
    out.into_inner().map_err(AppError::internal)
}
