-- Our migration 4 on MySQL/MariaDB (see MIGRATIONS in src/store/schema.rs):
-- the history of each node's finished or failed introspections (API 1.19),
-- kept up to [processing] history_depth runs per node. A table upstream never
-- reads. `run` numbers a node's runs in the order they ended (DATETIME keeps
-- whole seconds, too coarse to order two quick runs); `data` is the processed
-- data of the run, LONGTEXT like introspection_data.data.
-- Index as in mysql-2.sql: no IF NOT EXISTS, DDL is not transactional.
-- Format: plain SQL, one statement ends with a semicolon at the end of a line.

CREATE TABLE IF NOT EXISTS inspector_history (
    id VARCHAR(36) NOT NULL,
    node_uuid VARCHAR(36) NOT NULL,
    run BIGINT NOT NULL,
    state VARCHAR(10) NOT NULL,
    error TEXT,
    started_at DATETIME,
    finished_at DATETIME,
    data LONGTEXT,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
CREATE UNIQUE INDEX ix_inspector_history_node_run ON inspector_history (node_uuid, run);
