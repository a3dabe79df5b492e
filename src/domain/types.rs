//! The enums of the domain: roles, kinds and statuses, stored as text.

use crate::text_enum;

text_enum!(
    /// What a user may do (SPEC §1).
    Role {
        School = "school": "School",
        Lead = "lead": "Project lead",
        Funder = "funder": "Funder",
        Admin = "admin": "Administrator",
    }
);

text_enum!(OrganisationKind {
    Funder = "funder": "Funder",
    Partnership = "partnership": "Partnership",
    Company = "company": "Company",
});

text_enum!(Phase {
    Primary = "primary": "Primary",
    Secondary = "secondary": "Secondary",
    AllThrough = "all_through": "All-through",
    Special = "special": "Special",
    FurtherEducation = "further_education": "Further education",
    Other = "other": "Other",
});

text_enum!(VenueKind {
    ArtsCentre = "arts_centre": "Arts centre",
    Theatre = "theatre": "Theatre",
    Community = "community": "Community venue",
    Other = "other": "Other",
});

text_enum!(ProgrammeStatus {
    Planned = "planned": "Planned",
    Active = "active": "Active",
    Completed = "completed": "Completed",
});

text_enum!(TargetMeasure {
    Schools = "schools": "Schools",
    Audience = "audience": "Audience",
    Events = "events": "Events",
    Other = "other": "Other",
});

impl Role {
    /// Leads and admins run programmes.
    pub fn is_staff(&self) -> bool {
        matches!(self, Role::Lead | Role::Admin)
    }
}

text_enum!(EventKind {
    Performance = "performance": "Performance",
    Workshop = "workshop": "Workshop",
    LiveStream = "live_stream": "Live stream",
});

text_enum!(EventStatus {
    Draft = "draft": "Draft",
    Open = "open": "Open",
    Confirmed = "confirmed": "Confirmed",
    Completed = "completed": "Completed",
    Cancelled = "cancelled": "Cancelled",
});

text_enum!(
    /// Where an event is delivered (SPEC §3).
    DeliveryMode {
        InSchool = "in_school": "In school",
        Venue = "venue": "Venue",
        LiveStream = "live_stream": "Live stream",
    }
);

text_enum!(RespondentRole {
    Pupil = "pupil": "Pupil",
    Teacher = "teacher": "Teacher",
    Parent = "parent": "Parent",
    Staff = "staff": "Staff",
    Other = "other": "Other",
});

text_enum!(Moderation {
    Pending = "pending": "Waiting for moderation",
    Approved = "approved": "Approved",
    Rejected = "rejected": "Rejected",
});

impl DeliveryMode {
    /// The delivery mode of an event: a live stream by its kind, else by where it is held.
    pub fn of(kind: EventKind, at_school: bool) -> DeliveryMode {
        match (kind, at_school) {
            (EventKind::LiveStream, _) => DeliveryMode::LiveStream,
            (_, true) => DeliveryMode::InSchool,
            (_, false) => DeliveryMode::Venue,
        }
    }
}

text_enum!(BookingStatus {
    Requested = "requested": "Requested",
    Confirmed = "confirmed": "Confirmed",
    Declined = "declined": "Declined",
    Waitlisted = "waitlisted": "On the waiting list",
    Cancelled = "cancelled": "Cancelled",
});

impl BookingStatus {
    /// Still holds or waits for places.
    pub fn is_live(&self) -> bool {
        matches!(
            self,
            BookingStatus::Requested | BookingStatus::Confirmed | BookingStatus::Waitlisted
        )
    }
}
