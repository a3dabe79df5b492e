-- A page form is sent once: each rendering of a form carries a random key, and the first
-- request with it claims it here. A second (a double click, Back and send again) is sent
-- where the first went instead of doing the work twice.
CREATE TABLE form_submissions (
    -- SHA-256 of the form's key and the address it was sent to.
    key_hash TEXT PRIMARY KEY NOT NULL,
    -- Where the first answer sent the browser; NULL while that request is in hand.
    location TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX form_submissions_created ON form_submissions (created_at);
