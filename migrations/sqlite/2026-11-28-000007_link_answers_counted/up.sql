-- A feedback link's answers are counted from the feedback rows that name it, not kept twice.
ALTER TABLE feedback_links DROP COLUMN answers;
