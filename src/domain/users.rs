//! Users of each role, their passwords (argon2id) and what ties them to a school or funder.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{organisations, schools, users};
use crate::db::AnyConnection;
use crate::domain::directory::{self, Kind};
use crate::domain::input::{Input, TextEnum};
use crate::domain::list::{any_column_like, page_of, ListParams, Page};
use crate::domain::types::Role;
use crate::domain::{audit, like_pattern, must_exist, to_json as json, Actor};
use crate::error::{AppError, AppResult};

pub const MIN_PASSWORD: usize = 10;
/// The longest password taken (argon2 reads it whole).
pub const MAX_PASSWORD: usize = 1000;

/// What is wrong with a new password, in words, if anything: too short, too long, or one
/// of the most common passwords (a short list shipped with the binary).
pub fn password_problem(p: &str) -> Option<String> {
    static COMMON: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    let common = COMMON.get_or_init(|| {
        include_str!("common_passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_lowercase)
            .collect()
    });
    if p.chars().count() < MIN_PASSWORD {
        Some(format!(
            "must be at least {MIN_PASSWORD} characters (a few words together are easy to remember)"
        ))
    } else if p.len() > MAX_PASSWORD {
        Some(format!("must be at most {MAX_PASSWORD} characters"))
    } else if common.contains(&p.to_lowercase()) {
        Some("is one of the most common passwords, which are tried first; choose another".into())
    } else if p.chars().all(|c| p.starts_with(c)) {
        Some("is one character repeated; choose another".into())
    } else {
        None
    }
}

#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = users)]
pub(crate) struct Row {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub school_id: Option<i32>,
    pub organisation_id: Option<i32>,
    pub archived: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub school_id: Option<i32>,
    pub organisation_id: Option<i32>,
    pub archived: bool,
}

impl TryFrom<Row> for User {
    type Error = AppError;

    fn try_from(r: Row) -> Result<Self, AppError> {
        Ok(User {
            id: r.id,
            email: r.email,
            name: r.name,
            // An unknown role reads as the least privileged one.
            role: Role::from_db(&r.role)?,
            school_id: r.school_id,
            organisation_id: r.organisation_id,
            archived: r.archived,
        })
    }
}

impl User {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            role: self.role,
            school_id: self.school_id,
            organisation_id: self.organisation_id,
        }
    }

    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.email
        } else {
            &self.name
        }
    }
}

pub fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(AppError::internal)
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

pub struct UserInput {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub school_id: Option<i32>,
    pub organisation_id: Option<i32>,
    /// Required on create; on update, blank keeps the old one.
    pub password: Option<String>,
}

/// Trimmed and lower-cased; control characters (which no address has, and which
/// PostgreSQL refuses in text) are dropped.
pub fn normalise_email(email: &str) -> String {
    email
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .to_lowercase()
}

