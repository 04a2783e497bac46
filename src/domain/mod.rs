//! What inspector does, independent of HTTP: introspection status and its
//! state machine, rules, stored data, and (in later modules) starting,
//! aborting and processing introspection against Ironic.

mod bmc;
mod discovery;
mod error;
mod introspect;
mod lifecycle;
pub mod locks;
mod node_info;
mod periodic;
mod process;
mod pxe_inputs;
mod ramdisk_logs;
mod reapply;
mod rules;
mod status;
mod views;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use inspector_core::conf::Config;
use inspector_core::hooks::Pipeline;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use error::{Error, ErrorKind, Result};
pub use status::ListRequest;
pub use views::{ActionView, ConditionView, RuleSummaryView, RuleView, StatusView};

use crate::clock::{Clock, SystemClock};
use crate::ironic::IronicApi;
use crate::pxe_filter::PxeFilter;
use crate::store::Store;
use locks::NodeLocks;

/// How long abort and reapply wait for a busy node before answering 409.
const BUSY_PATIENCE: Duration = Duration::from_secs(2);

/// How long one API request waits for Ironic in all, retries included,
/// before answering 503; background work keeps `[ironic] max_retries` ×
/// `retry_interval` instead.
pub const API_IRONIC_PATIENCE: Duration = Duration::from_secs(10);

/// The service's domain: configuration and the ports it talks to.
pub struct Inspector {
    config: Arc<Config>,
    store: Store,
    locks: NodeLocks,
    /// Ironic for background work; see [`Inspector::ironic_for_request`].
    ironic: Arc<dyn IronicApi>,
    clock: Arc<dyn Clock>,
    /// Background work (introspection steps, periodic tasks) to drain at shutdown.
    tasks: TaskTracker,
    /// How many of `tasks` are periodic loops (they run until shutdown).
    periodic_tasks: AtomicUsize,
    shutdown: CancellationToken,
    /// When this process last powered a node on (`introspection_delay`).
    last_power_on: tokio::sync::Mutex<Option<Instant>>,
    pxe: PxeFilter,
    pipeline: Pipeline,
    /// Discovery enrolls one machine at a time (see `discovery`).
    enroll_turn: tokio::sync::Mutex<()>,
    /// Lets `&self` methods hand an owning handle to background tasks.
    me: Weak<Inspector>,
}

impl Inspector {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        ironic: impl IronicApi + 'static,
        pxe: PxeFilter,
        pipeline: Pipeline,
    ) -> Arc<Self> {
        Self::with_clock(config, store, ironic, Arc::new(SystemClock), pxe, pipeline)
    }

    /// [`Inspector::new`] reading the time from `clock`.
    pub fn with_clock(
        config: Arc<Config>,
        store: Store,
        ironic: impl IronicApi + 'static,
        clock: Arc<dyn Clock>,
        pxe: PxeFilter,
        pipeline: Pipeline,
    ) -> Arc<Self> {
        let shutdown = CancellationToken::new();
        // Every Ironic call stops retrying once the service stops.
        let ironic = ironic.stopped_by(shutdown.clone());
        Arc::new_cyclic(|me| Self {
            config,
            store,
            locks: NodeLocks::default(),
            ironic,
            clock,
            tasks: TaskTracker::new(),
            periodic_tasks: AtomicUsize::new(0),
            shutdown,
            last_power_on: tokio::sync::Mutex::new(None),
            pxe,
            pipeline,
            enroll_turn: tokio::sync::Mutex::new(()),
            me: me.clone(),
        })
    }

    /// An owning handle for background tasks. The service holds the
    /// inspector for as long as its tasks can run.
    fn handle(&self) -> Arc<Inspector> {
        self.me
            .upgrade()
            .expect("the inspector outlives its background tasks")
    }

    /// Ironic for background work: upstream's retry budget, until shutdown.
    pub fn ironic(&self) -> &Arc<dyn IronicApi> {
        &self.ironic
    }

    /// Ironic for one API request: all its calls together wait at most
    /// [`API_IRONIC_PATIENCE`]. Call once per request and pass it along.
    pub(crate) fn ironic_for_request(&self) -> Arc<dyn IronicApi> {
        self.ironic.within(API_IRONIC_PATIENCE)
    }

    /// Brings the PXE filter in line with Ironic's ports and the nodes under
    /// introspection.
    pub async fn sync_pxe_filter(&self) -> std::result::Result<(), String> {
        self.pxe
            .sync(&pxe_inputs::PxeInputs(self))
            .await
            .map_err(|e| e.to_string())
    }

    /// Sets the PXE filter up and applies a first sync (service start).
    pub async fn init_pxe_filter(&self) -> anyhow::Result<()> {
        self.pxe.init(&pxe_inputs::PxeInputs(self)).await
    }

    /// The time now, as the domain records it.
    pub(crate) fn now(&self) -> time::PrimitiveDateTime {
        self.clock.now()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn locks(&self) -> &NodeLocks {
        &self.locks
    }

    /// Background steps still running (start, processing, abort, reapply),
    /// periodic loops not counted: zero when the service is idle, which
    /// tests wait for instead of sleeping.
    pub fn background_work_in_flight(&self) -> usize {
        self.tasks
            .len()
            .saturating_sub(self.periodic_tasks.load(Ordering::Relaxed))
    }

    /// The first step of stopping, as soon as it is asked for: periodic
    /// tasks stop, Ironic retries and their pauses end, so that work in
    /// flight (API requests, background steps) ends quickly, a node whose
    /// step is cut short ending in `error` with the reason.
    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Stops periodic tasks and waits (bounded) for background work to end,
    /// so that no node is left half-written. Work still running after
    /// `grace` is dropped with the process; the start-up recovery fails the
    /// nodes it leaves in `starting` or `processing`.
    pub async fn shutdown(&self, grace: Duration) {
        self.begin_shutdown();
        self.tasks.close();
        if tokio::time::timeout(grace, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                remaining = self.tasks.len(),
                "background work did not finish in time"
            );
        }
        self.pxe.tear_down().await;
        self.store.close().await;
    }

    /// The node's UUID: a UUID-like id as it is (canonical form), anything
    /// else is a node name that Ironic resolves.
    pub async fn resolve_node(&self, node_id: &str) -> Result<String> {
        if let Some(uuid) = inspector_core::ids::canonical_uuid(node_id) {
            return Ok(uuid);
        }
        let node = self
            .ironic_for_request()
            .get_node(node_id)
            .await
            .map_err(|e| Error::node_fetch(node_id, e))?;
        Ok(node.uuid().to_string())
    }
}
