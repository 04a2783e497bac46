//! The hooks that look at each inventory interface and its Ironic port:
//! `lldp_basic`, `local_link_connection` and `physnet_cidr_map`.

use serde_json::{Map, Value, json};

use super::ip::{Network, python_ip_address};
use super::ports::PortsView;
use super::standard::{Inventory, inventory_interfaces, truncated_repr};
use super::{Data, HookError, NodeView, Settings, Update};
use crate::lldp;
use crate::py::value::truthy;

/// `data.lldp_raw` as upstream reads it (`data.get('lldp_raw') or {}`);
/// upstream crashes on a truthy non-object, which is ignored with a warning.
fn lldp_raw(data: &Data, update: &mut Update) -> Map<String, Value> {
    match data.get("lldp_raw") {
        Some(Value::Object(raw)) => raw.clone(),
        Some(other) if truthy(other) => {
            update.warnings.push(format!(
                "Ignoring lldp_raw, which is not an object: {}",
                truncated_repr(other)
            ));
            Map::new()
        }
        _ => Map::new(),
    }
}

/// The interface's LLDP TLVs: `lldp_raw[name] or iface.lldp`; `None` when
/// neither gives anything but `null`.
fn interface_tlvs(
    raw: &Map<String, Value>,
    name: &str,
    iface: &Map<String, Value>,
) -> Option<Value> {
    let tlvs = match raw.get(name) {
        Some(value) if truthy(value) => value.clone(),
        _ => iface.get("lldp").cloned().unwrap_or(Value::Null),
    };
    (!tlvs.is_null()).then_some(tlvs)
}

/// An inventory interface's record and name. Upstream crashes (KeyError) on a
/// record without a name, or a non-object record; those are skipped, as
/// `validate_interfaces` skips them.
fn named(item: &Value) -> Option<(&Map<String, Value>, &str)> {
    let iface = item.as_object()?;
    Some((iface, iface.get("name")?.as_str()?))
}

/// `lldp_basic.before_update`: the parsed LLDP of each interface goes to
/// `all_interfaces[name].lldp_processed`.
pub(crate) fn lldp_basic(data: &mut Data, interfaces_shared: bool) -> Result<Update, HookError> {
    let mut update = Update::default();
    let mut inventory = Inventory::take(data)?;
    let (data, inventory) = inventory.parts();
    let raw = lldp_raw(data, &mut update);
    for item in inventory_interfaces(inventory)? {
        let Some((iface, name)) = named(item) else {
            continue;
        };
        let Some(tlvs) = interface_tlvs(&raw, name, iface) else {
            update
                .warnings
                .push(format!("No LLDP Data found for interface {name}"));
            continue;
        };
        let (processed, warnings) = lldp::process_tlvs(&tlvs);
        update.warnings.extend(
            warnings
                .into_iter()
                .map(|w| format!("Interface {name}: {w}")),
        );
        if processed.is_empty() {
            continue;
        }
        // Upstream crashes (KeyError, upstream-behaviour §q15) when the interface is not in
        // `all_interfaces` (no valid MAC address): skipped with a warning.
        let Some(Value::Object(entry)) = data
            .get_mut("all_interfaces")
            .and_then(|all| all.get_mut(name))
        else {
            update.warnings.push(format!(
                "Interface {name} has LLDP data but is not among the valid interfaces, ignoring its LLDP data"
            ));
            continue;
        };
        let before = entry.clone();
        entry.insert("lldp_processed".into(), Value::Object(processed.clone()));
        // The same dict object is in `interfaces` when it was selected.
        if interfaces_shared
            && let Some(Value::Object(selected)) =
                data.get_mut("interfaces").and_then(|i| i.get_mut(name))
            && *selected == before
        {
            selected.insert("lldp_processed".into(), Value::Object(processed));
        }
    }
    Ok(update)
}

/// The interface's MAC and its Ironic port, for interfaces that
/// `validate_interfaces` accepted. The inventory MAC is lower-cased before
/// the lookup (upstream compares it verbatim, upstream-behaviour §q13).
fn interface_port<'a>(
    data: &Data,
    iface: &'a Map<String, Value>,
    name: &str,
    ports: &PortsView,
) -> Option<&'a str> {
    let known = data
        .get("all_interfaces")
        .and_then(|all| all.get(name))
        .is_some();
    let mac = iface.get("mac_address")?.as_str()?;
    (known && ports.contains(mac)).then_some(mac)
}

