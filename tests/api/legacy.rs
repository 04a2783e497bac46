//! Ironic 32.1.0's `inspector` inspect interface — how deployed Ironic
//! drives ironic-inspector — against our service: `baremetal node inspect`
//! reaches it, Ironic polls the status, fetches the data and ends the node
//! `manageable` with its inventory stored in Ironic.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::bed::{Ironic, env};
use crate::helpers::{TestApp, json_with_status};
use crate::openapi::checking_proxy;
use crate::processing::{Machine, post_continue};
use crate::recording_proxy::RecordingProxy;

/// Ironic 32 calls the inspector on a fixed port, so one legacy test runs at
/// a time, across test processes too (nextest runs one per test).
fn legacy_turn() -> std::fs::File {
    let path = std::env::temp_dir().join(format!(
        "inspector-legacy-{}.lock",
        env("INSPECTOR_TEST_LEGACY_PORT")
    ));
    let file = std::fs::File::create(path).expect("lock file");
    file.lock().expect("lock the legacy port");
    file
}

/// The app, and on the port Ironic 32 calls, a proxy to it that checks its
/// answers to Ironic against the OpenAPI document (the test ends with
/// `assert_answers_passed`).
async fn legacy_app(ironic: &Ironic) -> (TestApp, Arc<RecordingProxy>) {
    let port: u16 = env("INSPECTOR_TEST_LEGACY_PORT").parse().unwrap();
    let url = ironic.url.clone();
    let app = TestApp::spawn_with(move |c| {
        c.ironic.client.endpoint_override = Some(url);
        c.ironic.max_retries = 5;
        c.ironic.retry_interval = 1;
        c.default.introspection_delay = 0;
        c.processing
            .processing_hooks
            .extend(["extra_hardware", "lldp_basic", "local_link_connection"].map(String::from));
    })
    .await;
    let proxy = checking_proxy(&format!("127.0.0.1:{port}"), &app.url("")).await;
    (app, proxy)
}

pub async fn inspect(ironic: &Ironic, uuid: &str) {
    let (status, body) = ironic
        .call(
            Method::PUT,
            &format!("/nodes/{uuid}/states/provision"),
            Some(json!({"target": "inspect"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
}

pub async fn node_with_inspector(ironic: &Ironic, m: &Machine, boot_interface: &str) -> String {
    let uuid = ironic
        .manageable_node(json!({
            "inspect_interface": "inspector",
            "boot_interface": boot_interface,
            "driver_info": {"ipmi_address": m.bmc}
        }))
        .await;
    ironic.create_port(&uuid, &m.pxe).await;
    uuid
}

/// `inspect`, then Ironic's `inspect wait`.
pub async fn inspect_until_waiting(ironic: &Ironic, uuid: &str) {
    inspect(ironic, uuid).await;
    ironic
        .wait_for(
            uuid,
            "provision_state",
            "inspect wait",
            Duration::from_secs(60),
        )
        .await;
}

/// Waits for `manageable` and checks what Ironic stored of [`Machine::data`];
/// returns the node's inventory record.
pub async fn manageable_with_the_inventory(ironic: &Ironic, uuid: &str) -> serde_json::Value {
    let node = ironic
        .wait_for(
            uuid,
            "provision_state",
            "manageable",
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(node["properties"]["memory_mb"], "12288", "{node}");
    assert_eq!(node["properties"]["cpus"], "4");
    let (status, inventory) = ironic
        .call(Method::GET, &format!("/nodes/{uuid}/inventory"), None)
        .await;
    assert_eq!(status, 200, "{inventory}");
    assert_eq!(inventory["inventory"]["memory"]["physical_mb"], 12288);
    inventory
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic32),
    ignore = "needs the test bed (Ironic 32): run scripts/test.sh"
)]
async fn baremetal_node_inspect_ends_manageable_with_the_inventory() {
    let _turn = legacy_turn();
    let ironic = Ironic::at(&env("INSPECTOR_TEST_IRONIC32_URL"));
    let (app, ironic_to_us) = legacy_app(&ironic).await;
    let m = Machine::new();
    let uuid = node_with_inspector(&ironic, &m, "fake").await;

    inspect_until_waiting(&ironic, &uuid).await;
    // Ironic asked without manage_boot (fake boot cannot prepare inspection):
    // we manage boot and power the node on through Ironic.
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;
    ironic
        .wait_for(&uuid, "power_state", "power on", Duration::from_secs(30))
        .await;

    json_with_status(post_continue(&app, &m.data()).await, 200).await;
    app.wait_for_state(&uuid, "finished", Duration::from_secs(30))
        .await;
    let inventory = manageable_with_the_inventory(&ironic, &uuid).await;
    assert_eq!(
        inventory["plugin_data"]["all_interfaces"]["eth1"]["lldp_processed"]["switch_port_id"],
        "734"
    );
    ironic_to_us.assert_answers_passed();
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic32),
    ignore = "needs the test bed (Ironic 32): run scripts/test.sh"
)]
async fn ironic_managing_boot_calls_with_manage_boot_false() {
    let _turn = legacy_turn();
    let ironic = Ironic::at(&env("INSPECTOR_TEST_IRONIC32_URL"));
    let (app, ironic_to_us) = legacy_app(&ironic).await;
    let m = Machine::new();
    let uuid = node_with_inspector(&ironic, &m, "pxe").await;

    inspect(&ironic, &uuid).await;
    ironic
        .wait_for(
            &uuid,
            "provision_state",
            "inspect wait",
            Duration::from_secs(60),
        )
        .await;
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;
    let record = app.store().get_node(&uuid).await.unwrap().unwrap();
    assert!(
        !record.manage_boot,
        "Ironic manages boot, so it passed manage_boot=False"
    );

    json_with_status(post_continue(&app, &m.data()).await, 200).await;
    app.wait_for_state(&uuid, "finished", Duration::from_secs(30))
        .await;
    ironic
        .wait_for(
            &uuid,
            "provision_state",
            "manageable",
            Duration::from_secs(60),
        )
        .await;
    ironic_to_us.assert_answers_passed();
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic32),
    ignore = "needs the test bed (Ironic 32): run scripts/test.sh"
)]
async fn aborting_in_ironic_aborts_introspection() {
    let _turn = legacy_turn();
    let ironic = Ironic::at(&env("INSPECTOR_TEST_IRONIC32_URL"));
    let (app, ironic_to_us) = legacy_app(&ironic).await;
    let m = Machine::new();
    let uuid = node_with_inspector(&ironic, &m, "fake").await;
    inspect(&ironic, &uuid).await;
    ironic
        .wait_for(
            &uuid,
            "provision_state",
            "inspect wait",
            Duration::from_secs(60),
        )
        .await;
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;

    let (status, body) = ironic
        .call(
            Method::PUT,
            &format!("/nodes/{uuid}/states/provision"),
            Some(json!({"target": "abort"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let status = app
        .wait_for_state(&uuid, "error", Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], "Canceled by operator");
    ironic
        .wait_for(
            &uuid,
            "provision_state",
            "inspect failed",
            Duration::from_secs(60),
        )
        .await;
    ironic_to_us.assert_answers_passed();
}
