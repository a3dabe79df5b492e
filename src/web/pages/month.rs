//! The month calendar of a programme: every tour date and event, with its state.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;

use crate::app::{now, AppState};
use crate::domain::input::TextEnum;
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
    let tz = app.config.time_zone;
    let today = now().and_utc().with_timezone(&tz).date_naive();
    let asked = q.month.as_deref().and_then(parse_month);
    // The month, then only its weeks' events and tour dates: a programme of any size reads
    // a few dozen rows here.
    let (p, month) = app
        .db(move |c| {
            let p = programmes::get(c, &actor, id)?;
            let month = match asked {
                Some(m) => m,
                None => {
                    let event = events::next_start(c, id, midnight(today, tz))?
                        .map(|t| t.and_utc().with_timezone(&tz).date_naive());
                    let slot = slots::next_day(c, id, today)?;
                    // The next date from today, else the first date.
                    let dates = event.into_iter().chain(slot);
                    default_day(dates, p.starts_on, today)
                }
            };
            Ok((p, first_of(month)))
        })
        .await?;
    let (grid_from, grid_until) = grid_of(month);
    let (evs, tour) = app
        .db(move |c| {
            // A day either side: the zone's midnight is not UTC's.
            let evs = events::between(
                c,
                id,
                midnight(step(grid_from, -1), tz),
                midnight(step(grid_until, 1), tz),
            )?;
            Ok((evs, slots::between(c, id, grid_from, grid_until)?))
        })
        .await?;
    let (prev, next) = (first_of(step(month, -1)), first_of(step(month, 32)));
    // Each event's local day, worked out once (not once per day of the grid).
    let mut by_day: std::collections::HashMap<NaiveDate, Vec<&events::Event>> =
        std::collections::HashMap::new();
    for e in &evs {
        by_day
            .entry(e.starts_at.with_timezone(&tz).date_naive())
            .or_default()
            .push(e);
    }
    let weeks = weeks_of(month, today, |day| {
        let of_day = by_day.get(&day).map(Vec::as_slice).unwrap_or_default();
        day_items(day, &tour, of_day, tz, id)
    });
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

/// The first day shown (the Monday on or before the 1st) and the day after the last
/// (the Monday after the week holding the month's last day).
fn grid_of(month: NaiveDate) -> (NaiveDate, NaiveDate) {
    let from = step(month, -i64::from(month.weekday().num_days_from_monday()));
    let next = first_of(step(month, 32));
    let until = step(
        next,
        i64::from((7 - next.weekday().num_days_from_monday()) % 7),
    );
    (from, until)
}

/// Midnight at the start of a day in `tz`, as UTC.
fn midnight(day: NaiveDate, tz: chrono_tz::Tz) -> chrono::NaiveDateTime {
    use chrono::TimeZone;
    let m = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&m)
        .earliest()
        .map(|t| t.naive_utc())
        .unwrap_or(m)
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

/// A day's tour dates and its events (`evs`, that day's), in time order.
fn day_items(
    day: NaiveDate,
    tour: &[slots::Slot],
    evs: &[&events::Event],
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
    for e in evs {
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
