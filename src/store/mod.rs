//! The node cache and rule store: one trait, [`StoreBackend`], with a
//! backend chosen by the `[database] connection` URL; SQLite is the embedded
//! default. Nothing here knows about HTTP.

pub mod bulk;
#[cfg(test)]
mod contract;
pub mod copy;
mod leases;
mod rows;
mod schema;
mod server;
mod sqlite;
mod sqlite_read;
mod sqlite_write;
mod sqlx_errors;
mod statements;
mod upgrade;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use inspector_core::state::State;
use serde_json::{Map, Value};
use time::PrimitiveDateTime;

pub use schema::{ALEMBIC_HEAD, MigrationReport};
pub use server::scratch::{ScratchDatabase, with_database};

/// A failure of the backend's own library, kept as the error's source.
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// Why a store operation failed, in terms every backend can report and
/// callers can tell apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row the operation needs does not exist (the list marker, the node
    /// to update).
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// A row with this key exists already.
    #[error("{what} {id} already exists")]
    Duplicate { what: &'static str, id: String },
    /// The row changed between read and write (another writer won a race).
    #[error("{what} {id} changed concurrently")]
    Conflict { what: &'static str, id: String },
    /// The database cannot serve now (busy, locked, unreachable, no free
    /// connection); the same request may succeed later.
    #[error("database error: {0}")]
    Unavailable(#[source] BackendError),
    /// The database's storage refuses writes (its disk is full, its
    /// filesystem is read-only, its file cannot be written): the failed
    /// transaction left nothing behind, and the same request succeeds once
    /// the storage is fixed, without a restart.
    #[error("the database cannot be written: {reason} ({source})")]
    StorageFault {
        reason: &'static str,
        #[source]
        source: BackendError,
    },
    /// A client's value the database cannot hold as it is (MySQL's utf8
    /// columns, a column's size); the request is at fault.
    #[error("{field} cannot be stored: {reason}")]
    Unstorable { field: String, reason: String },
    #[error("database content is invalid: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Schema(String),
    /// The `[database] connection` URL cannot be used (shown without its
    /// password).
    #[error("[database] connection {url}: {reason}", url = inspector_core::db_url::mask_password(.0), reason = .1)]
    Url(String, String),
    /// The server named by `[database] connection` did not answer at
    /// start-up, after every attempt `[database] max_retries` allows.
    #[error(
        "cannot reach the database server of [database] connection at {endpoint} \
         ({attempts} attempt(s))"
    )]
    Unreachable {
        endpoint: String,
        attempts: u32,
        #[source]
        source: BackendError,
    },
    /// Any other failure of the database.
    #[error("database error: {0}")]
    Other(#[source] BackendError),
}

impl StoreError {
    pub fn node_conflict(uuid: &str) -> Self {
        Self::Conflict {
            what: "node",
            id: uuid.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// One row of `nodes`: the status of a node's latest introspection.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRecord {
    pub uuid: String,
    pub state: State,
    pub started_at: Option<PrimitiveDateTime>,
    pub finished_at: Option<PrimitiveDateTime>,
    pub error: Option<String>,
    pub manage_boot: bool,
}

/// One finished or failed introspection of a node, as kept in its history.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// The run's own UUID.
    pub id: String,
    pub node_uuid: String,
    pub state: State,
    pub error: Option<String>,
    pub started_at: Option<PrimitiveDateTime>,
    pub finished_at: Option<PrimitiveDateTime>,
    /// Whether the run kept its processed data.
    pub has_data: bool,
}

/// How [`StoreBackend::finish_keeping`] keeps the run that ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeepRun<'a> {
    /// The run's UUID.
    pub id: &'a str,
    /// Whether the run keeps the node's stored processed data.
    pub with_data: bool,
    /// How many runs of the node are kept at most (at least 1).
    pub depth: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConditionRecord {
    pub op: String,
    pub field: String,
    pub multiple: String,
    pub invert: bool,
    pub params: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionRecord {
    pub action: String,
    pub params: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleRecord {
    pub uuid: String,
    pub created_at: PrimitiveDateTime,
    pub description: Option<String>,
    pub scope: Option<String>,
    pub conditions: Vec<ConditionRecord>,
    pub actions: Vec<ActionRecord>,
}

/// What [`StoreBackend::rules_version`] reads. Every rule write of this
/// service bumps `generation` in the same transaction; the count and the
/// newest creation time also catch most writes of a service that does not
/// know the counter (upstream, during a rolling upgrade).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesVersion {
    /// `None` in a database whose counter row is missing.
    pub generation: Option<i64>,
    pub count: i64,
    pub newest: Option<PrimitiveDateTime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleSummary {
    pub uuid: String,
    pub description: Option<String>,
    pub scope: Option<String>,
}

/// The resolution of stored timestamps. Upstream's MySQL columns are
/// `DATETIME` (whole seconds); SQLite and PostgreSQL keep microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampPrecision {
    Microseconds,
    Seconds,
}

impl TimestampPrecision {
    /// `at` as the database keeps it.
    pub fn apply(self, at: PrimitiveDateTime) -> PrimitiveDateTime {
        match self {
            Self::Microseconds => at,
            Self::Seconds => at.replace_nanosecond(0).unwrap_or(at),
        }
    }
}

/// A page request over statuses, newest first.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub states: Vec<State>,
    pub marker: Option<String>,
    pub limit: u32,
}

/// One row of `inspector_leases` as the database sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRecord {
    pub name: String,
    pub holder: String,
    /// Whether `expires_at` has passed on the database's clock.
    pub expired: bool,
}

/// Options of the `[database]` group the store honours, with oslo.db's
/// meaning and defaults.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `max_pool_size`: connections kept open (SQLite: the most open).
    pub max_connections: u32,
    /// `max_overflow`: server connections opened beyond the pool under
    /// load, closed again once idle.
    pub max_overflow: u32,
    /// `pool_timeout`: how long a request waits for a free server
    /// connection before the database counts as unavailable.
    pub pool_timeout: std::time::Duration,
    /// `connection_recycle_time`: a server connection older than this is
    /// replaced (`None`: never).
    pub recycle_after: Option<std::time::Duration>,
    /// `max_retries`: attempts to reach the server at start-up (`None`:
    /// forever).
    pub connect_attempts: Option<u32>,
    /// `retry_interval`: pause between those attempts.
    pub retry_interval: std::time::Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 5,
            max_overflow: 50,
            pool_timeout: std::time::Duration::from_secs(30),
            recycle_after: Some(std::time::Duration::from_secs(3600)),
            connect_attempts: Some(10),
            retry_interval: std::time::Duration::from_secs(10),
        }
    }
}

