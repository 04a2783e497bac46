//! The Ironic operations inspector's flows use, as a trait: the HTTP client
//! implements it, and so does the in-memory [`super::fake::FakeIronic`] that
//! domain tests run against.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::error::IronicError;
use super::models::{Node, Port};

/// The boxed future of an [`IronicApi`] call (async methods of a trait used
/// as `dyn` must be boxed).
pub type IronicFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, IronicError>> + Send + 'a>>;

pub trait IronicApi: Send + Sync {
    /// The node by UUID or name, every field.
    fn get_node<'a>(&'a self, id: &'a str) -> IronicFuture<'a, Node>;

    /// The node by UUID or name, with only the given comma-separated fields.
    fn get_node_fields<'a>(&'a self, id: &'a str, fields: &'a str) -> IronicFuture<'a, Node>;

    /// The node's interface validation (`power`, `boot`, ...).
    fn validate_node<'a>(&'a self, uuid: &'a str) -> IronicFuture<'a, Value>;

    /// The node's ports, with only the given comma-separated fields.
    fn node_ports<'a>(&'a self, uuid: &'a str, fields: &'a str) -> IronicFuture<'a, Vec<Port>>;

    /// Every port (uuid, address, extra and node_uuid), for the PXE filter.
    fn all_ports(&self) -> IronicFuture<'_, Vec<Port>>;

    /// Ports with this MAC address (uuid, node_uuid and address).
    fn ports_by_address<'a>(&'a self, mac: &'a str) -> IronicFuture<'a, Vec<Port>>;

    /// Every node, with only the given comma-separated fields.
    fn list_nodes<'a>(&'a self, fields: &'a str) -> IronicFuture<'a, Vec<Node>>;

    fn set_boot_device<'a>(
        &'a self,
        uuid: &'a str,
        device: &'a str,
        persistent: bool,
    ) -> IronicFuture<'a, ()>;

    /// `target`: `power on`, `power off` or `rebooting`.
    fn set_power_state<'a>(&'a self, uuid: &'a str, target: &'a str) -> IronicFuture<'a, ()>;

    /// Applies a JSON patch; returns the node as Ironic has it afterwards.
    fn patch_node<'a>(
        &'a self,
        uuid: &'a str,
        patch: &'a [Value],
        reset_interfaces: bool,
    ) -> IronicFuture<'a, Node>;

    fn create_port<'a>(&'a self, body: &'a Value) -> IronicFuture<'a, Port>;

    /// `node`: the port's node, for logs.
    fn patch_port<'a>(
        &'a self,
        port_uuid: &'a str,
        patch: &'a [Value],
        node: &'a str,
    ) -> IronicFuture<'a, Port>;

    fn delete_port<'a>(&'a self, port_uuid: &'a str, node: &'a str) -> IronicFuture<'a, ()>;

    fn add_trait<'a>(&'a self, uuid: &'a str, name: &'a str) -> IronicFuture<'a, ()>;

    fn remove_trait<'a>(&'a self, uuid: &'a str, name: &'a str) -> IronicFuture<'a, ()>;

    /// Creates a node (discovery); returns it with its new UUID.
    fn create_node<'a>(&'a self, body: &'a Value) -> IronicFuture<'a, Node>;

    /// This Ironic, for work that can wait `patience` in all from now (one
    /// API request): past that a call fails with [`IronicError::OutOfTime`].
    fn within(&self, patience: Duration) -> Arc<dyn IronicApi>;

    /// This Ironic, whose retries end as soon as `shutdown` is cancelled.
    fn stopped_by(&self, shutdown: CancellationToken) -> Arc<dyn IronicApi>;
}
