-- People and access: sign-in links beside reset links, invitations, schools asking for an
-- account, and the address a school is written to before anyone there has an account.

-- SQLite cannot change a CHECK, so the links table is rebuilt with the new purpose.
CREATE TABLE login_links_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('reset', 'sign_in')),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO login_links_new (id, user_id, purpose, token_hash, expires_at, used_at, created_at)
    SELECT id, user_id, purpose, token_hash, expires_at, used_at, created_at FROM login_links;
DROP TABLE login_links;
ALTER TABLE login_links_new RENAME TO login_links;
CREATE INDEX login_links_user ON login_links (user_id);

-- An invitation to set up an account: the secret of its link is stored only as its SHA-256.
-- At most one open (neither accepted nor withdrawn) invitation per address.
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    email TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    role TEXT NOT NULL CHECK (role IN ('school', 'lead', 'funder', 'admin')),
    school_id INTEGER REFERENCES schools (id),
    organisation_id INTEGER REFERENCES organisations (id),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by INTEGER REFERENCES users (id),
    sent_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    user_id INTEGER REFERENCES users (id),
    withdrawn_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    CHECK (role <> 'school' OR school_id IS NOT NULL),
    CHECK (role <> 'funder' OR organisation_id IS NOT NULL)
);
CREATE UNIQUE INDEX invitations_open_email ON invitations (email)
    WHERE accepted_at IS NULL AND withdrawn_at IS NULL;
CREATE INDEX invitations_school ON invitations (school_id);

-- A teacher asking for an account for their school from the public page. At most one
-- waiting request per address.
CREATE TABLE school_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    school_id INTEGER NOT NULL REFERENCES schools (id),
    name TEXT NOT NULL,
    email TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    status TEXT NOT NULL CHECK (status IN ('waiting', 'approved', 'declined')),
    invitation_id INTEGER REFERENCES invitations (id),
    decided_by INTEGER REFERENCES users (id),
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX school_requests_waiting ON school_requests (email) WHERE status = 'waiting';
CREATE INDEX school_requests_status ON school_requests (status, created_at);

ALTER TABLE schools ADD COLUMN contact_email TEXT NOT NULL DEFAULT '';
