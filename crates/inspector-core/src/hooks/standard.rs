//! upstream's `plugins/standard.py`: `ramdisk_error`, `validate_interfaces`,
//! `root_disk_selection` and `scheduler`, plus the inventory helpers they share
//! with the other hooks.

use serde_json::{Map, Value, json};

use super::ip::{NetaddrParse, is_loopback, netaddr_parse};
use super::ports::PortsView;
use super::{Data, HookError, NodeOp, NodeView, PreError, Settings, Update};
use crate::conf::{AddPorts, KeepPorts};
use crate::lldp::is_valid_mac;
use crate::py::cmp::{eq as py_eq, to_int_json};
use crate::py::float_floor_div;
use crate::py::value::{py_repr, py_str, str_repr, truthy};
use crate::root_device;

const GIB: u64 = 1 << 30;

/// `utils.get_inventory`: the inventory, with `disks` set to `[]` when
/// missing or empty (a diskless node), as upstream writes it back.
///
/// A hook reads the inventory in place rather than from a copy (it can be
/// hundreds of kilobytes, and most hooks read it): the guard moves it out
/// of the document, so the hook can change the document's other fields
/// meanwhile, and puts it back in its place when dropped, also on an early
/// return. While the guard lives, the document's `inventory` is `{}`.
pub(crate) struct Inventory<'a> {
    data: &'a mut Data,
    inventory: Map<String, Value>,
}

impl<'a> Inventory<'a> {
    pub(crate) fn take(data: &'a mut Data) -> Result<Self, HookError> {
        let inventory = std::mem::take(checked_inventory(data)?);
        Ok(Self { data, inventory })
    }

    /// The rest of the document, and the inventory.
    pub(crate) fn parts(&mut self) -> (&mut Data, &mut Map<String, Value>) {
        (self.data, &mut self.inventory)
    }
}

impl Drop for Inventory<'_> {
    fn drop(&mut self) {
        // `insert` on a present key keeps its place among the fields.
        let inventory = std::mem::take(&mut self.inventory);
        self.data
            .insert("inventory".into(), Value::Object(inventory));
    }
}

fn checked_inventory(data: &mut Data) -> Result<&mut Map<String, Value>, HookError> {
    let inventory = match data.get_mut("inventory") {
        Some(inventory) if truthy(inventory) => inventory,
        _ => return Err(HookError("Hardware inventory is empty or missing".into())),
    };
    // Upstream: AttributeError (HTTP 500) on a list or string inventory.
    let Value::Object(inventory) = inventory else {
        return Err(HookError(format!(
            "Hardware inventory must be a JSON object, got {}",
            truncated_repr(inventory)
        )));
    };
    if !inventory.get("interfaces").is_some_and(truthy) {
        return Err(HookError(
            "No network interfaces provided in the inventory".into(),
        ));
    }
    if !inventory.get("disks").is_some_and(truthy) {
        inventory.insert("disks".into(), json!([]));
    }
    Ok(inventory)
}

/// The inventory's interface list. Upstream iterates whatever it finds (and
/// crashes on the first non-dict item); a non-list is reported instead.
pub(crate) fn inventory_interfaces(inventory: &Map<String, Value>) -> Result<&[Value], HookError> {
    match inventory.get("interfaces") {
        Some(Value::Array(items)) => Ok(items),
        other => Err(HookError(format!(
            "Network interfaces in the inventory must be a list, got {}",
            truncated_repr(other.unwrap_or(&Value::Null))
        ))),
    }
}

