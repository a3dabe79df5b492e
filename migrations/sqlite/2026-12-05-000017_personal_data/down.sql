ALTER TABLE users DROP COLUMN erased_at;
ALTER TABLE users DROP COLUMN last_signed_in_at;
