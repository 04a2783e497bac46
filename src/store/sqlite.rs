//! SQLite backend: WAL, a busy timeout, `BEGIN IMMEDIATE` for every
//! read-then-write transaction (a deferred one can fail with SQLITE_BUSY on
//! upgrade even with a busy timeout), and short transactions. Writes go
//! through sqlx; reads run on the caller's thread (`sqlite_read`).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use inspector_core::ids::uuid_hex;
use inspector_core::state::State;
use inspector_core::timestamp;
use serde_json::Value;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row, Sqlite, Transaction};
use time::PrimitiveDateTime;
use uuid::Uuid;

use super::schema::{
    self, ALEMBIC_HEAD, BASE_DESCRIPTION, BASE_VERSION, MIGRATIONS, MIGRATIONS_TABLE,
    MigrationReport,
};
use super::sqlite_read::{ActiveFilter, FIND_RULE, Readers};
use super::{
    ListQuery, NodeRecord, Result, RuleRecord, RuleSummary, StoreBackend, StoreError, StoreFuture,
    StoreOptions,
};
use super::{bulk, sqlite_bulk};

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            // No connection could be had: the database is out of reach or
            // every connection is busy for longer than the pool waits.
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => StoreError::Unavailable(err.into()),
            other => StoreError::Other(other.into()),
        }
    }
}

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    readers: Arc<Readers>,
    /// Declared last so that it is dropped after every connection is closed.
    _scratch: Option<Arc<ScratchFile>>,
}

/// The file behind `sqlite://`: upstream's URL for an in-memory database.
/// An in-memory database cannot be shared by sqlx's connections and the
/// readers' own, so it lives in a temporary file removed with the store.
struct ScratchFile(PathBuf);

