//! PXE filtering (upstream-behaviour §pxe): only nodes under introspection (and, with
//! discovery, unknown machines) may PXE-boot the introspection ramdisk.
//!
//! The framework keeps upstream's behaviour (initialised at start, synced
//! on every introspection start and finish and every `sync_period`, torn
//! down at exit) without its failure modes:
//!
//! * a sync that cannot list Ironic's ports changes nothing and the next one
//!   catches up; a sync that fails to write leaves the driver initialised
//!   and the next one rebuilds from what is really there. No failure ever
//!   disables later syncs (upstream reset the driver and every later sync
//!   failed until a restart);
//! * at start, when Ironic cannot be asked, the filter closes (dnsmasq:
//!   unknown hosts ignored; iptables: DHCP rejected) instead of staying open
//!   until Ironic answers;
//! * syncs run one at a time, and callers that queued behind a sync which
//!   started after their request share its result instead of repeating it.
//!
//! Decisions are pure functions of `inspector_core::pxe`; the drivers here
//! do the I/O: `dnsmasq` (hosts directory files), `iptables` (one chain),
//! both running commands only through `runner`.

pub mod dnsmasq;
pub mod error;
pub mod iptables;
pub mod runner;

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use inspector_core::conf::{Config, PxeDriver};
use inspector_core::pxe::iptables::Rules;
use inspector_core::pxe::{MacSets, Policy, PortAddress, command, eoib, mac_sets};

use dnsmasq::DnsmasqFilter;
pub use error::{HostsDirError, PortsUnavailable, PxeFilterError};
use iptables::IptablesFilter;
use runner::CommandRunner;

/// Longest a filter command may run before it is killed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How many invalid port addresses a sync names in its warning.
const REJECTED_SHOWN: usize = 5;

/// The boxed future of a [`SyncInputs`] read.
pub type InputFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One of Ironic's ports, as the filter needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IronicPort {
    pub address: String,
    /// `extra.client-id` (InfiniBand).
    pub client_id: Option<String>,
}

/// What a sync reads, supplied by the domain from its node cache and from
/// Ironic. Read while the sync holds the filter, and only what the driver
/// needs (iptables asks for ports only while DHCP is open), so that callers
/// sharing a sync share its reads.
pub trait SyncInputs: Send + Sync {
    /// Whether any introspection is under way.
    fn any_active(&self) -> InputFuture<'_, anyhow::Result<bool>>;
    /// The MACs of the nodes under introspection.
    fn active_macs(&self) -> InputFuture<'_, anyhow::Result<Vec<String>>>;
    /// Every port Ironic has; `Err` says why Ironic could not be asked.
    fn ironic_ports(&self) -> InputFuture<'_, Result<Vec<IronicPort>, PortsUnavailable>>;
}

enum Driver {
    /// No filtering at all.
    Noop,
    Dnsmasq(DnsmasqFilter),
    Iptables(IptablesFilter),
}

struct Slot {
    driver: Driver,
    initialized: bool,
    /// Sync requests up to this number are covered by a successful sync
    /// that read its inputs after they were made.
    covered: u64,
}

pub struct PxeFilter {
    slot: tokio::sync::Mutex<Slot>,
    periodic: bool,
    policy: Policy,
    /// `/sys/class/net/<iface>/eth/neighs` of `[iptables] ethoib_interfaces`.
    neighbour_tables: Vec<(String, String)>,
    /// Sync requests so far.
    requested: AtomicU64,
}

/// Why a sync did not apply anything.
enum Skip {
    /// Ironic's ports could not be listed; nothing was changed.
    IronicUnavailable,
}

