ALTER TABLE api_tokens DROP COLUMN expires_at;
ALTER TABLE bookings DROP COLUMN feedback_answers;
ALTER TABLE feedback DROP COLUMN link_id;
DROP TABLE feedback_links;
DROP TABLE calendar_links;
