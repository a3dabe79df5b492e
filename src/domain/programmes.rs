//! Programmes: one production's round in one season, with its funder, priority and targets.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{organisations, programmes};
use crate::db::AnyConnection;
use crate::domain::directory::{self, Kind};
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::{any_column_like, ListParams, Page};
use crate::domain::types::{ProgrammeStatus, Role};
use crate::domain::{like_pattern, must_exist, organisations as orgs, Actor};
use crate::error::{AppError, AppResult};

#[derive(Queryable, Selectable)]
#[diesel(table_name = programmes)]
struct Row {
    id: i32,
    title: String,
    year: i32,
    theme: String,
    organisation_id: Option<i32>,
    priority_id: Option<i32>,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    target_schools: Option<i32>,
    target_audience: Option<i32>,
    target_events: Option<i32>,
    status: String,
    archived: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Programme {
    pub id: i32,
    pub title: String,
    pub year: i32,
    pub theme: String,
    pub organisation_id: Option<i32>,
    pub organisation_name: Option<String>,
    pub priority_id: Option<i32>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub target_schools: Option<i32>,
    pub target_audience: Option<i32>,
    pub target_events: Option<i32>,
    pub status: ProgrammeStatus,
    pub archived: bool,
}

impl Programme {
    /// What a school may know of a programme: what it is and when, not who funds it or
    /// what the funder's targets are.
    pub fn for_school(mut self) -> Programme {
        self.organisation_id = None;
        self.organisation_name = None;
        self.priority_id = None;
        self.target_schools = None;
        self.target_audience = None;
        self.target_events = None;
        self
    }
}

fn view(r: Row, organisation_name: Option<String>) -> AppResult<Programme> {
    Ok(Programme {
        id: r.id,
        title: r.title,
        year: r.year,
        theme: r.theme,
        organisation_id: r.organisation_id,
        organisation_name,
        priority_id: r.priority_id,
        starts_on: r.starts_on,
        ends_on: r.ends_on,
        target_schools: r.target_schools,
        target_audience: r.target_audience,
        target_events: r.target_events,
        status: ProgrammeStatus::from_db(&r.status)?,
        archived: r.archived,
    })
}

#[derive(Debug, Clone)]
pub struct ProgrammeInput {
    pub title: String,
    pub year: i32,
    pub theme: String,
    pub organisation_id: Option<i32>,
    pub priority_id: Option<i32>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub target_schools: Option<i32>,
    pub target_audience: Option<i32>,
    pub target_events: Option<i32>,
    pub status: ProgrammeStatus,
}

/// Checks the fields, then that the funder and priority exist and belong together.
pub fn parse(conn: &mut AnyConnection, input: &Input) -> AppResult<ProgrammeInput> {
    let mut v = input.validator();
    let p = ProgrammeInput {
        title: v.text("title", 200),
        year: v.int("year", 1900, 2200),
        theme: v.text_or_empty("theme", 500),
        organisation_id: v.id_opt("organisation_id"),
        priority_id: v.id_opt("priority_id"),
        starts_on: v.date_opt("starts_on"),
        ends_on: v.date_opt("ends_on"),
        target_schools: v.int_opt("target_schools", 0, 1_000_000),
        target_audience: v.int_opt("target_audience", 0, 10_000_000),
        target_events: v.int_opt("target_events", 0, 1_000_000),
        status: v
            .choice_opt::<ProgrammeStatus>("status")
            .unwrap_or(ProgrammeStatus::Planned),
    };
    if let (Some(s), Some(e)) = (p.starts_on, p.ends_on) {
        if e < s {
            v.error("ends_on", "must be on or after the start date");
        }
    }
    v.finish()?;
    if let Some(org) = p.organisation_id {
        let found = organisations::table
            .find(org)
            .select(organisations::id)
            .first::<i32>(conn);
        must_exist(found, "organisation_id")?;
    }
    if let Some(priority) = p.priority_id {
        orgs::check_priority(conn, priority, p.organisation_id)?;
    }
    Ok(p)
}

fn load(conn: &mut AnyConnection, id: i32) -> AppResult<Programme> {
    let (row, org): (Row, Option<String>) = programmes::table
        .left_join(organisations::table)
        .filter(programmes::id.eq(id))
        .select((Row::as_select(), organisations::name.nullable()))
        .first(conn)?;
    view(row, org)
}

/// The programmes a school may see: those it could book now (not archived, with a venue
/// performance or live stream open for booking, or a free tour date, still to come) and
/// those it has booked.
pub fn visible_to_school(conn: &mut AnyConnection, school_id: i32) -> AppResult<Vec<i32>> {
    use crate::db::schema::{bookings, events, tour_slots};
    let at = now();
    let mut ids: Vec<i32> = events::table
        .inner_join(programmes::table)
        .filter(programmes::archived.eq(false))
        .filter(crate::any_of!(events::status, ["open", "confirmed"]))
        .filter(events::school_id.is_null())
        .filter(events::starts_at.gt(at))
        .select(events::programme_id)
        .distinct()
        .load(conn)?;
    ids.extend(
        tour_slots::table
            .inner_join(programmes::table)
            .filter(programmes::archived.eq(false))
            .filter(tour_slots::status.eq("open"))
            .filter(tour_slots::starts_at.gt(at))
            .select(tour_slots::programme_id)
            .distinct()
            .load::<i32>(conn)?,
    );
    ids.extend(
        bookings::table
            .inner_join(events::table)
            .filter(bookings::school_id.eq(school_id))
            .select(events::programme_id)
            .distinct()
            .load::<i32>(conn)?,
    );
    ids.extend(
        bookings::table
            .inner_join(tour_slots::table)
            .filter(bookings::school_id.eq(school_id))
            .select(tour_slots::programme_id)
            .distinct()
            .load::<i32>(conn)?,
    );
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// A programme as `actor` may see it: a funder only its own organisation's, a school only
/// what it could book or has booked.
pub fn get(conn: &mut AnyConnection, actor: &Actor, id: i32) -> AppResult<Programme> {
    let p = load(conn, id)?;
    match actor.role {
        Role::Funder if p.organisation_id != actor.organisation_id => Err(AppError::NotFound),
        Role::School => {
            let school = actor.school_id.ok_or(AppError::NotFound)?;
            if visible_to_school(conn, school)?.contains(&id) {
                Ok(p.for_school())
            } else {
                Err(AppError::NotFound)
            }
        }
        _ => Ok(p),
    }
}

/// Programmes' titles with their year ("Ruby (2018)"), by id: how lists name the
/// production a booking or event belongs to.
pub fn titles(
    conn: &mut AnyConnection,
    ids: &[i32],
) -> AppResult<std::collections::HashMap<i32, String>> {
    let rows: Vec<(i32, String, i32)> = programmes::table
        .filter(crate::db::among(&*conn, programmes::id, ids))
        .select((programmes::id, programmes::title, programmes::year))
        .load(conn)?;
    Ok(rows.into_iter().map(titled).collect())
}

/// `(id, "Title (year)")`, as lists name a programme.
fn titled((id, title, year): (i32, String, i32)) -> (i32, String) {
    (id, format!("{title} ({year})"))
}

/// Every programme that is not archived, newest year first, as `(id, "Title (year)")`:
/// the choices of a staff filter.
pub fn choices(conn: &mut AnyConnection) -> AppResult<Vec<(i32, String)>> {
    let rows: Vec<(i32, String, i32)> = programmes::table
        .filter(programmes::archived.eq(false))
        .order((
            programmes::year.desc(),
            programmes::title.asc(),
            programmes::id.asc(),
        ))
        .select((programmes::id, programmes::title, programmes::year))
        .load(conn)?;
    Ok(rows.into_iter().map(titled).collect())
}

pub fn list(
    conn: &mut AnyConnection,
    actor: &Actor,
    params: &ListParams,
) -> AppResult<Page<Programme>> {
    let school_may_see = match actor.role {
        Role::School => Some(match actor.school_id {
            Some(school) => visible_to_school(conn, school)?,
            None => Vec::new(),
        }),
        _ => None,
    };
    let dialect = crate::db::Dialect::from(&*conn);
    let query = || {
        let mut q = programmes::table
            .left_join(organisations::table)
            .into_boxed();
        if let Some(term) = &params.q {
            let year = term.trim().parse::<i32>().unwrap_or(-1);
            let words = any_column_like!(like_pattern(term); programmes::title, programmes::theme);
            q = q.filter(words.or(programmes::year.eq(year)));
        }
        if !params.include_archived {
            q = q.filter(programmes::archived.eq(false));
        }
        if actor.role == Role::Funder {
            q = q.filter(programmes::organisation_id.eq(actor.organisation_id.unwrap_or(-1)));
        }
        if let Some(ids) = &school_may_see {
            q = q.filter(crate::db::among(dialect, programmes::id, ids));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<(Row, Option<String>)> = query()
        .order((
            programmes::year.desc(),
            programmes::title.asc(),
            programmes::id.asc(),
        ))
        .limit(params.per_page)
        .offset(params.offset())
        .select((Row::as_select(), organisations::name.nullable()))
        .load(conn)?;
    let school = actor.role == Role::School;
    Ok(Page::new(
        rows.into_iter()
            .map(|(r, o)| {
                let p = view(r, o)?;
                Ok(if school { p.for_school() } else { p })
            })
            .collect::<AppResult<_>>()?,
        params,
        total,
    ))
}

pub fn create(conn: &mut AnyConnection, actor: &Actor, p: ProgrammeInput) -> AppResult<Programme> {
    directory::create(
        conn,
        actor,
        Kind::Programme,
        |conn| {
            let at = now();
            Ok(diesel::insert_into(programmes::table)
                .values((
                    programmes::title.eq(&p.title),
                    programmes::year.eq(p.year),
                    programmes::theme.eq(&p.theme),
                    programmes::organisation_id.eq(p.organisation_id),
                    programmes::priority_id.eq(p.priority_id),
                    programmes::starts_on.eq(p.starts_on),
                    programmes::ends_on.eq(p.ends_on),
                    programmes::target_schools.eq(p.target_schools),
                    programmes::target_audience.eq(p.target_audience),
                    programmes::target_events.eq(p.target_events),
                    programmes::status.eq(p.status.as_str()),
                    programmes::created_at.eq(at),
                    programmes::updated_at.eq(at),
                ))
                .returning(programmes::id)
                .get_result(conn)?)
        },
        load,
    )
}

pub fn update(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    p: ProgrammeInput,
) -> AppResult<Programme> {
    directory::update(
        conn,
        actor,
        Kind::Programme,
        id,
        |conn| {
            diesel::update(programmes::table.find(id))
                .set((
                    programmes::title.eq(&p.title),
                    programmes::year.eq(p.year),
                    programmes::theme.eq(&p.theme),
                    programmes::organisation_id.eq(p.organisation_id),
                    programmes::priority_id.eq(p.priority_id),
                    programmes::starts_on.eq(p.starts_on),
                    programmes::ends_on.eq(p.ends_on),
                    programmes::target_schools.eq(p.target_schools),
                    programmes::target_audience.eq(p.target_audience),
                    programmes::target_events.eq(p.target_events),
                    programmes::status.eq(p.status.as_str()),
                    programmes::updated_at.eq(now()),
                ))
                .execute(conn)?;
            Ok(())
        },
        load,
    )
}

pub fn set_archived(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    archived: bool,
) -> AppResult<Programme> {
    directory::set_archived(conn, actor, Kind::Programme, id, archived, load, |_| Ok(()))
}
