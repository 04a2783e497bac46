-- Our migration 5 on MySQL/MariaDB (see MIGRATIONS in src/store/schema.rs):
-- a counter of rule writes. Its one row is bumped by every rule creation or
-- deletion in the same transaction; a callback compares it with the rules it
-- compiled before reading them all again. A table upstream never reads.
-- INSERT IGNORE: DDL is not transactional, so the migration may run again
-- after a failure half-way.
-- Format: plain SQL, one statement ends with a semicolon at the end of a line.

CREATE TABLE IF NOT EXISTS inspector_rules_version (
    id INTEGER NOT NULL,
    generation BIGINT NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
INSERT IGNORE INTO inspector_rules_version (id, generation) VALUES (1, 0);
