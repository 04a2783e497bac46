//! How many Ironic calls one callback costs: the hooks' node patches go out
//! as one PATCH and the port list is kept from Ironic's answers instead of
//! being fetched again. Counted through a recording proxy in front of the
//! real Ironic, whose resulting state is asserted as well; the replay of a
//! refused batch uses a mock, as a real Ironic refuses no hook patch.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::bed::{Ironic, env, random_mac};
use crate::helpers::{TestApp, json_with_status};
use crate::processing::{Machine, post_continue};
use crate::recording_proxy::RecordingProxy;

async fn start_proxy(target: &str) -> (String, Arc<RecordingProxy>) {
    let proxy = RecordingProxy::start(target).await;
    (proxy.url.clone(), proxy)
}

/// The calls that concern `node` or its `ports` (by path, query or body),
/// shortened to "METHOD /path" with the UUIDs named; the periodic tasks'
/// calls are left out.
fn calls_for(proxy: &RecordingProxy, node: &str, ports: &[(&str, &str)]) -> Vec<String> {
    proxy
        .calls()
        .iter()
        .filter(|c| {
            c.target.contains(node)
                || c.body.contains(node)
                || ports.iter().any(|(uuid, _)| c.target.contains(uuid))
        })
        .map(|c| {
            let mut shown = format!("{} {}", c.method, c.target.split('?').next().unwrap_or(""))
                .replace(node, "<node>");
            for (uuid, name) in ports {
                shown = shown.replace(uuid, name);
            }
            shown
        })
        .collect()
}

/// Upstream's functional scenario 2 (ports created, updated and deleted),
/// managed boot, no rules: the callback's Ironic calls, in order.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn one_callback_costs_eight_ironic_calls() {
    let ironic = Ironic::new();
    let (url, proxy) = start_proxy(&env("INSPECTOR_TEST_IRONIC_URL")).await;
    let app = TestApp::with_ironic(|c| {
        c.ironic.client.endpoint_override = Some(url);
        c.processing.processing_hooks.push("lldp_basic".into());
        c.processing.add_ports = inspector_core::conf::AddPorts::Active;
        c.processing.keep_ports = inspector_core::conf::KeepPorts::Added;
    })
    .await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    let existing = ironic.create_port(&uuid, &m.eth3).await;
    let bogus = random_mac();
    let bogus_port = ironic.create_port(&uuid, &bogus).await;
    app.start_introspection(&uuid, "").await;
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;
    ironic
        .wait_for(&uuid, "power_state", "power on", Duration::from_secs(30))
        .await;

    proxy.clear();
    json_with_status(post_continue(&app, &m.data()).await, 200).await;
    let status = app
        .wait_for_state(&uuid, "finished", Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], json!(null));
    let node = ironic
        .wait_for(&uuid, "power_state", "power off", Duration::from_secs(30))
        .await;

    let eth3 = existing["uuid"].as_str().unwrap();
    let gone = bogus_port["uuid"].as_str().unwrap();
    let calls = calls_for(&proxy, &uuid, &[(eth3, "<eth3>"), (gone, "<bogus>")]);
    assert_eq!(
        calls,
        [
            "GET /v1/nodes/<node>",
            "GET /v1/ports/detail",
            // root_disk_selection and scheduler, before the first port call
            "PATCH /v1/nodes/<node>",
            "POST /v1/ports",
            "POST /v1/ports",
            "DELETE /v1/ports/<bogus>",
            "PATCH /v1/ports/<eth3>",
            "PUT /v1/nodes/<node>/states/power",
        ],
        "{calls:#?}"
    );

    // What Ironic holds is what upstream's scenario expects.
    let p = &node["properties"];
    assert_eq!(
        (&p["cpus"], &p["cpu_arch"], &p["memory_mb"], &p["local_gb"]),
        (
            &json!("4"),
            &json!("x86_64"),
            &json!("12288"),
            &json!("999")
        ),
        "{p}"
    );
    let ports = ironic.ports(&uuid).await;
    let by_mac = |mac: &str| ports.iter().find(|p| p["address"] == mac).cloned();
    assert!(by_mac(&bogus).is_none(), "{ports:?}");
    assert_eq!(by_mac(&m.pxe).expect("PXE port")["pxe_enabled"], true);
    assert_eq!(by_mac(&m.ib0).expect("IB port")["pxe_enabled"], false);
    assert_eq!(by_mac(&m.eth3).expect("eth3 port")["pxe_enabled"], false);
    assert_eq!(ports.len(), 3);
}

