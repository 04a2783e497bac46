-- Our migration 4 on PostgreSQL (see MIGRATIONS in src/store/schema.rs): the
-- history of each node's finished or failed introspections (API 1.19), kept
-- up to [processing] history_depth runs per node. A table upstream never
-- reads. `run` numbers a node's runs in the order they ended; `data` is the
-- processed data of the run when it was stored in the database.
-- Format: plain SQL, one statement ends with a semicolon at the end of a line.

CREATE TABLE IF NOT EXISTS inspector_history (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    node_uuid VARCHAR(36) NOT NULL,
    run BIGINT NOT NULL,
    state VARCHAR(10) NOT NULL,
    error TEXT,
    started_at TIMESTAMP WITHOUT TIME ZONE,
    finished_at TIMESTAMP WITHOUT TIME ZONE,
    data TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS ix_inspector_history_node_run ON inspector_history (node_uuid, run);
