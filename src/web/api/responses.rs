//! The answers that are not a record or a page of records, as the document describes
//! them (schemathesis checks every answer against its schema).
#![allow(dead_code)]

use utoipa::ToSchema;

use crate::domain::attendance::AttendanceRow;
use crate::domain::tokens::TokenInfo;

/// A short list, whole.
#[derive(ToSchema)]
pub struct Items<T: ToSchema> {
    items: Vec<T>,
}

/// A new API token: its secret is shown this once.
#[derive(ToSchema)]
pub struct NewToken {
    token: TokenInfo,
    secret: String,
}

#[derive(ToSchema)]
pub struct Revoked {
    revoked: i64,
}

/// An event's attendance rows.
#[derive(ToSchema)]
pub struct Attendance {
    event_id: i64,
    items: Vec<AttendanceRow>,
}

/// A new feedback link: its `url` is shown this once.
#[derive(ToSchema)]
pub struct NewFeedbackLink {
    id: i64,
    booking_id: i64,
    url: String,
    created_at: chrono::DateTime<chrono::Utc>,
    expires_at: chrono::DateTime<chrono::Utc>,
    answers: i64,
}

/// A calendar feed's new address; the previous one stops working.
#[derive(ToSchema)]
pub struct FeedUrl {
    url: String,
}

/// What an attendance upload changes (or would, with `dry_run`), and the lines refused.
#[derive(ToSchema)]
pub struct AttendanceUpload {
    changes: Vec<crate::domain::tour_attendance::Change>,
    errors: Vec<crate::domain::tour_attendance::LineError>,
}

/// How many schools a programme's invitation sent to.
#[derive(ToSchema)]
pub struct Invited {
    invited: i64,
}

/// Everything held about one person (see the README's "Personal data").
#[derive(ToSchema)]
pub struct PersonExport {
    email: String,
    /// Whether anything at all is held under the address.
    found: bool,
    generated_at: String,
    /// Their user accounts (one at most).
    #[schema(value_type = Vec<Object>)]
    accounts: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    bookings_made: Vec<serde_json::Value>,
    /// Feedback answers they entered.
    #[schema(value_type = Vec<Object>)]
    answers_given: Vec<serde_json::Value>,
    /// Audit entries of what they did, and about their account.
    #[schema(value_type = Vec<Object>)]
    audit_entries: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    invitations: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    school_requests: Vec<serde_json::Value>,
    /// Schools whose contact address it is.
    #[schema(value_type = Vec<Object>)]
    school_contact_of: Vec<serde_json::Value>,
    /// Letters to the address still in the outbox.
    #[schema(value_type = Vec<Object>)]
    mail: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    api_tokens: Vec<serde_json::Value>,
    open_sessions: i64,
}

/// What an erasure changed.
#[derive(ToSchema)]
pub struct PersonErased {
    erased: crate::domain::privacy::Erased,
}
