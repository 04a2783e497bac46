//! What inspector does, independent of HTTP. One service per flow, each in
//! its own file and holding only what it uses:
//! - [`Introspection`] (introspection.rs): start and abort;
//! - [`Processing`] (processing.rs, reapply.rs, ramdisk_logs.rs): the ramdisk
//!   callback and reapply, with discovery (discovery.rs) for nodes the cache
//!   does not know;
//! - [`Rules`] (rules.rs), [`Statuses`] (status.rs), [`Periodic`] (periodic.rs).
//!
//! What the flows share is one `Lifecycle` (lifecycle.rs: store, Ironic,
//! clock, node locks, PXE filter, state transitions) and one `Background`
//! (background.rs: task tracker and shutdown token). [`Inspector`] only
//! builds them and drains the background work at shutdown.

mod background;
mod bmc;
mod discovery;
mod error;
mod history;
mod introspection;
mod lifecycle;
pub mod locks;
mod lookup;
mod node_info;
mod periodic;
mod processing;
mod pxe_inputs;
mod ramdisk_logs;
mod reapply;
mod rules;
mod status;
mod stored_data;
mod views;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use inspector_core::conf::Config;
use inspector_core::hooks::Pipeline;

pub use error::{Error, ErrorKind, Result};
pub use history::{Diff, History};
pub use introspection::Introspection;
pub use periodic::Periodic;
pub use processing::Processing;
pub use rules::Rules;
pub use status::{ListRequest, Statuses};
pub use stored_data::swift_object_name;
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

/// This process's id in the database's lease table: `[DEFAULT] host`, which
/// names the instance to operators, and a random suffix, which tells a
/// restarted instance from its previous life.
fn instance_holder(host: &str) -> String {
    let host = if host.is_empty() { "inspector" } else { host };
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}/{}", &suffix[..8])
}

/// The service's domain: the flows, each a service with its own
/// dependencies, and the background work they share.
pub struct Inspector {
    config: Arc<Config>,
    lifecycle: Arc<Lifecycle>,
    background: Background,
    rules: Rules,
    statuses: Statuses,
    history: History,
    periodic: Periodic,
    introspection: Introspection,
    processing: Processing,
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
        let locks = NodeLocks::new(
            store.clone(),
            instance_holder(&config.default.host),
            Duration::from_secs(config.default.lock_lease_time.max(1)),
        );
        let data = stored_data::DataStore::from_config(&config, store.clone());
        let lifecycle = Arc::new(Lifecycle::new(
            store.clone(),
            ironic,
            clock.clone(),
            locks,
            pxe,
            data,
            config.processing.history_depth,
        ));
        let rules = Rules::new(store, clock, lifecycle.clone());
        let statuses = Statuses::new(lifecycle.clone(), &config);
        let history = History::new(lifecycle.clone());
        let periodic = Periodic::new(lifecycle.clone(), background.clone(), &config);
        let introspection =
            Introspection::new(lifecycle.clone(), background.clone(), config.clone());
        let processing = Processing::new(
            lifecycle.clone(),
            background.clone(),
            config.clone(),
            pipeline,
        );
        Arc::new(Self {
            config,
            lifecycle,
            background,
            rules,
            statuses,
            history,
            periodic,
            introspection,
            processing,
        })
    }

    /// Brings the PXE filter in line with Ironic's ports and the nodes under
    /// introspection.
    pub async fn sync_pxe_filter(&self) -> Result<()> {
        Ok(self.lifecycle.sync_pxe_filter().await?)
    }

    /// Sets the PXE filter up and applies a first sync (service start).
    pub async fn init_pxe_filter(&self) -> anyhow::Result<()> {
        self.lifecycle.init_pxe_filter().await
    }

    /// The rules API.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Introspection statuses, stored data, and the health checks' reads.
    pub fn statuses(&self) -> &Statuses {
        &self.statuses
    }

    /// Each node's past introspections and their differences.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Starting and aborting introspection.
    pub fn introspection(&self) -> &Introspection {
        &self.introspection
    }

    /// The ramdisk callback and reapply.
    pub fn processing(&self) -> &Processing {
        &self.processing
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
        // Work still running has been given up: its nodes are free for the
        // other instances (and for this one's next start).
        self.lifecycle.locks().release_all().await;
        self.lifecycle.pxe().tear_down().await;
        self.store().close().await;
    }
}
