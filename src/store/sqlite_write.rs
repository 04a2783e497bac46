//! The writes of a callback on the SQLite backend, run on the caller's
//! thread when they can be done at once.
//!
//! A write through sqlx is a hand-off to the connection's worker thread and
//! back for every statement, and those hand-offs were most of the thread
//! wake-ups of a callback (docs/benchmarks-analysis.md, "Fourth pass").
//! The statements a callback makes (its lease, its stored documents, its
//! state changes, the finish) run here instead, on one connection of their
//! own, but only when nothing has to wait: the connection is free in this
//! process and the database's write lock is free. SQLite is asked not to
//! wait for its lock (busy timeout 0), so a runtime thread never sleeps in
//! SQLite's busy handler, and never waits for a transaction that a task of
//! this same runtime drives through sqlx. Otherwise the write is handed to
//! sqlx as before ([`Attempt::Wait`]), which waits on its own thread.

use std::path::Path;
use std::sync::{Mutex, TryLockError};
use std::time::Duration;

use inspector_core::state::State;
use inspector_core::timestamp;
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior, params};
use time::PrimitiveDateTime;

use super::leases::{SQLITE, millis};
use super::sqlite_read::node_by_uuid;
use super::{KeepRun, Result, StoreError};

/// What an inline write came to.
pub(super) enum Attempt<T> {
    Done(Result<T>),
    /// Nothing was written: the write must wait for a lock, on sqlx's side.
    Wait,
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

pub(super) struct InlineWriter {
    /// None once the store is closed: every write then goes to sqlx.
    conn: Mutex<Option<Connection>>,
}

impl InlineWriter {
    pub(super) fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::ZERO)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(Self {
            conn: Mutex::new(Some(conn)),
        })
    }

    pub(super) fn close(&self) {
        self.conn.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    fn attempt<T>(&self, write: impl FnOnce(&mut Connection) -> Written<T>) -> Attempt<T> {
        let mut guard = match self.conn.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return Attempt::Wait,
        };
        let Some(conn) = guard.as_mut() else {
            return Attempt::Wait;
        };
        match write(conn) {
            Ok(value) => Attempt::Done(Ok(value)),
            Err(Failure::Store(err)) => Attempt::Done(Err(err)),
            Err(Failure::Sqlite(err)) if locked(&err) => Attempt::Wait,
            Err(Failure::Sqlite(err)) => Attempt::Done(Err(err.into())),
        }
    }

    pub(super) fn store_data(&self, uuid: &str, processed: bool, data: &str) -> Attempt<()> {
        self.attempt(|c| {
            c.prepare_cached(
                "INSERT INTO introspection_data (uuid, processed, data) VALUES (?, ?, ?) \
                 ON CONFLICT (uuid, processed) DO UPDATE SET data = excluded.data",
            )?
            .execute(params![uuid, processed, data])?;
            Ok(())
        })
    }

    pub(super) fn update_state(&self, uuid: &str, from: State, to: State) -> Attempt<()> {
        self.attempt(|c| {
            let changed = c
                .prepare_cached("UPDATE nodes SET state = ? WHERE uuid = ? AND state = ?")?
                .execute(params![to.as_str(), uuid, from.as_str()])?;
            if changed == 0 {
                return Err(Failure::Store(StoreError::node_conflict(uuid)));
            }
            Ok(())
        })
    }

    /// As `SqlxStore::acquire_lease`: the insert, and the takeover only
    /// when the insert found a row.
    pub(super) fn acquire_lease(&self, name: &str, holder: &str, ttl: Duration) -> Attempt<bool> {
        self.attempt(|c| {
            let insert = format!(
                "INSERT INTO inspector_leases (name, holder, expires_at) VALUES (?, ?, {}) \
                 ON CONFLICT DO NOTHING",
                SQLITE.later
            );
            let inserted =
                c.prepare_cached(&insert)?
                    .execute(params![name, holder, millis(ttl)])?;
            if inserted > 0 {
                return Ok(true);
            }
            let takeover = format!(
                "UPDATE inspector_leases SET holder = ?, expires_at = {} \
                 WHERE name = ? AND (holder = ? OR expires_at <= {})",
                SQLITE.later, SQLITE.now
            );
            let taken =
                c.prepare_cached(&takeover)?
                    .execute(params![holder, millis(ttl), name, holder])?;
            Ok(taken > 0)
        })
    }

    pub(super) fn release_lease(&self, name: &str, holder: &str) -> Attempt<bool> {
        self.attempt(|c| {
            let released = c
                .prepare_cached("DELETE FROM inspector_leases WHERE name = ? AND holder = ?")?
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
        self.attempt(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let changed = tx
                .prepare_cached(
                    "UPDATE nodes SET state = ?, finished_at = ?, error = ? \
                     WHERE uuid = ? AND state = ?",
                )?
                .execute(params![
                    to.as_str(),
                    timestamp::to_db(finished_at),
                    error,
                    uuid,
                    from.as_str()
                ])?;
            if changed == 0 {
                return Err(Failure::Store(StoreError::node_conflict(uuid)));
            }
            for statement in [
                "DELETE FROM attributes WHERE node_uuid = ?",
                "DELETE FROM options WHERE uuid = ?",
            ] {
                tx.prepare_cached(statement)?.execute([uuid])?;
            }
            if let Some(keep) = keep {
                keep_run(&tx, uuid, keep)?;
            }
            tx.commit()?;
            Ok(())
        })
    }
}

/// As `SqlxStore::keep_run`: the node's row as it is now, as its newest run.
fn keep_run(tx: &Connection, uuid: &str, keep: KeepRun<'_>) -> Written<()> {
    let node = node_by_uuid(tx, uuid)
        .map_err(Failure::Store)?
        .ok_or_else(|| Failure::Store(StoreError::node_conflict(uuid)))?;
    let last: Option<i64> = tx
        .prepare_cached("SELECT MAX(run) FROM inspector_history WHERE node_uuid = ?")?
        .query_row([uuid], |row| row.get(0))?;
    let run = last.unwrap_or(0) + 1;
    // The data is copied inside the database, however large.
    let data = if keep.with_data {
        "(SELECT data FROM introspection_data WHERE uuid = ?2 AND processed = 1)"
    } else {
        "NULL"
    };
    let insert = format!(
        "INSERT INTO inspector_history \
         (id, node_uuid, run, state, error, started_at, finished_at, data) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, {data})"
    );
    tx.prepare_cached(&insert)?.execute(params![
        keep.id,
        uuid,
        run,
        node.state.as_str(),
        node.error,
        node.started_at.map(timestamp::to_db),
        node.finished_at.map(timestamp::to_db),
    ])?;
    tx.prepare_cached("DELETE FROM inspector_history WHERE node_uuid = ? AND run <= ?")?
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
