//! The impact workbook (SPEC §4): Summary, Schools, Events and Feedback sheets. The big
//! sheets are written in constant-memory mode, row by row, as the rows stream in.

use chrono::{NaiveDate, NaiveDateTime};
use rust_xlsxwriter::{
    Chart, ChartType, Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError,
};

use crate::db::AnyConnection;
use crate::error::{AppError, AppResult};
use crate::impact::{Counts, TargetProgress};

mod tables;
use tables::{events, feedback_sheet, schools};

/// What a workbook is about: a programme, a year or an organisation.
pub struct Report {
    /// "Ruby 2018", "2018", "South Cumbria Community Safety Partnership"
    pub title: String,
    /// Label/value lines under the title: funder, dates, theme…
    pub facts: Vec<(String, String)>,
    pub narrative: String,
    pub counts: Counts,
    pub targets: Vec<TargetProgress>,
    /// The programmes it covers, with their names (for the feedback summaries).
    pub programmes: Vec<(i32, String)>,
}

impl Report {
    fn programme_ids(&self) -> Vec<i32> {
        self.programmes.iter().map(|p| p.0).collect()
    }
}

fn xl(e: XlsxError) -> AppError {
    AppError::internal(e)
}

struct Styles {
    /// No formatting: a plain cell.
    plain: Format,
    title: Format,
    subtitle: Format,
    label: Format,
    header: Format,
    header_number: Format,
    number: Format,
    total_label: Format,
    total_number: Format,
    percent: Format,
    date: Format,
    datetime: Format,
    wrap: Format,
    narrative: Format,
    note: Format,
}

fn styles() -> Styles {
    let header_fill = Color::RGB(0x7A1F4B);
    Styles {
        plain: Format::new(),
        title: Format::new()
            .set_bold()
            .set_font_size(16)
            .set_font_color(header_fill),
        subtitle: Format::new()
            .set_italic()
            .set_font_color(Color::RGB(0x5B6475)),
        label: Format::new().set_bold(),
        header: Format::new()
            .set_bold()
            .set_font_color(Color::White)
            .set_background_color(header_fill)
            .set_border_bottom(FormatBorder::Thin),
        header_number: Format::new()
            .set_bold()
            .set_font_color(Color::White)
            .set_background_color(header_fill)
            .set_border_bottom(FormatBorder::Thin)
            .set_align(FormatAlign::Right),
        number: Format::new().set_num_format("#,##0"),
        total_label: Format::new().set_bold().set_border_top(FormatBorder::Thin),
        total_number: Format::new()
            .set_bold()
            .set_num_format("#,##0")
            .set_border_top(FormatBorder::Thin),
        percent: Format::new().set_num_format("0%"),
        date: Format::new()
            .set_num_format("dd mmm yyyy")
            .set_align(FormatAlign::Left),
        datetime: Format::new()
            .set_num_format("ddd dd mmm yyyy hh:mm")
            .set_align(FormatAlign::Left),
        wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
        narrative: Format::new()
            .set_text_wrap()
            .set_align(FormatAlign::Top)
            .set_font_size(12),
        note: Format::new()
            .set_italic()
            .set_font_color(Color::RGB(0x5B6475))
            .set_text_wrap()
            .set_align(FormatAlign::Top),
    }
}

/// Writes the workbook into memory; `tz` turns stored UTC times into local ones,
/// `generated` is today. For a small workbook; a download goes through `workbook_to`.
pub fn workbook(
    conn: &mut AnyConnection,
    report: &Report,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
    generated: NaiveDate,
) -> AppResult<Vec<u8>> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    workbook_to(conn, report, now, tz, generated, &mut buffer)?;
    Ok(buffer.into_inner())
}

/// Writes the workbook to `out` (a temporary file, for a download), through a buffer it
/// flushes itself, so a failure on the last write is an error, never a short file: the
/// big sheets keep only a row at a time in memory, and the finished file is never held
/// whole.
pub fn workbook_to<W: std::io::Write + Send>(
    conn: &mut AnyConnection,
    report: &Report,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
    generated: NaiveDate,
    out: W,
) -> AppResult<()> {
    let st = styles();
    let mut book = Workbook::new();
    book.set_properties(
        &rust_xlsxwriter::DocProperties::new()
            .set_title(format!("Impact report: {}", report.title))
            .set_author("Outreach"),
    );
    summary(book.add_worksheet(), report, &st, generated).map_err(xl)?;
    schools(
        book.add_worksheet_with_constant_memory().map_err(xl)?,
        conn,
        report,
        &st,
    )?;
    events(
        book.add_worksheet_with_constant_memory().map_err(xl)?,
        conn,
        report,
        &st,
        now,
        tz,
    )?;
    feedback_sheet(
        book.add_worksheet_with_constant_memory().map_err(xl)?,
        conn,
        report,
        &st,
        tz,
    )?;
    let mut buffered = std::io::BufWriter::with_capacity(64 * 1024, out);
    book.save_to_writer(&mut buffered).map_err(xl)?;
    buffered
        .into_inner()
        .map(|_| ())
        .map_err(|e| AppError::internal(e.into_error()))
}

