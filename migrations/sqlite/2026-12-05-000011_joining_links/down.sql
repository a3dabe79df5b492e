ALTER TABLE bookings DROP COLUMN starting_soon_at;
ALTER TABLE events DROP COLUMN joining_notes;
ALTER TABLE events DROP COLUMN joining_url;
