//! SQLite backend: WAL, a busy timeout, `BEGIN IMMEDIATE` for every
//! read-then-write transaction (a deferred one can fail with SQLITE_BUSY on
//! upgrade even with a busy timeout), and short transactions. Writes go
//! through sqlx, with the implementation the servers use
//! (`sqlx_backend.rs`), except an introspection's own when they need not
//! wait for a lock (`sqlite_write`); reads run on the caller's thread
//! (`sqlite_read`).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use inspector_core::state::State;
use inspector_core::timestamp;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use time::PrimitiveDateTime;
use uuid::Uuid;

use super::leases::{LeaseSql, SQLITE};
use super::schema::{MIGRATIONS, MIGRATIONS_TABLE, MigrationReport, SQLITE_BASE};
use super::server::Dialect;
use super::sqlite_read::{ActiveFilter, Readers};
use super::sqlite_write::InlineWriter;
use super::{
    KeepRun, LeaseRecord, ListQuery, NodeRecord, Result, RuleRecord, RuleSummary, RulesVersion,
    RunRecord, StoreBackend, StoreError, StoreFuture, StoreOptions, TimestampPrecision,
};

// The writes, compiled against SQLite (see `sqlx_backend.rs`).
#[allow(
    clippy::duplicate_mod,
    reason = "compiled once per database on purpose"
)]
#[path = "sqlx_backend.rs"]
mod writer;

type Db = sqlx::Sqlite;

/// Timestamps are stored as text, in the form upstream's SQLAlchemy writes.
fn db_time(at: PrimitiveDateTime) -> String {
    timestamp::to_db(at)
}

const LEASE_SQL: LeaseSql = SQLITE;

