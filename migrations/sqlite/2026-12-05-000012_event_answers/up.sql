-- After a completed event each school with a confirmed booking of it is asked, once, how
-- many came or watched (and for its feedback), through a tokened link. Its answer is a
-- proposal a lead accepts into the attendance or keeps their own figure against.
CREATE TABLE event_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    event_id INTEGER NOT NULL REFERENCES events (id),
    booking_id INTEGER NOT NULL REFERENCES bookings (id),
    school_id INTEGER NOT NULL REFERENCES schools (id),
    -- SHA-256 of the link's secret, and of the reminder's (which carries a new one).
    token_hash TEXT NOT NULL UNIQUE,
    reminder_token_hash TEXT UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    -- asked (no answer yet), pending (answered, waiting for a lead), accepted, kept.
    status TEXT NOT NULL,
    pupils INTEGER,
    staff INTEGER,
    other_adults INTEGER,
    feedback_id INTEGER REFERENCES feedback (id),
    asked_at TIMESTAMP NOT NULL,
    answered_at TIMESTAMP,
    reminded_at TIMESTAMP,
    decided_by INTEGER REFERENCES users (id),
    decided_at TIMESTAMP
);
-- One question per school and event, ever: completing an event again asks nobody twice.
CREATE UNIQUE INDEX event_answers_once ON event_answers (event_id, booking_id);
