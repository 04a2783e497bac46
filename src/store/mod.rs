//! The node cache and rule store. One interface, chosen by the
//! `[database] connection` URL; SQLite is the embedded default. Nothing here
//! knows about HTTP.

mod schema;
mod sqlite;
mod sqlite_read;

use inspector_core::state::State;
use serde_json::{Map, Value};
use time::PrimitiveDateTime;

pub use schema::{ALEMBIC_HEAD, MigrationReport};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Read(#[from] rusqlite::Error),
    /// A read on the blocking pool panicked or was cancelled at shutdown.
    #[error("database read did not complete: {0}")]
    ReadAborted(String),
    #[error("database content is invalid: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Schema(String),
    #[error("unsupported database connection URL {0:?}: {1}")]
    Url(String, String),
    #[error("rule {0} already exists")]
    DuplicateRule(String),
    #[error("marker {0} not found")]
    MarkerNotFound(String),
    /// The row changed between read and write (another request won a race).
    #[error("node {0} changed concurrently")]
    Conflict(String),
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

#[derive(Debug, Clone, PartialEq)]
pub struct RuleSummary {
    pub uuid: String,
    pub description: Option<String>,
    pub scope: Option<String>,
}

/// A page request over statuses, newest first.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub states: Vec<State>,
    pub marker: Option<String>,
    pub limit: u32,
}

/// Options of the `[database]` group the store honours.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
}

#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::SqliteStore),
}

/// Dispatches a method to the backend in use.
macro_rules! dispatch {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Store::Sqlite($s) => $call,
        }
    };
}

