//! The `capabilities`, `extra_hardware` and `raid_device` hooks.

use serde_json::{Map, Value, json};

use super::capabilities;
use super::standard::{Inventory, truncated_repr};
use super::{Data, HookError, NodeOp, NodeView, Settings, Update};
use crate::py::cmp::{eq as py_eq, to_int_json};
use crate::py::value::{json_key, py_str, truthy};

/// `capabilities.before_update`: boot mode and CPU-flag capabilities.
pub(crate) fn capabilities(
    data: &mut Data,
    view: NodeView<'_>,
    s: &Settings,
) -> Result<Update, HookError> {
    let mut update = Update::default();
    let mut inventory = Inventory::take(data)?;
    let (_, inventory) = inventory.parts();
    let mut caps: Vec<(String, Option<String>)> = Vec::new();
    let mut add = |name: &str, value: String| match caps.iter_mut().find(|(k, _)| k == name) {
        Some(entry) => entry.1 = Some(value),
        None => caps.push((name.to_string(), Some(value))),
    };

    if s.boot_mode {
        // Upstream crashes when `boot` is present but not an object; that is
        // "no boot mode information" here.
        let mode = match inventory.get("boot") {
            None => None,
            Some(boot) => boot.get("current_boot_mode").filter(|m| !m.is_null()),
        };
        match mode {
            Some(mode) => add("boot_mode", py_str(mode)),
            None => update
                .warnings
                .push("No boot mode information available".into()),
        }
    }

    // Upstream crashes (KeyError) without `inventory.cpu`; that is the same
    // as a CPU without flags here.
    let flags = inventory
        .get("cpu")
        .and_then(|cpu| cpu.get("flags"))
        .filter(|f| truthy(f));
    match flags.and_then(flag_set) {
        Some(flags) => {
            for (flag, name) in &s.cpu_flags {
                if flags.contains(flag) {
                    add(name, "true".into());
                }
            }
        }
        None => update
            .warnings
            .push("No CPU flags available, please update your introspection ramdisk".into()),
    }

    if !caps.is_empty() {
        update
            .ops
            .extend(capabilities::update_op(view.node, &caps)?);
    }
    Ok(update)
}

/// The members of Python's `set(flags)` that can equal a flag name: the
/// strings of a list, the characters of a string, the keys of an object.
/// `None` where `set()` raises.
fn flag_set(flags: &Value) -> Option<Vec<String>> {
    match flags {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        ),
        Value::String(s) => Some(s.chars().map(String::from).collect()),
        Value::Object(map) => Some(map.keys().cloned().collect()),
        _ => None,
    }
}

/// `extra_hardware.before_update`: eDeploy `[[a, b, c, value], ...]` becomes
/// `extra[a][b][c] = value` and `data` is dropped.
pub(crate) fn extra_hardware(data: &mut Data, strict: bool) -> Result<Update, HookError> {
    let mut update = Update::default();
    let Some(raw) = data.get("data") else {
        update
            .warnings
            .push("No extra hardware information was received from the ramdisk".into());
        return Ok(update);
    };
    let items = match raw {
        Value::Array(items)
            if items
                .iter()
                .all(|item| item.as_array().is_some_and(|i| !strict || i.len() == 4)) =>
        {
            items.clone()
        }
        _ => {
            update.warnings.push(
                "Extra hardware data was not in a recognised format (eDeploy), and will not be forwarded to \
                 introspection rules"
                    .into(),
            );
            if strict {
                data.shift_remove("data");
            }
            return Ok(update);
        }
    };

    let mut converted = PyDict::default();
    for item in &items {
        let item = item.as_array().map(Vec::as_slice).unwrap_or_default();
        if item.is_empty() {
            continue;
        }
        if let Err(problem) = convert_item(&mut converted, item) {
            update.warnings.push(format!(
                "Ignoring invalid extra data item {}: {problem}",
                truncated_repr(&Value::Array(item.to_vec()))
            ));
        }
    }
    data.insert("extra".into(), converted.into_json());
    data.shift_remove("data");
    Ok(update)
}

/// One eDeploy item, with upstream's partial effects: the first levels are
/// created before a later element turns out to be missing or unusable.
fn convert_item(converted: &mut PyDict, item: &[Value]) -> Result<(), String> {
    let level0 = converted.setdefault(&item[0])?;
    let key1 = item.get(1).ok_or("list index out of range")?;
    let level1 = level0.setdefault(key1)?;
    let value = item.get(3).ok_or("list index out of range")?;
    let value = to_int_json(value).unwrap_or_else(|| value.clone());
    let key2 = item.get(2).ok_or("list index out of range")?;
    level1.set(key2, Node::Leaf(value))
}

