-- Secrets in links are stored only as SHA-256 hashes, as API tokens already were.

-- A calendar feed link belongs to the person who made it (so two leads never share, or
-- break, one link), and stops working when that person loses access.
CREATE TABLE calendar_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    feed TEXT NOT NULL CHECK (feed IN ('school', 'programme')),
    feed_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX calendar_links_user ON calendar_links (user_id, feed, feed_id);

-- A feedback link is one respondent group of a booking; the answers through it are counted.
CREATE TABLE feedback_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    booking_id INTEGER NOT NULL REFERENCES bookings (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    answers INTEGER NOT NULL DEFAULT 0 CHECK (answers >= 0)
);
CREATE INDEX feedback_links_booking ON feedback_links (booking_id);
ALTER TABLE feedback ADD COLUMN link_id INTEGER REFERENCES feedback_links (id);
-- Answers received through all of a booking's links (held under its cap by one UPDATE).
ALTER TABLE bookings ADD COLUMN feedback_answers INTEGER NOT NULL DEFAULT 0 CHECK (feedback_answers >= 0);

-- API tokens may expire.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMP;

-- The clear-text secrets go. (SQLite cannot drop a UNIQUE column without rebuilding its
-- table, so the columns stay, empty and unused.)
UPDATE schools SET ics_token = NULL;
UPDATE programmes SET ics_token = NULL;
UPDATE bookings SET feedback_token = NULL, feedback_expires_at = NULL;
