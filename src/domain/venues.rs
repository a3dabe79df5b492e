//! Venues: public places (arts centres, halls) where performances are held.

use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::venues;
use crate::db::AnyConnection;
use crate::domain::directory::{self, Kind};
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::{any_column_like, page_of, ListParams, Page};
use crate::domain::types::VenueKind;
use crate::domain::{like_pattern, Actor};
use crate::error::AppResult;

#[derive(Queryable, Selectable)]
#[diesel(table_name = venues)]
struct Row {
    id: i32,
    name: String,
    kind: String,
    postcode: String,
    capacity: Option<i32>,
    archived: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Venue {
    pub id: i32,
    pub name: String,
    pub kind: VenueKind,
    pub postcode: String,
    pub capacity: Option<i32>,
    pub archived: bool,
}

impl TryFrom<Row> for Venue {
    type Error = crate::error::AppError;

    fn try_from(r: Row) -> Result<Self, crate::error::AppError> {
        Ok(Venue {
            id: r.id,
            name: r.name,
            kind: VenueKind::from_db(&r.kind)?,
            postcode: r.postcode,
            capacity: r.capacity,
            archived: r.archived,
        })
    }
}

pub struct VenueInput {
    pub name: String,
    pub kind: VenueKind,
    pub postcode: String,
    pub capacity: Option<i32>,
}

pub fn parse(input: &Input) -> AppResult<VenueInput> {
    let mut v = input.validator();
    let venue = VenueInput {
        name: v.text("name", 200),
        kind: v
            .choice_opt::<VenueKind>("kind")
            .unwrap_or(VenueKind::Other),
        postcode: v.text_or_empty("postcode", 10).to_uppercase(),
        capacity: v.int_opt("capacity", 0, 100_000),
    };
    v.finish()?;
    Ok(venue)
}

pub fn get(conn: &mut AnyConnection, id: i32) -> AppResult<Venue> {
    venues::table
        .find(id)
        .select(Row::as_select())
        .first(conn)?
        .try_into()
}

pub fn list(conn: &mut AnyConnection, params: &ListParams) -> AppResult<Page<Venue>> {
    let query = || {
        let mut q = venues::table.into_boxed();
        if let Some(term) = &params.q {
            q = q.filter(any_column_like!(like_pattern(term); venues::name, venues::postcode));
        }
        if !params.include_archived {
            q = q.filter(venues::archived.eq(false));
        }
        q
    };
    page_of!(conn, params, query, order: (venues::name.asc(), venues::id.asc()), row: Row)
}

pub fn create(conn: &mut AnyConnection, actor: &Actor, input: VenueInput) -> AppResult<Venue> {
    directory::create(
        conn,
        actor,
        Kind::Venue,
        |conn| {
            let at = now();
            Ok(diesel::insert_into(venues::table)
                .values((
                    venues::name.eq(&input.name),
                    venues::kind.eq(input.kind.as_str()),
                    venues::postcode.eq(&input.postcode),
                    venues::capacity.eq(input.capacity),
                    venues::created_at.eq(at),
                    venues::updated_at.eq(at),
                ))
                .returning(venues::id)
                .get_result(conn)?)
        },
        get,
    )
}

pub fn update(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    input: VenueInput,
) -> AppResult<Venue> {
    directory::update(
        conn,
        actor,
        Kind::Venue,
        id,
        |conn| {
            diesel::update(venues::table.find(id))
                .set((
                    venues::name.eq(&input.name),
                    venues::kind.eq(input.kind.as_str()),
                    venues::postcode.eq(&input.postcode),
                    venues::capacity.eq(input.capacity),
                    venues::updated_at.eq(now()),
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
) -> AppResult<Venue> {
    directory::set_archived(conn, actor, Kind::Venue, id, archived, get, |_| Ok(()))
}
