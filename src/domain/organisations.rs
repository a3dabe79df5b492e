//! Organisations (funders, partnerships), their plan priorities and the priorities' targets.

use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{organisations, priorities, targets};
use crate::db::AnyConnection;
use crate::domain::directory::{self, Kind};
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::{any_column_like, page_of, ListParams, Page};
use crate::domain::types::{OrganisationKind, TargetMeasure};
use crate::domain::{audit, like_pattern, must_exist, to_json as json, Actor};
use crate::error::{AppError, AppResult};

#[derive(Queryable, Selectable)]
#[diesel(table_name = organisations)]
struct Row {
    id: i32,
    name: String,
    kind: String,
    archived: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Organisation {
    pub id: i32,
    pub name: String,
    pub kind: OrganisationKind,
    pub archived: bool,
}

impl TryFrom<Row> for Organisation {
    type Error = AppError;

    fn try_from(r: Row) -> Result<Self, AppError> {
        Ok(Organisation {
            id: r.id,
            name: r.name,
            kind: OrganisationKind::from_db(&r.kind)?,
            archived: r.archived,
        })
    }
}

pub struct OrganisationInput {
    pub name: String,
    pub kind: OrganisationKind,
}

pub fn parse(input: &Input) -> AppResult<OrganisationInput> {
    let mut v = input.validator();
    let name = v.text("name", 200);
    let kind = v
        .choice_opt::<OrganisationKind>("kind")
        .unwrap_or(OrganisationKind::Partnership);
    v.finish()?;
    Ok(OrganisationInput { name, kind })
}

pub fn get(conn: &mut AnyConnection, id: i32) -> AppResult<Organisation> {
    organisations::table
        .find(id)
        .select(Row::as_select())
        .first(conn)?
        .try_into()
}

/// Organisations; `only` limits the list to one (a funder sees its own).
pub fn list(
    conn: &mut AnyConnection,
    params: &ListParams,
    only: Option<i32>,
) -> AppResult<Page<Organisation>> {
    let query = || {
        let mut q = organisations::table.into_boxed();
        if let Some(id) = only {
            q = q.filter(organisations::id.eq(id));
        }
        if let Some(term) = &params.q {
            q = q.filter(any_column_like!(like_pattern(term); organisations::name));
        }
        if !params.include_archived {
            q = q.filter(organisations::archived.eq(false));
        }
        q
    };
    let order = (organisations::name.asc(), organisations::id.asc());
    page_of!(conn, params, query, order: order, row: Row)
}

/// Every live organisation, for choosing one in a form.
pub fn all(conn: &mut AnyConnection) -> AppResult<Vec<Organisation>> {
    organisations::table
        .filter(organisations::archived.eq(false))
        .order(organisations::name.asc())
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(TryInto::try_into)
        .collect::<AppResult<_>>()
}

pub fn create(
    conn: &mut AnyConnection,
    actor: &Actor,
    input: OrganisationInput,
) -> AppResult<Organisation> {
    directory::create(
        conn,
        actor,
        Kind::Organisation,
        |conn| {
            let at = now();
            Ok(diesel::insert_into(organisations::table)
                .values((
                    organisations::name.eq(&input.name),
                    organisations::kind.eq(input.kind.as_str()),
                    organisations::created_at.eq(at),
                    organisations::updated_at.eq(at),
                ))
                .returning(organisations::id)
                .get_result(conn)?)
        },
        get,
    )
}

pub fn update(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    input: OrganisationInput,
) -> AppResult<Organisation> {
    directory::update(
        conn,
        actor,
        Kind::Organisation,
        id,
        |conn| {
            diesel::update(organisations::table.find(id))
                .set((
                    organisations::name.eq(&input.name),
                    organisations::kind.eq(input.kind.as_str()),
                    organisations::updated_at.eq(now()),
                ))
                .execute(conn)?;
            Ok(())
        },
        get,
    )
}

pub fn set_archived(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    archived: bool,
) -> AppResult<Organisation> {
    directory::set_archived(conn, actor, Kind::Organisation, id, archived, get, |_| {
        Ok(())
    })
}

// ----- priorities and targets -----

#[derive(Queryable, Selectable)]
#[diesel(table_name = priorities)]
struct PriorityRow {
    id: i32,
    organisation_id: i32,
    title: String,
    aims: String,
    position: i32,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = targets)]
