//! The `pci_devices` and `accelerators` hooks, which recognise PCI devices
//! by vendor and product ID.

use serde_json::{Map, Value};

use super::capabilities;
use super::standard::{truncated_repr, update_properties};
use super::{Data, HookError, NodeView, Update};
use crate::py::cmp::eq as py_eq;
use crate::py::value::truthy;

/// `[pci_devices]alias` parsed: `(vendor_id, product_id) -> name` in Python
/// dict order, plus whether any alias was configured at all.
#[derive(Debug, Clone, Default)]
pub(crate) struct PciAliases {
    aliases: Vec<(Value, Value, String)>,
    configured: bool,
}

impl PciAliases {
    /// Parses every alias; invalid ones are reported and ignored, as upstream
    /// does for bad JSON and wrong key sets. Upstream fails to load the hook on
    /// JSON that is not an object or on ID values that cannot be dict keys,
    /// and fails each processing on a non-string name; those are ignored with
    /// a warning too.
    pub(crate) fn parse(entries: &[String]) -> (PciAliases, Vec<String>) {
        let mut aliases = PciAliases {
            aliases: Vec::new(),
            configured: !entries.is_empty(),
        };
        let mut warnings = Vec::new();
        for entry in entries {
            match parse_alias(entry) {
                Ok((vendor, product, name)) => {
                    match aliases
                        .aliases
                        .iter_mut()
                        .find(|(v, p, _)| py_eq(v, &vendor) && py_eq(p, &product))
                    {
                        Some(existing) => existing.2 = name,
                        None => aliases.aliases.push((vendor, product, name)),
                    }
                }
                Err(problem) => warnings.push(format!("Error parsing 'alias' option: {problem}")),
            }
        }
        (aliases, warnings)
    }

    fn find(&self, vendor: &Value, product: &Value) -> Option<usize> {
        self.aliases
            .iter()
            .position(|(v, p, _)| py_eq(v, vendor) && py_eq(p, product))
    }
}

fn parse_alias(entry: &str) -> Result<(Value, Value, String), String> {
    let parsed: Value = serde_json::from_str(entry).map_err(|e| e.to_string())?;
    let Value::Object(map) = parsed else {
        return Err(format!("The 'alias' entry must be a JSON object: {entry}"));
    };
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != ["name", "product_id", "vendor_id"] {
        return Err("\"The 'alias' entry should contain exactly 'vendor_id', 'product_id' and 'name' keys\"".into());
    }
    let scalar = |key: &str| match &map[key] {
        Value::Array(_) | Value::Object(_) => {
            Err(format!("The 'alias' entry has a non-scalar {key}: {entry}"))
        }
        other => Ok(other.clone()),
    };
    let name = map["name"]
        .as_str()
        .ok_or_else(|| format!("The 'alias' entry has a non-string name: {entry}"))?
        .to_string();
    Ok((scalar("vendor_id")?, scalar("product_id")?, name))
}

/// The `(vendor_id, product_id)` of a device record; `None` (with a
/// warning) for records upstream would crash on.
fn device_ids<'a>(device: &'a Value, update: &mut Update) -> Option<(&'a Value, &'a Value)> {
    match (device.get("vendor_id"), device.get("product_id")) {
        (Some(vendor), Some(product)) => Some((vendor, product)),
        _ => {
            update.warnings.push(format!(
                "Ignoring PCI device record without vendor_id and product_id: {}",
                truncated_repr(device)
            ));
            None
        }
    }
}

