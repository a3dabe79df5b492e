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

/// Keys of audit values that hold personal data, by the entity the entry is about: an
/// address anywhere; a person's name only in entries about people (a school's or a venue's
/// name is no one's); free text where people write it.
fn personal_keys(entity: &str) -> &'static [&'static str] {
    match entity {
        "user" | "invitation" | "school_request" | "person" => {
            &["email", "name", "contact_email", "to_address", "password"]
        }
        "booking" => &["email", "contact_email", "notes", "access_needs", "message"],
        "feedback" | "event_answer" => &["email", "contact_email", "quote"],
        "outbox" => &["email", "to_address", "body", "body_html"],
        _ => &["email", "contact_email", "to_address"],
    }
}

/// Ids to an `IN (…)` list a few hundred at a time (SQLite binds at most 32,766 values).
const CHUNK: usize = 500;

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

/// The export, for an admin, recorded in the audit log without the address (what was
/// looked up, by whom and when; the account's id when there is one).
pub fn export_for(conn: &mut AnyConnection, actor: &Actor, email: &str) -> AppResult<Value> {
    crate::db::write(conn, |c| {
        let held = export(c, email)?;
        let account = held["accounts"][0]["id"].as_i64().unwrap_or(0) as i32;
        audit::record(
            c,
            Some(actor.user_id),
            "person",
            account,
            "exported",
            None,
            Some(&json!({"found": held["found"]})),
        )?;
        Ok(held)
    })
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
    for chunk in ids.chunks(CHUNK) {
        diesel::delete(sessions::table.filter(sessions::user_id.eq_any(chunk))).execute(conn)?;
        diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq_any(chunk)))
            .execute(conn)?;
        diesel::delete(login_links::table.filter(login_links::user_id.eq_any(chunk)))
            .execute(conn)?;
        diesel::delete(calendar_links::table.filter(calendar_links::user_id.eq_any(chunk)))
            .execute(conn)?;
    }
    Ok(())
}

