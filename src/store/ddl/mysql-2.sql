-- Our migration 2 on MySQL/MariaDB (see MIGRATIONS in src/store/schema.rs):
-- indexes upstream does not have. Recorded in inspector_migrations, never
-- in alembic_version, and ignored by upstream, which can still serve the
-- database. Differences from SQLite and PostgreSQL:
-- * no attributes (node_uuid), rule_conditions (rule) or rule_actions (rule)
--   index: InnoDB already made one for each foreign key (fk_node_attribute
--   and `rule`), a second would only slow writes.
-- * no partial index in MySQL: ix_nodes_active is (finished_at, started_at),
--   so "finished_at IS NULL" is a range on its first column.
-- * no IF NOT EXISTS (MySQL lacks it for indexes, MariaDB has it), and DDL
--   is not transactional: after an upgrade stopped midway, the rerun meets
--   error 1061 (duplicate key name) for the indexes already made, which the
--   backend takes as done.
-- No index covers a TEXT column, so none needs a prefix length. The widest,
-- (name, value), is 2 x 255 utf8mb3 characters = 1530 bytes, under InnoDB's
-- 3072-byte limit for the DYNAMIC row format (the default since MariaDB
-- 10.2 and MySQL 5.7).
-- Format: plain SQL, one statement ends with a semicolon at the end of a line.

-- Lookup by (name, value) on every ramdisk callback (upstream scans).
CREATE INDEX ix_attributes_name_value ON attributes (name, value);
-- The status list is ordered by (started_at, uuid) descending.
CREATE INDEX ix_nodes_started_at_uuid ON nodes (started_at, uuid);
-- The timeout task and the PXE filter only look at running introspections.
CREATE INDEX ix_nodes_active ON nodes (finished_at, started_at);
