//! Starting and aborting introspection (upstream-behaviour §start, §abort).

use std::sync::Arc;
use std::time::{Duration, Instant};

use inspector_core::conf::Config;
use inspector_core::state::{Event, State};
use serde_json::Value;

use super::background::Background;
use super::lifecycle::Lifecycle;
use super::locks::NodeLock;
use super::{Error, Result, bmc};
use crate::ironic::{IronicApi, Node};
use crate::store::NodeRecord;

/// The node's fields a start reads: the provision state to check, the
/// driver info for the BMC address and the persistent boot flag.
const START_NODE_FIELDS: &str = "uuid,provision_state,driver_info";

/// Provision states introspection may start from.
pub const VALID_STATES: [&str; 5] = [
    "enroll",
    "manageable",
    "inspecting",
    "inspect wait",
    "inspect failed",
];
/// Further states allowed with `permit_active_introspection`.
pub const VALID_ACTIVE_STATES: [&str; 2] = ["active", "rescue"];

fn python_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// Upstream's `force_persistent_boot_device` reading.
fn persistent_boot(node: &Node) -> bool {
    match node.driver_info().get("force_persistent_boot_device") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => match s.as_str() {
            "Always" => true,
            "Default" | "Never" => false,
            // oslo's lenient bool_from_string: anything unknown is false.
            other => matches!(
                other.to_lowercase().as_str(),
                "1" | "t" | "true" | "on" | "y" | "yes"
            ),
        },
        _ => false,
    }
}

/// Whether the node's provision state allows introspection; true when it
/// is an active state (power must then stay on), which only
/// `[processing] permit_active_introspection` allows.
pub(crate) fn check_provision_state(node: &Node, config: &Config) -> Result<bool> {
    let state = node.provision_state().to_lowercase();
    if VALID_STATES.contains(&state.as_str()) {
        return Ok(false);
    }
    if config.processing.permit_active_introspection
        && VALID_ACTIVE_STATES.contains(&state.as_str())
    {
        return Ok(true);
    }
    Err(Error::bad_request(format!(
        "Invalid provision state for introspection: \"{state}\", valid states are \"{}\"",
        python_list(&VALID_STATES)
    )))
}

/// Starting and aborting introspection.
#[derive(Clone)]
pub struct Introspection {
    lifecycle: Arc<Lifecycle>,
    background: Background,
    config: Arc<Config>,
    /// When this process last powered a node on (`introspection_delay`).
    last_power_on: Arc<tokio::sync::Mutex<Option<Instant>>>,
}

impl Introspection {
    pub(crate) fn new(
        lifecycle: Arc<Lifecycle>,
        background: Background,
        config: Arc<Config>,
    ) -> Self {
        Self {
            lifecycle,
            background,
            config,
            last_power_on: Arc::default(),
        }
    }

