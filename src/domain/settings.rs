//! Facts about the install itself, stored by name (`install_settings`).

use diesel::prelude::*;

use crate::app::now;
use crate::db::schema::install_settings;
use crate::db::AnyConnection;
use crate::error::AppResult;

/// The install was loaded with the demo: the value is the demo's marks as JSON (the day
/// it was loaded and the records its hints point at; see `demo::Marks`).
pub const DEMO: &str = "demo";

/// A setting's value, if it is set.
pub fn get(conn: &mut AnyConnection, name: &str) -> AppResult<Option<String>> {
    Ok(install_settings::table
        .find(name)
        .select(install_settings::value)
        .first(conn)
        .optional()?)
}

/// Sets a setting (in the caller's transaction, or one of its own).
pub fn set(conn: &mut AnyConnection, name: &str, value: &str) -> AppResult<()> {
    crate::db::write(conn, |conn| {
        diesel::delete(install_settings::table.find(name)).execute(conn)?;
        diesel::insert_into(install_settings::table)
            .values((
                install_settings::name.eq(name),
                install_settings::value.eq(value),
                install_settings::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    })
}
