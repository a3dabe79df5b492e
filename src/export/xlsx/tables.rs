//! The table sheets of the workbook: Schools, Events and Feedback, each written row by
//! row in constant-memory mode as its rows stream from the database.

use chrono::NaiveDateTime;
use rust_xlsxwriter::{Format, Worksheet, XlsxError};

use super::{xl, Report, Styles};
use crate::db::AnyConnection;
use crate::domain::feedback;
use crate::error::{AppError, AppResult};
use crate::export::rows;

/// The bold, frozen header row of a table sheet; `numeric` columns are right-aligned.
/// Printed landscape, one page wide, with the header on every page.
fn header(
    ws: &mut Worksheet,
    st: &Styles,
    titles: &[(&str, f64)],
    numeric_from: u16,
) -> Result<(), XlsxError> {
    for (col, (title, width)) in titles.iter().enumerate() {
        let col = col as u16;
        ws.set_column_width(col, *width)?;
        ws.write_string_with_format(
            0,
            col,
            *title,
            if col >= numeric_from {
                &st.header_number
            } else {
                &st.header
            },
        )?;
    }
    ws.set_freeze_panes(1, 0)?;
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(0, 0)?;
    Ok(())
}

pub(super) fn schools(
    ws: &mut Worksheet,
    conn: &mut AnyConnection,
    report: &Report,
    st: &Styles,
) -> AppResult<()> {
    ws.set_name("Schools").map_err(xl)?;
    let cols = [
        ("School", 34.0),
        ("URN", 10.0),
        ("District", 22.0),
        ("In school", 11.0),
        ("Venue", 11.0),
        ("Live stream", 12.0),
        ("Total audience", 15.0),
        ("Pupils", 11.0),
        ("Workshop participants", 21.0),
    ];
    header(ws, st, &cols, 3).map_err(xl)?;
    let list = rows::schools_reached(conn, &report.counts)?;
    let mut row = 0;
    for s in &list {
        row += 1;
        ws.write_string(row, 0, &s.name).map_err(xl)?;
        if let Some(urn) = s.urn {
            ws.write_number(row, 1, urn).map_err(xl)?;
        }
        ws.write_string(row, 2, &s.district).map_err(xl)?;
        let r = &s.reach;
        for (col, v) in [
            r.in_school,
            r.venue,
            r.live_stream,
            r.total,
            r.pupils,
            r.workshop_participants,
        ]
        .iter()
        .enumerate()
        {
            ws.write_number_with_format(row, col as u16 + 3, *v as f64, &st.number)
                .map_err(xl)?;
        }
    }
    ws.autofilter(0, 0, row.max(1), cols.len() as u16 - 1)
        .map_err(xl)?;
    Ok(())
}

pub(super) fn events(
    ws: &mut Worksheet,
    conn: &mut AnyConnection,
    report: &Report,
    st: &Styles,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
) -> AppResult<()> {
    ws.set_name("Events").map_err(xl)?;
    let cols = [
        ("Date", 22.0),
        ("Kind", 13.0),
        ("Delivery", 12.0),
        ("Place", 32.0),
        ("Schools", 9.0),
        ("Pupils", 9.0),
        ("Staff", 8.0),
        ("Other adults", 12.0),
        ("Audience", 10.0),
        ("Workshop participants", 21.0),
    ];
    header(ws, st, &cols, 4).map_err(xl)?;
    // Reading and writing run side by side, on two threads: this one reads the events
    // from the database in batches, the other writes each batch's rows into the sheet.
    let sheet = &mut *ws;
    let row = std::thread::scope(|scope| -> AppResult<u32> {
        let (batches, arrived) = std::sync::mpsc::sync_channel::<Vec<rows::EventRow>>(4);
        let writer = scope.spawn(move || -> AppResult<u32> {
            let mut row: u32 = 0;
            for batch in arrived {
                for e in batch {
                    row += 1;
                    event_row(sheet, st, tz, row, &e).map_err(xl)?;
                }
            }
            Ok(row)
        });
        let mut batch = Vec::with_capacity(EVENTS_AT_ONCE);
        let read = rows::counted_events(conn, &report.programme_ids(), now, |e| {
            batch.push(e);
            if batch.len() == EVENTS_AT_ONCE {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(EVENTS_AT_ONCE));
                // A writer that stopped has its own error to give.
                if batches.send(full).is_err() {
                    return Err(AppError::internal("the Events sheet stopped being written"));
                }
            }
            Ok(())
        });
        if read.is_ok() && !batch.is_empty() {
            let _ = batches.send(batch);
        }
        drop(batches);
        let written = writer
            .join()
            .map_err(|_| AppError::internal("the Events sheet's writer failed"))?;
        let row = written?;
        read?;
        Ok(row)
    })?;
    ws.autofilter(0, 0, row.max(1), cols.len() as u16 - 1)
        .map_err(xl)?;
    Ok(())
}