const DIALECT: Dialect = Dialect {
    numbered_params: false,
    state_cast: "",
    nulls_last: "",
    upsert_data: "ON CONFLICT (uuid, processed) DO UPDATE SET data = excluded.data",
    count_tables: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
    migrations_table: MIGRATIONS_TABLE,
    base_ddl: || SQLITE_BASE.to_vec(),
    migrations: || MIGRATIONS,
    precision: TimestampPrecision::Microseconds,
    serialize_rules: None,
    begin_write: Some("BEGIN IMMEDIATE"),
    // BEGIN IMMEDIATE already makes the upgrade the only writer.
    upgrade_lock: None,
    upgrade_unlock: None,
    sized_varchar: false,
    narrow_text: false,
    nul_free: false,
    case_blind_keys: false,
};

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SqliteStore {
    writer: writer::SqlxStore,
    /// An introspection's writes, when they need not wait (`sqlite_write`).
    inline: InlineWriter,
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

/// Whether a connection coming back to the pool can serve again. A
/// transaction dropped without commit is rolled back by the connection's
/// worker; when SQLite had already rolled it back itself (SQLITE_FULL, an
/// I/O error: the commit failed), that ROLLBACK fails and sqlx still counts
/// the connection as inside a transaction, so every later `BEGIN IMMEDIATE`
/// on it would fail. Such a connection is closed (the pool opens a fresh
/// one). The ping lets the queued rollback run first; it is only paid after
/// a transaction that did not commit.
async fn still_usable(conn: &mut sqlx::SqliteConnection) -> sqlx::Result<bool> {
    use sqlx::Connection;
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    conn.ping().await?;
    Ok(!conn.is_in_transaction())
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
            .after_release(|conn, _| Box::pin(still_usable(conn)))
            .max_connections(options.max_connections.max(1))
            .connect_with(connect)
            .await?;
        let inline = InlineWriter::open(&path, &DIALECT, &LEASE_SQL)?;
        Ok(Self {
            writer: writer::SqlxStore::new(pool),
            inline,
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
}

/// Reads go to the readers, everything else to the writer.
impl StoreBackend for SqliteStore {
    fn close(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            self.readers.close();
            self.inline.close();
            self.writer.close().await;
        })
    }

    fn upgrade(&self) -> StoreFuture<'_, MigrationReport> {
        self.writer.upgrade()
    }

    fn acquire_lease<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            self.inline
                .acquire_lease(name, holder, ttl)
                .or_wait(|| self.writer.acquire_lease(name, holder, ttl))
                .await
        })
    }

    fn renew_leases<'a>(&'a self, holder: &'a str, ttl: Duration) -> StoreFuture<'a, Vec<String>> {
        self.writer.renew_leases(holder, ttl)
    }

    fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            self.inline
                .release_lease(name, holder)
                .or_wait(|| self.writer.release_lease(name, holder))
                .await
        })
    }

    fn release_all_leases<'a>(&'a self, holder: &'a str) -> StoreFuture<'a, u64> {
        self.writer.release_all_leases(holder)
    }

    // Rare reads: the writer's pool serves them.
    fn runs<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Vec<RunRecord>> {
        self.writer.runs(uuid)
    }

    fn run_data<'a>(
        &'a self,
        uuid: &'a str,
        id: &'a str,
    ) -> StoreFuture<'a, Option<Option<String>>> {
        self.writer.run_data(uuid, id)
    }

    fn take_expired_leases<'a>(
        &'a self,
        prefix: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Vec<LeaseRecord>> {
        self.writer.take_expired_leases(prefix, holder, ttl)
    }

    fn leases<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<LeaseRecord>> {
        self.writer.leases(prefix)
    }

    fn check_schema(&self) -> StoreFuture<'_, ()> {
        self.writer.check_schema()
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
            self.inline
                .add_node(node, attributes)
                .or_wait(|| self.writer.add_node(node, attributes))
                .await
        })
    }

    fn update_state<'a>(&'a self, uuid: &'a str, from: State, to: State) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.inline
                .update_state(uuid, from, to)
                .or_wait(|| self.writer.update_state(uuid, from, to))
                .await
        })
    }

    fn finish_keeping<'a>(
        &'a self,
        uuid: &'a str,
        from: State,
        to: State,
        finished_at: PrimitiveDateTime,
        error: Option<&'a str>,
        keep: Option<KeepRun<'a>>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.inline
                .finish_keeping(uuid, from, to, finished_at, error, keep)
                .or_wait(|| {
                    self.writer
                        .finish_keeping(uuid, from, to, finished_at, error, keep)
                })
                .await
        })
    }

    fn set_started_at<'a>(
        &'a self,
        uuid: &'a str,
        started_at: PrimitiveDateTime,
    ) -> StoreFuture<'a, ()> {
        self.writer.set_started_at(uuid, started_at)
    }

    fn delete_node<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, ()> {
        self.writer.delete_node(uuid)
    }

    fn add_attributes<'a>(
        &'a self,
        uuid: &'a str,
        name: &'a str,
        values: &'a [String],
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.inline
                .add_attributes(uuid, name, values)
                .or_wait(|| self.writer.add_attributes(uuid, name, values))
                .await
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
            self.inline
                .store_data(uuid, processed, data)
                .or_wait(|| self.writer.store_data(uuid, processed, data))
                .await
        })
    }

    fn get_data<'a>(&'a self, uuid: &'a str, processed: bool) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move { self.readers.get_data(uuid, processed) })
    }

    fn create_rule<'a>(&'a self, rule: &'a RuleRecord) -> StoreFuture<'a, ()> {
        self.writer.create_rule(rule)
    }

    fn list_rules(&self) -> StoreFuture<'_, Vec<RuleSummary>> {
        Box::pin(async move { self.readers.list_rules() })
    }

    fn all_rules(&self) -> StoreFuture<'_, Vec<RuleRecord>> {
        Box::pin(async move { self.read_in_background(|r| r.rules_where(None)).await })
    }

    fn rules_version(&self) -> StoreFuture<'_, RulesVersion> {
        Box::pin(async move { self.readers.rules_version() })
    }

    fn get_rule<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Option<RuleRecord>> {
        Box::pin(async move { Ok(self.readers.rules_where(Some(uuid))?.into_iter().next()) })
    }

    fn delete_rule<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, bool> {
        self.writer.delete_rule(uuid)
    }

    fn delete_all_rules(&self) -> StoreFuture<'_, ()> {
        self.writer.delete_all_rules()
    }

    fn read_page<'a>(
        &'a self,
        table: &'static super::bulk::Table,
        after: Option<&'a [super::bulk::Cell]>,
        limit: u32,
    ) -> StoreFuture<'a, Vec<super::bulk::Row>> {
        self.writer.read_page(table, after, limit)
    }

    fn count_rows(&self, table: &'static super::bulk::Table) -> StoreFuture<'_, u64> {
        self.writer.count_rows(table)
    }

    fn has_table(&self, table: &'static super::bulk::Table) -> StoreFuture<'_, bool> {
        self.writer.has_table(table)
    }

    fn begin_load(&self) -> StoreFuture<'_, Box<dyn super::bulk::BulkLoad>> {
        self.writer.begin_load()
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;
    use crate::store::{self, Store, StoreOptions};

    async fn open_upgraded(url: &str) -> Store {
        let options = StoreOptions {
            max_connections: 4,
            ..StoreOptions::default()
        };
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

    /// A node waiting for its ramdisk since 2026-01-01.
    fn waiting_node(uuid: &str) -> crate::store::NodeRecord {
        crate::store::NodeRecord {
            uuid: uuid.into(),
            state: inspector_core::state::State::Waiting,
            started_at: Some(time::macros::datetime!(2026-01-01 00:00:00)),
            finished_at: None,
            error: None,
            manage_boot: true,
        }
    }

    mod file_contract {
        crate::store::contract::store_contract!(super::file_store);
    }

    mod temporary_contract {
        crate::store::contract::store_contract!(super::temporary_store);
    }

    /// A page after a marker seeks the (started_at, uuid) index to the
    /// marker instead of scanning every newer status: the plan SQLite
    /// chooses for the list statement, with and without a state filter.
    #[tokio::test]
    async fn a_page_after_a_marker_seeks_the_index() {
        use inspector_core::state::State;
        use time::macros::datetime;

        use crate::store::{ListQuery, NodeRecord, sqlite_read::list_tail};

        let (_store, dir) = file_store().await;
        let conn = rusqlite::Connection::open(dir.path().join("inspector.sqlite")).unwrap();
        let marker = NodeRecord {
            uuid: "a1b2c3d4-0000-4000-8000-000000000001".into(),
            state: State::Finished,
            started_at: Some(datetime!(2026-12-07 03:00:00.5)),
            finished_at: None,
            error: None,
            manage_boot: true,
        };
        for states in [vec![], vec![State::Finished, State::Error]] {
            let query = ListQuery {
                states,
                marker: Some(marker.uuid.clone()),
                limit: 1000,
            };
            let (tail, values) = list_tail(&query, Some(&marker));
            let mut plan = conn
                .prepare(&format!("EXPLAIN QUERY PLAN SELECT * FROM nodes {tail}"))
                .unwrap();
            let steps: Vec<String> = plan
                .query_map(rusqlite::params_from_iter(values), |r| r.get(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            assert!(
                steps.iter().any(|step| step.starts_with(
                    "SEARCH nodes USING INDEX ix_nodes_started_at_uuid ((started_at,uuid)<"
                )),
                "{query:?}: {steps:?}"
            );
            assert!(
                !steps.iter().any(|step| step.contains("TEMP B-TREE")),
                "{query:?}: {steps:?}"
            );
        }
    }

    /// An inline write that finds the write lock taken (here by another
    /// connection's open transaction) is not refused and does not wait on
    /// the caller's thread: sqlx's worker waits for the lock, and the write
    /// lands once the transaction ends. Each of the inline writes is tried.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_inline_write_that_finds_the_lock_taken_waits_for_it() {
        use std::time::{Duration, Instant};

        use inspector_core::state::State;
        use time::macros::datetime;

        use crate::store::KeepRun;

        let (store, dir) = file_store().await;
        let uuid = "0c000000-0000-4000-8000-000000000003";
        store
            .add_node(&waiting_node(uuid), &[("mac", "11:22:33:44:55:66")])
            .await
            .unwrap();
        let path = dir.path().join("inspector.sqlite");
        let hold = Duration::from_millis(300);
        // The other writer: takes the lock, keeps it `hold`, then commits.
        let holding = || {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            std::thread::spawn(move || {
                std::thread::sleep(hold);
                conn.execute_batch("COMMIT").unwrap();
            })
        };

        let other = holding();
        let started = Instant::now();
        assert!(
            store
                .acquire_lease("node-x", "me", Duration::from_secs(60))
                .await
                .unwrap()
        );
        assert!(started.elapsed() >= hold - Duration::from_millis(50));
        other.join().unwrap();

        let second = "0c000000-0000-4000-8000-000000000005";
        let other = holding();
        store
            .add_node(&waiting_node(second), &[("bmc_address", "192.0.2.5")])
            .await
            .unwrap();
        other.join().unwrap();
        let other = holding();
        let mac = "66:55:44:33:22:11".to_string();
        store
            .add_attributes(second, "mac", std::slice::from_ref(&mac))
            .await
            .unwrap();
        other.join().unwrap();
        assert_eq!(
            store.node_attributes(second).await.unwrap(),
            [
                ("bmc_address".into(), "192.0.2.5".into()),
                ("mac".into(), mac)
            ]
        );

        let other = holding();
        store.store_data(uuid, true, r#"{"a": 1}"#).await.unwrap();
        other.join().unwrap();
        assert_eq!(
            store.get_data(uuid, true).await.unwrap().as_deref(),
            Some(r#"{"a": 1}"#)
        );

        let other = holding();
        store
            .update_state(uuid, State::Waiting, State::Processing)
            .await
            .unwrap();
        other.join().unwrap();

        let other = holding();
        let keep = KeepRun {
            id: "0d000000-0000-4000-8000-000000000004",
            with_data: true,
            depth: 5,
        };
        store
            .finish_keeping(
                uuid,
                State::Processing,
                State::Finished,
                datetime!(2026-01-01 00:01:00),
                None,
                Some(keep),
            )
            .await
            .unwrap();
        other.join().unwrap();
        let node = store.get_node(uuid).await.unwrap().unwrap();
        assert_eq!(node.state, State::Finished);
        let runs = store.runs(uuid).await.unwrap();
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert!(runs[0].has_data);

        let other = holding();
        assert!(store.release_lease("node-x", "me").await.unwrap());
        other.join().unwrap();
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

        let store = SqliteStore::open(
            "sqlite://",
            &StoreOptions {
                max_connections: 2,
                ..StoreOptions::default()
            },
        )
        .await
        .unwrap();
        store.upgrade().await.unwrap();
        let options = |uuid: &'static str| {
            let pool = store.writer.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM options WHERE uuid = $1")
                    .bind(uuid)
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        let add_option = |uuid: &'static str| {
            let pool = store.writer.pool.clone();
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
            store.add_node(&waiting_node(uuid), &[]).await.unwrap();
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
