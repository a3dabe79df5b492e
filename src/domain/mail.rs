//! Mail: every message is queued in the outbox table inside the transaction of the change
//! it tells about, then sent (or kept for the admin to read) by the background worker.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::app::now;
use crate::db::schema::{bookings, outbox, users};
use crate::db::AnyConnection;
use crate::domain::input::TextEnum;
use crate::domain::list::{ListParams, Page};
use crate::domain::types::MailStatus;
use crate::error::{AppError, AppResult};

/// A message as written: a subject, plain text, and the same as HTML.
#[derive(Debug, Clone, PartialEq)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Letter {
    /// A letter whose HTML is its text, escaped, in paragraphs.
    pub fn plain(subject: impl Into<String>, text: impl Into<String>) -> Letter {
        let text = text.into();
        let html = text
            .split("\n\n")
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                // A paragraph that is one address is a link.
                let t = p.trim();
                if (t.starts_with("https://") || t.starts_with("http://"))
                    && !t.contains(char::is_whitespace)
                {
                    let a = escape(t);
                    format!("<p><a href=\"{a}\">{a}</a></p>")
                } else {
                    format!("<p>{}</p>", escape(p).replace('\n', "<br>\n"))
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        Letter {
            subject: subject.into(),
            text,
            html,
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Queues a letter to each live contact of the school. The contacts are found first and
/// the letter is composed (`compose` may read the database) only if there is someone to
/// read it: a school with nobody in Outreach costs one query.
pub fn letter_to_school(
    conn: &mut AnyConnection,
    school_id: i32,
    compose: impl FnOnce(&mut AnyConnection) -> AppResult<Letter>,
) -> AppResult<usize> {
    let addresses = school_contacts(conn, school_id)?;
    letter_to(conn, &addresses, compose)
}

/// Queues a letter to each live contact of the school that made the booking, as
/// `letter_to_school` does; the booking is not read to find them, so a school with nobody
/// in Outreach costs one query.
pub fn letter_about_booking(
    conn: &mut AnyConnection,
    booking_id: i32,
    compose: impl FnOnce(&mut AnyConnection) -> AppResult<Letter>,
) -> AppResult<usize> {
    let school = bookings::table
        .find(booking_id)
        .select(bookings::school_id.nullable())
        .single_value();
    let addresses = users::table
        .filter(users::school_id.eq(school))
        .filter(users::role.eq("school"))
        .filter(users::archived.eq(false))
        .select(users::email)
        .load(conn)?;
    letter_to(conn, &addresses, compose)
}

/// Composes the letter if there is anyone to send it to, and queues it for each.
fn letter_to(
    conn: &mut AnyConnection,
    addresses: &[String],
    compose: impl FnOnce(&mut AnyConnection) -> AppResult<Letter>,
) -> AppResult<usize> {
    if addresses.is_empty() {
        return Ok(0);
    }
    let l = compose(conn)?;
    for to in addresses {
        queue_letter(conn, to, &l)?;
    }
    Ok(addresses.len())
}

/// Queues a letter to every live lead and admin.
pub fn letter_to_staff(conn: &mut AnyConnection, l: &Letter) -> AppResult<usize> {
    let addresses = staff_addresses(conn)?;
    for to in &addresses {
        queue_letter(conn, to, l)?;
    }
    Ok(addresses.len())
}

/// Whether the school has a live contact to write to.
pub fn has_contact(conn: &mut AnyConnection, school_id: i32) -> AppResult<bool> {
    Ok(!school_contacts(conn, school_id)?.is_empty())
}

fn school_contacts(conn: &mut AnyConnection, school_id: i32) -> AppResult<Vec<String>> {
    Ok(users::table
        .filter(users::school_id.eq(school_id))
        .filter(users::role.eq("school"))
        .filter(users::archived.eq(false))
        .select(users::email)
        .load(conn)?)
}

fn staff_addresses(conn: &mut AnyConnection) -> AppResult<Vec<String>> {
    Ok(users::table
        .filter(crate::any_of!(users::role, ["lead", "admin"]))
        .filter(users::archived.eq(false))
        .select(users::email)
        .load(conn)?)
}

pub(crate) fn queue_letter(conn: &mut AnyConnection, to: &str, l: &Letter) -> AppResult<()> {
    let at = now();
    diesel::insert_into(outbox::table)
        .values((
            outbox::to_address.eq(to),
            outbox::subject.eq(&l.subject),
            outbox::body.eq(&l.text),
            outbox::body_html.eq(Some(&l.html).filter(|h| !h.is_empty())),
            outbox::next_attempt_at.eq(at),
            outbox::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Queues one plain message (the outbox's own tests and tools; everything the product
/// tells people is a `Letter` from `schedule::letters`).
pub fn queue(conn: &mut AnyConnection, to: &str, subject: &str, body: &str) -> AppResult<()> {
    queue_letter(
        conn,
        to,
        &Letter {
            subject: subject.into(),
            text: body.into(),
            html: String::new(),
        },
    )
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = outbox)]
struct Row {
    id: i32,
    to_address: String,
    subject: String,
    body: String,
    body_html: Option<String>,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: i32,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub body_html: Option<String>,
    pub status: MailStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::domain::when::naive")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::domain::when::naive_opt")]
    pub sent_at: Option<NaiveDateTime>,
}

impl Message {
    /// The stored status, for the page's badge class.
    pub fn status_key(&self) -> &'static str {
        self.status.as_str()
    }
}

impl TryFrom<Row> for Message {
    type Error = AppError;

    fn try_from(r: Row) -> Result<Message, AppError> {
        Ok(Message {
            id: r.id,
            to_address: r.to_address,
            subject: r.subject,
            body: r.body,
            body_html: r.body_html,
            status: MailStatus::from_db(&r.status)?,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at,
            sent_at: r.sent_at,
        })
    }
}

pub fn list(conn: &mut AnyConnection, params: &ListParams) -> AppResult<Page<Message>> {
    let total: i64 = outbox::table.count().get_result(conn)?;
    let items = outbox::table
        .order(outbox::id.desc())
        .limit(params.per_page)
        .offset(params.offset())
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Message::try_from)
        .collect::<AppResult<_>>()?;
    Ok(Page::new(items, params, total))
}

/// Minutes after which a claim on a message being sent is taken to be abandoned.
pub const STALE_CLAIM_MINUTES: i64 = 10;

/// Claims the next due message for `worker`; each message is claimed by one worker only,
/// however many processes share the database.
pub fn claim(conn: &mut AnyConnection, worker: &str) -> AppResult<Option<Message>> {
    let at = now();
    // A claim this old belongs to a worker that stopped mid-send (a send gives up after 20
    // seconds): the message is queued again, to be sent at least once.
    diesel::update(
        outbox::table
            .filter(outbox::status.eq(MailStatus::Sending.as_str()))
            .filter(outbox::claimed_at.lt(at - chrono::Duration::minutes(STALE_CLAIM_MINUTES))),
    )
    .set((
        outbox::status.eq(MailStatus::Queued.as_str()),
        outbox::claimed_by.eq(None::<String>),
    ))
    .execute(conn)?;
    let candidates: Vec<i32> = outbox::table
        .filter(outbox::status.eq(MailStatus::Queued.as_str()))
        .filter(outbox::next_attempt_at.le(at))
        .order(outbox::id.asc())
        .limit(5)
        .select(outbox::id)
        .load(conn)?;
    for id in candidates {
        let won = diesel::update(
            outbox::table
                .find(id)
                .filter(outbox::status.eq(MailStatus::Queued.as_str())),
        )
        .set((
            outbox::status.eq(MailStatus::Sending.as_str()),
            outbox::claimed_by.eq(worker),
            outbox::claimed_at.eq(at),
        ))
        .execute(conn)?;
        if won == 1 {
            let row: Row = outbox::table
                .find(id)
                .select(Row::as_select())
                .first(conn)?;
            return Ok(Some(row.try_into()?));
        }
    }
    Ok(None)
}

/// Records the outcome of a claimed message: sent, kept (no SMTP configured), or failed
/// (retried with backoff until `MAX_ATTEMPTS`).
pub fn settle(conn: &mut AnyConnection, id: i32, outcome: Result<bool, String>) -> AppResult<()> {
    let at = now();
    match outcome {
        Ok(true) => diesel::update(outbox::table.find(id))
            .set((
                outbox::status.eq(MailStatus::Sent.as_str()),
                outbox::sent_at.eq(at),
                outbox::attempts.eq(outbox::attempts + 1),
            ))
            .execute(conn)?,
        Ok(false) => diesel::update(outbox::table.find(id))
            .set(outbox::status.eq(MailStatus::Kept.as_str()))
            .execute(conn)?,
        Err(e) => {
            let attempts: i32 = outbox::table
                .find(id)
                .select(outbox::attempts)
                .first(conn)?;
            let attempts = attempts + 1;
            let (status, delay) = if attempts >= MAX_ATTEMPTS {
                (MailStatus::Failed, 0)
            } else {
                (MailStatus::Queued, 30i64 << attempts.min(10))
            };
            diesel::update(outbox::table.find(id))
                .set((
                    outbox::status.eq(status.as_str()),
                    outbox::attempts.eq(attempts),
                    outbox::last_error.eq(e.chars().take(500).collect::<String>()),
                    outbox::next_attempt_at.eq(at + chrono::Duration::seconds(delay)),
                ))
                .execute(conn)?
        }
    };
    Ok(())
}

pub const MAX_ATTEMPTS: i32 = 8;

/// How many messages were kept (queued while no SMTP server was set) and never sent.
pub fn kept(conn: &mut AnyConnection) -> AppResult<i64> {
    Ok(outbox::table
        .filter(outbox::status.eq(MailStatus::Kept.as_str()))
        .count()
        .get_result(conn)?)
}

/// Queues every kept message again, to be sent now that an SMTP server is set; audited.
/// Each is sent once: a message leaves `kept` in this one statement.
pub fn send_kept(conn: &mut AnyConnection, user_id: Option<i32>) -> AppResult<usize> {
    crate::db::write(conn, |conn| {
        let n = diesel::update(outbox::table.filter(outbox::status.eq(MailStatus::Kept.as_str())))
            .set((
                outbox::status.eq(MailStatus::Queued.as_str()),
                outbox::next_attempt_at.eq(now()),
            ))
            .execute(conn)?;
        crate::domain::audit::record(
            conn,
            user_id,
            "outbox",
            0,
            "send_kept",
            None,
            Some(&serde_json::json!({"messages": n})),
        )?;
        Ok(n)
    })
}
