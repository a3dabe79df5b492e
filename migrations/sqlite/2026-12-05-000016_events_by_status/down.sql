DROP INDEX events_status_starts;
