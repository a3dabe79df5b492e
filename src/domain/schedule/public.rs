//! What's on for anyone: the company's current and coming programmes, their venue
//! performances and live streams with the places left (counts only, never who booked),
//! and the months that still have tour dates free. Nothing of archived or completed
//! programmes or draft events, and never a joining link.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{events, programmes, tour_slots};
use crate::db::AnyConnection;
use crate::domain::input::TextEnum;
use crate::domain::schedule::events::{joined, view, Row};
use crate::domain::types::{DeliveryMode, EventKind, EventStatus, ProgrammeStatus, SlotStatus};
use crate::error::AppResult;

/// How many programmes, events and tour dates the listing reads at most.
const MAX_PROGRAMMES: i64 = 50;
const MAX_EVENTS: i64 = 500;
const MAX_SLOTS: i64 = 3000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicWhatsOn {
    pub programmes: Vec<PublicProgramme>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicProgramme {
    pub id: i32,
    pub title: String,
    pub theme: String,
    pub year: i32,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// Venue performances and live streams still to come, soonest first.
    pub events: Vec<PublicEvent>,
    /// Months with tour dates still free for a visit to a school.
    pub tour_months: Vec<TourMonth>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicEvent {
    pub id: i32,
    pub kind: EventKind,
    pub delivery: DeliveryMode,
    #[serde(serialize_with = "crate::domain::when::utc")]
    pub starts_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::when::utc")]
    pub ends_at: DateTime<Utc>,
    pub venue_name: Option<String>,
    /// None: no limit.
    pub places_left: Option<i32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TourMonth {
    /// `YYYY-MM`, in the install's time zone.
    pub month: String,
    pub free_dates: i64,
}

/// A programme's id, title, theme, year and dates.
type ProgrammeRow = (
    i32,
    String,
    String,
    i32,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

pub fn whats_on(conn: &mut AnyConnection, tz: chrono_tz::Tz) -> AppResult<PublicWhatsOn> {
    let at = now();
    let today = at.and_utc().with_timezone(&tz).date_naive();
    let rows: Vec<ProgrammeRow> = programmes::table
        .filter(programmes::archived.eq(false))
        .filter(programmes::status.ne(ProgrammeStatus::Completed.as_str()))
        .filter(
            programmes::ends_on
                .is_null()
                .or(programmes::ends_on.ge(today)),
        )
        // Programmes without dates last, on both databases.
        .order((
            programmes::starts_on.is_null().asc(),
            programmes::starts_on.asc(),
            programmes::title.asc(),
            programmes::id.asc(),
        ))
        .limit(MAX_PROGRAMMES)
        .select((
            programmes::id,
            programmes::title,
            programmes::theme,
            programmes::year,
            programmes::starts_on,
            programmes::ends_on,
        ))
        .load(conn)?;
    let ids: Vec<i32> = rows.iter().map(|r| r.0).collect();
    let event_rows: Vec<(Row, Option<String>, Option<String>)> = joined()
        .filter(crate::db::among(&*conn, events::programme_id, &ids))
        .filter(crate::any_of!(
            events::status,
            [EventStatus::Open.as_str(), EventStatus::Confirmed.as_str()]
        ))
        .filter(events::school_id.is_null())
        .filter(events::starts_at.gt(at))
        .order((events::starts_at.asc(), events::id.asc()))
        .limit(MAX_EVENTS)
        .select((
            Row::as_select(),
            crate::db::schema::schools::name.nullable(),
            crate::db::schema::venues::name.nullable(),
        ))
        .load(conn)?;
    let slots: Vec<(i32, chrono::NaiveDateTime)> = tour_slots::table
        .filter(crate::db::among(&*conn, tour_slots::programme_id, &ids))
        .filter(tour_slots::status.eq(SlotStatus::Open.as_str()))
        .filter(tour_slots::starts_at.gt(at))
        .order(tour_slots::starts_at.asc())
        .limit(MAX_SLOTS)
        .select((tour_slots::programme_id, tour_slots::starts_at))
        .load(conn)?;
    let mut out: Vec<PublicProgramme> = rows
        .into_iter()
        .map(
            |(id, title, theme, year, starts_on, ends_on)| PublicProgramme {
                id,
                title,
                theme,
                year,
                starts_on,
                ends_on,
                events: Vec::new(),
                tour_months: Vec::new(),
            },
        )
        .collect();
    for row in event_rows {
        let e = view(row)?;
        if let Some(p) = out.iter_mut().find(|p| p.id == e.programme_id) {
            p.events.push(PublicEvent {
                id: e.id,
                kind: e.kind,
                delivery: e.delivery,
                starts_at: e.starts_at,
                ends_at: e.ends_at,
                venue_name: e.venue_name,
                places_left: e.capacity.map(|c| (c - e.places_confirmed).max(0)),
            });
        }
    }
    for (programme_id, starts_at) in slots {
        let month = starts_at
            .and_utc()
            .with_timezone(&tz)
            .format("%Y-%m")
            .to_string();
        if let Some(p) = out.iter_mut().find(|p| p.id == programme_id) {
            match p.tour_months.last_mut() {
                Some(m) if m.month == month => m.free_dates += 1,
                _ => p.tour_months.push(TourMonth {
                    month,
                    free_dates: 1,
                }),
            }
        }
    }
    Ok(PublicWhatsOn { programmes: out })
}
