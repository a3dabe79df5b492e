-- Lookups by event: attendance and bookings of an event (the partial unique indexes do not serve them).
CREATE INDEX attendance_event ON attendance (event_id);
CREATE INDEX bookings_event ON bookings (event_id);
CREATE INDEX bookings_slot ON bookings (slot_id);
CREATE INDEX feedback_booking ON feedback (booking_id);
