//! The body of `POST /v1/continue` as the service handles it before and
//! around lookup: the depth check, JSON parsing, every processing hook's
//! `before_processing`, the lookup attributes, every hook's `before_update`
//! against a node (its node patches applied as Ironic would), and hiding
//! posted addresses from the failure text. Lookup itself reads the node
//! cache in the database; its input is exactly `lookup_attributes`.
//!
//! Input: the body, optionally followed by a NUL and a JSON document
//! `{"node": {...}, "ports": [...]}` standing for the node in Ironic.
#![no_main]

use std::sync::OnceLock;

use inspector_core::conf::{AddPorts, Config, KeepPorts};
use inspector_core::hooks::{self, Data, NodeOp, NodeView, Pipeline, addresses};
use inspector_core::json_patch;
use inspector_fuzz::{json_or, split, too_deep};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

const ALL_HOOKS: &str = "ramdisk_error,root_disk_selection,scheduler,validate_interfaces,\
capabilities,pci_devices,accelerators,extra_hardware,lldp_basic,local_link_connection,\
physnet_cidr_map,raid_device,example";

/// Two configurations between them take every branch of the port and
/// capability settings.
fn pipelines() -> &'static [Pipeline] {
    static PIPELINES: OnceLock<Vec<Pipeline>> = OnceLock::new();
    PIPELINES.get_or_init(|| {
        let build = |add_ports, keep_ports, flip: bool| {
            let mut config = Config::default();
            config.processing.processing_hooks = ALL_HOOKS.split(',').map(str::to_string).collect();
            config.processing.add_ports = add_ports;
            config.processing.keep_ports = keep_ports;
            config.processing.overwrite_existing = flip;
            config.processing.update_pxe_enabled = flip;
            config.processing.disk_partitioning_spacing = !flip;
            config.capabilities.boot_mode = flip;
            config.extra_hardware.strict = !flip;
            config.capabilities.cpu_flags = vec![
                ("vmx".into(), "cpu_vt".into()),
                ("svm".into(), "cpu_vt".into()),
                ("aes".into(), "cpu_aes".into()),
            ];
            config.pci_devices.alias =
                vec![r#"{"vendor_id": "8086", "product_id": "1572", "name": "nic"}"#.into()];
            config.port_physnet.cidr_map = vec![
                "10.10.10.0/24:physnet_a".into(),
                "2001:db8::/64:physnet_b".into(),
            ];
            Pipeline::load(&config, None)
                .expect("the fuzz configuration loads")
                .0
        };
        vec![
            build(AddPorts::Pxe, KeepPorts::Present, true),
            build(AddPorts::All, KeepPorts::Added, false),
        ]
    })
}

fn default_node() -> Value {
    json!({
        "node": {
            "uuid": "1be26c0b-03f2-4d2e-ae87-c02d7f33c123",
            "driver": "ipmi",
            "properties": {"capabilities": "boot_mode:bios,foo:bar", "local_gb": 10},
            "extra": {},
            "traits": [],
        },
        "ports": [{
            "uuid": "4fa4bb3d-6bc3-4fef-9b5b-9b9e3f4a1e0c",
            "address": "52:54:00:aa:00:01",
            "pxe_enabled": false,
            "extra": {},
            "local_link_connection": {},
            "physical_network": null,
        }],
    })
}

fuzz_target!(|input: &[u8]| {
    let (body, node_part) = split(input);
    if too_deep(body) {
        return;
    }
    let Ok(Value::Object(posted)) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let view = json_or(node_part, default_node);
    let mut node = view.get("node").cloned().unwrap_or(Value::Null);
    let ports: Vec<Value> = match view.get("ports") {
        Some(Value::Array(ports)) => ports.clone(),
        _ => Vec::new(),
    };
    for pipeline in pipelines() {
        let mut data: Data = posted.clone();
        let mut messages: Vec<String> = pipeline
            .before_processing(&mut data)
            .into_iter()
            .map(|failure| failure.message)
            .collect();
        let _ = hooks::lookup_attributes(&data);
        let _ = hooks::pxe_mac(&data);
        for index in 0..pipeline.len() {
            let outcome = pipeline.before_update(
                index,
                &mut data,
                NodeView {
                    node: &node,
                    ports: &ports,
                },
            );
            match outcome {
                Ok(update) => {
                    for op in update.ops {
                        if let NodeOp::PatchNode { patch, .. } = op
                            && let Ok(patched) = json_patch::apply(&node, &patch)
                        {
                            node = patched;
                        }
                    }
                }
                Err(error) => messages.push(error.0),
            }
        }
        let posted_addresses = addresses::posted_addresses(&data);
        for message in &messages {
            let _ = addresses::hide_addresses(message, &posted_addresses);
        }
    }
});
