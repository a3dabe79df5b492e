//! The attendance grid of an event page: its rows (what was saved, what was typed, or a
//! row per booked school with the booking's numbers as a hint), the form fields it posts,
//! and the history of changes as short lines.

use crate::domain::attendance::AttendanceRow;
use crate::domain::audit::{actor_name as audit_who, describe as audit_change, AuditEntry};
use crate::domain::input::Input;
use crate::error::FieldErrors;
use crate::web::view::local;

/// Empty rows under the grid for schools or groups not yet on it.
const SPARE_ROWS: usize = 3;

pub struct GridRow {
    /// What the school picker holds: a school's label, or what was typed.
    pub school: String,
    pub group: String,
    pub pupils: String,
    pub staff: String,
    pub other: String,
    pub hint: String,
    pub pupils_hint: String,
    pub staff_hint: String,
    pub error: Option<String>,
}

impl GridRow {
    fn blank() -> GridRow {
        GridRow {
            school: String::new(),
            group: String::new(),
            pupils: String::new(),
            staff: String::new(),
            other: String::new(),
            hint: String::new(),
            pupils_hint: String::new(),
            staff_hint: String::new(),
            error: None,
        }
    }

    pub fn has_error(&self) -> bool {
        self.error.is_some()
    }
}

/// The grid's rows: what was submitted (with each row's error), else what is saved, then
/// a row for each booked school not on it yet and a few spare rows.
pub fn rows(
    submitted: Option<&(Vec<Input>, FieldErrors)>,
    saved: &[AttendanceRow],
    expected: &[(i32, i32, i32)],
    label_of: impl Fn(Option<i32>) -> String,
) -> Vec<GridRow> {
    if let Some((inputs, errors)) = submitted {
        return inputs
            .iter()
            .enumerate()
            .map(|(i, input)| typed_row(i, input, errors, &label_of))
            .collect();
    }
    let mut rows: Vec<GridRow> = saved
        .iter()
        .map(|r| GridRow {
            school: label_of(r.school_id),
            group: r.group.clone().unwrap_or_default(),
            pupils: r.pupils.to_string(),
            staff: r.staff.to_string(),
            other: r.other.to_string(),
            ..GridRow::blank()
        })
        .collect();
    for &(school, pupils, staff) in expected {
        if !saved.iter().any(|r| r.school_id == Some(school)) {
            rows.push(GridRow {
                school: label_of(Some(school)),
                hint: format!("Booked for {pupils} pupils and {staff} staff"),
                pupils_hint: pupils.to_string(),
                staff_hint: staff.to_string(),
                ..GridRow::blank()
            });
        }
    }
    rows.extend((0..SPARE_ROWS).map(|_| GridRow::blank()));
    rows
}

/// A submitted row as typed, with its first error.
fn typed_row(
    i: usize,
    input: &Input,
    errors: &FieldErrors,
    label_of: &impl Fn(Option<i32>) -> String,
) -> GridRow {
    let get = |k: &str| input.get(k).unwrap_or("").to_string();
    let error = errors
        .iter()
        .find(|(k, _)| k.starts_with(&format!("rows[{i}].")))
        .map(|(_, v)| v.clone());
    let typed = get("school");
    GridRow {
        school: if typed.is_empty() {
            label_of(get("school_id").parse().ok())
        } else {
            typed
        },
        group: get("group"),
        pupils: get("pupils"),
        staff: get("staff"),
        other: get("other"),
        error,
        ..GridRow::blank()
    }
}

/// The attendance history as (when, who, what changed) lines.
pub fn history(entries: Vec<AuditEntry>, tz: chrono_tz::Tz) -> Vec<(String, String, String)> {
    entries
        .into_iter()
        .map(|h| {
            let when = local(h.at.and_utc(), tz);
            (when, audit_who(&h), audit_change(&h))
        })
        .collect()
}

/// The grid's rows from its form fields (`school_id_0`, `pupils_0`, …).
pub fn inputs(input: &Input) -> Vec<Input> {
    let n: usize = input
        .get("rows")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(500);
    (0..n)
        .map(|i| {
            Input::from_pairs(
                ["school", "school_id", "group", "pupils", "staff", "other"]
                    .iter()
                    .filter(|k| **k != "school" || input.has(&format!("school_{i}")))
                    .map(|k| {
                        (
                            k.to_string(),
                            input.get(&format!("{k}_{i}")).unwrap_or("").to_string(),
                        )
                    }),
            )
        })
        .collect()
}
