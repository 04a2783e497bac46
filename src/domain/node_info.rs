//! A node being processed: its Ironic document and ports, kept current as
//! hooks and rules change them, and the Ironic operations they ask for.

use inspector_core::hooks::NodeOp;
use serde_json::{Value, json};

use super::{Error, Inspector, Result};
use crate::ironic::{IronicError, Node, Port};

pub(crate) struct NodeInfo<'a> {
    inspector: &'a Inspector,
    pub uuid: String,
    pub node: Node,
    ports: Option<Vec<Port>>,
}

fn ironic_failure(action: &str, uuid: &str, err: IronicError) -> Error {
    let message = format!("Failed to {action} for node {uuid}: {err}");
    match err {
        IronicError::Unreachable(_) | IronicError::Server { .. } => Error::unavailable(message),
        _ => Error::bad_request(message),
    }
}

impl<'a> NodeInfo<'a> {
    pub fn new(inspector: &'a Inspector, node: Node) -> Self {
        Self {
            inspector,
            uuid: node.uuid().to_string(),
            node,
            ports: None,
        }
    }

    /// The node's ports, fetched once and after every port change.
    pub async fn ports(&mut self) -> Result<&[Port]> {
        if self.ports.is_none() {
            let ports = self
                .inspector
                .ironic()
                .node_ports(&self.uuid)
                .await
                .map_err(|e| ironic_failure("list ports", &self.uuid, e))?;
            self.ports = Some(ports);
        }
        Ok(self.ports.as_deref().unwrap_or_default())
    }

    pub async fn port_values(&mut self) -> Result<Vec<Value>> {
        Ok(self.ports().await?.iter().map(|p| p.0.clone()).collect())
    }

    /// Re-reads the node, e.g. before rules see it.
    pub async fn refresh(&mut self) -> Result<()> {
        self.node = self
            .inspector
            .ironic()
            .get_node(&self.uuid)
            .await
            .map_err(|e| e.into_domain(&self.uuid))?;
        self.ports = None;
        Ok(())
    }

    /// Runs a hook's or a rule's operations in order.
    pub async fn execute(&mut self, ops: Vec<NodeOp>) -> Result<()> {
        for op in ops {
            self.execute_one(op).await?;
        }
        Ok(())
    }

    pub async fn patch(
        &mut self,
        patch: &[Value],
        reset_interfaces: bool,
    ) -> std::result::Result<(), IronicError> {
        let shown = Value::Array(patch.to_vec());
        tracing::debug!(node = %self.uuid, patch = %shown, reset_interfaces, "updating node");
        self.node = self
            .inspector
            .ironic()
            .patch_node(&self.uuid, patch, reset_interfaces)
            .await?;
        Ok(())
    }

    async fn execute_one(&mut self, op: NodeOp) -> Result<()> {
        let ironic = self.inspector.ironic().clone();
        let uuid = self.uuid.clone();
        match op {
            NodeOp::PatchNode {
                patch,
                reset_interfaces,
            } => {
                if patch.is_empty() {
                    return Ok(());
                }
                self.patch(&patch, reset_interfaces)
                    .await
                    .map_err(|e| ironic_failure("update node properties", &uuid, e))?;
            }
            NodeOp::CreatePort {
                address,
                extra,
                pxe_enabled,
            } => {
                let body = json!({"node_uuid": uuid, "address": address, "extra": extra, "pxe_enabled": pxe_enabled});
                match ironic.create_port(&body).await {
                    Ok(port) => {
                        tracing::info!(node = %uuid, port = %port.uuid(), %address, pxe_enabled, "created port")
                    }
                    Err(IronicError::Conflict { message }) => {
                        tracing::warn!(node = %uuid, %address, %message, "port already exists")
                    }
                    Err(e) => {
                        return Err(ironic_failure(&format!("create port {address}"), &uuid, e));
                    }
                }
                self.ports = None;
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
                    Ok(_) => {
                        let shown = Value::Array(patch);
                        tracing::debug!(node = %uuid, %port, patch = %shown, "updated port")
                    }
                    Err(
                        IronicError::Rejected { message, .. } | IronicError::Conflict { message },
                    ) if tolerate_rejection => {
                        tracing::warn!(node = %uuid, %port, %message, "Ironic refused the port update; ignored")
                    }
                    Err(e) => return Err(ironic_failure(&format!("update port {port}"), &uuid, e)),
                }
                self.ports = None;
            }
            NodeOp::DeletePort {
                uuid: port,
                address,
            } => {
                match ironic.delete_port(&port, &uuid).await {
                    Ok(()) => tracing::info!(node = %uuid, %port, %address, "deleted port"),
                    Err(e) if e.is_not_found() => {}
                    Err(e) => {
                        return Err(ironic_failure(&format!("delete port {address}"), &uuid, e));
                    }
                }
                self.ports = None;
            }
            NodeOp::AddTrait(name) => {
                ironic
                    .add_trait(&uuid, &name)
                    .await
                    .map_err(|e| ironic_failure(&format!("add trait {name}"), &uuid, e))?;
            }
            NodeOp::RemoveTrait(name) => match ironic.remove_trait(&uuid, &name).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {
                    tracing::debug!(node = %uuid, trait_name = %name, "trait was not set")
                }
                Err(e) => return Err(ironic_failure(&format!("remove trait {name}"), &uuid, e)),
            },
        }
        Ok(())
    }
}
