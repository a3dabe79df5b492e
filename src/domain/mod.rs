//! The domain: one module per concept. Rules live here, not in handlers.

/// `column = a OR column = b …` for a fixed list of values: what `eq_any` would say, in a
/// form SQLite can keep compiled. Diesel marks `IN (…)` over a list as not cacheable on
/// SQLite, so each run compiled the statement again (most of the time of What's on).
#[macro_export]
macro_rules! any_of {
    ($col:expr, [$first:expr $(, $rest:expr)* $(,)?]) => {
        $col.eq($first)$(.or($col.eq($rest)))*
    };
}

pub mod answers;
pub mod attendance;
pub mod audit;
pub mod calendar;
pub mod demo;
pub mod directory;
pub mod feedback;
pub mod feedback_links;
pub mod import;
pub mod input;
pub mod invitations;
pub mod list;
pub mod login_links;
pub mod mail;
pub mod maintenance;
pub mod organisations;
pub mod privacy;
pub mod programmes;
pub mod reports;
pub mod schedule;
pub mod school_requests;
pub mod schools;
pub mod sessions;
pub mod settings;
pub mod submissions;
pub mod synthetic;
pub mod throttle;
pub mod tokens;
pub mod tour_attendance;
pub mod types;
pub mod users;
pub mod venues;
pub mod when;

pub use schedule::{bookings, events, visits as slots};

use diesel::prelude::*;

// Lower-cases text in SQL, for case-insensitive search on both backends.
diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// The install's settings the scheduling rules need: the zone people read times in, how
/// long before an event a school may still cancel online, how early reminders go.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub time_zone: chrono_tz::Tz,
    pub cancel_cutoff: chrono::Duration,
    pub reminder_days: i64,
    /// How long before a live stream its booked schools get a "starting soon" letter.
    pub starting_soon: chrono::Duration,
}

impl Rules {
    pub fn of(config: &crate::config::Config) -> Rules {
        Rules {
            starting_soon: chrono::Duration::minutes(config.starting_soon_minutes),
            time_zone: config.time_zone,
            cancel_cutoff: chrono::Duration::days(config.cancel_cutoff_days),
            reminder_days: config.reminder_days,
        }
    }
}

/// A stored UTC moment as people read it, in the install's zone.
pub fn local_time(t: chrono::NaiveDateTime, tz: chrono_tz::Tz, format: &str) -> String {
    t.and_utc().with_timezone(&tz).format(format).to_string()
}

/// Who is acting: carried into every domain operation for its rules and the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i32,
    pub role: types::Role,
    pub school_id: Option<i32>,
    pub organisation_id: Option<i32>,
}

/// Turns a search term into a LIKE pattern on lower-cased text, escaping wildcards.
pub fn like_pattern(q: &str) -> String {
    let escaped: String = q
        .trim()
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// Checks that a referenced row exists, naming the field when it does not.
pub fn must_exist<T>(found: QueryResult<T>, field: &str) -> Result<T, crate::error::AppError> {
    match found {
        Ok(v) => Ok(v),
        Err(diesel::result::Error::NotFound) => Err(crate::error::AppError::field(
            field,
            "does not match an existing record",
        )),
        Err(e) => Err(e.into()),
    }
}

/// A record as JSON, for the audit log.
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}
