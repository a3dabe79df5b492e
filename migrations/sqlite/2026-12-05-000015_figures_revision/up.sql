-- Figures kept, not recounted: every write that can change a programme's SPEC §3 figures
-- (its attendance; its events' status, kind, time, place or programme; a venue's name,
-- which the narrative names) bumps the programme's revision in the same transaction, by
-- these triggers, whatever code makes the write. Counted figures are kept in
-- figures_cache under a key made of the programmes' ids and revisions, so a read of
-- unchanged figures is one small lookup, in every process sharing the database.
ALTER TABLE programmes ADD COLUMN figures_revision INTEGER NOT NULL DEFAULT 0;

CREATE TABLE figures_cache (
    key TEXT PRIMARY KEY NOT NULL,
    counts TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX figures_cache_created ON figures_cache (created_at);

CREATE TRIGGER attendance_insert_figures AFTER INSERT ON attendance BEGIN
    UPDATE programmes SET figures_revision = figures_revision + 1
    WHERE id = (SELECT programme_id FROM events WHERE id = NEW.event_id);
END;
CREATE TRIGGER attendance_update_figures AFTER UPDATE ON attendance BEGIN
    UPDATE programmes SET figures_revision = figures_revision + 1
    WHERE id IN (SELECT programme_id FROM events WHERE id IN (NEW.event_id, OLD.event_id));
END;
CREATE TRIGGER attendance_delete_figures AFTER DELETE ON attendance BEGIN
    UPDATE programmes SET figures_revision = figures_revision + 1
    WHERE id = (SELECT programme_id FROM events WHERE id = OLD.event_id);
END;
CREATE TRIGGER events_insert_figures AFTER INSERT ON events BEGIN
    UPDATE programmes SET figures_revision = figures_revision + 1 WHERE id = NEW.programme_id;
END;
CREATE TRIGGER events_update_figures
AFTER UPDATE OF status, kind, starts_at, school_id, venue_id, programme_id ON events BEGIN
    UPDATE programmes SET figures_revision = figures_revision + 1
    WHERE id IN (NEW.programme_id, OLD.programme_id);
END;
CREATE TRIGGER events_delete_figures AFTER DELETE ON events BEGIN
    UPDATE programmes SET figures_revision = figures_revision + 1 WHERE id = OLD.programme_id;
END;
CREATE TRIGGER venues_name_figures AFTER UPDATE OF name ON venues BEGIN
    UPDATE programmes SET figures_revision = figures_revision + 1
    WHERE id IN (SELECT programme_id FROM events WHERE venue_id = NEW.id);
END;
