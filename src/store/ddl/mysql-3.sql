-- Our migration 3 on MySQL/MariaDB (see MIGRATIONS in src/store/schema.rs):
-- the leases that coordinate several instances on one database (node locks
-- `node:<uuid>`, the `leader`). A table upstream never reads.
-- expires_at is a time of the database's clock (UTC_TIMESTAMP(6), written by
-- the lease statements themselves), so the instances' clocks need not agree;
-- fractional seconds because the renewal and the expiry are seconds apart.
-- Index as in mysql-2.sql: no IF NOT EXISTS, DDL is not transactional.
-- Format: plain SQL, one statement ends with a semicolon at the end of a line.

CREATE TABLE IF NOT EXISTS inspector_leases (
    name VARCHAR(255) NOT NULL,
    holder VARCHAR(255) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE INDEX ix_inspector_leases_holder ON inspector_leases (holder);
