//! Schools: the directory, searchable, editable and archivable; imported from the register.

use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::schools;
use crate::db::AnyConnection;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::{ListParams, Page};
use crate::domain::types::Phase;
use crate::domain::{audit, like_pattern, lower, to_json as json, Actor};
use crate::error::AppResult;

#[derive(Queryable, Selectable)]
#[diesel(table_name = schools)]
struct Row {
    id: i32,
    name: String,
    urn: Option<i32>,
    local_authority: String,
    district: String,
    phase: String,
    postcode: String,
    pupils: Option<i32>,
    fsm_percent: Option<f64>,
    archived: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct School {
    pub id: i32,
    pub name: String,
    pub urn: Option<i32>,
    pub local_authority: String,
    pub district: String,
    pub phase: Phase,
    pub postcode: String,
    pub pupils: Option<i32>,
    pub fsm_percent: Option<f64>,
    pub archived: bool,
}

impl From<Row> for School {
    fn from(r: Row) -> Self {
        School {
            id: r.id,
            name: r.name,
            urn: r.urn,
            local_authority: r.local_authority,
            district: r.district,
            phase: Phase::parse(&r.phase).unwrap_or(Phase::Other),
            postcode: r.postcode,
            pupils: r.pupils,
            fsm_percent: r.fsm_percent,
            archived: r.archived,
        }
    }
}

/// A validated school, as typed in a form, sent to the API or read from the register.
#[derive(Debug, Clone, PartialEq)]
pub struct SchoolInput {
    pub name: String,
    pub urn: Option<i32>,
    pub local_authority: String,
    pub district: String,
    pub phase: Phase,
    pub postcode: String,
    pub pupils: Option<i32>,
    pub fsm_percent: Option<f64>,
}

pub fn parse(input: &Input) -> AppResult<SchoolInput> {
    let mut v = input.validator();
    let school = SchoolInput {
        name: v.text("name", 200),
        urn: v.int_opt("urn", 1, 99_999_999),
        local_authority: v.text_or_empty("local_authority", 100),
        district: v.text_or_empty("district", 100),
        phase: v.choice_opt::<Phase>("phase").unwrap_or(Phase::Other),
        postcode: v.text_or_empty("postcode", 10).to_uppercase(),
        pupils: v.int_opt("pupils", 0, 100_000),
        fsm_percent: v.decimal_opt("fsm_percent", 0.0, 100.0),
    };
    v.finish()?;
    Ok(school)
}

pub fn get(conn: &mut AnyConnection, id: i32) -> AppResult<School> {
    Ok(schools::table
        .find(id)
        .select(Row::as_select())
        .first(conn)?
        .into())
}

pub fn find_by_urn(conn: &mut AnyConnection, urn: i32) -> AppResult<Option<School>> {
    Ok(schools::table
        .filter(schools::urn.eq(urn))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Into::into))
}

pub fn list(conn: &mut AnyConnection, params: &ListParams) -> AppResult<Page<School>> {
    let query = || {
        let mut q = schools::table.into_boxed();
        if let Some(term) = &params.q {
            let pattern = like_pattern(term);
            let urn = term.trim().parse::<i32>().unwrap_or(-1);
            q = q.filter(
                lower(schools::name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(schools::district).like(pattern.clone()).escape('\\'))
                    .or(lower(schools::postcode).like(pattern).escape('\\'))
                    .or(schools::urn.eq(urn)),
            );
        }
        if !params.include_archived {
            q = q.filter(schools::archived.eq(false));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let items = query()
        .order((schools::name.asc(), schools::id.asc()))
        .limit(params.per_page)
        .offset(params.offset())
        .select(Row::as_select())
        .load(conn)?;
    Ok(Page::new(
        items.into_iter().map(Into::into).collect(),
        params,
        total,
    ))
}

/// Live schools by name, for choosing one in a form.
pub fn all(conn: &mut AnyConnection) -> AppResult<Vec<(i32, String)>> {
    Ok(schools::table
        .filter(schools::archived.eq(false))
        .order(schools::name.asc())
        .select((schools::id, schools::name))
        .load(conn)?)
}

/// Inserts without its own transaction or audit entry: the caller holds both.
pub(crate) fn insert(conn: &mut AnyConnection, s: &SchoolInput) -> AppResult<i32> {
    let at = now();
    Ok(diesel::insert_into(schools::table)
        .values((
            schools::name.eq(&s.name),
            schools::urn.eq(s.urn),
            schools::local_authority.eq(&s.local_authority),
            schools::district.eq(&s.district),
            schools::phase.eq(s.phase.as_str()),
            schools::postcode.eq(&s.postcode),
            schools::pupils.eq(s.pupils),
            schools::fsm_percent.eq(s.fsm_percent),
            schools::created_at.eq(at),
            schools::updated_at.eq(at),
        ))
        .returning(schools::id)
        .get_result(conn)?)
}

pub(crate) fn overwrite(conn: &mut AnyConnection, id: i32, s: &SchoolInput) -> AppResult<()> {
    diesel::update(schools::table.find(id))
        .set((
            schools::name.eq(&s.name),
            schools::urn.eq(s.urn),
            schools::local_authority.eq(&s.local_authority),
            schools::district.eq(&s.district),
            schools::phase.eq(s.phase.as_str()),
            schools::postcode.eq(&s.postcode),
            schools::pupils.eq(s.pupils),
            schools::fsm_percent.eq(s.fsm_percent),
            schools::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn create(conn: &mut AnyConnection, actor: &Actor, input: SchoolInput) -> AppResult<School> {
    conn.transaction(|conn| {
        let id = insert(conn, &input)?;
        let created = get(conn, id)?;
        audit::record(
            conn,
            Some(actor.user_id),
            "school",
            id,
            "create",
            None,
            Some(&json(&created)),
        )?;
        Ok(created)
    })
}

pub fn update(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    input: SchoolInput,
) -> AppResult<School> {
    conn.transaction(|conn| {
        let before = get(conn, id)?;
        overwrite(conn, id, &input)?;
        let after = get(conn, id)?;
        audit::record(
            conn,
            Some(actor.user_id),
            "school",
            id,
            "update",
            Some(&json(&before)),
            Some(&json(&after)),
        )?;
        Ok(after)
    })
}

pub fn set_archived(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    archived: bool,
) -> AppResult<School> {
    conn.transaction(|conn| {
        let before = get(conn, id)?;
        diesel::update(schools::table.find(id))
            .set((
                schools::archived.eq(archived),
                schools::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let after = get(conn, id)?;
        let action = if archived { "archive" } else { "restore" };
        audit::record(
            conn,
            Some(actor.user_id),
            "school",
            id,
            action,
            Some(&json(&before)),
            Some(&json(&after)),
        )?;
        Ok(after)
    })
}
