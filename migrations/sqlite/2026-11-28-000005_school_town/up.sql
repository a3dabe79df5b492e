-- The register's Town, shown beside schools that share a name.
ALTER TABLE schools ADD COLUMN town TEXT NOT NULL DEFAULT '';
