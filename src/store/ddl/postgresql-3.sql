-- Our migration 3 on PostgreSQL (see MIGRATIONS in src/store/schema.rs): the
-- leases that coordinate several instances on one database (node locks
-- `node:<uuid>`, the `leader`). A table upstream never reads.
-- expires_at is a time of the database's clock (now() at UTC, written by the
-- lease statements themselves), so the instances' clocks need not agree.
-- Format: plain SQL, one statement ends with a semicolon at the end of a line.

CREATE TABLE IF NOT EXISTS inspector_leases (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    holder VARCHAR(255) NOT NULL,
    expires_at TIMESTAMP WITHOUT TIME ZONE NOT NULL);
CREATE INDEX IF NOT EXISTS ix_inspector_leases_holder ON inspector_leases (holder);
