//! PostgreSQL: the shared backend over sqlx's Postgres driver.

use std::sync::LazyLock;

use inspector_core::db_url::{Endpoint, ServerUrl};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};

use super::{
    Dialect, ddl_statements, first_connection, hot_set, indexes_migration, pool_options,
    server_migration,
};
use crate::store::leases::{LeaseSql, POSTGRES};
use crate::store::schema::Migration;
use crate::store::{Result, Store, StoreOptions, TimestampPrecision};

// The shared implementation, compiled against this server's `Db` and
// `DIALECT` (see `sqlx_backend.rs`).
#[allow(clippy::duplicate_mod, reason = "compiled once per server on purpose")]
#[path = "../sqlx_backend.rs"]
mod backend;

type Db = sqlx::Postgres;

/// Timestamps are bound as such, at the precision the columns keep.
fn db_time(at: time::PrimitiveDateTime) -> time::PrimitiveDateTime {
    DIALECT.precision.apply(at)
}

static MIGRATIONS: LazyLock<Vec<Migration>> = LazyLock::new(|| {
    let mut migrations = indexes_migration(include_str!("../ddl/postgresql-2.sql"));
    migrations.push(server_migration(3, include_str!("../ddl/postgresql-3.sql")));
    migrations.push(server_migration(4, include_str!("../ddl/postgresql-4.sql")));
    migrations.push(server_migration(5, include_str!("../ddl/postgresql-5.sql")));
    migrations
});

const LEASE_SQL: LeaseSql = POSTGRES;

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
    base_ddl: || ddl_statements(include_str!("../ddl/postgresql.sql")),
    migrations: || &MIGRATIONS,
    precision: TimestampPrecision::Microseconds,
    // Any constant key shared by every instance: "inspectr" in ASCII.
    serialize_rules: Some("LOCK TABLE rules IN SHARE ROW EXCLUSIVE MODE"),
    begin_write: None,
    upgrade_lock: Some("SELECT pg_advisory_xact_lock(7597132653834503282)"),
    sized_varchar: true,
    narrow_text: false,
    nul_free: true,
    upgrade_unlock: None,
    case_blind_keys: false,
};

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
    let hot = hot_set::<Db>(options, connect.clone(), None);
    let pool = pool_options::<Db>(options).connect_lazy_with(connect);
    Ok(std::sync::Arc::new(
        backend::SqlxStore::new(pool).with_hot(hot),
    ))
}
