//! What a school can book now: venue performances and live streams still to come, with
//! the places left.

use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{events, programmes, schools, venues};
use crate::db::AnyConnection;
use crate::domain::input::TextEnum;
use crate::domain::list::{ListParams, Page};
use crate::domain::schedule::events::{joined, view, Event, Row};
use crate::domain::types::EventStatus;
use crate::error::AppResult;

/// An event a school can book: its programme and the places left (None: no limit).
#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    pub event: Event,
    pub programme_title: String,
    pub places_left: Option<i32>,
}

/// Venue performances and live streams open for booking, soonest first.
pub fn offers(conn: &mut AnyConnection, params: &ListParams) -> AppResult<Page<Offer>> {
    let open = [EventStatus::Open.as_str(), EventStatus::Confirmed.as_str()];
    let query = || {
        joined()
            .inner_join(programmes::table)
            .filter(events::status.eq_any(open))
            .filter(events::school_id.is_null())
            .filter(events::starts_at.gt(now()))
            .filter(programmes::archived.eq(false))
            .into_boxed()
    };
    let total: i64 = query().count().get_result(conn)?;
    // One query for the page: the events with their place and programme.
    let rows: Vec<(Row, Option<String>, Option<String>, String)> = query()
        .order((events::starts_at.asc(), events::id.asc()))
        .limit(params.per_page)
        .offset(params.offset())
        .select((
            Row::as_select(),
            schools::name.nullable(),
            venues::name.nullable(),
            programmes::title,
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|(row, school, venue, programme_title)| {
            let event = view((row, school, venue))?;
            let places_left = event.capacity.map(|c| (c - event.places_confirmed).max(0));
            Ok(Offer {
                event,
                programme_title,
                places_left,
            })
        })
        .collect::<AppResult<_>>()?;
    Ok(Page::new(items, params, total))
}
