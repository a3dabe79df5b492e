-- Facts about the install itself, by name: for now whether it is a demo install (its
-- accounts then see what to try on their first page, and `outreach demo --reset` may
-- put it back to its first state).
CREATE TABLE install_settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
