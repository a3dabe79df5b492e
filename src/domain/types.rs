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

    /// A lead may confirm it (or, with no places, move it to the waiting list).
    pub fn can_confirm(&self) -> bool {
        matches!(self, BookingStatus::Requested | BookingStatus::Waitlisted)
    }

    /// A lead may decline it.
    pub fn can_decline(&self) -> bool {
        self.can_confirm()
    }

    /// It may be cancelled while it is live and what it is for has not started: by staff
    /// until then, by its school only until `cutoff` before.
    pub fn can_cancel(
        &self,
        by_staff: bool,
        starts_at: chrono::NaiveDateTime,
        now: chrono::NaiveDateTime,
        cutoff: chrono::Duration,
    ) -> bool {
        self.is_live() && now < starts_at && (by_staff || now + cutoff < starts_at)
    }
}

text_enum!(
    /// Where a message in the outbox is.
    MailStatus {
        Queued = "queued": "Queued",
        Sending = "sending": "Sending",
        Sent = "sent": "Sent",
        Failed = "failed": "Failed",
        Kept = "kept": "Kept, never sent",
    }
);

text_enum!(
    /// The state of a tour date.
    SlotStatus {
        Open = "open": "Free",
        Booked = "booked": "Booked",
        Cancelled = "cancelled": "Cancelled",
    }
);

impl EventStatus {
    /// A lead may mark it completed: it is not cancelled or completed, and it has started.
    pub fn can_complete(
        &self,
        starts_at: chrono::NaiveDateTime,
        now: chrono::NaiveDateTime,
    ) -> bool {
        !matches!(self, EventStatus::Completed | EventStatus::Cancelled) && starts_at <= now
    }

    /// It may still be moved, resized or cancelled.
    pub fn can_change(&self) -> bool {
        !matches!(self, EventStatus::Completed | EventStatus::Cancelled)
    }

    /// Schools may book places at it.
    pub fn takes_bookings(&self) -> bool {
        matches!(self, EventStatus::Open | EventStatus::Confirmed)
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;
    use chrono::{Duration, NaiveDate};

    #[test]
    fn booking_rules() {
        let at = |d| {
            NaiveDate::from_ymd_opt(2026, 3, d)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap()
        };
        let two_days = Duration::days(2);
        assert!(BookingStatus::Requested.can_confirm());
        assert!(!BookingStatus::Confirmed.can_confirm());
        assert!(BookingStatus::Confirmed.can_cancel(false, at(10), at(5), two_days));
        assert!(!BookingStatus::Confirmed.can_cancel(false, at(10), at(8), two_days));
        assert!(BookingStatus::Confirmed.can_cancel(true, at(10), at(9), two_days));
        assert!(!BookingStatus::Declined.can_cancel(true, at(10), at(1), two_days));
        // Once it has started, nobody cancels it: it took place (or did not) as it was.
        assert!(!BookingStatus::Confirmed.can_cancel(true, at(10), at(10), two_days));
        assert!(!BookingStatus::Confirmed.can_cancel(true, at(10), at(11), two_days));
        assert!(EventStatus::Open.can_complete(at(1), at(2)));
        assert!(
            !EventStatus::Open.can_complete(at(3), at(2)),
            "not before it starts"
        );
        assert!(!EventStatus::Cancelled.can_complete(at(1), at(2)));
    }
}

/// Ids that must not be mixed up: the scheduling operations take these, so a booking's id
/// can never be passed where an event's is meant.
macro_rules! typed_id {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(pub i32);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

typed_id!(
    /// An event's id.
    EventId,
    /// A tour date's id.
    SlotId,
    /// A booking's id.
    BookingId,
    /// A school's id.
    SchoolId,
);
