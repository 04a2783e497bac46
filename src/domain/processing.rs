//! The ramdisk callback (upstream-behaviour §callback): pre-processing hooks, lookup, the node
//! lock from lookup until the node finishes, post-processing hooks, stored
//! data, the PXE filter, rules, and the power-off in the background.

use std::sync::Arc;

use inspector_core::conf::Config;
use inspector_core::hooks::addresses;
use inspector_core::hooks::{Data, Pipeline, PreFailure, lookup_attributes};
use inspector_core::state::{Event, State};
use serde_json::Value;

use super::background::Background;
use super::discovery::Discovery;
use super::lifecycle::Lifecycle;
use super::locks::NodeLock;
use super::lookup::{LookupFailure, find_node};
use super::node_info::NodeInfo;
use super::{Error, ErrorKind, Result};
use crate::store::NodeRecord;

const PRE_PROCESSING_FAILED: &str =
    "The following failures happened during running pre-processing hooks:\n";

/// The ramdisk callback and reapply: hooks, stored data and rules.
#[derive(Clone)]
pub struct Processing {
    // Reapply (reapply.rs) and the ramdisk logs (ramdisk_logs.rs) are
    // processing too, in files of their own.
    pub(super) lifecycle: Arc<Lifecycle>,
    pub(super) background: Background,
    pub(super) config: Arc<Config>,
    pub(super) pipeline: Arc<Pipeline>,
    /// Nodes the cache does not know (active nodes, enrollment).
    discovery: Discovery,
}

impl Processing {
    pub(crate) fn new(
        lifecycle: Arc<Lifecycle>,
        background: Background,
        config: Arc<Config>,
        pipeline: Pipeline,
    ) -> Self {
        let discovery = Discovery::new(lifecycle.clone(), config.clone());
        Self {
            lifecycle,
            background,
            config,
            pipeline: Arc::new(pipeline),
            discovery,
        }
    }

    /// Processes a ramdisk's document; returns the node's UUID. An error's
    /// message never repeats an address the ramdisk posted: the node's
    /// error and the log keep the full text.
    pub async fn process(&self, mut data: Data) -> Result<String> {
        let started = std::time::Instant::now();
        let result = self.process_document(&mut data).await;
        crate::metrics::callback_processed(started.elapsed());
        // Only a failure pays for the walk over the document: the hooks
        // keep every posted address in it, and may add copies.
        result.map_err(|mut err| {
            let public =
                addresses::hide_addresses(&err.message, &addresses::posted_addresses(&data));
            if public != err.message {
                tracing::warn!(error = %err.message, "callback refused");
                err.message = public;
            }
            err
        })
    }