/// `pci_devices.before_update`: a capability counting the devices of each alias.
pub(crate) fn pci_devices(
    data: &mut Data,
    view: NodeView<'_>,
    aliases: &PciAliases,
) -> Result<Update, HookError> {
    let mut update = Update::default();
    let Some(devices) = data.get("pci_devices") else {
        if aliases.configured {
            update
                .warnings
                .push("No PCI devices information was received from the ramdisk.".into());
        }
        return Ok(update);
    };
    // Upstream crashes (TypeError) on anything but a list.
    let Some(devices) = devices.as_array() else {
        update.warnings.push(format!(
            "PCI devices information is not a list: {}",
            truncated_repr(devices)
        ));
        return Ok(update);
    };
    // Counts per alias, in the order the aliases are first seen.
    let mut counts: Vec<(usize, u64)> = Vec::new();
    for device in devices {
        let Some((vendor, product)) = device_ids(device, &mut update) else {
            continue;
        };
        let Some(alias) = aliases.find(vendor, product) else {
            continue;
        };
        match counts.iter_mut().find(|(a, _)| *a == alias) {
            Some(entry) => entry.1 += 1,
            None => counts.push((alias, 1)),
        }
    }
    // `{name: count}`: two aliases with one name keep the later count.
    let mut caps: Vec<(String, Option<String>)> = Vec::new();
    for (alias, count) in counts {
        let name = &aliases.aliases[alias].2;
        match caps.iter_mut().find(|(k, _)| k == name) {
            Some(entry) => entry.1 = Some(count.to_string()),
            None => caps.push((name.clone(), Some(count.to_string()))),
        }
    }
    if !caps.is_empty() {
        update
            .ops
            .extend(capabilities::update_op(view.node, &caps)?);
    }
    Ok(update)
}

/// Validates an accelerator catalogue (YAML with a top-level `pci_devices`
/// list of `{vendor_id, device_id, ...}`) and returns its devices.
pub(crate) fn load_catalogue(text: &str) -> Result<Vec<Map<String, Value>>, String> {
    let document = super::yaml::load(text)?;
    let missing = || "Could not find pci_devices in the configuration data".to_string();
    if !truthy(&document) {
        return Err(missing());
    }
    // Upstream crashes (TypeError) on non-mapping documents that pass its
    // `in` check; all non-mappings are "not found" here.
    let devices = document
        .as_object()
        .and_then(|d| d.get("pci_devices"))
        .ok_or_else(missing)?;
    let Value::Array(devices) = devices else {
        return Err("pci_devices should contain a list of devices".into());
    };
    devices
        .iter()
        .map(|device| match device {
            Value::Object(map)
                if map.get("vendor_id").is_some_and(truthy)
                    && map.get("device_id").is_some_and(truthy) =>
            {
                Ok(map.clone())
            }
            _ => Err("one of devices is missing vendor_id or device_id".to_string()),
        })
        .collect()
}

/// `accelerators.before_update`: `properties.accelerators` lists the known
/// accelerators found, each with its PCI address.
pub(crate) fn accelerators(
    data: &mut Data,
    catalogue: &[Map<String, Value>],
) -> Result<Update, HookError> {
    let mut update = Update::default();
    let devices = data.get("pci_devices").filter(|d| truthy(d));
    let Some(devices) = devices else {
        update.warnings.push(
            "Unable to distinguish accelerator devices due to no PCI devices information was received from the \
             ramdisk."
                .into(),
        );
        return Ok(update);
    };
    // Upstream iterates whatever it gets and crashes on non-lists.
    let Some(devices) = devices.as_array() else {
        update.warnings.push(format!(
            "PCI devices information is not a list: {}",
            truncated_repr(devices)
        ));
        return Ok(update);
    };
    let mut found = Vec::new();
    for device in devices {
        let Some((vendor, product)) = device_ids(device, &mut update) else {
            continue;
        };
        let known = catalogue.iter().find(|known| {
            known.get("vendor_id").is_some_and(|v| py_eq(v, vendor))
                && known.get("device_id").is_some_and(|d| py_eq(d, product))
        });
        let Some(known) = known else { continue };
        // Upstream: KeyError (HTTP 500) for a matching device without `bus`.
        let Some(bus) = device.get("bus") else {
            update.warnings.push(format!(
                "Ignoring accelerator without a PCI address: {}",
                truncated_repr(device)
            ));
            continue;
        };
        let mut accelerator = known.clone();
        accelerator.insert("pci_address".into(), bus.clone());
        found.push(Value::Object(accelerator));
    }
    if found.is_empty() {
        return Ok(update);
    }
    update
        .ops
        .push(update_properties(&[("accelerators", Value::Array(found))]));
    Ok(update)
}
