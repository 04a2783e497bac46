//! Background work that runs on a timer (upstream-behaviour §periodic): failing introspections
//! that exceeded `timeout`, forgetting nodes deleted from Ironic, and
//! recovering from an interrupted previous run.
//!
//! Instances sharing a database elect a leader through the `leader` lease:
//! only the leader fails timed-out introspections, forgets deleted nodes and
//! fails the nodes whose lock an instance left when it stopped (its node
//! leases expired); every instance syncs its own PXE filter.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use inspector_core::conf::Config;
use inspector_core::state::{Event, State};

use super::background::Background;
use super::lifecycle::Lifecycle;
use super::locks::NODE_LEASE_PREFIX;
use super::{Error, Result};

/// The lease whose holder runs the cluster-wide periodic tasks.
pub const LEADER_LEASE: &str = "leader";

/// The states only a running task holds a node in: a node found in one of
/// them with nobody holding its lock was abandoned.
const TASK_STATES: [State; 5] = [
    State::Starting,
    State::Processing,
    State::Reapplying,
    State::Enrolling,
    State::Aborting,
];

/// The timed work, and the recovery at start.
#[derive(Clone)]
pub struct Periodic {
    lifecycle: Arc<Lifecycle>,
    background: Background,
    /// When this instance last got the leader lease, measured before it
    /// asked; `None` while it is not the leader.
    leader_since: Arc<Mutex<Option<tokio::time::Instant>>>,
    /// `[DEFAULT] leader_election_interval`, seconds.
    election_interval: u64,
    /// `[DEFAULT] clean_up_period`, seconds; 0 disables the sweeps.
    clean_up_period: u64,
    /// `[DEFAULT] timeout`, seconds; 0 disables timeouts.
    timeout: u64,
    /// `[pxe_filter] sync_period`, seconds.
    pxe_sync_period: u64,
}

impl Periodic {
    pub(crate) fn new(lifecycle: Arc<Lifecycle>, background: Background, config: &Config) -> Self {
        Self {
            lifecycle,
            background,
            leader_since: Arc::default(),
            election_interval: config.default.leader_election_interval,
            clean_up_period: config.default.clean_up_period,
            timeout: config.default.timeout,
            pxe_sync_period: config.pxe_filter.sync_period,
        }
    }

    /// How often leadership is sought or renewed: `leader_election_interval`,
    /// at most a third of the lease so that a leader renews it in time.
    fn election_period(&self) -> Duration {
        let third = self.lifecycle.locks().lease_time() / 3;
        match self.election_interval {
            0 => third,
            seconds => Duration::from_secs(seconds).min(third),
        }
    }

    /// Whether this instance is the leader now: it got the lease recently
    /// enough that the lease cannot have expired yet.
    pub fn is_leader(&self) -> bool {
        let since = *self.leader_since.lock().unwrap_or_else(|e| e.into_inner());
        let valid = self.lifecycle.locks().lease_time() * 2 / 3;
        since.is_some_and(|since| since.elapsed() < valid)
    }

    /// Takes or renews the leader lease; whether this instance leads now.
    /// Changes are logged.
    pub async fn elect(&self) -> Result<bool> {
        let locks = self.lifecycle.locks();
        let asked = tokio::time::Instant::now();
        let was_leader = self.is_leader();
        let outcome = self
            .lifecycle
            .store()
            .acquire_lease(LEADER_LEASE, locks.holder(), locks.lease_time())
            .await;
        let leader = match &outcome {
            Ok(true) => {
                *self.leader_since.lock().unwrap_or_else(|e| e.into_inner()) = Some(asked);
                true
            }
            Ok(false) => {
                *self.leader_since.lock().unwrap_or_else(|e| e.into_inner()) = None;
                false
            }
            // Still the leader until the lease may have run out.
            Err(_) => self.is_leader(),
        };
        if leader && !was_leader {
            tracing::info!(holder = %locks.holder(), "this instance is now the leader: it runs the introspection timeouts, the removal of nodes deleted in Ironic and the recovery of stopped instances' nodes");
        } else if !leader && was_leader {
            tracing::info!(holder = %locks.holder(), "this instance is no longer the leader");
        }
        outcome?;
        Ok(leader)
    }