impl PxeFilter {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let prefix = command::split(&config.pxe_filter.command_prefix)
            .map_err(|e| anyhow!("[pxe_filter] command_prefix cannot be split into words: {e}"))?;
        let runner = Arc::new(CommandRunner::new(prefix, COMMAND_TIMEOUT));
        let driver = match config.pxe_filter.driver {
            PxeDriver::Noop => Driver::Noop,
            PxeDriver::Dnsmasq => {
                Driver::Dnsmasq(DnsmasqFilter::new(&config.dnsmasq_pxe_filter, runner)?)
            }
            PxeDriver::Iptables => Driver::Iptables(IptablesFilter::new(&config.iptables, runner)?),
        };
        let neighbour_tables = config
            .iptables
            .ethoib_interfaces
            .iter()
            .map(|iface| eoib::neighbours_path(iface).map(|path| (iface.clone(), path)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow!(e))?;
        Ok(Self {
            periodic: !matches!(driver, Driver::Noop),
            slot: tokio::sync::Mutex::new(Slot {
                driver,
                initialized: false,
                covered: 0,
            }),
            policy: Policy {
                deny_unknown_macs: config.pxe_filter.deny_unknown_macs,
                discovery: config.processing.node_not_found_hook.is_some(),
            },
            neighbour_tables,
            requested: AtomicU64::new(0),
        })
    }

    /// Whether the driver must be re-synced on a timer.
    pub fn needs_periodic_sync(&self) -> bool {
        self.periodic
    }