/// With a rule, the node is read again before the rules see it, and a hook
/// patch after the port calls goes out at the end of the hooks.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn rules_read_the_node_again_and_late_hook_patches_are_sent() {
    let ironic = Ironic::new();
    let (url, proxy) = start_proxy(&env("INSPECTOR_TEST_IRONIC_URL")).await;
    let app = TestApp::with_ironic(|c| {
        c.ironic.client.endpoint_override = Some(url);
        c.capabilities.boot_mode = true;
    })
    .await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    let rule = json!({
        "description": "marks the node",
        "conditions": [{"op": "eq", "field": "node://properties.cpus", "value": "4"}],
        "actions": [{"action": "set-attribute", "path": "/extra/marked", "value": "{data[cpus]}"}],
    });
    json_with_status(app.post_json("/v1/rules", &rule).await, 201).await;
    app.start_introspection(&uuid, "?manage_boot=false").await;
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;

    proxy.clear();
    let mut data = m.data();
    data["inventory"]["boot"] = json!({"current_boot_mode": "uefi"});
    json_with_status(post_continue(&app, &data).await, 200).await;
    let status = app
        .wait_for_state(&uuid, "finished", Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], json!(null));
    let calls = calls_for(&proxy, &uuid, &[]);
    assert_eq!(
        calls,
        [
            "GET /v1/nodes/<node>",
            "GET /v1/ports/detail",
            "PATCH /v1/nodes/<node>",
            "POST /v1/ports",
            // capabilities, at the end of the hooks
            "PATCH /v1/nodes/<node>",
            // the rule: the node read again, then its action
            "GET /v1/nodes/<node>",
            "PATCH /v1/nodes/<node>",
        ],
        "{calls:#?}"
    );
    let node = ironic.node(&uuid).await;
    assert_eq!(node["properties"]["capabilities"], "boot_mode:uefi");
    assert_eq!(node["properties"]["cpus"], "4");
    assert_eq!(node["extra"]["marked"], "4");
}

/// Ironic refuses the batch of node patches because of one hook's patch:
/// the patches are sent again one by one, so the earlier ones are applied
/// and the node fails with the refused one's error, as upstream does.
#[tokio::test]
async fn a_refused_batch_is_replayed_patch_by_patch() {
    const NODE: &str = "6f1c7d2e-3b4a-4c5d-8e9f-0a1b2c3d4e60";
    let server = MockServer::start().await;
    let node = json!({"uuid": NODE, "name": "mocked", "provision_state": "manageable", "driver_info": {}, "properties": {}});
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"default_version": {"id": "v1", "version": "1.115", "min_version": "1.1"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/nodes/{NODE}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(&node))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/ports/detail"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ports": [{"uuid": "0e3f1c2a-0000-4000-8000-000000000061", "address": "52:54:00:00:00:61", "node_uuid": NODE, "pxe_enabled": true}]
        })))
        .mount(&server)
        .await;
    let refusal =
        json!({"error_message": json!({"faultstring": "Invalid capabilities"}).to_string()});
    Mock::given(method("PATCH"))
        .and(path(format!("/v1/nodes/{NODE}")))
        .and(body_string_contains("capabilities"))
        .respond_with(ResponseTemplate::new(400).set_body_json(refusal))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/v1/nodes/{NODE}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(&node))
        .with_priority(2)
        .mount(&server)
        .await;
    let url = server.uri();
    let app = TestApp::spawn_with(move |c| {
        c.ironic.client.endpoint_override = Some(url);
        c.ironic.retry_interval = 0;
        c.default.introspection_delay = 0;
        // No port calls: all the hooks' node patches form one batch.
        c.processing.add_ports = inspector_core::conf::AddPorts::Disabled;
    })
    .await;
    app.start_introspection(NODE, "?manage_boot=0").await;
    app.wait_for_state(NODE, "waiting", Duration::from_secs(10))
        .await;

    let mut data = Machine::new().data();
    data["inventory"]["interfaces"][0]["mac_address"] = json!("52:54:00:00:00:61");
    data["boot_interface"] = json!("01-52-54-00-00-00-61");
    data["inventory"]["cpu"]["flags"] = json!(["vmx"]);
    let message = format!(
        "Failed to update node properties for node {NODE}: Invalid capabilities (HTTP 400)"
    );
    crate::helpers::assert_error(post_continue(&app, &data).await, 400, &message).await;
    let status: Value = app
        .get(&format!("/v1/introspection/{NODE}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&status["state"], &status["error"]),
        (&json!("error"), &json!(message))
    );

    let patches: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "PATCH")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let paths = |patch: &Value| -> Vec<String> {
        patch
            .as_array()
            .unwrap()
            .iter()
            .map(|op| op["path"].as_str().unwrap().to_string())
            .collect()
    };
    let sent: Vec<Vec<String>> = patches.iter().map(paths).collect();
    assert_eq!(
        sent,
        [
            vec![
                "/properties/local_gb",
                "/properties/cpus",
                "/properties/cpu_arch",
                "/properties/memory_mb",
                "/properties/capabilities"
            ],
            vec!["/properties/local_gb"],
            vec![
                "/properties/cpus",
                "/properties/cpu_arch",
                "/properties/memory_mb"
            ],
            vec!["/properties/capabilities"],
        ],
        "{patches:#?}"
    );
}
