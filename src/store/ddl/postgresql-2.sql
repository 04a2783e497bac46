-- Our migration 2 on PostgreSQL (see MIGRATIONS in src/store/schema.rs):
-- indexes upstream does not have. Recorded in inspector_migrations, never
-- in alembic_version, and ignored by upstream, which can still serve the
-- database. Same statements as on SQLite.
-- Format: plain SQL, one statement ends with a semicolon at the end of a line.

-- Lookup by (name, value) on every ramdisk callback (upstream scans).
CREATE INDEX IF NOT EXISTS ix_attributes_name_value ON attributes (name, value);
CREATE INDEX IF NOT EXISTS ix_attributes_node_uuid ON attributes (node_uuid);
-- The status list is ordered by (started_at, uuid) descending.
CREATE INDEX IF NOT EXISTS ix_nodes_started_at_uuid ON nodes (started_at, uuid);
-- The timeout task and the PXE filter only look at running introspections.
CREATE INDEX IF NOT EXISTS ix_nodes_active ON nodes (started_at) WHERE finished_at IS NULL;
CREATE INDEX IF NOT EXISTS ix_rule_conditions_rule ON rule_conditions (rule);
CREATE INDEX IF NOT EXISTS ix_rule_actions_rule ON rule_actions (rule);
