-- Figures kept, not recounted: every write that can change a programme's SPEC §3 figures
-- (its attendance; its events' status, kind, time, place or programme; a venue's name,
-- which the narrative names) bumps the programme's revision in the same transaction, by
-- these triggers, whatever code makes the write. Counted figures are kept in
-- figures_cache under a key made of the programmes' ids and revisions, so a read of
-- unchanged figures is one small lookup, in every process sharing the database.
-- Inserts and deletes bump once per statement (a bulk load of a million rows is one bump
-- per programme touched, not a million).
ALTER TABLE programmes ADD COLUMN figures_revision INTEGER NOT NULL DEFAULT 0;

CREATE TABLE figures_cache (
    key TEXT PRIMARY KEY NOT NULL,
    counts TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX figures_cache_created ON figures_cache (created_at);

CREATE FUNCTION figures_attendance_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE programmes SET figures_revision = figures_revision + 1
    WHERE id IN (SELECT e.programme_id FROM events e JOIN changed c ON c.event_id = e.id);
    RETURN NULL;
END $$;
CREATE FUNCTION figures_events_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE programmes SET figures_revision = figures_revision + 1
    WHERE id IN (SELECT programme_id FROM changed);
    RETURN NULL;
END $$;
CREATE FUNCTION figures_attendance_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE programmes SET figures_revision = figures_revision + 1
    WHERE id IN (SELECT programme_id FROM events WHERE id IN (NEW.event_id, OLD.event_id));
    RETURN NULL;
END $$;
CREATE FUNCTION figures_events_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE programmes SET figures_revision = figures_revision + 1
    WHERE id IN (NEW.programme_id, OLD.programme_id);
    RETURN NULL;
END $$;
CREATE FUNCTION figures_venue_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE programmes SET figures_revision = figures_revision + 1
    WHERE id IN (SELECT programme_id FROM events WHERE venue_id = NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER attendance_insert_figures AFTER INSERT ON attendance
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION figures_attendance_new();
CREATE TRIGGER attendance_delete_figures AFTER DELETE ON attendance
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION figures_attendance_new();
CREATE TRIGGER attendance_update_figures AFTER UPDATE ON attendance
    FOR EACH ROW EXECUTE FUNCTION figures_attendance_row();
CREATE TRIGGER events_insert_figures AFTER INSERT ON events
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION figures_events_new();
CREATE TRIGGER events_delete_figures AFTER DELETE ON events
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION figures_events_new();
CREATE TRIGGER events_update_figures
    AFTER UPDATE OF status, kind, starts_at, school_id, venue_id, programme_id ON events
    FOR EACH ROW EXECUTE FUNCTION figures_events_row();
CREATE TRIGGER venues_name_figures AFTER UPDATE OF name ON venues
    FOR EACH ROW EXECUTE FUNCTION figures_venue_row();