/// Boxed future returned by [`StoreBackend`] methods (object-safe async).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// The shared handle the rest of the service holds.
pub type Store = Arc<dyn StoreBackend>;

/// Opens the database named by an oslo.db URL (`sqlite:///relative.db`,
/// `sqlite:////absolute.db`, `sqlite://` for memory, or a PostgreSQL or
/// MySQL server: see `inspector_core::db_url`).
pub async fn open(url: &str, options: &StoreOptions) -> Result<Store> {
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    let driver = scheme.split('+').next().unwrap_or("");
    match driver {
        "sqlite" => Ok(Arc::new(sqlite::SqliteStore::open(url, options).await?)),
        "postgresql" | "postgres" | "mysql" | "mariadb" => server::open(url, options).await,
        "" => Err(StoreError::Url(url.into(), "missing scheme".into())),
        other => Err(StoreError::Url(
            url.into(),
            format!("backend {other} is not supported; use sqlite, postgresql or mysql"),
        )),
    }
}

/// What the service needs from a database: the node cache (status rows,
/// lookup attributes, stored data) and the rules. Every backend passes the
/// suite in `contract.rs`. Timestamps are UTC without offset.
pub trait StoreBackend: Send + Sync {
    /// Creates the schema or migrates it forward; safe to run repeatedly.
    fn upgrade(&self) -> StoreFuture<'_, MigrationReport>;

    /// Fails unless the schema is complete and current.
    fn check_schema(&self) -> StoreFuture<'_, ()>;

    fn get_node<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Option<NodeRecord>>;

