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

/// Reads the CSV: a header naming `event_id` (or `date` and `kind`), `urn` and/or
/// `group`, `pupils`, and optionally `staff` and `other` (other columns, such as the
/// template's descriptions, are ignored). Schools are found by URN; an event without its
/// id by its day (`YYYY-MM-DD`, a time after it optional) and kind in this programme, in
/// the install's zone.
pub fn parse_csv(
    conn: &mut AnyConnection,
    programme_id: i32,
    tz: chrono_tz::Tz,
    bytes: &[u8],
) -> AppResult<(Vec<Line>, Vec<LineError>)> {
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
    let (date, kind) = (col("date"), col("kind"));
    let (event, urn, group, pupils, staff, other) = (
        col("event_id"),
        col("urn"),
        col("group"),
        col("pupils"),
        col("staff"),
        col("other"),
    );
    if event.is_none() && (date.is_none() || kind.is_none()) {
        return Ok((
            Vec::new(),
            vec![refused(
                1,
                "the header must name an event_id column, or date and kind columns",
            )],
        ));
    }
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
    let school_col = col("school");
    let mut last_line = 1;
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e
                    .position()
                    .map(|p| p.line() as usize)
                    .unwrap_or(last_line + 1);
                errors.push(refused(line, format!("cannot read this line: {e}")));
                last_line = line;
                continue;
            }
        };
        // The file's own line (blank lines are skipped; a quoted cell may span lines).
        let line = record
            .position()
            .map(|p| p.line() as usize)
            .unwrap_or(last_line + 1);
        last_line = line;
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
        let event_id = match (cell(event), cell(date), cell(kind)) {
            ("", day, kind) if !day.is_empty() && !kind.is_empty() => {
                match event_on(conn, programme_id, tz, day, kind)? {
                    Ok(id) => id,
                    Err(why) => {
                        errors.push(refused(line, why));
                        continue;
                    }
                }
            }
            (id, _, _) => match id.parse::<i32>() {
                Ok(id) if id > 0 => id,
                _ => {
                    errors.push(refused(
                        line,
                        "event_id must be an event's number (or give its date and kind)",
                    ));
                    continue;
                }
            },
        };
        let (urn_text, group_text) = (cell(urn), cell(group));
        let school_text = cell(school_col);
        let no_numbers = [Some(pupils), staff, other]
            .iter()
            .all(|c| cell(*c).is_empty());
        if no_numbers {
            // A template line left without numbers (a school booked, not yet counted):
            // nothing to write.
            continue;
        }
        // A school without a URN is found by its exact name.
        let by_name = if urn_text.is_empty() && group_text.is_empty() && !school_text.is_empty() {
            let found: Vec<i32> = schools::table
                .filter(schools::name.eq(school_text))
                .filter(schools::archived.eq(false))
                .select(schools::id)
                .limit(2)
                .load(conn)?;
            match found.as_slice() {
                [one] => Some(*one),
                [] => {
                    errors.push(refused(
                        line,
                        format!(
                            "no school in the directory is named \"{school_text}\"; give its URN"
                        ),
                    ));
                    continue;
                }
                _ => {
                    errors.push(refused(
                        line,
                        format!("more than one school is named \"{school_text}\"; give its URN"),
                    ));
                    continue;
                }
            }
        } else {
            None
        };
        let (school_id, group_name) = match (urn_text.is_empty(), group_text.is_empty()) {
            (true, true) if by_name.is_some() => (by_name, None),
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

/// The programme's one event of `kind` on `day` (a time after the day narrows it).
fn event_on(
    conn: &mut AnyConnection,
    programme_id: i32,
    tz: chrono_tz::Tz,
    day: &str,
    kind: &str,
) -> AppResult<Result<i32, String>> {
    let Some(k) = crate::domain::types::EventKind::parse(&kind.to_lowercase().replace(' ', "_"))
    else {
        return Ok(Err(format!(
            "kind \"{kind}\" is not performance, workshop or live_stream"
        )));
    };
    let (date_part, time_part) = day.split_once(' ').unwrap_or((day, ""));
    let Ok(date) = chrono::NaiveDate::parse_from_str(date_part.trim(), "%Y-%m-%d") else {
        return Ok(Err(format!("date \"{day}\" is not a day like 2026-03-05")));
    };
    let time = chrono::NaiveTime::parse_from_str(time_part.trim(), "%H:%M").ok();
    let found: Vec<(i32, chrono::NaiveDateTime)> = events::table
        .filter(events::programme_id.eq(programme_id))
        .filter(events::kind.eq(k.as_str()))
        .filter(events::status.ne(EventStatus::Cancelled.as_str()))
        .select((events::id, events::starts_at))
        .load(conn)?;
    let matching: Vec<i32> = found
        .into_iter()
        .filter(|(_, starts)| {
            let local = starts.and_utc().with_timezone(&tz).naive_local();
            local.date() == date
                && time.is_none_or(|t| {
                    local.time().format("%H:%M").to_string() == t.format("%H:%M").to_string()
                })
        })
        .map(|(id, _)| id)
        .collect();
    Ok(match matching.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!(
            "this programme has no {} on {date_part}",
            k.label().to_lowercase()
        )),
        _ => Err(format!(
            "this programme has {} {}s on {date_part}: give the time, or the event_id",
            matching.len(),
            k.label().to_lowercase()
        )),
    })
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
    // Each event is read once, however many lines name it.
    let mut known: HashMap<i32, Option<(i32, String, chrono::NaiveDateTime)>> = HashMap::new();
    for l in lines {
        let found = match known.get(&l.event_id) {
            Some(found) => found.clone(),
            None => {
                let found: Option<(i32, String, chrono::NaiveDateTime)> = events::table
                    .find(l.event_id)
                    .select((events::programme_id, events::status, events::starts_at))
                    .first(conn)
                    .optional()?;
                known.insert(l.event_id, found.clone());
                found
            }
        };
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
        let after = Counts {
            pupils: l.pupils,
            staff: l.staff,
            other: l.other,
        };
        if before.is_some_and(|b| {
            (b.pupils, b.staff, b.other) == (after.pupils, after.staff, after.other)
        }) {
            // As recorded already: nothing to change.
            continue;
        }
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

/// The tour page's save: each event sent is given exactly the rows sent for it (a row
/// whose numbers were cleared is gone), all events in one transaction, each audited. Rows
/// are (the form's row number, event, row); refusals are named `line N` by that number.
pub fn replace_events(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
    sent_events: &[(usize, i32)],
    rows: Vec<(usize, i32, RowInput)>,
    errors: FieldErrors,
) -> AppResult<()> {
    crate::db::write(conn, |conn| {
        let mut errors = errors.clone();
        crate::domain::schedule::occupancy::hold(conn, programme_id)?;
        let now = crate::app::now();
        let mut events_ok: BTreeMap<i32, Vec<RowInput>> = BTreeMap::new();
        for &(first_row, event_id) in sent_events {
            let found: Option<(i32, String, chrono::NaiveDateTime)> = events::table
                .find(event_id)
                .select((events::programme_id, events::status, events::starts_at))
                .first(conn)
                .optional()?;
            let why = match found {
                None => Some("this event is not there any more".to_string()),
                Some((p, _, _)) if p != programme_id => {
                    Some("this event is not in this programme".into())
                }
                Some((_, s, _)) if s == EventStatus::Cancelled.as_str() => {
                    Some("this event was cancelled".into())
                }
                Some((_, _, starts)) if starts > now => {
                    Some("this event has not started yet".into())
                }
                _ => None,
            };
            match why {
                Some(why) => {
                    errors.entry(format!("line {first_row}")).or_insert(why);
                }
                None => {
                    events_ok.entry(event_id).or_default();
                }
            }
        }
        let mut seen: HashMap<(i32, Option<i32>, Option<String>), usize> = HashMap::new();
        for (row, event_id, r) in rows.iter().cloned() {
            let key = (
                event_id,
                r.school_id,
                r.group.as_ref().map(|g| g.to_lowercase()),
            );
            if let Some(first) = seen.insert(key, row) {
                errors.entry(format!("line {row}")).or_insert(format!(
                    "this school or group already has a row for this event (row {})",
                    first + 1
                ));
                continue;
            }
            if let Some(list) = events_ok.get_mut(&event_id) {
                list.push(r);
            }
        }
        if !errors.is_empty() {
            return Err(AppError::invalid(errors));
        }
        for (event_id, list) in std::mem::take(&mut events_ok) {
            attendance::replace(conn, actor, event_id, list)?;
        }
        Ok(())
    })
}

/// The programme's events held so far (started, not cancelled), in date order: the ones
/// whose attendance can be entered.
pub fn held_events(
    conn: &mut AnyConnection,
    programme_id: i32,
) -> AppResult<Vec<crate::domain::events::Event>> {
    let ids: Vec<i32> = events::table
        .filter(events::programme_id.eq(programme_id))
        .filter(events::status.ne(EventStatus::Cancelled.as_str()))
        .filter(events::starts_at.le(crate::app::now()))
        .order((events::starts_at.asc(), events::id.asc()))
        .select(events::id)
        .load(conn)?;
    let mut held = crate::domain::events::get_many(conn, &ids)?;
    held.sort_by_key(|e| (e.starts_at, e.id));
    Ok(held)
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
    crate::domain::programmes::get(conn, actor, programme_id)?;
    let held = held_events(conn, programme_id)?;
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
        let line = |urn: String, school: String, group: String, n: Option<(i32, i32, i32)>| {
            let (p, s, o) = n
                .map(|(p, s, o)| (p.to_string(), s.to_string(), o.to_string()))
                .unwrap_or_default();
            [
                e.id.to_string(),
                when.clone(),
                kind.clone(),
                place.clone(),
                urn,
                school,
                group,
                p,
                s,
                o,
            ]
        };
        // What is recorded, as recorded; then each school booked and not yet counted, its
        // numbers left to fill in (what it booked is no count of who came).
        let recorded = attendance::for_event(conn, e.id)?;
        let mut urns: HashMap<i32, Option<i32>> = HashMap::new();
        for r in &recorded {
            if let Some(id) = r.school_id {
                let urn: Option<i32> = schools::table.find(id).select(schools::urn).first(conn)?;
                urns.insert(id, urn);
            }
        }
        let mut written = 0;
        for r in &recorded {
            let urn = r
                .school_id
                .and_then(|id| urns.get(&id).copied().flatten())
                .map(|u| u.to_string())
                .unwrap_or_default();
            out.write_record(line(
                urn,
                text_cell(r.school_name.as_deref().unwrap_or("")),
                text_cell(r.group.as_deref().unwrap_or("")),
                Some((r.pupils, r.staff, r.other)),
            ))
            .map_err(AppError::internal)?;
            written += 1;
        }
        for (urn, name, _, _) in booked {
            if recorded
                .iter()
                .any(|r| r.school_name.as_deref() == Some(name.as_str()))
            {
                continue;
            }
            out.write_record(line(
                urn.map(|u| u.to_string()).unwrap_or_default(),
                text_cell(&name),
                String::new(),
                None,
            ))
            .map_err(AppError::internal)?;
            written += 1;
        }
        if written == 0 {
            out.write_record(line(String::new(), String::new(), String::new(), None))
                .map_err(AppError::internal)?;
        }
    }
    out.into_inner().map_err(AppError::internal)
}
