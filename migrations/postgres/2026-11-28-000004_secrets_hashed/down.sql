ALTER TABLE bookings ADD COLUMN feedback_token TEXT UNIQUE;
ALTER TABLE bookings ADD COLUMN feedback_expires_at TIMESTAMP;
ALTER TABLE programmes ADD COLUMN ics_token TEXT UNIQUE;
ALTER TABLE schools ADD COLUMN ics_token TEXT UNIQUE;
ALTER TABLE api_tokens DROP COLUMN expires_at;
ALTER TABLE bookings DROP COLUMN feedback_answers;
ALTER TABLE feedback DROP COLUMN link_id;
DROP TABLE feedback_links;
DROP TABLE calendar_links;
