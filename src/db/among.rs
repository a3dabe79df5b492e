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
struct JsonIds(String);

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
    C: Expression<SqlType = Integer>
        + ExpressionMethods
        + SelectableExpression<QS>
        + ValidGrouping<(), IsAggregate = is_aggregate::No>
        + QueryFragment<Db>
        + QueryFragment<diesel::pg::Pg>
        + QueryFragment<diesel::sqlite::Sqlite>
        + Send
        + 'a,
    QS: 'a,
{
    match on.into() {
        Dialect::Sqlite => {
            let json = format!(
                "[{}]",
                ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
            );
            Box::new(InJsonArray::new(column, JsonIds(json)))
        }
        Dialect::Postgres => Box::new(column.eq_any(ids.to_vec())),
    }
}

/// `column IN (keys)` for a text column, as `among` does for ids.
pub fn among_text<'a, QS, C>(
    on: impl Into<Dialect>,
    column: C,
    keys: &[String],
) -> Box<dyn BoxableExpression<QS, Db, SqlType = Bool> + 'a>
where
    C: Expression<SqlType = Text>
        + ExpressionMethods
        + SelectableExpression<QS>
        + ValidGrouping<(), IsAggregate = is_aggregate::No>
        + QueryFragment<Db>
        + QueryFragment<diesel::pg::Pg>
        + QueryFragment<diesel::sqlite::Sqlite>
        + Send
        + 'a,
    QS: 'a,
{
    match on.into() {
        // serde_json quotes and escapes each key.
        Dialect::Sqlite => match serde_json::to_string(keys) {
            Ok(json) => Box::new(InJsonArray::new(column, JsonIds(json))),
            Err(_) => Box::new(column.eq_any(keys.to_vec())),
        },
        Dialect::Postgres => Box::new(column.eq_any(keys.to_vec())),
    }
}