    /// The synchronous part of `POST /v1/introspection/{node_id}`; the rest
    /// runs in the background when inspector manages boot.
    pub async fn start(&self, node_id: &str, manage_boot: bool) -> Result<()> {
        if manage_boot && !self.config.default.can_manage_boot {
            return Err(Error::bad_request(
                "Managed boot is requested, but this installation cannot manage boot ((can_manage_boot set to False)",
            ));
        }
        // One deadline for all of this request's Ironic calls.
        let ironic = self.lifecycle.ironic_for_request();
        let node = ironic
            .get_node_fields(node_id, START_NODE_FIELDS)
            .await
            .map_err(|e| Error::node_fetch(node_id, e))?;
        let uuid = node.uuid().to_string();
        check_provision_state(&node, &self.config)?;
        if manage_boot {
            let validation = ironic.validate_node(&uuid).await.map_err(Error::from)?;
            let power = &validation["power"];
            if power["result"].as_bool() != Some(true) {
                let reason = power["reason"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| power["reason"].to_string());
                return Err(Error::bad_request(format!(
                    "Failed validation of power interface: {reason}"
                )));
            }
        }
        // Upstream did not lock here (upstream-behaviour §q11) and a start could
        // interleave with processing; we hold the node's lock throughout. A
        // state that refuses `start` is reported first, as upstream does.
        self.refuse_start_in_wrong_state(&uuid).await?;
        // A node that just finished is still locked for the instant between
        // its final write and the release: wait a little, as abort does.
        let lock = self
            .lifecycle
            .lock_or_conflict(&uuid, "Node is locked, please, retry later")
            .await?;
        // The state may have moved while we waited.
        self.refuse_start_in_wrong_state(&uuid).await?;
        let host = bmc::bmc_host(node.driver_info(), &self.config.default.ipmi_address_fields);
        let bmc = bmc::resolve(host, &uuid).await;
        let bmc_values = bmc.lookup_values();
        let record = NodeRecord {
            uuid: uuid.clone(),
            state: State::Starting,
            started_at: Some(self.lifecycle.now()),
            finished_at: None,
            error: None,
            manage_boot,
        };
        let attributes: Vec<(&str, &str)> = bmc_values
            .iter()
            .map(|v| ("bmc_address", v.as_str()))
            .collect();
        self.lifecycle
            .store()
            .add_node(&record, &attributes)
            .await?;
        tracing::info!(node = %uuid, manage_boot, bmc = ?bmc_values, "introspection started");

        if manage_boot {
            let this = self.clone();
            self.background.spawn(async move {
                let ironic = this.lifecycle.ironic().clone();
                this.prepare_node(lock, node, true, ironic.as_ref())
                    .await
                    .ok();
            });
            Ok(())
        } else {
            // Ironic boots the node itself right after this call returns, so
            // failures must reach it now, within the request's deadline.
            self.prepare_node(lock, node, false, ironic.as_ref()).await
        }
    }

    /// Steps 7-10 of upstream-behaviour §start: lookup attributes, PXE
    /// filter, boot device and power; ends in `waiting`, or in `error` with
    /// the reason (also when shutdown cuts a step short).
    async fn prepare_node(
        &self,
        lock: NodeLock,
        node: Node,
        manage_boot: bool,
        ironic: &dyn IronicApi,
    ) -> Result<()> {
        let uuid = lock.uuid().to_string();
        let outcome = self
            .prepare_node_steps(&uuid, &node, manage_boot, ironic)
            .await;
        match outcome {
            Ok(()) => match self.lifecycle.transition(&uuid, Event::Wait).await {
                Ok(_) => Ok(()),
                Err(e) => {
                    let err = Error::from(e);
                    tracing::warn!(node = %uuid, error = %err, "node changed state while starting");
                    Err(err)
                }
            },
            Err(err) => {
                self.lifecycle.fail(&uuid, &err.message).await;
                Err(err)
            }
        }
    }

    async fn prepare_node_steps(
        &self,
        uuid: &str,
        node: &Node,
        manage_boot: bool,
        ironic: &dyn IronicApi,
    ) -> Result<()> {
        // Only the addresses: they become the lookup attributes.
        let ports = ironic.node_ports(uuid, "address").await.map_err(|e| {
            Error::unavailable(format!("Cannot list the ports of node {uuid}: {e}"))
        })?;
        let macs: Vec<String> = ports
            .iter()
            .map(|p| p.address().to_lowercase())
            .filter(|m| !m.is_empty())
            .collect();
        if !macs.is_empty() {
            self.lifecycle
                .store()
                .add_attributes(uuid, "mac", &macs)
                .await?;
            tracing::info!(node = uuid, macs = ?macs, "allowing these MACs to PXE boot");
            self.lifecycle.sync_pxe_filter().await?;
        }
        let has_attributes = !self
            .lifecycle
            .store()
            .node_attributes(uuid)
            .await?
            .is_empty();
        if self.config.processing.node_not_found_hook.is_none() && !has_attributes {
            return Err(Error::bad_request(
                "No lookup attributes were found, inspector won't be able to find it after introspection, \
                 consider creating ironic ports or providing an IPMI address",
            ));
        }
        if !manage_boot {
            tracing::info!(
                node = uuid,
                timeout = self.config.default.timeout,
                "introspection environment is ready; the node must be powered on externally within the timeout"
            );
            return Ok(());
        }
        ironic
            .set_boot_device(uuid, "pxe", persistent_boot(node))
            .await
            .map_err(|e| Error::bad_request(format!("Failed to set boot device to PXE: {e}")))?;
        self.wait_for_power_on_turn().await?;
        ironic
            .set_power_state(uuid, "rebooting")
            .await
            .map_err(|e| {
                Error::bad_request(format!(
                    "Failed to power on the node, check its power management configuration: {e}"
                ))
            })?;
        tracing::info!(
            node = uuid,
            "introspection started successfully: the node is rebooting"
        );
        Ok(())
    }

