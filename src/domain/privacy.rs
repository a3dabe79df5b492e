//! Personal data: what is held about one person (an export, as the law gives them a right
//! to), erasing it, and the retention rule that anonymises what is no longer needed.
//!
//! Figures never change: attendance, bookings' numbers, feedback ratings and every row the
//! impact figures count stay; what goes is names, addresses, passwords, free text written
//! by or about people, and links that would let someone in.
//!
//! Where personal data is held (the README's "Personal data" lists it with its rule):
//! `users` (name, email, password hash, last sign-in), `sessions`, `api_tokens`,
//! `login_links`, `calendar_links` (secrets of a user), `invitations.email`,
//! `school_requests` (name, email), `schools.contact_email`, `bookings` (notes, access
//! needs, message: free text), `feedback.quote` (free text; `role` is a word like "Pupil",
//! never a name), `outbox` (address and letter), `audit_entries` (before and after values,
//! which may repeat any of these).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};

use crate::db::schema::{
    api_tokens, audit_entries, bookings, calendar_links, feedback, install_settings, invitations,
    login_links, outbox, school_requests, schools, sessions, users,
};
use crate::db::AnyConnection;
use crate::domain::users::normalise_email;
use crate::domain::{audit, Actor};
use crate::error::{AppError, AppResult};

/// The name an erased or anonymised person is shown by.
pub const ERASED_NAME: &str = "Former user";

/// Keys of audit values that hold personal data.
const PERSONAL_KEYS: &[&str] = &[
    "email",
    "name",
    "contact_email",
    "notes",
    "access_needs",
    "message",
    "quote",
    "to_address",
    "password",
];

/// The address an erased account is left with: unique, and one no mail can reach
/// (`.invalid` is reserved for that).
fn erased_address(user_id: i32) -> String {
    format!("erased-{user_id}@erased.invalid")
}

/// The email given, checked: 422 when it is missing or not an address.
pub fn parse_email(given: Option<&str>) -> AppResult<String> {
    let email = normalise_email(given.unwrap_or(""));
    if email.is_empty() {
        return Err(AppError::field("email", "is required"));
    }
    if email.len() > 254 || !crate::domain::users::valid_email(&email) {
        return Err(AppError::field(
            "email",
            "must be an email address like name@example.org",
        ));
    }
    Ok(email)
}

