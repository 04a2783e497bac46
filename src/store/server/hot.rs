//! A few server connections of our own for the hot one-statement reads
//! (a status, the status list, a lookup), checked out and back without
//! the round trip sqlx's pool makes: the pool pings every connection that
//! comes back to it, in a task of its own, before another request may
//! have it, which doubled the round trips of a status GET.
//!
//! What makes skipping that ping safe: a connection goes back only when
//! its statement completed ([`HotConnection::keep_if`] with `Ok`). One
//! whose future was dropped midway, or that failed, is closed, never
//! reused, so nothing half-read is left on a connection handed out. A
//! lost connection closes the idle ones too (the server most likely went
//! away under all of them). A connection idle for [`IDLE_BEFORE_PING`]
//! is pinged before use, as the pool's are, so a restarted server costs
//! no failed request; one older than `connection_recycle_time` is
//! replaced.
//!
//! The set's connections are carved out of `[database] max_pool_size`
//! (see [`HotSetSize`]), so the pool and the set together stay within
//! `max_pool_size + max_overflow`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{ConnectOptions, Connection, Database, Pool};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::IDLE_BEFORE_PING;
use crate::store::{Result, StoreError, StoreOptions};

/// How long closing one connection may take (the server may be gone).
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// What runs on a new connection before its first use (MySQL's session
/// settings).
pub(in crate::store) type Setup<C> = for<'c> fn(
    &'c mut C,
) -> Pin<
    Box<dyn Future<Output = std::result::Result<(), sqlx::Error>> + Send + 'c>,
>;

/// How `[database]`'s connections are shared between the hot set and the
/// pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) struct HotSetSize {
    pub hot: u32,
    /// The pool's connections kept open, and its most.
    pub pool_min: u32,
    pub pool_max: u32,
}

impl HotSetSize {
    /// Half of `max_pool_size` (rounded up) for the hot set, the rest for
    /// the pool, which keeps at least one connection of its own to open:
    /// with a single connection in all, there is no hot set.
    pub fn of(options: &StoreOptions) -> Self {
        let kept = options.max_connections.max(1);
        let total = kept.saturating_add(options.max_overflow);
        let hot = kept.div_ceil(2).min(total - 1);
        Self {
            hot,
            pool_min: kept - hot.min(kept),
            pool_max: total - hot,
        }
    }
}

struct Idle<C> {
    conn: C,
    opened: Instant,
    since: Instant,
}

/// The hot set of connections; see the module's documentation.
pub(in crate::store) struct HotConnections<DB: Database> {
    connect: <DB::Connection as Connection>::Options,
    setup: Option<Setup<DB::Connection>>,
    idle: Mutex<Vec<Idle<DB::Connection>>>,
    /// One per connection the set may have out or idle.
    permits: Semaphore,
    /// `pool_timeout`: the longest a checkout waits, connecting included.
    wait: Duration,
    recycle_after: Option<Duration>,
    closed: AtomicBool,
}

impl<DB: Database> HotConnections<DB> {
    pub fn new(
        size: u32,
        connect: <DB::Connection as Connection>::Options,
        setup: Option<Setup<DB::Connection>>,
        options: &StoreOptions,
    ) -> Self {
        Self {
            connect,
            setup,
            idle: Mutex::new(Vec::with_capacity(size as usize)),
            permits: Semaphore::new(size as usize),
            wait: options.pool_timeout,
            recycle_after: options.recycle_after,
            closed: AtomicBool::new(false),
        }
    }

    /// A connection of the set (see [`Self::connection`]). Waits its turn,
    /// fairly, at most `pool_timeout` in all.
    pub async fn get(&self) -> Result<HotConnection<'_, DB>> {
        let turn = self.turn().await?;
        self.connection(turn).await
    }

    /// The right to one of the set's connections, fairly, within
    /// `pool_timeout`. Waiting for it may be abandoned at no cost, unlike
    /// [`Self::connection`], which may be checking or opening one.
    pub async fn turn(&self) -> Result<Turn<'_>> {
        let deadline = tokio::time::Instant::now() + self.wait;
        let permit = tokio::time::timeout_at(deadline, self.permits.acquire())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        Ok(Turn { permit, deadline })
    }

    /// A connection for `turn`: the one last used (LIFO keeps the busy few
    /// warm), checked first if it sat idle, or a new one; within what is
    /// left of `pool_timeout`.
    pub async fn connection<'s>(&'s self, turn: Turn<'s>) -> Result<HotConnection<'s, DB>> {
        let Turn { permit, deadline } = turn;
        loop {
            if self.closed.load(Ordering::Acquire) {
                return Err(sqlx::Error::PoolClosed.into());
            }
            let popped = self.idle.lock().expect("hot set lock").pop();
            let Some(mut idle) = popped else {
                let conn = tokio::time::timeout_at(deadline, self.connect())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)??;
                return Ok(HotConnection::new(self, permit, conn, Instant::now()));
            };
            if self.expired(idle.opened) {
                let _ = tokio::time::timeout_at(deadline, idle.conn.close()).await;
                continue;
            }
            if idle.since.elapsed() >= IDLE_BEFORE_PING {
                let pinged = tokio::time::timeout_at(deadline, idle.conn.ping()).await;
                if !matches!(pinged, Ok(Ok(()))) {
                    // Those idle longer are as likely gone.
                    self.discard_idle();
                    continue;
                }
            }
            return Ok(HotConnection::new(self, permit, idle.conn, idle.opened));
        }
    }

    async fn connect(&self) -> std::result::Result<DB::Connection, sqlx::Error> {
        let mut conn = self.connect.connect().await?;
        if let Some(setup) = self.setup {
            setup(&mut conn).await?;
        }
        Ok(conn)
    }

    fn expired(&self, opened: Instant) -> bool {
        self.recycle_after
            .is_some_and(|age| opened.elapsed() >= age)
    }

    /// Drops every idle connection (their sockets close with them).
    fn discard_idle(&self) {
        let gone = std::mem::take(&mut *self.idle.lock().expect("hot set lock"));
        drop(gone);
    }

    fn put_back(&self, conn: DB::Connection, opened: Instant) {
        if self.closed.load(Ordering::Acquire) || self.expired(opened) {
            return;
        }
        self.idle.lock().expect("hot set lock").push(Idle {
            conn,
            opened,
            since: Instant::now(),
        });
    }

    /// Closes the idle connections; those out are closed as they come back.
    pub async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle.lock().expect("hot set lock"));
        for idle in idle {
            let _ = tokio::time::timeout(CLOSE_WAIT, idle.conn.close()).await;
        }
    }

    /// Connections idle in the set now.
    #[cfg(test)]
    pub fn idle_count(&self) -> usize {
        self.idle.lock().expect("hot set lock").len()
    }
}

