//! Invitations: a person is asked by e-mail to set up their own account. The mail carries a
//! single-use link (its secret stored only as a hash) that works for seven days; there the
//! person gives their name and a password, and the account is made with the role, school
//! or organisation the invitation named. An admin may invite anyone; a lead may invite
//! school contacts and funders' officers.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{
    attendance, bookings, events, invitations, organisations, schools, tour_slots, users,
};
use crate::db::AnyConnection;
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::{ListParams, Page};
use crate::domain::mail::{self, Letter};
use crate::domain::tokens::{hash_secret, random_secret};
use crate::domain::types::Role;
use crate::domain::users::{self as accounts, normalise_email, password_problem, User};
use crate::domain::{audit, Actor};
use crate::error::{AppError, AppResult};
use crate::text_enum;

/// How long an invitation's link works.
pub const DAYS: i64 = 7;

text_enum!(InvitationStatus {
    Pending = "pending": "Waiting",
    Accepted = "accepted": "Accepted",
    Expired = "expired": "Expired",
    Withdrawn = "withdrawn": "Withdrawn",
});

#[derive(Queryable, Selectable)]
#[diesel(table_name = invitations)]
struct Row {
    id: i32,
    email: String,
    role: String,
    school_id: Option<i32>,
    organisation_id: Option<i32>,
    invited_by: Option<i32>,
    sent_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    accepted_at: Option<NaiveDateTime>,
    user_id: Option<i32>,
    withdrawn_at: Option<NaiveDateTime>,
}

/// An invitation as staff see it (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub id: i32,
    pub email: String,
    pub role: Role,
    pub school_id: Option<i32>,
    pub school_name: Option<String>,
    pub organisation_id: Option<i32>,
    pub organisation_name: Option<String>,
    pub status: InvitationStatus,
    pub invited_by: Option<i32>,
    #[serde(serialize_with = "crate::domain::when::naive")]
    pub sent_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::when::naive")]
    pub expires_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::when::naive_opt")]
    pub accepted_at: Option<NaiveDateTime>,
    /// The account made by accepting it.
    pub user_id: Option<i32>,
}

fn status_of(r: &Row, at: NaiveDateTime) -> InvitationStatus {
    if r.accepted_at.is_some() {
        InvitationStatus::Accepted
    } else if r.withdrawn_at.is_some() {
        InvitationStatus::Withdrawn
    } else if r.expires_at <= at {
        InvitationStatus::Expired
    } else {
        InvitationStatus::Pending
    }
}

fn view(
    r: Row,
    school_name: Option<String>,
    organisation_name: Option<String>,
) -> AppResult<Invitation> {
    let status = status_of(&r, now());
    Ok(Invitation {
        id: r.id,
        email: r.email,
        role: Role::from_db(&r.role)?,
        school_id: r.school_id,
        school_name,
        organisation_id: r.organisation_id,
        organisation_name,
        status,
        invited_by: r.invited_by,
        sent_at: r.sent_at,
        expires_at: r.expires_at,
        accepted_at: r.accepted_at,
        user_id: r.user_id,
    })
}

/// Who is invited, checked.
#[derive(Debug, Clone)]
pub struct InviteInput {
    pub email: String,
    pub role: Role,
    pub school_id: Option<i32>,
    pub organisation_id: Option<i32>,
}

/// Whether the actor may invite someone of this role: an admin anyone, a lead school
/// contacts and funders' officers.
pub fn may_invite(actor: &Actor, role: Role) -> AppResult<()> {
    match (actor.role, role) {
        (Role::Admin, _) | (Role::Lead, Role::School | Role::Funder) => Ok(()),
        (Role::Lead, _) => Err(AppError::field(
            "role",
            "a project lead may invite school contacts and funders; ask an administrator for other roles",
        )),
        _ => Err(AppError::Forbidden),
    }
}

/// Checks the fields (`email`, `role`, and the `school_id` or `organisation_id` the role
/// needs) and that the school or organisation exists.
pub fn parse(conn: &mut AnyConnection, input: &Input) -> AppResult<InviteInput> {
    let mut v = input.validator();
    let email = normalise_email(&v.text("email", 254));
    if !email.is_empty() && !v.has_error("email") && !accounts::valid_email(&email) {
        v.error("email", "must be an email address like name@example.org");
    }
    let role = v.choice::<Role>("role");
    let school_id = v.id_opt("school_id");
    let organisation_id = v.id_opt("organisation_id");
    accounts::need_ties(&mut v, role, school_id, organisation_id);
    v.finish()?;
    let role = role.unwrap_or(Role::School);
    let (school_id, organisation_id) =
        accounts::ties(conn, role, school_id, organisation_id, true)?;
    Ok(InviteInput {
        email,
        role,
        school_id,
        organisation_id,
    })
}

