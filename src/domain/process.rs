//! The ramdisk callback (upstream-behaviour §callback): pre-processing hooks, lookup, the node
//! lock from lookup until the node finishes, post-processing hooks, stored
//! data, the PXE filter, rules, and the power-off in the background.

use std::time::Duration;

use inspector_core::conf::StoreData;
use inspector_core::hooks::{Data, NodeView, lookup_attributes};
use inspector_core::state::{Event, State};
use serde_json::Value;

use super::locks::NodeLock;
use super::node_info::NodeInfo;
use super::{Error, ErrorKind, Inspector, Result};
use crate::store::NodeRecord;

const PRE_PROCESSING_FAILED: &str =
    "The following failures happened during running pre-processing hooks:\n";

/// How long a callback waits for a node another callback is processing.
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// The document without the ramdisk logs, which are never stored or logged.
pub(crate) fn without_logs(data: &Data) -> Value {
    let mut copy = data.clone();
    copy.shift_remove("logs");
    Value::Object(copy)
}

impl Inspector {
    /// Processes a ramdisk's document; returns the node's UUID.
    pub async fn process(&self, data: Data) -> Result<String> {
        let started = std::time::Instant::now();
        let result = self.process_document(data).await;
        crate::metrics::callback_processed(started.elapsed());
        result
    }

    async fn process_document(&self, mut data: Data) -> Result<String> {
        let unprocessed = without_logs(&data);
        let mut failures = self.pipeline.before_processing(&mut data);
        let found = match self.find_node_for(&mut data).await {
            Ok(found) => Some(found),
            Err(failure) => {
                failures.push(failure);
                None
            }
        };
        let (node, lock) = match found {
            Some(found) if failures.is_empty() => found,
            other => {
                let joined = failures.join("\n");
                if let Some((node, lock)) = other {
                    self.lifecycle.fail(&node.uuid, &joined).await;
                    self.store_ramdisk_logs(&data, Some(&node.uuid)).await;
                    drop(lock);
                } else {
                    self.store_ramdisk_logs(&data, None).await;
                }
                return Err(Error::bad_request(format!(
                    "{PRE_PROCESSING_FAILED}{joined}"
                )));
            }
        };
        let uuid = node.uuid.clone();
        tracing::info!(node = %uuid, "matched the ramdisk's data to a node");
        match self
            .process_locked(node, lock, &mut data, &unprocessed)
            .await
        {
            Ok(()) => {
                if self.config().processing.always_store_ramdisk_logs {
                    self.store_ramdisk_logs(&data, Some(&uuid)).await;
                }
                Ok(uuid)
            }
            Err(err) => {
                self.store_ramdisk_logs(&data, Some(&uuid)).await;
                Err(err)
            }
        }
    }

    /// Everything after lookup; on failure the node ends in `error`. `node`
    /// is the unfinished row lookup read under `lock`: every other writer
    /// takes that lock, so the row is still as read, and the state writes
    /// below compare-and-set on it anyway.
    async fn process_locked(
        &self,
        node: NodeRecord,
        lock: NodeLock,
        data: &mut Data,
        unprocessed: &Value,
    ) -> Result<()> {
        let uuid = node.uuid.as_str();
        self.save_data(uuid, false, unprocessed).await;
        let ironic_node = match self.ironic().get_node(uuid).await {
            Ok(n) => n,
            Err(e) => {
                let err = Error::node_fetch(uuid, e);
                self.lifecycle.fail(uuid, &err.message).await;
                return Err(err);
            }
        };
        // Strict `process`: a node in the wrong state is failed, then refused.
        let processing = match self
            .lifecycle
            .transition_from(uuid, Some(node.state), Event::Process)
            .await
        {
            Ok(state) => state,
            Err(e) => {
                let err = Error::from(e);
                self.lifecycle.fail(uuid, &err.message).await;
                return Err(err);
            }
        };
        let mut node_info = NodeInfo::new(self, ironic_node);
        match self.run_post_processing(&mut node_info, data).await {
            Ok(power_off) => {
                let manage_boot = node.manage_boot;
                let this = self.handle();
                let uuid = uuid.to_string();
                self.background.spawn(async move {
                    this.finish_processing(lock, &uuid, processing, power_off && manage_boot)
                        .await;
                });
                Ok(())
            }
            Err(err) => {
                let stored = if err.kind == ErrorKind::Internal {
                    format!("Unexpected exception during processing: {}", err.message)
                } else {
                    err.message.clone()
                };
                self.lifecycle.fail(uuid, &stored).await;
                drop(lock);
                Err(err)
            }
        }
    }