/// `repr()` of a value for an error message, cut to a readable length.
pub(crate) fn truncated_repr(value: &Value) -> String {
    let text = py_repr(value);
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// `get_ipmi_address_from_data` and its v6 twin: the inventory key when it
/// exists, else the legacy top-level key; `""` and `none_value` mean none
/// (`null`). Upstream crashes when the inventory is not an object; the legacy
/// key is used then.
pub(crate) fn bmc_value(
    data: &Data,
    inventory_key: &str,
    legacy_key: &str,
    none_value: &str,
) -> Value {
    let value = match data
        .get("inventory")
        .and_then(Value::as_object)
        .and_then(|inv| inv.get(inventory_key))
    {
        Some(value) => value.clone(),
        None => data.get(legacy_key).cloned().unwrap_or(Value::Null),
    };
    match value.as_str() {
        Some(s) if s.is_empty() || s == none_value => Value::Null,
        _ => value,
    }
}

/// `utils.get_pxe_mac`. The PXELinux form loses its prefix, gets colons and
/// is lower-cased; the colon form is kept verbatim. Upstream crashes on some
/// non-string values and compares others as they are; we ignore them.
pub(crate) fn pxe_mac(data: &Data) -> Option<String> {
    let mac = data.get("boot_interface")?.as_str()?;
    if mac.contains('-') {
        let rest = mac.split_once('-').map_or("", |(_, rest)| rest);
        Some(rest.replace('-', ":").to_lowercase())
    } else {
        Some(mac.to_string())
    }
}

/// `ramdisk_error.before_processing`.
pub(crate) fn ramdisk_error(data: &Data) -> Result<(), PreError> {
    match data.get("error") {
        Some(error) if truthy(error) => Err(PreError::Hook(format!(
            "Ramdisk reported error: {}",
            py_str(error)
        ))),
        _ => Ok(()),
    }
}

/// The constructor check of `validate_interfaces`.
pub(crate) fn check_port_settings(
    add_ports: AddPorts,
    keep_ports: KeepPorts,
) -> Result<(), String> {
    if add_ports == AddPorts::Disabled && keep_ports == KeepPorts::Added {
        return Err(
            "Configuration error: add_ports set to disabled and keep_ports set to added. \
                    Please change keep_ports to all."
                .into(),
        );
    }
    Ok(())
}

/// One entry of `all_interfaces`, fields in upstream's order.
#[derive(Debug, Clone)]
struct Interface {
    name: String,
    ip: Value,
    mac: String,
    client_id: Value,
    pxe: bool,
}

impl Interface {
    fn to_json(&self) -> Value {
        json!({"ip": self.ip, "mac": self.mac, "client_id": self.client_id, "pxe": self.pxe})
    }

    /// Python `repr()` of the dict, for the "No suitable interfaces" error.
    fn repr(&self) -> String {
        py_repr(&self.to_json())
    }
}

/// Inserts with Python dict semantics: a repeated name keeps its position.
fn dict_insert(interfaces: &mut Vec<Interface>, iface: Interface) {
    match interfaces.iter_mut().find(|i| i.name == iface.name) {
        Some(existing) => *existing = iface,
        None => interfaces.push(iface),
    }
}

fn interfaces_repr(interfaces: &[Interface]) -> String {
    let items: Vec<String> = interfaces
        .iter()
        .map(|i| format!("{}: {}", str_repr(&i.name), i.repr()))
        .collect();
    format!("{{{}}}", items.join(", "))
}

fn interfaces_json(interfaces: &[Interface]) -> Value {
    Value::Object(
        interfaces
            .iter()
            .map(|i| (i.name.clone(), i.to_json()))
            .collect(),
    )
}

/// `validate_interfaces.before_processing`.
pub(crate) fn validate_interfaces_before_processing(
    data: &mut Data,
    s: &Settings,
) -> Result<(), PreError> {
    let bmc = bmc_value(data, "bmc_address", "ipmi_address", "0.0.0.0");
    let bmc_v6 = bmc_value(data, "bmc_v6address", "ipmi_v6address", "::/0");
    data.insert("ipmi_address".into(), bmc);
    data.insert("ipmi_v6address".into(), bmc_v6);

    let mut inventory = Inventory::take(data).map_err(|e| PreError::Hook(e.0))?;
    let (data, inventory) = inventory.parts();
    let items = inventory_interfaces(inventory).map_err(|e| PreError::Hook(e.0))?;
    let pxe_mac = pxe_mac(data);

    let mut all = Vec::new();
    for item in items {
        // Upstream: AttributeError on a non-dict record; skipped like a
        // record without a name instead.
        let Some(iface) = item.as_object() else {
            continue;
        };
        // A non-string name is malformed too (upstream would use it as a
        // dict key, or crash when it is a list).
        let Some(name) = iface
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        else {
            continue;
        };
        let Some(mac) = iface.get("mac_address").filter(|m| truthy(m)) else {
            continue;
        };
        let Some(mac) = mac.as_str().filter(|m| is_valid_mac(m)) else {
            continue;
        };
        let mac = mac.to_lowercase();
        let ipv4 = iface.get("ipv4_address").cloned().unwrap_or(Value::Null);
        let mut ipv6 = iface.get("ipv6_address").cloned().unwrap_or(Value::Null);
        if let Some((address, _)) = ipv6.as_str().and_then(|scoped| scoped.split_once('%')) {
            ipv6 = Value::String(address.to_string());
        }
        let ip = if truthy(&ipv4) { ipv4 } else { ipv6 };
        let pxe = pxe_mac.as_deref() == Some(mac.as_str());
        let client_id = iface.get("client_id").cloned().unwrap_or(Value::Null);
        dict_insert(
            &mut all,
            Interface {
                name: name.to_string(),
                ip,
                mac,
                client_id,
                pxe,
            },
        );
    }

    if all.is_empty() {
        return Err(PreError::Hook(
            "No interfaces supplied by the ramdisk".into(),
        ));
    }
    let pxe_known = pxe_mac.as_deref().is_some_and(|m| !m.is_empty());
    let mut selected = Vec::new();
    for iface in &all {
        if iface.name == "lo" {
            continue;
        }
        if truthy(&iface.ip) {
            match netaddr_parse(&iface.ip) {
                NetaddrParse::Address(ip) if is_loopback(&ip) => continue,
                NetaddrParse::Address(_) => {}
                NetaddrParse::Invalid(text) => {
                    let class = if text.contains("netmasks") {
                        "ValueError"
                    } else {
                        "AddrFormatError"
                    };
                    return Err(PreError::Revealing(
                        Box::new(PreError::Unexpected(class, text)),
                        format!("invalid IP address of interface {}", iface.name),
                    ));
                }
                // Upstream: TypeError deep inside netaddr.
                NetaddrParse::Unsupported => {
                    return Err(PreError::Revealing(
                        Box::new(PreError::Hook(format!(
                            "Invalid IP address {} of interface {}",
                            truncated_repr(&iface.ip),
                            iface.name
                        ))),
                        format!("Invalid IP address of interface {}", iface.name),
                    ));
                }
            }
        }
        if s.add_ports == AddPorts::Pxe && pxe_known && !iface.pxe {
            continue;
        }
        if s.add_ports != AddPorts::All && !truthy(&iface.ip) {
            continue;
        }
        selected.push(iface.clone());
    }
    if selected.is_empty() {
        let mut names: Vec<&str> = all.iter().take(8).map(|i| i.name.as_str()).collect();
        if all.len() > names.len() {
            names.push("...");
        }
        return Err(PreError::Revealing(
            Box::new(PreError::Hook(format!(
                "No suitable interfaces found in {}",
                interfaces_repr(&all)
            ))),
            format!(
                "No suitable interfaces found among the {} posted ({})",
                all.len(),
                names.join(", ")
            ),
        ));
    }

    let macs: Vec<Value> = selected
        .iter()
        .map(|i| Value::String(i.mac.clone()))
        .collect();
    data.insert("all_interfaces".into(), interfaces_json(&all));
    data.insert("interfaces".into(), interfaces_json(&selected));
    data.insert("macs".into(), Value::Array(macs));
    Ok(())
}

/// `validate_interfaces.before_update`: create missing ports, delete the ones
/// `keep_ports` rejects, fix `pxe_enabled`.
pub(crate) fn validate_interfaces_before_update(
    data: &mut Data,
    view: NodeView<'_>,
    s: &Settings,
) -> Result<Update, HookError> {
    let mut update = Update::default();
    let mut ports = PortsView::new(view.ports);
    let interfaces = match data.get("interfaces") {
        Some(Value::Object(interfaces)) => Some(interfaces.clone()),
        _ => None,
    };
    let missing_interfaces = || {
        HookError(
            "Introspection data has no valid 'interfaces'; validate_interfaces did not process it"
                .into(),
        )
    };

    if s.add_ports != AddPorts::Disabled {
        let interfaces = interfaces.as_ref().ok_or_else(missing_interfaces)?;
        let mut existing = Vec::new();
        for iface in interfaces.values() {
            let (mac, extra, pxe_enabled) = port_to_create(iface, s.update_pxe_enabled)?;
            if ports.contains(&mac) {
                existing.push(mac);
            } else {
                ports.created(&mac, &extra, pxe_enabled);
                update.ops.push(NodeOp::CreatePort {
                    address: mac,
                    extra,
                    pxe_enabled,
                });
            }
        }
        if !existing.is_empty() {
            let listed: Vec<String> = existing.iter().map(|m| str_repr(m)).collect();
            update.warnings.push(format!(
                "Did not create ports [{}] as they already exist",
                listed.join(", ")
            ));
        }
    }

    let state = view.node.get("provision_state").and_then(Value::as_str);
    if matches!(state, Some("active" | "rescue")) {
        return Ok(update);
    }

    if s.keep_ports != KeepPorts::All {
        let expected: Vec<String> = match s.keep_ports {
            KeepPorts::Present => match data.get("all_interfaces") {
                Some(Value::Object(all)) => all
                    .values()
                    .filter_map(|i| i.get("mac").and_then(Value::as_str).map(str::to_string))
                    .collect(),
                _ => {
                    return Err(HookError(
                        "Introspection data has no valid 'all_interfaces'".into(),
                    ));
                }
            },
            _ => match data.get("macs") {
                Some(Value::Array(macs)) => macs
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                // Upstream: KeyError; deleting every port instead would be worse.
                _ => {
                    return Err(HookError(
                        "Introspection data has no valid 'macs' list".into(),
                    ));
                }
            },
        };
        let doomed: Vec<String> = ports
            .iter()
            .filter(|(address, _)| !expected.iter().any(|m| m.eq_ignore_ascii_case(address)))
            .map(|(address, _)| address.clone())
            .collect();
        for address in doomed {
            update.ops.push(ports.delete(&address)?);
        }
    }

    if s.overwrite_existing && s.update_pxe_enabled {
        let interfaces = interfaces.as_ref().ok_or_else(missing_interfaces)?;
        for iface in interfaces.values() {
            let Some(mac) = iface.get("mac").and_then(Value::as_str) else {
                continue;
            };
            let Some(port) = ports.get(mac) else { continue };
            let real_pxe = iface.get("pxe").cloned().unwrap_or(Value::Bool(true));
            if !py_eq(port.get("pxe_enabled").unwrap_or(&Value::Null), &real_pxe) {
                let patch =
                    vec![json!({"op": "replace", "path": "/pxe_enabled", "value": real_pxe})];
                update.ops.push(ports.patch(mac, patch, false)?);
            }
        }
    }
    Ok(update)
}

/// MAC, `extra` and `pxe_enabled` of the port `create_ports` makes for one
/// `interfaces` value (a dict, or a bare MAC in the old style).
fn port_to_create(
    iface: &Value,
    update_pxe_enabled: bool,
) -> Result<(String, Value, bool), HookError> {
    match iface {
        Value::String(mac) => Ok((mac.clone(), json!({}), true)),
        Value::Object(record) => {
            let mac = record.get("mac").and_then(Value::as_str).ok_or_else(|| {
                HookError(format!(
                    "Interface record without a MAC address: {}",
                    truncated_repr(iface)
                ))
            })?;
            let extra = match record.get("client_id") {
                Some(client_id) if truthy(client_id) => json!({"client-id": client_id}),
                _ => json!({}),
            };
            let pxe = !update_pxe_enabled || record.get("pxe").is_none_or(truthy);
            Ok((mac.to_string(), extra, pxe))
        }
        other => Err(HookError(format!(
            "Malformed interface record: {}",
            truncated_repr(other)
        ))),
    }
}

/// `root_disk_selection.before_update`.
pub(crate) fn root_disk_selection(
    data: &mut Data,
    view: NodeView<'_>,
    s: &Settings,
) -> Result<Update, HookError> {
    let mut update = Update::default();
    let mut inventory = Inventory::take(data)?;
    let (data, inventory) = inventory.parts();
    let properties = view.node.get("properties");
    let hints = properties
        .and_then(|p| p.get("root_device"))
        .cloned()
        .unwrap_or(Value::Null);
    if truthy(&hints) {
        let mut disks = match inventory.get("disks") {
            Some(Value::Array(disks)) => disks.clone(),
            // Upstream iterates whatever it finds; only a list makes sense.
            other => {
                return Err(HookError(format!(
                    "Disks in the inventory must be a list, got {}",
                    truncated_repr(other.unwrap_or(&Value::Null))
                )));
            }
        };
        let skip = properties
            .and_then(|p| p.get("skip_block_devices"))
            .cloned()
            .unwrap_or(Value::Null);
        if let Some(skipped) = skipped_disk_names(&disks, &skip, &mut update)? {
            disks.retain(|d| {
                !d.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| skipped.iter().any(|k| k == n))
            });
            inventory.insert("disks".into(), Value::Array(disks.clone()));
        }
        // Upstream reports TypeError/ValueError this way and lets other
        // exceptions of the matcher escape (HTTP 500); all get this message.
        let failed = |e: root_device::HintError| {
            HookError(root_device::failed_to_validate_message(&hints, &e))
        };
        let parsed = root_device::parse_hints(&hints).map_err(failed)?;
        let found = root_device::find_first_matching(&disks, &parsed).map_err(failed)?;
        let Some(index) = found else {
            return Err(HookError("No disks satisfied root device hints".into()));
        };
        data.insert("root_disk".into(), disks[index].clone());
    }

    let root_disk = data.get("root_disk").cloned().unwrap_or(Value::Null);
    let local_gb = if truthy(&root_disk) {
        let size = match root_disk.get("size") {
            Some(Value::Number(size)) => Some(size.clone()),
            Some(Value::Bool(b)) => Some(u64::from(*b).into()),
            _ => None,
        };
        // Upstream: KeyError/TypeError for a missing or non-numeric size;
        // treated as the undetectable size it warns about.
        let local_gb = match size {
            Some(size) => gib_floor(&size),
            None => json!(0),
        };
        if truthy(&local_gb) {
            if s.disk_partitioning_spacing {
                decrement(&local_gb)
            } else {
                local_gb
            }
        } else {
            update.warnings.push(format!(
                "The requested root disk is too small (smaller than 1 GiB) or its size cannot be detected: {}",
                truncated_repr(&root_disk)
            ));
            local_gb
        }
    } else {
        json!(0)
    };
    data.insert("local_gb".into(), local_gb.clone());
    let has_local_gb = properties
        .and_then(|p| p.get("local_gb"))
        .is_some_and(truthy);
    if s.overwrite_existing || !has_local_gb {
        update.ops.push(update_properties(&[(
            "local_gb",
            Value::String(py_str(&local_gb)),
        )]));
    }
    Ok(update)
}