    /// A page of nodes, newest `started_at` first (ties: larger UUID first),
    /// after the marker node; `NotFound` if the marker is not cached.
    fn list_nodes<'a>(&'a self, query: &'a ListQuery) -> StoreFuture<'a, Vec<NodeRecord>>;

    /// Replaces whatever the cache held for the node with a fresh row and its
    /// lookup attributes (empty values are skipped), wiping its options and
    /// stored data.
    fn add_node<'a>(
        &'a self,
        node: &'a NodeRecord,
        attributes: &'a [(&'a str, &'a str)],
    ) -> StoreFuture<'a, ()>;

    /// Moves the node from `from` to `to`; `Conflict` if it is no longer in
    /// `from` (or gone).
    fn update_state<'a>(&'a self, uuid: &'a str, from: State, to: State) -> StoreFuture<'a, ()>;

    /// Ends an introspection in one transaction: lookup attributes and options
    /// go, and state, `finished_at` and `error` are written together;
    /// `Conflict` (and nothing written) if the node is no longer in `from`.
    fn finish<'a>(
        &'a self,
        uuid: &'a str,
        from: State,
        to: State,
        finished_at: PrimitiveDateTime,
        error: Option<&'a str>,
    ) -> StoreFuture<'a, ()> {
        self.finish_keeping(uuid, from, to, finished_at, error, None)
    }

    /// [`Self::finish`], and in the same transaction, when `keep` says so,
    /// the node's row as it ends (and its stored processed data if
    /// `keep.with_data`) is copied into its history as run `keep.id`, the
    /// node's oldest runs beyond the newest `keep.depth` dropped.
    fn finish_keeping<'a>(
        &'a self,
        uuid: &'a str,
        from: State,
        to: State,
        finished_at: PrimitiveDateTime,
        error: Option<&'a str>,
        keep: Option<KeepRun<'a>>,
    ) -> StoreFuture<'a, ()>;

    /// Writes `started_at` (reapply); `NotFound` if the node is not cached.
    fn set_started_at<'a>(
        &'a self,
        uuid: &'a str,
        started_at: PrimitiveDateTime,
    ) -> StoreFuture<'a, ()>;

    /// Removes the node and everything cached about it, its history included.
    fn delete_node<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, ()>;

    /// Adds lookup attributes `name` = each non-empty value.
    fn add_attributes<'a>(
        &'a self,
        uuid: &'a str,
        name: &'a str,
        values: &'a [String],
    ) -> StoreFuture<'a, ()>;

    /// The node's lookup attributes as (name, value) pairs, sorted.
    fn node_attributes<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Vec<(String, String)>>;

    /// Nodes owning any of the given (name, value) attributes, with how many
    /// of the distinct non-empty pairs each owns, sorted by UUID.
    fn find_by_attributes<'a>(
        &'a self,
        pairs: &'a [(String, String)],
    ) -> StoreFuture<'a, Vec<(String, u32)>>;

    /// Every MAC that is a lookup attribute of a node under introspection.
    fn active_macs(&self) -> StoreFuture<'_, Vec<String>>;

    /// Nodes still running whose introspection started before `before`.
    fn active_started_before(&self, before: PrimitiveDateTime) -> StoreFuture<'_, Vec<NodeRecord>>;

    /// Nodes whose introspection has not finished and is in one of `states`.
    fn active_nodes_in<'a>(&'a self, states: &'a [State]) -> StoreFuture<'a, Vec<NodeRecord>>;

    /// How many cached nodes are in each state, by state name.
    fn count_by_state(&self) -> StoreFuture<'_, Vec<(String, u64)>>;

    /// A trivial query, to tell whether the database answers.
    fn ping(&self) -> StoreFuture<'_, ()>;

    /// How finely timestamps are kept: anything finer is truncated.
    fn timestamp_precision(&self) -> TimestampPrecision {
        TimestampPrecision::Microseconds
    }

    fn all_node_uuids(&self) -> StoreFuture<'_, Vec<String>>;

    /// Whether any introspection is running (not finished) right now.
    fn any_active(&self) -> StoreFuture<'_, bool>;

    /// Stores (or replaces) the node's processed or unprocessed document.
    fn store_data<'a>(
        &'a self,
        uuid: &'a str,
        processed: bool,
        data: &'a str,
    ) -> StoreFuture<'a, ()>;

    fn get_data<'a>(&'a self, uuid: &'a str, processed: bool) -> StoreFuture<'a, Option<String>>;

    /// The node's runs, newest first.
    fn runs<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Vec<RunRecord>>;

    /// The processed data of the node's run `id`: `None` if there is no such
    /// run, `Some(None)` if the run kept no data.
    fn run_data<'a>(
        &'a self,
        uuid: &'a str,
        id: &'a str,
    ) -> StoreFuture<'a, Option<Option<String>>>;

    /// Stores a rule under the UUID string given; `Duplicate` if any form of
    /// that UUID names a rule already.
    fn create_rule<'a>(&'a self, rule: &'a RuleRecord) -> StoreFuture<'a, ()>;

    /// Summaries of every rule, oldest first.
    fn list_rules(&self) -> StoreFuture<'_, Vec<RuleSummary>>;

    /// Every rule with its conditions and actions, oldest first.
    fn all_rules(&self) -> StoreFuture<'_, Vec<RuleRecord>>;

    /// A fingerprint of the stored rules that changes whenever a rule is
    /// created or deleted, read in one small query: what lets a callback
    /// reuse the rules it compiled without reading them all again.
    fn rules_version(&self) -> StoreFuture<'_, RulesVersion>;

    /// The rule named by any form of its UUID (an exact match first).
    fn get_rule<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Option<RuleRecord>>;

    /// Whether a rule was deleted.
    fn delete_rule<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, bool>;

    fn delete_all_rules(&self) -> StoreFuture<'_, ()>;

    /// Takes the lease `name` for `holder` for `ttl` if nobody holds it, its
    /// lease expired, or `holder` holds it already (then it is extended).
    /// Whether `holder` holds it now. Expiry is measured on the database's
    /// clock, so the instances' clocks need not agree.
    fn acquire_lease<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Extends every lease `holder` still holds to `ttl` from now (one that
    /// expired but that nobody took over included); their names, sorted. A
    /// lease missing from the answer was lost to another holder.
    fn renew_leases<'a>(&'a self, holder: &'a str, ttl: Duration) -> StoreFuture<'a, Vec<String>>;

    /// Gives the lease up if `holder` holds it; whether it did.
    fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> StoreFuture<'a, bool>;

    /// Gives up every lease of `holder`; how many there were.
    fn release_all_leases<'a>(&'a self, holder: &'a str) -> StoreFuture<'a, u64>;

    /// Atomically takes over, for `holder` and `ttl`, every expired lease
    /// whose name starts with `prefix`; each as it was before (name, former
    /// holder), sorted by name. Two callers never take the same lease.
    fn take_expired_leases<'a>(
        &'a self,
        prefix: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Vec<LeaseRecord>>;

    /// Every lease whose name starts with `prefix`, with its holder and
    /// whether it expired, sorted by name.
    fn leases<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<LeaseRecord>>;

    /// Closes the connections; the store is not used afterwards.
    fn close(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    // Raw bulk access for `inspector db copy` (bulk.rs, copy.rs).

    /// Up to `limit` rows of `table`, every column as stored, in primary-key
    /// order, after the row whose key starts `after` (from the first row
    /// when `None`).
    fn read_page<'a>(
        &'a self,
        table: &'static bulk::Table,
        after: Option<&'a [bulk::Cell]>,
        limit: u32,
    ) -> StoreFuture<'a, Vec<bulk::Row>>;

    fn count_rows(&self, table: &'static bulk::Table) -> StoreFuture<'_, u64>;

    /// Whether the database has the table at all (one of [`bulk::Table::ours`]
    /// may be missing from a database only upstream has served).
    fn has_table(&self, table: &'static bulk::Table) -> StoreFuture<'_, bool>;

    /// Opens one write transaction for bulk loading.
    fn begin_load(&self) -> StoreFuture<'_, Box<dyn bulk::BulkLoad>>;
}
