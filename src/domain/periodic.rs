//! Background work that runs on a timer (upstream-behaviour §periodic): failing introspections
//! that exceeded `timeout`, forgetting nodes deleted from Ironic, and
//! recovering from an interrupted previous run.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use inspector_core::conf::Config;
use inspector_core::state::{Event, State};

use super::background::Background;
use super::lifecycle::Lifecycle;
use super::{Error, Result};

/// The timed work, and the recovery at start.
#[derive(Clone)]
pub struct Periodic {
    lifecycle: Arc<Lifecycle>,
    background: Background,
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
            clean_up_period: config.default.clean_up_period,
            timeout: config.default.timeout,
            pxe_sync_period: config.pxe_filter.sync_period,
        }
    }

    /// Starts the periodic tasks; they stop when the service shuts down.
    pub fn start(&self) {
        let period = self.clean_up_period;
        if period == 0 {
            tracing::info!(
                "clean_up_period is 0: introspection timeouts and the Ironic sync are disabled"
            );
        } else {
            let this = self.clone();
            self.every(Duration::from_secs(period), "timeouts", move || {
                let this = this.clone();
                async move { this.fail_timed_out().await.map(|_| ()) }
            });
            let this = self.clone();
            self.every(Duration::from_secs(period), "Ironic sync", move || {
                let this = this.clone();
                async move { this.forget_nodes_deleted_in_ironic().await.map(|_| ()) }
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
            let Some(lock) = self.lifecycle.locks().try_lock(&node.uuid) else {
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
            let lock = self.lifecycle.locks().lock(&uuid).await;
            self.lifecycle.store().delete_node(&uuid).await?;
            drop(lock);
            tracing::info!(node = %uuid, "node was deleted in Ironic; removed it from the cache");
            removed += 1;
        }
        Ok(removed)
    }

    /// At start, nothing can still be working on a node: with a database only
    /// this process uses, nodes left mid-step by a crash are failed instead of
    /// lingering until their timeout. `waiting` nodes keep waiting.
    pub async fn recover_interrupted(&self) -> Result<usize> {
        let mut recovered = 0;
        // Only the states a running task holds; waiting nodes, however
        // many, stay untouched and unread.
        let interrupted = [
            State::Starting,
            State::Processing,
            State::Reapplying,
            State::Enrolling,
            State::Aborting,
        ];
        for node in self.lifecycle.store().active_nodes_in(&interrupted).await? {
            let uuid = node.uuid.clone();
            let message = format!(
                "Introspection was interrupted by a restart of inspector while {}",
                node.state
            );
            match self
                .lifecycle
                .finish(&uuid, Event::Error, Some(&message))
                .await
            {
                Ok(_) => recovered += 1,
                Err(e) => {
                    tracing::warn!(node = %uuid, error = %Error::from(e), "cannot recover the node")
                }
            }
        }
        Ok(recovered)
    }
}
