//! A node being processed: its Ironic document and ports, kept current as
//! hooks and rules change them, and the Ironic operations they ask for.
//!
//! The hooks' node patches are gathered and sent as one PATCH (upstream
//! sends one per hook): each is applied to the local document at once, so
//! the next hook sees the node as it would after Ironic's answer. The hooks'
//! port calls do not wait for them: no port call reads the node's fields,
//! so the batch stays whole and goes to Ironic at the end of the hooks
//! (also when a hook fails), before rules and before a trait call.

use inspector_core::hooks::{NodeOp, NodeView};
use inspector_core::json_patch;
use serde_json::{Value, json};

use std::sync::Arc;

use super::{Error, Result};
use crate::ironic::{IronicApi, IronicError, Node, document_uuid};

pub(crate) struct NodeInfo<'a> {
    /// Ironic for background work.
    ironic: &'a Arc<dyn IronicApi>,
    pub uuid: String,
    pub node: Node,
    /// Ironic's port documents, kept as plain values so the hooks read
    /// them (and the node) in place rather than from a copy per hook.
    ports: Option<Vec<Value>>,
    /// Node patches applied locally but not sent, one entry per hook's
    /// patch, so a refused batch can be replayed as upstream sends it.
    pending: Vec<Vec<Value>>,
    /// The `reset_interfaces` of every pending patch (they never mix).
    pending_reset: bool,
    /// Whether Ironic changed the node in a way `node` does not show (a
    /// trait added or removed: Ironic answers those without the node).
    stale: bool,
}

const UPDATE_NODE: &str = "update node properties";

/// The port fields the processing hooks read (the standard hooks match
/// ports by address and compare `pxe_enabled`; the LLDP hooks read the
/// switch fields); Ironic serializes nothing else.
const HOOK_PORT_FIELDS: &str = "uuid,address,pxe_enabled,local_link_connection,physical_network";

impl<'a> NodeInfo<'a> {
    pub fn new(ironic: &'a Arc<dyn IronicApi>, node: Node) -> Self {
        Self {
            ironic,
            uuid: node.uuid().to_string(),
            node,
            ports: None,
            pending: Vec::new(),
            pending_reset: false,
            stale: false,
        }
    }

