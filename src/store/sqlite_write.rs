//! The writes of an introspection's start and callback on the SQLite
//! backend, run on the caller's thread when they can be done at once.
//!
//! A write through sqlx is a hand-off to the connection's worker thread and
//! back for every statement, and those hand-offs were most of the thread
//! wake-ups of a callback (docs/benchmarks-analysis.md, "Fourth pass").
//! The statements an introspection makes (its lease, the node's row and
//! lookup attributes, its stored documents, its state changes, the finish)
//! run here instead, on one connection of their own, but only when nothing
//! has to wait: the connection is free in this process and the database's
//! write lock is free. SQLite is asked not to wait for its lock (busy
//! timeout 0), so a runtime thread never sleeps in SQLite's busy handler,
//! and never waits for a transaction that a task of this same runtime
//! drives through sqlx. Otherwise the write is handed to sqlx as before
//! ([`Attempt::Wait`]), which waits on its own thread.

use std::path::Path;
use std::sync::{Mutex, TryLockError};
use std::time::Duration;

use inspector_core::state::State;
use inspector_core::timestamp;
use rusqlite::{
    Connection, ErrorCode, OpenFlags, ToSql, TransactionBehavior, params, params_from_iter,
};
use time::PrimitiveDateTime;
use uuid::Uuid;

use super::leases::{LeaseSql, millis};
use super::server::Dialect;
use super::sqlite_read::{STATEMENT_CACHE, node_by_uuid};
use super::statements::{
    CLEAR_FINISHED, FINISH_NODE, FORGET_NODE, INSERT_ATTRIBUTE, INSERT_DATA, INSERT_NODE,
    INSERT_RUN, INSERT_RUN_WITH_DATA, LAST_RUN, PRUNE_RUNS, RELEASE_LEASE, UPDATE_STATE,
};
use super::{KeepRun, NodeRecord, Result, StoreError};

/// What an inline write came to.
pub(super) enum Attempt<T> {
    Done(Result<T>),
    /// Nothing was written: the write must wait for a lock, on sqlx's side.
    Wait,
}

impl<T> Attempt<T> {
    /// What the inline write came to, or else what `wait` (the same write
    /// through sqlx) does; `wait` is called only then.
    pub(super) async fn or_wait<F>(self, wait: impl FnOnce() -> F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T>>,
    {
        match self {
            Attempt::Done(done) => done,
            Attempt::Wait => wait().await,
        }
    }
}

enum Failure {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for Failure {
    fn from(err: rusqlite::Error) -> Self {
        Failure::Sqlite(err)
    }
}

type Written<T> = std::result::Result<T, Failure>;

/// The statements of `statements.rs` as SQLite spells them, rendered once.
struct Statements {
    forget_node: [String; 2],
    insert_node: String,
    insert_attribute: String,
    insert_data: String,
    update_state: String,
    finish_node: String,
    clear_finished: [String; 2],
    last_run: String,
    insert_run: String,
    insert_run_with_data: String,
    prune_runs: String,
    insert_lease: String,
    take_over_lease: String,
    release_lease: String,
}

impl Statements {
    fn new(dialect: &Dialect, leases: &LeaseSql) -> Self {
        Self {
            forget_node: FORGET_NODE.map(|s| dialect.sql(s)),
            insert_node: dialect.sql(INSERT_NODE),
            insert_attribute: dialect.sql(INSERT_ATTRIBUTE),
            insert_data: dialect.sql(&format!("{INSERT_DATA}{}", dialect.upsert_data)),
            update_state: dialect.sql(UPDATE_STATE),
            finish_node: dialect.sql(FINISH_NODE),
            clear_finished: CLEAR_FINISHED.map(|s| dialect.sql(s)),
            last_run: dialect.sql(LAST_RUN),
            insert_run: dialect.sql(INSERT_RUN),
            insert_run_with_data: dialect.sql(INSERT_RUN_WITH_DATA),
            prune_runs: dialect.sql(PRUNE_RUNS),
            insert_lease: dialect.sql(&leases.insert()),
            take_over_lease: dialect.sql(&leases.take_over()),
            release_lease: dialect.sql(RELEASE_LEASE),
        }
    }
}

pub(super) struct InlineWriter {
    /// None once the store is closed: every write then goes to sqlx.
    conn: Mutex<Option<Connection>>,
    sql: Statements,
}

impl InlineWriter {
    /// `dialect` and `leases` are SQLite's, as sqlx's writer has them.
    pub(super) fn open(path: &Path, dialect: &Dialect, leases: &LeaseSql) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::ZERO)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(Self {
            conn: Mutex::new(Some(conn)),
            sql: Statements::new(dialect, leases),
        })
    }

    pub(super) fn close(&self) {
        self.conn.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    fn attempt<T>(
        &self,
        write: impl FnOnce(&mut Connection, &Statements) -> Written<T>,
    ) -> Attempt<T> {
        let mut guard = match self.conn.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return Attempt::Wait,
        };
        let Some(conn) = guard.as_mut() else {
            return Attempt::Wait;
        };
        match write(conn, &self.sql) {
            Ok(value) => Attempt::Done(Ok(value)),
            Err(Failure::Store(err)) => Attempt::Done(Err(err)),
            Err(Failure::Sqlite(err)) if locked(&err) => Attempt::Wait,
            Err(Failure::Sqlite(err)) => Attempt::Done(Err(err.into())),
        }
    }

