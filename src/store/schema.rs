//! Schema versions. The base schema is upstream's alembic head, table for
//! table, so a database made by `ironic-inspector-dbsync upgrade` is served
//! as it is, and a database we create can be handed back to upstream.
//! Our own additions (indexes, the lease table, the introspection history) are tracked in `inspector_migrations`, a table
//! upstream never looks at; `alembic_version` stays at upstream's head.

/// The last alembic revision of ironic-inspector (12.x).
pub const ALEMBIC_HEAD: &str = "b55109d5063a";

pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub statements: &'static [&'static str],
}

/// What `upgrade` did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MigrationReport {
    /// The database was empty and the base schema was created.
    pub created_schema: bool,
    /// The base schema was made by upstream and is now tracked by us.
    pub adopted_upstream: bool,
    pub applied: Vec<String>,
}

/// Upstream's schema at `ALEMBIC_HEAD`, as SQLAlchemy creates it on SQLite.
pub const SQLITE_BASE: &[&str] = &[
    "CREATE TABLE alembic_version (
        version_num VARCHAR(32) NOT NULL,
        CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
    "CREATE TABLE nodes (
        uuid VARCHAR(36) NOT NULL,
        error TEXT,
        version_id VARCHAR(36) DEFAULT (''),
        state VARCHAR(10) DEFAULT 'finished' NOT NULL,
        started_at DATETIME,
        finished_at DATETIME,
        manage_boot BOOLEAN,
        PRIMARY KEY (uuid))",
    "CREATE TABLE attributes (
        name VARCHAR(255) NOT NULL,
        value VARCHAR(255),
        uuid VARCHAR(36),
        node_uuid VARCHAR(36),
        CONSTRAINT pk_attributes PRIMARY KEY (uuid),
        CONSTRAINT fk_node_attribute FOREIGN KEY(node_uuid) REFERENCES nodes (uuid))",
    "CREATE TABLE options (
        uuid VARCHAR(36) NOT NULL,
        name VARCHAR(255) NOT NULL,
        value TEXT,
        PRIMARY KEY (uuid, name),
        FOREIGN KEY(uuid) REFERENCES nodes (uuid))",
    "CREATE TABLE rules (
        uuid VARCHAR(36) NOT NULL,
        created_at DATETIME NOT NULL,
        description TEXT,
        disabled BOOLEAN,
        scope VARCHAR(255),
        PRIMARY KEY (uuid))",
    "CREATE TABLE rule_conditions (
        id INTEGER NOT NULL,
        rule VARCHAR(36),
        op VARCHAR(255) NOT NULL,
        multiple VARCHAR(255) NOT NULL,
        field TEXT,
        params TEXT,
        invert BOOLEAN,
        PRIMARY KEY (id),
        FOREIGN KEY(rule) REFERENCES rules (uuid))",
    "CREATE TABLE rule_actions (
        id INTEGER NOT NULL,
        rule VARCHAR(36),
        action VARCHAR(255) NOT NULL,
        params TEXT,
        PRIMARY KEY (id),
        FOREIGN KEY(rule) REFERENCES rules (uuid))",
    "CREATE TABLE introspection_data (
        uuid VARCHAR(36) NOT NULL,
        processed BOOLEAN NOT NULL,
        data TEXT,
        PRIMARY KEY (uuid, processed),
        FOREIGN KEY(uuid) REFERENCES nodes (uuid))",
];

pub const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS inspector_migrations (
    version INTEGER NOT NULL PRIMARY KEY,
    description VARCHAR(255) NOT NULL,
    applied_at DATETIME NOT NULL)";

/// Version 1 is the base schema itself (created or adopted).
pub const BASE_VERSION: i64 = 1;
pub const BASE_DESCRIPTION: &str = "ironic-inspector alembic head b55109d5063a";

/// Our migrations on top of the base schema; plain SQL that SQLite and
/// PostgreSQL both accept.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 2,
        description: "indexes for lookup, listing, timeouts and rules",
        statements: &[
            // Lookup by (name, value) on every ramdisk callback; upstream scans.
            "CREATE INDEX IF NOT EXISTS ix_attributes_name_value ON attributes (name, value)",
            "CREATE INDEX IF NOT EXISTS ix_attributes_node_uuid ON attributes (node_uuid)",
            // The status list is ordered by (started_at, uuid) descending.
            "CREATE INDEX IF NOT EXISTS ix_nodes_started_at_uuid ON nodes (started_at, uuid)",
            // The timeout task and the PXE filter only look at running introspections.
            "CREATE INDEX IF NOT EXISTS ix_nodes_active ON nodes (started_at) WHERE finished_at IS NULL",
            "CREATE INDEX IF NOT EXISTS ix_rule_conditions_rule ON rule_conditions (rule)",
            "CREATE INDEX IF NOT EXISTS ix_rule_actions_rule ON rule_actions (rule)",
        ],
    },
    Migration {
        version: 3,
        description: "leases that coordinate several instances on one database",
        statements: &[
            // A named lease (`node:<uuid>`, `leader`) held by one instance until
            // `expires_at`, a time of the database's own clock.
            "CREATE TABLE IF NOT EXISTS inspector_leases (
            name VARCHAR(255) NOT NULL PRIMARY KEY,
            holder VARCHAR(255) NOT NULL,
            expires_at TIMESTAMP NOT NULL)",
            "CREATE INDEX IF NOT EXISTS ix_inspector_leases_holder ON inspector_leases (holder)",
        ],
    },
    Migration {
        version: 4,
        description: "history of each node's finished introspections",
        statements: &[
            // One row per finished or failed introspection, up to
            // [processing] history_depth per node; `run` orders a node's runs
            // (timestamps may be too coarse to), `data` is the run's
            // processed data when stored in the database.
            "CREATE TABLE IF NOT EXISTS inspector_history (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            node_uuid VARCHAR(36) NOT NULL,
            run BIGINT NOT NULL,
            state VARCHAR(10) NOT NULL,
            error TEXT,
            started_at DATETIME,
            finished_at DATETIME,
            data TEXT)",
            "CREATE UNIQUE INDEX IF NOT EXISTS ix_inspector_history_node_run \
             ON inspector_history (node_uuid, run)",
        ],
    },
    Migration {
        version: 5,
        description: "a counter of rule writes",
        statements: &[
            // One row, bumped by every rule creation or deletion in the same
            // transaction: a callback compares it (one small read) with the
            // rules it compiled before reading all rules again.
            "CREATE TABLE IF NOT EXISTS inspector_rules_version (
            id INTEGER NOT NULL PRIMARY KEY,
            generation BIGINT NOT NULL)",
            "INSERT INTO inspector_rules_version (id, generation) VALUES (1, 0) \
             ON CONFLICT DO NOTHING",
        ],
    },
];