    /// Hooks, stored data, PXE filter, rules. Returns whether to power off.
    async fn run_post_processing(
        &self,
        node_info: &mut NodeInfo<'_>,
        data: &mut Data,
    ) -> Result<bool> {
        let keep_power_on =
            super::introspection::check_provision_state(&node_info.node, self.config())?;
        self.run_post_hooks(node_info, data).await?;
        self.save_data(&node_info.uuid, true, &without_logs(data))
            .await;
        self.sync_pxe_filter().await.map_err(Error::unavailable)?;
        self.run_rules(node_info, data).await?;
        Ok(!keep_power_on && self.config().processing.power_off)
    }

    /// Every hook's `before_update`; their node patches go to Ironic as one
    /// PATCH at the latest when the hooks are done, also when one fails.
    pub(crate) async fn run_post_hooks(
        &self,
        node_info: &mut NodeInfo<'_>,
        data: &mut Data,
    ) -> Result<()> {
        let result = self.run_post_hooks_queued(node_info, data).await;
        // The queued patches came from hooks that ran before any failure, so
        // upstream had sent them: they reach Ironic, and their refusal is the
        // failure upstream would have met first.
        node_info.flush().await?;
        result
    }

    async fn run_post_hooks_queued(
        &self,
        node_info: &mut NodeInfo<'_>,
        data: &mut Data,
    ) -> Result<()> {
        for index in 0..self.pipeline.len() {
            let name = self.pipeline.name(index);
            let ports = node_info.port_values().await?;
            let node = node_info.node.0.clone();
            let update = self
                .pipeline
                .before_update(
                    index,
                    data,
                    NodeView {
                        node: &node,
                        ports: &ports,
                    },
                )
                .map_err(|e| Error::bad_request(e.0))?;
            for warning in &update.warnings {
                tracing::warn!(node = %node_info.uuid, hook = name, "{warning}");
            }
            node_info.queue(update.ops).await?;
        }
        Ok(())
    }

    /// Introspection rules against the node as Ironic has it now; with no
    /// rules there is nothing to re-read the node for (upstream does not
    /// either: its node cache reloads lazily).
    pub(crate) async fn run_rules(&self, node_info: &mut NodeInfo<'_>, data: &Data) -> Result<()> {
        let rules = self.store().all_rules().await?;
        if rules.is_empty() {
            return Ok(());
        }
        node_info.refresh().await?;
        super::rules::apply(node_info, data, &rules).await
    }

    /// Stores a document when `store_data = database`; a failure is logged,
    /// as upstream does, since it must not fail the introspection.
    pub(crate) async fn save_data(&self, uuid: &str, processed: bool, data: &Value) {
        if self.config().processing.store_data != StoreData::Database {
            return;
        }
        if let Err(e) = self
            .store()
            .store_data(uuid, processed, &data.to_string())
            .await
        {
            tracing::error!(node = uuid, processed, error = %e, "cannot store introspection data");
        }
    }

    /// The background end of processing: power off, then `finished`.
    /// `processing` is the state the callback left the node in.
    async fn finish_processing(
        &self,
        lock: NodeLock,
        uuid: &str,
        processing: State,
        power_off: bool,
    ) {
        if power_off {
            if let Err(e) = self.ironic().set_power_state(uuid, "power off").await {
                let enroll = matches!(self.ironic().get_node(uuid).await, Ok(n) if n.provision_state() == "enroll");
                if enroll {
                    tracing::info!(node = uuid, error = %e, "cannot power off a node in enroll state; ignored");
                } else {
                    let message = format!(
                        "Failed to power off node {uuid}, check its power management configuration: {e}"
                    );
                    self.lifecycle.fail(uuid, &message).await;
                    return;
                }
            } else {
                tracing::info!(node = uuid, "node powered off");
            }
        }
        if let Err(e) = self
            .lifecycle
            .finish_from(uuid, Some(processing), Event::Finish, None)
            .await
        {
            tracing::warn!(node = uuid, error = %Error::from(e), "cannot mark the node finished");
        }
        drop(lock);
        // The node's MACs may no longer boot the ramdisk.
        if let Err(e) = self.sync_pxe_filter().await {
            tracing::warn!(node = uuid, error = %e, "PXE filter sync after processing failed; the periodic sync will retry");
        }
    }

