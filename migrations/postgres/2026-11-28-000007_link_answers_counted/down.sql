ALTER TABLE feedback_links ADD COLUMN answers INTEGER NOT NULL DEFAULT 0 CHECK (answers >= 0);
