//! What changed in a node's hardware between two introspections: two
//! processed-data documents in, a list of changes out. Items of a list
//! (disks, interfaces) are matched by their identity, never by position, so
//! a reordered list is no change and a swapped disk is one removal and one
//! addition.
//!
//! Components, in the order their changes are listed: `cpu` (count, model,
//! architecture, flags), `memory`, `disks` (identified by serial, else WWN,
//! else device name), `interfaces` (by MAC address; addresses and the LLDP
//! switch and port), `bmc` (its addresses) and `system` (vendor, product,
//! serial number, firmware).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::lldp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Cpu,
    Memory,
    Disks,
    Interfaces,
    Bmc,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One difference. For `added` and `removed` items, `old` or `new` is the
/// whole item; for `changed`, the field's two values. For CPU flags, `old`
/// lists the flags that disappeared and `new` those that appeared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub component: Component,
    pub change: ChangeKind,
    /// Which item of the component: `serial:…`, `wwn:…` or `name:…` for a
    /// disk, the MAC address of an interface; absent for single items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub old: Value,
    pub new: Value,
}

/// The changes from `old` to `new` (processed introspection data, with the
/// ramdisk's `inventory`), grouped by component; empty when the hardware
/// is the same.
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    let (old_inv, new_inv) = (inventory(old), inventory(new));
    cpu(&old_inv, &new_inv, &mut changes);
    fields(
        Component::Memory,
        None,
        &["physical_mb", "total"],
        section(&old_inv, "memory"),
        section(&new_inv, "memory"),
        &mut changes,
    );
    items(
        Component::Disks,
        &["size", "name", "model", "vendor", "rotational"],
        &disks(&old_inv),
        &disks(&new_inv),
        &mut changes,
    );
    items(
        Component::Interfaces,
        &[
            "name",
            "ipv4_address",
            "ipv6_address",
            "switch_chassis_id",
            "switch_port_id",
        ],
        &interfaces(old),
        &interfaces(new),
        &mut changes,
    );
    fields(
        Component::Bmc,
        None,
        &["bmc_address", "bmc_v6address", "bmc_mac"],
        &old_inv,
        &new_inv,
        &mut changes,
    );
    system(&old_inv, &new_inv, &mut changes);
    changes
}

fn inventory(data: &Value) -> Map<String, Value> {
    data.get("inventory")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn section<'a>(object: &'a Map<String, Value>, key: &str) -> &'a Map<String, Value> {
    static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    object.get(key).and_then(Value::as_object).unwrap_or(&EMPTY)
}

/// A missing field and `null` are the same.
fn field(object: &Map<String, Value>, key: &str) -> Value {
    object.get(key).cloned().unwrap_or(Value::Null)
}

/// One `changed` per named field whose value differs.
fn fields(
    component: Component,
    id: Option<&str>,
    names: &[&str],
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    changes: &mut Vec<Change>,
) {
    for name in names {
        let (before, after) = (field(old, name), field(new, name));
        if before != after {
            changes.push(Change {
                component,
                change: ChangeKind::Changed,
                id: id.map(str::to_owned),
                field: Some((*name).to_owned()),
                old: before,
                new: after,
            });
        }
    }
}

