//! Bookings: a school's requests for visits and places. (Listing for now; requesting,
//! confirming and the waiting list come with the booking work.)

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{bookings, events, programmes};
use crate::db::AnyConnection;
use crate::error::AppResult;

#[derive(Debug, Clone, Serialize)]
pub struct SchoolBooking {
    pub id: i32,
    pub status: String,
    pub programme_title: String,
    pub event_kind: String,
    pub starts_at: NaiveDateTime,
    pub pupils: i32,
    pub staff: i32,
}

/// A school's bookings of events, newest event first.
pub fn for_school(conn: &mut AnyConnection, school_id: i32) -> AppResult<Vec<SchoolBooking>> {
    let rows: Vec<(i32, String, String, String, NaiveDateTime, i32, i32)> = bookings::table
        .inner_join(events::table.inner_join(programmes::table))
        .filter(bookings::school_id.eq(school_id))
        .order(events::starts_at.desc())
        .limit(200)
        .select((
            bookings::id,
            bookings::status,
            programmes::title,
            events::kind,
            events::starts_at,
            bookings::pupils,
            bookings::staff,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, status, programme_title, event_kind, starts_at, pupils, staff)| SchoolBooking {
                id,
                status,
                programme_title,
                event_kind,
                starts_at,
                pupils,
                staff,
            },
        )
        .collect())
}