/// Removes the words of these feedback answers, and their consent, so they are never
/// published. The answers, their ratings and roles stay.
fn clear_quotes(conn: &mut AnyConnection, ids: &[i32]) -> AppResult<()> {
    for chunk in ids.chunks(CHUNK) {
        diesel::update(feedback::table.filter(feedback::id.eq_any(chunk)))
            .set((
                feedback::quote.eq(""),
                feedback::consent.eq(false),
                feedback::featured.eq(false),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Clears the notes, access needs and message of these bookings; how many had any.
fn clear_booking_notes(conn: &mut AnyConnection, ids: &[i32]) -> AppResult<usize> {
    let mut n = 0;
    for chunk in ids.chunks(CHUNK) {
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

/// A JSON value with personal values replaced: every text under one of `keys`, and any
/// text holding one of `words` (an address being erased).
fn scrub(value: &mut Value, keys: &[&str], words: &[String]) -> bool {
    let mut changed = false;
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if keys.contains(&k.as_str()) && v.is_string() && v != "[removed]" {
                    *v = Value::String("[removed]".into());
                    changed = true;
                } else {
                    changed |= scrub(v, keys, words);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                changed |= scrub(v, keys, words);
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

/// An audit entry's before or after value (JSON text).
type AuditValue = Option<String>;
/// An audit entry's id, entity and values.
type AuditValues = (i32, String, AuditValue, AuditValue);

/// Scrubs the personal values of these audit entries; how many changed.
fn scrub_audit(
    conn: &mut AnyConnection,
    rows: Vec<AuditValues>,
    words: &[String],
) -> AppResult<usize> {
    let mut changed = 0;
    for (id, entity, before, after) in rows {
        let keys = personal_keys(&entity);
        let mut touched = false;
        let mut clean = |text: Option<String>| {
            text.map(|t| match serde_json::from_str::<Value>(&t) {
                Ok(mut v) => {
                    touched |= scrub(&mut v, keys, words);
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

/// The audit entries of these records of an entity.
fn audit_of(conn: &mut AnyConnection, entity: &str, ids: &[i32]) -> AppResult<Vec<AuditValues>> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        rows.extend(
            audit_entries::table
                .filter(audit_entries::entity.eq(entity))
                .filter(audit_entries::entity_id.eq_any(chunk))
                .select((
                    audit_entries::id,
                    audit_entries::entity,
                    audit_entries::before_value,
                    audit_entries::after_value,
                ))
                .load::<AuditValues>(conn)?,
        );
    }
    Ok(rows)
}

/// Erases what is held about the person with this address (in the caller's transaction):
/// their account is anonymised; a waiting invitation is withdrawn and a waiting account
/// request declined, both losing the address; schools lose it as their contact; mail to it
/// is deleted; the bookings they made lose their notes; audit entries about them, by them,
/// about what was cleared, or holding the address lose their personal values; the words of
/// the feedback they entered go, except those given with consent when
/// `keep_consented_quotes`. Its default: kept when the person is staff (the words they typed
/// in are pupils' and teachers', not theirs), removed when the person is a school's. Every
/// figure stays as it was.
pub fn erase(
    conn: &mut AnyConnection,
    actor: &Actor,
    email: &str,
    keep_consented_quotes: Option<bool>,
) -> AppResult<Erased> {
    let at = crate::app::now();
    let people: Vec<(i32, String)> = users::table
        .filter(users::email.eq(email))
        .select((users::id, users::role))
        .load(conn)?;
    let ids: Vec<i32> = people.iter().map(|p| p.0).collect();
    if ids.contains(&actor.user_id) {
        return Err(AppError::Conflict(
            "you cannot erase your own account; another admin can".into(),
        ));
    }
    let staff = people.iter().any(|p| p.1 != "school");
    let keep = keep_consented_quotes.unwrap_or(staff);
    let mut done = Erased::default();
    // Their words.
    let mut entered: Vec<(i32, bool)> = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        entered.extend(
            feedback::table
                .filter(feedback::created_by.eq_any(chunk))
                .filter(feedback::quote.ne(""))
                .select((feedback::id, feedback::consent))
                .load::<(i32, bool)>(conn)?,
        );
    }
    let (kept, gone): (Vec<_>, Vec<_>) = entered
        .into_iter()
        .partition(|(_, consent)| *consent && keep);
    let gone: Vec<i32> = gone.into_iter().map(|(id, _)| id).collect();
    clear_quotes(conn, &gone)?;
    done.quotes_removed = gone.len();
    done.quotes_kept = kept.len();
    let mut made: Vec<i32> = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        made.extend(
            bookings::table
                .filter(bookings::created_by.eq_any(chunk))
                .select(bookings::id)
                .load::<i32>(conn)?,
        );
    }
    done.booking_notes = clear_booking_notes(conn, &made)?;
    // The audit log: entries about them, by them, about what was just cleared, and any
    // holding the address.
    let mut rows = audit_of(conn, "user", &ids)?;
    rows.extend(audit_of(conn, "feedback", &gone)?);
    rows.extend(audit_of(conn, "booking", &made)?);
    for chunk in ids.chunks(CHUNK) {
        rows.extend(
            audit_entries::table
                .filter(audit_entries::user_id.eq_any(chunk))
                .select((
                    audit_entries::id,
                    audit_entries::entity,
                    audit_entries::before_value,
                    audit_entries::after_value,
                ))
                .load::<AuditValues>(conn)?,
        );
    }
    // (The address is stored lower-cased, as the pattern is.)
    let pattern = crate::domain::like_pattern(email);
    rows.extend(
        audit_entries::table
            .filter(
                audit_entries::before_value
                    .like(pattern.clone())
                    .escape('\\')
                    .or(audit_entries::after_value.like(pattern).escape('\\')),
            )
            .select((
                audit_entries::id,
                audit_entries::entity,
                audit_entries::before_value,
                audit_entries::after_value,
            ))
            .load::<AuditValues>(conn)?,
    );
    rows.sort_by_key(|r| r.0);
    rows.dedup_by_key(|r| r.0);
    done.audit_entries = scrub_audit(conn, rows, &[email.to_string()])?;
    anonymise_accounts(conn, &ids, at)?;
    done.accounts = ids.len();
    let invited: Vec<i32> = invitations::table
        .filter(invitations::email.eq(email))
        .select(invitations::id)
        .load(conn)?;
    // A waiting invitation is withdrawn: its link stops working.
    for chunk in invited.chunks(CHUNK) {
        diesel::update(
            invitations::table
                .filter(invitations::id.eq_any(chunk))
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::withdrawn_at.is_null()),
        )
        .set(invitations::withdrawn_at.eq(at))
        .execute(conn)?;
    }
    done.invitations = forget_invitations(conn, &invited)?;
    let asked: Vec<i32> = school_requests::table
        .filter(school_requests::email.eq(email))
        .select(school_requests::id)
        .load(conn)?;
    decline_waiting(conn, &asked, Some(actor.user_id), at)?;
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

/// Declines the waiting ones of these account requests: no one may be invited from them.
fn decline_waiting(
    conn: &mut AnyConnection,
    ids: &[i32],
    by: Option<i32>,
    at: NaiveDateTime,
) -> AppResult<()> {
    for chunk in ids.chunks(CHUNK) {
        diesel::update(
            school_requests::table
                .filter(school_requests::id.eq_any(chunk))
                .filter(school_requests::status.eq("waiting")),
        )
        .set((
            school_requests::status.eq("declined"),
            school_requests::decided_by.eq(by),
            school_requests::decided_at.eq(at),
        ))
        .execute(conn)?;
    }
    Ok(())
}

/// The install setting holding the id of the last audit entry the retention rule scrubbed.
const AUDIT_SCRUBBED_THROUGH: &str = "retention_audit_scrubbed_through";

/// Audit entries scrubbed in one transaction (so a first run over years of entries does
/// not hold SQLite's writer for long).
const AUDIT_BATCH: i64 = 1000;

/// The retention rule, applied as of `now` for a period of `years`, each step in its own
/// short transaction (a step cut off is done again by the next run; every step can be):
/// personal data of people gone for that long is anonymised, leaving every figure, count
/// and consented quote as it was. Gone means:
/// - an account made before the cutoff and not used since (no sign-in, no API token, no
///   calendar feed read): anonymised as by an erasure; an admin only while another admin
///   who is not gone remains, so the install always keeps one;
/// - feedback given before the cutoff without consent to publish: its words removed;
/// - bookings made before the cutoff: notes, access needs and message cleared;
/// - account requests and invitations made before the cutoff: name and address removed
///   (a request still waiting is declined);
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
    let gone = crate::db::write(conn, |c| {
        let mut active: Vec<i32> = api_tokens::table
            .filter(api_tokens::last_used_at.ge(cutoff))
            .select(api_tokens::user_id)
            .load(c)?;
        active.extend(
            calendar_links::table
                .filter(calendar_links::last_used_at.ge(cutoff))
                .select(calendar_links::user_id)
                .load::<i32>(c)?,
        );
        let candidates: Vec<(i32, String)> = users::table
            .filter(users::erased_at.is_null())
            .filter(users::created_at.lt(cutoff))
            .filter(
                users::last_signed_in_at
                    .is_null()
                    .or(users::last_signed_in_at.lt(cutoff)),
            )
            .select((users::id, users::role))
            .load(c)?;
        let mut gone: Vec<(i32, String)> = candidates
            .into_iter()
            .filter(|(id, _)| !active.contains(id))
            .collect();
        let admins_left = users::table
            .filter(users::role.eq("admin"))
            .filter(users::archived.eq(false))
            .filter(users::erased_at.is_null())
            .select(users::id)
            .load::<i32>(c)?
            .into_iter()
            .filter(|id| !gone.iter().any(|g| g.0 == *id))
            .count();
        if admins_left == 0 {
            gone.retain(|(_, role)| role != "admin");
        }
        let ids: Vec<i32> = gone.into_iter().map(|g| g.0).collect();
        let rows = audit_of(c, "user", &ids)?;
        let scrubbed = scrub_audit(c, rows, &[])?;
        anonymise_accounts(c, &ids, now)?;
        Ok((ids.len(), scrubbed))
    })?;
    done.accounts = gone.0;
    done.audit_entries += gone.1;
    done.quotes_removed = crate::db::write(conn, |c| {
        let words: Vec<i32> = feedback::table
            .filter(feedback::created_at.lt(cutoff))
            .filter(feedback::consent.eq(false))
            .filter(feedback::quote.ne(""))
            .select(feedback::id)
            .load(c)?;
        let rows = audit_of(c, "feedback", &words)?;
        scrub_audit(c, rows, &[])?;
        clear_quotes(c, &words)?;
        Ok(words.len())
    })?;
    done.booking_notes = crate::db::write(conn, |c| {
        let noted: Vec<i32> = bookings::table
            .filter(bookings::created_at.lt(cutoff))
            .filter(
                bookings::notes
                    .ne("")
                    .or(bookings::access_needs.ne(""))
                    .or(bookings::message.ne("")),
            )
            .select(bookings::id)
            .load(c)?;
        clear_booking_notes(c, &noted)
    })?;
    done.school_requests = crate::db::write(conn, |c| {
        let asked: Vec<i32> = school_requests::table
            .filter(school_requests::created_at.lt(cutoff))
            .filter(school_requests::email.not_like("erased-%"))
            .select(school_requests::id)
            .load(c)?;
        decline_waiting(c, &asked, None, now)?;
        forget_requests(c, &asked)
    })?;
    done.invitations = crate::db::write(conn, |c| {
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
            .load(c)?;
        forget_invitations(c, &invited)
    })?;
    // The audit log, in id order from where the last run stopped, up to the cutoff.
    loop {
        let batch = crate::db::write(conn, |c| {
            let through: i32 = crate::domain::settings::get(c, AUDIT_SCRUBBED_THROUGH)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let rows: Vec<(i32, NaiveDateTime, String, AuditValue, AuditValue)> =
                audit_entries::table
                    .filter(audit_entries::id.gt(through))
                    .order(audit_entries::id)
                    .limit(AUDIT_BATCH)
                    .select((
                        audit_entries::id,
                        audit_entries::at,
                        audit_entries::entity,
                        audit_entries::before_value,
                        audit_entries::after_value,
                    ))
                    .load(c)?;
            let old: Vec<AuditValues> = rows
                .into_iter()
                .take_while(|r| r.1 < cutoff)
                .map(|(id, _, entity, before, after)| (id, entity, before, after))
                .collect();
            let Some(last) = old.last().map(|r| r.0) else {
                return Ok(None);
            };
            let n = old.len();
            let scrubbed = scrub_audit(c, old, &[])?;
            remember(c, AUDIT_SCRUBBED_THROUGH, &last.to_string(), now)?;
            Ok(Some((n, scrubbed)))
        })?;
        match batch {
            Some((n, scrubbed)) => {
                done.audit_entries += scrubbed;
                if (n as i64) < AUDIT_BATCH {
                    break;
                }
            }
            None => break,
        }
    }
    if done != Erased::default() {
        audit::record(
            conn,
            None,
            "person",
            0,
            "anonymised",
            None,
            Some(&serde_json::to_value(&done).unwrap_or(Value::Null)),
        )?;
    }
    Ok(done)
}

/// Sets an install setting (in the caller's transaction), whichever process writes it
/// first: two processes' first runs may both find it missing.
fn remember(conn: &mut AnyConnection, name: &str, value: &str, at: NaiveDateTime) -> AppResult<()> {
    use diesel::connection::Connection;
    use diesel::result::{DatabaseErrorKind, Error};
    let update = |c: &mut AnyConnection| {
        diesel::update(install_settings::table.find(name))
            .set((
                install_settings::value.eq(value),
                install_settings::updated_at.eq(at),
            ))
            .execute(c)
    };
    if update(conn)? == 0 {
        // In a savepoint, so a lost race leaves the transaction usable.
        let inserted = conn.transaction(|c| {
            diesel::insert_into(install_settings::table)
                .values((
                    install_settings::name.eq(name),
                    install_settings::value.eq(value),
                    install_settings::updated_at.eq(at),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => {}
            Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                update(conn)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
