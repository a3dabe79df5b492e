-- The whole domain of SPEC §2. Later changes add behaviour, not tables.

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind TEXT NOT NULL CHECK (kind IN ('funder', 'partnership', 'company')),
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE priorities (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    aims TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    archived BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX priorities_organisation ON priorities (organisation_id);

CREATE TABLE targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    priority_id INTEGER NOT NULL REFERENCES priorities (id),
    measure TEXT NOT NULL CHECK (measure IN ('schools', 'audience', 'events', 'other')),
    value INTEGER NOT NULL CHECK (value >= 0),
    description TEXT NOT NULL DEFAULT ''
);
CREATE INDEX targets_priority ON targets (priority_id);

CREATE TABLE schools (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    urn INTEGER UNIQUE CHECK (urn > 0),
    local_authority TEXT NOT NULL DEFAULT '',
    district TEXT NOT NULL DEFAULT '',
    phase TEXT NOT NULL DEFAULT 'other' CHECK (phase IN ('primary', 'secondary', 'all_through', 'special', 'further_education', 'other')),
    postcode TEXT NOT NULL DEFAULT '',
    pupils INTEGER CHECK (pupils >= 0),
    fsm_percent REAL CHECK (fsm_percent >= 0 AND fsm_percent <= 100),
    archived BOOLEAN NOT NULL DEFAULT 0,
    ics_token TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX schools_name ON schools (name);

CREATE TABLE venues (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind TEXT NOT NULL DEFAULT 'other' CHECK (kind IN ('arts_centre', 'theatre', 'community', 'other')),
    postcode TEXT NOT NULL DEFAULT '',
    capacity INTEGER CHECK (capacity >= 0),
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE programmes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    year INTEGER NOT NULL CHECK (year BETWEEN 1900 AND 2200),
    theme TEXT NOT NULL DEFAULT '',
    organisation_id INTEGER REFERENCES organisations (id),
    priority_id INTEGER REFERENCES priorities (id),
    starts_on DATE,
    ends_on DATE,
    target_schools INTEGER CHECK (target_schools >= 0),
    target_audience INTEGER CHECK (target_audience >= 0),
    target_events INTEGER CHECK (target_events >= 0),
    status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'active', 'completed')),
    archived BOOLEAN NOT NULL DEFAULT 0,
    ics_token TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX programmes_organisation ON programmes (organisation_id);

CREATE TABLE tour_slots (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    programme_id INTEGER NOT NULL REFERENCES programmes (id),
    day DATE NOT NULL,
    session TEXT NOT NULL CHECK (session IN ('morning', 'afternoon')),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'booked', 'cancelled')),
    created_at TIMESTAMP NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE UNIQUE INDEX tour_slots_one_per_session ON tour_slots (programme_id, day, session) WHERE status <> 'cancelled';

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    programme_id INTEGER NOT NULL REFERENCES programmes (id),
    kind TEXT NOT NULL CHECK (kind IN ('performance', 'workshop', 'live_stream')),
    school_id INTEGER REFERENCES schools (id),
    venue_id INTEGER REFERENCES venues (id),
    slot_id INTEGER REFERENCES tour_slots (id),
    title TEXT NOT NULL DEFAULT '',
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    capacity INTEGER CHECK (capacity >= 0),
    places_confirmed INTEGER NOT NULL DEFAULT 0 CHECK (places_confirmed >= 0),
    needs_approval BOOLEAN NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('draft', 'open', 'confirmed', 'completed', 'cancelled')),
    sequence INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK (school_id IS NULL OR venue_id IS NULL),
    CHECK (capacity IS NULL OR places_confirmed <= capacity)
);
CREATE INDEX events_programme ON events (programme_id, starts_at);
CREATE INDEX events_school ON events (school_id);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    email TEXT NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
    name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('school', 'lead', 'funder', 'admin')),
    school_id INTEGER REFERENCES schools (id),
    organisation_id INTEGER REFERENCES organisations (id),
    archived BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (role <> 'school' OR school_id IS NOT NULL),
    CHECK (role <> 'funder' OR organisation_id IS NOT NULL)
);

