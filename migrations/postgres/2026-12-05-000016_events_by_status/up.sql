-- What's on, the public listing and the reminders look for events by status and time
-- across every programme ("open or confirmed, still to come"); without this index a
-- county's history of completed events was scanned on every school's What's on.
-- Built CONCURRENTLY (outside a transaction, see metadata.toml) so a large install keeps
-- taking bookings while it builds.
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_status_starts ON events (status, starts_at);
