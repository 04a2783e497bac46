//! Discovery (`node_not_found_hook = enroll`, upstream-behaviour §discovery) and the
//! ramdisk logs kept on failure (upstream-behaviour §ramdisk-logs), against the real Ironic.

use std::time::Duration;

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::bed::Ironic;
use crate::helpers::{TestApp, assert_error_prefix, json_with_status};
use crate::processing::{Machine, post_continue};

async fn discovery_app() -> TestApp {
    TestApp::with_ironic(|c| {
        c.processing.node_not_found_hook = Some("enroll".into());
        c.discovery.enroll_node_driver = "fake-hardware".into();
        c.discovery.enroll_node_fields = vec![("resource_class".into(), "discovered".into())];
    })
    .await
}

/// Ironic nodes owning a port with this MAC.
async fn nodes_with_mac(ironic: &Ironic, mac: &str) -> Vec<String> {
    let (_, ports) = ironic
        .call(
            Method::GET,
            &format!("/ports?address={mac}&fields=node_uuid"),
            None,
        )
        .await;
    ports["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["node_uuid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn an_unknown_machine_is_enrolled_and_introspected() {
    let ironic = Ironic::new();
    let app = discovery_app().await;
    let m = Machine::new();
    let body = json_with_status(post_continue(&app, &m.data()).await, 200).await;
    let uuid = body["uuid"].as_str().unwrap().to_string();
    let status = app
        .wait_for_state(&uuid, "finished", Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], json!(null));

    let node = ironic.node(&uuid).await;
    assert_eq!(node["driver"], "fake-hardware");
    assert_eq!(node["driver_info"]["ipmi_address"], m.bmc.as_str());
    assert_eq!(node["resource_class"], "discovered");
    assert_eq!(node["provision_state"], "enroll");
    assert_eq!(node["properties"]["memory_mb"], "12288");
    assert_eq!(
        nodes_with_mac(&ironic, &m.pxe).await,
        std::slice::from_ref(&uuid)
    );
    let processed = json_with_status(
        app.get(&format!("/v1/introspection/{uuid}/data")).await,
        200,
    )
    .await;
    assert_eq!(processed["auto_discovered"], true);
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn racing_callbacks_of_one_unknown_machine_create_one_node() {
    let ironic = Ironic::new();
    let app = discovery_app().await;
    let m = Machine::new();
    let statuses = crate::processing::post_concurrently(&app, &m.data(), 8).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
    app.wait_idle().await;
    assert_eq!(nodes_with_mac(&ironic, &m.pxe).await.len(), 1);
    let (_, nodes) = ironic
        .call(Method::GET, "/nodes?fields=uuid,driver_info", None)
        .await;
    let with_bmc = nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["driver_info"]["ipmi_address"] == m.bmc.as_str())
        .count();
    assert_eq!(with_bmc, 1, "exactly one node was created in Ironic");
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn a_machine_whose_mac_is_already_in_ironic_is_not_enrolled_again() {
    let ironic = Ironic::new();
    let app = discovery_app().await;
    let m = Machine::new();
    let existing = ironic.manageable_node(json!({})).await;
    ironic.create_port(&existing, &m.pxe).await;
    assert_error_prefix(
        post_continue(&app, &m.data()).await,
        400,
        // The MAC is the poster's own: the answer does not repeat it.
        "The following failures happened during running pre-processing hooks:\nNode not found hook failed: Port <address> already exists",
    )
    .await;
    assert_eq!(nodes_with_mac(&ironic, &m.pxe).await, [existing]);
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn the_example_hook_finds_nothing() {
    let app =
        TestApp::with_ironic(|c| c.processing.node_not_found_hook = Some("example".into())).await;
    assert_error_prefix(
        post_continue(&app, &Machine::new().data()).await,
        400,
        "The following failures happened during running pre-processing hooks:\nNode not found hook returned nothing",
    )
    .await;
}

fn logs_of(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .map(|p| {
                    (
                        p.file_name().unwrap().to_string_lossy().into_owned(),
                        std::fs::read(&p).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn ramdisk_logs_are_kept_on_failure_and_on_request() {
    let ironic = Ironic::new();
    let logs_dir = tempfile::tempdir().unwrap();
    let dir = logs_dir.path().join("ramdisk-logs");
    let dir_for_app = dir.display().to_string();
    let app =
        TestApp::with_ironic(move |c| c.processing.ramdisk_logs_dir = Some(dir_for_app)).await;
    let tarball = b"not really a tarball \x00\x01\x02".to_vec();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&tarball);

    // Unknown machine: stored as "unknown_<time>.tar.gz".
    let mut data = Machine::new().data();
    data["logs"] = json!(encoded);
    assert_eq!(post_continue(&app, &data).await.status(), 400);
    let files = logs_of(&dir);
    assert_eq!(
        files.len(),
        1,
        "{:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert!(
        files[0].0.starts_with("unknown_") && files[0].0.ends_with(".tar.gz"),
        "{}",
        files[0].0
    );
    assert_eq!(files[0].1, tarball);

    // A known node that succeeds: not stored (always_store_ramdisk_logs is off),
    // and the logs are never part of the stored data.
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    let mut data = m.data();
    data["logs"] = json!(encoded);
    app.introspect(&uuid, "?manage_boot=0", &data).await;
    assert_eq!(logs_of(&dir).len(), 1);
    for kind in ["data", "data/unprocessed"] {
        let stored: Value = app
            .get(&format!("/v1/introspection/{uuid}/{kind}"))
            .await
            .json()
            .await
            .unwrap();
        assert!(stored.get("logs").is_none(), "{kind} keeps no logs");
    }
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn hostile_values_cannot_steer_the_log_file_path() {
    let logs_dir = tempfile::tempdir().unwrap();
    let dir = logs_dir.path().join("logs");
    let dir_for_app = dir.display().to_string();
    let app = TestApp::with_ironic(move |c| {
        c.processing.ramdisk_logs_dir = Some(dir_for_app);
        c.processing.ramdisk_logs_filename_format = "{bmc}_{mac}_{dt:%Y}.tar.gz".into();
    })
    .await;
    let mut data = Machine::new().data();
    data["inventory"]["bmc_address"] = json!("../../../../tmp/escape");
    data["boot_interface"] = json!("../../x");
    data["logs"] = json!(base64::engine::general_purpose::STANDARD.encode(b"x"));
    assert_eq!(post_continue(&app, &data).await.status(), 400);
    let files = logs_of(&dir);
    assert_eq!(files.len(), 1);
    assert!(!files[0].0.contains('/'));
    assert!(
        !logs_dir.path().join("escape").exists() && !std::path::Path::new("/tmp/escape_").exists()
    );
    app.finish().await;
}
