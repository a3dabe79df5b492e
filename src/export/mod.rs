//! Funder outputs: the impact workbook and CSV tables. Every figure comes from `impact`
//! (through `domain::reports`); rows stream from the database in batches.

pub mod csv;
pub mod rows;
pub mod xlsx;

/// A file name that says what it is: "ruby-2018-impact.xlsx".
pub fn file_name(parts: &[&str], extension: &str) -> String {
    let mut slug = String::new();
    for part in parts {
        for c in part.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    format!("{}.{extension}", slug.trim_end_matches('-'))
}

use chrono::NaiveDateTime;

use crate::db::AnyConnection;
use crate::domain::{organisations, reports, Actor};
use crate::error::AppResult;
use xlsx::Report;

fn dates(p: &crate::domain::programmes::Programme) -> String {
    let fmt = |d: chrono::NaiveDate| d.format("%-d %B %Y").to_string();
    match (p.starts_on, p.ends_on) {
        (Some(s), Some(e)) => format!("{} to {}", fmt(s), fmt(e)),
        (Some(s), None) => format!("from {}", fmt(s)),
        (None, Some(e)) => format!("until {}", fmt(e)),
        (None, None) => "not set".into(),
    }
}

/// A programme's workbook contents and its file name stem ("ruby-2018").
pub fn programme_report(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    now: NaiveDateTime,
) -> AppResult<(Report, Vec<String>)> {
    let impact = reports::programme_impact(conn, actor, id, now)?;
    let p = &impact.programme;
    let mut facts = vec![("Programme".to_string(), format!("{} {}", p.title, p.year))];
    facts.push((
        "Funder".into(),
        p.organisation_name
            .clone()
            .unwrap_or_else(|| "not set".into()),
    ));
    if !p.theme.is_empty() {
        facts.push(("Theme".into(), p.theme.clone()));
    }
    facts.push(("Dates".into(), dates(p)));
    let report = Report {
        title: format!("{} {}", p.title, p.year),
        facts,
        narrative: impact.narrative.clone(),
        targets: impact.targets.clone(),
        programmes: vec![(p.id, format!("{} {}", p.title, p.year))],
        counts: impact.counts,
    };
    Ok((report, vec![p.title.clone(), p.year.to_string()]))
}

/// A year's or an organisation's programmes, as one report.
struct Group {
    subject: String,
    title: String,
    facts: Vec<(String, String)>,
    year: Option<i32>,
    organisation_id: Option<i32>,
}

fn group_report(
    conn: &mut AnyConnection,
    actor: &Actor,
    g: Group,
    now: NaiveDateTime,
) -> AppResult<Report> {
    let list = reports::programme_ids(conn, actor, g.year, g.organisation_id)?;
    let ids: Vec<i32> = list.iter().map(|p| p.0).collect();
    let counts = reports::counts(conn, &ids, now)?;
    let mut facts = g.facts;
    facts.push((
        "Programmes".into(),
        list.iter()
            .map(|p| format!("{} {}", p.1, p.2))
            .collect::<Vec<_>>()
            .join(", "),
    ));
    Ok(Report {
        title: g.title,
        facts,
        narrative: crate::impact::narrative::write_group(&g.subject, None, &counts),
        targets: Vec::new(),
        programmes: list
            .into_iter()
            .map(|(id, t, y)| (id, format!("{t} {y}")))
            .collect(),
        counts,
    })
}

pub fn year_report(
    conn: &mut AnyConnection,
    actor: &Actor,
    year: i32,
    now: NaiveDateTime,
) -> AppResult<(Report, Vec<String>)> {
    if !crate::domain::input::YEARS.contains(&year) {
        return Err(crate::error::AppError::NotFound);
    }
    let g = Group {
        subject: reports::year_subject(year),
        title: year.to_string(),
        facts: vec![("Year".into(), year.to_string())],
        year: Some(year),
        organisation_id: None,
    };
    let r = group_report(conn, actor, g, now)?;
    Ok((r, vec![year.to_string()]))
}

pub fn organisation_report(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    now: NaiveDateTime,
) -> AppResult<(Report, Vec<String>)> {
    let org = organisations::get_for(conn, actor, id)?;
    let g = Group {
        subject: reports::organisation_subject(&org.name),
        title: org.name.clone(),
        facts: vec![("Organisation".into(), org.name.clone())],
        year: None,
        organisation_id: Some(id),
    };
    let r = group_report(conn, actor, g, now)?;
    Ok((r, vec![org.name]))
}

/// Which programmes a CSV or workbook covers, and their figures.
pub fn scope_ids(report: &Report) -> Vec<i32> {
    report.programmes.iter().map(|p| p.0).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_say_what_they_are() {
        assert_eq!(
            super::file_name(&["Ruby", "2018", "impact"], "xlsx"),
            "ruby-2018-impact.xlsx"
        );
        assert_eq!(
            super::file_name(&["St Bega’s / Trust", "events"], "csv"),
            "st-bega-s-trust-events.csv"
        );
    }
}
