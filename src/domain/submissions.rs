//! Page forms sent once. Each rendering of a form carries a random key; the first request
//! that brings it claims it, and when that request has been answered, where its answer
//! sent the browser is kept. A second request with the same key (a double click, Back and
//! send again, a retry after a dropped connection) is sent there too, and does nothing.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use sha2::{Digest, Sha256};

use crate::db::schema::form_submissions;
use crate::db::AnyConnection;
use crate::error::AppResult;

/// Claims are kept this long; a form older than that is sent as a new one.
pub const KEEP_HOURS: i64 = 24;

/// What a request with a form's key finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The first: it does the work.
    Mine,
    /// Already answered: the browser goes where the first answer sent it.
    Done(String),
    /// Another request with this key is in hand, since this time.
    InHand(NaiveDateTime),
}

/// A form key is 32 hexadecimal digits (16 random bytes).
pub fn well_formed(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The stored name of a key sent to an address with these fields (the key alone is never
/// stored). The fields count: a form changed after Back is a new request, never a second
/// send that would be answered "saved" without saving the change.
pub fn key_hash<'a>(
    key: &str,
    method: &str,
    path: &str,
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut h = Sha256::new();
    h.update(b"outreach form v2:");
    for part in [key, method, path] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    for (k, v) in fields {
        h.update(k.as_bytes());
        h.update([1u8]);
        h.update(v.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// Claims a key, or says who has it. Runs outside any transaction: the claim is visible to
/// every process at once.
pub fn claim(conn: &mut AnyConnection, hash: &str, now: NaiveDateTime) -> AppResult<Claim> {
    let inserted = diesel::insert_into(form_submissions::table)
        .values((
            form_submissions::key_hash.eq(hash),
            form_submissions::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(Claim::Mine),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            let found = form_submissions::table
                .find(hash)
                .select((form_submissions::location, form_submissions::created_at))
                .first::<(Option<String>, NaiveDateTime)>(conn)
                .optional()?;
            Ok(match found {
                Some((Some(location), _)) => Claim::Done(location),
                Some((None, since)) => Claim::InHand(since),
                // The first request failed and gave the key back meanwhile.
                None => Claim::InHand(now),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The first request was answered: later ones go to `location`.
pub fn answered(conn: &mut AnyConnection, hash: &str, location: &str) -> AppResult<()> {
    diesel::update(form_submissions::table.find(hash))
        .set(form_submissions::location.eq(location))
        .execute(conn)?;
    Ok(())
}

/// The first request failed (the form came back with errors): the key may be sent again.
pub fn give_back(conn: &mut AnyConnection, hash: &str) -> AppResult<()> {
    diesel::delete(form_submissions::table.find(hash)).execute(conn)?;
    Ok(())
}

/// Deletes claims older than [`KEEP_HOURS`].
pub fn prune(conn: &mut AnyConnection, now: NaiveDateTime) -> AppResult<usize> {
    Ok(diesel::delete(
        form_submissions::table
            .filter(form_submissions::created_at.lt(now - Duration::hours(KEEP_HOURS))),
    )
    .execute(conn)?)
}
