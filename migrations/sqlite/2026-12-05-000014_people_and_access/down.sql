ALTER TABLE schools DROP COLUMN contact_email;
DROP TABLE school_requests;
DROP TABLE invitations;
DELETE FROM login_links WHERE purpose = 'sign_in';
CREATE TABLE login_links_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('reset')),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO login_links_old SELECT id, user_id, purpose, token_hash, expires_at, used_at, created_at FROM login_links;
DROP TABLE login_links;
ALTER TABLE login_links_old RENAME TO login_links;
CREATE INDEX login_links_user ON login_links (user_id);
