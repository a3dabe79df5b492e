//! The audit log: who changed what, when, from what to what.

use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{audit_entries, users};
use crate::db::AnyConnection;
use crate::domain::list::{ListParams, Page};
use crate::error::AppResult;

/// Writes one entry; called inside the transaction of the change it records.
pub fn record(
    conn: &mut AnyConnection,
    user_id: Option<i32>,
    entity: &str,
    entity_id: i32,
    action: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> AppResult<()> {
    diesel::insert_into(audit_entries::table)
        .values((
            audit_entries::user_id.eq(user_id),
            audit_entries::at.eq(now()),
            audit_entries::entity.eq(entity),
            audit_entries::entity_id.eq(entity_id),
            audit_entries::action.eq(action),
            audit_entries::before_value.eq(before.map(|v| v.to_string())),
            audit_entries::after_value.eq(after.map(|v| v.to_string())),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_entries)]
struct Row {
    id: i32,
    user_id: Option<i32>,
    at: chrono::NaiveDateTime,
    entity: String,
    entity_id: i32,
    action: String,
    before_value: Option<String>,
    after_value: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i32,
    pub user_id: Option<i32>,
    pub user_name: Option<String>,
    #[serde(serialize_with = "crate::domain::when::naive")]
    pub at: chrono::NaiveDateTime,
    pub entity: String,
    pub entity_id: i32,
    pub action: String,
    pub before_value: Option<String>,
    pub after_value: Option<String>,
}

fn entry((r, user_name): (Row, Option<String>)) -> AuditEntry {
    AuditEntry {
        id: r.id,
        user_id: r.user_id,
        user_name,
        at: r.at,
        entity: r.entity,
        entity_id: r.entity_id,
        action: r.action,
        before_value: r.before_value,
        after_value: r.after_value,
    }
}

pub fn list(conn: &mut AnyConnection, params: &ListParams) -> AppResult<Page<AuditEntry>> {
    let total: i64 = audit_entries::table.count().get_result(conn)?;
    let items = audit_entries::table
        .left_join(users::table)
        .order(audit_entries::id.desc())
        .limit(params.per_page)
        .offset(params.offset())
        .select((Row::as_select(), users::email.nullable()))
        .load(conn)?;
    Ok(Page::new(
        items.into_iter().map(entry).collect(),
        params,
        total,
    ))
}

pub fn for_entity(conn: &mut AnyConnection, entity: &str, id: i32) -> AppResult<Vec<AuditEntry>> {
    Ok(audit_entries::table
        .left_join(users::table)
        .filter(audit_entries::entity.eq(entity))
        .filter(audit_entries::entity_id.eq(id))
        .order(audit_entries::id.desc())
        .select((Row::as_select(), users::email.nullable()))
        .load(conn)?
        .into_iter()
        .map(entry)
        .collect())
}
