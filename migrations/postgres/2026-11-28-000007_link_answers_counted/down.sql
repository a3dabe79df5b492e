ALTER TABLE feedback_links ADD COLUMN answers INTEGER NOT NULL DEFAULT 0 CHECK (answers >= 0);
UPDATE feedback_links SET answers = (SELECT COUNT(*) FROM feedback WHERE feedback.link_id = feedback_links.id);