    /// As `SqlxStore::add_node`: the node's earlier rows replaced, in one
    /// `BEGIN IMMEDIATE` transaction.
    pub(super) fn add_node(&self, node: &NodeRecord, attributes: &[(&str, &str)]) -> Attempt<()> {
        self.attempt(|c, sql| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for statement in sql.clear_finished.iter().chain(&sql.forget_node) {
                tx.prepare_cached(statement)?.execute([&node.uuid])?;
            }
            tx.prepare_cached(&sql.insert_node)?.execute(params![
                node.uuid,
                node.state.as_str(),
                node.started_at.map(timestamp::to_db),
                node.finished_at.map(timestamp::to_db),
                node.error,
                node.manage_boot,
            ])?;
            insert_attributes(&tx, sql, &node.uuid, attributes.iter().copied())?;
            tx.commit()?;
            Ok(())
        })
    }

    /// As `SqlxStore::add_attributes`, in one transaction.
    pub(super) fn add_attributes(&self, uuid: &str, name: &str, values: &[String]) -> Attempt<()> {
        self.attempt(|c, sql| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let pairs = values.iter().map(|v| (name, v.as_str()));
            insert_attributes(&tx, sql, uuid, pairs)?;
            tx.commit()?;
            Ok(())
        })
    }

    pub(super) fn store_data(&self, uuid: &str, processed: bool, data: &str) -> Attempt<()> {
        self.attempt(|c, sql| {
            c.prepare_cached(&sql.insert_data)?
                .execute(params![uuid, processed, data])?;
            Ok(())
        })
    }

    pub(super) fn update_state(&self, uuid: &str, from: State, to: State) -> Attempt<()> {
        self.attempt(|c, sql| {
            let changed = c.prepare_cached(&sql.update_state)?.execute(params![
                to.as_str(),
                uuid,
                from.as_str()
            ])?;
            if changed == 0 {
                return Err(Failure::Store(StoreError::node_conflict(uuid)));
            }
            Ok(())
        })
    }

    /// As `SqlxStore::acquire_lease`: the insert, and the takeover only
    /// when the insert found a row.
    pub(super) fn acquire_lease(&self, name: &str, holder: &str, ttl: Duration) -> Attempt<bool> {
        self.attempt(|c, sql| {
            let inserted =
                c.prepare_cached(&sql.insert_lease)?
                    .execute(params![name, holder, millis(ttl)])?;
            if inserted > 0 {
                return Ok(true);
            }
            let taken = c.prepare_cached(&sql.take_over_lease)?.execute(params![
                holder,
                millis(ttl),
                name,
                holder
            ])?;
            Ok(taken > 0)
        })
    }

    pub(super) fn release_lease(&self, name: &str, holder: &str) -> Attempt<bool> {
        self.attempt(|c, sql| {
            let released = c
                .prepare_cached(&sql.release_lease)?
                .execute(params![name, holder])?;
            Ok(released > 0)
        })
    }

    /// As `SqlxStore::finish_keeping`, in one `BEGIN IMMEDIATE`
    /// transaction (rolled back when dropped on an error).
    pub(super) fn finish_keeping(
        &self,
        uuid: &str,
        from: State,
        to: State,
        finished_at: PrimitiveDateTime,
        error: Option<&str>,
        keep: Option<KeepRun<'_>>,
    ) -> Attempt<()> {
        self.attempt(|c, sql| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx.prepare_cached(&sql.finish_node)?.execute(params![
                to.as_str(),
                timestamp::to_db(finished_at),
                error,
                uuid,
                from.as_str()
            ])?;
            if changed == 0 {
                return Err(Failure::Store(StoreError::node_conflict(uuid)));
            }
            for statement in &sql.clear_finished {
                tx.prepare_cached(statement)?.execute([uuid])?;
            }
            if let Some(keep) = keep {
                keep_run(&tx, sql, uuid, keep)?;
            }
            tx.commit()?;
            Ok(())
        })
    }
}

/// The attributes with a value (an empty one finds nothing).
fn insert_attributes<'p>(
    tx: &Connection,
    sql: &Statements,
    uuid: &str,
    attributes: impl Iterator<Item = (&'p str, &'p str)>,
) -> Written<()> {
    let mut insert = tx.prepare_cached(&sql.insert_attribute)?;
    for (name, value) in attributes.filter(|(_, v)| !v.is_empty()) {
        insert.execute(params![Uuid::new_v4().to_string(), uuid, name, value])?;
    }
    Ok(())
}

/// As `SqlxStore::keep_run`: the node's row as it is now, as its newest run.
fn keep_run(tx: &Connection, sql: &Statements, uuid: &str, keep: KeepRun<'_>) -> Written<()> {
    let node = node_by_uuid(tx, uuid)
        .map_err(Failure::Store)?
        .ok_or_else(|| Failure::Store(StoreError::node_conflict(uuid)))?;
    let last: Option<i64> = tx
        .prepare_cached(&sql.last_run)?
        .query_row([uuid], |row| row.get(0))?;
    let run = last.unwrap_or(0) + 1;
    // With the data, the node and `true` once more, for its subquery.
    let (insert, data_params): (&str, &[&dyn ToSql]) = if keep.with_data {
        (&sql.insert_run_with_data, &[&uuid, &true])
    } else {
        (&sql.insert_run, &[])
    };
    let run_row = params![
        keep.id,
        uuid,
        run,
        node.state.as_str(),
        node.error,
        node.started_at.map(timestamp::to_db),
        node.finished_at.map(timestamp::to_db),
    ];
    tx.prepare_cached(insert)?
        .execute(params_from_iter(run_row.iter().chain(data_params)))?;
    tx.prepare_cached(&sql.prune_runs)?
        .execute(params![uuid, run - i64::from(keep.depth.max(1))])?;
    Ok(())
}

/// The database's write lock (or a table's) is taken: nothing was written.
fn locked(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}
