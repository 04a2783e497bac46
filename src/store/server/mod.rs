//! PostgreSQL and MySQL/MariaDB backends. One implementation
//! (`backend.rs`) is compiled once per server, each time against that
//! server's sqlx types (`Db`) and its [`Dialect`]: the SQL the two servers
//! spell differently, and their DDL.
//!
//! Pool options keep oslo.db's meaning: `max_pool_size` connections are
//! kept open, up to `max_overflow` more are opened under load and closed
//! after a minute idle, a request waits `pool_timeout` for a connection
//! before the database counts as unavailable (503), and a connection is
//! replaced after `connection_recycle_time`. A connection idle for a
//! second is checked before it is handed out, so a restarted server is
//! reconnected to without restarting the service. At start-up the server is tried `max_retries`
//! times, `retry_interval` apart.
//!
//! About half of `max_pool_size` is not the pool's but the hot set's
//! (`hot.rs`): connections for the one-statement reads most requests make
//! (a status, the status list, a lookup), which skip the round trip the
//! pool adds to every use.

pub(super) mod batch;
pub(super) mod column_fit;
pub(super) mod hot;
mod mysql;
mod postgres;
pub mod scratch;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::time::Duration;

use inspector_core::db_url::{self, ServerKind, ServerUrl};
use sqlx::pool::PoolOptions;
use sqlx::{ConnectOptions, Connection, Database};

use super::schema::Migration;
use super::sqlx_errors::worth_retrying;
use super::{Result, Store, StoreError, StoreOptions, TimestampPrecision};

/// Opens a PostgreSQL or MySQL database named by an oslo.db URL.
pub(super) async fn open(url: &str, options: &StoreOptions) -> Result<Store> {
    let parsed = db_url::parse_server_url(url).map_err(|e| StoreError::Url(url.into(), e.0))?;
    for ignored in &parsed.ignored {
        tracing::debug!(parameter = %ignored, "[database] connection: parameter ignored");
    }
    match parsed.kind {
        ServerKind::Postgres => postgres::open(&parsed, options).await,
        ServerKind::Mysql => mysql::open(&parsed, options).await,
    }
}

/// What the databases spell differently. SQL is written once with `?`
/// placeholders and these tokens, and rendered by [`Dialect::sql`]:
/// `{state}` after the placeholder of a `nodes.state` value, `{nulls_last}`
/// after a descending sort key.
pub(in crate::store) struct Dialect {
    /// `$1, $2...` rather than `?`.
    pub numbered_params: bool,
    /// What `{state}` becomes: PostgreSQL's `state` is an enum type, which
    /// a text parameter must be cast to.
    pub state_cast: &'static str,
    /// What `{nulls_last}` becomes: SQLite and MySQL sort NULL last in a
    /// descending order already, PostgreSQL first.
    pub nulls_last: &'static str,
    /// The tail of the `introspection_data` insert that replaces a row.
    pub upsert_data: &'static str,
    /// Counts tables of that name in the connection's schema; one parameter.
    pub count_tables: &'static str,
    /// `CREATE TABLE IF NOT EXISTS inspector_migrations ...`
    pub migrations_table: &'static str,
    /// Upstream's tables at its alembic head, in creation order.
    pub base_ddl: fn() -> Vec<&'static str>,
    /// Our migrations on top of the base schema.
    pub migrations: fn() -> &'static [Migration],
    pub precision: TimestampPrecision,
    /// Run first when a rule is created: a rule's UUID may be written in
    /// several forms that no unique key tells apart, so creations take
    /// turns (SQLite's writes always do).
    pub serialize_rules: Option<&'static str>,
    /// How a transaction that writes begins, when not plain `BEGIN`.
    pub begin_write: Option<&'static str>,
    /// Run first in the upgrade's transaction: only one instance upgrades
    /// at a time.
    pub upgrade_lock: Option<&'static str>,
    /// Run after the upgrade's transaction, for a lock that outlives it.
    pub upgrade_unlock: Option<&'static str>,
    /// Text columns hold only BMP characters and `TEXT` only 64 KiB
    /// (MySQL's utf8): what is written is fitted, see `column_fit`.
    pub narrow_text: bool,
    /// `VARCHAR(n)` refuses a longer value (not SQLite).
    pub sized_varchar: bool,
    /// Text cannot hold a NUL character (PostgreSQL): ours gets U+FFFD for
    /// it, a client's is refused.
    pub nul_free: bool,
    /// `uuid = ?` ignores the case of ASCII letters (MySQL's default
    /// collations), which rows read for several keys must be matched with.
    pub case_blind_keys: bool,
}