fn summary(
    ws: &mut Worksheet,
    report: &Report,
    st: &Styles,
    generated: NaiveDate,
) -> Result<(), XlsxError> {
    ws.set_name("Summary")?;
    ws.set_column_width(0, 26)?;
    for col in 1..=4 {
        ws.set_column_width(col, 13)?;
    }
    ws.write_string_with_format(0, 0, format!("Impact report: {}", report.title), &st.title)?;
    ws.write_string_with_format(1, 0, "Generated by Outreach on", &st.subtitle)?;
    ws.write_date_with_format(1, 1, generated, &st.date)?;
    let mut row = 3;
    for (label, value) in &report.facts {
        ws.write_string_with_format(row, 0, label, &st.label)?;
        ws.write_string(row, 1, value)?;
        row += 1;
    }
    row += 1;
    ws.merge_range(row, 0, row, 4, &report.narrative, &st.narrative)?;
    ws.set_row_height(row, 96)?;
    let header_row = row + 2;
    row = delivery_table(ws, header_row, report, st)?;
    row = targets_table(ws, row, report, st)?;
    ws.merge_range(
        row,
        0,
        row,
        4,
        "Only completed events count. Workshops are reported as participants, never as audience; a school in two delivery modes is one school in the total.",
        &st.note,
    )?;
    ws.set_row_height(row, 30)?;
    ws.insert_chart(row + 2, 0, &audience_chart(header_row))?;
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_gridlines(false);
    Ok(())
}

/// A row of column titles at `row`: the first left-aligned, the rest over numbers.
fn titles(ws: &mut Worksheet, row: u32, titles: &[&str], st: &Styles) -> Result<(), XlsxError> {
    for (col, title) in titles.iter().enumerate() {
        let format = if col == 0 {
            &st.header
        } else {
            &st.header_number
        };
        ws.write_string_with_format(row, col as u16, *title, format)?;
    }
    Ok(())
}

/// Figures by delivery mode and in total from `row`, then the workshops; the next free row.
fn delivery_table(
    ws: &mut Worksheet,
    mut row: u32,
    report: &Report,
    st: &Styles,
) -> Result<u32, XlsxError> {
    titles(
        ws,
        row,
        &["Delivery", "Events", "Schools", "Audience", "Pupils"],
        st,
    )?;
    let by = &report.counts.by_delivery;
    let t = &report.counts.total;
    let lines = [
        ("In school", &by.in_school, &st.plain, &st.number),
        ("Venue", &by.venue, &st.plain, &st.number),
        ("Live stream", &by.live_stream, &st.plain, &st.number),
        ("Total", t, &st.total_label, &st.total_number),
    ];
    for (label, f, label_format, number_format) in lines {
        row += 1;
        ws.write_string_with_format(row, 0, label, label_format)?;
        for (col, v) in [f.events, f.schools, f.audience, f.pupils]
            .iter()
            .enumerate()
        {
            ws.write_number_with_format(row, col as u16 + 1, *v as f64, number_format)?;
        }
    }
    row += 2;
    let workshops = &report.counts.workshops;
    ws.write_string_with_format(row, 0, "Workshops", &st.label)?;
    ws.write_number_with_format(row, 1, workshops.events as f64, &st.number)?;
    row += 1;
    ws.write_string_with_format(row, 0, "Workshop participants", &st.label)?;
    ws.write_number_with_format(row, 1, workshops.participants as f64, &st.number)?;
    Ok(row + 2)
}

/// The targets and how far they were met, if any, from `row`; the next free row.
fn targets_table(
    ws: &mut Worksheet,
    mut row: u32,
    report: &Report,
    st: &Styles,
) -> Result<u32, XlsxError> {
    if report.targets.is_empty() {
        return Ok(row);
    }
    titles(ws, row, &["Target", "Target", "Achieved", "Progress"], st)?;
    for target in &report.targets {
        row += 1;
        let measure = crate::impact::narrative::capitalise(target.measure);
        ws.write_string(row, 0, measure)?;
        ws.write_number_with_format(row, 1, target.target as f64, &st.number)?;
        ws.write_number_with_format(row, 2, target.achieved as f64, &st.number)?;
        if let Some(p) = target.percent {
            ws.write_number_with_format(row, 3, p as f64 / 100.0, &st.percent)?;
        }
    }
    Ok(row + 2)
}

/// A column chart of the audience by delivery mode, from the table under `header_row`.
fn audience_chart(header_row: u32) -> Chart {
    let mut chart = Chart::new(ChartType::Column);
    chart
        .add_series()
        .set_name("Audience")
        .set_categories(("Summary", header_row + 1, 0, header_row + 3, 0))
        .set_values(("Summary", header_row + 1, 3, header_row + 3, 3))
        .set_format(rust_xlsxwriter::ChartFormat::new().set_solid_fill(
            rust_xlsxwriter::ChartSolidFill::new().set_color(Color::RGB(0x7A1F4B)),
        ));
    chart.title().set_name("Audience by delivery");
    chart.legend().set_hidden();
    chart.y_axis().set_num_format("#,##0");
    chart.set_width(560).set_height(300);
    chart
}
