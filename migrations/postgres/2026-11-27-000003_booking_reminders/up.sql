-- When the reminder before the event was queued (once per booking, whichever process does it).
ALTER TABLE bookings ADD COLUMN reminded_at TIMESTAMP;