impl Dialect {
    /// `template` in this dialect.
    pub fn sql(&self, template: &str) -> String {
        let text = template
            .replace("{state}", self.state_cast)
            .replace("{nulls_last}", self.nulls_last);
        if !self.numbered_params {
            return text;
        }
        let mut out = String::with_capacity(text.len() + 8);
        let mut n = 0;
        for c in text.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// The statements of a DDL file: separated by `;` at the end of a line,
/// comment-only pieces skipped.
pub(super) fn ddl_statements(text: &'static str) -> Vec<&'static str> {
    text.split(";\n")
        .map(str::trim)
        .filter(|s| {
            s.lines()
                .any(|l| !l.trim().is_empty() && !l.trim().starts_with("--"))
        })
        .map(|s| s.trim_end_matches(';'))
        .collect()
}

/// Our migration 2 (see `schema::MIGRATIONS`) with this server's
/// statements, read from its DDL file once per process.
pub(super) fn indexes_migration(text: &'static str) -> Vec<Migration> {
    let base = &super::schema::MIGRATIONS[0];
    vec![Migration {
        version: base.version,
        description: base.description,
        statements: ddl_statements(text).leak(),
    }]
}

/// Our migration `version` (3 and up, see `schema::MIGRATIONS`) with this
/// server's statements, from its DDL file (`ddl/<server>-<version>.sql`).
pub(super) fn server_migration(version: i64, text: &'static str) -> Migration {
    let ours = super::schema::MIGRATIONS
        .iter()
        .find(|m| m.version == version)
        .expect("every server DDL file is one of our migrations");
    Migration {
        version: ours.version,
        description: ours.description,
        statements: ddl_statements(text).leak(),
    }
}

/// How many times a transaction is tried, and the first pause between
/// tries (growing fourfold, with jitter so that two victims of one
/// deadlock do not meet again).
const TRIES: u32 = 4;
const FIRST_PAUSE: Duration = Duration::from_millis(20);

/// Runs `op` again while it fails on a deadlock, a serialization conflict
/// or a lost connection; the last failure is returned as it is
/// (`Unavailable`). Every operation of the store is a whole transaction,
/// so running it again is safe.
pub(in crate::store) async fn retrying<T, F, Fut>(mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut pause = FIRST_PAUSE;
    for _ in 1..TRIES {
        match op().await {
            Err(err) if worth_retrying(&err) => {
                tracing::debug!(error = %err, "database transaction retried");
                let jitter = uuid::Uuid::new_v4().as_u128() as u64 % (pause.as_millis() as u64);
                tokio::time::sleep(pause + Duration::from_millis(jitter)).await;
                pause *= 4;
            }
            done => return done,
        }
    }
    op().await
}

/// The pool for `options`, see the module's documentation: what the hot
/// set (`hot.rs`) leaves of the connections.
pub(super) fn pool_options<DB: Database>(options: &StoreOptions) -> PoolOptions<DB> {
    let size = hot::HotSetSize::of(options);
    PoolOptions::new()
        .min_connections(size.pool_min)
        .max_connections(size.pool_max)
        .idle_timeout(Duration::from_secs(60))
        .acquire_timeout(options.pool_timeout)
        .max_lifetime(options.recycle_after)
        // sqlx pings a connection when it comes back to the pool; one that
        // has since sat idle is pinged again before use, so that a server
        // restarted meanwhile costs no failed request. A busy connection
        // skips that round trip.
        .test_before_acquire(false)
        .before_acquire(|conn: &mut DB::Connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_BEFORE_PING {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// The hot set for `options`, if any connection is left for it.
pub(super) fn hot_set<DB: Database>(
    options: &StoreOptions,
    connect: <DB::Connection as Connection>::Options,
    setup: Option<hot::Setup<DB::Connection>>,
) -> Option<hot::HotConnections<DB>> {
    let size = hot::HotSetSize::of(options).hot;
    (size > 0).then(|| hot::HotConnections::new(size, connect, setup, options))
}

/// How long a pooled connection may sit idle and still be used unchecked.
pub(super) const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// Connects once to prove the server answers, as many times as
/// `max_retries` allows; fails at once on an error that trying again will
/// not cure (a wrong password, a missing database).
pub(super) async fn first_connection<C: Connection>(
    url: &ServerUrl,
    connect: &C::Options,
    options: &StoreOptions,
) -> Result<()> {
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let outcome = tokio::time::timeout(options.pool_timeout, connect.connect()).await;
        let err: sqlx::Error = match outcome {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                return Ok(());
            }
            Ok(Err(err)) => err,
            Err(_) => sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {} s", options.pool_timeout.as_secs_f64()),
            )),
        };
        let unreachable = || StoreError::Unreachable {
            endpoint: url.endpoint.to_string(),
            attempts: attempt,
            source: cause(&err).into(),
        };
        if !super::sqlx_errors::is_transient(&err) {
            return Err(StoreError::Other(
                format!(
                    "[database] connection: the {} server at {} refused the connection: {}",
                    url.kind,
                    url.endpoint,
                    cause(&err)
                )
                .into(),
            ));
        }
        if options
            .connect_attempts
            .is_some_and(|n| attempt >= n.max(1))
        {
            return Err(unreachable());
        }
        tracing::warn!(
            endpoint = %url.endpoint,
            error = %cause(&err),
            attempt,
            "the database server does not answer; trying again in {} s",
            options.retry_interval.as_secs_f64()
        );
        tokio::time::sleep(options.retry_interval).await;
    }
}

/// The innermost message of an error (sqlx wraps the I/O error).
fn cause(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn dialects_render_placeholders_and_tokens() {
        let template =
            "UPDATE nodes SET state = ?{state} WHERE uuid = ? ORDER BY started_at DESC{nulls_last}";
        assert_eq!(
            postgres::DIALECT.sql(template),
            "UPDATE nodes SET state = $1::node_state WHERE uuid = $2 ORDER BY started_at DESC NULLS LAST"
        );
        assert_eq!(
            mysql::DIALECT.sql(template),
            "UPDATE nodes SET state = ? WHERE uuid = ? ORDER BY started_at DESC"
        );
    }

    #[test]
    fn ddl_files_split_into_statements() {
        let text =
            "-- header\nCREATE TABLE a (x INT);\n\n-- b\nCREATE TABLE b (\n  y INT\n);\n-- end\n";
        assert_eq!(
            ddl_statements(text),
            [
                "-- header\nCREATE TABLE a (x INT)",
                "-- b\nCREATE TABLE b (\n  y INT\n)"
            ]
        );
        for dialect in [&postgres::DIALECT, &mysql::DIALECT] {
            let statements = (dialect.base_ddl)();
            assert!(
                statements
                    .iter()
                    .any(|s| s.contains("CREATE TABLE alembic_version")),
                "{statements:?}"
            );
        }
        // Migration 2's files: every index, and nothing but indexes.
        for (dialect, indexes) in [(&postgres::DIALECT, 6), (&mysql::DIALECT, 3)] {
            let migrations = (dialect.migrations)();
            // Migration 3, the lease table, 4, the history, and 5, the
            // rules' version counter, follow, each creating its table.
            let tables = [
                "inspector_leases",
                "inspector_history",
                "inspector_rules_version",
            ];
            assert_eq!(migrations.len(), 1 + tables.len());
            for (migration, table) in migrations[1..].iter().zip(tables) {
                let create = format!("CREATE TABLE IF NOT EXISTS {table}");
                assert!(
                    migration.statements.iter().any(|s| s.contains(&create)),
                    "{:?}",
                    migration.statements
                );
            }
            let statements = migrations[0].statements;
            assert_eq!(statements.len(), indexes, "{statements:?}");
            assert!(
                statements
                    .iter()
                    .all(|s| s.lines().last().unwrap().starts_with("CREATE INDEX")),
                "{statements:?}"
            );
        }
    }

    #[tokio::test]
    async fn transient_failures_are_retried_then_reported() {
        let mut calls = 0;
        let deadlock = || {
            StoreError::Unavailable(Box::new(sqlx::Error::Io(
                std::io::ErrorKind::ConnectionReset.into(),
            )))
        };
        let outcome: Result<u32> = retrying(|| {
            calls += 1;
            let n = calls;
            async move { if n < 3 { Err(deadlock()) } else { Ok(n) } }
        })
        .await;
        assert_eq!(outcome.unwrap(), 3);
        let mut calls = 0;
        let outcome: Result<()> = retrying(|| {
            calls += 1;
            async { Err(deadlock()) }
        })
        .await;
        assert!(matches!(outcome, Err(StoreError::Unavailable(_))));
        assert_eq!(calls, TRIES);
        let mut calls = 0;
        let outcome: Result<()> = retrying(|| {
            calls += 1;
            async { Err(StoreError::node_conflict("x")) }
        })
        .await;
        assert!(matches!(outcome, Err(StoreError::Conflict { .. })));
        assert_eq!(calls, 1);
    }
}