/// The invitation waiting for `email` (neither accepted, withdrawn nor expired), if any.
pub(crate) fn waiting_for(conn: &mut AnyConnection, email: &str) -> AppResult<Option<i32>> {
    Ok(invitations::table
        .filter(invitations::email.eq(email))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::withdrawn_at.is_null())
        .filter(invitations::expires_at.gt(now()))
        .select(invitations::id)
        .first(conn)
        .optional()?)
}

/// One invitation by id.
pub fn get(conn: &mut AnyConnection, id: i32) -> AppResult<Invitation> {
    let (row, school, org): (Row, Option<String>, Option<String>) = invitations::table
        .left_join(schools::table)
        .left_join(organisations::table)
        .filter(invitations::id.eq(id))
        .select((
            Row::as_select(),
            schools::name.nullable(),
            organisations::name.nullable(),
        ))
        .first(conn)?;
    view(row, school, org)
}

/// Invitations, newest first; `status` narrows to one state.
pub fn list(
    conn: &mut AnyConnection,
    params: &ListParams,
    status: Option<InvitationStatus>,
) -> AppResult<Page<Invitation>> {
    let at = now();
    let query = || {
        let mut q = invitations::table
            .left_join(schools::table)
            .left_join(organisations::table)
            .into_boxed();
        if let Some(term) = &params.q {
            q = q.filter(
                invitations::email
                    .like(crate::domain::like_pattern(term))
                    .escape('\\'),
            );
        }
        match status {
            Some(InvitationStatus::Accepted) => {
                q = q.filter(invitations::accepted_at.is_not_null())
            }
            Some(InvitationStatus::Withdrawn) => {
                q = q
                    .filter(invitations::accepted_at.is_null())
                    .filter(invitations::withdrawn_at.is_not_null())
            }
            Some(InvitationStatus::Expired) => {
                q = q
                    .filter(invitations::accepted_at.is_null())
                    .filter(invitations::withdrawn_at.is_null())
                    .filter(invitations::expires_at.le(at))
            }
            Some(InvitationStatus::Pending) => {
                q = q
                    .filter(invitations::accepted_at.is_null())
                    .filter(invitations::withdrawn_at.is_null())
                    .filter(invitations::expires_at.gt(at))
            }
            None => {}
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<(Row, Option<String>, Option<String>)> = query()
        .order((invitations::sent_at.desc(), invitations::id.desc()))
        .limit(params.per_page)
        .offset(params.offset())
        .select((
            Row::as_select(),
            schools::name.nullable(),
            organisations::name.nullable(),
        ))
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|(r, s, o)| view(r, s, o))
        .collect::<AppResult<_>>()?;
    Ok(Page::new(items, params, total))
}

/// What the invitation mail says the person will be.
fn what_for(conn: &mut AnyConnection, i: &InviteInput) -> AppResult<String> {
    Ok(match i.role {
        Role::School => {
            let name: String = schools::table
                .find(i.school_id.unwrap_or_default())
                .select(schools::name)
                .first(conn)?;
            format!("as a contact for {name}, to book performances, workshops and live streams and see your bookings")
        }
        Role::Funder => {
            let name: String = organisations::table
                .find(i.organisation_id.unwrap_or_default())
                .select(organisations::name)
                .first(conn)?;
            format!("for {name}, to read the figures and reports of its programmes")
        }
        Role::Lead => "as a project lead, to run programmes, bookings and attendance".into(),
        Role::Admin => "as an administrator".into(),
    })
}

fn letter(
    conn: &mut AnyConnection,
    by: Option<i32>,
    i: &InviteInput,
    link: &str,
) -> AppResult<Letter> {
    let inviter = match by {
        Some(id) => {
            let (name, email): (String, String) = users::table
                .find(id)
                .select((users::name, users::email))
                .first(conn)?;
            if name.is_empty() {
                email
            } else {
                name
            }
        }
        None => "The team that runs Outreach".into(),
    };
    let what = what_for(conn, i)?;
    Ok(Letter::plain(
        "You are invited to Outreach",
        format!(
            "{inviter} has invited you to Outreach {what}.\n\nSet up your account here: give your name and choose a password. The link works once, for {DAYS} days:\n\n{link}\n\nIf you were not expecting this, ignore this message: nothing is made until the link is used."
        ),
    ))
}

fn invitation_link(base_url: &str, token: &str) -> String {
    format!("{}/invitations/{token}", base_url.trim_end_matches('/'))
}

/// Invites a person: an address that already has an account, or whose invitation is
/// still waiting, is refused by the field; one whose invitation expired is invited anew
/// (the old link stays dead). The mail is queued in the same transaction.
pub fn invite(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    input: &InviteInput,
    base_url: &str,
) -> AppResult<Invitation> {
    invite_with_link(conn, actor, input, base_url).map(|(i, _)| i)
}

/// `invite`, also answering the link (the command line prints it, for an install that
/// does not send mail yet).
pub fn invite_with_link(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    input: &InviteInput,
    base_url: &str,
) -> AppResult<(Invitation, String)> {
    if let Some(a) = actor {
        may_invite(a, input.role)?;
    }
    let token = random_secret()?;
    let via = if actor.is_some() {
        "staff"
    } else {
        "command line"
    };
    crate::db::write(conn, |conn| {
        let id = invite_in(conn, actor.map(|a| a.user_id), input, &token, base_url, via)?;
        Ok((get(conn, id)?, invitation_link(base_url, &token)))
    })
    .map_err(|e| match e {
        // Two invitations to one address at once: the other one stands.
        AppError::Conflict(m) if m.contains("invitations_open_email") => AppError::field(
            "email",
            "was invited a moment ago by someone else; see the list of invitations",
        ),
        other => other,
    })
}

/// `invite` inside the caller's transaction; answers the invitation's id.
pub(crate) fn invite_in(
    conn: &mut AnyConnection,
    by: Option<i32>,
    input: &InviteInput,
    token: &str,
    base_url: &str,
    via: &'static str,
) -> AppResult<i32> {
    let at = now();
    let account: Option<bool> = users::table
        .filter(users::email.eq(&input.email))
        .select(users::archived)
        .first(conn)
        .optional()?;
    match account {
        Some(false) => return Err(AppError::field("email", "already has an account")),
        Some(true) => {
            return Err(AppError::field(
                "email",
                "has an archived account; restore it under Users instead",
            ))
        }
        None => {}
    }
    let open: Option<(i32, NaiveDateTime, NaiveDateTime)> = invitations::table
        .filter(invitations::email.eq(&input.email))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::withdrawn_at.is_null())
        .select((
            invitations::id,
            invitations::sent_at,
            invitations::expires_at,
        ))
        .first(conn)
        .optional()?;
    let values = (
        invitations::role.eq(input.role.as_str()),
        invitations::school_id.eq(input.school_id),
        invitations::organisation_id.eq(input.organisation_id),
        invitations::token_hash.eq(hash_secret(token)),
        invitations::invited_by.eq(by),
        invitations::sent_at.eq(at),
        invitations::expires_at.eq(at + Duration::days(DAYS)),
    );
    let id = match open {
        Some((_, sent, expires)) if expires > at => {
            return Err(AppError::field(
                "email",
                format!(
                    "was invited on {} and the invitation is still waiting; resend it from the list of invitations instead",
                    crate::domain::local_time(sent, crate::domain::when::zone(), "%-d %B %Y")
                ),
            ));
        }
        Some((id, _, _)) => {
            diesel::update(invitations::table.find(id))
                .set(values)
                .execute(conn)?;
            id
        }
        None => diesel::insert_into(invitations::table)
            .values((
                values,
                invitations::email.eq(&input.email),
                invitations::created_at.eq(at),
            ))
            .returning(invitations::id)
            .get_result(conn)?,
    };
    let l = letter(conn, by, input, &invitation_link(base_url, token))?;
    mail::queue_letter(conn, &input.email, &l)?;
    audit::record(
        conn,
        by,
        "invitation",
        id,
        "invite",
        None,
        Some(&serde_json::json!({
            "email": input.email,
            "role": input.role.as_str(),
            "school_id": input.school_id,
            "organisation_id": input.organisation_id,
            "via": via,
        })),
    )?;
    Ok(id)
}

