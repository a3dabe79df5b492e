DROP TRIGGER venues_name_figures;
DROP TRIGGER events_delete_figures;
DROP TRIGGER events_update_figures;
DROP TRIGGER events_insert_figures;
DROP TRIGGER attendance_delete_figures;
DROP TRIGGER attendance_update_figures;
DROP TRIGGER attendance_insert_figures;
DROP TABLE figures_cache;
ALTER TABLE programmes DROP COLUMN figures_revision;
