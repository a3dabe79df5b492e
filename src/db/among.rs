//! `column IN (ids)` for a list of ids that differs from one run to the next, written so
//! that both databases keep the statement compiled.
//!
//! diesel's `eq_any` binds one parameter per id on SQLite and marks such a statement as
//! not to be kept, so SQLite compiled it again on every run (a profile of the impact page
//! under load found a tenth of its time there). Here SQLite is given the ids as one JSON
//! array, read back by `json_each`; PostgreSQL keeps `= ANY($1)`, one array parameter,
//! which diesel already keeps compiled.

use diesel::backend::Backend;
use diesel::expression::{is_aggregate, AppearsOnTable, ValidGrouping};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, HasSqlType, Integer, Text};

use super::AnyConnection;

type Db = <AnyConnection as Connection>::Backend;

diesel::infix_operator!(InJsonArray, " IN (SELECT value FROM json_each(");

/// The ids (or keys) as one bound JSON array, closing `json_each(`. Not `dsl::sql`, which diesel
/// marks as not to be kept compiled.
#[derive(Debug, Clone)]
pub struct JsonIds(String);

impl Expression for JsonIds {
    type SqlType = Text;
}

impl<QS> AppearsOnTable<QS> for JsonIds {}

impl<QS> SelectableExpression<QS> for JsonIds {}

impl ValidGrouping<()> for JsonIds {
    type IsAggregate = is_aggregate::Never;
}

impl QueryId for JsonIds {
    type QueryId = ();
    // Kept by its SQL, which is the same whatever the ids.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB> QueryFragment<DB> for JsonIds
where
    DB: Backend + HasSqlType<Text>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_bind_param::<Text, String>(&self.0)?;
        out.push_sql("))");
        Ok(())
    }
}

/// Which SQL a connection speaks, for building a query before the connection is lent
/// to it (inside a closure that builds the query again for a count and a page, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl From<&AnyConnection> for Dialect {
    fn from(conn: &AnyConnection) -> Dialect {
        match conn {
            AnyConnection::Sqlite(_) => Dialect::Sqlite,
            AnyConnection::Postgresql(_) => Dialect::Postgres,
        }
    }
}

/// `column IN (ids)` in the SQL of `on` (a connection or its `Dialect`).
pub fn among<'a, QS, C>(
    on: impl Into<Dialect>,
    column: C,
    ids: &[i32],
) -> Box<dyn BoxableExpression<QS, Db, SqlType = Bool> + 'a>
where
    C: ExpressionMethods + Expression<SqlType = Integer>,
    diesel::dsl::EqAny<C, Vec<i32>>: BoxableExpression<QS, Db, SqlType = Bool> + 'a,
    InJsonArray<C, JsonIds>: BoxableExpression<QS, Db, SqlType = Bool> + 'a,
{
    either(on.into(), column, serde_json::to_string(ids), |c| {
        Box::new(c.eq_any(ids.to_vec()))
    })
}

/// `column IN (keys)` for a text column, as `among` does for ids.
pub fn among_text<'a, QS, C>(
    on: impl Into<Dialect>,
    column: C,
    keys: &[String],
) -> Box<dyn BoxableExpression<QS, Db, SqlType = Bool> + 'a>
where
    C: ExpressionMethods + Expression<SqlType = Text>,
    diesel::dsl::EqAny<C, Vec<String>>: BoxableExpression<QS, Db, SqlType = Bool> + 'a,
    InJsonArray<C, JsonIds>: BoxableExpression<QS, Db, SqlType = Bool> + 'a,
{
    either(on.into(), column, serde_json::to_string(keys), |c| {
        Box::new(c.eq_any(keys.to_vec()))
    })
}

/// The JSON array on SQLite (serde_json quotes and escapes each value), `eq_any` on
/// PostgreSQL (and, should the values not make JSON, anywhere).
fn either<'a, QS, C>(
    on: Dialect,
    column: C,
    json: serde_json::Result<String>,
    eq_any: impl FnOnce(C) -> Box<dyn BoxableExpression<QS, Db, SqlType = Bool> + 'a>,
) -> Box<dyn BoxableExpression<QS, Db, SqlType = Bool> + 'a>
where
    InJsonArray<C, JsonIds>: BoxableExpression<QS, Db, SqlType = Bool> + 'a,
{
    match (on, json) {
        (Dialect::Sqlite, Ok(json)) => Box::new(InJsonArray::new(column, JsonIds(json))),
        _ => eq_any(column),
    }
}
