DROP INDEX feedback_booking;
DROP INDEX bookings_slot;
DROP INDEX bookings_event;
DROP INDEX attendance_event;
