//! An in-memory Ironic for domain tests that need no test bed: nodes, ports,
//! power state and boot device kept in memory, every call recorded, and the
//! failures the flows react to injectable (a node another conductor holds
//! locked, an Ironic that does not answer, any error on any operation).
//!
//! It answers as Ironic does where the flows look (404 for an unknown node or
//! port, 409 for a duplicate MAC or a locked node, a refused patch as 400),
//! not in every detail: fields are not validated and `reset_interfaces` is
//! ignored. Tests against the real Ironic of the test bed cover the rest.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::api::{IronicApi, IronicFuture};
use super::error::IronicError;
use super::models::{Node, Port};

/// The operations of [`IronicApi`], to inject failures and read the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    GetNode,
    ValidateNode,
    NodePorts,
    AllPorts,
    PortsByAddress,
    ListNodes,
    SetBootDevice,
    SetPowerState,
    PatchNode,
    CreatePort,
    PatchPort,
    DeletePort,
    AddTrait,
    RemoveTrait,
    CreateNode,
}

/// One call the fake received: the operation, the node, port or MAC it was
/// about (empty when none), and its main argument (a power target, a boot
/// device, a field list; empty when none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub op: Op,
    pub target: String,
    pub argument: String,
}

#[derive(Default)]
struct State {
    /// Node documents by UUID.
    nodes: BTreeMap<String, Value>,
    /// Port documents, oldest first (as Ironic lists them).
    ports: Vec<Value>,
    /// (device, persistent) by node UUID.
    boot_devices: HashMap<String, (String, bool)>,
    /// Validation answers by node UUID; unset: every interface valid.
    validations: HashMap<String, Value>,
    /// Nodes another conductor holds: changes to them answer NodeLocked.
    locked: HashSet<String>,
    /// Failures injected per operation, answered until cleared.
    failures: HashMap<Op, IronicError>,
    /// No answer to anything.
    down: bool,
    calls: Vec<Call>,
}

/// A shared handle: clones (and [`IronicApi::within`]) see the same Ironic.
#[derive(Clone, Default)]
pub struct FakeIronic {
    state: Arc<Mutex<State>>,
}

fn not_found(kind: &str, id: &str) -> IronicError {
    IronicError::NotFound {
        message: format!("{kind} {id} could not be found."),
    }
}

fn node_locked(uuid: &str) -> IronicError {
    IronicError::Conflict {
        message: format!(
            "Node {uuid} is locked by host fake-conductor, please retry after the current operation is completed."
        ),
    }
}

/// Only the `fields` (comma-separated) of `doc`.
fn project(doc: &Value, fields: &str) -> Value {
    let mut out = Map::new();
    for field in fields.split(',').map(str::trim) {
        if let Some(value) = doc.get(field) {
            out.insert(field.to_string(), value.clone());
        }
    }
    Value::Object(out)
}

fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl FakeIronic {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock fails on its own.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a node; fields not given get Ironic-like defaults (a new UUID,
    /// `manageable`, powered off, driver `ipmi`). Returns its UUID.
    pub fn add_node(&self, fields: Value) -> String {
        let mut doc = json!({
            "uuid": new_uuid(),
            "name": null,
            "provision_state": "manageable",
            "power_state": "power off",
            "maintenance": false,
            "driver": "ipmi",
            "driver_info": {},
            "properties": {},
            "extra": {},
            "traits": [],
        });
        if let (Some(doc), Value::Object(fields)) = (doc.as_object_mut(), fields) {
            doc.extend(fields);
        }
        let uuid = doc["uuid"].as_str().unwrap_or_default().to_string();
        self.state().nodes.insert(uuid.clone(), doc);
        uuid
    }

    /// Adds a port with this MAC to the node; returns the port's UUID.
    pub fn add_port(&self, node_uuid: &str, address: &str) -> String {
        let uuid = new_uuid();
        self.state().ports.push(json!({
            "uuid": uuid,
            "address": address.to_lowercase(),
            "node_uuid": node_uuid,
            "extra": {},
            "pxe_enabled": true,
            "local_link_connection": {},
            "physical_network": null,
        }));
        uuid
    }

    /// Deletes the node and its ports, as an operator would in Ironic.
    pub fn remove_node(&self, uuid: &str) {
        let mut state = self.state();
        state.nodes.remove(uuid);
        state
            .ports
            .retain(|p| p["node_uuid"].as_str() != Some(uuid));
    }

    /// Every node document, by UUID.
    pub fn list_all(&self) -> Vec<Value> {
        self.state().nodes.values().cloned().collect()
    }

    pub fn node(&self, uuid: &str) -> Option<Node> {
        self.state().nodes.get(uuid).cloned().map(Node)
    }

    pub fn power_state(&self, uuid: &str) -> Option<String> {
        self.node(uuid)
            .and_then(|n| n.power_state().map(str::to_owned))
    }

    /// The boot device last set and whether it was persistent.
    pub fn boot_device(&self, uuid: &str) -> Option<(String, bool)> {
        self.state().boot_devices.get(uuid).cloned()
    }

    /// The node's power interface fails validation with this reason.
    pub fn fail_power_validation(&self, uuid: &str, reason: &str) {
        self.state().validations.insert(
            uuid.to_string(),
            json!({"power": {"result": false, "reason": reason}}),
        );
    }

    /// Another conductor holds the node: changes to it answer 409
    /// NodeLocked (what the real client returns once its retries are spent);
    /// reads still work, as in Ironic.
    pub fn lock_node(&self, uuid: &str) {
        self.state().locked.insert(uuid.to_string());
    }

    pub fn unlock_node(&self, uuid: &str) {
        self.state().locked.remove(uuid);
    }

    /// While down, every call fails as one to an unreachable Ironic.
    pub fn set_down(&self, down: bool) {
        self.state().down = down;
    }

    /// Every later call of `op` fails with `error`, until [`Self::clear_failure`].
    pub fn fail(&self, op: Op, error: IronicError) {
        self.state().failures.insert(op, error);
    }

    pub fn clear_failure(&self, op: Op) {
        self.state().failures.remove(&op);
    }

    /// Every call so far, in order, failed ones included.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// The calls of one operation, in order.
    pub fn calls_of(&self, op: Op) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.op == op).collect()
    }

    /// Records the call and answers an injected failure, if any; otherwise
    /// runs `answer` on the state.
    fn answer<T>(
        &self,
        op: Op,
        target: &str,
        argument: &str,
        answer: impl FnOnce(&mut State) -> Result<T, IronicError>,
    ) -> Result<T, IronicError> {
        let mut state = self.state();
        state.calls.push(Call {
            op,
            target: target.to_string(),
            argument: argument.to_string(),
        });
        if state.down {
            return Err(IronicError::Unreachable(
                "connection failed: the fake Ironic is down".into(),
            ));
        }
        if let Some(error) = state.failures.get(&op) {
            return Err(error.clone());
        }
        answer(&mut state)
    }

    /// `answer` for a change to node `uuid`: 404 if unknown, 409 if locked.
    fn change_node<T>(
        &self,
        op: Op,
        uuid: &str,
        argument: &str,
        change: impl FnOnce(&mut State) -> Result<T, IronicError>,
    ) -> Result<T, IronicError> {
        self.answer(op, uuid, argument, |state| {
            if !state.nodes.contains_key(uuid) {
                return Err(not_found("Node", uuid));
            }
            if state.locked.contains(uuid) {
                return Err(node_locked(uuid));
            }
            change(state)
        })
    }
}

impl State {
    fn find_node(&self, id: &str) -> Option<&Value> {
        self.nodes
            .get(id)
            .or_else(|| self.nodes.values().find(|n| n["name"].as_str() == Some(id)))
    }

    fn node_mut(&mut self, uuid: &str) -> Result<&mut Value, IronicError> {
        self.nodes
            .get_mut(uuid)
            .ok_or_else(|| not_found("Node", uuid))
    }

    fn port_index(&self, uuid: &str) -> Result<usize, IronicError> {
        self.ports
            .iter()
            .position(|p| p["uuid"].as_str() == Some(uuid))
            .ok_or_else(|| not_found("Port", uuid))
    }

    /// The node a port belongs to must exist and be free to change.
    fn check_port_node(&self, port: &Value) -> Result<(), IronicError> {
        match port["node_uuid"].as_str() {
            Some(node) if self.locked.contains(node) => Err(node_locked(node)),
            _ => Ok(()),
        }
    }
}

fn patched(doc: &Value, patch: &[Value]) -> Result<Value, IronicError> {
    inspector_core::json_patch::apply(doc, patch).map_err(|e| IronicError::Rejected {
        status: 400,
        message: format!("Invalid patch: {e}"),
    })
}

