-- When a person last signed in (retention counts from it, or from the account's creation),
-- and when their personal data was erased or anonymised (such accounts are kept for the
-- records that point at them, but hold no name, address or password).
ALTER TABLE users ADD COLUMN last_signed_in_at TIMESTAMP;
ALTER TABLE users ADD COLUMN erased_at TIMESTAMP;
-- Accounts that exist at the upgrade count as used at the upgrade: their past sign-ins
-- were not recorded, and none may be taken for gone because of that.
UPDATE users SET last_signed_in_at = (now() AT TIME ZONE 'UTC');