/// Names of the disks `properties.skip_block_devices` excludes; `None` when
/// nothing is to be skipped.
fn skipped_disk_names(
    disks: &[Value],
    skip: &Value,
    update: &mut Update,
) -> Result<Option<Vec<String>>, HookError> {
    if !truthy(skip) {
        return Ok(None);
    }
    // Upstream iterates any value and lets hint errors escape (HTTP 500).
    let Value::Array(hint_sets) = skip else {
        return Err(HookError(format!(
            "skip_block_devices must be a list of root device hints, got {}",
            truncated_repr(skip)
        )));
    };
    let invalid = |hints: &Value, e: root_device::HintError| {
        HookError(format!(
            "Invalid skip_block_devices hints {}: {e}",
            py_str(hints)
        ))
    };
    let mut skipped: Vec<String> = Vec::new();
    for hints in hint_sets {
        let parsed = root_device::parse_hints(hints).map_err(|e| invalid(hints, e))?;
        let found =
            root_device::find_all_matching(disks, &parsed).map_err(|e| invalid(hints, e))?;
        let mut newly = Vec::new();
        for index in found {
            let name = disks[index]
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if !skipped.contains(&name) {
                newly.push(name.clone());
                skipped.push(name);
            }
        }
        if !newly.is_empty() {
            update.warnings.push(format!(
                "Using hint {} skipping devices: {}",
                py_str(hints),
                newly.join(",")
            ));
        }
    }
    Ok((!skipped.is_empty()).then_some(skipped))
}