fn row(conn: &mut AnyConnection, id: i32) -> AppResult<Row> {
    Ok(invitations::table
        .find(id)
        .select(Row::as_select())
        .first(conn)?)
}

/// Sends the invitation again with a new link (the old one stops working) and seven more
/// days; an accepted or withdrawn invitation cannot be resent.
pub fn resend(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    base_url: &str,
) -> AppResult<Invitation> {
    let token = random_secret()?;
    crate::db::write(conn, |conn| {
        let r = row(conn, id)?;
        let input = InviteInput {
            email: r.email.clone(),
            role: Role::from_db(&r.role)?,
            school_id: r.school_id,
            organisation_id: r.organisation_id,
        };
        may_invite(actor, input.role).map_err(|_| AppError::Forbidden)?;
        match status_of(&r, now()) {
            InvitationStatus::Accepted => {
                return Err(AppError::Conflict(
                    "this invitation was accepted; the person signs in with their account".into(),
                ))
            }
            InvitationStatus::Withdrawn => {
                return Err(AppError::Conflict(
                    "this invitation was withdrawn; invite the person again instead".into(),
                ))
            }
            _ => {}
        }
        let account: i64 = users::table
            .filter(users::email.eq(&r.email))
            .count()
            .get_result(conn)?;
        if account > 0 {
            return Err(AppError::Conflict(
                "this address has an account now; withdraw the invitation".into(),
            ));
        }
        let at = now();
        let changed = diesel::update(
            invitations::table
                .find(id)
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::withdrawn_at.is_null()),
        )
        .set((
            invitations::token_hash.eq(hash_secret(&token)),
            invitations::sent_at.eq(at),
            invitations::expires_at.eq(at + Duration::days(DAYS)),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(AppError::Conflict(
                "this invitation was accepted or withdrawn meanwhile".into(),
            ));
        }
        let l = letter(
            conn,
            Some(actor.user_id),
            &input,
            &invitation_link(base_url, &token),
        )?;
        mail::queue_letter(conn, &input.email, &l)?;
        audit::record(
            conn,
            Some(actor.user_id),
            "invitation",
            id,
            "resend",
            None,
            None,
        )?;
        get(conn, id)
    })
}