/// A Python dict with scalar keys (`1`, `1.0` and `True` are the same key;
/// the first spelling is kept), as the nested eDeploy conversion builds it.
#[derive(Default)]
struct PyDict {
    entries: Vec<(Value, Node)>,
}

enum Node {
    Dict(PyDict),
    Leaf(Value),
}

fn unhashable(key: &Value) -> String {
    let kind = if key.is_array() { "list" } else { "dict" };
    format!("unhashable type: '{kind}'")
}

impl PyDict {
    fn position(&self, key: &Value) -> Option<usize> {
        self.entries.iter().position(|(k, _)| py_eq(k, key))
    }

    /// `dict.setdefault(key, {})`, which must give a dict to descend into.
    fn setdefault(&mut self, key: &Value) -> Result<&mut PyDict, String> {
        if json_key(key).is_none() {
            return Err(unhashable(key));
        }
        let index = match self.position(key) {
            Some(index) => index,
            None => {
                self.entries
                    .push((key.clone(), Node::Dict(PyDict::default())));
                self.entries.len() - 1
            }
        };
        match &mut self.entries[index].1 {
            Node::Dict(dict) => Ok(dict),
            // Upstream then fails indexing a non-dict value.
            Node::Leaf(_) => Err("value is not a dict".into()),
        }
    }

    fn set(&mut self, key: &Value, node: Node) -> Result<(), String> {
        if json_key(key).is_none() {
            return Err(unhashable(key));
        }
        match self.position(key) {
            Some(index) => self.entries[index].1 = node,
            None => self.entries.push((key.clone(), node)),
        }
        Ok(())
    }

    /// The JSON `json.dumps` writes (keys as strings; of keys that collide
    /// once written, the last one wins, as reading the JSON back does).
    fn into_json(self) -> Value {
        let mut map = Map::new();
        for (key, node) in self.entries {
            let value = match node {
                Node::Dict(dict) => dict.into_json(),
                Node::Leaf(value) => value,
            };
            map.insert(json_key(&key).unwrap_or_default(), value);
        }
        Value::Object(map)
    }
}

/// `raid_device.before_processing`: a fake `local_gb` for the old ramdisk.
pub(crate) fn raid_device_before_processing(data: &mut Data) {
    if !data.get("local_gb").is_some_and(truthy) {
        data.insert("local_gb".into(), json!(1));
    }
}

/// Block device serials of the data: the inventory disks' serials, else the
/// legacy `block_devices.serials`. Malformed shapes, on which upstream
/// crashes, give no serials.
fn current_serials(data: &Data) -> Vec<Value> {
    if let Some(inventory) = data.get("inventory") {
        return match inventory.get("disks") {
            Some(Value::Array(disks)) => disks
                .iter()
                .filter_map(|disk| disk.get("serial"))
                .filter(|serial| truthy(serial))
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
    }
    match data.get("block_devices").and_then(|b| b.get("serials")) {
        Some(Value::Array(serials)) => serials.clone(),
        _ => Vec::new(),
    }
}

/// `raid_device.before_update`: learn the root device from the block device
/// that appeared between two introspections.
pub(crate) fn raid_device(data: &mut Data, view: NodeView<'_>) -> Result<Update, HookError> {
    let mut update = Update::default();
    let current = current_serials(data);
    if current.is_empty() {
        update
            .warnings
            .push("No block device was received from ramdisk".into());
        return Ok(update);
    }
    let has = |field: &str, key: &str| {
        view.node
            .get(field)
            .and_then(Value::as_object)
            .is_some_and(|m| m.contains_key(key))
    };
    if has("properties", "root_device") {
        return Ok(update);
    }
    if has("extra", "block_devices") {
        let previous = view.node["extra"]["block_devices"]
            .get("serials")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                // Upstream: KeyError/TypeError (HTTP 500).
                HookError(format!(
                    "Node extra/block_devices must be an object with a list of serials, got {}",
                    truncated_repr(&view.node["extra"]["block_devices"])
                ))
            })?;
        let new: Vec<&Value> = current
            .iter()
            .filter(|d| !previous.iter().any(|p| py_eq(p, d)))
            .collect();
        match new.as_slice() {
            [serial] => update.ops.push(NodeOp::PatchNode {
                patch: vec![
                    json!({"op": "remove", "path": "/extra/block_devices"}),
                    json!({"op": "add", "path": "/properties/root_device", "value": {"serial": serial}}),
                ],
                reset_interfaces: false,
            }),
            [] => update.warnings.push("No new devices were found".into()),
            _ => update
                .warnings
                .push("Root device cannot be identified because multiple new devices were found".into()),
        }
    } else {
        update.ops.push(NodeOp::PatchNode {
            patch: vec![
                json!({"op": "add", "path": "/extra/block_devices", "value": {"serials": current}}),
            ],
            reset_interfaces: false,
        });
    }
    Ok(update)
}
