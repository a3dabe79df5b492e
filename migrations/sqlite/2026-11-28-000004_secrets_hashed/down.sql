-- SQLite cannot drop a column that references another table, so feedback.link_id stays
-- (emptied) when going back.
ALTER TABLE api_tokens DROP COLUMN expires_at;
ALTER TABLE bookings DROP COLUMN feedback_answers;
UPDATE feedback SET link_id = NULL;
DROP TABLE feedback_links;
DROP TABLE calendar_links;
