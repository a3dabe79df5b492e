-- A school asks for a tour date once: any second live request (possible before, when two
-- arrived at once) is declined, keeping a confirmed one before the earliest, then a unique index holds the rule.
UPDATE bookings SET status = 'declined',
    message = 'This school had already asked for this tour date.'
WHERE slot_id IS NOT NULL
  AND status IN ('requested', 'confirmed')
  AND EXISTS (
    SELECT 1 FROM bookings first
    WHERE first.slot_id = bookings.slot_id
      AND first.school_id = bookings.school_id
      AND first.status IN ('requested', 'confirmed')
      AND (
        (first.status = 'confirmed' AND bookings.status = 'requested')
        OR (first.status = bookings.status AND first.id < bookings.id)
      )
  );
CREATE UNIQUE INDEX bookings_one_live_per_school_slot ON bookings (slot_id, school_id)
    WHERE status IN ('requested', 'confirmed');