impl ScratchFile {
    fn new() -> Self {
        let name = format!("inspector-{}.sqlite", Uuid::new_v4());
        Self(std::env::temp_dir().join(name))
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Where an oslo.db SQLite URL points: `sqlite:///rel`, `sqlite:////abs`,
/// `sqlite://` (memory). A dialect suffix (`sqlite+pysqlite`) and query
/// parameters are accepted and ignored.
fn sqlite_path(url: &str) -> Result<Option<String>> {
    let rest = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(|| StoreError::Url(url.into(), "expected sqlite:///PATH".into()))?;
    let rest = rest.split('?').next().unwrap_or("");
    if rest.is_empty() {
        return Ok(None);
    }
    // The host part of an SQLite URL is empty: "sqlite:///x" leaves "/x".
    let path = rest.strip_prefix('/').ok_or_else(|| {
        StoreError::Url(url.into(), "expected sqlite:///PATH (three slashes)".into())
    })?;
    if path.is_empty() {
        return Ok(None);
    }
    Ok(Some(path.to_string()))
}

impl SqliteStore {
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Self> {
        let scratch = match sqlite_path(url)? {
            Some(_) => None,
            None => Some(Arc::new(ScratchFile::new())),
        };
        let path = match (&scratch, sqlite_path(url)?) {
            (Some(scratch), _) => scratch.0.clone(),
            (None, path) => PathBuf::from(path.unwrap_or_default()),
        };
        let connect = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        // No ping before handing a connection out: an SQLite connection is a
        // file handle that cannot drop like a network one, and the ping is a
        // round trip to the connection's worker thread that doubled the cost
        // of a one-query request (docs/benchmarks.md).
        let pool = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(options.max_connections.max(1))
            .connect_with(connect)
            .await?;
        Ok(Self {
            pool,
            readers: Arc::new(Readers::new(path, BUSY_TIMEOUT)),
            _scratch: scratch,
        })
    }

    /// Reads that may return many rows run on the blocking pool, so a large
    /// result never holds up a runtime thread.
    async fn read_in_background<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Readers) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || read(&readers))
            .await
            .map_err(|e| StoreError::Other(format!("database read did not complete: {e}").into()))?
    }

    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn table_exists(tx: &mut Transaction<'static, Sqlite>, name: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1",
        )
        .bind(name)
        .fetch_one(&mut **tx)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    async fn alembic_revision(tx: &mut Transaction<'static, Sqlite>) -> Result<Option<String>> {
        if !Self::table_exists(tx, "alembic_version").await? {
            return Ok(None);
        }
        let row = sqlx::query("SELECT version_num FROM alembic_version")
            .fetch_optional(&mut **tx)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("version_num")?),
            None => None,
        })
    }

    async fn delete_node_rows(tx: &mut Transaction<'static, Sqlite>, uuid: &str) -> Result<()> {
        for sql in [
            "DELETE FROM attributes WHERE node_uuid = $1",
            "DELETE FROM options WHERE uuid = $1",
            "DELETE FROM introspection_data WHERE uuid = $1",
            "DELETE FROM nodes WHERE uuid = $1",
        ] {
            sqlx::query(sql).bind(uuid).execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn insert_attributes(
        tx: &mut Transaction<'static, Sqlite>,
        uuid: &str,
        attributes: impl Iterator<Item = (&str, &str)>,
    ) -> Result<()> {
        for (name, value) in attributes {
            sqlx::query(
                "INSERT INTO attributes (uuid, node_uuid, name, value) VALUES ($1, $2, $3, $4)",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(uuid)
            .bind(name)
            .bind(value)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// The stored UUID of the rule named by any form of its UUID.
    async fn find_rule(
        tx: &mut Transaction<'static, Sqlite>,
        uuid: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(FIND_RULE)
            .bind(uuid)
            .bind(uuid_hex(uuid))
            .fetch_optional(&mut **tx)
            .await?)
    }
}

impl StoreBackend for SqliteStore {
    fn close(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            self.readers.close();
            self.pool.close().await;
        })
    }

    fn upgrade(&self) -> StoreFuture<'_, MigrationReport> {
        Box::pin(async move {
            let mut report = MigrationReport::default();
            let mut tx = self.write_tx().await?;
            let now = timestamp::to_db(now_utc());
            match Self::alembic_revision(&mut tx).await? {
                Some(rev) if rev == ALEMBIC_HEAD => {}
                Some(rev) => {
                    return Err(StoreError::Schema(format!(
                        "the database is at ironic-inspector alembic revision {rev}, not at the last one \
                             ({ALEMBIC_HEAD}); run ironic-inspector-dbsync upgrade with ironic-inspector 12.x first"
                    )));
                }
                None => {
                    if Self::table_exists(&mut tx, "nodes").await? {
                        return Err(StoreError::Schema(
                                "the database has a nodes table but no alembic_version: it was not made by \
                                 ironic-inspector or inspector"
                                    .into(),
                            ));
                    }
                    for statement in schema::SQLITE_BASE {
                        sqlx::query(AssertSqlSafe(*statement))
                            .execute(&mut *tx)
                            .await?;
                    }
                    sqlx::query("INSERT INTO alembic_version (version_num) VALUES ($1)")
                        .bind(ALEMBIC_HEAD)
                        .execute(&mut *tx)
                        .await?;
                    report.created_schema = true;
                }
            }
            sqlx::query(MIGRATIONS_TABLE).execute(&mut *tx).await?;
            let applied: Vec<i64> = sqlx::query("SELECT version FROM inspector_migrations")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get("version"))
                .collect::<std::result::Result<_, _>>()?;
            if !applied.contains(&BASE_VERSION) {
                report.adopted_upstream = !report.created_schema;
                sqlx::query("INSERT INTO inspector_migrations (version, description, applied_at) VALUES ($1, $2, $3)")
                        .bind(BASE_VERSION)
                        .bind(BASE_DESCRIPTION)
                        .bind(&now)
                        .execute(&mut *tx)
                        .await?;
            }
            for migration in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
                for statement in migration.statements {
                    sqlx::query(AssertSqlSafe(*statement))
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("INSERT INTO inspector_migrations (version, description, applied_at) VALUES ($1, $2, $3)")
                        .bind(migration.version)
                        .bind(migration.description)
                        .bind(&now)
                        .execute(&mut *tx)
                        .await?;
                report
                    .applied
                    .push(format!("{}: {}", migration.version, migration.description));
            }
            tx.commit().await?;
            Ok(report)
        })
    }

    fn check_schema(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            if Self::alembic_revision(&mut tx).await?.as_deref() != Some(ALEMBIC_HEAD) {
                return Err(StoreError::Schema(
                    "the database schema is missing or outdated; run `inspector db upgrade`".into(),
                ));
            }
            if !Self::table_exists(&mut tx, "inspector_migrations").await? {
                return Err(StoreError::Schema(
                    "the database has not been upgraded by inspector; run `inspector db upgrade`"
                        .into(),
                ));
            }
            let row = sqlx::query("SELECT MAX(version) AS v FROM inspector_migrations")
                .fetch_one(&mut *tx)
                .await?;
            let current: Option<i64> = row.try_get("v")?;
            if current.unwrap_or(0) < schema::latest_version() {
                return Err(StoreError::Schema(
                    "the database schema is outdated; run `inspector db upgrade`".into(),
                ));
            }
            Ok(())
        })
    }

    fn get_node<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Option<NodeRecord>> {
        Box::pin(async move { self.readers.get_node(uuid) })
    }

    fn list_nodes<'a>(&'a self, query: &'a ListQuery) -> StoreFuture<'a, Vec<NodeRecord>> {
        Box::pin(async move {
            let query = query.clone();
            self.read_in_background(move |r| r.list_nodes(&query)).await
        })
    }

    fn add_node<'a>(
        &'a self,
        node: &'a NodeRecord,
        attributes: &'a [(&'a str, &'a str)],
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = self.write_tx().await?;
            Self::delete_node_rows(&mut tx, &node.uuid).await?;
            sqlx::query(
                "INSERT INTO nodes (uuid, state, started_at, finished_at, error, manage_boot) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&node.uuid)
            .bind(node.state.as_str())
            .bind(node.started_at.map(timestamp::to_db))
            .bind(node.finished_at.map(timestamp::to_db))
            .bind(&node.error)
            .bind(node.manage_boot)
            .execute(&mut *tx)
            .await?;
            Self::insert_attributes(
                &mut tx,
                &node.uuid,
                attributes.iter().copied().filter(|(_, v)| !v.is_empty()),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn update_state<'a>(&'a self, uuid: &'a str, from: State, to: State) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let done = sqlx::query("UPDATE nodes SET state = $1 WHERE uuid = $2 AND state = $3")
                .bind(to.as_str())
                .bind(uuid)
                .bind(from.as_str())
                .execute(&self.pool)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::node_conflict(uuid));
            }
            Ok(())
        })
    }

    fn finish<'a>(
        &'a self,
        uuid: &'a str,
        from: State,
        to: State,
        finished_at: PrimitiveDateTime,
        error: Option<&'a str>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = self.write_tx().await?;
            sqlx::query("DELETE FROM attributes WHERE node_uuid = $1")
                .bind(uuid)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM options WHERE uuid = $1")
                .bind(uuid)
                .execute(&mut *tx)
                .await?;
            let done = sqlx::query(
                    "UPDATE nodes SET state = $1, finished_at = $2, error = $3 WHERE uuid = $4 AND state = $5",
                )
                .bind(to.as_str())
                .bind(timestamp::to_db(finished_at))
                .bind(error)
                .bind(uuid)
                .bind(from.as_str())
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::node_conflict(uuid));
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn set_started_at<'a>(
        &'a self,
        uuid: &'a str,
        started_at: PrimitiveDateTime,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let done = sqlx::query("UPDATE nodes SET started_at = $1 WHERE uuid = $2")
                .bind(timestamp::to_db(started_at))
                .bind(uuid)
                .execute(&self.pool)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound {
                    what: "node",
                    id: uuid.to_string(),
                });
            }
            Ok(())
        })
    }

    fn delete_node<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = self.write_tx().await?;
            Self::delete_node_rows(&mut tx, uuid).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn add_attributes<'a>(
        &'a self,
        uuid: &'a str,
        name: &'a str,
        values: &'a [String],
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = self.write_tx().await?;
            Self::insert_attributes(
                &mut tx,
                uuid,
                values
                    .iter()
                    .filter(|v| !v.is_empty())
                    .map(|v| (name, v.as_str())),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn node_attributes<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Vec<(String, String)>> {
        Box::pin(async move { self.readers.node_attributes(uuid) })
    }

    fn find_by_attributes<'a>(
        &'a self,
        pairs: &'a [(String, String)],
    ) -> StoreFuture<'a, Vec<(String, u32)>> {
        Box::pin(async move { self.readers.find_by_attributes(pairs) })
    }

    fn active_macs(&self) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move { self.read_in_background(|r| r.active_macs()).await })
    }

    fn active_started_before(&self, before: PrimitiveDateTime) -> StoreFuture<'_, Vec<NodeRecord>> {
        Box::pin(async move {
            self.read_in_background(move |r| r.active_nodes(&ActiveFilter::StartedBefore(before)))
                .await
        })
    }

    fn active_nodes_in<'a>(&'a self, states: &'a [State]) -> StoreFuture<'a, Vec<NodeRecord>> {
        Box::pin(async move {
            let states = states.to_vec();
            self.read_in_background(move |r| r.active_nodes(&ActiveFilter::InStates(states)))
                .await
        })
    }

    fn count_by_state(&self) -> StoreFuture<'_, Vec<(String, u64)>> {
        Box::pin(async move { self.readers.count_by_state() })
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.readers.ping() })
    }

    fn all_node_uuids(&self) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move { self.read_in_background(|r| r.all_node_uuids()).await })
    }

    fn any_active(&self) -> StoreFuture<'_, bool> {
        Box::pin(async move { self.readers.any_active() })
    }

    fn store_data<'a>(
        &'a self,
        uuid: &'a str,
        processed: bool,
        data: &'a str,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO introspection_data (uuid, processed, data) VALUES ($1, $2, $3) \
                     ON CONFLICT (uuid, processed) DO UPDATE SET data = excluded.data",
            )
            .bind(uuid)
            .bind(processed)
            .bind(data)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn get_data<'a>(&'a self, uuid: &'a str, processed: bool) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move { self.readers.get_data(uuid, processed) })
    }

    fn create_rule<'a>(&'a self, rule: &'a RuleRecord) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut tx = self.write_tx().await?;
            // The same UUID in another form is the same rule.
            if Self::find_rule(&mut tx, &rule.uuid).await?.is_some() {
                return Err(StoreError::Duplicate {
                    what: "rule",
                    id: rule.uuid.clone(),
                });
            }
            let inserted = sqlx::query(
                    "INSERT INTO rules (uuid, created_at, description, disabled, scope) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&rule.uuid)
                .bind(timestamp::to_db(rule.created_at))
                .bind(&rule.description)
                .bind(false)
                .bind(&rule.scope)
                .execute(&mut *tx)
                .await;
            if let Err(err) = inserted {
                if err
                    .as_database_error()
                    .is_some_and(|e| e.is_unique_violation())
                {
                    return Err(StoreError::Duplicate {
                        what: "rule",
                        id: rule.uuid.clone(),
                    });
                }
                return Err(err.into());
            }
            for cond in &rule.conditions {
                sqlx::query(
                    "INSERT INTO rule_conditions (rule, op, multiple, invert, field, params) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&rule.uuid)
                .bind(&cond.op)
                .bind(&cond.multiple)
                .bind(cond.invert)
                .bind(&cond.field)
                .bind(Value::Object(cond.params.clone()).to_string())
                .execute(&mut *tx)
                .await?;
            }
            for action in &rule.actions {
                sqlx::query("INSERT INTO rule_actions (rule, action, params) VALUES ($1, $2, $3)")
                    .bind(&rule.uuid)
                    .bind(&action.action)
                    .bind(Value::Object(action.params.clone()).to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn list_rules(&self) -> StoreFuture<'_, Vec<RuleSummary>> {
        Box::pin(async move { self.readers.list_rules() })
    }

    fn all_rules(&self) -> StoreFuture<'_, Vec<RuleRecord>> {
        Box::pin(async move { self.read_in_background(|r| r.rules_where(None)).await })
    }

    fn get_rule<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Option<RuleRecord>> {
        Box::pin(async move { Ok(self.readers.rules_where(Some(uuid))?.into_iter().next()) })
    }

    fn delete_rule<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut tx = self.write_tx().await?;
            let Some(stored) = Self::find_rule(&mut tx, uuid).await? else {
                return Ok(false);
            };
            sqlx::query("DELETE FROM rule_conditions WHERE rule = $1")
                .bind(&stored)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM rule_actions WHERE rule = $1")
                .bind(&stored)
                .execute(&mut *tx)
                .await?;
            let done = sqlx::query("DELETE FROM rules WHERE uuid = $1")
                .bind(&stored)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(done.rows_affected() > 0)
        })
    }

    fn delete_all_rules(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut tx = self.write_tx().await?;
            for sql in [
                "DELETE FROM rule_conditions",
                "DELETE FROM rule_actions",
                "DELETE FROM rules",
            ] {
                sqlx::query(sql).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn read_page<'a>(
        &'a self,
        table: &'static bulk::Table,
        after: Option<&'a [bulk::Cell]>,
        limit: u32,
    ) -> StoreFuture<'a, Vec<bulk::Row>> {
        Box::pin(sqlite_bulk::read_page(&self.pool, table, after, limit))
    }

    fn count_rows(&self, table: &'static bulk::Table) -> StoreFuture<'_, u64> {
        Box::pin(sqlite_bulk::count_rows(&self.pool, table))
    }

    fn begin_load(&self) -> StoreFuture<'_, Box<dyn bulk::BulkLoad>> {
        Box::pin(async move {
            let load: Box<dyn bulk::BulkLoad> = Box::new(sqlite_bulk::SqliteLoad {
                tx: self.write_tx().await?,
            });
            Ok(load)
        })
    }
}