fn cpu(old: &Map<String, Value>, new: &Map<String, Value>, changes: &mut Vec<Change>) {
    let (old_cpu, new_cpu) = (section(old, "cpu"), section(new, "cpu"));
    fields(
        Component::Cpu,
        None,
        &["count", "model_name", "architecture"],
        old_cpu,
        new_cpu,
        changes,
    );
    let flags = |cpu: &Map<String, Value>| -> Vec<String> {
        let mut list: Vec<String> = cpu
            .get("flags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        list.sort();
        list.dedup();
        list
    };
    let (before, after) = (flags(old_cpu), flags(new_cpu));
    let gone: Vec<&String> = before.iter().filter(|f| !after.contains(f)).collect();
    let came: Vec<&String> = after.iter().filter(|f| !before.contains(f)).collect();
    if !gone.is_empty() || !came.is_empty() {
        changes.push(Change {
            component: Component::Cpu,
            change: ChangeKind::Changed,
            id: None,
            field: Some("flags".into()),
            old: gone.into_iter().cloned().map(Value::String).collect(),
            new: came.into_iter().cloned().map(Value::String).collect(),
        });
    }
}

/// Text of a field when it is a non-empty string.
fn text<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The disks by identity.
fn disks(inventory: &Map<String, Value>) -> BTreeMap<String, Map<String, Value>> {
    let mut found = BTreeMap::new();
    for disk in list(inventory, "disks") {
        let id = if let Some(serial) = text(disk, "serial") {
            format!("serial:{serial}")
        } else if let Some(wwn) = text(disk, "wwn") {
            format!("wwn:{wwn}")
        } else if let Some(name) = text(disk, "name") {
            format!("name:{name}")
        } else {
            continue;
        };
        found.insert(id, disk.clone());
    }
    found
}

fn list<'a>(
    object: &'a Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a Map<String, Value>> {
    object
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

/// The interfaces by MAC address (lower case), each with its LLDP switch
/// and port: from `lldp_processed` of `all_interfaces` when processing
/// stored it, else decoded from the inventory's raw TLVs.
fn interfaces(data: &Value) -> BTreeMap<String, Map<String, Value>> {
    let inventory = inventory(data);
    let processed = data
        .get("all_interfaces")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut found = BTreeMap::new();
    for interface in list(&inventory, "interfaces") {
        let Some(mac) = text(interface, "mac_address") else {
            continue;
        };
        let mut item = interface.clone();
        item.remove("lldp");
        let from_processing = text(interface, "name")
            .and_then(|name| processed.get(name))
            .and_then(|i| i.get("lldp_processed"))
            .and_then(Value::as_object)
            .cloned();
        let lldp = from_processing.unwrap_or_else(|| match interface.get("lldp") {
            Some(tlvs) if !tlvs.is_null() => lldp::process_tlvs(tlvs).0,
            _ => Map::new(),
        });
        for key in ["switch_chassis_id", "switch_port_id"] {
            item.insert(key.into(), field(&lldp, key));
        }
        found.insert(mac.to_ascii_lowercase(), item);
    }
    found
}

/// Items matched by identity: added, removed, or the named fields changed.
fn items(
    component: Component,
    names: &[&str],
    old: &BTreeMap<String, Map<String, Value>>,
    new: &BTreeMap<String, Map<String, Value>>,
    changes: &mut Vec<Change>,
) {
    for (id, before) in old {
        match new.get(id) {
            Some(after) => fields(component, Some(id), names, before, after, changes),
            None => changes.push(Change {
                component,
                change: ChangeKind::Removed,
                id: Some(id.clone()),
                field: None,
                old: Value::Object(before.clone()),
                new: Value::Null,
            }),
        }
    }
    for (id, after) in new {
        if !old.contains_key(id) {
            changes.push(Change {
                component,
                change: ChangeKind::Added,
                id: Some(id.clone()),
                field: None,
                old: Value::Null,
                new: Value::Object(after.clone()),
            });
        }
    }
}

fn system(old: &Map<String, Value>, new: &Map<String, Value>, changes: &mut Vec<Change>) {
    let (old_sys, new_sys) = (section(old, "system_vendor"), section(new, "system_vendor"));
    fields(
        Component::System,
        None,
        &["manufacturer", "product_name", "serial_number"],
        old_sys,
        new_sys,
        changes,
    );
    let (old_fw, new_fw) = (section(old_sys, "firmware"), section(new_sys, "firmware"));
    for name in ["vendor", "version", "build_date"] {
        let (before, after) = (field(old_fw, name), field(new_fw, name));
        if before != after {
            changes.push(Change {
                component: Component::System,
                change: ChangeKind::Changed,
                id: None,
                field: Some(format!("firmware.{name}")),
                old: before,
                new: after,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn base() -> Value {
        json!({
            "inventory": {
                "cpu": {"count": 2, "model_name": "Xeon", "architecture": "x86_64",
                        "flags": ["fpu", "vme", "sse2"]},
                "memory": {"physical_mb": 24576, "total": 25276502016u64},
                "disks": [
                    {"name": "/dev/sda", "serial": "S1", "size": 1000, "model": "M"},
                    {"name": "/dev/sdb", "wwn": "0x5000", "size": 2000},
                    {"name": "/dev/vda", "size": 3000}
                ],
                "interfaces": [
                    {"name": "eth0", "mac_address": "02:FC:00:00:00:01", "ipv4_address": "192.0.2.2",
                     "lldp": null},
                    {"name": "eth1", "mac_address": "02:fc:00:00:00:02", "ipv4_address": null,
                     "lldp": null}
                ],
                "bmc_address": "192.0.2.100",
                "bmc_v6address": "::/0",
                "system_vendor": {"manufacturer": "Acme", "product_name": "R1", "serial_number": "X1",
                                  "firmware": {"vendor": "Acme", "version": "1.0", "build_date": "2020"}}
            },
            "all_interfaces": {
                "eth0": {"mac": "02:fc:00:00:00:01",
                         "lldp_processed": {"switch_chassis_id": "aa:bb:cc:dd:ee:ff",
                                            "switch_port_id": "Ethernet1/1"}}
            }
        })
    }

    fn edited(edit: impl FnOnce(&mut Value)) -> Value {
        let mut data = base();
        edit(&mut data);
        data
    }

    fn one(changes: &[Change]) -> &Change {
        assert_eq!(changes.len(), 1, "{changes:#?}");
        &changes[0]
    }

    #[test]
    fn identical_inventories_have_no_changes() {
        assert_eq!(diff(&base(), &base()), []);
    }

    #[test]
    fn reordered_lists_are_no_change() {
        let new = edited(|d| {
            d["inventory"]["disks"].as_array_mut().unwrap().reverse();
            d["inventory"]["interfaces"]
                .as_array_mut()
                .unwrap()
                .reverse();
            d["inventory"]["cpu"]["flags"] = json!(["sse2", "fpu", "vme"]);
        });
        assert_eq!(diff(&base(), &new), []);
    }

    #[test]
    fn memory_change_is_reported() {
        let new = edited(|d| d["inventory"]["memory"]["physical_mb"] = json!(16384));
        let change = one(&diff(&base(), &new)).clone();
        assert_eq!(change.component, Component::Memory);
        assert_eq!(change.change, ChangeKind::Changed);
        assert_eq!(change.field.as_deref(), Some("physical_mb"));
        assert_eq!((change.old, change.new), (json!(24576), json!(16384)));
    }

    #[test]
    fn cpu_count_model_and_flags() {
        let new = edited(|d| {
            d["inventory"]["cpu"]["count"] = json!(4);
            d["inventory"]["cpu"]["model_name"] = json!("Epyc");
            d["inventory"]["cpu"]["flags"] = json!(["fpu", "sse2", "avx"]);
        });
        let changes = diff(&base(), &new);
        let fields: Vec<_> = changes.iter().map(|c| c.field.clone().unwrap()).collect();
        assert_eq!(fields, ["count", "model_name", "flags"]);
        assert!(changes.iter().all(|c| c.component == Component::Cpu));
        assert_eq!(
            (&changes[2].old, &changes[2].new),
            (&json!(["vme"]), &json!(["avx"]))
        );
    }

    #[test]
    fn disk_swapped_by_serial_is_a_removal_and_an_addition() {
        let new = edited(|d| {
            d["inventory"]["disks"][0]["serial"] = json!("S2");
        });
        let changes = diff(&base(), &new);
        assert_eq!(changes.len(), 2, "{changes:#?}");
        assert_eq!(changes[0].change, ChangeKind::Removed);
        assert_eq!(changes[0].id.as_deref(), Some("serial:S1"));
        assert_eq!(changes[0].old["name"], "/dev/sda");
        assert_eq!(changes[1].change, ChangeKind::Added);
        assert_eq!(changes[1].id.as_deref(), Some("serial:S2"));
        assert!(changes.iter().all(|c| c.component == Component::Disks));
    }

    #[test]
    fn resized_disk_is_matched_by_wwn_and_by_name() {
        let new = edited(|d| {
            d["inventory"]["disks"][1]["size"] = json!(4000);
            d["inventory"]["disks"][2]["size"] = json!(6000);
        });
        let changes = diff(&base(), &new);
        assert_eq!(changes.len(), 2, "{changes:#?}");
        assert_eq!(changes[0].id.as_deref(), Some("name:/dev/vda"));
        assert_eq!(changes[1].id.as_deref(), Some("wwn:0x5000"));
        assert!(
            changes
                .iter()
                .all(|c| c.change == ChangeKind::Changed && c.field.as_deref() == Some("size"))
        );
        assert_eq!(
            (&changes[1].old, &changes[1].new),
            (&json!(2000), &json!(4000))
        );
    }

    #[test]
    fn nic_moved_to_another_port_via_lldp_processed() {
        let new = edited(|d| {
            d["all_interfaces"]["eth0"]["lldp_processed"]["switch_port_id"] = json!("Ethernet1/7");
        });
        let change = one(&diff(&base(), &new)).clone();
        assert_eq!(change.component, Component::Interfaces);
        assert_eq!(change.id.as_deref(), Some("02:fc:00:00:00:01"));
        assert_eq!(change.field.as_deref(), Some("switch_port_id"));
        assert_eq!(
            (change.old, change.new),
            (json!("Ethernet1/1"), json!("Ethernet1/7"))
        );
    }

    /// Chassis ID TLV (type 1, MAC subtype 4) and Port ID TLV (type 2,
    /// interface-name subtype 5), as IPA posts them.
    fn raw_lldp(port: &str) -> Value {
        json!([
            [1, "04aabbccddeeff"],
            [2, format!("05{}", hex::encode(port))]
        ])
    }

    #[test]
    fn nic_moved_to_another_port_via_raw_lldp() {
        let old = edited(|d| {
            d["inventory"]["interfaces"][1]["lldp"] = raw_lldp("Ethernet1/2");
        });
        let new = edited(|d| {
            d["inventory"]["interfaces"][1]["lldp"] = raw_lldp("Ethernet2/2");
        });
        let change = one(&diff(&old, &new)).clone();
        assert_eq!(change.id.as_deref(), Some("02:fc:00:00:00:02"));
        assert_eq!(change.field.as_deref(), Some("switch_port_id"));
        assert_eq!(
            (change.old, change.new),
            (json!("Ethernet1/2"), json!("Ethernet2/2"))
        );
    }

    #[test]
    fn nic_added_removed_and_readdressed() {
        let new = edited(|d| {
            let interfaces = d["inventory"]["interfaces"].as_array_mut().unwrap();
            interfaces.remove(1);
            interfaces.push(json!({"name": "eth2", "mac_address": "02:fc:00:00:00:03"}));
            interfaces[0]["ipv4_address"] = json!("192.0.2.9");
        });
        let changes = diff(&base(), &new);
        let summary: Vec<_> = changes
            .iter()
            .map(|c| (c.change, c.id.clone().unwrap(), c.field.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    ChangeKind::Changed,
                    "02:fc:00:00:00:01".into(),
                    Some("ipv4_address".into())
                ),
                (ChangeKind::Removed, "02:fc:00:00:00:02".into(), None),
                (ChangeKind::Added, "02:fc:00:00:00:03".into(), None),
            ]
        );
    }

    #[test]
    fn bmc_address_change() {
        let new = edited(|d| d["inventory"]["bmc_address"] = json!("192.0.2.101"));
        let change = one(&diff(&base(), &new)).clone();
        assert_eq!(change.component, Component::Bmc);
        assert_eq!(change.field.as_deref(), Some("bmc_address"));
        assert_eq!(
            (change.old, change.new),
            (json!("192.0.2.100"), json!("192.0.2.101"))
        );
    }

    #[test]
    fn firmware_version_and_vendor_change() {
        let new = edited(|d| {
            d["inventory"]["system_vendor"]["firmware"]["version"] = json!("2.1");
            d["inventory"]["system_vendor"]["manufacturer"] = json!("Other");
        });
        let changes = diff(&base(), &new);
        let fields: Vec<_> = changes.iter().map(|c| c.field.clone().unwrap()).collect();
        assert_eq!(fields, ["manufacturer", "firmware.version"]);
        assert!(changes.iter().all(|c| c.component == Component::System));
    }

    #[test]
    fn components_are_listed_in_order_and_serialize_plainly() {
        let new = edited(|d| {
            d["inventory"]["system_vendor"]["firmware"]["version"] = json!("2.1");
            d["inventory"]["cpu"]["count"] = json!(8);
        });
        let changes = diff(&base(), &new);
        assert_eq!(
            serde_json::to_value(&changes).unwrap(),
            json!([
                {"component": "cpu", "change": "changed", "field": "count", "old": 2, "new": 8},
                {"component": "system", "change": "changed", "field": "firmware.version",
                 "old": "1.0", "new": "2.1"}
            ])
        );
    }

    #[test]
    fn documents_without_inventory_compare_as_empty() {
        assert_eq!(diff(&json!({}), &json!({"inventory": "junk"})), []);
        let changes = diff(&json!({}), &base());
        assert!(changes.iter().any(|c| c.change == ChangeKind::Added));
    }
}
