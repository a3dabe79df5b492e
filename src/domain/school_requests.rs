//! A teacher asks for an account for their school from the public page: they find the
//! school, give their name and school e-mail, and are told "we will e-mail you". Nothing
//! is made until a lead approves (which sends an invitation), or at once when the
//! address's domain is one already on record for that school and for no other school (a
//! shared council or webmail domain never approves by itself).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{school_requests, schools, users};
use crate::db::AnyConnection;
use crate::domain::input::{Input, TextEnum};
use crate::domain::invitations::{invite_in, waiting_for, InviteInput};
use crate::domain::list::{ListParams, Page};
use crate::domain::mail::{self, Letter};
use crate::domain::tokens::random_secret;
use crate::domain::types::Role;
use crate::domain::users::{normalise_email, valid_email};
use crate::domain::{audit, throttle, Actor};
use crate::error::{AppError, AppResult};
use crate::text_enum;

text_enum!(RequestStatus {
    Waiting = "waiting": "Waiting",
    Approved = "approved": "Approved",
    Declined = "declined": "Declined",
});

/// Mail services anyone can have an address at: never a school's own domain.
const PUBLIC_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "hotmail.com",
    "hotmail.co.uk",
    "outlook.com",
    "live.com",
    "live.co.uk",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "icloud.com",
    "me.com",
    "aol.com",
    "btinternet.com",
    "sky.com",
    "talktalk.net",
    "virginmedia.com",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "gmx.com",
    "gmx.net",
    "gmx.co.uk",
    "mail.com",
    "ymail.com",
    "rocketmail.com",
    "hotmail.fr",
    "outlook.fr",
    "live.fr",
    "yahoo.fr",
    "web.de",
    "yandex.com",
    "zoho.com",
    "tutanota.com",
    "fastmail.com",
    "btopenworld.com",
    "ntlworld.com",
    "blueyonder.co.uk",
    "virginmedia.co.uk",
    "plus.com",
    "tiscali.co.uk",
];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SchoolRequest {
    pub id: i32,
    pub school_id: i32,
    pub school_name: String,
    pub school_urn: Option<i32>,
    pub name: String,
    pub email: String,
    pub status: RequestStatus,
    /// The invitation sent on approval.
    pub invitation_id: Option<i32>,
    #[serde(serialize_with = "crate::domain::when::naive")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::when::naive_opt")]
    pub decided_at: Option<NaiveDateTime>,
}

