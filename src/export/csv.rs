//! CSV of each table (UTF-8 with a header row, RFC 4180 quoting), written row by row.

use std::io::Write;

use chrono::NaiveDateTime;

use crate::db::AnyConnection;
use crate::error::{AppError, AppResult};
use crate::export::rows;
use crate::impact::Counts;

/// The tables a programme (or group) exports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Table {
    Schools,
    Events,
    Attendance,
    Feedback,
}

impl Table {
    pub fn parse(name: &str) -> Option<Table> {
        match name {
            "schools" => Some(Table::Schools),
            "events" => Some(Table::Events),
            "attendance" => Some(Table::Attendance),
            "feedback" => Some(Table::Feedback),
            _ => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Table::Schools => "schools",
            Table::Events => "events",
            Table::Attendance => "attendance",
            Table::Feedback => "feedback",
        }
    }
}

/// A text cell that a spreadsheet cannot run: text starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return gets a leading apostrophe (OWASP's advice for CSV injection).
/// Numbers are written as numbers and never pass through here.
pub fn text(s: impl Into<String>) -> String {
    let s = s.into();
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    }
}

fn err(e: impl std::fmt::Display) -> AppError {
    AppError::internal(e)
}

/// Writes one table to `out`; `counts` are the programme's figures (for the schools table).
pub fn write<W: Write>(
    conn: &mut AnyConnection,
    table: Table,
    programme_ids: &[i32],
    counts: &Counts,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
    out: W,
) -> AppResult<()> {
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(out);
    let local = |t: NaiveDateTime| {
        t.and_utc()
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    match table {
        Table::Schools => {
            w.write_record([
                "school",
                "urn",
                "district",
                "in_school",
                "venue",
                "live_stream",
                "total_audience",
                "pupils",
                "workshop_participants",
            ])
            .map_err(err)?;
            for s in rows::schools_reached(conn, counts)? {
                let r = &s.reach;
                w.write_record([
                    text(s.name),
                    s.urn.map(|u| u.to_string()).unwrap_or_default(),
                    text(s.district),
                    r.in_school.to_string(),
                    r.venue.to_string(),
                    r.live_stream.to_string(),
                    r.total.to_string(),
                    r.pupils.to_string(),
                    r.workshop_participants.to_string(),
                ])
                .map_err(err)?;
            }
        }
        Table::Events => {
            w.write_record([
                "date",
                "kind",
                "delivery",
                "place",
                "schools",
                "pupils",
                "staff",
                "other_adults",
                "audience",
                "workshop_participants",
            ])
            .map_err(err)?;
            rows::counted_events(conn, programme_ids, now, |e| {
                let f = e.figures;
                w.write_record([
                    local(e.starts_at),
                    text(e.kind.to_string()),
                    text(e.delivery.to_string()),
                    text(e.place),
                    f.schools.to_string(),
                    f.pupils.to_string(),
                    f.staff.to_string(),
                    f.other.to_string(),
                    f.audience.to_string(),
                    f.participants.to_string(),
                ])
                .map_err(err)
            })?;
        }
        Table::Attendance => {
            w.write_record([
                "event_id",
                "date",
                "kind",
                "event_status",
                "school",
                "urn",
                "group",
                "pupils",
                "staff",
                "other_adults",
            ])
            .map_err(err)?;
            rows::attendance(conn, programme_ids, |a| {
                w.write_record([
                    a.event_id.to_string(),
                    local(a.starts_at),
                    text(a.kind.to_string()),
                    text(a.status.to_string()),
                    text(a.school.unwrap_or_default()),
                    a.urn.map(|u| u.to_string()).unwrap_or_default(),
                    text(a.group.unwrap_or_default()),
                    a.pupils.to_string(),
                    a.staff.to_string(),
                    a.other.to_string(),
                ])
                .map_err(err)
            })?;
        }
        Table::Feedback => {
            w.write_record([
                "date",
                "programme_id",
                "said_by",
                "school",
                "rating",
                "featured",
                "quote",
            ])
            .map_err(err)?;
            for q in rows::published_quotes(conn, programme_ids)? {
                w.write_record([
                    local(q.created_at),
                    q.programme_id.to_string(),
                    text(q.role.to_string()),
                    text(q.school.unwrap_or_default()),
                    q.rating.map(|r| r.to_string()).unwrap_or_default(),
                    if q.featured {
                        "yes".into()
                    } else {
                        String::new()
                    },
                    text(q.quote),
                ])
                .map_err(err)?;
            }
        }
    }
    w.flush().map_err(err)?;
    Ok(())
}

/// Every booking the actor may see under `filter`, as CSV: one header row, then a row per
/// booking, oldest first (read a page of 200 at a time).
pub fn bookings(
    conn: &mut AnyConnection,
    actor: &crate::domain::Actor,
    filter: &crate::domain::bookings::BookingFilter,
) -> AppResult<Vec<u8>> {
    use crate::domain::list::ListQuery;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "event_id",
        "slot_id",
        "school_id",
        "school",
        "status",
        "pupils",
        "staff",
        "places",
        "year_groups",
        "access_needs",
        "notes",
        "message",
        "created_at",
    ])
    .map_err(err)?;
    let mut params = ListQuery {
        per_page: Some("200".into()),
        ..Default::default()
    }
    .params();
    loop {
        let page = crate::domain::bookings::list(conn, actor, &params, filter)?;
        for b in &page.items {
            let id = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
            w.write_record([
                b.id.to_string(),
                id(b.event_id()),
                id(b.slot_id()),
                b.school_id.to_string(),
                text(b.school_name.as_str()),
                crate::domain::input::TextEnum::as_str(&b.status).to_string(),
                b.pupils.to_string(),
                b.staff.to_string(),
                b.places.to_string(),
                text(b.year_groups.as_str()),
                text(b.access_needs.as_str()),
                text(b.notes.as_str()),
                text(b.message.as_str()),
                crate::domain::when::rfc3339(b.created_at),
            ])
            .map_err(err)?;
        }
        if page.page >= page.pages() {
            break;
        }
        params.page += 1;
    }
    w.into_inner().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn formula_starts_are_neutralised() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(text(bad), format!("'{bad}"));
        }
        assert_eq!(text("Ruby was amazing"), "Ruby was amazing");
        assert_eq!(text("a=b"), "a=b");
        assert_eq!(text(""), "");
    }
}