    /// Starts the periodic tasks; they stop when the service shuts down.
    pub fn start(&self) {
        self.lifecycle.locks().start_renewer();
        let this = self.clone();
        let shutdown = self.background.shutdown_token().clone();
        let election_period = self.election_period();
        // The first election at once, so that a lone instance leads from
        // its start.
        self.background.spawn_periodic(async move {
            let mut interval = tokio::time::interval(election_period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => break,
                    _ = interval.tick() => {}
                }
                if let Err(e) = this.elect().await {
                    tracing::warn!(error = %e, "leader election failed; trying again");
                }
            }
            *this.leader_since.lock().unwrap_or_else(|e| e.into_inner()) = None;
        });
        let this = self.clone();
        self.every(
            self.lifecycle.locks().lease_time() / 3,
            "recovery of stopped instances' nodes",
            move || {
                let this = this.clone();
                async move {
                    if this.is_leader() {
                        this.fail_nodes_of_stopped_instances().await?;
                        this.fail_nodes_left_running().await?;
                    }
                    Ok(())
                }
            },
        );
        let period = self.clean_up_period;
        if period == 0 {
            tracing::info!(
                "clean_up_period is 0: introspection timeouts and the Ironic sync are disabled"
            );
        } else {
            let this = self.clone();
            self.every(Duration::from_secs(period), "timeouts", move || {
                let this = this.clone();
                async move { this.fail_timed_out_if_leader().await.map(|_| ()) }
            });
            let this = self.clone();
            self.every(Duration::from_secs(period), "Ironic sync", move || {
                let this = this.clone();
                async move {
                    if this.is_leader() {
                        this.forget_nodes_deleted_in_ironic().await?;
                    }
                    Ok(())
                }
            });
        }
        let pxe_period = self.pxe_sync_period;
        if pxe_period > 0 && self.lifecycle.pxe().needs_periodic_sync() {
            let this = self.clone();
            self.every(
                Duration::from_secs(pxe_period),
                "PXE filter sync",
                move || {
                    let this = this.clone();
                    async move { Ok(this.lifecycle.sync_pxe_filter().await?) }
                },
            );
        }
    }

    /// Runs `job` every `period` until shutdown; a failed run is logged and
    /// the next one happens as planned.
    fn every<F, Fut>(&self, period: Duration, name: &'static str, job: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send,
    {
        let shutdown = self.background.shutdown_token().clone();
        self.background.spawn_periodic(async move {
            let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                // Biased: a tick missed during a long run is ready at once,
                // and must not win over the shutdown.
                tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => break,
                    _ = interval.tick() => {}
                }
                match job().await {
                    Ok(()) => {}
                    Err(e) if shutdown.is_cancelled() => {
                        tracing::info!(task = name, error = %e, "periodic task stopped by the shutdown");
                    }
                    Err(e) => {
                        tracing::warn!(task = name, error = %e, "periodic task failed; it will run again")
                    }
                }
            }
        });
    }

    /// [`Self::fail_timed_out`] on the leader; nothing elsewhere.
    pub async fn fail_timed_out_if_leader(&self) -> Result<usize> {
        if !self.is_leader() {
            return Ok(0);
        }
        self.fail_timed_out().await
    }

    /// Fails every running introspection that started more than `timeout`
    /// seconds ago. Nodes busy right now are left for the next run.
    pub async fn fail_timed_out(&self) -> Result<usize> {
        let timeout = self.timeout;
        if timeout == 0 {
            return Ok(0);
        }
        let deadline = self.lifecycle.now()
            - time::Duration::seconds(i64::try_from(timeout).unwrap_or(i64::MAX / 2));
        let mut failed = 0;
        for node in self
            .lifecycle
            .store()
            .active_started_before(deadline)
            .await?
        {
            let Some(lock) = self.lifecycle.locks().try_lock(&node.uuid).await? else {
                tracing::debug!(node = %node.uuid, "busy; checking its timeout later");
                continue;
            };
            // Re-read under the lock: it may have finished meanwhile.
            let Some(current) = self.lifecycle.store().get_node(&node.uuid).await? else {
                continue;
            };
            if current.finished_at.is_some() {
                continue;
            }
            if current.state != State::Waiting {
                tracing::error!(node = %node.uuid, state = %current.state, "introspection timed out in a state other than waiting");
            }
            match self
                .lifecycle
                .finish(&node.uuid, Event::Timeout, Some("Introspection timeout"))
                .await
            {
                Ok(_) => failed += 1,
                Err(e) => {
                    tracing::warn!(node = %node.uuid, error = %Error::from(e), "cannot time out the node")
                }
            }
            drop(lock);
        }
        if failed > 0 {
            tracing::info!(count = failed, "introspections timed out");
            if let Err(e) = self.lifecycle.sync_pxe_filter().await {
                tracing::warn!(error = %e, "PXE filter sync after timeouts failed");
            }
        }
        Ok(failed)
    }

    /// Deletes from the cache every node Ironic no longer has.
    pub async fn forget_nodes_deleted_in_ironic(&self) -> Result<usize> {
        let in_ironic: HashSet<String> = self
            .lifecycle
            .ironic()
            .list_nodes("uuid")
            .await
            .map_err(|e| Error::unavailable(format!("cannot list Ironic nodes: {e}")))?
            .iter()
            .map(|n| n.uuid().to_string())
            .collect();
        let mut removed = 0;
        for uuid in self.lifecycle.store().all_node_uuids().await? {
            if in_ironic.contains(&uuid) {
                continue;
            }
            let lock = self.lifecycle.locks().lock(&uuid).await?;
            self.lifecycle.store().delete_node(&uuid).await?;
            drop(lock);
            tracing::info!(node = %uuid, "node was deleted in Ironic; removed it from the cache");
            removed += 1;
        }
        Ok(removed)
    }

    /// At start, the nodes a running task held (starting, processing, ...)
    /// that no instance holds the lock of were abandoned by a crash: they
    /// are failed instead of lingering until their timeout. Nodes another
    /// instance is working on are left alone; the leases of this instance's
    /// previous life (the same `[DEFAULT] host`, so hosts must differ
    /// between instances) are dead and released first. `waiting` nodes keep waiting.
    pub async fn recover_interrupted(&self) -> Result<usize> {
        let locks = self.lifecycle.locks();
        let store = self.lifecycle.store();
        let host = host_of(locks.holder());
        // The leader lease too: a restarted lone instance leads at once.
        for lease in store.leases("").await? {
            if lease.holder != locks.holder() && host_of(&lease.holder) == host {
                store.release_lease(&lease.name, &lease.holder).await?;
            }
        }
        let message = |state: State| {
            format!("Introspection was interrupted by a restart of inspector while {state}")
        };
        self.fail_unlocked_running_nodes(&HashSet::new(), message)
            .await
    }

    /// Fails, with `message(state)`, the nodes in a state only a running
    /// task holds whose lock nobody holds: every task keeps its node's lock
    /// until it has written the node's next state, so such a node was left
    /// by a task that could not write it. Nodes a task is working on, and
    /// those in `spared`, are left alone; `waiting` nodes, however many,
    /// stay untouched and unread.
    async fn fail_unlocked_running_nodes(
        &self,
        spared: &HashSet<String>,
        message: impl Fn(State) -> String,
    ) -> Result<usize> {
        let locks = self.lifecycle.locks();
        let mut failed = 0;
        for node in self.lifecycle.store().active_nodes_in(&TASK_STATES).await? {
            let uuid = node.uuid.clone();
            if spared.contains(&uuid) {
                continue;
            }
            let Some(lock) = locks.try_lock(&uuid).await? else {
                tracing::debug!(node = %uuid, state = %node.state, "a task is working on the node");
                continue;
            };
            if self.fail_abandoned(&uuid, &message).await {
                failed += 1;
            }
            drop(lock);
        }
        Ok(failed)
    }

    /// Fails the nodes a task left in a running state when it could not
    /// record their end (the database was away when it failed or
    /// finished), instead of leaving them to their timeout. Run by the
    /// leader.
    pub async fn fail_nodes_left_running(&self) -> Result<usize> {
        // A node with a lease, even an expired one, is left to
        // [`Self::fail_nodes_of_stopped_instances`], which names the
        // instance that held it.
        let leased: HashSet<String> = self
            .lifecycle
            .store()
            .leases(NODE_LEASE_PREFIX)
            .await?
            .into_iter()
            .filter_map(|l| l.name.strip_prefix(NODE_LEASE_PREFIX).map(str::to_owned))
            .collect();
        let message = |state: State| {
            format!(
                "Introspection was interrupted while {state}: its outcome could not be \
                 recorded in the database"
            )
        };
        let failed = self.fail_unlocked_running_nodes(&leased, message).await?;
        if failed > 0 {
            tracing::info!(count = failed, "failed introspections left running");
            if let Err(e) = self.lifecycle.sync_pxe_filter().await {
                tracing::warn!(error = %e, "PXE filter sync after the recovery failed");
            }
        }
        Ok(failed)
    }

    /// Fails, with `message(state)`, a node whose lock the caller holds if
    /// it is still in a state only a running task holds; whether it did.
    async fn fail_abandoned(&self, uuid: &str, message: impl Fn(State) -> String) -> bool {
        let current = match self.lifecycle.store().get_node(uuid).await {
            Ok(Some(current)) => current,
            Ok(None) => return false,
            Err(e) => {
                tracing::warn!(node = %uuid, error = %e, "cannot read the node");
                return false;
            }
        };
        if current.finished_at.is_some() || !TASK_STATES.contains(&current.state) {
            return false;
        }
        let message = message(current.state);
        match self
            .lifecycle
            .finish(uuid, Event::Error, Some(&message))
            .await
        {
            Ok(_) => {
                tracing::warn!(node = %uuid, "{message}");
                true
            }
            Err(e) => {
                tracing::warn!(node = %uuid, error = %Error::from(e), "cannot recover the node");
                false
            }
        }
    }

    /// Takes over the node locks whose lease expired (their instance
    /// stopped renewing them: killed, or cut from the database) and fails
    /// the nodes they left in a running step. Run by the leader.
    pub async fn fail_nodes_of_stopped_instances(&self) -> Result<usize> {
        let locks = self.lifecycle.locks();
        let expired = self
            .lifecycle
            .store()
            .take_expired_leases(NODE_LEASE_PREFIX, locks.holder(), locks.lease_time())
            .await?;
        let mut failed = 0;
        for lease in expired {
            let Some(uuid) = lease.name.strip_prefix(NODE_LEASE_PREFIX) else {
                continue;
            };
            // A lock of this process on the node uses the lease now.
            let Some(lock) = locks.adopt(uuid) else {
                continue;
            };
            tracing::warn!(node = %uuid, holder = %lease.holder, "the lock of the node expired: its instance stopped renewing it");
            let message = |state: State| {
                format!(
                    "Introspection was interrupted: inspector instance {} lost its lock on the node \
                     while {state} (it stopped, or could not reach the database)",
                    lease.holder
                )
            };
            if self.fail_abandoned(uuid, message).await {
                failed += 1;
            }
            drop(lock);
        }
        if failed > 0 {
            tracing::info!(
                count = failed,
                "failed introspections interrupted by a stopped instance"
            );
            if let Err(e) = self.lifecycle.sync_pxe_filter().await {
                tracing::warn!(error = %e, "PXE filter sync after the recovery failed");
            }
        }
        Ok(failed)
    }
}

/// The `[DEFAULT] host` part of a lease holder.
fn host_of(holder: &str) -> &str {
    holder.rsplit_once('/').map_or(holder, |(host, _)| host)
}