pub(crate) fn valid_email(email: &str) -> bool {
    let mut parts = email.splitn(2, '@');
    let (local, domain) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    !local.is_empty()
        && !domain.contains('@')
        && !email.contains(['"', '%', '\\', '(', ')', ',', ';', ':', '<', '>', '[', ']'])
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

/// Checks the fields and that the school or organisation the role needs exists.
pub fn parse(conn: &mut AnyConnection, input: &Input, creating: bool) -> AppResult<UserInput> {
    let mut v = input.validator();
    let email = normalise_email(&v.text("email", 254));
    if !email.is_empty() && !v.has_error("email") && !valid_email(&email) {
        v.error("email", "must be an email address like name@example.org");
    }
    let name = v.text_or_empty("name", 200);
    let role = v.choice::<Role>("role");
    let school_id = v.id_opt("school_id");
    let organisation_id = v.id_opt("organisation_id");
    // A password is never trimmed, so it is read whole; only its JSON type is checked.
    v.of_type("password", crate::domain::input::Json::Text);
    let password = input
        .get("password")
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    match &password {
        None if creating => v.error("password", "is required"),
        Some(p) => {
            if let Some(why) = password_problem(p) {
                v.error("password", why);
            }
        }
        _ => {}
    }
    need_ties(&mut v, role, school_id, organisation_id);
    v.finish()?;
    let role = role.unwrap_or(Role::School);
    let (school_id, organisation_id) = ties(conn, role, school_id, organisation_id, false)?;
    Ok(UserInput {
        email,
        name,
        role,
        school_id,
        organisation_id,
        password,
    })
}

/// The tie a role needs, asked for by its field: a school user's school, a funder's
/// organisation (for an account and for an invitation alike).
pub(crate) fn need_ties(
    v: &mut crate::domain::input::Validator<'_>,
    role: Option<Role>,
    school_id: Option<i32>,
    organisation_id: Option<i32>,
) {
    match role {
        Some(Role::School) if school_id.is_none() && !v.has_error("school_id") => {
            v.error("school_id", "a school user must be tied to a school")
        }
        Some(Role::Funder) if organisation_id.is_none() && !v.has_error("organisation_id") => v
            .error(
                "organisation_id",
                "a funder user must be tied to an organisation",
            ),
        _ => {}
    }
}

/// Keeps only the tie the role needs, and checks it names a record (`live`: one not
/// archived).
pub(crate) fn ties(
    conn: &mut AnyConnection,
    role: Role,
    school_id: Option<i32>,
    organisation_id: Option<i32>,
    live: bool,
) -> AppResult<(Option<i32>, Option<i32>)> {
    let school_id = school_id.filter(|_| role == Role::School);
    let organisation_id = organisation_id.filter(|_| role == Role::Funder);
    if let Some(id) = school_id {
        let mut q = schools::table.find(id).into_boxed();
        if live {
            q = q.filter(schools::archived.eq(false));
        }
        must_exist(q.select(schools::id).first::<i32>(conn), "school_id")?;
    }
    if let Some(id) = organisation_id {
        let mut q = organisations::table.find(id).into_boxed();
        if live {
            q = q.filter(organisations::archived.eq(false));
        }
        must_exist(
            q.select(organisations::id).first::<i32>(conn),
            "organisation_id",
        )?;
    }
    Ok((school_id, organisation_id))
}

pub fn get(conn: &mut AnyConnection, id: i32) -> AppResult<User> {
    users::table
        .find(id)
        .select(Row::as_select())
        .first(conn)?
        .try_into()
}

pub(crate) fn row_by_email(conn: &mut AnyConnection, email: &str) -> AppResult<Option<Row>> {
    Ok(users::table
        .filter(users::email.eq(normalise_email(email)))
        .select(Row::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_email(conn: &mut AnyConnection, email: &str) -> AppResult<Option<User>> {
    row_by_email(conn, email)?
        .map(TryInto::try_into)
        .transpose()
}

pub fn list(conn: &mut AnyConnection, params: &ListParams) -> AppResult<Page<User>> {
    let query = || {
        let mut q = users::table.into_boxed();
        if let Some(term) = &params.q {
            q = q.filter(any_column_like!(like_pattern(term); users::email, users::name));
        }
        if !params.include_archived {
            q = q.filter(users::archived.eq(false));
        }
        q
    };
    page_of!(conn, params, query, order: (users::email.asc(), users::id.asc()), row: Row)
}

fn email_taken(conn: &mut AnyConnection, email: &str, except: Option<i32>) -> AppResult<bool> {
    let mut q = users::table.filter(users::email.eq(email)).into_boxed();
    if let Some(id) = except {
        q = q.filter(users::id.ne(id));
    }
    Ok(q.count().get_result::<i64>(conn)? > 0)
}

/// Creates a user; `actor` is None when the command line does it.
pub fn create(
    conn: &mut AnyConnection,
    actor: Option<&Actor>,
    input: UserInput,
) -> AppResult<User> {
    let password = input
        .password
        .as_deref()
        .ok_or_else(|| AppError::field("password", "is required"))?;
    let hash = hash_password(password)?;
    crate::db::write(conn, |conn| {
        if email_taken(conn, &input.email, None)? {
            return Err(AppError::field("email", "is already used by another user"));
        }
        let at = now();
        let id: i32 = diesel::insert_into(users::table)
            .values((
                users::email.eq(&input.email),
                users::name.eq(&input.name),
                users::password_hash.eq(&hash),
                users::role.eq(input.role.as_str()),
                users::school_id.eq(input.school_id),
                users::organisation_id.eq(input.organisation_id),
                users::created_at.eq(at),
                users::updated_at.eq(at),
            ))
            .returning(users::id)
            .get_result(conn)?;
        let created = get(conn, id)?;
        audit::record(
            conn,
            actor.map(|a| a.user_id),
            "user",
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
    input: UserInput,
) -> AppResult<User> {
    let hash = match &input.password {
        Some(p) => Some(hash_password(p)?),
        None => None,
    };
    crate::db::write(conn, |conn| {
        let before = get(conn, id)?;
        if email_taken(conn, &input.email, Some(id))? {
            return Err(AppError::field("email", "is already used by another user"));
        }
        if actor.user_id == id && input.role != before.role {
            return Err(AppError::field("role", "you cannot change your own role"));
        }
        diesel::update(users::table.find(id))
            .set((
                users::email.eq(&input.email),
                users::name.eq(&input.name),
                users::role.eq(input.role.as_str()),
                users::school_id.eq(input.school_id),
                users::organisation_id.eq(input.organisation_id),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
        if let Some(hash) = &hash {
            diesel::update(users::table.find(id))
                .set(users::password_hash.eq(hash))
                .execute(conn)?;
            crate::domain::sessions::end_all_for(conn, id)?;
        }
        let after = get(conn, id)?;
        audit::record(
            conn,
            Some(actor.user_id),
            "user",
            id,
            "update",
            Some(&json(&before)),
            Some(&json(&after)),
        )?;
        Ok(after)
    })
}

/// Archiving a user also ends its sessions and revokes its tokens.
pub fn set_archived(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i32,
    archived: bool,
) -> AppResult<User> {
    if archived && actor.user_id == id {
        return Err(AppError::Conflict("you cannot archive yourself".into()));
    }
    directory::set_archived(conn, actor, Kind::User, id, archived, get, |conn| {
        if archived {
            crate::domain::sessions::end_all_for(conn, id)?;
            crate::domain::tokens::revoke_all_for(conn, id)?;
        }
        Ok(())
    })
}

/// Changes the user's own password: the current one must be given, the new one must pass
/// [`password_problem`] and differ from it. Every other session of the user ends (the one
/// asking, `keep`, stays); the change is audited (never the password).
pub fn change_password(
    conn: &mut AnyConnection,
    user_id: i32,
    input: &crate::domain::input::Input,
    keep: Option<&str>,
) -> AppResult<()> {
    let mut v = input.validator();
    v.of_type("current_password", crate::domain::input::Json::Text);
    v.of_type("new_password", crate::domain::input::Json::Text);
    let current = input.get("current_password").unwrap_or("").to_string();
    let new = input.get("new_password").unwrap_or("").to_string();
    if current.is_empty() {
        v.error("current_password", "is required");
    }
    if new.is_empty() {
        v.error("new_password", "is required");
    } else if let Some(why) = password_problem(&new) {
        v.error("new_password", why);
    } else if new == current {
        v.error("new_password", "must differ from the current password");
    }
    v.finish()?;
    let key = crate::domain::throttle::key("password-change", &user_id.to_string());
    crate::domain::throttle::reserve(
        conn,
        &[crate::domain::throttle::Limit {
            key: &key,
            limit: 10,
            window: chrono::Duration::hours(1),
        }],
        "too many tries to change the password; please wait an hour",
    )?;
    let hash: String = users::table
        .find(user_id)
        .select(users::password_hash)
        .first(conn)?;
    if !verify_password(&hash, &current) {
        return Err(AppError::field(
            "current_password",
            "is not your current password",
        ));
    }
    let new_hash = hash_password(&new)?;
    crate::db::write(conn, |conn| {
        diesel::update(users::table.find(user_id))
            .set((
                users::password_hash.eq(&new_hash),
                users::updated_at.eq(now()),
            ))
            .execute(conn)?;
        crate::domain::sessions::end_all_but(conn, user_id, keep)?;
        crate::domain::login_links::spend_all(conn, user_id)?;
        audit::record(
            conn,
            Some(user_id),
            "user",
            user_id,
            "password",
            None,
            Some(&serde_json::json!({"password": "changed", "other_sessions": "ended"})),
        )?;
        Ok(())
    })
}