/// `size // units.Gi` with Python's int or float semantics.
fn gib_floor(size: &serde_json::Number) -> Value {
    if let Some(u) = size.as_u64() {
        json!(u / GIB)
    } else if let Some(i) = size.as_i64() {
        json!(i.div_euclid(GIB as i64))
    } else {
        json!(float_floor_div(size.as_f64().unwrap_or(0.0), GIB as f64))
    }
}

fn decrement(value: &Value) -> Value {
    if let Some(i) = value.as_i64() {
        json!(i - 1)
    } else if let Some(u) = value.as_u64() {
        json!(u - 1)
    } else {
        json!(value.as_f64().unwrap_or(0.0) - 1.0)
    }
}

/// `NodeInfo.update_properties`: one PATCH adding every property.
pub(crate) fn update_properties(props: &[(&str, Value)]) -> NodeOp {
    NodeOp::PatchNode {
        patch: props
            .iter()
            .map(|(key, value)| json!({"op": "add", "path": format!("/properties/{key}"), "value": value}))
            .collect(),
        reset_interfaces: false,
    }
}

/// `scheduler.before_update`.
pub(crate) fn scheduler(
    data: &mut Data,
    view: NodeView<'_>,
    s: &Settings,
) -> Result<Update, HookError> {
    let mut update = Update::default();
    let mut inventory = Inventory::take(data)?;
    let (data, inventory) = inventory.parts();
    let cpu = inventory.get("cpu");
    let count = cpu
        .and_then(|c| c.as_object())
        .and_then(|c| c.get("count"))
        .and_then(to_int_json);
    match count {
        Some(count) => {
            data.insert("cpus".into(), count);
            match cpu.and_then(|c| c.get("architecture")) {
                Some(arch) => {
                    data.insert("cpu_arch".into(), Value::String(py_str(arch)));
                }
                None => update.warnings.push(cpu_warning(cpu)),
            }
        }
        None => update.warnings.push(cpu_warning(cpu)),
    }
    let memory = inventory.get("memory");
    match memory.and_then(|m| m.as_object()).and_then(|m| m.get("physical_mb")).and_then(to_int_json) {
        Some(memory_mb) => {
            data.insert("memory_mb".into(), memory_mb);
        }
        None => update.warnings.push(format!(
            "malformed or missing memory information: {}; introspection requires physical memory size from dmidecode",
            truncated_repr(memory.unwrap_or(&Value::Null))
        )),
    }

    let properties = view.node.get("properties");
    let mut props = Vec::new();
    for key in ["cpus", "cpu_arch", "memory_mb"] {
        let Some(value) = data.get(key).filter(|v| truthy(v)) else {
            continue;
        };
        if s.overwrite_existing || !properties.and_then(|p| p.get(key)).is_some_and(truthy) {
            props.push((key, Value::String(py_str(value))));
        }
    }
    if !props.is_empty() {
        update.ops.push(update_properties(&props));
    }
    Ok(update)
}