/// Events handed from the reading thread to the writing one at a time.
const EVENTS_AT_ONCE: usize = 2_000;

/// One counted event's line of the Events sheet.
fn event_row(
    ws: &mut Worksheet,
    st: &Styles,
    tz: chrono_tz::Tz,
    row: u32,
    e: &rows::EventRow,
) -> Result<(), XlsxError> {
    let local = e.starts_at.and_utc().with_timezone(&tz).naive_local();
    ws.write_datetime_with_format(row, 0, local, &st.datetime)?;
    ws.write_string(row, 1, e.kind.to_string())?;
    ws.write_string(row, 2, e.delivery.to_string())?;
    ws.write_string(row, 3, &e.place)?;
    let f = e.figures;
    for (col, v) in [
        f.schools,
        f.pupils,
        f.staff,
        f.other,
        f.audience,
        f.participants,
    ]
    .iter()
    .enumerate()
    {
        ws.write_number_with_format(row, col as u16 + 4, *v as f64, &st.number)?;
    }
    Ok(())
}

pub(super) fn feedback_sheet(
    ws: &mut Worksheet,
    conn: &mut AnyConnection,
    report: &Report,
    st: &Styles,
    tz: chrono_tz::Tz,
) -> AppResult<()> {
    ws.set_name("Feedback").map_err(xl)?;
    let cols = [
        ("Date", 14.0),
        ("Programme", 20.0),
        ("Said by", 10.0),
        ("School", 30.0),
        ("Rating", 8.0),
        ("Featured", 9.0),
        ("Quote", 80.0),
    ];
    header(ws, st, &cols, 4).map_err(xl)?;
    let names: std::collections::HashMap<i32, &String> =
        report.programmes.iter().map(|(id, n)| (*id, n)).collect();
    let quotes = rows::published_quotes(conn, &report.programme_ids())?;
    let mut row: u32 = 0;
    for q in &quotes {
        row += 1;
        let local = q.created_at.and_utc().with_timezone(&tz).date_naive();
        ws.write_date_with_format(row, 0, local, &st.date)
            .map_err(xl)?;
        ws.write_string(
            row,
            1,
            names.get(&q.programme_id).map(|s| s.as_str()).unwrap_or(""),
        )
        .map_err(xl)?;
        ws.write_string(row, 2, q.role.to_string()).map_err(xl)?;
        ws.write_string(row, 3, q.school.clone().unwrap_or_default())
            .map_err(xl)?;
        if let Some(r) = q.rating {
            ws.write_number(row, 4, r).map_err(xl)?;
        }
        ws.write_string(row, 5, if q.featured { "yes" } else { "" })
            .map_err(xl)?;
        ws.write_string_with_format(row, 6, &q.quote, &st.wrap)
            .map_err(xl)?;
    }
    ws.autofilter(0, 0, row.max(1), cols.len() as u16 - 1)
        .map_err(xl)?;
    if quotes.is_empty() {
        row += 1;
        ws.write_string_with_format(
            row,
            0,
            "No published quotes yet (a quote is published once it has consent and is approved).",
            &st.subtitle,
        )
        .map_err(xl)?;
    }
    row += 2;
    for (id, name) in &report.programmes {
        let s = feedback::summary(conn, *id)?;
        if s.ratings == 0 && s.outcomes.is_empty() {
            continue;
        }
        ws.write_string_with_format(row, 0, format!("Ratings and outcomes: {name}"), &st.label)
            .map_err(xl)?;
        row += 1;
        ws.write_string(row, 0, "Responses").map_err(xl)?;
        ws.write_number(row, 1, s.responses as f64).map_err(xl)?;
        row += 1;
        ws.write_string(row, 0, "Average rating").map_err(xl)?;
        if let Some(a) = s.average_rating {
            ws.write_number_with_format(row, 1, a, &Format::new().set_num_format("0.0"))
                .map_err(xl)?;
        }
        for o in &s.outcomes {
            row += 1;
            ws.write_string(row, 0, "Agree").map_err(xl)?;
            if let Some(p) = o.percent_agree {
                ws.write_number_with_format(row, 1, p as f64 / 100.0, &st.percent)
                    .map_err(xl)?;
            }
            ws.write_string(row, 2, format!("of {} answers", o.answers))
                .map_err(xl)?;
            ws.write_string(row, 6, &o.text).map_err(xl)?;
        }
        row += 2;
    }
    Ok(())
}