impl Store {
    /// Opens the database named by an oslo.db URL (`sqlite:///relative.db`,
    /// `sqlite:////absolute.db`, `sqlite://` for memory).
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Store> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        let driver = scheme.split('+').next().unwrap_or("");
        match driver {
            "sqlite" => Ok(Store::Sqlite(
                sqlite::SqliteStore::open(url, options).await?,
            )),
            "" => Err(StoreError::Url(url.into(), "missing scheme".into())),
            other => Err(StoreError::Url(
                url.into(),
                format!("backend {other} is not supported; use sqlite"),
            )),
        }
    }

    /// Creates the schema or migrates it forward; safe to run repeatedly.
    pub async fn upgrade(&self) -> Result<MigrationReport> {
        dispatch!(self, s => s.upgrade().await)
    }

    /// Fails unless the schema is complete and current.
    pub async fn check_schema(&self) -> Result<()> {
        dispatch!(self, s => s.check_schema().await)
    }

    pub async fn get_node(&self, uuid: &str) -> Result<Option<NodeRecord>> {
        dispatch!(self, s => s.get_node(uuid).await)
    }

    pub async fn list_nodes(&self, query: &ListQuery) -> Result<Vec<NodeRecord>> {
        dispatch!(self, s => s.list_nodes(query).await)
    }

    /// Replaces whatever the cache held for the node with a fresh row and its
    /// lookup attributes, wiping its options and stored data (upstream-behaviour §cache-rows).
    pub async fn add_node(&self, node: &NodeRecord, attributes: &[(&str, &str)]) -> Result<()> {
        dispatch!(self, s => s.add_node(node, attributes).await)
    }

    /// Moves the node from `from` to `to`; `Conflict` if it is no longer in `from`.
    pub async fn update_state(&self, uuid: &str, from: State, to: State) -> Result<()> {
        dispatch!(self, s => s.update_state(uuid, from, to).await)
    }

    /// Ends an introspection in one transaction: lookup attributes and options
    /// go, and state, `finished_at` and `error` are written together.
    pub async fn finish(
        &self,
        uuid: &str,
        from: State,
        to: State,
        finished_at: PrimitiveDateTime,
        error: Option<&str>,
    ) -> Result<()> {
        dispatch!(self, s => s.finish(uuid, from, to, finished_at, error).await)
    }

    /// Writes `started_at` (and the unchanged finish fields) at reapply time.
    pub async fn set_started_at(&self, uuid: &str, started_at: PrimitiveDateTime) -> Result<()> {
        dispatch!(self, s => s.set_started_at(uuid, started_at).await)
    }

    pub async fn delete_node(&self, uuid: &str) -> Result<()> {
        dispatch!(self, s => s.delete_node(uuid).await)
    }

    pub async fn add_attributes(&self, uuid: &str, name: &str, values: &[String]) -> Result<()> {
        dispatch!(self, s => s.add_attributes(uuid, name, values).await)
    }

    /// The node's lookup attributes as (name, value) pairs.
    pub async fn node_attributes(&self, uuid: &str) -> Result<Vec<(String, String)>> {
        dispatch!(self, s => s.node_attributes(uuid).await)
    }

    /// Nodes owning any of the given (name, value) attributes, with how many
    /// of them each owns.
    pub async fn find_by_attributes(
        &self,
        pairs: &[(String, String)],
    ) -> Result<Vec<(String, u32)>> {
        dispatch!(self, s => s.find_by_attributes(pairs).await)
    }

    /// Every MAC that is a lookup attribute of a node under introspection.
    pub async fn active_macs(&self) -> Result<Vec<String>> {
        dispatch!(self, s => s.active_macs().await)
    }

    /// Nodes still running whose introspection started before `before`.
    pub async fn active_started_before(
        &self,
        before: PrimitiveDateTime,
    ) -> Result<Vec<NodeRecord>> {
        dispatch!(self, s => s.active_started_before(before).await)
    }

    /// Nodes whose introspection has not finished and is in one of `states`.
    pub async fn active_nodes_in(&self, states: &[State]) -> Result<Vec<NodeRecord>> {
        dispatch!(self, s => s.active_nodes_in(states).await)
    }

    /// How many cached nodes are in each state.
    pub async fn count_by_state(&self) -> Result<Vec<(String, u64)>> {
        dispatch!(self, s => s.count_by_state().await)
    }

    /// A trivial query, to tell whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        dispatch!(self, s => s.ping().await)
    }

    pub async fn all_node_uuids(&self) -> Result<Vec<String>> {
        dispatch!(self, s => s.all_node_uuids().await)
    }

    /// Whether any introspection is running (not finished) right now.
    pub async fn any_active(&self) -> Result<bool> {
        dispatch!(self, s => s.any_active().await)
    }

    pub async fn store_data(&self, uuid: &str, processed: bool, data: &str) -> Result<()> {
        dispatch!(self, s => s.store_data(uuid, processed, data).await)
    }

    pub async fn get_data(&self, uuid: &str, processed: bool) -> Result<Option<String>> {
        dispatch!(self, s => s.get_data(uuid, processed).await)
    }

    pub async fn create_rule(&self, rule: &RuleRecord) -> Result<()> {
        dispatch!(self, s => s.create_rule(rule).await)
    }

    /// Summaries of every rule, oldest first.
    pub async fn list_rules(&self) -> Result<Vec<RuleSummary>> {
        dispatch!(self, s => s.list_rules().await)
    }

    /// Every rule with its conditions and actions, oldest first.
    pub async fn all_rules(&self) -> Result<Vec<RuleRecord>> {
        dispatch!(self, s => s.all_rules().await)
    }

    pub async fn get_rule(&self, uuid: &str) -> Result<Option<RuleRecord>> {
        dispatch!(self, s => s.get_rule(uuid).await)
    }

    /// Whether a rule was deleted.
    pub async fn delete_rule(&self, uuid: &str) -> Result<bool> {
        dispatch!(self, s => s.delete_rule(uuid).await)
    }

    pub async fn delete_all_rules(&self) -> Result<()> {
        dispatch!(self, s => s.delete_all_rules().await)
    }

    pub async fn close(&self) {
        dispatch!(self, s => s.close().await)
    }
}
