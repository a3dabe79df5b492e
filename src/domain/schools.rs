//! Schools: the directory, searchable, editable and archivable; imported from the register.

use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::schools;
use crate::db::AnyConnection;
use crate::domain::directory::{self, Kind};
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::{any_column_like, page_of, ListParams, Page};
use crate::domain::types::Phase;
use crate::domain::{like_pattern, lower, Actor};
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
    town: String,
    contact_email: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
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
    pub town: String,
    /// Where the school is written to before anyone there has an account (staff and
    /// the school itself see it); invitations to a programme's schools go here.
    pub contact_email: String,
}

impl School {
    /// The name with what tells same-named schools apart: "Abbey Primary School (URN
    /// 112233, Kendal)". Pickers show it and read it back.
    pub fn label(&self) -> String {
        label(self.id, &self.name, self.urn, &self.town, &self.postcode)
    }
}

/// See `School::label`; a school without a URN is told by its id.
pub fn label(id: i32, name: &str, urn: Option<i32>, town: &str, postcode: &str) -> String {
    let key = match urn {
        Some(u) => format!("URN {u}"),
        None => format!("no URN, id {id}"),
    };
    let place = if !town.is_empty() { town } else { postcode };
    if place.is_empty() {
        format!("{name} ({key})")
    } else {
        format!("{name} ({key}, {place})")
    }
}

impl TryFrom<Row> for School {
    type Error = crate::error::AppError;

    fn try_from(r: Row) -> Result<Self, crate::error::AppError> {
        Ok(School {
            id: r.id,
            name: r.name,
            urn: r.urn,
            local_authority: r.local_authority,
            district: r.district,
            phase: Phase::from_db(&r.phase)?,
            postcode: r.postcode,
            pupils: r.pupils,
            fsm_percent: r.fsm_percent,
            archived: r.archived,
            town: r.town,
            contact_email: r.contact_email,
        })
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
    pub town: String,
    /// None keeps what is stored (the register has no addresses).
    pub contact_email: Option<String>,
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
        town: v.text_or_empty("town", 100),
        contact_email: Some(crate::domain::users::normalise_email(
            &v.text_or_empty("contact_email", 254),
        )),
    };
    if let Some(e) = school.contact_email.as_deref() {
        if !e.is_empty() && !v.has_error("contact_email") && !crate::domain::users::valid_email(e) {
            v.error(
                "contact_email",
                "must be an email address like office@school.example.org",
            );
        }
    }
    v.finish()?;
    Ok(school)
}

pub fn get(conn: &mut AnyConnection, id: i32) -> AppResult<School> {
    schools::table
        .find(id)
        .select(Row::as_select())
        .first(conn)?
        .try_into()
}

pub fn find_by_urn(conn: &mut AnyConnection, urn: i32) -> AppResult<Option<School>> {
    schools::table
        .filter(schools::urn.eq(urn))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(TryInto::try_into)
        .transpose()
}

pub fn list(conn: &mut AnyConnection, params: &ListParams) -> AppResult<Page<School>> {
    let query = || {
        let mut q = schools::table.into_boxed();
        if let Some(term) = &params.q {
            let urn = term.trim().parse::<i32>().unwrap_or(-1);
            let words = any_column_like!(like_pattern(term);
                schools::name, schools::district, schools::postcode, schools::town);
            q = q.filter(words.or(schools::urn.eq(urn)));
        }
        if !params.include_archived {
            q = q.filter(schools::archived.eq(false));
        }
        q
    };
    page_of!(conn, params, query, order: (schools::name.asc(), schools::id.asc()), row: Row)
}

/// The labels of some schools (see `School::label`), for filling pickers.
pub fn labels(
    conn: &mut AnyConnection,
    ids: &[i32],
) -> AppResult<std::collections::HashMap<i32, String>> {
    let rows: Vec<Row> = schools::table
        .filter(crate::db::among(&*conn, schools::id, ids))
        .select(Row::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            let s = School::try_from(r)?;
            Ok((s.id, s.label()))
        })
        .collect()
}

/// Open schools matching a search (name, town or postcode, or the URN), as (id, label),
/// at most `limit`: the public "Book for your school" page finds a school with it.
pub fn search_open(
    conn: &mut AnyConnection,
    term: &str,
    limit: i64,
) -> AppResult<Vec<(i32, String)>> {
    let urn = term.trim().parse::<i32>().unwrap_or(-1);
    let words = any_column_like!(like_pattern(term);
        schools::name, schools::postcode, schools::town, schools::district);
    let rows: Vec<Row> = schools::table
        .filter(schools::archived.eq(false))
        .filter(words.or(schools::urn.eq(urn)))
        .order((schools::name.asc(), schools::id.asc()))
        .limit(limit)
        .select(Row::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            let s = School::try_from(r)?;
            Ok((s.id, s.label()))
        })
        .collect()
}

