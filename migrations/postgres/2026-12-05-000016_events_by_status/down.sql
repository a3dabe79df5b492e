DROP INDEX IF EXISTS events_status_starts;
