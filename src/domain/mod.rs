//! What inspector does, independent of HTTP: introspection status and its
//! state machine, rules, stored data, and (in later modules) starting,
//! aborting and processing introspection against Ironic.

mod background;
mod bmc;
mod discovery;
mod error;
mod introspection;
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

use std::sync::{Arc, Weak};
use std::time::Duration;

use inspector_core::conf::Config;
use inspector_core::hooks::Pipeline;

pub use error::{Error, ErrorKind, Result};
pub use introspection::Introspection;
pub use periodic::Periodic;
pub use rules::Rules;
pub use status::{ListRequest, Statuses};
pub use views::{ActionView, ConditionView, RuleSummaryView, RuleView, StatusView};

use crate::clock::{Clock, SystemClock};
use crate::ironic::IronicApi;
use crate::pxe_filter::PxeFilter;
use crate::store::Store;
use background::Background;
use lifecycle::Lifecycle;
use locks::NodeLocks;

/// How long abort and reapply wait for a busy node before answering 409.
const BUSY_PATIENCE: Duration = Duration::from_secs(2);

/// How long one API request waits for Ironic in all, retries included,
/// before answering 503; background work keeps `[ironic] max_retries` ×
/// `retry_interval` instead.
pub const API_IRONIC_PATIENCE: Duration = Duration::from_secs(10);

/// The service's domain: the flows, each a service with its own
/// dependencies, and the background work they share.
pub struct Inspector {
    config: Arc<Config>,
    lifecycle: Arc<Lifecycle>,
    background: Background,
    pipeline: Pipeline,
    /// Discovery enrolls one machine at a time (see `discovery`).
    enroll_turn: tokio::sync::Mutex<()>,
    rules: Rules,
    statuses: Statuses,
    periodic: Periodic,
    introspection: Introspection,
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
        let background = Background::default();
        // Every Ironic call stops retrying once the service stops.
        let ironic = ironic.stopped_by(background.shutdown_token().clone());
        let lifecycle = Arc::new(Lifecycle::new(store.clone(), ironic, clock.clone(), pxe));
        let rules = Rules::new(store, clock);
        let statuses = Statuses::new(lifecycle.clone(), &config);
        let periodic = Periodic::new(lifecycle.clone(), background.clone(), &config);
        let introspection =
            Introspection::new(lifecycle.clone(), background.clone(), config.clone());
        Arc::new_cyclic(|me| Self {
            config,
            lifecycle,
            background,
            pipeline,
            enroll_turn: tokio::sync::Mutex::new(()),
            rules,
            statuses,
            periodic,
            introspection,
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
        self.lifecycle.ironic()
    }

    /// Brings the PXE filter in line with Ironic's ports and the nodes under
    /// introspection.
    pub async fn sync_pxe_filter(&self) -> std::result::Result<(), String> {
        self.lifecycle.sync_pxe_filter().await
    }

    /// Sets the PXE filter up and applies a first sync (service start).
    pub async fn init_pxe_filter(&self) -> anyhow::Result<()> {
        self.lifecycle.init_pxe_filter().await
    }

    /// The time now, as the domain records it.
    pub(crate) fn now(&self) -> time::PrimitiveDateTime {
        self.lifecycle.now()
    }

    /// The rules API.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Introspection statuses, stored data, and the health checks' reads.
    pub fn statuses(&self) -> &Statuses {
        &self.statuses
    }

    /// Starting and aborting introspection.
    pub fn introspection(&self) -> &Introspection {
        &self.introspection
    }

    /// The timed work: timeouts, the Ironic and PXE filter syncs, and the
    /// recovery at start.
    pub fn periodic(&self) -> &Periodic {
        &self.periodic
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn store(&self) -> &Store {
        self.lifecycle.store()
    }

    pub fn locks(&self) -> &NodeLocks {
        self.lifecycle.locks()
    }

    /// Background steps still running (start, processing, abort, reapply),
    /// periodic loops not counted: zero when the service is idle, which
    /// tests wait for instead of sleeping.
    pub fn background_work_in_flight(&self) -> usize {
        self.background.steps_in_flight()
    }

    /// The first step of stopping, as soon as it is asked for: periodic
    /// tasks stop, Ironic retries and their pauses end, so that work in
    /// flight (API requests, background steps) ends quickly, a node whose
    /// step is cut short ending in `error` with the reason.
    pub fn begin_shutdown(&self) {
        self.background.shutdown_token().cancel();
    }

    /// Stops periodic tasks and waits (bounded) for background work to end,
    /// so that no node is left half-written. Work still running after
    /// `grace` is dropped with the process; the start-up recovery fails the
    /// nodes it leaves in `starting` or `processing`.
    pub async fn shutdown(&self, grace: Duration) {
        self.begin_shutdown();
        if tokio::time::timeout(grace, self.background.drain())
            .await
            .is_err()
        {
            tracing::warn!(
                remaining = self.background.len(),
                "background work did not finish in time"
            );
        }
        self.lifecycle.pxe().tear_down().await;
        self.store().close().await;
    }
}