CREATE TABLE bookings (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    event_id INTEGER REFERENCES events (id),
    slot_id INTEGER REFERENCES tour_slots (id),
    school_id INTEGER NOT NULL REFERENCES schools (id),
    status TEXT NOT NULL CHECK (status IN ('requested', 'confirmed', 'declined', 'waitlisted', 'cancelled')),
    pupils INTEGER NOT NULL CHECK (pupils >= 0),
    staff INTEGER NOT NULL DEFAULT 0 CHECK (staff >= 0),
    year_groups TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    access_needs TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    feedback_token TEXT UNIQUE,
    feedback_expires_at TIMESTAMP,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((event_id IS NULL) <> (slot_id IS NULL))
);
-- A tour slot can never hold two confirmed visits.
CREATE UNIQUE INDEX bookings_one_confirmed_per_slot ON bookings (slot_id) WHERE status = 'confirmed';
-- A school holds at most one live booking per event.
CREATE UNIQUE INDEX bookings_one_live_per_school_event ON bookings (event_id, school_id) WHERE status IN ('requested', 'confirmed', 'waitlisted');
CREATE INDEX bookings_school ON bookings (school_id);

CREATE TABLE attendance (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    event_id INTEGER NOT NULL REFERENCES events (id),
    school_id INTEGER REFERENCES schools (id),
    group_name TEXT,
    pupils INTEGER NOT NULL DEFAULT 0 CHECK (pupils >= 0),
    staff INTEGER NOT NULL DEFAULT 0 CHECK (staff >= 0),
    other_adults INTEGER NOT NULL DEFAULT 0 CHECK (other_adults >= 0),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((school_id IS NULL) <> (group_name IS NULL))
);
CREATE UNIQUE INDEX attendance_one_row_per_school ON attendance (event_id, school_id) WHERE school_id IS NOT NULL;
CREATE UNIQUE INDEX attendance_one_row_per_group ON attendance (event_id, group_name) WHERE group_name IS NOT NULL;

CREATE TABLE outcome_statements (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    programme_id INTEGER NOT NULL REFERENCES programmes (id),
    text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 500),
    position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    programme_id INTEGER NOT NULL REFERENCES programmes (id),
    event_id INTEGER REFERENCES events (id),
    school_id INTEGER REFERENCES schools (id),
    booking_id INTEGER REFERENCES bookings (id),
    role TEXT NOT NULL CHECK (role IN ('pupil', 'teacher', 'parent', 'staff', 'other')),
    quote TEXT NOT NULL DEFAULT '' CHECK (length(quote) <= 5000),
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    consent BOOLEAN NOT NULL DEFAULT 0,
    moderation TEXT NOT NULL DEFAULT 'pending' CHECK (moderation IN ('pending', 'approved', 'rejected')),
    featured BOOLEAN NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT 'lead' CHECK (source IN ('lead', 'form')),
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX feedback_programme ON feedback (programme_id);

CREATE TABLE outcome_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    feedback_id INTEGER NOT NULL REFERENCES feedback (id),
    statement_id INTEGER NOT NULL REFERENCES outcome_statements (id),
    answer INTEGER NOT NULL CHECK (answer BETWEEN 1 AND 5),
    UNIQUE (feedback_id, statement_id)
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    key TEXT NOT NULL,
    attempted_at TIMESTAMP NOT NULL
);
CREATE INDEX login_attempts_key ON login_attempts (key, attempted_at);

CREATE TABLE audit_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER REFERENCES users (id),
    at TIMESTAMP NOT NULL,
    entity TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    before_value TEXT,
    after_value TEXT
);
CREATE INDEX audit_entries_entity ON audit_entries (entity, entity_id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'kept')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_by TEXT,
    claimed_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
