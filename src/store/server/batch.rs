//! Reads of one row by key that wait for a hot connection at the same
//! time are answered by one statement: each read joins a queue, and the
//! read that gets a connection takes every key waiting, reads them all
//! (`WHERE uuid = ANY(...)` / `IN (...)`) and hands each waiter its row.
//! Under concurrent status GETs this saves the server a round trip and a
//! statement per read, which on a small machine is most of what a status
//! costs it.
//!
//! One statement of the queue runs at a time, even with hot connections to
//! spare: the reads that come while it runs wait for it and share the
//! next. A second statement beside the first would serve fewer reads each
//! and cost the server (and the service) a round trip more. On two CPUs
//! shared with MariaDB, status GETs at concurrency 8 went from 22,200 to
//! about 29,000 a second with one statement at a time instead of three,
//! and MariaDB's CPU per status from 21 µs to under 9. A read waits at most
//! for the statement under way and then its own.
//!
//! Freshness is that of a read of its own: a waiter is taken only by a
//! statement started after it joined, so it sees every write that
//! completed before it asked.
//!
//! A waiter whose reader was dropped midway (its request went away) finds
//! its answer channel closed and joins again. A failure of the statement
//! is every waiter's, as an error of the same kind: a database that cannot
//! serve is `Unavailable` to each (503), and retried by each like its own
//! lost connection would be.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::{MutexGuard, oneshot};

use crate::store::sqlx_errors::worth_retrying;
use crate::store::{Result, StoreError};

/// The most keys one statement reads.
pub(in crate::store) const BATCH_MOST: usize = 64;

type Answer<T> = oneshot::Sender<Result<Option<T>>>;

/// The reads waiting for a connection.
pub(in crate::store) struct ReadQueue<T> {
    waiting: Mutex<Vec<(String, Answer<T>)>>,
    /// Held by the read running the queue's statement; fair, so the reads
    /// take it in the order they came.
    lane: tokio::sync::Mutex<()>,
}

impl<T> Default for ReadQueue<T> {
    fn default() -> Self {
        Self {
            waiting: Mutex::new(Vec::new()),
            lane: tokio::sync::Mutex::new(()),
        }
    }
}

impl<T: Clone> ReadQueue<T> {
    /// Whether `key` may share a statement: only keys no server can refuse
    /// (a UUID's characters; PostgreSQL refuses a NUL in text, MySQL's
    /// `utf8` columns characters outside the BMP), so that one odd key
    /// cannot fail the others' read. Any other key is read alone.
    pub fn batchable(key: &str) -> bool {
        key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }

    /// Queues a read of `key`; its answer comes on the receiver.
    pub fn join(&self, key: &str) -> oneshot::Receiver<Result<Option<T>>> {
        let (answer, receiver) = oneshot::channel();
        self.waiting
            .lock()
            .expect("read queue lock")
            .push((key.to_string(), answer));
        receiver
    }

    /// The right to run the queue's one statement, held until its waiters
    /// are answered.
    pub async fn lane(&self) -> MutexGuard<'_, ()> {
        self.lane.lock().await
    }

    /// The oldest waiters, at most [`BATCH_MOST`] distinct keys; those
    /// that stopped waiting are dropped.
    pub fn take(&self) -> Batch<T> {
        let mut waiting = self.waiting.lock().expect("read queue lock");
        waiting.retain(|(_, answer)| !answer.is_closed());
        let mut keys: Vec<String> = Vec::new();
        let mut end = 0;
        for (key, _) in waiting.iter() {
            if !keys.contains(key) {
                if keys.len() == BATCH_MOST {
                    break;
                }
                keys.push(key.clone());
            }
            end += 1;
        }
        let waiters = waiting.drain(..end).collect();
        Batch { keys, waiters }
    }
}

/// Waiters taken from the queue, to be answered by one statement.
pub(in crate::store) struct Batch<T> {
    /// Their distinct keys, oldest first.
    pub keys: Vec<String>,
    waiters: Vec<(String, Answer<T>)>,
}

