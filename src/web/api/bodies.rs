//! The request bodies of the API as the document describes them. The handlers read bodies
//! through `Input` validators (one rule set for pages and API); these types say the same
//! in the document: each field, its JSON type, and the values a text enum allows (from the
//! enum itself). Optional fields may be null (null is the same as leaving them out). A
//! field listed here that a handler does not read is refused by the server ("is not a
//! field of this request"), which schemathesis would report; a field not listed here is
//! refused too, so every body is closed (`additionalProperties: false`, set by `doc`).
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, Utc};
use utoipa::ToSchema;

use crate::domain::schedule::visits::Session;

use crate::domain::types::{
    EventKind, EventStatus, Moderation, OrganisationKind, Phase, ProgrammeStatus, RespondentRole,
    Role, TargetMeasure, VenueKind,
};

#[derive(ToSchema)]
pub struct OrganisationBody {
    name: String,
    kind: Option<OrganisationKind>,
}

#[derive(ToSchema)]
pub struct SchoolBody {
    name: String,
    urn: Option<i64>,
    local_authority: Option<String>,
    district: Option<String>,
    phase: Option<Phase>,
    postcode: Option<String>,
    town: Option<String>,
    pupils: Option<i64>,
    fsm_percent: Option<f64>,
    /// Where the school is written to before anyone there has an account.
    contact_email: Option<String>,
}

#[derive(ToSchema)]
pub struct VenueBody {
    name: String,
    kind: Option<VenueKind>,
    postcode: Option<String>,
    capacity: Option<i64>,
}

#[derive(ToSchema)]
pub struct ProgrammeBody {
    title: String,
    year: i64,
    organisation_id: Option<i64>,
    priority_id: Option<i64>,
    theme: Option<String>,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    target_schools: Option<i64>,
    target_audience: Option<i64>,
    target_events: Option<i64>,
    status: Option<ProgrammeStatus>,
}

#[derive(ToSchema)]
pub struct UserBody {
    email: String,
    name: Option<String>,
    role: Role,
    school_id: Option<i64>,
    organisation_id: Option<i64>,
    /// Required when the user is made; left out on a change, the password stays.
    password: Option<String>,
}

#[derive(ToSchema)]
pub struct PriorityBody {
    title: String,
    aims: Option<String>,
}

#[derive(ToSchema)]
pub struct TargetBody {
    measure: TargetMeasure,
    value: i64,
    description: Option<String>,
}

#[derive(ToSchema)]
pub struct TokenBody {
    label: Option<String>,
    /// Left out: the token works until revoked.
    expires_in_days: Option<i64>,
}

#[derive(ToSchema)]
pub struct EventBody {
    kind: EventKind,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    /// In-school: the school (or a venue; a live stream has neither).
    school_id: Option<i64>,
    venue_id: Option<i64>,
    /// At a venue, the venue's capacity when left out, and at most that.
    capacity: Option<i64>,
    needs_approval: Option<bool>,
    status: Option<EventStatus>,
    title: Option<String>,
    /// A live stream's joining link (https); seen only by staff and by schools with a
    /// confirmed booking of it.
    joining_url: Option<String>,
    /// How to join: instructions or an access code.
    joining_notes: Option<String>,
}

#[derive(ToSchema)]
pub struct FeedbackBody {
    programme_id: i64,
    event_id: Option<i64>,
    school_id: Option<i64>,
    role: RespondentRole,
    quote: String,
    rating: Option<i64>,
    consent: bool,
}

/// A change to an event: its time, its capacity, or a live stream's joining link (a move
/// and a new link are told to booked schools). At least one of them.
#[derive(ToSchema)]
#[schema(min_properties = 1)]
pub struct ChangeEventBody {
    /// With `ends_at`; both left out: the time stays as it is.
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    /// Left out: the capacity stays as it is.
    capacity: Option<i64>,
    /// A live stream's joining link (https); empty to remove it.
    joining_url: Option<String>,
    joining_notes: Option<String>,
}

/// At least one of the two.
#[derive(ToSchema)]
#[schema(min_properties = 1)]
pub struct ModerationBody {
    moderation: Option<Moderation>,
    featured: Option<bool>,
}

#[derive(ToSchema)]
pub struct OutcomeBody {
    text: String,
}

#[derive(ToSchema)]
pub struct SlotBody {
    day: NaiveDate,
    session: Session,
}

#[derive(ToSchema)]
pub struct BulkSlotsBody {
    from: NaiveDate,
    to: NaiveDate,
    morning: Option<bool>,
    afternoon: Option<bool>,
}

#[derive(ToSchema)]
pub struct BookingBody {
    /// A school user books for its own school; staff name the school.
    school_id: Option<i64>,
    pupils: i64,
    staff: Option<i64>,
    year_groups: Option<String>,
    notes: Option<String>,
    access_needs: Option<String>,
}

/// Words for the school, sent with the answer.
#[derive(ToSchema)]
pub struct MessageBody {
    message: Option<String>,
}

/// One row of an event's attendance: a school, or a named group such as "public".
#[derive(ToSchema)]
pub struct AttendanceRowBody {
    school_id: Option<i64>,
    group: Option<String>,
    pupils: Option<i64>,
    staff: Option<i64>,
    other: Option<i64>,
}

/// No fields.
#[derive(ToSchema)]
pub struct Empty {}

/// The caller's current password and a new one (at least 10 characters, not one of the
/// most common).
#[derive(ToSchema)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

#[derive(ToSchema)]
pub struct InvitationBody {
    email: String,
    role: Role,
    /// Required for a school contact.
    school_id: Option<i64>,
    /// Required for a funder.
    organisation_id: Option<i64>,
}

#[derive(ToSchema)]
pub struct EraseBody {
    email: String,
    /// Keep the quotes they gave with consent to publish (default: remove them too).
    keep_consented_quotes: Option<bool>,
}