/// Withdraws a waiting (or expired) invitation: its link stops working.
pub fn withdraw(conn: &mut AnyConnection, actor: &Actor, id: i32) -> AppResult<Invitation> {
    crate::db::write(conn, |conn| {
        let r = row(conn, id)?;
        may_invite(actor, Role::from_db(&r.role)?).map_err(|_| AppError::Forbidden)?;
        let changed = diesel::update(
            invitations::table
                .find(id)
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::withdrawn_at.is_null()),
        )
        .set(invitations::withdrawn_at.eq(now()))
        .execute(conn)?;
        if changed == 0 {
            return Err(AppError::Conflict(match status_of(&r, now()) {
                InvitationStatus::Accepted => {
                    "this invitation was accepted already; archive the user instead".into()
                }
                _ => "this invitation was withdrawn already".into(),
            }));
        }
        audit::record(
            conn,
            Some(actor.user_id),
            "invitation",
            id,
            "withdraw",
            None,
            None,
        )?;
        get(conn, id)
    })
}

/// What the page behind a live link shows.
#[derive(Debug, Clone)]
pub struct Opened {
    pub id: i32,
    pub email: String,
    pub role: Role,
    pub school_name: Option<String>,
    pub organisation_name: Option<String>,
}

/// The invitation a link opens, if it is live (a wrong, used, withdrawn or expired link
/// opens nothing).
pub fn open(conn: &mut AnyConnection, token: &str) -> AppResult<Opened> {
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let (r, school_name, organisation_name): (Row, Option<String>, Option<String>) =
        invitations::table
            .left_join(schools::table)
            .left_join(organisations::table)
            .filter(invitations::token_hash.eq(hash_secret(token)))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::withdrawn_at.is_null())
            .filter(invitations::expires_at.gt(now()))
            .select((
                Row::as_select(),
                schools::name.nullable(),
                organisations::name.nullable(),
            ))
            .first(conn)
            .optional()?
            .ok_or(AppError::NotFound)?;
    Ok(Opened {
        id: r.id,
        email: r.email,
        role: Role::from_db(&r.role)?,
        school_name,
        organisation_name,
    })
}

