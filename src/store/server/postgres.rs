//! PostgreSQL: the shared backend over sqlx's Postgres driver.

use inspector_core::db_url::{Endpoint, ServerUrl};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};

use super::{Dialect, first_connection, pool_options};
use crate::store::schema::Migration;
use crate::store::{Result, Store, StoreOptions, TimestampPrecision};

// The shared implementation, compiled against this server's `Db` and
// `DIALECT` (see `backend.rs`).
#[allow(clippy::duplicate_mod, reason = "compiled once per server on purpose")]
#[path = "backend.rs"]
mod backend;

type Db = sqlx::Postgres;

pub(super) const DIALECT: Dialect = Dialect {
    numbered_params: true,
    state_cast: "::node_state",
    nulls_last: " NULLS LAST",
    upsert_data: "ON CONFLICT (uuid, processed) DO UPDATE SET data = excluded.data",
    count_tables: "SELECT COUNT(*) FROM information_schema.tables \
                   WHERE table_schema = current_schema() AND table_name = ?",
    migrations_table: "CREATE TABLE IF NOT EXISTS inspector_migrations (
        version INTEGER NOT NULL PRIMARY KEY,
        description VARCHAR(255) NOT NULL,
        applied_at TIMESTAMP WITHOUT TIME ZONE NOT NULL)",
    base_ddl: include_str!("../ddl/postgresql.sql"),
    migrations: MIGRATIONS,
    precision: TimestampPrecision::Microseconds,
    // Any constant key shared by every instance: "inspectr" in ASCII.
    upgrade_lock: "SELECT pg_advisory_xact_lock(7597132653834503282)",
    upgrade_unlock: None,
};

const MIGRATIONS: &[Migration] = &[Migration {
    version: 2,
    description: "indexes for lookup, listing, timeouts and rules",
    statements: &[
        "CREATE INDEX IF NOT EXISTS ix_attributes_name_value ON attributes (name, value)",
        "CREATE INDEX IF NOT EXISTS ix_attributes_node_uuid ON attributes (node_uuid)",
        "CREATE INDEX IF NOT EXISTS ix_nodes_started_at_uuid ON nodes (started_at, uuid)",
        "CREATE INDEX IF NOT EXISTS ix_nodes_active ON nodes (started_at) WHERE finished_at IS NULL",
        "CREATE INDEX IF NOT EXISTS ix_rule_conditions_rule ON rule_conditions (rule)",
        "CREATE INDEX IF NOT EXISTS ix_rule_actions_rule ON rule_actions (rule)",
    ],
}];

/// How to reach the server `url` names.
pub(super) fn connect_options(url: &ServerUrl) -> PgConnectOptions {
    // Not `new()`: libpq's environment (PGHOST...) must not override the URL.
    let mut connect = PgConnectOptions::new_without_pgpass()
        .database(&url.database)
        .application_name("inspector")
        .ssl_mode(PgSslMode::Disable);
    connect = match &url.endpoint {
        Endpoint::Tcp { host, port } => connect.host(host).port(*port),
        Endpoint::Socket { path, port } => connect.socket(path).port(*port),
    };
    if let Some(user) = &url.user {
        connect = connect.username(user);
    }
    if let Some(password) = &url.password {
        connect = connect.password(password);
    }
    connect
}

pub(super) async fn open(url: &ServerUrl, options: &StoreOptions) -> Result<Store> {
    let connect = connect_options(url);
    first_connection::<PgConnection>(url, &connect, options).await?;
    let pool = pool_options::<Db>(options).connect_lazy_with(connect);
    Ok(std::sync::Arc::new(backend::ServerStore::new(pool)))
}