/// A turn at the hot set's connections, see [`HotConnections::turn`];
/// given back when dropped.
pub(in crate::store) struct Turn<'s> {
    permit: SemaphorePermit<'s>,
    deadline: tokio::time::Instant,
}

/// A connection out of the hot set. Goes back by [`Self::keep_if`] with
/// a success; dropped in any other way, it is closed.
pub(in crate::store) struct HotConnection<'s, DB: Database> {
    set: &'s HotConnections<DB>,
    conn: Option<DB::Connection>,
    opened: Instant,
    _permit: SemaphorePermit<'s>,
}

impl<'s, DB: Database> HotConnection<'s, DB> {
    fn new(
        set: &'s HotConnections<DB>,
        permit: SemaphorePermit<'s>,
        conn: DB::Connection,
        opened: Instant,
    ) -> Self {
        Self {
            set,
            conn: Some(conn),
            opened,
            _permit: permit,
        }
    }

    /// Passes `outcome` (of the statements run on this connection) on;
    /// the connection goes back to the set only if they completed: they
    /// succeeded, or what failed is an answer, not the database.
    pub fn keep_if<T>(mut self, outcome: Result<T>) -> Result<T> {
        match &outcome {
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                if let Some(conn) = self.conn.take() {
                    self.set.put_back(conn, self.opened);
                }
            }
            // A read that takes no lock failing so is the server going
            // away or restarting: the idle ones are as likely gone.
            Err(StoreError::Unavailable(_)) => self.set.discard_idle(),
            Err(_) => {}
        }
        outcome
    }
}

impl<DB: Database> std::ops::Deref for HotConnection<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        self.conn.as_ref().expect("a checked-out connection")
    }
}

impl<DB: Database> std::ops::DerefMut for HotConnection<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.conn.as_mut().expect("a checked-out connection")
    }
}

/// A connection for a hot read: from the hot set when there is one,
/// else from the pool.
pub(in crate::store) enum Reader<'s, DB: Database> {
    Hot(HotConnection<'s, DB>),
    Pooled(PoolConnection<DB>),
}

impl<'s, DB: Database> Reader<'s, DB> {
    pub async fn get(hot: Option<&'s HotConnections<DB>>, pool: &Pool<DB>) -> Result<Self> {
        Ok(match hot {
            Some(set) => Self::Hot(set.get().await?),
            None => Self::Pooled(pool.acquire().await?),
        })
    }

    /// See [`HotConnection::keep_if`]; a pooled connection goes back to
    /// the pool either way (which checks it).
    pub fn keep_if<T>(self, outcome: Result<T>) -> Result<T> {
        match self {
            Self::Hot(conn) => conn.keep_if(outcome),
            Self::Pooled(_) => outcome,
        }
    }
}

impl<DB: Database> std::ops::Deref for Reader<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        match self {
            Self::Hot(conn) => conn,
            Self::Pooled(conn) => conn,
        }
    }
}

impl<DB: Database> std::ops::DerefMut for Reader<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            Self::Hot(conn) => conn,
            Self::Pooled(conn) => conn,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(max_connections: u32, max_overflow: u32) -> StoreOptions {
        StoreOptions {
            max_connections,
            max_overflow,
            ..StoreOptions::default()
        }
    }

    #[test]
    fn the_hot_set_is_carved_out_of_the_pool() {
        let size = |kept, overflow| {
            let s = HotSetSize::of(&options(kept, overflow));
            (s.hot, s.pool_min, s.pool_max)
        };
        // oslo.db's defaults: 5 kept open, 50 more under load.
        assert_eq!(size(5, 50), (3, 2, 52));
        assert_eq!(size(2, 8), (1, 1, 9));
        assert_eq!(size(1, 50), (1, 0, 50));
        // A single connection in all stays the pool's.
        assert_eq!(size(1, 0), (0, 1, 1));
        assert_eq!(size(2, 0), (1, 1, 1));
        assert_eq!(size(8, 0), (4, 4, 4));
    }
}
