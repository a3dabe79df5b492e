//! Feeds the records of a group of programmes into the impact rules, streaming events and
//! attendance in batches so memory does not grow with attendance rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::programmes;
use crate::db::AnyConnection;
use crate::domain::input::TextEnum;
use crate::domain::programmes::{self as programme_domain, Programme};
use crate::domain::types::{EventKind, EventStatus};
use crate::domain::Actor;
use crate::error::AppResult;
use crate::impact::{
    self, narrative, AttendanceFact, ByDelivery, Counts, EventFact, Figures, Tally, TargetProgress,
    Workshops,
};

#[derive(QueryableByName)]
struct EventGroup {
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    at_school: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    venue_name: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct AttendanceGroup {
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    at_school: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    school_id: Option<i32>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pupils: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    staff: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    other: i64,
}

/// What the cache keeps of a count: all of `Counts`, the schools and venues too.
#[derive(Serialize, serde::Deserialize)]
struct Kept {
    by_delivery: ByDelivery,
    total: Figures,
    workshops: Workshops,
    schools: Vec<impact::SchoolReach>,
    venues: Vec<(String, i64)>,
}

/// The cache key of a group of programmes as they stand: their ids and figures revisions
/// (which every write that can change their figures bumps, by trigger, in its own
/// transaction), hashed.
fn figures_key(conn: &mut AnyConnection, programme_ids: &[i32]) -> AppResult<String> {
    let revisions = revisions(conn, programme_ids)?;
    Ok(key_of(programme_ids, &revisions))
}

/// The figures revision of each programme named that exists: one query (one per 5,000).
fn revisions(
    conn: &mut AnyConnection,
    programme_ids: &[i32],
) -> AppResult<std::collections::HashMap<i32, i32>> {
    let mut out = std::collections::HashMap::new();
    if let [one] = programme_ids {
        // A statement SQLite keeps compiled (an `IN` list is compiled on every run).
        let found: Option<i32> = programmes::table
            .find(*one)
            .select(programmes::figures_revision)
            .first(conn)
            .optional()?;
        out.extend(found.map(|r| (*one, r)));
        return Ok(out);
    }
    for chunk in programme_ids.chunks(5_000) {
        let rows: Vec<(i32, i32)> = programmes::table
            .filter(crate::db::among(&*conn, programmes::id, chunk))
            .select((programmes::id, programmes::figures_revision))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// The key of a group from its programmes' revisions: the programmes that exist, by id.
fn key_of(programme_ids: &[i32], revisions: &std::collections::HashMap<i32, i32>) -> String {
    use sha2::{Digest, Sha256};
    let mut ids: Vec<i32> = programme_ids
        .iter()
        .copied()
        .filter(|id| revisions.contains_key(id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut h = Sha256::new();
    h.update(b"figures v1");
    for id in ids {
        h.update(format!("|{id}:{}", revisions[&id]).as_bytes());
    }
    hex::encode(h.finalize())
}

/// Counts the events of the given programmes: kept figures when nothing they count has
/// changed since they were counted, else a recount, kept for the next reader.
pub fn counts(
    conn: &mut AnyConnection,
    programme_ids: &[i32],
    now: NaiveDateTime,
) -> AppResult<Counts> {
    counts_each(conn, &[programme_ids], now)?
        .pop()
        .ok_or_else(|| crate::error::AppError::internal("no figures were counted"))
}

/// The figures of several groups of programmes at once (each programme of an organisation,
/// each year, all of them): one query for every revision and one for every kept entry,
/// however many groups; only a group whose figures are not kept is recounted, and kept.
///
/// A recount is kept only when the programmes' revisions were the same before and after
/// it: a write that landed meanwhile bumped them, and its figures are never kept under
/// the old key. (Counted events have all started, so figures kept do not go stale with
/// time alone.)
pub fn counts_each(
    conn: &mut AnyConnection,
    groups: &[&[i32]],
    now: NaiveDateTime,
) -> AppResult<Vec<Counts>> {
    use crate::db::schema::figures_cache;
    let mut all: Vec<i32> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    all.sort_unstable();
    all.dedup();
    let revisions = revisions(conn, &all)?;
    let keys: Vec<String> = groups.iter().map(|g| key_of(g, &revisions)).collect();
    let mut kept: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    if let [one] = keys.as_slice() {
        let found: Option<String> = figures_cache::table
            .find(one)
            .select(figures_cache::counts)
            .first(conn)
            .optional()?;
        kept.extend(found.map(|k| (one.clone(), k)));
    } else {
        let mut wanted = keys.clone();
        wanted.sort_unstable();
        wanted.dedup();
        for chunk in wanted.chunks(1_000) {
            let rows: Vec<(String, String)> = figures_cache::table
                .filter(crate::db::among_text(&*conn, figures_cache::key, chunk))
                .select((figures_cache::key, figures_cache::counts))
                .load(conn)?;
            kept.extend(rows);
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for (group, key) in groups.iter().zip(keys) {
        if group.is_empty() {
            out.push(recount(conn, group, now)?);
            continue;
        }
        if let Some(k) = kept
            .get(&key)
            .and_then(|k| serde_json::from_str::<Kept>(k).ok())
        {
            out.push(Counts {
                by_delivery: k.by_delivery,
                total: k.total,
                workshops: k.workshops,
                schools: k.schools,
                venues: k.venues,
            });
            continue;
        }
        let counted = recount(conn, group, now)?;
        if figures_key(conn, group)? == key {
            let keep = Kept {
                by_delivery: counted.by_delivery.clone(),
                total: counted.total,
                workshops: counted.workshops,
                schools: counted.schools.clone(),
                venues: counted.venues.clone(),
            };
            let json = serde_json::to_string(&keep).map_err(crate::error::AppError::internal)?;
            // Another reader may have kept the same figures a moment ago: theirs stand.
            let _ = diesel::insert_into(figures_cache::table)
                .values((
                    figures_cache::key.eq(&key),
                    figures_cache::counts.eq(&json),
                    figures_cache::created_at.eq(crate::app::now()),
                ))
                .execute(conn);
            kept.insert(key, json);
        }
        out.push(counted);
    }
    Ok(out)
}

/// Counts the events of the given programmes as at `now`, from the raw rows.
///
/// The database sums attendance per delivery mode and school (so a year of attendance never
/// reaches memory), keeping only events that `EventFact::counts` would count; the rules of
/// `impact` then work on those sums exactly as on single rows.
pub fn recount(
    conn: &mut AnyConnection,
    programme_ids: &[i32],
    now: NaiveDateTime,
) -> AppResult<Counts> {
    let mut tally = Tally::new(now);
    if programme_ids.is_empty() {
        return Ok(tally.finish());
    }
    let ids = programme_ids
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let counted = format!(
        "e.programme_id IN ({ids}) AND e.status = '{}' AND e.starts_at <= $1",
        EventStatus::Completed.as_str()
    );
    let at_school = "CASE WHEN e.school_id IS NULL THEN 0 ELSE 1 END";
    let groups: Vec<EventGroup> = diesel::sql_query(format!(
        "SELECT e.kind AS kind, {at_school} AS at_school, v.name AS venue_name, COUNT(*) AS n \
         FROM events e LEFT JOIN venues v ON v.id = e.venue_id WHERE {counted} \
         GROUP BY e.kind, {at_school}, v.name ORDER BY MIN(e.starts_at)"
    ))
    .bind::<diesel::sql_types::Timestamp, _>(now)
    .load(conn)?;
    for g in groups {
        tally.add_events(&fact(&g.kind, g.at_school, g.venue_name, now)?, g.n);
    }
    let sums: Vec<AttendanceGroup> = diesel::sql_query(format!(
        "SELECT e.kind AS kind, {at_school} AS at_school, a.school_id AS school_id, \
         COALESCE(SUM(a.pupils), 0) AS pupils, COALESCE(SUM(a.staff), 0) AS staff, COALESCE(SUM(a.other_adults), 0) AS other \
         FROM attendance a JOIN events e ON e.id = a.event_id WHERE {counted} \
         GROUP BY e.kind, {at_school}, a.school_id"
    ))
    .bind::<diesel::sql_types::Timestamp, _>(now)
    .load(conn)?;
    for g in sums {
        let event = fact(&g.kind, g.at_school, None, now)?;
        let row = AttendanceFact {
            school_id: g.school_id,
            pupils: g.pupils,
            staff: g.staff,
            other: g.other,
        };
        tally.add_attendance(&event, &row);
    }
    Ok(tally.finish())
}

/// A counted event as the rules see it (its time is `now`: it has started).
fn fact(
    kind: &str,
    at_school: i32,
    venue_name: Option<String>,
    now: NaiveDateTime,
) -> AppResult<EventFact> {
    Ok(EventFact {
        id: 0,
        kind: EventKind::from_db(kind)?,
        status: EventStatus::Completed,
        starts_at: now,
        at_school: at_school == 1,
        venue_name,
    })
}

/// The impact answer of SPEC §5 for one programme.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProgrammeImpact {
    pub programme: Programme,
    pub by_delivery: ByDelivery,
    pub total: Figures,
    pub workshops: Workshops,
    pub targets: Vec<TargetProgress>,
    pub narrative: String,
    #[serde(skip)]
    pub counts: Counts,
}

pub fn programme_impact(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    now: NaiveDateTime,
) -> AppResult<ProgrammeImpact> {
    let programme = programme_domain::get(conn, actor, id)?;
    let counts = counts(conn, &[id], now)?;
    let targets = impact::progress(
        &counts,
        programme.target_schools.map(i64::from),
        programme.target_audience.map(i64::from),
        programme.target_events.map(i64::from),
    );
    Ok(ProgrammeImpact {
        narrative: narrative::write(&programme.title, Some(programme.year), &counts),
        by_delivery: counts.by_delivery.clone(),
        total: counts.total,
        workshops: counts.workshops,
        targets,
        programme,
        counts,
    })
}

/// The figures of a group of programmes (a year, or an organisation), with each programme's
/// own line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupImpact {
    pub title: String,
    pub programmes: Vec<ProgrammeLine>,
    pub by_delivery: ByDelivery,
    pub total: Figures,
    pub workshops: Workshops,
    pub narrative: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProgrammeLine {
    pub id: i32,
    pub title: String,
    pub year: i32,
    pub total: Figures,
    pub workshops: Workshops,
}

/// Programmes the actor may see, filtered by year and/or organisation.
pub fn programme_ids(
    conn: &mut AnyConnection,
    actor: &Actor,
    year: Option<i32>,
    organisation_id: Option<i32>,
) -> AppResult<Vec<(i32, String, i32)>> {
    let mut q = programmes::table
        .filter(programmes::archived.eq(false))
        .into_boxed();
    if let Some(y) = year {
        q = q.filter(programmes::year.eq(y));
    }
    if let Some(o) = organisation_id {
        q = q.filter(programmes::organisation_id.eq(o));
    }
    if actor.role == crate::domain::types::Role::Funder {
        q = q.filter(programmes::organisation_id.eq(actor.organisation_id.unwrap_or(-1)));
    }
    Ok(q.order((programmes::year.asc(), programmes::title.asc()))
        .select((programmes::id, programmes::title, programmes::year))
        .load(conn)?)
}

pub fn group_impact(
    conn: &mut AnyConnection,
    actor: &Actor,
    title: String,
    year: Option<i32>,
    organisation_id: Option<i32>,
    now: NaiveDateTime,
) -> AppResult<GroupImpact> {
    let list = programme_ids(conn, actor, year, organisation_id)?;
    let ids: Vec<i32> = list.iter().map(|p| p.0).collect();
    // Each programme alone, then all of them: figures kept are read in two queries.
    let mut groups: Vec<&[i32]> = ids.chunks(1).collect();
    groups.push(&ids);
    let mut each = counts_each(conn, &groups, now)?;
    let all = each
        .pop()
        .ok_or_else(|| crate::error::AppError::internal("no figures were counted"))?;
    let lines = list
        .iter()
        .zip(each)
        .map(|((id, t, y), c)| ProgrammeLine {
            id: *id,
            title: t.clone(),
            year: *y,
            total: c.total,
            workshops: c.workshops,
        })
        .collect();
    Ok(GroupImpact {
        narrative: narrative::write_group(&title, None, &all),
        title,
        programmes: lines,
        by_delivery: all.by_delivery.clone(),
        total: all.total,
        workshops: all.workshops,
    })
}

/// Schools reached, counted by district (largest first).
pub fn districts(conn: &mut AnyConnection, counts: &Counts) -> AppResult<Vec<(String, i64)>> {
    use crate::db::schema::schools;
    let mut by: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    let ids: Vec<i32> = counts.schools.iter().map(|s| s.school_id).collect();
    for chunk in ids.chunks(5_000) {
        let names: Vec<String> = schools::table
            .filter(crate::db::among(&*conn, schools::id, chunk))
            .select(schools::district)
            .load(conn)?;
        for d in names {
            let d = if d.trim().is_empty() {
                "District not recorded".to_string()
            } else {
                d
            };
            *by.entry(d).or_insert(0) += 1;
        }
    }
    let mut out: Vec<(String, i64)> = by.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(out)
}

/// Each year's totals for the programmes the actor may see (of one organisation if given).
pub fn by_year(
    conn: &mut AnyConnection,
    actor: &Actor,
    organisation_id: Option<i32>,
    now: NaiveDateTime,
) -> AppResult<Vec<(i32, Figures, Workshops)>> {
    let list = programme_ids(conn, actor, None, organisation_id)?;
    let mut years: Vec<i32> = list.iter().map(|p| p.2).collect();
    years.dedup();
    let ids: Vec<Vec<i32>> = years
        .iter()
        .map(|y| list.iter().filter(|p| p.2 == *y).map(|p| p.0).collect())
        .collect();
    let groups: Vec<&[i32]> = ids.iter().map(Vec::as_slice).collect();
    let each = counts_each(conn, &groups, now)?;
    Ok(years
        .into_iter()
        .zip(each)
        .map(|(y, c)| (y, c.total, c.workshops))
        .collect())
}

/// What a year's or an organisation's narrative is about.
pub fn year_subject(year: i32) -> String {
    format!("The productions of {year}")
}

pub fn organisation_subject(name: &str) -> String {
    format!("The productions funded by {name}")
}

/// The figures of a year's programmes that the actor may see.
pub fn year_impact(
    conn: &mut AnyConnection,
    actor: &Actor,
    year: i32,
    now: NaiveDateTime,
) -> AppResult<GroupImpact> {
    if !crate::domain::input::YEARS.contains(&year) {
        return Err(crate::error::AppError::NotFound);
    }
    group_impact(conn, actor, year_subject(year), Some(year), None, now)
}

/// The figures of an organisation's programmes; a funder sees only its own organisation.
pub fn organisation_impact(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    now: NaiveDateTime,
) -> AppResult<(crate::domain::organisations::Organisation, GroupImpact)> {
    let org = crate::domain::organisations::get_for(conn, actor, id)?;
    let g = group_impact(
        conn,
        actor,
        organisation_subject(&org.name),
        None,
        Some(id),
        now,
    )?;
    Ok((org, g))
}

/// What `check_figures` found: how many groups it compared and each difference.
#[derive(Debug, Default)]
pub struct FiguresCheck {
    pub checked: usize,
    pub differences: Vec<String>,
}

/// Compares the figures served (kept, or counted and kept) with a recount from the raw
/// rows, for every programme and every organisation's programmes together.
pub fn check_figures(conn: &mut AnyConnection, now: NaiveDateTime) -> AppResult<FiguresCheck> {
    use crate::db::schema::organisations;
    let mut groups: Vec<(String, Vec<i32>)> = programmes::table
        .order(programmes::id.asc())
        .select((programmes::id, programmes::title))
        .load::<(i32, String)>(conn)?
        .into_iter()
        .map(|(id, title)| (format!("programme {id} ({title})"), vec![id]))
        .collect();
    let orgs: Vec<(i32, String)> = organisations::table
        .order(organisations::id.asc())
        .select((organisations::id, organisations::name))
        .load(conn)?;
    for (id, name) in orgs {
        let ids: Vec<i32> = programmes::table
            .filter(programmes::organisation_id.eq(id))
            .select(programmes::id)
            .load(conn)?;
        if !ids.is_empty() {
            groups.push((format!("organisation {id} ({name})"), ids));
        }
    }
    let mut found = FiguresCheck::default();
    for (what, ids) in groups {
        let served = counts(conn, &ids, now)?;
        let raw = recount(conn, &ids, now)?;
        found.checked += 1;
        if served != raw {
            found.differences.push(format!(
                "{what}: served {} events, {} schools, {} audience; the rows give {} events, {} schools, {} audience",
                served.total.events,
                served.total.schools,
                served.total.audience,
                raw.total.events,
                raw.total.schools,
                raw.total.audience
            ));
        }
    }
    Ok(found)
}