    /// Spaces managed power-ons `introspection_delay` seconds apart; the
    /// wait ends (with an error) when the service stops.
    async fn wait_for_power_on_turn(&self) -> Result<()> {
        let delay = Duration::from_secs(self.config.default.introspection_delay);
        if delay.is_zero() {
            return Ok(());
        }
        let mut last = self.last_power_on.lock().await;
        if let Some(previous) = *last {
            let ready = previous + delay;
            let now = Instant::now();
            if ready > now {
                tracing::debug!(
                    wait_ms = (ready - now).as_millis() as u64,
                    "waiting for the introspection delay"
                );
                tokio::select! {
                    _ = self.background.shutdown_token().cancelled() => {
                        return Err(Error::unavailable(
                            "inspector is shutting down: the node was not powered on",
                        ));
                    }
                    _ = tokio::time::sleep(ready - now) => {}
                }
            }
        }
        *last = Some(Instant::now());
        Ok(())
    }

    /// The synchronous part of abort: 404 if unknown, 409 if busy.
    pub async fn abort(&self, node_id: &str) -> Result<()> {
        let uuid = self.lifecycle.resolve_node(node_id).await?;
        let node = self.lifecycle.cached_node(&uuid).await?;
        let lock = self
            .lifecycle
            .lock_or_conflict(&uuid, "Node is locked, please, retry later")
            .await?;
        let this = self.clone();
        self.background
            .spawn(async move { this.abort_locked(lock, node.manage_boot).await });
        Ok(())
    }

    async fn refuse_start_in_wrong_state(&self, uuid: &str) -> Result<()> {
        if let Some(existing) = self.lifecycle.store().get_node(uuid).await? {
            existing
                .state
                .on(Event::Start)
                .map_err(|e| Error::bad_request(e.to_string()))?;
        }
        Ok(())
    }

    async fn abort_locked(&self, lock: NodeLock, manage_boot: bool) {
        let uuid = lock.uuid().to_string();
        if let Err(e) = self.lifecycle.transition(&uuid, Event::Abort).await {
            tracing::warn!(node = %uuid, error = %Error::from(e), "cannot abort introspection");
            return;
        }
        if manage_boot
            && let Err(e) = self
                .lifecycle
                .ironic()
                .set_power_state(&uuid, "power off")
                .await
        {
            tracing::warn!(node = %uuid, error = %e, "failed to power off the node while aborting");
        }
        if let Err(e) = self
            .lifecycle
            .finish(&uuid, Event::AbortEnd, Some("Canceled by operator"))
            .await
        {
            tracing::warn!(node = %uuid, error = %Error::from(e), "cannot finish aborting");
        }
        drop(lock);
        if let Err(e) = self.lifecycle.sync_pxe_filter().await {
            tracing::warn!(node = %uuid, error = %e, "PXE filter sync after abort failed; the periodic sync will retry");
        }
        tracing::info!(node = %uuid, "introspection aborted");
    }
}
