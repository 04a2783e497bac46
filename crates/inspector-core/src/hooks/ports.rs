//! The node's ports as upstream's `NodeInfo.ports()` cache sees them during
//! one hook: a dict keyed by MAC address that the hook's own creations,
//! deletions and patches update as it goes.

use serde_json::{Map, Value, json};

use super::{HookError, NodeOp};

/// Ports keyed by lower-cased address, in Ironic's listing order; a repeated
/// address keeps its first position and its last port, as a Python dict does.
pub(crate) struct PortsView {
    ports: Vec<(String, Value)>,
}

impl PortsView {
    /// Builds the view from Ironic's port list; ports without a string
    /// address cannot be matched to anything and are left out.
    ///
    /// Addresses are lower-cased: Ironic stores them lower-cased anyway, and
    /// upstream's case-sensitive comparisons would otherwise make an
    /// upper-case inventory MAC miss its port.
    pub(crate) fn new(ports: &[Value]) -> Self {
        let mut view = PortsView { ports: Vec::new() };
        for port in ports {
            if let Some(address) = port.get("address").and_then(Value::as_str) {
                view.insert(address.to_ascii_lowercase(), port.clone());
            }
        }
        view
    }

    fn insert(&mut self, address: String, port: Value) {
        match self.ports.iter_mut().find(|(a, _)| *a == address) {
            Some(entry) => entry.1 = port,
            None => self.ports.push((address, port)),
        }
    }

    /// The port with this MAC (compared lower-cased).
    pub(crate) fn get(&self, mac: &str) -> Option<&Value> {
        let mac = mac.to_ascii_lowercase();
        self.ports.iter().find(|(a, _)| *a == mac).map(|(_, p)| p)
    }

    pub(crate) fn contains(&self, mac: &str) -> bool {
        self.get(mac).is_some()
    }

    /// Addresses and ports in dict order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &(String, Value)> {
        self.ports.iter()
    }

    /// Records a port the hook asked Ironic to create.
    pub(crate) fn created(&mut self, mac: &str, extra: &Value, pxe_enabled: bool) {
        let port = json!({"address": mac, "extra": extra, "pxe_enabled": pxe_enabled});
        self.insert(mac.to_ascii_lowercase(), port);
    }

    /// The delete operation for the port with this address, removing it.
    pub(crate) fn delete(&mut self, address: &str) -> Result<NodeOp, HookError> {
        let index = self
            .ports
            .iter()
            .position(|(a, _)| a == address)
            .ok_or_else(|| HookError(format!("Port {address} is not a port of the node")))?;
        let (_, port) = self.ports.remove(index);
        Ok(NodeOp::DeletePort {
            uuid: port_uuid(&port)?,
            address: port_address(&port),
        })
    }

    /// The patch operation for the port with this MAC, applying the patch to
    /// the view so that later steps of the same hook see its effect.
    pub(crate) fn patch(
        &mut self,
        mac: &str,
        patch: Vec<Value>,
        tolerate_rejection: bool,
    ) -> Result<NodeOp, HookError> {
        let mac = mac.to_ascii_lowercase();
        let port = self
            .ports
            .iter_mut()
            .find(|(a, _)| *a == mac)
            .map(|(_, p)| p)
            .ok_or_else(|| HookError(format!("Port {mac} is not a port of the node")))?;
        let uuid = port_uuid(port)?;
        for op in &patch {
            apply_add(port, op);
        }
        Ok(NodeOp::PatchPort {
            uuid,
            patch,
            tolerate_rejection,
        })
    }
}

/// The port's UUID, which every operation on it needs.
fn port_uuid(port: &Value) -> Result<String, HookError> {
    port.get("uuid")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| HookError(format!("Ironic port without a UUID: {port}")))
}

fn port_address(port: &Value) -> String {
    port.get("address")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Applies one `add`/`replace` operation with a one- or two-level path, the
/// only kind the hooks emit for ports.
fn apply_add(port: &mut Value, op: &Value) {
    let (Some(path), Some(value)) = (op.get("path").and_then(Value::as_str), op.get("value"))
    else {
        return;
    };
    let Some(object) = port.as_object_mut() else {
        return;
    };
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let first = segments.next().unwrap_or_default().to_string();
    match segments.next() {
        None => {
            object.insert(first, value.clone());
        }
        Some(key) => {
            let slot = object
                .entry(first)
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Some(inner) = slot.as_object_mut() {
                inner.insert(key.to_string(), value.clone());
            }
        }
    }
}
