//! Per-node locks: the ramdisk callback holds a node's lock from lookup
//! until the node finishes; abort and reapply only try it (409 when busy).
//! Guards are owned, so a background task can keep one.
//!
//! Several instances may share the database, so a lock is held only when
//! both this process's mutex for the node and the node's lease in the
//! database (`node:<uuid>`, see [`crate::store::StoreBackend::acquire_lease`])
//! are held. The mutex queues this process's own callers; the lease keeps
//! the other instances out. A background renewer extends this instance's
//! leases every third of their length; an instance that stops renewing
//! (killed) loses them when they expire, and the leader takes them over
//! (see periodic.rs).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::store::{Store, StoreError};

/// The prefix of node leases' names.
pub const NODE_LEASE_PREFIX: &str = "node:";

/// How long a waiter pauses between two tries of a lease another instance
/// holds, before the jitter (which keeps waiters on several instances from
/// polling in step).
const POLL_PAUSE: Duration = Duration::from_millis(50);
const POLL_JITTER_MS: u128 = 50;

pub fn node_lease(uuid: &str) -> String {
    format!("{NODE_LEASE_PREFIX}{uuid}")
}

#[derive(Clone)]
pub struct NodeLocks {
    inner: Arc<Inner>,
}

/// A node's mutex; it keeps the release of the last holder's lease, which
/// the next holder in this process awaits before taking the lease (it is
/// this holder's, so it would take it again just before the release
/// removed it).
type Entry = Arc<AsyncMutex<Option<JoinHandle<()>>>>;
type EntryGuard = OwnedMutexGuard<Option<JoinHandle<()>>>;

struct Inner {
    mutexes: Mutex<HashMap<String, Entry>>,
    /// Nodes whose lease a lock of this process tries to take (false) or
    /// holds (true), until its release is done.
    leases: Mutex<HashMap<String, bool>>,
    store: Store,
    holder: String,
    ttl: Duration,
    /// Stops the renewer (shutdown).
    renewer: CancellationToken,
}

/// A held node lock; released on drop (the lease in the background).
pub struct NodeLock {
    uuid: String,
    guard: Option<EntryGuard>,
    /// Whether the lease may be held: it was taken, or an attempt to take
    /// it ended without an answer.
    may_hold_lease: bool,
    locks: NodeLocks,
}

impl NodeLock {
    pub fn uuid(&self) -> &str {
        &self.uuid
    }
}

impl Drop for NodeLock {
    fn drop(&mut self) {
        let Some(mut guard) = self.guard.take() else {
            return;
        };
        let runtime = tokio::runtime::Handle::try_current();
        if !self.may_hold_lease || runtime.is_err() {
            // Without a runtime the process is ending: the lease expires.
            self.locks.lease_done(&self.uuid);
            // A release still pending keeps the entry: it removes it itself.
            let pending = guard.as_ref().is_some_and(|r| !r.is_finished());
            drop(guard);
            if !pending {
                self.locks.forget_if_unused(&self.uuid);
            }
            return;
        }
        let locks = self.locks.clone();
        let uuid = self.uuid.clone();
        let release = async move {
            if let Err(e) = locks
                .inner
                .store
                .release_lease(&node_lease(&uuid), &locks.inner.holder)
                .await
            {
                // The renewer releases leases no lock holds.
                tracing::warn!(node = %uuid, error = %e, "cannot release the node's lease now");
            }
            locks.lease_done(&uuid);
            // The entry stayed in the map for the next holder to find this
            // release; it goes once nobody uses it.
            locks.forget_if_unused(&uuid);
        };
        if let Ok(runtime) = runtime {
            *guard = Some(runtime.spawn(release));
        }
        drop(guard);
    }
}

/// Waits for the last holder's release of the lease. Left in the guard
/// until done, so that a waiter cancelled meanwhile (a timeout) leaves it
/// for the next one.
async fn await_release(guard: &mut EntryGuard) {
    if let Some(release) = guard.as_mut() {
        // An error only means the runtime is going away.
        let _ = release.await;
        **guard = None;
    }
}