impl<T: Clone> Batch<T> {
    pub fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Answers every waiter from `outcome`: the rows read by key (each
    /// decoded or not), or the statement's failure. A key without a row
    /// is `None`.
    pub fn answer(self, outcome: &Result<HashMap<String, Result<T>>>) {
        for (key, answer) in self.waiters {
            let mine = match outcome {
                Ok(rows) => match rows.get(&key) {
                    Some(Ok(row)) => Ok(Some(row.clone())),
                    Some(Err(err)) => Err(shared(err)),
                    None => Ok(None),
                },
                Err(err) => Err(shared(err)),
            };
            // A waiter that went away needs no answer.
            let _ = answer.send(mine);
        }
    }
}

/// A failure that several waiters each get: of the same kind, with the
/// same text.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(in crate::store) struct SharedFailure {
    message: String,
    /// Whether the failed read is worth running again (see
    /// `sqlx_errors::worth_retrying`).
    pub worth_retrying: bool,
}

fn shared(err: &StoreError) -> StoreError {
    let copy = |err: &dyn std::fmt::Display| -> Box<SharedFailure> {
        Box::new(SharedFailure {
            message: err.to_string(),
            worth_retrying: false,
        })
    };
    match err {
        StoreError::Unavailable(source) => StoreError::Unavailable(Box::new(SharedFailure {
            message: source.to_string(),
            worth_retrying: worth_retrying(err),
        })),
        StoreError::Corrupt(text) => StoreError::Corrupt(text.clone()),
        StoreError::NotFound { what, id } => StoreError::NotFound {
            what,
            id: id.clone(),
        },
        StoreError::StorageFault { reason, source } => StoreError::StorageFault {
            reason,
            source: copy(source),
        },
        other => StoreError::Other(copy(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unavailable() -> StoreError {
        StoreError::from(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()))
    }

    #[tokio::test]
    async fn one_batch_answers_every_waiter_with_its_own_row() {
        let queue = ReadQueue::<u32>::default();
        let a = queue.join("a");
        let b1 = queue.join("b");
        let gone = queue.join("gone");
        let b2 = queue.join("b");
        let missing = queue.join("missing");
        let corrupt = queue.join("corrupt");
        drop(gone);
        let batch = queue.take();
        assert_eq!(batch.keys, ["a", "b", "missing", "corrupt"]);
        assert!(queue.take().is_empty(), "the queue was emptied");
        let rows = HashMap::from([
            ("a".to_string(), Ok(1)),
            ("b".to_string(), Ok(2)),
            (
                "corrupt".to_string(),
                Err(StoreError::Corrupt("bad".into())),
            ),
        ]);
        batch.answer(&Ok(rows));
        assert_eq!(a.await.unwrap().unwrap(), Some(1));
        assert_eq!(b1.await.unwrap().unwrap(), Some(2));
        assert_eq!(b2.await.unwrap().unwrap(), Some(2));
        assert_eq!(missing.await.unwrap().unwrap(), None);
        assert!(matches!(
            corrupt.await.unwrap(),
            Err(StoreError::Corrupt(text)) if text == "bad"
        ));
    }

    #[tokio::test]
    async fn a_failed_statement_fails_each_waiter_alike() {
        let queue = ReadQueue::<u32>::default();
        let waiters = [queue.join("a"), queue.join("b")];
        queue.take().answer(&Err(unavailable()));
        for waiter in waiters {
            let err = waiter.await.unwrap().unwrap_err();
            assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
            assert!(worth_retrying(&err), "{err:?}");
        }
        let waiter = queue.join("a");
        let full = StoreError::from(sqlx::Error::PoolTimedOut);
        queue.take().answer(&Err(full));
        let err = waiter.await.unwrap().unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)) && !worth_retrying(&err));
    }

    #[test]
    fn a_batch_holds_at_most_its_share_of_keys() {
        let queue = ReadQueue::<u32>::default();
        let _waiters: Vec<_> = (0..BATCH_MOST + 3)
            .map(|n| queue.join(&n.to_string()))
            .collect();
        let _again = queue.join("0");
        assert_eq!(queue.take().keys.len(), BATCH_MOST);
        assert_eq!(queue.take().keys.len(), 3 + 1);
    }

    #[test]
    fn only_uuid_like_keys_share_a_statement() {
        assert!(ReadQueue::<u32>::batchable(
            "0a000000-0000-4000-8000-00000000000a"
        ));
        assert!(!ReadQueue::<u32>::batchable("a\0b"));
        assert!(!ReadQueue::<u32>::batchable("node 🐘"));
    }
}