type Joined = (
    i32,
    i32,
    String,
    Option<i32>,
    String,
    String,
    String,
    Option<i32>,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

fn view(r: Joined) -> AppResult<SchoolRequest> {
    Ok(SchoolRequest {
        id: r.0,
        school_id: r.1,
        school_name: r.2,
        school_urn: r.3,
        name: r.4,
        email: r.5,
        status: RequestStatus::from_db(&r.6)?,
        invitation_id: r.7,
        created_at: r.8,
        decided_at: r.9,
    })
}

macro_rules! joined_columns {
    () => {
        (
            school_requests::id,
            school_requests::school_id,
            schools::name,
            schools::urn,
            school_requests::name,
            school_requests::email,
            school_requests::status,
            school_requests::invitation_id,
            school_requests::created_at,
            school_requests::decided_at,
        )
    };
}

pub fn get(conn: &mut AnyConnection, id: i32) -> AppResult<SchoolRequest> {
    let r: Joined = school_requests::table
        .inner_join(schools::table)
        .filter(school_requests::id.eq(id))
        .select(joined_columns!())
        .first(conn)?;
    view(r)
}

/// Requests, waiting ones oldest first (the order to answer them in), others newest first.
pub fn list(
    conn: &mut AnyConnection,
    params: &ListParams,
    status: Option<RequestStatus>,
) -> AppResult<Page<SchoolRequest>> {
    let query = || {
        let mut q = school_requests::table
            .inner_join(schools::table)
            .into_boxed();
        if let Some(s) = status {
            q = q.filter(school_requests::status.eq(s.as_str()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let mut q = query();
    q = if status == Some(RequestStatus::Waiting) {
        q.order((school_requests::created_at.asc(), school_requests::id.asc()))
    } else {
        q.order((
            school_requests::created_at.desc(),
            school_requests::id.desc(),
        ))
    };
    let rows: Vec<Joined> = q
        .limit(params.per_page)
        .offset(params.offset())
        .select(joined_columns!())
        .load(conn)?;
    let items = rows.into_iter().map(view).collect::<AppResult<_>>()?;
    Ok(Page::new(items, params, total))
}

/// How many requests wait for an answer.
pub fn waiting(conn: &mut AnyConnection) -> AppResult<i64> {
    Ok(school_requests::table
        .filter(school_requests::status.eq(RequestStatus::Waiting.as_str()))
        .count()
        .get_result(conn)?)
}

fn domain_of(email: &str) -> &str {
    email.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

/// Whether the address's domain is that of the contact address staff gave this school,
/// and of no other school's (accounts never vouch: an address a lead once approved by
/// hand says nothing about who else has one at that domain).
fn domain_vouches(conn: &mut AnyConnection, school_id: i32, email: &str) -> AppResult<bool> {
    let domain = domain_of(email);
    if domain.is_empty() || PUBLIC_DOMAINS.contains(&domain) {
        return Ok(false);
    }
    // `like_pattern` wraps the escaped text in one `%` on each side.
    let wrapped = crate::domain::like_pattern(domain);
    let pattern = format!("%@{}", &wrapped[1..wrapped.len() - 1]);
    let by_contact: Vec<i32> = schools::table
        .filter(schools::contact_email.like(&pattern).escape('\\'))
        .filter(schools::archived.eq(false))
        .select(schools::id)
        .load(conn)?;
    let mut schools_of_domain = by_contact;
    schools_of_domain.sort_unstable();
    schools_of_domain.dedup();
    Ok(schools_of_domain == [school_id])
}

/// What the public form sends, checked.
pub struct Asked {
    pub school_id: i32,
    pub name: String,
    pub email: String,
}

pub fn parse(conn: &mut AnyConnection, input: &Input) -> AppResult<Asked> {
    let mut v = input.validator();
    let school_id = v.id_opt("school_id");
    let name = v.text("name", 200);
    let email = normalise_email(&v.text("email", 254));
    if !email.is_empty() && !v.has_error("email") && !valid_email(&email) {
        v.error(
            "email",
            "must be an email address like name@school.example.org",
        );
    }
    if school_id.is_none() && !v.has_error("school_id") {
        v.error("school_id", "choose your school first");
    }
    v.finish()?;
    let school_id = school_id.unwrap_or_default();
    let open: i64 = schools::table
        .find(school_id)
        .filter(schools::archived.eq(false))
        .count()
        .get_result(conn)?;
    if open == 0 {
        return Err(AppError::field(
            "school_id",
            "is not a school in our directory",
        ));
    }
    Ok(Asked {
        school_id,
        name,
        email,
    })
}

/// Records a request (or approves it at once when the domain vouches for the school).
/// The asker learns nothing either way: an address with an account, an invitation or a
/// waiting request already, or over its limit, is quietly left as it is. Only a client
/// asking too often is refused (429).
pub fn ask(conn: &mut AnyConnection, asked: &Asked, client: &str, base_url: &str) -> AppResult<()> {
    if !throttle::asking(
        conn,
        "join",
        &asked.email,
        client,
        (3, Duration::days(1)),
        "many requests were sent from here; please try again later",
    )? {
        return Ok(());
    }
    let token = random_secret()?;
    let done = crate::db::write(conn, |conn| {
        let known: i64 = users::table
            .filter(users::email.eq(&asked.email))
            .count()
            .get_result(conn)?;
        let invited = i64::from(waiting_for(conn, &asked.email)?.is_some());
        let waiting: i64 = school_requests::table
            .filter(school_requests::email.eq(&asked.email))
            .filter(school_requests::status.eq(RequestStatus::Waiting.as_str()))
            .count()
            .get_result(conn)?;
        if known + invited + waiting > 0 {
            return Ok(());
        }
        let at = now();
        let id: i32 = diesel::insert_into(school_requests::table)
            .values((
                school_requests::school_id.eq(asked.school_id),
                school_requests::name.eq(&asked.name),
                school_requests::email.eq(&asked.email),
                school_requests::status.eq(RequestStatus::Waiting.as_str()),
                school_requests::created_at.eq(at),
            ))
            .returning(school_requests::id)
            .get_result(conn)?;
        audit::record(
            conn,
            None,
            "school_request",
            id,
            "ask",
            None,
            Some(&serde_json::json!({"school_id": asked.school_id})),
        )?;
        if domain_vouches(conn, asked.school_id, &asked.email)? {
            approve_in(conn, None, id, &token, base_url)?;
        } else {
            let school: String = schools::table
                .find(asked.school_id)
                .select(schools::name)
                .first(conn)?;
            mail::letter_to_staff(
                conn,
                &Letter::plain(
                    format!("A teacher asks for an account for {school}"),
                    format!(
                        "{} ({}) asks for an Outreach account for {school}. Approve it (they are sent an invitation) or decline it under Requests:\n\n{}/requests#accounts",
                        asked.name,
                        asked.email,
                        base_url.trim_end_matches('/')
                    ),
                ),
            )?;
        }
        Ok(())
    });
    match done {
        // The same address asked twice at once: the other request stands.
        Err(AppError::Conflict(_)) => Ok(()),
        other => other,
    }
}

/// A teacher's request recorded as it stands, waiting (the demo's: the lead finds one on
/// Requests).
pub(crate) fn record_for_demo(
    conn: &mut AnyConnection,
    school_id: i32,
    name: &str,
    email: &str,
) -> AppResult<i32> {
    Ok(diesel::insert_into(school_requests::table)
        .values((
            school_requests::school_id.eq(school_id),
            school_requests::name.eq(name),
            school_requests::email.eq(email),
            school_requests::status.eq(RequestStatus::Waiting.as_str()),
            school_requests::created_at.eq(now()),
        ))
        .returning(school_requests::id)
        .get_result(conn)?)
}

fn approve_in(
    conn: &mut AnyConnection,
    by: Option<i32>,
    id: i32,
    token: &str,
    base_url: &str,
) -> AppResult<()> {
    let (school_id, email): (i32, String) = school_requests::table
        .find(id)
        .select((school_requests::school_id, school_requests::email))
        .first(conn)?;
    let claimed = diesel::update(
        school_requests::table
            .find(id)
            .filter(school_requests::status.eq(RequestStatus::Waiting.as_str())),
    )
    .set((
        school_requests::status.eq(RequestStatus::Approved.as_str()),
        school_requests::decided_by.eq(by),
        school_requests::decided_at.eq(now()),
    ))
    .execute(conn)?;
    if claimed == 0 {
        return Err(AppError::Conflict(
            "this request was answered already".into(),
        ));
    }
    // The address may have been invited, or made an account, since it asked: the request
    // is then answered by that, and nothing more is sent.
    let account: i64 = users::table
        .filter(users::email.eq(&email))
        .count()
        .get_result(conn)?;
    let open = waiting_for(conn, &email)?;
    let invitation = match (account, open) {
        (0, None) => Some(invite_in(
            conn,
            by,
            &InviteInput {
                email,
                role: Role::School,
                school_id: Some(school_id),
                organisation_id: None,
            },
            token,
            base_url,
            if by.is_some() {
                "staff"
            } else {
                "school_domain"
            },
        )?),
        (_, open) => open,
    };
    diesel::update(school_requests::table.find(id))
        .set(school_requests::invitation_id.eq(invitation))
        .execute(conn)?;
    audit::record(
        conn,
        by,
        "school_request",
        id,
        "approve",
        None,
        Some(&serde_json::json!({"invitation": invitation})),
    )?;
    Ok(())
}

/// Approves a waiting request: the teacher is sent an invitation for their school.
pub fn approve(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    base_url: &str,
) -> AppResult<SchoolRequest> {
    if !actor.role.is_staff() {
        return Err(AppError::Forbidden);
    }
    let token = random_secret()?;
    crate::db::write(conn, |conn| {
        get(conn, id)?;
        approve_in(conn, Some(actor.user_id), id, &token, base_url)?;
        get(conn, id)
    })
}

/// Declines a waiting request; the teacher is told in a short mail.
pub fn decline(conn: &mut AnyConnection, actor: &Actor, id: i32) -> AppResult<SchoolRequest> {
    if !actor.role.is_staff() {
        return Err(AppError::Forbidden);
    }
    crate::db::write(conn, |conn| {
        let before = get(conn, id)?;
        let claimed = diesel::update(
            school_requests::table
                .find(id)
                .filter(school_requests::status.eq(RequestStatus::Waiting.as_str())),
        )
        .set((
            school_requests::status.eq(RequestStatus::Declined.as_str()),
            school_requests::decided_by.eq(actor.user_id),
            school_requests::decided_at.eq(now()),
        ))
        .execute(conn)?;
        if claimed == 0 {
            return Err(AppError::Conflict(
                "this request was answered already".into(),
            ));
        }
        mail::queue_letter(
            conn,
            &before.email,
            &Letter::plain(
                "Your request for an Outreach account",
                format!(
                    "Thank you for asking for an Outreach account for {}. We could not confirm it from here, so no account was made.\n\nIf you think this is a mistake, reply to the company that tours to your school, or ask again with your school e-mail address.",
                    before.school_name
                ),
            ),
        )?;
        audit::record(
            conn,
            Some(actor.user_id),
            "school_request",
            id,
            "decline",
            None,
            None,
        )?;
        get(conn, id)
    })
}