    async fn process_document(&self, data: &mut Data) -> Result<String> {
        // As posted, before the hooks change it: kept as the text it is
        // stored as, not as a second copy of the document.
        let unprocessed = self.lifecycle.data().stored_text(data);
        let mut failures = self.pipeline.before_processing(data);
        let found = match self.find_node_for(data).await {
            Ok(found) => Some(found),
            // Nothing was looked at: the ramdisk posts the same data again.
            Err(failure) if failure.kind == ErrorKind::Unavailable => return Err(failure),
            Err(failure) => {
                failures.push(PreFailure {
                    public: failure.message.clone(),
                    message: failure.message,
                });
                None
            }
        };
        let (node, lock) = match found {
            Some(found) if failures.is_empty() => found,
            other => {
                let full = failures.iter().map(|f| f.message.as_str());
                let full = full.collect::<Vec<_>>().join("\n");
                let public = failures.iter().map(|f| f.public.as_str());
                let public = public.collect::<Vec<_>>().join("\n");
                let node = other.as_ref().map(|(node, _)| node.uuid.as_str());
                tracing::warn!(
                    node = node.unwrap_or("unknown"),
                    "{PRE_PROCESSING_FAILED}{full}"
                );
                if let Some((node, lock)) = other {
                    self.lifecycle.fail(&node.uuid, &full).await;
                    self.store_ramdisk_logs(data, Some(&node.uuid)).await;
                    drop(lock);
                } else {
                    self.store_ramdisk_logs(data, None).await;
                }
                return Err(Error::bad_request(format!(
                    "{PRE_PROCESSING_FAILED}{public}"
                )));
            }
        };
        let uuid = node.uuid.clone();
        tracing::info!(node = %uuid, "matched the ramdisk's data to a node");
        match self.process_locked(node, lock, data, unprocessed).await {
            Ok(()) => {
                if self.config.processing.always_store_ramdisk_logs {
                    self.store_ramdisk_logs(data, Some(&uuid)).await;
                }
                Ok(uuid)
            }
            Err(err) => {
                self.store_ramdisk_logs(data, Some(&uuid)).await;
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
        unprocessed: Option<String>,
    ) -> Result<()> {
        let uuid = node.uuid.as_str();
        // As upstream: losing the raw document must not fail the node.
        if let Err(e) = self
            .lifecycle
            .data()
            .save_text(uuid, false, unprocessed)
            .await
        {
            tracing::error!(node = uuid, error = %e, "cannot store the unprocessed introspection data");
        }
        let ironic_node = match self.lifecycle.ironic().get_node(uuid).await {
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
        let mut node_info = NodeInfo::new(self.lifecycle.ironic(), ironic_node);
        match self.run_post_processing(&mut node_info, data).await {
            Ok(power_off) => {
                let manage_boot = node.manage_boot;
                let this = self.clone();
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
            super::introspection::check_provision_state(&node_info.node, &self.config)?;
        self.run_post_hooks(node_info, data).await?;
        self.save_data(&node_info.uuid, true, data).await?;
        self.lifecycle.sync_pxe_filter().await?;
        self.run_rules(node_info, data).await?;
        Ok(!keep_power_on && self.config.processing.power_off)
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
            let view = node_info.view().await?;
            let update = self
                .pipeline
                .before_update(index, data, view)
                .map_err(|e| Error::bad_request(e.0))?;
            for warning in &update.warnings {
                tracing::warn!(node = %node_info.uuid, hook = name, "{warning}");
            }
            node_info.queue(update.ops).await?;
        }
        Ok(())
    }

    /// Introspection rules against the node as Ironic has it now (see
    /// [`NodeInfo::refresh`]); with no rules nothing is brought up to date.
    pub(crate) async fn run_rules(
        &self,
        node_info: &mut NodeInfo<'_>,
        data: &mut Data,
    ) -> Result<()> {
        let rules = self
            .lifecycle
            .compiled_rules()
            .current(self.lifecycle.store())
            .await?;
        if rules.is_empty() {
            return Ok(());
        }
        node_info.refresh().await?;
        // The rules read the document as one JSON value: moved in and back
        // rather than copied.
        let document = Value::Object(std::mem::take(data));
        let result = super::rules::apply(node_info, &document, &rules).await;
        if let Value::Object(fields) = document {
            *data = fields;
        }
        result
    }

    /// Stores a document where `[processing] store_data` says (nowhere
    /// when `none`). Upstream fails the node when the processed data cannot
    /// be stored, and only logs it for the unprocessed data.
    pub(crate) async fn save_data(&self, uuid: &str, processed: bool, data: &Data) -> Result<()> {
        self.lifecycle.data().save(uuid, processed, data).await
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
            if let Err(e) = self
                .lifecycle
                .ironic()
                .set_power_state(uuid, "power off")
                .await
            {
                let enroll = matches!(self.lifecycle.ironic().get_node_fields(uuid, "uuid,provision_state").await, Ok(n) if n.provision_state() == "enroll");
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
        if let Err(e) = self.lifecycle.sync_pxe_filter().await {
            tracing::warn!(node = uuid, error = %e, "PXE filter sync after processing failed; the periodic sync will retry");
        }
    }

    /// Cache lookup by BMC addresses and MACs, then the fallbacks (active
    /// node, discovery). The error's message is a failure line for the 400
    /// message.
    async fn find_node_for(&self, data: &mut Data) -> Result<(NodeRecord, NodeLock)> {
        let attrs = lookup_attributes(data);
        match find_node(&self.lifecycle, &attrs.bmc_addresses, &attrs.macs).await {
            Ok(found) => Ok(found),
            Err(LookupFailure::NotFound) => {
                if self.config.processing.permit_active_introspection {
                    match self.discovery.record_active_node(&attrs).await {
                        Ok(Some(found)) => return Ok(found),
                        Ok(None) => {}
                        Err(e) => return Err(e),
                    }
                }
                match self.config.processing.node_not_found_hook.as_deref() {
                    None => Err(Error::bad_request(format!(
                        "Look up error: {}",
                        LookupFailure::NotFound.message()
                    ))),
                    Some(hook) => self.discovery.node_not_found_hook(hook, data, &attrs).await,
                }
            }
            Err(other) => Err(other.into_error("Look up error: ")),
        }
    }
}