    /// The node and its ports as a hook sees them. The ports are fetched
    /// once, then kept current from Ironic's answers to our port changes;
    /// fetched again when an outcome is unknown.
    pub async fn view(&mut self) -> Result<NodeView<'_>> {
        if self.ports.is_none() {
            let ports = self
                .ironic
                .node_ports(&self.uuid, HOOK_PORT_FIELDS)
                .await
                .map_err(|e| Error::node_operation("list ports", &self.uuid, e))?;
            self.ports = Some(ports.into_iter().map(|p| p.0).collect());
        }
        Ok(NodeView {
            node: &self.node.0,
            ports: self.ports.as_deref().unwrap_or_default(),
        })
    }

    /// Brings the node up to date with Ironic, e.g. before rules see it:
    /// the queued patches are sent, and the node is read again only when a
    /// change we made is not in the local document. Every PATCH answers
    /// with the whole node as Ironic has it, which replaces the local one,
    /// so after the hooks' patches the document is already Ironic's (upstream
    /// drops its cache and reads the node again here; only a change made by
    /// someone else within those milliseconds could tell the two apart).
    pub async fn refresh(&mut self) -> Result<()> {
        self.flush().await?;
        if self.stale {
            self.node = self
                .ironic
                .get_node(&self.uuid)
                .await
                .map_err(|e| Error::node_fetch(&self.uuid, e))?;
            self.stale = false;
        }
        Ok(())
    }

    /// Runs a rule's operations in order, each sent at once.
    pub async fn execute(&mut self, ops: Vec<NodeOp>) -> Result<()> {
        self.flush().await?;
        for op in ops {
            self.execute_one(op, false).await?;
        }
        Ok(())
    }

    /// Runs a hook's operations in order; node patches are only queued (see
    /// the module's comment), the caller ends with [`NodeInfo::flush`].
    pub async fn queue(&mut self, ops: Vec<NodeOp>) -> Result<()> {
        for op in ops {
            self.execute_one(op, true).await?;
        }
        Ok(())
    }

    /// Sends the queued node patches as one PATCH; Ironic's answer replaces
    /// the local document.
    pub async fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let groups = std::mem::take(&mut self.pending);
        let reset_interfaces = self.pending_reset;
        let combined = groups.concat();
        match self.patch(&combined, reset_interfaces).await {
            Ok(()) => Ok(()),
            Err(IronicError::Rejected { .. } | IronicError::Conflict { .. })
                if groups.len() > 1 =>
            {
                // Upstream would have applied the patches before the refused
                // one and failed with that one's error: replay to match it.
                tracing::info!(node = %self.uuid, patches = groups.len(), "Ironic refused the combined node patch; sending the patches one by one");
                for group in &groups {
                    self.patch(group, reset_interfaces)
                        .await
                        .map_err(|e| Error::node_operation(UPDATE_NODE, &self.uuid, e))?;
                }
                Ok(())
            }
            Err(e) => Err(Error::node_operation(UPDATE_NODE, &self.uuid, e)),
        }
    }

    pub async fn patch(
        &mut self,
        patch: &[Value],
        reset_interfaces: bool,
    ) -> std::result::Result<(), IronicError> {
        // Inside the macro, the copy for the log is made only when debug is on.
        tracing::debug!(node = %self.uuid, patch = %serde_json::Value::Array(patch.to_vec()), reset_interfaces, "updating node");
        self.node = self
            .ironic
            .patch_node(&self.uuid, patch, reset_interfaces)
            .await?;
        Ok(())
    }

    /// Applies a hook's node patch to the local document and queues it.
    async fn queue_patch(&mut self, patch: Vec<Value>, reset_interfaces: bool) -> Result<()> {
        if self.pending_reset != reset_interfaces {
            self.flush().await?;
        }
        let local = json_patch::apply_in_place(&mut self.node.0, &patch);
        self.pending.push(patch);
        self.pending_reset = reset_interfaces;
        match local {
            Ok(()) => Ok(()),
            Err(e) => {
                // Ironic decides and words the error, as it did before
                // batching; its answer replaces the partly patched document.
                tracing::debug!(node = %self.uuid, error = %e, "node patch not applicable locally; sending it now");
                self.flush().await
            }
        }
    }

    fn cached_port(&mut self, uuid: &str) -> Option<&mut Value> {
        self.ports
            .as_mut()?
            .iter_mut()
            .find(|p| document_uuid(p) == uuid)
    }

    async fn execute_one(&mut self, op: NodeOp, defer_node_patch: bool) -> Result<()> {
        let ironic = self.ironic.clone();
        let uuid = self.uuid.clone();
        if let NodeOp::PatchNode {
            patch,
            reset_interfaces,
        } = op
        {
            if patch.is_empty() {
                return Ok(());
            }
            if defer_node_patch {
                return self.queue_patch(patch, reset_interfaces).await;
            }
            return self
                .patch(&patch, reset_interfaces)
                .await
                .map_err(|e| Error::node_operation(UPDATE_NODE, &uuid, e));
        }
        // A trait's answer has no node, so the patches before it go first; a
        // port call does not depend on them and leaves the batch whole.
        if matches!(op, NodeOp::AddTrait(_) | NodeOp::RemoveTrait(_)) {
            self.flush().await?;
        }
        match op {
            NodeOp::PatchNode { .. } => unreachable!("handled above"),
            NodeOp::CreatePort {
                address,
                extra,
                pxe_enabled,
            } => {
                let body = json!({"node_uuid": uuid, "address": address, "extra": extra, "pxe_enabled": pxe_enabled});
                match ironic.create_port(&body).await {
                    Ok(port) => {
                        tracing::info!(node = %uuid, port = %port.uuid(), %address, pxe_enabled, "created port");
                        // Ironic lists a node's ports oldest first.
                        if let Some(ports) = self.ports.as_mut() {
                            ports.push(port.0);
                        }
                    }
                    Err(IronicError::Conflict { message }) => {
                        tracing::warn!(node = %uuid, %address, %message, "port already exists");
                        self.ports = None;
                    }
                    Err(e) => {
                        return Err(Error::node_operation(
                            &format!("create port {address}"),
                            &uuid,
                            e,
                        ));
                    }
                }
            }
            NodeOp::PatchPort {
                uuid: port,
                patch,
                tolerate_rejection,
            } => {
                if patch.is_empty() {
                    return Ok(());
                }
                match ironic.patch_port(&port, &patch, &uuid).await {
                    Ok(updated) => {
                        let shown = Value::Array(patch);
                        tracing::debug!(node = %uuid, %port, patch = %shown, "updated port");
                        match self.cached_port(&port) {
                            Some(cached) => *cached = updated.0,
                            None => self.ports = None,
                        }
                    }
                    Err(
                        IronicError::Rejected { message, .. } | IronicError::Conflict { message },
                    ) if tolerate_rejection => {
                        tracing::warn!(node = %uuid, %port, %message, "Ironic refused the port update; ignored");
                        self.ports = None;
                    }
                    Err(e) => {
                        return Err(Error::node_operation(
                            &format!("update port {port}"),
                            &uuid,
                            e,
                        ));
                    }
                }
            }
            NodeOp::DeletePort {
                uuid: port,
                address,
            } => {
                match ironic.delete_port(&port, &uuid).await {
                    Ok(()) => tracing::info!(node = %uuid, %port, %address, "deleted port"),
                    Err(e) if e.is_not_found() => {}
                    Err(e) => {
                        return Err(Error::node_operation(
                            &format!("delete port {address}"),
                            &uuid,
                            e,
                        ));
                    }
                }
                // Either way the port is gone.
                if let Some(ports) = self.ports.as_mut() {
                    ports.retain(|p| document_uuid(p) != port);
                }
            }
            NodeOp::AddTrait(name) => {
                self.stale = true;
                ironic
                    .add_trait(&uuid, &name)
                    .await
                    .map_err(|e| Error::node_operation(&format!("add trait {name}"), &uuid, e))?;
            }
            NodeOp::RemoveTrait(name) => match ironic.remove_trait(&uuid, &name).await {
                Ok(()) => self.stale = true,
                Err(e) if e.is_not_found() => {
                    tracing::debug!(node = %uuid, trait_name = %name, "trait was not set")
                }
                Err(e) => {
                    return Err(Error::node_operation(
                        &format!("remove trait {name}"),
                        &uuid,
                        e,
                    ));
                }
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ironic::fake::{FakeIronic, Op};

    #[tokio::test]
    async fn the_node_is_read_again_only_after_a_change_its_document_does_not_show() {
        let fake = Arc::new(FakeIronic::new());
        let uuid = fake.add_node(json!({}));
        let ironic: Arc<dyn IronicApi> = fake.clone();
        let node = ironic.get_node(&uuid).await.unwrap();
        let mut info = NodeInfo::new(&ironic, node);
        let patch = vec![json!({"op": "add", "path": "/extra/seen", "value": "yes"})];
        info.queue(vec![NodeOp::PatchNode {
            patch,
            reset_interfaces: false,
        }])
        .await
        .unwrap();

        // The queued patch goes out; its answer is the node.
        info.refresh().await.unwrap();
        assert_eq!(fake.calls_of(Op::PatchNode).len(), 1);
        assert_eq!(fake.calls_of(Op::GetNode).len(), 1);
        assert_eq!(info.node.extra()["seen"], "yes");

        // A trait's answer has no node: the next refresh reads it.
        info.execute(vec![NodeOp::AddTrait("CUSTOM_SEEN".into())])
            .await
            .unwrap();
        info.refresh().await.unwrap();
        assert_eq!(fake.calls_of(Op::GetNode).len(), 2);
        assert_eq!(info.node.traits(), ["CUSTOM_SEEN"]);
        info.refresh().await.unwrap();
        assert_eq!(fake.calls_of(Op::GetNode).len(), 2);
    }
}