/// `local_link_connection.before_update`: switch and port IDs from LLDP on
/// each port's `local_link_connection`.
pub(crate) fn local_link_connection(
    data: &mut Data,
    view: NodeView<'_>,
    overwrite_existing: bool,
) -> Result<Update, HookError> {
    let mut update = Update::default();
    let mut inventory = Inventory::take(data)?;
    let (data, inventory) = inventory.parts();
    let raw = lldp_raw(data, &mut update);
    let mut ports = PortsView::new(view.ports);
    for item in inventory_interfaces(inventory)? {
        let Some((iface, name)) = named(item) else {
            continue;
        };
        let Some(mac) = interface_port(data, iface, name, &ports) else {
            continue;
        };
        let Some(tlvs) = interface_tlvs(&raw, name, iface) else {
            update
                .warnings
                .push(format!("No LLDP Data found for interface {mac}"));
            continue;
        };
        let existing = ports
            .get(mac)
            .and_then(|p| p.get("local_link_connection"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let wanted = |item: &str| overwrite_existing || !existing.contains_key(item);

        let mut items: Vec<(&str, Value)> = Vec::new();
        let processed = data
            .get("all_interfaces")
            .and_then(|all| all.get(name))
            .and_then(|entry| entry.get("lldp_processed"))
            .and_then(Value::as_object);
        if let Some(processed) = processed {
            if let Some(chassis) = processed.get("switch_chassis_id").filter(|v| truthy(v)) {
                if chassis.as_str().is_some_and(lldp::is_valid_mac) {
                    if wanted("switch_id") {
                        items.push(("switch_id", chassis.clone()));
                    }
                } else {
                    update.warnings.push(format!(
                        "Skipping switch_id since it's not a MAC: {}",
                        truncated_repr(chassis)
                    ));
                }
            }
            if let Some(port_id) = processed.get("switch_port_id").filter(|v| truthy(v))
                && wanted("port_id")
            {
                items.push(("port_id", port_id.clone()));
            }
        }
        if items.is_empty() {
            // Upstream emits one `add` per matching TLV, in TLV order; the
            // last TLV of each kind decides the value, which is what we send.
            let link = lldp::local_link_from_tlvs(&tlvs);
            update.warnings.extend(
                link.warnings
                    .into_iter()
                    .map(|w| format!("Interface {name}: {w}")),
            );
            for (item, value) in [("switch_id", link.switch_id), ("port_id", link.port_id)] {
                if let Some(value) = value.filter(|_| wanted(item)) {
                    items.push((item, Value::String(value)));
                }
            }
        }
        // upstream-behaviour §q13: upstream PATCHes even an empty list; we do not.
        if items.is_empty() {
            continue;
        }
        let patch = items
            .into_iter()
            .map(|(item, value)| json!({"op": "add", "path": format!("/local_link_connection/{item}"), "value": value}))
            .collect();
        update.ops.push(ports.patch(mac, patch, true)?);
    }
    Ok(update)
}

/// `[port_physnet]cidr_map`: `CIDR:physnet` items, split on the last colon.
/// Upstream validates them only when processing reaches the mapping (and then
/// fails with an HTTP 500); here they are checked when the hook loads.
pub(crate) fn parse_cidr_map(entries: &[String]) -> Result<Vec<(Network, String)>, String> {
    let mut map: Vec<(Network, String)> = Vec::new();
    for entry in entries {
        let Some((cidr, physnet)) = entry.rsplit_once(':') else {
            return Err(format!(
                "Invalid [port_physnet]cidr_map item {entry:?}: expected CIDR:physnet"
            ));
        };
        let network = Network::parse(cidr)
            .map_err(|e| format!("Invalid [port_physnet]cidr_map item {entry:?}: {e}"))?;
        // A dict keyed by network: a repeated network keeps its first
        // position and its last physnet.
        match map.iter_mut().find(|(n, _)| *n == network) {
            Some(existing) => existing.1 = physnet.to_string(),
            None => map.push((network, physnet.to_string())),
        }
    }
    Ok(map)
}

/// `PhysnetCidrMapHook.get_physnet`: the mapping of the first parseable
/// address of the first inventory interface with this name.
fn physnet_for(interfaces: &[Value], name: &str, cidr_map: &[(Network, String)]) -> Option<String> {
    let iface = interfaces
        .iter()
        .find(|i| i.get("name").and_then(Value::as_str) == Some(name))?;
    let ip = ["ipv4_address", "ipv6_address"]
        .iter()
        .find_map(|key| python_ip_address(iface.get(*key).unwrap_or(&Value::Null)))?;
    cidr_map
        .iter()
        .find(|(network, _)| network.contains(&ip))
        .map(|(_, physnet)| physnet.clone())
}

/// `physnet_cidr_map.before_update`: set each port's `physical_network`.
///
/// upstream-behaviour §q14, kept as upstream: with `overwrite_existing = false` nothing is
/// ever patched, even a port without a physical network.
pub(crate) fn physnet_cidr_map(
    data: &mut Data,
    view: NodeView<'_>,
    s: &Settings,
) -> Result<Update, HookError> {
    let mut update = Update::default();
    let mut inventory = Inventory::take(data)?;
    let (data, inventory) = inventory.parts();
    let interfaces = inventory_interfaces(inventory)?;
    let mut ports = PortsView::new(view.ports);
    for item in interfaces {
        let Some((iface, name)) = named(item) else {
            continue;
        };
        let Some(mac) = interface_port(data, iface, name, &ports) else {
            continue;
        };
        let Some(physnet) = physnet_for(interfaces, name, &s.cidr_map) else {
            continue;
        };
        let current = ports
            .get(mac)
            .and_then(|p| p.get("physical_network"))
            .cloned()
            .unwrap_or(Value::Null);
        if !s.overwrite_existing || current.as_str() == Some(physnet.as_str()) {
            continue;
        }
        let patch = vec![json!({"op": "add", "path": "/physical_network", "value": physnet})];
        update.ops.push(ports.patch(mac, patch, true)?);
    }
    Ok(update)
}