/// Accepts a live invitation: checks `name` and `password`, makes the account with the
/// invitation's role and ties, spends the link, and answers the new user. Of two
/// acceptances at once, one makes the account and the other finds the link spent.
pub fn accept(
    conn: &mut AnyConnection,
    config: &crate::config::Config,
    token: &str,
    input: &Input,
) -> AppResult<(User, String)> {
    let opened = open(conn, token)?;
    let mut v = input.validator();
    let name = v.text("name", 200);
    v.of_type("password", crate::domain::input::Json::Text);
    let password = input.get("password").unwrap_or("").to_string();
    if password.is_empty() {
        v.error("password", "is required");
    } else if let Some(why) = password_problem(&password) {
        v.error("password", why);
    }
    v.finish()?;
    let hash = accounts::hash_password(&password)?;
    crate::db::write(conn, |conn| {
        let r = row(conn, opened.id)?;
        let at = now();
        let spent = diesel::update(
            invitations::table
                .find(opened.id)
                .filter(invitations::token_hash.eq(hash_secret(token)))
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::withdrawn_at.is_null())
                .filter(invitations::expires_at.gt(at)),
        )
        .set(invitations::accepted_at.eq(at))
        .execute(conn)?;
        if spent == 0 {
            return Err(AppError::NotFound);
        }
        let taken: i64 = users::table
            .filter(users::email.eq(&r.email))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(AppError::Conflict(
                "this address already has an account: sign in, or use \u{201c}Forgotten your password?\u{201d}".into(),
            ));
        }
        let user_id: i32 = diesel::insert_into(users::table)
            .values((
                users::email.eq(&r.email),
                users::name.eq(&name),
                users::password_hash.eq(&hash),
                users::role.eq(&r.role),
                users::school_id.eq(r.school_id),
                users::organisation_id.eq(r.organisation_id),
                users::created_at.eq(at),
                users::updated_at.eq(at),
            ))
            .returning(users::id)
            .get_result(conn)?;
        diesel::update(invitations::table.find(opened.id))
            .set(invitations::user_id.eq(user_id))
            .execute(conn)?;
        let user = accounts::get(conn, user_id)?;
        audit::record(
            conn,
            Some(user_id),
            "user",
            user_id,
            "create",
            None,
            Some(
                &serde_json::json!({"user": crate::domain::to_json(&user), "invitation": opened.id}),
            ),
        )?;
        let secret = crate::domain::sessions::start(conn, config, user_id)?;
        Ok((user, secret))
    })
}

/// A school that booked a programme, and whether its contact address can be invited.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BookedSchool {
    pub school_id: i32,
    pub label: String,
    pub contact_email: String,
    /// `ready` (will be invited), `has_account`, `invited` (an invitation is waiting),
    /// `withdrawn` (staff withdrew its invitation), `shared_address` (another school of
    /// the list has the same address) or `no_address`.
    pub state: &'static str,
}

impl BookedSchool {
    pub fn state_words(&self) -> &'static str {
        match self.state {
            "ready" => "Will be invited",
            "has_account" => "Already has a contact in Outreach",
            "invited" => "An invitation or a teacher's request is waiting",
            "withdrawn" => "Invitation withdrawn: invite it one by one if you mean to",
            "shared_address" => "Its address is another school's too: give each its own",
            _ => "No contact address: add one on the school's page",
        }
    }
}