fn cpu_warning(cpu: Option<&Value>) -> String {
    format!(
        "malformed or missing CPU information: {}",
        truncated_repr(cpu.unwrap_or(&Value::Null))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_of(value: Value) -> Data {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object"),
        }
    }

    fn taken_then_failed(data: &mut Data) -> Result<(), HookError> {
        let mut inventory = Inventory::take(data)?;
        let (_, inventory) = inventory.parts();
        inventory.insert("seen".into(), json!(true));
        Err(HookError("the hook failed".into()))
    }

    #[test]
    fn the_inventory_goes_back_in_its_place_after_the_hook_also_when_it_fails() {
        let mut data = data_of(json!({
            "first": 1,
            "inventory": {"interfaces": [{"name": "eth0"}]},
            "last": 2
        }));
        {
            let mut inventory = Inventory::take(&mut data).expect("an inventory");
            let (rest, inventory) = inventory.parts();
            // The hook may change the rest of the document meanwhile.
            assert_eq!(rest["inventory"], json!({}));
            rest.insert("added".into(), json!(3));
            assert_eq!(inventory["disks"], json!([]));
        }
        let keys: Vec<&str> = data.keys().map(String::as_str).collect();
        // Stored documents keep the posted order of fields.
        assert_eq!(keys, ["first", "inventory", "last", "added"]);
        assert_eq!(
            data["inventory"],
            json!({"interfaces": [{"name": "eth0"}], "disks": []})
        );

        assert!(taken_then_failed(&mut data).is_err());
        assert_eq!(data["inventory"]["seen"], json!(true));
        assert_eq!(data["inventory"]["interfaces"], json!([{"name": "eth0"}]));
    }
}