impl IronicApi for FakeIronic {
    fn get_node<'a>(&'a self, id: &'a str) -> IronicFuture<'a, Node> {
        let result = self.answer(Op::GetNode, id, "", |state| {
            state
                .find_node(id)
                .cloned()
                .map(Node)
                .ok_or_else(|| not_found("Node", id))
        });
        Box::pin(std::future::ready(result))
    }

    fn get_node_fields<'a>(&'a self, id: &'a str, fields: &'a str) -> IronicFuture<'a, Node> {
        let result = self.answer(Op::GetNode, id, fields, |state| {
            state
                .find_node(id)
                .map(|node| Node(project(node, fields)))
                .ok_or_else(|| not_found("Node", id))
        });
        Box::pin(std::future::ready(result))
    }

    fn validate_node<'a>(&'a self, uuid: &'a str) -> IronicFuture<'a, Value> {
        let result = self.answer(Op::ValidateNode, uuid, "", |state| {
            if !state.nodes.contains_key(uuid) {
                return Err(not_found("Node", uuid));
            }
            Ok(state.validations.get(uuid).cloned().unwrap_or_else(|| {
                json!({
                    "boot": {"result": true, "reason": null},
                    "management": {"result": true, "reason": null},
                    "power": {"result": true, "reason": null},
                })
            }))
        });
        Box::pin(std::future::ready(result))
    }

    fn node_ports<'a>(&'a self, uuid: &'a str, fields: &'a str) -> IronicFuture<'a, Vec<Port>> {
        let result = self.answer(Op::NodePorts, uuid, fields, |state| {
            Ok(state
                .ports
                .iter()
                .filter(|p| p["node_uuid"].as_str() == Some(uuid))
                .map(|p| Port(project(p, fields)))
                .collect())
        });
        Box::pin(std::future::ready(result))
    }

    fn all_ports(&self) -> IronicFuture<'_, Vec<Port>> {
        let result = self.answer(Op::AllPorts, "", "", |state| {
            Ok(state
                .ports
                .iter()
                .map(|p| Port(project(p, "uuid,address,extra,node_uuid")))
                .collect())
        });
        Box::pin(std::future::ready(result))
    }

    fn ports_by_address<'a>(&'a self, mac: &'a str) -> IronicFuture<'a, Vec<Port>> {
        let result = self.answer(Op::PortsByAddress, mac, "", |state| {
            let mac = mac.to_lowercase();
            Ok(state
                .ports
                .iter()
                .filter(|p| p["address"].as_str() == Some(mac.as_str()))
                .map(|p| Port(project(p, "uuid,node_uuid,address")))
                .collect())
        });
        Box::pin(std::future::ready(result))
    }

    fn list_nodes<'a>(&'a self, fields: &'a str) -> IronicFuture<'a, Vec<Node>> {
        let result = self.answer(Op::ListNodes, "", fields, |state| {
            Ok(state
                .nodes
                .values()
                .map(|n| Node(project(n, fields)))
                .collect())
        });
        Box::pin(std::future::ready(result))
    }

    fn set_boot_device<'a>(
        &'a self,
        uuid: &'a str,
        device: &'a str,
        persistent: bool,
    ) -> IronicFuture<'a, ()> {
        let result = self.change_node(Op::SetBootDevice, uuid, device, |state| {
            state
                .boot_devices
                .insert(uuid.to_string(), (device.to_string(), persistent));
            Ok(())
        });
        Box::pin(std::future::ready(result))
    }

    fn set_power_state<'a>(&'a self, uuid: &'a str, target: &'a str) -> IronicFuture<'a, ()> {
        let result = self.change_node(Op::SetPowerState, uuid, target, |state| {
            let reached = match target {
                "rebooting" | "power on" => "power on",
                "power off" => "power off",
                other => {
                    return Err(IronicError::Rejected {
                        status: 400,
                        message: format!("Invalid power state target {other}"),
                    });
                }
            };
            state.node_mut(uuid)?["power_state"] = json!(reached);
            Ok(())
        });
        Box::pin(std::future::ready(result))
    }

    fn patch_node<'a>(
        &'a self,
        uuid: &'a str,
        patch: &'a [Value],
        _reset_interfaces: bool,
    ) -> IronicFuture<'a, Node> {
        let shown = Value::Array(patch.to_vec()).to_string();
        let result = self.change_node(Op::PatchNode, uuid, &shown, |state| {
            let node = state.node_mut(uuid)?;
            *node = patched(node, patch)?;
            Ok(Node(node.clone()))
        });
        Box::pin(std::future::ready(result))
    }

    fn create_port<'a>(&'a self, body: &'a Value) -> IronicFuture<'a, Port> {
        let node = body["node_uuid"].as_str().unwrap_or_default();
        let address = body["address"].as_str().unwrap_or_default().to_lowercase();
        let result = self.change_node(Op::CreatePort, node, &address, |state| {
            if state
                .ports
                .iter()
                .any(|p| p["address"].as_str() == Some(address.as_str()))
            {
                return Err(IronicError::Conflict {
                    message: format!("A port with MAC address {address} already exists."),
                });
            }
            let mut port = json!({
                "uuid": new_uuid(),
                "extra": {},
                "pxe_enabled": true,
                "local_link_connection": {},
                "physical_network": null,
            });
            if let (Some(port), Some(body)) = (port.as_object_mut(), body.as_object()) {
                port.extend(
                    body.iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, v)| (k.clone(), v.clone())),
                );
            }
            port["address"] = json!(address);
            state.ports.push(port.clone());
            Ok(Port(port))
        });
        Box::pin(std::future::ready(result))
    }

    fn patch_port<'a>(
        &'a self,
        port_uuid: &'a str,
        patch: &'a [Value],
        _node: &'a str,
    ) -> IronicFuture<'a, Port> {
        let shown = Value::Array(patch.to_vec()).to_string();
        let result = self.answer(Op::PatchPort, port_uuid, &shown, |state| {
            let index = state.port_index(port_uuid)?;
            state.check_port_node(&state.ports[index])?;
            let port = patched(&state.ports[index], patch)?;
            state.ports[index] = port.clone();
            Ok(Port(port))
        });
        Box::pin(std::future::ready(result))
    }

    fn delete_port<'a>(&'a self, port_uuid: &'a str, _node: &'a str) -> IronicFuture<'a, ()> {
        let result = self.answer(Op::DeletePort, port_uuid, "", |state| {
            let index = state.port_index(port_uuid)?;
            state.check_port_node(&state.ports[index])?;
            state.ports.remove(index);
            Ok(())
        });
        Box::pin(std::future::ready(result))
    }

    fn add_trait<'a>(&'a self, uuid: &'a str, name: &'a str) -> IronicFuture<'a, ()> {
        let result = self.change_node(Op::AddTrait, uuid, name, |state| {
            let node = state.node_mut(uuid)?;
            let traits = node["traits"].as_array().cloned().unwrap_or_default();
            if !traits.iter().any(|t| t.as_str() == Some(name)) {
                node["traits"] = Value::Array(traits.into_iter().chain([json!(name)]).collect());
            }
            Ok(())
        });
        Box::pin(std::future::ready(result))
    }

    fn remove_trait<'a>(&'a self, uuid: &'a str, name: &'a str) -> IronicFuture<'a, ()> {
        let result = self.change_node(Op::RemoveTrait, uuid, name, |state| {
            let node = state.node_mut(uuid)?;
            let mut traits = node["traits"].as_array().cloned().unwrap_or_default();
            let before = traits.len();
            traits.retain(|t| t.as_str() != Some(name));
            if traits.len() == before {
                return Err(not_found("Trait", name));
            }
            node["traits"] = Value::Array(traits);
            Ok(())
        });
        Box::pin(std::future::ready(result))
    }

    fn create_node<'a>(&'a self, body: &'a Value) -> IronicFuture<'a, Node> {
        let result = self.answer(Op::CreateNode, "", "", |state| {
            let mut node = json!({
                "uuid": new_uuid(),
                "name": null,
                "provision_state": "enroll",
                "power_state": null,
                "maintenance": false,
                "driver_info": {},
                "properties": {},
                "extra": {},
                "traits": [],
            });
            if let (Some(node), Some(body)) = (node.as_object_mut(), body.as_object()) {
                node.extend(body.clone());
            }
            let uuid = node["uuid"].as_str().unwrap_or_default().to_string();
            state.nodes.insert(uuid, node.clone());
            Ok(Node(node))
        });
        Box::pin(std::future::ready(result))
    }

    /// The fake answers at once: no deadline to keep.
    fn within(&self, _patience: Duration) -> Arc<dyn IronicApi> {
        Arc::new(self.clone())
    }

    /// The fake never retries: nothing for a shutdown to cut short.
    fn stopped_by(&self, _shutdown: CancellationToken) -> Arc<dyn IronicApi> {
        Arc::new(self.clone())
    }
}