/// The schools that booked or attended the programme (bookings not declined or cancelled,
/// of its events or tour dates, and its attendance rows), by name, each with its state.
pub fn booked_schools(conn: &mut AnyConnection, programme_id: i32) -> AppResult<Vec<BookedSchool>> {
    let mut ids: Vec<i32> = bookings::table
        .inner_join(events::table)
        .filter(events::programme_id.eq(programme_id))
        .filter(crate::any_of!(
            bookings::status,
            ["requested", "confirmed", "waitlisted"]
        ))
        .select(bookings::school_id)
        .load(conn)?;
    ids.extend(
        bookings::table
            .inner_join(tour_slots::table)
            .filter(tour_slots::programme_id.eq(programme_id))
            .filter(crate::any_of!(
                bookings::status,
                ["requested", "confirmed", "waitlisted"]
            ))
            .select(bookings::school_id)
            .load::<i32>(conn)?,
    );
    ids.extend(
        attendance::table
            .inner_join(events::table)
            .filter(events::programme_id.eq(programme_id))
            .filter(attendance::school_id.is_not_null())
            .select(attendance::school_id.assume_not_null())
            .load::<i32>(conn)?,
    );
    ids.sort_unstable();
    ids.dedup();
    let found: Vec<(i32, String, String)> = schools::table
        .filter(schools::id.eq_any(&ids))
        .filter(schools::archived.eq(false))
        .order((schools::name.asc(), schools::id.asc()))
        .select((schools::id, schools::name, schools::contact_email))
        .load(conn)?;
    let labels = crate::domain::schools::labels(conn, &ids)?;
    let with_users: Vec<Option<i32>> = users::table
        .filter(users::school_id.eq_any(&ids))
        .filter(users::role.eq("school"))
        .filter(users::archived.eq(false))
        .select(users::school_id)
        .load(conn)?;
    let addresses: Vec<&str> = found
        .iter()
        .map(|f| f.2.as_str())
        .filter(|a| !a.is_empty())
        .collect();
    let taken: Vec<String> = users::table
        .filter(users::email.eq_any(&addresses))
        .select(users::email)
        .load(conn)?;
    let waiting: Vec<String> = invitations::table
        .filter(invitations::email.eq_any(&addresses))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::withdrawn_at.is_null())
        .filter(invitations::expires_at.gt(now()))
        .select(invitations::email)
        .load(conn)?;
    let withdrawn: Vec<String> = invitations::table
        .filter(invitations::email.eq_any(&addresses))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::withdrawn_at.is_not_null())
        .select(invitations::email)
        .load(conn)?;
    let counts: std::collections::HashMap<String, usize> =
        addresses
            .iter()
            .fold(std::collections::HashMap::new(), |mut m, a| {
                *m.entry(a.to_string()).or_insert(0) += 1;
                m
            });
    let shared = |email: &str| counts.get(email).is_some_and(|n| *n > 1);
    // A school with an invitation waiting for anyone there, or a teacher's request
    // waiting, is in hand already.
    let mut in_hand: Vec<i32> = invitations::table
        .filter(invitations::school_id.eq_any(&ids))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::withdrawn_at.is_null())
        .filter(invitations::expires_at.gt(now()))
        .select(invitations::school_id.assume_not_null())
        .load(conn)?;
    in_hand.extend(
        crate::db::schema::school_requests::table
            .filter(crate::db::schema::school_requests::school_id.eq_any(&ids))
            .filter(crate::db::schema::school_requests::status.eq("waiting"))
            .select(crate::db::schema::school_requests::school_id)
            .load::<i32>(conn)?,
    );
    Ok(found
        .into_iter()
        .map(|(id, name, email)| {
            let state = if with_users.contains(&Some(id)) || taken.contains(&email) {
                "has_account"
            } else if email.is_empty() {
                "no_address"
            } else if waiting.contains(&email) || in_hand.contains(&id) {
                "invited"
            } else if withdrawn.contains(&email) {
                "withdrawn"
            } else if shared(&email) {
                "shared_address"
            } else {
                "ready"
            };
            BookedSchool {
                school_id: id,
                label: labels.get(&id).cloned().unwrap_or(name),
                contact_email: email,
                state,
            }
        })
        .collect())
}

/// Invites the contact address of every school of the programme that is `ready` (see
/// [`booked_schools`]), all in one transaction; answers how many were invited.
pub fn invite_booked_schools(
    conn: &mut AnyConnection,
    actor: &Actor,
    programme_id: i32,
    base_url: &str,
) -> AppResult<usize> {
    may_invite(actor, Role::School)?;
    let done = crate::db::write(conn, |conn| {
        let ready: Vec<BookedSchool> = booked_schools(conn, programme_id)?
            .into_iter()
            .filter(|s| s.state == "ready")
            .collect();
        for s in &ready {
            let token = random_secret()?;
            invite_in(
                conn,
                Some(actor.user_id),
                &InviteInput {
                    email: s.contact_email.clone(),
                    role: Role::School,
                    school_id: Some(s.school_id),
                    organisation_id: None,
                },
                &token,
                base_url,
                "programme",
            )?;
        }
        Ok(ready.len())
    });
    done.map_err(|e| match e {
        AppError::Conflict(m) if m.contains("invitations_open_email") => AppError::Conflict(
            "these schools were being invited by someone else at the same moment; reload the page to see who was".into(),
        ),
        other => other,
    })
}
