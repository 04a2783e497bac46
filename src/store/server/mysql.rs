//! MySQL and MariaDB: the shared backend over sqlx's MySQL driver.
//!
//! Sessions run in READ COMMITTED, as Galera and most sites advise: the
//! default REPEATABLE READ takes gap locks on the lookups of rows that do
//! not exist yet, which deadlocks concurrent inserts of different nodes.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use inspector_core::db_url::{Endpoint, ServerUrl};
use sqlx::Executor;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlSslMode};

use super::{
    Dialect, ddl_statements, first_connection, hot_set, indexes_migration, pool_options,
    server_migration,
};
use crate::store::leases::{LeaseSql, MYSQL};
use crate::store::schema::Migration;
use crate::store::{Result, Store, StoreOptions, TimestampPrecision};

// The shared implementation, compiled against this server's `Db` and
// `DIALECT` (see `sqlx_backend.rs`).
#[allow(clippy::duplicate_mod, reason = "compiled once per server on purpose")]
#[path = "../sqlx_backend.rs"]
mod backend;

type Db = sqlx::MySql;

/// Timestamps are bound as such, at the precision the columns keep.
fn db_time(at: time::PrimitiveDateTime) -> time::PrimitiveDateTime {
    DIALECT.precision.apply(at)
}

static MIGRATIONS: LazyLock<Vec<Migration>> = LazyLock::new(|| {
    let mut migrations = indexes_migration(include_str!("../ddl/mysql-2.sql"));
    migrations.push(server_migration(3, include_str!("../ddl/mysql-3.sql")));
    migrations.push(server_migration(4, include_str!("../ddl/mysql-4.sql")));
    migrations.push(server_migration(5, include_str!("../ddl/mysql-5.sql")));
    migrations
});

const LEASE_SQL: LeaseSql = MYSQL;

pub(super) const DIALECT: Dialect = Dialect {
    numbered_params: false,
    state_cast: "",
    nulls_last: "",
    upsert_data: "ON DUPLICATE KEY UPDATE data = VALUES(data)",
    count_tables: "SELECT COUNT(*) FROM information_schema.tables \
                   WHERE table_schema = DATABASE() AND table_name = ?",
    migrations_table: "CREATE TABLE IF NOT EXISTS inspector_migrations (
        version INTEGER NOT NULL PRIMARY KEY,
        description VARCHAR(255) NOT NULL,
        applied_at DATETIME NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8",
    base_ddl: || ddl_statements(include_str!("../ddl/mysql.sql")),
    migrations: || &MIGRATIONS,
    // Upstream's columns are DATETIME, without fractional seconds.
    precision: TimestampPrecision::Seconds,
    // No table lock inside a transaction: the single row of
    // alembic_version serves as the mutex.
    serialize_rules: Some("SELECT version_num FROM alembic_version FOR UPDATE"),
    begin_write: None,
    upgrade_lock: Some("SELECT GET_LOCK('inspector_schema_upgrade', 300)"),
    sized_varchar: true,
    narrow_text: true,
    nul_free: false,
    upgrade_unlock: Some("SELECT RELEASE_LOCK('inspector_schema_upgrade')"),
    case_blind_keys: true,
};

/// How to reach the server `url` names.
pub(super) fn connect_options(url: &ServerUrl) -> MySqlConnectOptions {
    let mut connect = MySqlConnectOptions::new()
        .database(&url.database)
        .ssl_mode(MySqlSslMode::Disabled)
        .charset(url.charset.as_deref().unwrap_or("utf8mb4"));
    connect = match &url.endpoint {
        Endpoint::Tcp { host, port } => connect.host(host).port(*port),
        Endpoint::Socket { path, .. } => connect.socket(path),
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
    first_connection::<MySqlConnection>(url, &connect, options).await?;
    let hot = hot_set::<Db>(options, connect.clone(), Some(session_setup));
    let pool = pool_options::<Db>(options)
        .after_connect(|conn, _| session_setup(conn))
        .connect_lazy_with(connect);
    Ok(std::sync::Arc::new(
        backend::SqlxStore::new(pool).with_hot(hot),
    ))
}

/// Every connection's session settings, before its first use.
pub(super) fn session_setup(
    conn: &mut MySqlConnection,
) -> Pin<Box<dyn Future<Output = std::result::Result<(), sqlx::Error>> + Send + '_>> {
    Box::pin(async move {
        // oslo.db's default mysql_sql_mode: refuse rather than silently
        // truncate.
        conn.execute("SET SESSION sql_mode = 'TRADITIONAL'").await?;
        conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
            .await?;
        Ok(())
    })
}
