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
