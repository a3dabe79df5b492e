//! Times as the API writes them: RFC 3339 with the offset of the install's zone, to the
//! second ("2031-06-10T10:00:00+01:00"). Stored times are UTC; the zone is the install's
//! (`TIME_ZONE`), set once when the app starts. Used as `#[serde(serialize_with = …)]`.

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::Serializer;

static ZONE: OnceLock<chrono_tz::Tz> = OnceLock::new();

/// Sets the install's zone; the first setting holds for the life of the process (the
/// command line sets it before anything else runs). A later, different setting is
/// reported, not taken: one process serves one install.
pub fn set_zone(tz: chrono_tz::Tz) {
    if let Err(other) = ZONE.set(tz) {
        if ZONE.get() != Some(&other) {
            tracing::warn!(kept = %zone(), refused = %other, "the time zone was already set");
        }
    }
}

/// The install's zone (Europe/London until it is set).
pub fn zone() -> chrono_tz::Tz {
    ZONE.get().copied().unwrap_or(chrono_tz::Europe::London)
}

/// A stored UTC moment as RFC 3339 in the install's zone, to the second.
pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .with_timezone(&zone())
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

pub fn naive<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

pub fn naive_opt<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&rfc3339(*t)),
        None => s.serialize_none(),
    }
}

pub fn utc<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(t.naive_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summer_and_winter_carry_their_offsets_to_the_second() {
        set_zone(chrono_tz::Europe::London);
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap();
        assert_eq!(
            rfc3339(at("2031-06-10 09:00:00.123456")),
            "2031-06-10T10:00:00+01:00"
        );
        assert_eq!(
            rfc3339(at("2031-01-10 09:00:00")),
            "2031-01-10T09:00:00+00:00"
        );
    }
}