struct TargetRow {
    id: i32,
    priority_id: i32,
    measure: String,
    value: i32,
    description: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Target {
    pub id: i32,
    pub priority_id: i32,
    pub measure: TargetMeasure,
    pub value: i32,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Priority {
    pub id: i32,
    pub organisation_id: i32,
    pub title: String,
    pub aims: String,
    pub position: i32,
    pub targets: Vec<Target>,
}

impl TryFrom<TargetRow> for Target {
    type Error = AppError;

    fn try_from(r: TargetRow) -> Result<Self, AppError> {
        Ok(Target {
            id: r.id,
            priority_id: r.priority_id,
            measure: TargetMeasure::from_db(&r.measure)?,
            value: r.value,
            description: r.description,
        })
    }
}

pub struct PriorityInput {
    pub title: String,
    pub aims: String,
}

pub fn parse_priority(input: &Input) -> AppResult<PriorityInput> {
    let mut v = input.validator();
    let title = v.text("title", 200);
    let aims = v.text_or_empty("aims", 4000);
    v.finish()?;
    Ok(PriorityInput { title, aims })
}

pub struct TargetInput {
    pub measure: TargetMeasure,
    pub value: i32,
    pub description: String,
}

pub fn parse_target(input: &Input) -> AppResult<TargetInput> {
    let mut v = input.validator();
    let measure = v.choice::<TargetMeasure>("measure");
    let value = v.int("value", 0, 10_000_000);
    let description = v.text_or_empty("description", 500);
    v.finish()?;
    Ok(TargetInput {
        measure: measure.unwrap_or(TargetMeasure::Other),
        value,
        description,
    })
}

/// The live priorities of an organisation, each with its targets, in plan order.
pub fn priorities_of(conn: &mut AnyConnection, organisation_id: i32) -> AppResult<Vec<Priority>> {
    let rows = priorities::table
        .filter(priorities::organisation_id.eq(organisation_id))
        .filter(priorities::archived.eq(false))
        .order((priorities::position.asc(), priorities::id.asc()))
        .select(PriorityRow::as_select())
        .load(conn)?;
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let all_targets: Vec<Target> = targets::table
        .filter(crate::db::among(&*conn, targets::priority_id, &ids))
        .order(targets::id.asc())
        .select(TargetRow::as_select())
        .load(conn)?
        .into_iter()
        .map(TryInto::try_into)
        .collect::<AppResult<_>>()?;
    Ok(rows
        .into_iter()
        .map(|r| Priority {
            targets: all_targets
                .iter()
                .filter(|t| t.priority_id == r.id)
                .cloned()
                .collect(),
            id: r.id,
            organisation_id: r.organisation_id,
            title: r.title,
            aims: r.aims,
            position: r.position,
        })
        .collect())
}

/// Every live priority of every live organisation, for choosing one in a form.
pub fn all_priorities(conn: &mut AnyConnection) -> AppResult<Vec<(i32, i32, String)>> {
    Ok(priorities::table
        .inner_join(organisations::table)
        .filter(priorities::archived.eq(false))
        .filter(organisations::archived.eq(false))
        .order((organisations::name.asc(), priorities::position.asc()))
        .select((
            priorities::id,
            priorities::organisation_id,
            priorities::title,
        ))
        .load(conn)?)
}

pub fn add_priority(
    conn: &mut AnyConnection,
    actor: &Actor,
    organisation_id: i32,
    input: PriorityInput,
) -> AppResult<Priority> {
    crate::db::write(conn, |conn| {
        get(conn, organisation_id)?;
        let position: Option<i32> = priorities::table
            .filter(priorities::organisation_id.eq(organisation_id))
            .select(diesel::dsl::max(priorities::position))
            .first(conn)?;
        let id: i32 = diesel::insert_into(priorities::table)
            .values((
                priorities::organisation_id.eq(organisation_id),
                priorities::title.eq(&input.title),
                priorities::aims.eq(&input.aims),
                priorities::position.eq(position.unwrap_or(0) + 1),
            ))
            .returning(priorities::id)
            .get_result(conn)?;
        let created = priorities_of(conn, organisation_id)?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(AppError::NotFound)?;
        audit::record(
            conn,
            Some(actor.user_id),
            "priority",
            id,
            "create",
            None,
            Some(&json(&created)),
        )?;
        Ok(created)
    })
}

pub fn add_target(
    conn: &mut AnyConnection,
    actor: &Actor,
    priority_id: i32,
    input: TargetInput,
) -> AppResult<Target> {
    crate::db::write(conn, |conn| {
        organisation_of_priority(conn, priority_id)?;
        let id: i32 = diesel::insert_into(targets::table)
            .values((
                targets::priority_id.eq(priority_id),
                targets::measure.eq(input.measure.as_str()),
                targets::value.eq(input.value),
                targets::description.eq(&input.description),
            ))
            .returning(targets::id)
            .get_result(conn)?;
        let created: Target = targets::table
            .find(id)
            .select(TargetRow::as_select())
            .first(conn)?
            .try_into()?;
        audit::record(
            conn,
            Some(actor.user_id),
            "target",
            created.id,
            "create",
            None,
            Some(&json(&created)),
        )?;
        Ok(created)
    })
}

/// Checks that a priority exists and belongs to the organisation (when one is given).
pub fn check_priority(
    conn: &mut AnyConnection,
    priority_id: i32,
    organisation_id: Option<i32>,
) -> AppResult<()> {
    let owner: i32 = must_exist(
        priorities::table
            .find(priority_id)
            .select(priorities::organisation_id)
            .first(conn),
        "priority_id",
    )?;
    if let Some(org) = organisation_id {
        if owner != org {
            return Err(AppError::field(
                "priority_id",
                "is a priority of another organisation",
            ));
        }
    }
    Ok(())
}

pub fn organisation_of_priority(conn: &mut AnyConnection, priority_id: i32) -> AppResult<i32> {
    Ok(priorities::table
        .find(priority_id)
        .select(priorities::organisation_id)
        .first(conn)?)
}

/// The one organisation a funder may see; None for staff, who see all.
pub fn only_for(actor: &Actor) -> Option<i32> {
    match actor.role {
        crate::domain::types::Role::Funder => Some(actor.organisation_id.unwrap_or(-1)),
        _ => None,
    }
}

/// An organisation as `actor` may see it: a funder only its own (others are not found).
pub fn get_for(conn: &mut AnyConnection, actor: &Actor, id: i32) -> AppResult<Organisation> {
    if only_for(actor).is_some_and(|own| own != id) {
        return Err(AppError::NotFound);
    }
    get(conn, id)
}