    /// Prepares the driver and applies a first sync; a failure must stop
    /// the service.
    pub async fn init(&self, inputs: &dyn SyncInputs) -> anyhow::Result<()> {
        let mut slot = self.slot.lock().await;
        if slot.initialized {
            return Ok(());
        }
        let started = Instant::now();
        let ticket = self.requested.load(Ordering::SeqCst);
        match &mut slot.driver {
            Driver::Noop => {}
            Driver::Dnsmasq(filter) => {
                filter.init().await?;
                let active = inputs.any_active().await?;
                match self.mac_sets(inputs).await? {
                    Ok(sets) => {
                        filter.apply(&sets, &self.policy, active).await?;
                    }
                    Err(Skip::IronicUnavailable) => {
                        tracing::warn!(
                            "Ironic is unavailable: dnsmasq ignores every host until the next sync"
                        );
                        filter.fail_closed().await?;
                    }
                }
                filter.start().await?;
            }
            Driver::Iptables(filter) => {
                filter.init().await?;
                let rules = match self.iptables_rules(inputs).await? {
                    Ok(rules) => rules,
                    Err(Skip::IronicUnavailable) => {
                        tracing::warn!(
                            "Ironic is unavailable: DHCP is rejected until the next sync"
                        );
                        Rules::RejectAll
                    }
                };
                filter.apply(rules).await?;
            }
        }
        slot.initialized = true;
        slot.covered = ticket;
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "the PXE filter is initialized"
        );
        Ok(())
    }

    /// Undoes what the driver set up (chains removed, dnsmasq stopped);
    /// later syncs do nothing.
    pub async fn tear_down(&self) {
        let mut slot = self.slot.lock().await;
        if !slot.initialized {
            return;
        }
        match &mut slot.driver {
            Driver::Noop => {}
            Driver::Dnsmasq(filter) => filter.stop().await,
            Driver::Iptables(filter) => filter.tear_down().await,
        }
        slot.initialized = false;
        tracing::info!("the PXE filter is torn down");
    }

    /// Brings the filter in line with Ironic's ports and the nodes under
    /// introspection. Ironic being unavailable is not an error: the filter
    /// keeps its state and a later sync catches up.
    pub async fn sync(&self, inputs: &dyn SyncInputs) -> Result<(), PxeFilterError> {
        if !self.periodic {
            return Ok(());
        }
        let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let mut slot = self.slot.lock().await;
        if !slot.initialized {
            tracing::debug!("PXE filter not initialized; sync skipped");
            return Ok(());
        }
        if slot.covered >= ticket {
            return Ok(());
        }
        let reading = self.requested.load(Ordering::SeqCst);
        let started = Instant::now();
        let outcome = self.sync_locked(&mut slot.driver, inputs).await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &outcome {
            Ok(true) => {
                slot.covered = reading;
                tracing::debug!(elapsed_ms, "PXE filter synchronized");
            }
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, elapsed_ms, "PXE filter sync failed; the next sync will retry")
            }
        }
        outcome.map(|_| ())
    }

    /// Returns whether the sync ran to the end (`false`: skipped).
    async fn sync_locked(
        &self,
        driver: &mut Driver,
        inputs: &dyn SyncInputs,
    ) -> Result<bool, PxeFilterError> {
        let skipped = |skip: Skip| match skip {
            Skip::IronicUnavailable => {
                tracing::warn!(
                    "PXE filter not synchronized: cannot list Ironic's ports; keeping the current filter"
                );
                Ok(false)
            }
        };
        match driver {
            Driver::Noop => Ok(true),
            Driver::Dnsmasq(filter) => {
                let active = inputs.any_active().await.map_err(PxeFilterError::Inputs)?;
                let sets = match self
                    .mac_sets(inputs)
                    .await
                    .map_err(PxeFilterError::Inputs)?
                {
                    Ok(sets) => sets,
                    Err(skip) => return skipped(skip),
                };
                let written = filter.apply(&sets, &self.policy, active).await?;
                if written > 0 {
                    tracing::info!(files = written, "updated the dnsmasq hosts directory");
                }
                Ok(true)
            }
            Driver::Iptables(filter) => {
                let rules = match self
                    .iptables_rules(inputs)
                    .await
                    .map_err(PxeFilterError::Inputs)?
                {
                    Ok(rules) => rules,
                    Err(skip) => return skipped(skip),
                };
                filter.apply(rules).await?;
                Ok(true)
            }
        }
    }

    /// The chain's rules; Ironic is only asked when DHCP is open.
    async fn iptables_rules(&self, inputs: &dyn SyncInputs) -> anyhow::Result<Result<Rules, Skip>> {
        let active = inputs.any_active().await?;
        if let Some(rules) = Rules::when_closed(&self.policy, active) {
            return Ok(Ok(rules));
        }
        Ok(self
            .mac_sets(inputs)
            .await?
            .map(|sets| Rules::when_open(&self.policy, &sets)))
    }

    /// Ironic's MACs split by introspection.
    async fn mac_sets(&self, inputs: &dyn SyncInputs) -> anyhow::Result<Result<MacSets, Skip>> {
        let active_macs: HashSet<String> = inputs.active_macs().await?.into_iter().collect();
        let ports = match inputs.ironic_ports().await {
            Ok(ports) => ports,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list Ironic's ports for the PXE filter");
                return Ok(Err(Skip::IronicUnavailable));
            }
        };
        let tables = self.read_neighbour_tables().await;
        let addresses: Vec<PortAddress<'_>> = ports
            .iter()
            .map(|p| PortAddress {
                address: &p.address,
                client_id: p.client_id.as_deref(),
            })
            .collect();
        let table_texts: Vec<&str> = tables.iter().map(String::as_str).collect();
        let sets = mac_sets(&addresses, &active_macs, &table_texts);
        if !sets.rejected.is_empty() {
            tracing::warn!(
                count = sets.rejected.len(),
                examples = ?sets.rejected.iter().take(REJECTED_SHOWN).collect::<Vec<_>>(),
                "Ironic ports whose address is not a MAC address are left out of the PXE filter"
            );
        }
        Ok(Ok(sets))
    }

    async fn read_neighbour_tables(&self) -> Vec<String> {
        let mut tables = Vec::new();
        for (iface, path) in &self.neighbour_tables {
            match tokio::fs::read_to_string(path).await {
                Ok(text) => tables.push(text),
                Err(_) => {
                    tracing::error!(interface = %iface, "interface is not Ethernet over InfiniBand; skipping it")
                }
            }
        }
        tables
    }
}