    /// Cache lookup by BMC addresses and MACs, then the fallbacks (active
    /// node, discovery). The error is a failure line for the 400 message.
    async fn find_node_for(
        &self,
        data: &mut Data,
    ) -> std::result::Result<(NodeRecord, NodeLock), String> {
        let attrs = lookup_attributes(data);
        match self.lookup(&attrs.bmc_addresses, &attrs.macs).await {
            Ok(found) => Ok(found),
            Err(LookupFailure::NotFound) => {
                if self.config().processing.permit_active_introspection {
                    match self.record_active_node(&attrs).await {
                        Ok(Some(found)) => return Ok(found),
                        Ok(None) => {}
                        Err(e) => return Err(e.message),
                    }
                }
                match self.config().processing.node_not_found_hook.as_deref() {
                    None => Err(format!(
                        "Look up error: {}",
                        LookupFailure::NotFound.message()
                    )),
                    Some(hook) => self.node_not_found_hook(hook, data, &attrs).await,
                }
            }
            Err(other) => Err(format!("Look up error: {}", other.message())),
        }
    }

    /// `find_node` of upstream-behaviour §find-node: the node owning most of the attributes,
    /// locked, with its row as read under the lock; ties and finished nodes
    /// are failures.
    pub(crate) async fn lookup(
        &self,
        bmc: &[String],
        macs: &[String],
    ) -> std::result::Result<(NodeRecord, NodeLock), LookupFailure> {
        let pairs: Vec<(String, String)> = bmc
            .iter()
            .map(|b| ("bmc_address".to_string(), b.clone()))
            .chain(macs.iter().map(|m| ("mac".to_string(), m.clone())))
            .collect();
        let scores = self
            .store()
            .find_by_attributes(&pairs)
            .await
            .map_err(|e| LookupFailure::Internal(e.to_string()))?;
        let best = scores
            .iter()
            .map(|(_, s)| *s)
            .max()
            .ok_or(LookupFailure::NotFound)?;
        let winners: Vec<&String> = scores
            .iter()
            .filter(|(_, s)| *s == best)
            .map(|(u, _)| u)
            .collect();
        if winners.len() > 1 {
            tracing::warn!(nodes = ?winners, bmc = ?bmc, macs = ?macs, "several nodes match the ramdisk's data equally");
            return Err(LookupFailure::Ambiguous);
        }
        let uuid = winners[0].clone();
        let lock = tokio::time::timeout(LOCK_WAIT, self.locks().lock(&uuid))
            .await
            .map_err(|_| LookupFailure::Busy)?;
        // Read under the lock: another callback may have finished the node
        // while this one waited.
        match self.store().get_node(&uuid).await {
            Ok(Some(node)) if node.finished_at.is_none() => Ok((node, lock)),
            Ok(Some(node)) => {
                tracing::warn!(node = %uuid, finished_at = ?node.finished_at, "data posted for a node whose introspection already finished");
                Err(LookupFailure::NotFound)
            }
            Ok(None) => Err(LookupFailure::NotFound),
            Err(e) => Err(LookupFailure::Internal(e.to_string())),
        }
    }
}

/// Why lookup failed. The texts are deliberately generic: the callback is
/// unauthenticated, and naming nodes or attributes would help an attacker
/// (upstream-behaviour §lookup-errors); details go to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LookupFailure {
    NotFound,
    Ambiguous,
    Busy,
    Internal(String),
}

impl LookupFailure {
    pub(crate) fn message(&self) -> String {
        match self {
            LookupFailure::NotFound => {
                "Could not find a node under introspection for the data posted".into()
            }
            LookupFailure::Ambiguous => "The data posted matches several nodes equally".into(),
            LookupFailure::Busy => "The node is being processed, please retry later".into(),
            LookupFailure::Internal(e) => {
                tracing::error!(error = %e, "lookup failed");
                "Lookup failed because of an internal error".into()
            }
        }
    }
}
