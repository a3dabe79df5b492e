-- Mail is sent as text with an HTML alternative.
ALTER TABLE outbox ADD COLUMN body_html TEXT;
