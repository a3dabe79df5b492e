-- A live stream's joining link and instructions (seen only by staff and by schools with a
-- confirmed booking of it), and when each booking's "starting soon" mail was queued.
ALTER TABLE events ADD COLUMN joining_url TEXT;
ALTER TABLE events ADD COLUMN joining_notes TEXT NOT NULL DEFAULT '';
ALTER TABLE bookings ADD COLUMN starting_soon_at TIMESTAMP;