impl NodeLocks {
    /// Locks held as `holder` (this instance's id, unique among the
    /// instances on the database) with leases of `ttl`.
    pub fn new(store: Store, holder: String, ttl: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                mutexes: Mutex::default(),
                leases: Mutex::default(),
                store,
                holder,
                ttl,
                renewer: CancellationToken::new(),
            }),
        }
    }

    /// This instance's id in the lease table.
    pub fn holder(&self) -> &str {
        &self.inner.holder
    }

    pub fn lease_time(&self) -> Duration {
        self.inner.ttl
    }

    fn entry(&self, uuid: &str) -> Entry {
        let mut map = self.inner.mutexes.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(uuid.to_string()).or_default().clone()
    }

    /// Drops the map entry once nobody holds or waits for it, so the map only
    /// holds nodes that are busy.
    fn forget_if_unused(&self, uuid: &str) {
        let mut map = self.inner.mutexes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mutex) = map.get(uuid) {
            // Only the map itself refers to it.
            if Arc::strong_count(mutex) == 1 {
                map.remove(uuid);
            }
        }
    }

    fn lease_state(&self, uuid: &str, held: bool) {
        let mut leases = self.inner.leases.lock().unwrap_or_else(|e| e.into_inner());
        leases.insert(uuid.to_string(), held);
    }

    fn lease_done(&self, uuid: &str) {
        let mut leases = self.inner.leases.lock().unwrap_or_else(|e| e.into_inner());
        leases.remove(uuid);
    }

    fn lease_snapshot(&self) -> HashMap<String, bool> {
        self.inner
            .leases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// One try at the lease of a node whose mutex `lock` holds.
    async fn try_lease(&self, lock: &mut NodeLock) -> Result<bool, StoreError> {
        if let Some(guard) = lock.guard.as_mut() {
            await_release(guard).await;
        }
        self.lease_state(&lock.uuid, false);
        // Until the database answers, the lease may be ours.
        lock.may_hold_lease = true;
        let got = self
            .inner
            .store
            .acquire_lease(&node_lease(&lock.uuid), &self.inner.holder, self.inner.ttl)
            .await?;
        lock.may_hold_lease = got;
        if got {
            self.lease_state(&lock.uuid, true);
        }
        Ok(got)
    }

    fn unleased(&self, uuid: &str, guard: EntryGuard) -> NodeLock {
        NodeLock {
            uuid: uuid.to_string(),
            guard: Some(guard),
            may_hold_lease: false,
            locks: self.clone(),
        }
    }

    /// Waits for the node's lock: this process's turn, then the lease,
    /// polled while another instance holds it.
    pub async fn lock(&self, uuid: &str) -> Result<NodeLock, StoreError> {
        let guard = self.entry(uuid).lock_owned().await;
        let mut lock = self.unleased(uuid, guard);
        loop {
            if self.try_lease(&mut lock).await? {
                return Ok(lock);
            }
            let jitter = uuid::Uuid::new_v4().as_u128() % POLL_JITTER_MS;
            tokio::time::sleep(POLL_PAUSE + Duration::from_millis(jitter as u64)).await;
        }
    }

    /// Takes the node's lock only if it is free here and in the database.
    pub async fn try_lock(&self, uuid: &str) -> Result<Option<NodeLock>, StoreError> {
        let mutex = self.entry(uuid);
        let Ok(guard) = mutex.try_lock_owned() else {
            self.forget_if_unused(uuid);
            return Ok(None);
        };
        let mut lock = self.unleased(uuid, guard);
        Ok(self.try_lease(&mut lock).await?.then_some(lock))
    }

    /// Takes the node's lock if it becomes free within `patience`: a node
    /// whose status just turned `finished` may still be releasing it.
    pub async fn lock_within(
        &self,
        uuid: &str,
        patience: Duration,
    ) -> Result<Option<NodeLock>, StoreError> {
        match tokio::time::timeout(patience, self.lock(uuid)).await {
            Ok(lock) => lock.map(Some),
            Err(_) => Ok(None),
        }
    }

    /// The lock of a node whose lease this holder has just taken over
    /// (from an instance that stopped), if nothing in this process holds
    /// the node.
    pub fn adopt(&self, uuid: &str) -> Option<NodeLock> {
        let mutex = self.entry(uuid);
        let Ok(guard) = mutex.try_lock_owned() else {
            self.forget_if_unused(uuid);
            return None;
        };
        if guard.as_ref().is_some_and(|release| !release.is_finished()) {
            // This process released the node just now and may be
            // releasing the adopted lease: leave it.
            return None;
        }
        self.lease_state(uuid, true);
        let mut lock = self.unleased(uuid, guard);
        lock.may_hold_lease = true;
        Some(lock)
    }

    /// How many nodes are locked or awaited right now in this process.
    pub fn busy(&self) -> usize {
        self.inner
            .mutexes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Extends this instance's leases once: an error is logged for each
    /// node lock found lost (another instance took its lease over), and
    /// leases no lock of this process holds (a release that failed) are
    /// given up. Returns the nodes whose lock was lost.
    pub async fn renew(&self) -> Result<Vec<String>, StoreError> {
        let before = self.lease_snapshot();
        let names = self
            .inner
            .store
            .renew_leases(&self.inner.holder, self.inner.ttl)
            .await?;
        let after = self.lease_snapshot();
        let renewed: std::collections::HashSet<&str> = names
            .iter()
            .filter_map(|n| n.strip_prefix(NODE_LEASE_PREFIX))
            .collect();
        let mut lost: Vec<String> = before
            .iter()
            .filter(|(uuid, held)| **held && after.get(*uuid) == Some(&true))
            .filter(|(uuid, _)| !renewed.contains(uuid.as_str()))
            .map(|(uuid, _)| uuid.clone())
            .collect();
        lost.sort();
        for uuid in &lost {
            tracing::error!(node = %uuid, holder = %self.inner.holder, "lost the lock of node {uuid}: its lease expired and another instance took it over");
            // Not renewed again; the work under it goes on, unprotected.
            self.lease_state(uuid, false);
        }
        for uuid in renewed.iter().filter(|u| !after.contains_key(**u)) {
            // Under the mutex, so that no lock of this process is taking
            // the lease meanwhile.
            let mutex = self.entry(uuid);
            if let Ok(mut guard) = mutex.try_lock_owned() {
                await_release(&mut guard).await;
                if !self.lease_snapshot().contains_key(*uuid) {
                    self.inner
                        .store
                        .release_lease(&node_lease(uuid), &self.inner.holder)
                        .await?;
                }
                drop(guard);
            }
            self.forget_if_unused(uuid);
        }
        Ok(lost)
    }

    /// Renews this instance's leases every third of their length until
    /// [`NodeLocks::release_all`].
    pub fn start_renewer(&self) {
        let this = self.clone();
        let stop = self.inner.renewer.clone();
        let period = self.inner.ttl / 3;
        tokio::spawn(async move {
            let mut interval =
                tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    biased;
                    _ = stop.cancelled() => break,
                    _ = interval.tick() => {}
                }
                if let Err(e) = this.renew().await {
                    tracing::warn!(error = %e, "cannot renew this instance's leases");
                }
            }
        });
    }

    /// Gives up every lease of this instance (shutdown, after the work in
    /// flight ended) and stops renewing.
    pub async fn release_all(&self) {
        self.inner.renewer.cancel();
        match self
            .inner
            .store
            .release_all_leases(&self.inner.holder)
            .await
        {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "released this instance's leases"),
            Err(e) => {
                tracing::warn!(error = %e, "cannot release this instance's leases; they expire")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreOptions;

    async fn shared_store() -> (Store, Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:///{}", dir.path().join("locks.sqlite").display());
        let options = StoreOptions {
            max_connections: 2,
            ..StoreOptions::default()
        };
        let first = crate::store::open(&url, &options).await.unwrap();
        first.upgrade().await.unwrap();
        let second = crate::store::open(&url, &options).await.unwrap();
        (first, second, dir)
    }

    async fn locks() -> (NodeLocks, tempfile::TempDir) {
        let (store, _, dir) = shared_store().await;
        (
            NodeLocks::new(store, "a".into(), Duration::from_secs(30)),
            dir,
        )
    }

    /// Waits (bounded) until the background releases are done.
    async fn idle(locks: &NodeLocks) {
        tokio::time::timeout(Duration::from_secs(5), async {
            while locks.busy() > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("locks released");
    }

    #[tokio::test]
    async fn try_lock_fails_while_held_and_succeeds_after() {
        let (locks, _dir) = locks().await;
        let held = locks.lock("a").await.unwrap();
        assert!(locks.try_lock("a").await.unwrap().is_none());
        assert!(locks.try_lock("b").await.unwrap().is_some());
        drop(held);
        idle(&locks).await;
        assert!(locks.try_lock("a").await.unwrap().is_some());
        idle(&locks).await;
        assert_eq!(locks.busy(), 0);
        assert_eq!(locks.inner.store.leases("").await.unwrap(), vec![]);
    }

    #[tokio::test]
    async fn waiters_get_the_lock_in_turn() {
        let (locks, _dir) = locks().await;
        let held = locks.lock("a").await.unwrap();
        let waiter = {
            let locks = locks.clone();
            tokio::spawn(async move { locks.lock("a").await.unwrap().uuid().to_string() })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(held);
        assert_eq!(waiter.await.unwrap(), "a");
        idle(&locks).await;
        assert_eq!(locks.busy(), 0);
    }

    /// Two instances on one database: a node locked by one is busy for
    /// the other (try_lock fails, a short wait gives up), and a waiter
    /// there gets it once the first releases it.
    #[tokio::test]
    async fn a_lock_excludes_other_instances_on_the_database() {
        let (first, second, _dir) = shared_store().await;
        let a = NodeLocks::new(first, "host-a/1".into(), Duration::from_secs(30));
        let b = NodeLocks::new(second, "host-b/1".into(), Duration::from_secs(30));
        let held = a.lock("n").await.unwrap();
        assert!(b.try_lock("n").await.unwrap().is_none());
        assert!(
            b.lock_within("n", Duration::from_millis(300))
                .await
                .unwrap()
                .is_none()
        );
        assert!(b.try_lock("other").await.unwrap().is_some());
        let waiter = {
            let b = b.clone();
            tokio::spawn(async move { b.lock("n").await.map(|l| l.uuid().to_string()) })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!waiter.is_finished());
        drop(held);
        let got = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiter gets the lock")
            .unwrap()
            .unwrap();
        assert_eq!(got, "n");
        idle(&a).await;
        idle(&b).await;
        assert!(a.try_lock("n").await.unwrap().is_some());
    }

    /// A lock whose lease another instance took over (after it expired) is
    /// reported lost by the renewer; the renewed ones are kept.
    #[tokio::test]
    async fn renewal_reports_locks_taken_over() {
        let (first, second, _dir) = shared_store().await;
        let a = NodeLocks::new(first, "host-a/1".into(), Duration::from_secs(1));
        let _kept = a.lock("kept").await.unwrap();
        let _lost = a.lock("lost").await.unwrap();
        tokio::time::sleep(Duration::from_millis(1300)).await;
        let taken = second
            .take_expired_leases(&node_lease("lost"), "host-b/1", Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(a.renew().await.unwrap(), vec!["lost".to_string()]);
        // The kept lease was renewed: another instance cannot take it.
        let b = NodeLocks::new(second, "host-b/1".into(), Duration::from_secs(30));
        assert!(b.try_lock("kept").await.unwrap().is_none());
    }

    /// A lease left by a release that failed is given up by the next
    /// renewal, which frees the node for the other instances.
    #[tokio::test]
    async fn renewal_gives_up_leases_no_lock_holds() {
        let (first, second, _dir) = shared_store().await;
        let a = NodeLocks::new(first.clone(), "host-a/1".into(), Duration::from_secs(30));
        assert!(
            first
                .acquire_lease(&node_lease("stale"), "host-a/1", Duration::from_secs(30))
                .await
                .unwrap()
        );
        let b = NodeLocks::new(second, "host-b/1".into(), Duration::from_secs(30));
        assert!(b.try_lock("stale").await.unwrap().is_none());
        assert_eq!(a.renew().await.unwrap(), Vec::<String>::new());
        assert!(b.try_lock("stale").await.unwrap().is_some());
    }
}
