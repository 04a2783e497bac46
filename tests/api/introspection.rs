//! Starting and aborting introspection against the real Ironic (upstream-behaviour
//! §start, §abort), periodic timeouts and the Ironic sync (upstream-behaviour §periodic).

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::bed::{Ironic, env, random_mac};
use crate::helpers::{TestApp, assert_error, assert_error_prefix, eventually, json_with_status};

/// Ironic's conductor logs every boot device it was asked to set.
fn boot_device_requests(node: &str) -> usize {
    let log = std::fs::read_to_string(env("INSPECTOR_TEST_IRONIC_LOG")).expect("Ironic's log");
    log.lines()
        .filter(|l| {
            l.contains(&format!(
                "set_boot_device called for node {node} with device pxe"
            ))
        })
        .count()
}

async fn start(app: &TestApp, node: &str, query: &str) -> reqwest::Response {
    app.request(Method::POST, &format!("/v1/introspection/{node}{query}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn managed_start_by_uuid_sets_pxe_and_reboots() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let uuid = ironic.manageable_node(json!({})).await;
    let mac = random_mac();
    ironic.create_port(&uuid, &mac).await;
    assert_eq!(ironic.node(&uuid).await["power_state"], "power off");

    let response = start(&app, &uuid, "").await;
    assert_eq!(response.status(), 202);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), "{}\n");
    let status = app
        .wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;
    assert_eq!(status["finished"], false);
    assert_eq!(status["error"], json!(null));
    ironic
        .wait_for(&uuid, "power_state", "power on", Duration::from_secs(30))
        .await;
    assert_eq!(boot_device_requests(&uuid), 1);
    // The node's MAC is a lookup attribute while it waits.
    let attributes = app.store().node_attributes(&uuid).await.unwrap();
    assert!(
        attributes.contains(&("mac".to_string(), mac)),
        "{attributes:?}"
    );
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn start_by_name_and_unmanaged_boot_leave_power_alone() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let uuid = ironic.manageable_node(json!({})).await;
    ironic.create_port(&uuid, &random_mac()).await;
    let name = ironic.node(&uuid).await["name"]
        .as_str()
        .unwrap()
        .to_string();

    let response = start(&app, &name, "?manage_boot=0").await;
    assert_eq!(response.status(), 202);
    // Unmanaged boot prepares synchronously: the node already waits.
    let status = json_with_status(app.get(&format!("/v1/introspection/{name}")).await, 200).await;
    assert_eq!(status["uuid"], uuid.as_str());
    assert_eq!(status["state"], "waiting");
    app.wait_idle().await;
    assert_eq!(ironic.node(&uuid).await["power_state"], "power off");
    assert_eq!(boot_device_requests(&uuid), 0);
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn start_again_while_waiting_restarts() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let uuid = ironic.manageable_node(json!({})).await;
    ironic.create_port(&uuid, &random_mac()).await;
    assert_eq!(start(&app, &uuid, "?manage_boot=false").await.status(), 202);
    let first = app
        .wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;
    assert_eq!(start(&app, &uuid, "").await.status(), 202);
    let second = app
        .wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;
    assert!(second["started_at"].as_str().unwrap() > first["started_at"].as_str().unwrap());
    ironic
        .wait_for(&uuid, "power_state", "power on", Duration::from_secs(30))
        .await;
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn abort_powers_off_and_records_the_reason() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let uuid = ironic.manageable_node(json!({})).await;
    ironic.create_port(&uuid, &random_mac()).await;
    assert_eq!(start(&app, &uuid, "").await.status(), 202);
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;
    ironic
        .wait_for(&uuid, "power_state", "power on", Duration::from_secs(30))
        .await;

    let response = app
        .request(Method::POST, &format!("/v1/introspection/{uuid}/abort"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(response.text().await.unwrap(), "{}\n");
    let status = app
        .wait_for_state(&uuid, "error", Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], "Canceled by operator");
    assert_eq!(status["finished"], true);
    ironic
        .wait_for(&uuid, "power_state", "power off", Duration::from_secs(30))
        .await;
    assert!(app.store().node_attributes(&uuid).await.unwrap().is_empty());

    // A second abort is accepted and changes nothing
    // (upstream-behaviour §functional, scenario 12c).
    let finished_at = status["finished_at"].clone();
    assert_eq!(
        app.request(Method::POST, &format!("/v1/introspection/{uuid}/abort"))
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
    app.wait_idle().await;
    let again = json_with_status(app.get(&format!("/v1/introspection/{uuid}")).await, 200).await;
    assert_eq!(
        (again["state"].clone(), again["finished_at"].clone()),
        (json!("error"), finished_at)
    );

    // Error allows a new start.
    assert_eq!(start(&app, &uuid, "?manage_boot=0").await.status(), 202);
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn abort_of_an_unknown_node_is_404() {
    let app = TestApp::with_ironic(|_| {}).await;
    assert_error(
        app.request(
            Method::POST,
            "/v1/introspection/3c9d5a3e-8b2b-4a44-9e33-9d0c6c2a9a11/abort",
        )
        .send()
        .await
        .unwrap(),
        404,
        "Could not find node 3c9d5a3e-8b2b-4a44-9e33-9d0c6c2a9a11 in cache",
    )
    .await;
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn start_refusals() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    assert_error(
        start(&app, "3c9d5a3e-8b2b-4a44-9e33-9d0c6c2a9a11", "").await,
        404,
        "Node 3c9d5a3e-8b2b-4a44-9e33-9d0c6c2a9a11 was not found in Ironic",
    )
    .await;
    assert_error(
        start(&app, "no-such-node-name", "").await,
        404,
        "Node no-such-node-name was not found in Ironic",
    )
    .await;
    assert_error(
        start(&app, "x", "?manage_boot=maybe").await,
        400,
        "Invalid boolean value for manage_boot: maybe",
    )
    .await;

    // Without ports or a BMC address there is nothing to find it by later.
    let bare = ironic.manageable_node(json!({})).await;
    assert_error(
        start(&app, &bare, "?manage_boot=false").await,
        400,
        "No lookup attributes were found, inspector won't be able to find it after introspection, consider creating \
         ironic ports or providing an IPMI address",
    )
    .await;
    let status = json_with_status(app.get(&format!("/v1/introspection/{bare}")).await, 200).await;
    assert_eq!(status["state"], "error");
    assert!(
        status["error"]
            .as_str()
            .unwrap()
            .starts_with("No lookup attributes were found")
    );

    // A provisioned node is refused.
    let available = ironic.manageable_node(json!({})).await;
    ironic
        .set_provision_state(&available, "provide", "available")
        .await;
    assert_error_prefix(
        start(&app, &available, "").await,
        400,
        "Invalid provision state for introspection: \"available\", valid states are \"['enroll', 'manageable', \
         'inspecting', 'inspect wait', 'inspect failed']\"",
    )
    .await;
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn managed_boot_can_be_forbidden() {
    let app = TestApp::builder()
        .bed_ironic()
        .configure(|c| c.default.can_manage_boot = false)
        .spawn()
        .await;
    assert_error(
        start(&app, "any", "").await,
        400,
        "Managed boot is requested, but this installation cannot manage boot ((can_manage_boot set to False)",
    )
    .await;
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn a_bmc_address_is_enough_to_find_the_node() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let uuid = ironic
        .manageable_node(json!({"driver_info": {"ipmi_address": "192.0.2.77"}}))
        .await;
    assert_eq!(start(&app, &uuid, "?manage_boot=false").await.status(), 202);
    let attributes = app.store().node_attributes(&uuid).await.unwrap();
    assert_eq!(
        attributes,
        [("bmc_address".to_string(), "192.0.2.77".to_string())]
    );
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn timeouts_fail_waiting_nodes() {
    let ironic = Ironic::new();
    let app = TestApp::builder()
        .bed_ironic()
        .introspection_timeout(1)
        .clean_up_period(1)
        .spawn()
        .await;
    let uuid = ironic.manageable_node(json!({})).await;
    ironic.create_port(&uuid, &random_mac()).await;
    assert_eq!(start(&app, &uuid, "?manage_boot=false").await.status(), 202);
    let status = app
        .wait_for_state(&uuid, "error", Duration::from_secs(15))
        .await;
    assert_eq!(status["error"], "Introspection timeout");
    assert_eq!(status["finished"], true);
    assert!(app.store().node_attributes(&uuid).await.unwrap().is_empty());
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn nodes_deleted_in_ironic_leave_the_cache() {
    let ironic = Ironic::new();
    let app = TestApp::builder()
        .bed_ironic()
        .clean_up_period(1)
        .spawn()
        .await;
    let kept = ironic.manageable_node(json!({})).await;
    let deleted = ironic.manageable_node(json!({})).await;
    for node in [&kept, &deleted] {
        ironic.create_port(node, &random_mac()).await;
        assert_eq!(start(&app, node, "?manage_boot=false").await.status(), 202);
    }
    ironic.delete_node(&deleted).await;
    eventually(
        "the deleted node left the cache",
        Duration::from_secs(15),
        || async { app.store().get_node(&deleted).await.unwrap().is_none() },
    )
    .await;
    assert_eq!(
        app.get(&format!("/v1/introspection/{deleted}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        json_with_status(app.get(&format!("/v1/introspection/{kept}")).await, 200).await["state"],
        "waiting"
    );
    app.finish().await;
}

/// A node still locked for an instant (its processing is writing the end)
/// is waited for; one locked for longer gets 409.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn start_waits_briefly_for_a_locked_node() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let uuid = ironic.manageable_node(json!({})).await;
    ironic.create_port(&uuid, &random_mac()).await;

    let lock = app.inspector.locks().lock(&uuid).await;
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(lock);
    });
    assert_eq!(start(&app, &uuid, "?manage_boot=false").await.status(), 202);
    release.await.unwrap();
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;

    let _held = app.inspector.locks().lock(&uuid).await;
    let started = std::time::Instant::now();
    assert_error(
        start(&app, &uuid, "?manage_boot=false").await,
        409,
        "Node is locked, please, retry later",
    )
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    app.finish().await;
}