fn now_utc() -> PrimitiveDateTime {
    let now = time::OffsetDateTime::now_utc();
    timestamp::truncate_to_micros(PrimitiveDateTime::new(now.date(), now.time()))
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;
    use crate::store::{self, Store, StoreOptions};

    async fn open_upgraded(url: &str) -> Store {
        let options = StoreOptions { max_connections: 4 };
        let store = store::open(url, &options).await.unwrap();
        store.upgrade().await.unwrap();
        store
    }

    /// A database file in a directory removed with the guard.
    async fn file_store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inspector.sqlite");
        let url = format!("sqlite:///{}", path.display());
        (open_upgraded(&url).await, dir)
    }

    /// `sqlite://`: upstream's in-memory URL (a scratch file here).
    async fn temporary_store() -> (Store, ()) {
        (open_upgraded("sqlite://").await, ())
    }

    mod file_contract {
        crate::store::contract::store_contract!(super::file_store);
    }

    mod temporary_contract {
        crate::store::contract::store_contract!(super::temporary_store);
    }

    /// The store has no options API: `options` rows only come from a
    /// database upstream wrote, and they must go with the introspection
    /// they belong to (a new start, its end, the node's deletion), as
    /// upstream's own code removed them.
    #[tokio::test]
    async fn upstream_options_rows_go_with_their_introspection() {
        use inspector_core::state::State;
        use time::macros::datetime;

        use super::{SqliteStore, StoreBackend};
        use crate::store::NodeRecord;

        let store = SqliteStore::open("sqlite://", &StoreOptions { max_connections: 2 })
            .await
            .unwrap();
        store.upgrade().await.unwrap();
        let options = |uuid: &'static str| {
            let pool = store.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM options WHERE uuid = $1")
                    .bind(uuid)
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        let add_option = |uuid: &'static str| {
            let pool = store.pool.clone();
            async move {
                sqlx::query("INSERT INTO options (uuid, name, value) VALUES ($1, 'x', '1')")
                    .bind(uuid)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        };
        let (a, b) = (
            "0a000000-0000-4000-8000-000000000001",
            "0b000000-0000-4000-8000-000000000002",
        );
        for uuid in [a, b] {
            let row = NodeRecord {
                uuid: uuid.into(),
                state: State::Waiting,
                started_at: Some(datetime!(2026-01-01 00:00:00)),
                finished_at: None,
                error: None,
                manage_boot: true,
            };
            store.add_node(&row, &[]).await.unwrap();
            add_option(uuid).await;
        }
        store
            .finish(
                a,
                State::Waiting,
                State::Error,
                datetime!(2026-01-01 00:01:00),
                None,
            )
            .await
            .unwrap();
        assert_eq!((options(a).await, options(b).await), (0, 1));
        store.delete_node(b).await.unwrap();
        assert_eq!(options(b).await, 0);
        add_option(a).await;
        let again = NodeRecord {
            uuid: a.into(),
            state: State::Starting,
            started_at: Some(datetime!(2026-01-02 00:00:00)),
            finished_at: None,
            error: None,
            manage_boot: true,
        };
        store.add_node(&again, &[]).await.unwrap();
        assert_eq!(options(a).await, 0);
        store.close().await;
    }

    #[test]
    fn oslo_db_urls_map_to_paths() {
        assert_eq!(
            sqlite_path("sqlite:///ironic_inspector.sqlite")
                .unwrap()
                .as_deref(),
            Some("ironic_inspector.sqlite")
        );
        assert_eq!(
            sqlite_path("sqlite:////var/lib/x.db").unwrap().as_deref(),
            Some("/var/lib/x.db")
        );
        assert_eq!(
            sqlite_path("sqlite+pysqlite:////tmp/a.db?timeout=5")
                .unwrap()
                .as_deref(),
            Some("/tmp/a.db")
        );
        assert_eq!(sqlite_path("sqlite://").unwrap(), None);
        assert!(sqlite_path("sqlite://host/x.db").is_err());
    }
}
