//! Real ramdisk documents — one collected by ironic-python-agent on a VM,
//! one hand-built 2-NIC server with LLDP — posted with IPA's own callback
//! code, reach `finished` and leave Ironic as upstream left it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::bed::{Ironic, env, random_mac};
use crate::helpers::{TestApp, json_with_status};

pub fn testbed_data(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/scripts/testbed/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Replaces MACs in a document's text (colon and PXELinux dash forms), so
/// every test owns its ports in the shared Ironic.
pub fn with_macs(text: &str, macs: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (from, to) in macs {
        out = out
            .replace(from, to)
            .replace(&from.replace(':', "-"), &to.replace(':', "-"));
    }
    out
}

/// Runs IPA's `call_inspector` (tests/api/ipa_callback.py) on `document`
/// against `url` with IPA's TLS options in `extra` (`--cafile PATH`, ...).
pub async fn run_ipa_callback(
    dir: &std::path::Path,
    url: &str,
    document: &str,
    extra: &[&str],
) -> std::process::Output {
    let file = dir.join(format!("{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, document).unwrap();
    tokio::process::Command::new(format!("{}/bin/python", env("INSPECTOR_TEST_VENV")))
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/api/ipa_callback.py"
        ))
        .arg(url)
        .arg(&file)
        .args(extra)
        .env("no_proxy", "127.0.0.1")
        // requests lets these override the session's `verify`, which is where
        // IPA puts its `cafile` and `insecure`; a ramdisk has neither.
        .env_remove("REQUESTS_CA_BUNDLE")
        .env_remove("CURL_CA_BUNDLE")
        .output()
        .await
        .expect("python with ironic-python-agent")
}

/// What IPA got back from a successful callback.
pub fn ipa_result(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice::<Value>(&output.stdout).unwrap()["result"].clone()
}

/// Posts with IPA's `call_inspector`, through a proxy that checks the
/// answer against the OpenAPI document; returns what IPA got back.
async fn post_with_ipa(app: &TestApp, document: &str) -> Value {
    let proxy = crate::openapi::checking_proxy("127.0.0.1:0", &app.url("")).await;
    let url = format!("{}/v1/continue", proxy.url);
    let result = ipa_result(&run_ipa_callback(app.dir.path(), &url, document, &[]).await);
    proxy.assert_answers_passed();
    result
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_venv)),
    ignore = "needs the test bed (Ironic, venv-ironic): run scripts/test.sh"
)]
async fn the_inventory_ipa_collected_on_a_vm() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let mac = random_mac();
    let document = with_macs(
        &testbed_data("ipa-inventory-this-machine.json"),
        &[("02:fc:00:00:00:01", &mac)],
    );
    let uuid = ironic.manageable_node(json!({})).await;
    ironic.create_port(&uuid, &mac).await;
    app.start_introspection(&uuid, "?manage_boot=false").await;

    assert_eq!(post_with_ipa(&app, &document).await, json!({"uuid": uuid}));
    let status = app
        .wait_for_state(&uuid, "finished", Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], json!(null));
    let node = ironic.node(&uuid).await;
    let p = &node["properties"];
    // What upstream 12.5.0 wrote for this document.
    assert_eq!(
        (&p["memory_mb"], &p["cpus"], &p["cpu_arch"], &p["local_gb"]),
        (
            &json!("24576"),
            &json!("2"),
            &json!("x86_64"),
            &json!("255")
        ),
        "{p}"
    );
    let ports = ironic.ports(&uuid).await;
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0]["address"], mac.as_str());
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_venv)),
    ignore = "needs the test bed (Ironic, venv-ironic): run scripts/test.sh"
)]
async fn the_handmade_two_nic_server_with_lldp() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|c| {
        c.processing.add_ports = inspector_core::conf::AddPorts::All;
        c.processing
            .processing_hooks
            .extend(["extra_hardware", "lldp_basic", "local_link_connection"].map(String::from));
    })
    .await;
    let (eno1, eno2) = (random_mac(), random_mac());
    let macs = [
        ("52:54:00:aa:00:01", eno1.as_str()),
        ("52:54:00:aa:00:02", eno2.as_str()),
    ];
    let document = with_macs(&testbed_data("ipa-inventory-handmade-2nic.json"), &macs);
    let uuid = ironic.manageable_node(json!({})).await;
    ironic.create_port(&uuid, &eno1).await;
    app.start_introspection(&uuid, "?manage_boot=false").await;

    assert_eq!(post_with_ipa(&app, &document).await, json!({"uuid": uuid}));
    app.wait_for_state(&uuid, "finished", Duration::from_secs(30))
        .await;

    let node = ironic.node(&uuid).await;
    let p = &node["properties"];
    assert_eq!(
        (&p["memory_mb"], &p["cpus"], &p["cpu_arch"], &p["local_gb"]),
        (
            &json!("65536"),
            &json!("16"),
            &json!("x86_64"),
            &json!("446")
        ),
        "{p}"
    );
    assert_eq!(
        p["capabilities"],
        "cpu_vt:true,cpu_aes:true,cpu_hugepages:true,cpu_hugepages_1g:true,cpu_txt:true"
    );
    let ports = ironic.ports(&uuid).await;
    let port = |mac: &str| {
        ports
            .iter()
            .find(|p| p["address"] == mac)
            .cloned()
            .unwrap_or_else(|| panic!("no port {mac}"))
    };
    assert_eq!(
        port(&eno1)["local_link_connection"],
        json!({"switch_id": "88:5a:92:ec:54:59", "port_id": "Ethernet1/18"})
    );
    assert_eq!(
        port(&eno2)["local_link_connection"],
        json!({"switch_id": "88:5a:92:ec:54:60", "port_id": "Ethernet1/19"})
    );
    assert_eq!(port(&eno2)["pxe_enabled"], false);

    // The stored processed data is what upstream stored for this document.
    let expected: Value = serde_json::from_str(&with_macs(
        &testbed_data("inspector-stored-data-handmade.json"),
        &macs,
    ))
    .unwrap();
    let stored = json_with_status(
        app.get(&format!("/v1/introspection/{uuid}/data")).await,
        200,
    )
    .await;
    assert_eq!(stored, expected);
    app.finish().await;
}
