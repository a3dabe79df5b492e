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

/// What narrows the audit log: a kind of record (and one of them), who, and a span of time
/// (UTC; the page turns local days into it).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<i32>,
    /// Part of a user's e-mail address or name.
    pub who: Option<String>,
    /// From this moment on.
    pub from: Option<chrono::NaiveDateTime>,
    /// Before this moment.
    pub before: Option<chrono::NaiveDateTime>,
}

/// The log under a filter, newest first.
pub fn filtered(
    conn: &mut AnyConnection,
    params: &ListParams,
    filter: &AuditFilter,
) -> AppResult<Page<AuditEntry>> {
    // The users whose address or name has the text (first, as the log joins users too).
    let who: Option<Vec<Option<i32>>> = match &filter.who {
        Some(text) => {
            use crate::domain::lower;
            let pattern = crate::domain::like_pattern(text);
            Some(
                users::table
                    .filter(
                        lower(users::email)
                            .like(pattern.clone())
                            .escape('\\')
                            .or(lower(users::name).like(pattern).escape('\\')),
                    )
                    .select(users::id.nullable())
                    .limit(1000)
                    .load(conn)?,
            )
        }
        None => None,
    };
    let query = || {
        let mut q = audit_entries::table.left_join(users::table).into_boxed();
        if let Some(e) = &filter.entity {
            q = q.filter(audit_entries::entity.eq(e.clone()));
        }
        if let Some(id) = filter.entity_id {
            q = q.filter(audit_entries::entity_id.eq(id));
        }
        if let Some(ids) = &who {
            q = q.filter(audit_entries::user_id.eq_any(ids.clone()));
        }
        if let Some(from) = filter.from {
            q = q.filter(audit_entries::at.ge(from));
        }
        if let Some(before) = filter.before {
            q = q.filter(audit_entries::at.lt(before));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let items = query()
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

/// The kinds of record the log holds, for its filter.
pub fn entities(conn: &mut AnyConnection) -> AppResult<Vec<String>> {
    Ok(audit_entries::table
        .select(audit_entries::entity)
        .distinct()
        .order(audit_entries::entity.asc())
        .load(conn)?)
}

/// Who made a change, in words: the user, or what acted without one.
pub fn actor_name(e: &AuditEntry) -> String {
    if let Some(user) = &e.user_name {
        return user.clone();
    }
    let after = e
        .after_value
        .as_deref()
        .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
        .unwrap_or_default();
    match (e.entity.as_str(), e.action.as_str()) {
        ("feedback", "create") => match after["school_name"].as_str() {
            Some(school) if after["link_id"].is_number() => {
                format!("feedback form (link for {school})")
            }
            _ => "feedback form".into(),
        },
        ("booking", "status") => "Outreach, on its own (a place came free)".into(),
        ("school_request", "ask") => "a teacher, on the public page".into(),
        ("school_request", "approve") => {
            "Outreach, on its own (the school's own e-mail domain)".into()
        }
        ("invitation", "invite") if after["via"] == "school_domain" => {
            "Outreach, on its own (the school's own e-mail domain)".into()
        }
        ("user", "password") => "the person, by a mailed reset link".into(),
        _ => "command line".into(),
    }
}

/// Fields a change never needs to show.
const QUIET: &[&str] = &["id", "created_at", "updated_at", "password_hash"];

/// A JSON value as a person reads it.
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "nothing".into(),
        serde_json::Value::String(s) if s.is_empty() => "nothing".into(),
        serde_json::Value::String(s) if s.chars().count() > 80 => {
            format!("“{}…”", s.chars().take(80).collect::<String>())
        }
        serde_json::Value::String(s) => format!("“{s}”"),
        serde_json::Value::Bool(true) => "yes".into(),
        serde_json::Value::Bool(false) => "no".into(),
        serde_json::Value::Array(items) => format!("{} items", items.len()),
        serde_json::Value::Object(_) => "details".into(),
        n => n.to_string(),
    }
}

fn field(key: &str) -> String {
    key.replace('_', " ")
}

/// An attendance row's name: its school or group.
fn row_name(r: &serde_json::Value) -> String {
    r["school_name"]
        .as_str()
        .filter(|s| !s.is_empty())
        .or(r["group"].as_str().filter(|s| !s.is_empty()))
        .unwrap_or("a row")
        .to_string()
}

/// A change as a person reads it: "pupils 58 → 61", "status requested → confirmed", or
/// what was made ("made: title “Ruby”, year 2018").
pub fn describe(e: &AuditEntry) -> String {
    let parse = |v: &Option<String>| {
        v.as_deref()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
    };
    let (before, after) = (parse(&e.before_value), parse(&e.after_value));
    use serde_json::Value;
    let text = match (&before, &after) {
        (Some(Value::Array(b)), Some(Value::Array(a))) => rows_changed(b, a),
        (None, Some(Value::Array(a))) => rows_changed(&[], a),
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| !QUIET.contains(&k.as_str()))
                .filter_map(|k| {
                    let (old, new) = (
                        b.get(k).cloned().unwrap_or(Value::Null),
                        a.get(k).cloned().unwrap_or(Value::Null),
                    );
                    if old == new {
                        None
                    } else if b.contains_key(k) {
                        Some(format!("{} {} → {}", field(k), plain(&old), plain(&new)))
                    } else {
                        Some(format!("{} {}", field(k), plain(&new)))
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
        (None, Some(Value::Object(a))) => {
            let shown: Vec<String> = a
                .iter()
                .filter(|(k, v)| {
                    !QUIET.contains(&k.as_str())
                        && !v.is_null()
                        && v.as_bool() != Some(false)
                        && v.as_str() != Some("")
                        && !v.is_array()
                        && !v.is_object()
                })
                .take(6)
                .map(|(k, v)| format!("{} {}", field(k), plain(v)))
                .collect();
            format!("made: {}", shown.join(", "))
        }
        (Some(_), None) => "removed".into(),
        (None, Some(v)) => plain(v),
        (Some(b), Some(a)) => format!("{} → {}", plain(b), plain(a)),
        (None, None) => String::new(),
    };
    let text: String = text.chars().take(400).collect();
    if text.is_empty() {
        "no visible change".into()
    } else {
        text
    }
}

/// Attendance rows before and after, matched by school or group.
fn rows_changed(before: &[serde_json::Value], after: &[serde_json::Value]) -> String {
    let counts = ["pupils", "staff", "other"];
    let mut out = Vec::new();
    for a in after {
        let name = row_name(a);
        match before.iter().find(|b| row_name(b) == name) {
            Some(b) => {
                let changed: Vec<String> = counts
                    .iter()
                    .filter(|c| b[**c] != a[**c])
                    .map(|c| format!("{c} {} → {}", plain(&b[*c]), plain(&a[*c])))
                    .collect();
                if !changed.is_empty() {
                    out.push(format!("{name}: {}", changed.join(", ")));
                }
            }
            None => out.push(format!(
                "{name} added: {} pupils, {} staff, {} other adults",
                plain(&a["pupils"]),
                plain(&a["staff"]),
                plain(&a["other"])
            )),
        }
    }
    for b in before {
        let name = row_name(b);
        if !after.iter().any(|a| row_name(a) == name) {
            out.push(format!("{name} removed"));
        }
    }
    out.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(entity: &str, action: &str, before: Option<&str>, after: Option<&str>) -> AuditEntry {
        AuditEntry {
            id: 1,
            user_id: None,
            user_name: None,
            at: chrono::NaiveDateTime::default(),
            entity: entity.into(),
            entity_id: 1,
            action: action.into(),
            before_value: before.map(str::to_string),
            after_value: after.map(str::to_string),
        }
    }

    #[test]
    fn changes_read_as_old_to_new() {
        let e = entry(
            "attendance",
            "replace",
            Some(
                r#"[{"school_name":"Kent Valley School","group":"","pupils":58,"staff":4,"other":0}]"#,
            ),
            Some(
                r#"[{"school_name":"Kent Valley School","group":"","pupils":61,"staff":4,"other":0},{"school_name":null,"group":"public","pupils":0,"staff":0,"other":40}]"#,
            ),
        );
        assert_eq!(
            describe(&e),
            "Kent Valley School: pupils 58 → 61; public added: 0 pupils, 0 staff, 40 other adults"
        );
        let e = entry(
            "booking",
            "status",
            Some(r#"{"status":"waitlisted"}"#),
            Some(r#"{"status":"confirmed","message":"A place freed up."}"#),
        );
        assert_eq!(
            describe(&e),
            "message “A place freed up.”; status “waitlisted” → “confirmed”"
        );
        assert_eq!(actor_name(&e), "Outreach, on its own (a place came free)");
        let e = entry(
            "programme",
            "create",
            None,
            Some(r#"{"id":3,"title":"Ruby","year":2018,"theme":""}"#),
        );
        assert_eq!(describe(&e), "made: title “Ruby”, year 2018");
    }

    #[test]
    fn an_answer_through_a_link_names_its_school() {
        let e = entry(
            "feedback",
            "create",
            None,
            Some(r#"{"school_name":"Kent Valley School","link_id":4}"#),
        );
        assert_eq!(
            actor_name(&e),
            "feedback form (link for Kent Valley School)"
        );
        assert_eq!(
            actor_name(&entry("school", "import", None, None)),
            "command line"
        );
    }
}
