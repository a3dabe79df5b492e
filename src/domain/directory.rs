//! What every directory record (organisation, school, venue, programme, user) shares: it
//! is archived and restored, never deleted, and each change is in the audit log.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Timestamp};
use serde::Serialize;

use crate::app::now;
use crate::db::AnyConnection;
use crate::domain::{audit, to_json, Actor};
use crate::error::{AppError, AppResult};

/// The kinds of directory record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Organisation,
    School,
    Venue,
    Programme,
    User,
}

impl Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::Organisation => "organisations",
            Kind::School => "schools",
            Kind::Venue => "venues",
            Kind::Programme => "programmes",
            Kind::User => "users",
        }
    }

    /// The name in the audit log.
    pub fn entity(self) -> &'static str {
        match self {
            Kind::Organisation => "organisation",
            Kind::School => "school",
            Kind::Venue => "venue",
            Kind::Programme => "programme",
            Kind::User => "user",
        }
    }
}

/// Archives or restores a record in one transaction: `get` reads it before and after (for
/// the audit entry), `then` does what else archiving means for this kind.
pub fn set_archived<T: Serialize>(
    conn: &mut AnyConnection,
    actor: &Actor,
    kind: Kind,
    id: i32,
    archived: bool,
    get: fn(&mut AnyConnection, i32) -> AppResult<T>,
    mut then: impl FnMut(&mut AnyConnection) -> AppResult<()>,
) -> AppResult<T> {
    crate::db::write(conn, |conn| {
        let before = get(conn, id)?;
        // The table name comes from `Kind`, never from input.
        let changed = diesel::sql_query(format!(
            "UPDATE {} SET archived = $1, updated_at = $2 WHERE id = $3",
            kind.table()
        ))
        .bind::<Bool, _>(archived)
        .bind::<Timestamp, _>(now())
        .bind::<Integer, _>(id)
        .execute(conn)?;
        if changed != 1 {
            return Err(AppError::NotFound);
        }
        let after = get(conn, id)?;
        then(conn)?;
        audit::record(
            conn,
            Some(actor.user_id),
            kind.entity(),
            id,
            if archived { "archive" } else { "restore" },
            Some(&to_json(&before)),
            Some(&to_json(&after)),
        )?;
        Ok(after)
    })
}

/// Creates a record in one transaction with its audit entry: `insert` writes the row and
/// gives its id, `get` reads what was made.
pub fn create<T: Serialize>(
    conn: &mut AnyConnection,
    actor: &Actor,
    kind: Kind,
    mut insert: impl FnMut(&mut AnyConnection) -> AppResult<i32>,
    get: fn(&mut AnyConnection, i32) -> AppResult<T>,
) -> AppResult<T> {
    crate::db::write(conn, |conn| {
        let id = insert(conn)?;
        let created = get(conn, id)?;
        audit::record(
            conn,
            Some(actor.user_id),
            kind.entity(),
            id,
            "create",
            None,
            Some(&to_json(&created)),
        )?;
        Ok(created)
    })
}

/// Changes a record in one transaction with its audit entry (before and after): `write`
/// changes the row.
pub fn update<T: Serialize>(
    conn: &mut AnyConnection,
    actor: &Actor,
    kind: Kind,
    id: i32,
    mut write: impl FnMut(&mut AnyConnection) -> AppResult<()>,
    get: fn(&mut AnyConnection, i32) -> AppResult<T>,
) -> AppResult<T> {
    crate::db::write(conn, |conn| {
        let before = get(conn, id)?;
        write(conn)?;
        let after = get(conn, id)?;
        audit::record(
            conn,
            Some(actor.user_id),
            kind.entity(),
            id,
            "update",
            Some(&to_json(&before)),
            Some(&to_json(&after)),
        )?;
        Ok(after)
    })
}