fn ts(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn ts_opt(t: Option<NaiveDateTime>) -> Option<String> {
    t.map(ts)
}

fn audit_value(text: Option<String>) -> Value {
    match text {
        None => Value::Null,
        Some(t) => serde_json::from_str(&t).unwrap_or(Value::String(t)),
    }
}

/// Everything held about the person with this address, as JSON.
pub fn export(conn: &mut AnyConnection, email: &str) -> AppResult<Value> {
    type UserRow = (
        i32,
        String,
        String,
        String,
        Option<i32>,
        Option<i32>,
        bool,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let people: Vec<UserRow> = users::table
        .filter(users::email.eq(email))
        .select((
            users::id,
            users::email,
            users::name,
            users::role,
            users::school_id,
            users::organisation_id,
            users::archived,
            users::created_at,
            users::last_signed_in_at,
        ))
        .load(conn)?;
    let ids: Vec<i32> = people.iter().map(|p| p.0).collect();
    let accounts: Vec<Value> = people
        .iter()
        .map(|u| {
            json!({"id": u.0, "email": u.1, "name": u.2, "role": u.3, "school_id": u.4,
                "organisation_id": u.5, "archived": u.6, "created_at": ts(u.7),
                "last_signed_in_at": ts_opt(u.8)})
        })
        .collect();
    type BookingRow = (
        i32,
        Option<i32>,
        Option<i32>,
        i32,
        String,
        i32,
        i32,
        String,
        String,
        String,
        String,
        NaiveDateTime,
    );
    let made: Vec<BookingRow> = bookings::table
        .filter(bookings::created_by.eq_any(&ids))
        .order(bookings::id)
        .select((
            bookings::id,
            bookings::event_id,
            bookings::slot_id,
            bookings::school_id,
            bookings::status,
            bookings::pupils,
            bookings::staff,
            bookings::year_groups,
            bookings::notes,
            bookings::access_needs,
            bookings::message,
            bookings::created_at,
        ))
        .load(conn)?;
    let made: Vec<Value> = made
        .into_iter()
        .map(|b| {
            json!({"id": b.0, "event_id": b.1, "slot_id": b.2, "school_id": b.3, "status": b.4,
                "pupils": b.5, "staff": b.6, "year_groups": b.7, "notes": b.8,
                "access_needs": b.9, "message": b.10, "created_at": ts(b.11)})
        })
        .collect();
    type AnswerRow = (
        i32,
        i32,
        Option<i32>,
        Option<i32>,
        String,
        String,
        Option<i32>,
        bool,
        String,
        NaiveDateTime,
    );
    let given: Vec<AnswerRow> = feedback::table
        .filter(feedback::created_by.eq_any(&ids))
        .order(feedback::id)
        .select((
            feedback::id,
            feedback::programme_id,
            feedback::event_id,
            feedback::school_id,
            feedback::role,
            feedback::quote,
            feedback::rating,
            feedback::consent,
            feedback::moderation,
            feedback::created_at,
        ))
        .load(conn)?;
    let given: Vec<Value> = given
        .into_iter()
        .map(|f| {
            json!({"id": f.0, "programme_id": f.1, "event_id": f.2, "school_id": f.3,
                "role": f.4, "quote": f.5, "rating": f.6, "consent": f.7, "moderation": f.8,
                "created_at": ts(f.9)})
        })
        .collect();
    type AuditRow = (
        i32,
        Option<i32>,
        NaiveDateTime,
        String,
        i32,
        String,
        Option<String>,
        Option<String>,
    );
    let entries: Vec<AuditRow> = audit_entries::table
        .filter(
            audit_entries::user_id.eq_any(&ids).or(audit_entries::entity
                .eq("user")
                .and(audit_entries::entity_id.eq_any(&ids))),
        )
        .order(audit_entries::id)
        .select((
            audit_entries::id,
            audit_entries::user_id,
            audit_entries::at,
            audit_entries::entity,
            audit_entries::entity_id,
            audit_entries::action,
            audit_entries::before_value,
            audit_entries::after_value,
        ))
        .load(conn)?;
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|a| {
            json!({"id": a.0, "by_them": a.1.is_some_and(|u| ids.contains(&u)), "at": ts(a.2),
                "entity": a.3, "entity_id": a.4, "action": a.5,
                "before": audit_value(a.6), "after": audit_value(a.7)})
        })
        .collect();
    type InvitationRow = (
        i32,
        String,
        Option<i32>,
        Option<i32>,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let invited: Vec<InvitationRow> = invitations::table
        .filter(invitations::email.eq(email))
        .order(invitations::id)
        .select((
            invitations::id,
            invitations::role,
            invitations::school_id,
            invitations::organisation_id,
            invitations::sent_at,
            invitations::accepted_at,
            invitations::withdrawn_at,
        ))
        .load(conn)?;
    let invited: Vec<Value> = invited
        .into_iter()
        .map(|i| {
            json!({"id": i.0, "role": i.1, "school_id": i.2, "organisation_id": i.3,
                "sent_at": ts(i.4), "accepted_at": ts_opt(i.5), "withdrawn_at": ts_opt(i.6)})
        })
        .collect();
    let asked: Vec<(i32, i32, String, String, NaiveDateTime)> = school_requests::table
        .filter(school_requests::email.eq(email))
        .order(school_requests::id)
        .select((
            school_requests::id,
            school_requests::school_id,
            school_requests::name,
            school_requests::status,
            school_requests::created_at,
        ))
        .load(conn)?;
    let asked: Vec<Value> = asked
        .into_iter()
        .map(|r| {
            json!({"id": r.0, "school_id": r.1, "name": r.2, "status": r.3,
                "created_at": ts(r.4)})
        })
        .collect();
    let contact_of: Vec<(i32, String)> = schools::table
        .filter(schools::contact_email.eq(email))
        .order(schools::id)
        .select((schools::id, schools::name))
        .load(conn)?;
    let contact_of: Vec<Value> = contact_of
        .into_iter()
        .map(|s| json!({"id": s.0, "name": s.1}))
        .collect();
    let mail: Vec<(i32, String, String, NaiveDateTime, Option<NaiveDateTime>)> = outbox::table
        .filter(outbox::to_address.eq(email))
        .order(outbox::id)
        .select((
            outbox::id,
            outbox::subject,
            outbox::status,
            outbox::created_at,
            outbox::sent_at,
        ))
        .load(conn)?;
    let mail: Vec<Value> = mail
        .into_iter()
        .map(|m| {
            json!({"id": m.0, "subject": m.1, "status": m.2, "created_at": ts(m.3),
                "sent_at": ts_opt(m.4)})
        })
        .collect();
    type TokenRow = (
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let tokens: Vec<TokenRow> = api_tokens::table
        .filter(api_tokens::user_id.eq_any(&ids))
        .order(api_tokens::id)
        .select((
            api_tokens::label,
            api_tokens::created_at,
            api_tokens::last_used_at,
            api_tokens::revoked_at,
        ))
        .load(conn)?;
    let tokens: Vec<Value> = tokens
        .into_iter()
        .map(|t| {
            json!({"label": t.0, "created_at": ts(t.1), "last_used_at": ts_opt(t.2),
                "revoked_at": ts_opt(t.3)})
        })
        .collect();
    let signed_in: i64 = sessions::table
        .filter(sessions::user_id.eq_any(&ids))
        .count()
        .get_result(conn)?;
    let found = !(accounts.is_empty()
        && invited.is_empty()
        && asked.is_empty()
        && contact_of.is_empty()
        && mail.is_empty());
    Ok(json!({
        "email": email,
        "found": found,
        "generated_at": ts(crate::app::now()),
        "accounts": accounts,
        "bookings_made": made,
        "answers_given": given,
        "audit_entries": entries,
        "invitations": invited,
        "school_requests": asked,
        "school_contact_of": contact_of,
        "mail": mail,
        "api_tokens": tokens,
        "open_sessions": signed_in,
    }))
}

/// What an erasure or a retention run changed, by kind.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Erased {
    /// Accounts left with no name, address or password, signed out everywhere.
    pub accounts: usize,
    pub invitations: usize,
    pub school_requests: usize,
    /// Schools whose contact address it was (the school stays, without an address).
    pub school_contacts: usize,
    /// Letters to the address, deleted.
    pub mail: usize,
    /// Audit entries whose personal values were replaced.
    pub audit_entries: usize,
    /// Bookings whose notes, access needs and message were cleared.
    pub booking_notes: usize,
    /// Feedback answers whose words were removed (the answer, its rating and role stay).
    pub quotes_removed: usize,
    /// Quotes given with consent that were kept, as the admin chose.
    pub quotes_kept: usize,
}

/// Leaves these accounts with no name, address or password, and ends their sessions,
/// tokens and links. The rows stay: bookings, answers and audit entries point at them.
fn anonymise_accounts(conn: &mut AnyConnection, ids: &[i32], at: NaiveDateTime) -> AppResult<()> {
    for &id in ids {
        diesel::update(users::table.find(id))
            .set((
                users::email.eq(erased_address(id)),
                users::name.eq(ERASED_NAME),
                // No password hash parses from this, so no password matches it.
                users::password_hash.eq("!erased"),
                users::archived.eq(true),
                users::erased_at.eq(at),
                users::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    diesel::delete(sessions::table.filter(sessions::user_id.eq_any(ids))).execute(conn)?;
    diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq_any(ids))).execute(conn)?;
    diesel::delete(login_links::table.filter(login_links::user_id.eq_any(ids))).execute(conn)?;
    diesel::delete(calendar_links::table.filter(calendar_links::user_id.eq_any(ids)))
        .execute(conn)?;
    Ok(())
}

/// Removes the words of these feedback answers (and their consent, so they are never
/// published), except, when `keep_consented`, those given with consent. Returns (removed,
/// kept).
fn remove_quotes(
    conn: &mut AnyConnection,
    ids: &[i32],
    keep_consented: bool,
) -> AppResult<(usize, usize)> {
    let base = || {
        feedback::table
            .filter(feedback::created_by.eq_any(ids))
            .filter(feedback::quote.ne(""))
    };
    let kept = if keep_consented {
        base()
            .filter(feedback::consent.eq(true))
            .count()
            .get_result::<i64>(conn)? as usize
    } else {
        0
    };
    let gone: Vec<i32> = if keep_consented {
        base()
            .filter(feedback::consent.eq(false))
            .select(feedback::id)
            .load(conn)?
    } else {
        base().select(feedback::id).load(conn)?
    };
    clear_quotes(conn, &gone)?;
    Ok((gone.len(), kept))
}

fn clear_quotes(conn: &mut AnyConnection, ids: &[i32]) -> AppResult<()> {
    if !ids.is_empty() {
        diesel::update(feedback::table.filter(feedback::id.eq_any(ids)))
            .set((
                feedback::quote.eq(""),
                feedback::consent.eq(false),
                feedback::featured.eq(false),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A JSON value with personal values replaced: every value under a personal key, and any
/// text holding one of `words` (an address being erased).
fn scrub(value: &mut Value, words: &[String]) -> bool {
    let mut changed = false;
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if PERSONAL_KEYS.contains(&k.as_str()) && v.is_string() && v != "[removed]" {
                    *v = Value::String("[removed]".into());
                    changed = true;
                } else {
                    changed |= scrub(v, words);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                changed |= scrub(v, words);
            }
        }
        Value::String(s) => {
            let lower = s.to_lowercase();
            if words.iter().any(|w| lower.contains(w.as_str())) {
                *s = "[removed]".into();
                changed = true;
            }
        }
        _ => {}
    }
    changed
}

/// Scrubs the personal values of these audit entries; how many changed.
fn scrub_audit(
    conn: &mut AnyConnection,
    rows: Vec<(i32, Option<String>, Option<String>)>,
    words: &[String],
) -> AppResult<usize> {
    let mut changed = 0;
    for (id, before, after) in rows {
        let mut touched = false;
        let mut clean = |text: Option<String>| {
            text.map(|t| match serde_json::from_str::<Value>(&t) {
                Ok(mut v) => {
                    touched |= scrub(&mut v, words);
                    v.to_string()
                }
                Err(_) => {
                    touched = true;
                    "\"[removed]\"".to_string()
                }
            })
        };
        let (before, after) = (clean(before), clean(after));
        if touched {
            diesel::update(audit_entries::table.find(id))
                .set((
                    audit_entries::before_value.eq(before),
                    audit_entries::after_value.eq(after),
                ))
                .execute(conn)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Erases what is held about the person with this address (one transaction, by the
/// caller): their account is anonymised, their invitations, account requests and the
/// schools' contact address lose it, mail to it is deleted, audit entries by or about
/// them lose their personal values, and the words of their answers go (those given with
/// consent stay only when `keep_consented_quotes`). Every figure stays as it was.
pub fn erase(
    conn: &mut AnyConnection,
    actor: &Actor,
    email: &str,
    keep_consented_quotes: bool,
) -> AppResult<Erased> {
    let at = crate::app::now();
    let ids: Vec<i32> = users::table
        .filter(users::email.eq(email))
        .select(users::id)
        .load(conn)?;
    if ids.contains(&actor.user_id) {
        return Err(AppError::Conflict(
            "you cannot erase your own account; another admin can".into(),
        ));
    }
    let mut done = Erased::default();
    let (removed, kept) = remove_quotes(conn, &ids, keep_consented_quotes)?;
    done.quotes_removed = removed;
    done.quotes_kept = kept;
    let made: Vec<i32> = bookings::table
        .filter(bookings::created_by.eq_any(&ids))
        .select(bookings::id)
        .load(conn)?;
    done.booking_notes = clear_booking_notes(conn, made)?;
    let words = vec![email.to_string()];
    let rows: Vec<(i32, Option<String>, Option<String>)> = audit_entries::table
        .filter(
            audit_entries::entity
                .eq("user")
                .and(audit_entries::entity_id.eq_any(&ids))
                .or(audit_entries::before_value.like(format!("%{}%", like_escaped(email))))
                .or(audit_entries::after_value.like(format!("%{}%", like_escaped(email)))),
        )
        .select((
            audit_entries::id,
            audit_entries::before_value,
            audit_entries::after_value,
        ))
        .load(conn)?;
    done.audit_entries = scrub_audit(conn, rows, &words)?;
    anonymise_accounts(conn, &ids, at)?;
    done.accounts = ids.len();
    let invited: Vec<i32> = invitations::table
        .filter(invitations::email.eq(email))
        .select(invitations::id)
        .load(conn)?;
    // A waiting invitation is withdrawn: its link stops working.
    diesel::update(
        invitations::table
            .filter(invitations::id.eq_any(&invited))
            .filter(invitations::accepted_at.is_null())
            .filter(invitations::withdrawn_at.is_null()),
    )
    .set(invitations::withdrawn_at.eq(at))
    .execute(conn)?;
    done.invitations = forget_invitations(conn, &invited)?;
    let asked: Vec<i32> = school_requests::table
        .filter(school_requests::email.eq(email))
        .select(school_requests::id)
        .load(conn)?;
    // A waiting request is declined: no one may be invited from it.
    diesel::update(
        school_requests::table
            .filter(school_requests::id.eq_any(&asked))
            .filter(school_requests::status.eq("waiting")),
    )
    .set((
        school_requests::status.eq("declined"),
        school_requests::decided_by.eq(actor.user_id),
        school_requests::decided_at.eq(at),
    ))
    .execute(conn)?;
    done.school_requests = forget_requests(conn, &asked)?;
    done.school_contacts = diesel::update(schools::table.filter(schools::contact_email.eq(email)))
        .set(schools::contact_email.eq(""))
        .execute(conn)?;
    done.mail = diesel::delete(outbox::table.filter(outbox::to_address.eq(email))).execute(conn)?;
    // The record of the erasure names no one: it says what was done, by whom.
    audit::record(
        conn,
        Some(actor.user_id),
        "person",
        ids.first().copied().unwrap_or(0),
        "erased",
        None,
        Some(&serde_json::to_value(&done).unwrap_or(Value::Null)),
    )?;
    Ok(done)
}

/// Takes the address (and the link) out of these invitations.
fn forget_invitations(conn: &mut AnyConnection, ids: &[i32]) -> AppResult<usize> {
    for id in ids {
        diesel::update(invitations::table.find(id))
            .set((
                invitations::email.eq(format!("erased-invitation-{id}@erased.invalid")),
                invitations::token_hash.eq(format!("erased-{id}")),
            ))
            .execute(conn)?;
    }
    Ok(ids.len())
}

/// Takes the name and address out of these account requests.
fn forget_requests(conn: &mut AnyConnection, ids: &[i32]) -> AppResult<usize> {
    for id in ids {
        diesel::update(school_requests::table.find(id))
            .set((
                school_requests::name.eq(ERASED_NAME),
                school_requests::email.eq(format!("erased-request-{id}@erased.invalid")),
            ))
            .execute(conn)?;
    }
    Ok(ids.len())
}

fn like_escaped(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn clear_booking_notes(conn: &mut AnyConnection, ids: Vec<i32>) -> AppResult<usize> {
    let mut n = 0;
    for chunk in ids.chunks(500) {
        n += diesel::update(
            bookings::table.filter(bookings::id.eq_any(chunk)).filter(
                bookings::notes
                    .ne("")
                    .or(bookings::access_needs.ne(""))
                    .or(bookings::message.ne("")),
            ),
        )
        .set((
            bookings::notes.eq(""),
            bookings::access_needs.eq(""),
            bookings::message.eq(""),
        ))
        .execute(conn)?;
    }
    Ok(n)
}

/// The install setting holding how far the audit log has been scrubbed.
const AUDIT_SCRUBBED_THROUGH: &str = "retention_audit_scrubbed_through";

/// The retention rule, applied as of `now` for a period of `years`: personal data of
/// people gone for that long is anonymised, leaving every figure, count and consented
/// quote as it was. Gone means:
/// - an account not signed into (nor its API tokens used) since the cutoff, and made
///   before it: anonymised as by an erasure (admins too: an admin who has not signed in for
///   years is no longer one);
/// - feedback given before the cutoff without consent to publish: its words removed;
/// - bookings made before the cutoff: notes, access needs and message cleared;
/// - account requests, invitations made before the cutoff and no longer waiting: name and
///   address removed;
/// - audit entries from before the cutoff: personal values replaced.
pub fn apply_retention(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    years: i64,
) -> AppResult<Erased> {
    let mut done = Erased::default();
    if years <= 0 {
        return Ok(done);
    }
    let cutoff = now - Duration::days(365 * years + years / 4);
    let recently_used: Vec<i32> = api_tokens::table
        .filter(api_tokens::last_used_at.ge(cutoff))
        .select(api_tokens::user_id)
        .load(conn)?;
    let gone: Vec<i32> = users::table
        .filter(users::erased_at.is_null())
        .filter(users::created_at.lt(cutoff))
        .filter(
            users::last_signed_in_at
                .is_null()
                .or(users::last_signed_in_at.lt(cutoff)),
        )
        .select(users::id)
        .load::<i32>(conn)?
        .into_iter()
        .filter(|id| !recently_used.contains(id))
        .collect();
    if !gone.is_empty() {
        let rows: Vec<(i32, Option<String>, Option<String>)> = audit_entries::table
            .filter(audit_entries::entity.eq("user"))
            .filter(audit_entries::entity_id.eq_any(&gone))
            .select((
                audit_entries::id,
                audit_entries::before_value,
                audit_entries::after_value,
            ))
            .load(conn)?;
        done.audit_entries += scrub_audit(conn, rows, &[])?;
        anonymise_accounts(conn, &gone, now)?;
        done.accounts = gone.len();
    }
    let words: Vec<i32> = feedback::table
        .filter(feedback::created_at.lt(cutoff))
        .filter(feedback::consent.eq(false))
        .filter(feedback::quote.ne(""))
        .select(feedback::id)
        .load(conn)?;
    clear_quotes(conn, &words)?;
    done.quotes_removed = words.len();
    let noted: Vec<i32> = bookings::table
        .filter(bookings::created_at.lt(cutoff))
        .filter(
            bookings::notes
                .ne("")
                .or(bookings::access_needs.ne(""))
                .or(bookings::message.ne("")),
        )
        .select(bookings::id)
        .load(conn)?;
    done.booking_notes = clear_booking_notes(conn, noted)?;
    let asked: Vec<i32> = school_requests::table
        .filter(school_requests::created_at.lt(cutoff))
        .filter(school_requests::status.ne("waiting"))
        .filter(school_requests::email.not_like("erased-%"))
        .select(school_requests::id)
        .load(conn)?;
    done.school_requests = forget_requests(conn, &asked)?;
    let invited: Vec<i32> = invitations::table
        .filter(invitations::created_at.lt(cutoff))
        .filter(
            invitations::accepted_at
                .is_not_null()
                .or(invitations::withdrawn_at.is_not_null())
                .or(invitations::expires_at.lt(now)),
        )
        .filter(invitations::email.not_like("erased-%"))
        .select(invitations::id)
        .load(conn)?;
    done.invitations = forget_invitations(conn, &invited)?;
    // The audit log, from where the last run stopped up to the cutoff.
    let through: Option<String> = install_settings::table
        .find(AUDIT_SCRUBBED_THROUGH)
        .select(install_settings::value)
        .first(conn)
        .optional()?;
    let from = through
        .and_then(|t| NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f").ok())
        .unwrap_or(chrono::DateTime::UNIX_EPOCH.naive_utc());
    if from < cutoff {
        let rows: Vec<(i32, Option<String>, Option<String>)> = audit_entries::table
            .filter(audit_entries::at.ge(from))
            .filter(audit_entries::at.lt(cutoff))
            .select((
                audit_entries::id,
                audit_entries::before_value,
                audit_entries::after_value,
            ))
            .load(conn)?;
        done.audit_entries += scrub_audit(conn, rows, &[])?;
        let mark = cutoff.format("%Y-%m-%dT%H:%M:%S%.f").to_string();
        let written = diesel::update(install_settings::table.find(AUDIT_SCRUBBED_THROUGH))
            .set((
                install_settings::value.eq(&mark),
                install_settings::updated_at.eq(now),
            ))
            .execute(conn)?;
        if written == 0 {
            diesel::insert_into(install_settings::table)
                .values((
                    install_settings::name.eq(AUDIT_SCRUBBED_THROUGH),
                    install_settings::value.eq(&mark),
                    install_settings::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    Ok(done)
}
