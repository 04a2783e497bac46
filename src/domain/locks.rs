//! Per-node locks (upstream-behaviour §locks): the ramdisk callback holds a node's lock from
//! lookup until the node finishes; abort and reapply only try it (409 when
//! busy). Guards are owned, so a background task can keep one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

#[derive(Default, Clone)]
pub struct NodeLocks {
    locks: Arc<Mutex<HashMap<String, Arc<AsyncMutex<()>>>>>,
}

/// A held node lock; released on drop.
pub struct NodeLock {
    uuid: String,
    guard: Option<OwnedMutexGuard<()>>,
    locks: NodeLocks,
}

impl NodeLock {
    pub fn uuid(&self) -> &str {
        &self.uuid
    }
}

impl Drop for NodeLock {
    fn drop(&mut self) {
        drop(self.guard.take());
        self.locks.forget_if_unused(&self.uuid);
    }
}

impl NodeLocks {
    fn entry(&self, uuid: &str) -> Arc<AsyncMutex<()>> {
        let mut map = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(uuid.to_string()).or_default().clone()
    }

    /// Drops the map entry once nobody holds or waits for it, so the map only
    /// holds nodes that are busy.
    fn forget_if_unused(&self, uuid: &str) {
        let mut map = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mutex) = map.get(uuid) {
            // Only the map itself refers to it.
            if Arc::strong_count(mutex) == 1 {
                map.remove(uuid);
            }
        }
    }

    /// Waits for the node's lock.
    pub async fn lock(&self, uuid: &str) -> NodeLock {
        let guard = self.entry(uuid).lock_owned().await;
        NodeLock {
            uuid: uuid.to_string(),
            guard: Some(guard),
            locks: self.clone(),
        }
    }

    /// Takes the node's lock only if it is free.
    pub fn try_lock(&self, uuid: &str) -> Option<NodeLock> {
        let mutex = self.entry(uuid);
        match mutex.try_lock_owned() {
            Ok(guard) => Some(NodeLock {
                uuid: uuid.to_string(),
                guard: Some(guard),
                locks: self.clone(),
            }),
            Err(_) => {
                self.forget_if_unused(uuid);
                None
            }
        }
    }

    /// Takes the node's lock if it becomes free within `patience`: a node
    /// whose status just turned `finished` may still be releasing it.
    pub async fn lock_within(&self, uuid: &str, patience: std::time::Duration) -> Option<NodeLock> {
        if let Some(lock) = self.try_lock(uuid) {
            return Some(lock);
        }
        tokio::time::timeout(patience, self.lock(uuid)).await.ok()
    }

    /// How many nodes are locked or awaited right now.
    pub fn busy(&self) -> usize {
        self.locks.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn try_lock_fails_while_held_and_succeeds_after() {
        let locks = NodeLocks::default();
        let held = locks.lock("a").await;
        assert!(locks.try_lock("a").is_none());
        assert!(locks.try_lock("b").is_some());
        drop(held);
        assert!(locks.try_lock("a").is_some());
        assert_eq!(locks.busy(), 0);
    }

    #[tokio::test]
    async fn waiters_get_the_lock_in_turn() {
        let locks = NodeLocks::default();
        let held = locks.lock("a").await;
        let waiter = {
            let locks = locks.clone();
            tokio::spawn(async move { locks.lock("a").await.uuid().to_string() })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(held);
        assert_eq!(waiter.await.unwrap(), "a");
        assert_eq!(locks.busy(), 0);
    }
}
