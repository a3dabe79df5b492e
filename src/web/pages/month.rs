//! The month calendar of a programme: every tour date and event, with its state.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;

use crate::app::{now, AppState};
use crate::domain::input::TextEnum;
use crate::domain::list::ListQuery;
use crate::domain::{events, programmes, slots};
use crate::error::AppResult;
use crate::web::auth::Reader;
use crate::web::view::{Ctx, PageCtx, RenderPage};

pub struct Item {
    pub time: String,
    pub label: String,
    pub status: String,
    /// The state in words: a colour alone tells nobody who cannot see it.
    pub state: String,
    pub href: String,
}

pub struct Day {
    pub number: u32,
    /// Its weekday, shown where a phone lists the days instead of a grid.
    pub weekday: String,
    pub in_month: bool,
    pub today: bool,
    pub items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "month.html")]
struct MonthPage {
    ctx: PageCtx,
    programme_id: i32,
    programme_name: String,
    weekdays: [&'static str; 7],
    weeks: Vec<Vec<Day>>,
    /// Nothing falls in the month.
    empty: bool,
    prev: String,
    prev_label: String,
    next: String,
    next_label: String,
}

#[derive(Deserialize)]
pub struct MonthQuery {
    month: Option<String>,
}

/// `?month=2027-01`; without it, the month of the programme's next (or first) date.
pub async fn show(
    State(app): State<AppState>,
    ctx: Ctx,
    Reader(user): Reader,
    Path(id): Path<i32>,
    Query(q): Query<MonthQuery>,
) -> AppResult<Response> {
    let actor = user.actor();
    let all = ListQuery {
        per_page: Some("200".into()),
        ..Default::default()
    }
    .params();
    let (p, evs, tour) = app
        .db(move |c| {
            let p = programmes::get(c, &actor, id)?;
            // A month holds at most a few hundred entries; every page of events is read.
            let mut evs = Vec::new();
            let mut params = all.clone();
            loop {
                let page = events::list_for_programme(c, &actor, id, &params)?;
                let done = page.page >= page.pages();
                evs.extend(page.items);
                if done {
                    break;
                }
                params.page += 1;
            }
            Ok((p, evs, slots::list(c, &actor, id)?))
        })
        .await?;
    let tz = app.config.time_zone;
    let today = now().and_utc().with_timezone(&tz).date_naive();
    let month = q.month.as_deref().and_then(parse_month).unwrap_or_else(|| {
        let dates = evs
            .iter()
            .map(|e| e.starts_at.with_timezone(&tz).date_naive())
            .chain(tour.iter().map(|s| s.day));
        default_day(dates, p.starts_on, today)
    });
    let month = first_of(month);
    let (prev, next) = (first_of(step(month, -1)), first_of(step(month, 32)));
    let weeks = weeks_of(month, today, |day| day_items(day, &tour, &evs, tz, id));
    MonthPage {
        ctx: ctx.titled(format!(
            "{} {} · {}",
            p.title,
            p.year,
            month.format("%B %Y")
        )),
        programme_id: id,
        programme_name: format!("{} {}", p.title, p.year),
        weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        empty: !weeks
            .iter()
            .flatten()
            .any(|d| d.in_month && !d.items.is_empty()),
        weeks,
        prev: prev.format("%Y-%m").to_string(),
        prev_label: prev.format("%B").to_string(),
        next: next.format("%Y-%m").to_string(),
        next_label: next.format("%B").to_string(),
    }
    .page()
}

fn first_of(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap_or(d)
}

/// A day moved by `days`. Dates are bounded (see `parse_month` and the validator), so this
/// cannot overflow; checked all the same, as a query string must never panic a handler.
fn step(d: NaiveDate, days: i64) -> NaiveDate {
    d.checked_add_signed(Duration::days(days)).unwrap_or(d)
}

/// The day whose month is shown without `?month=`: the programme's next date, else its
/// first, else its start, else today.
fn default_day(
    dates: impl Iterator<Item = NaiveDate> + Clone,
    starts_on: Option<NaiveDate>,
    today: NaiveDate,
) -> NaiveDate {
    let upcoming = dates.clone().filter(|d| *d >= today).min();
    upcoming.or(dates.min()).or(starts_on).unwrap_or(today)
}

/// The weeks (Monday to Sunday) that hold the days of `month`, each day with its items.
fn weeks_of(
    month: NaiveDate,
    today: NaiveDate,
    items_of: impl Fn(NaiveDate) -> Vec<Item>,
) -> Vec<Vec<Day>> {
    let next = first_of(step(month, 32));
    let mut day = step(month, -i64::from(month.weekday().num_days_from_monday()));
    let mut weeks = Vec::new();
    while day < next || weeks.is_empty() {
        let mut week = Vec::new();
        for _ in 0..7 {
            week.push(Day {
                number: day.day(),
                weekday: day.format("%a").to_string(),
                in_month: day.month() == month.month(),
                today: day == today,
                items: items_of(day),
            });
            day = step(day, 1);
        }
        weeks.push(week);
    }
    weeks
}

/// A day's tour dates and events, in time order.
fn day_items(
    day: NaiveDate,
    tour: &[slots::Slot],
    evs: &[events::Event],
    tz: chrono_tz::Tz,
    programme_id: i32,
) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    for s in tour.iter().filter(|s| s.day == day) {
        items.push(Item {
            time: s
                .starts_at
                .and_utc()
                .with_timezone(&tz)
                .format("%H:%M")
                .to_string(),
            label: format!("Tour date ({})", s.session.label().to_lowercase()),
            status: s.status.as_str().to_string(),
            state: s.status.to_string(),
            href: format!("/programmes/{programme_id}/slots"),
        });
    }
    for e in evs
        .iter()
        .filter(|e| e.starts_at.with_timezone(&tz).date_naive() == day)
    {
        items.push(Item {
            time: e.starts_at.with_timezone(&tz).format("%H:%M").to_string(),
            label: format!("{} · {}", e.kind, e.place()),
            status: e.status.as_str().to_string(),
            state: e.status.to_string(),
            href: format!("/events/{}", e.id),
        });
    }
    items.sort_by(|a, b| a.time.cmp(&b.time));
    items
}

/// `2027-01` within the years Outreach accepts anywhere; anything else is no month.
fn parse_month(m: &str) -> Option<NaiveDate> {
    let (y, mo) = m.trim().split_once('-')?;
    if y.len() != 4 || mo.is_empty() || mo.len() > 2 {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    let month: u32 = mo.parse().ok()?;
    if !crate::domain::input::YEARS.contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, 1)
}

#[cfg(test)]
mod tests {
    use super::parse_month;

    #[test]
    fn months_outside_the_calendar_are_no_months() {
        assert!(parse_month("2027-01").is_some());
        for bad in [
            "+262142-12",
            "-0001-01",
            "2027-13",
            "2027-00",
            "99999-01",
            "2027",
            "",
            "2027-1-1",
        ] {
            assert!(parse_month(bad).is_none(), "{bad}");
        }
    }
}