/// The label of an open school, if it is one.
pub fn open_label(conn: &mut AnyConnection, id: i32) -> AppResult<Option<String>> {
    let row: Option<Row> = schools::table
        .find(id)
        .filter(schools::archived.eq(false))
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    row.map(|r| School::try_from(r).map(|s| s.label()))
        .transpose()
}

/// What a picker's text names: the URN or id inside a label chosen from the list.
fn key_of(typed: &str) -> Option<(bool, i32)> {
    let digits = |s: &str| -> Option<i32> {
        let d: String = s.chars().take_while(char::is_ascii_digit).collect();
        d.parse().ok()
    };
    if let Some(at) = typed.rfind("(no URN, id ") {
        return digits(&typed[at + "(no URN, id ".len()..]).map(|id| (false, id));
    }
    if let Some(at) = typed.rfind("(URN ") {
        return digits(&typed[at + "(URN ".len()..]).map(|urn| (true, urn));
    }
    if !typed.is_empty() && typed.chars().all(|c| c.is_ascii_digit()) {
        return typed.parse().ok().map(|urn| (true, urn));
    }
    None
}

/// The one live school a person meant by what they typed in a school picker: a label
/// chosen from the list, a URN, or a name only one live school has. `Ok(Err(why))` says
/// why not, naming the schools to choose from when several share the name.
pub fn resolve(conn: &mut AnyConnection, typed: &str) -> AppResult<Result<Option<i32>, String>> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(Ok(None));
    }
    if typed.chars().count() > 300 {
        return Ok(Err("is too long to be a school".into()));
    }
    if typed.chars().any(char::is_control) {
        return Ok(Err("must not contain control characters".into()));
    }
    let live = || {
        schools::table
            .filter(schools::archived.eq(false))
            .into_boxed()
    };
    if let Some((is_urn, key)) = key_of(typed) {
        let found: Option<i32> = if is_urn {
            live().filter(schools::urn.eq(key))
        } else {
            live().filter(schools::id.eq(key))
        }
        .select(schools::id)
        .first(conn)
        .optional()?;
        return Ok(found.map(Some).ok_or_else(|| {
            if is_urn {
                format!("no school in the directory has the URN {key}")
            } else {
                "that school is no longer in the directory".to_string()
            }
        }));
    }
    let named: Vec<Row> = live()
        .filter(lower(schools::name).eq(lower(typed)))
        .order(schools::id.asc())
        .limit(6)
        .select(Row::as_select())
        .load(conn)?;
    if named.len() == 1 {
        return Ok(Ok(Some(named[0].id)));
    }
    let (matches, how) = if named.is_empty() {
        // Part of a name, a town or a postcode: accepted when only one school fits.
        let found: Vec<Row> = live()
            .filter(any_column_like!(like_pattern(typed);
                schools::name, schools::town, schools::postcode))
            .order((schools::name.asc(), schools::id.asc()))
            .limit(6)
            .select(Row::as_select())
            .load(conn)?;
        (found, "match")
    } else {
        (named, "are called")
    };
    Ok(match matches.len() {
        0 => Err(format!(
            "no school matches \u{201c}{typed}\u{201d}: type part of its name, its URN, town or postcode, and choose it from the list"
        )),
        1 => Ok(Some(matches[0].id)),
        n => {
            let choices: Vec<String> = matches
                .into_iter()
                .take(5)
                .map(|r| School::try_from(r).map(|s| s.label()))
                .collect::<AppResult<_>>()?;
            Err(format!(
                "{}{} schools {how} \u{201c}{typed}\u{201d}; choose one from the list, or give its URN: {}",
                if n > 5 { "more than " } else { "" },
                n.min(5),
                choices.join("; ")
            ))
        }
    })
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
            schools::town.eq(&s.town),
            schools::contact_email.eq(s.contact_email.as_deref().unwrap_or("")),
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
            schools::town.eq(&s.town),
            schools::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if let Some(email) = &s.contact_email {
        diesel::update(schools::table.find(id))
            .set(schools::contact_email.eq(email))
            .execute(conn)?;
    }
    Ok(())
}

pub fn create(conn: &mut AnyConnection, actor: &Actor, input: SchoolInput) -> AppResult<School> {
    directory::create(conn, actor, Kind::School, |conn| insert(conn, &input), get)
}

pub fn update(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    input: SchoolInput,
) -> AppResult<School> {
    directory::update(
        conn,
        actor,
        Kind::School,
        id,
        |conn| {
            overwrite(conn, id, &input)?;
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
) -> AppResult<School> {
    directory::set_archived(conn, actor, Kind::School, id, archived, get, |_| Ok(()))
}
