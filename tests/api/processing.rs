//! The ramdisk callback and processing against the real Ironic: the 16
//! functional scenarios of upstream's `test/functional.py` (upstream-behaviour §functional), with
//! real Ironic state asserted instead of recorded mock calls.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::bed::{Ironic, random_mac};
use crate::helpers::{TestApp, assert_error_prefix, eventually, json_with_status};

/// The MACs and BMC address of one scenario's machine; unique per test, as
/// every test shares one Ironic.
pub struct Machine {
    pub pxe: String,
    pub eth2: String,
    pub eth3: String,
    pub ib0: String,
    pub bmc: String,
}

impl Machine {
    pub fn new() -> Self {
        let b = uuid::Uuid::new_v4().into_bytes();
        Self {
            pxe: random_mac(),
            eth2: random_mac(),
            eth3: random_mac(),
            ib0: random_mac(),
            bmc: format!("10.{}.{}.{}", b[0], b[1], b[2].max(1)),
        }
    }

    /// The ramdisk document of upstream's functional tests (upstream-behaviour §functional).
    pub fn data(&self) -> Value {
        json!({
            "boot_interface": format!("01-{}", self.pxe.replace(':', "-")),
            "inventory": {
                "interfaces": [
                    {"name": "eth1", "mac_address": self.pxe, "ipv4_address": "1.2.1.2",
                     "lldp": [[1, "04112233aabbcc"], [2, "07373334"], [3, "003c"]]},
                    {"name": "eth2", "mac_address": self.eth2},
                    {"name": "eth3", "mac_address": self.eth3, "ipv4_address": "1.2.1.1"},
                    {"name": "ib0", "mac_address": self.ib0, "ipv4_address": "1.2.1.3",
                     "client_id": "ff:00:00:00:00:00:02:00:00:02:c9:00:7c:fe:90:03:00:29:26:52"}
                ],
                "disks": [
                    {"name": "/dev/sda", "model": "Big Data Disk", "size": 1000u64 * 1024 * 1024 * 1024},
                    {"name": "/dev/sdb", "model": "Small OS Disk", "size": 20u64 * 1024 * 1024 * 1024}
                ],
                "cpu": {"count": 4, "architecture": "x86_64"},
                "memory": {"physical_mb": 12288},
                "bmc_address": self.bmc,
                "bmc_v6address": "2001:1234:1234:1234:1234:1234:1234:1234/64"
            },
            "root_disk": {"name": "/dev/sda", "model": "Big Data Disk", "size": 1000u64 * 1024 * 1024 * 1024, "wwn": null},
            "error": null
        })
    }

    /// A manageable fake-hardware node with this machine's BMC address and
    /// upstream's fixture properties.
    pub async fn node(&self, ironic: &Ironic) -> String {
        ironic
            .manageable_node(json!({
                "driver_info": {"ipmi_address": self.bmc},
                "properties": {"cpu_arch": "i386", "local_gb": 40}
            }))
            .await
    }
}

pub async fn post_continue(app: &TestApp, data: &Value) -> reqwest::Response {
    app.request(Method::POST, "/v1/continue")
        .body(data.to_string())
        .send()
        .await
        .unwrap()
}

/// Posts the same document `count` times at once; the statuses, sorted.
pub async fn post_concurrently(app: &TestApp, data: &Value, count: usize) -> Vec<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let request = app
            .request(Method::POST, "/v1/continue")
            .body(data.to_string());
        tasks.spawn(async move {
            request
                .send()
                .await
                .expect("POST /v1/continue")
                .status()
                .as_u16()
        });
    }
    let mut statuses = tasks.join_all().await;
    statuses.sort();
    statuses
}

/// The "standard patch set": what the default hooks write on the node.
fn assert_standard_properties(node: &Value, local_gb: &str) {
    let p = &node["properties"];
    assert_eq!(
        (&p["cpus"], &p["cpu_arch"], &p["memory_mb"], &p["local_gb"]),
        (
            &json!("4"),
            &json!("x86_64"),
            &json!("12288"),
            &json!(local_gb)
        ),
        "{p}"
    );
}

fn app_config(c: &mut inspector_core::conf::Config) {
    c.processing.processing_hooks.push("lldp_basic".into());
}

async fn finished(app: &TestApp, uuid: &str) -> Value {
    let status = app
        .wait_for_state(uuid, "finished", Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], json!(null));
    assert_eq!(status["finished"], true);
    status
}

/// 1. test_bmc: managed introspection found by BMC address.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_01_bmc_lookup_and_standard_processing() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(app_config).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    app.start_introspection(&uuid, "").await;
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;
    ironic
        .wait_for(&uuid, "power_state", "power on", Duration::from_secs(30))
        .await;

    let body = json_with_status(post_continue(&app, &m.data()).await, 200).await;
    assert_eq!(body, json!({"uuid": uuid}));
    finished(&app, &uuid).await;
    let node = ironic
        .wait_for(&uuid, "power_state", "power off", Duration::from_secs(30))
        .await;
    assert_standard_properties(&node, "999");
    let ports = ironic.ports(&uuid).await;
    assert_eq!(ports.len(), 1, "{ports:?}");
    assert_eq!(
        (
            &ports[0]["address"],
            &ports[0]["extra"],
            &ports[0]["pxe_enabled"]
        ),
        (&json!(m.pxe), &json!({}), &json!(true))
    );
    app.finish().await;
}

/// 2. test_port_creation_update_and_deletion.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_02_ports_created_updated_and_deleted() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|c| {
        app_config(c);
        c.processing.add_ports = inspector_core::conf::AddPorts::Active;
        c.processing.keep_ports = inspector_core::conf::KeepPorts::Added;
    })
    .await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    let existing = ironic.create_port(&uuid, &m.eth3).await;
    let bogus = random_mac();
    ironic.create_port(&uuid, &bogus).await;
    app.introspect(&uuid, "?manage_boot=false", &m.data()).await;

    let ports = ironic.ports(&uuid).await;
    let by_mac = |mac: &str| ports.iter().find(|p| p["address"] == mac).cloned();
    assert!(
        by_mac(&bogus).is_none(),
        "the port not seen by the ramdisk is deleted: {ports:?}"
    );
    let pxe = by_mac(&m.pxe).expect("PXE port created");
    assert_eq!(
        (&pxe["extra"], &pxe["pxe_enabled"]),
        (&json!({}), &json!(true))
    );
    let ib = by_mac(&m.ib0).expect("InfiniBand port created");
    assert_eq!(
        ib["extra"],
        json!({"client-id": "ff:00:00:00:00:00:02:00:00:02:c9:00:7c:fe:90:03:00:29:26:52"})
    );
    assert_eq!(ib["pxe_enabled"], false);
    let eth3 = by_mac(&m.eth3).expect("existing port kept");
    assert_eq!(eth3["uuid"], existing["uuid"]);
    assert_eq!(eth3["pxe_enabled"], false, "pxe_enabled follows the data");
    assert_eq!(ports.len(), 3);
    assert_standard_properties(&ironic.node(&uuid).await, "999");
    app.finish().await;
}

/// 3. test_port_not_update_pxe_enabled.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_03_pxe_enabled_left_alone_when_disabled() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|c| {
        app_config(c);
        c.processing.add_ports = inspector_core::conf::AddPorts::Active;
        c.processing.keep_ports = inspector_core::conf::KeepPorts::Added;
        c.processing.update_pxe_enabled = false;
    })
    .await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    let pxe_port = ironic.create_port(&uuid, &m.pxe).await;
    ironic
        .call(
            Method::PATCH,
            &format!("/ports/{}", pxe_port["uuid"].as_str().unwrap()),
            Some(json!([{"op": "replace", "path": "/pxe_enabled", "value": false}])),
        )
        .await;
    app.introspect(&uuid, "?manage_boot=false", &m.data()).await;
    let ports = ironic.ports(&uuid).await;
    let by_mac = |mac: &str| {
        ports
            .iter()
            .find(|p| p["address"] == mac)
            .cloned()
            .unwrap_or_else(|| panic!("no port {mac}: {ports:?}"))
    };
    assert_eq!(by_mac(&m.pxe)["pxe_enabled"], false, "not patched");
    assert_eq!(
        by_mac(&m.ib0)["pxe_enabled"],
        true,
        "created with pxe_enabled=true"
    );
    app.finish().await;
}

/// 4. test_introspection_statuses: the list while waiting and after.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_04_status_list_and_links() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(app_config).await;
    let mut machines = Vec::new();
    for _ in 0..3 {
        let m = Machine::new();
        let uuid = m.node(&ironic).await;
        app.start_introspection(&uuid, "?manage_boot=false").await;
        machines.push((m, uuid));
    }
    let list = json_with_status(app.get("/v1/introspection").await, 200).await;
    let listed: Vec<&str> = list["introspection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        [
            machines[2].1.as_str(),
            machines[1].1.as_str(),
            machines[0].1.as_str()
        ]
    );
    assert!(
        list["introspection"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["finished"] == false)
    );
    let page = json_with_status(app.get("/v1/introspection?limit=1").await, 200).await;
    assert_eq!(page["introspection"].as_array().unwrap().len(), 1);
    let after = json_with_status(
        app.get(&format!(
            "/v1/introspection?marker={}&limit=1",
            machines[2].1
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(after["introspection"][0]["uuid"], machines[1].1.as_str());

    for (m, uuid) in &machines {
        json_with_status(post_continue(&app, &m.data()).await, 200).await;
        finished(&app, uuid).await;
    }
    let list = json_with_status(app.get("/v1/introspection").await, 200).await;
    for status in list["introspection"].as_array().unwrap() {
        let href = status["links"][0]["href"].as_str().unwrap();
        let path = href.strip_prefix(&format!("http://{}", app.addr)).unwrap();
        assert_eq!(&json_with_status(app.get(path).await, 200).await, status);
        assert!(status["started_at"].as_str().unwrap() < status["finished_at"].as_str().unwrap());
    }
    app.finish().await;
}

/// 5. test_manage_boot: no power or boot calls at all.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_05_unmanaged_boot() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(app_config).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    app.introspect(&uuid, "?manage_boot=false", &m.data()).await;
    let node = ironic.node(&uuid).await;
    assert_standard_properties(&node, "999");
    assert_eq!(node["power_state"], "power off", "never powered on");
    app.finish().await;
}

/// 7. test_introspection_rules: conditions on processed data.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_07_rules_on_processed_data() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(app_config).await;
    let matching = json!({
        "description": "all true",
        "conditions": [
            {"op": "eq", "field": "memory_mb", "value": 12288},
            {"op": "gt", "field": "local_gb", "value": 998},
            {"op": "lt", "field": "local_gb", "value": 1000},
            {"op": "matches", "field": "local_gb", "value": "[0-9]+"},
            {"op": "contains", "field": "cpu_arch", "value": "[0-9]+"},
            {"op": "is-empty", "field": "root_disk.wwn"},
            {"op": "contains", "field": "inventory.interfaces[*].ipv4_address", "value": "127\\.0\\.0\\.1", "invert": true, "multiple": "all"},
            {"op": "is-empty", "field": "i.do.not.exist"}
        ],
        "actions": [{"action": "set-attribute", "path": "/extra/foo", "value": "bar"}]
    });
    let failing = json!({
        "description": "not matching",
        "conditions": [{"op": "ge", "field": "memory_mb", "value": 100500}],
        "actions": [{"action": "set-attribute", "path": "/extra/bar", "value": "foo"}, {"action": "fail", "message": "boom"}]
    });
    for rule in [&matching, &failing] {
        json_with_status(app.post_json("/v1/rules", rule).await, 201).await;
    }
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    app.introspect(&uuid, "?manage_boot=false", &m.data()).await;
    let node = ironic.node(&uuid).await;
    assert_eq!(node["extra"], json!({"foo": "bar"}));
    app.finish().await;
}

/// 8. test_conditions_scheme_actions_path: node:// fields and formatting.
/// Upstream's mock Ironic never applied patches, so its rule compared
/// `node://properties.local_gb` with the original 40; a real Ironic already
/// holds the patched "999" when rules run, so the rule checks that instead.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_08_node_fields_and_formatted_values() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(app_config).await;
    let m = Machine::new();
    let rules = [
        json!({"conditions": [
                {"op": "eq", "field": "node://properties.local_gb", "value": 999},
                {"op": "eq", "field": "node://driver_info.ipmi_address", "value": m.bmc}
              ],
              "actions": [{"action": "set-attribute", "path": "/extra/foo", "value": "bar"}]}),
        json!({"conditions": [{"op": "eq", "field": "data://inventory.cpu.count", "value": 4}],
               "actions": [{"action": "set-attribute", "path": "/driver_info/ipmi_address", "value": "{data[inventory][bmc_address]}"}]}),
    ];
    for rule in &rules {
        json_with_status(app.post_json("/v1/rules", rule).await, 201).await;
    }
    let uuid = m.node(&ironic).await;
    app.introspect(&uuid, "?manage_boot=false", &m.data()).await;
    let node = ironic.node(&uuid).await;
    assert_eq!(node["extra"]["foo"], "bar");
    assert_eq!(node["driver_info"]["ipmi_address"], m.bmc.as_str());
    app.finish().await;
}

/// 9. test_root_device_hints.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_09_root_device_hints() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(app_config).await;
    let m = Machine::new();
    let uuid = ironic
        .manageable_node(json!({"driver_info": {"ipmi_address": m.bmc}, "properties": {"root_device": {"size": 20}}}))
        .await;
    app.introspect(&uuid, "?manage_boot=false", &m.data()).await;
    assert_standard_properties(&ironic.node(&uuid).await, "19");
    assert_eq!(ironic.ports(&uuid).await.len(), 1);
    app.finish().await;
}

/// 10. test_abort_introspection: data after abort is refused.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_10_abort_then_data_is_refused() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(app_config).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    app.start_introspection(&uuid, "").await;
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;
    assert_eq!(
        app.request(Method::POST, &format!("/v1/introspection/{uuid}/abort"))
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
    let status = app
        .wait_for_state(&uuid, "error", Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], "Canceled by operator");
    assert_error_prefix(
        post_continue(&app, &m.data()).await,
        400,
        "The following failures happened during running pre-processing hooks:\nLook up error: ",
    )
    .await;
    assert_eq!(
        ironic.node(&uuid).await["properties"]["cpus"],
        json!(null),
        "nothing was written"
    );
    app.finish().await;
}

/// 11. test_stored_data_processing: stored data and reapply.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_11_stored_data_and_reapply() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(app_config).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    let first = app.introspect(&uuid, "?manage_boot=false", &m.data()).await;

    let processed = json_with_status(
        app.get(&format!("/v1/introspection/{uuid}/data")).await,
        200,
    )
    .await;
    let unprocessed = json_with_status(
        app.get(&format!("/v1/introspection/{uuid}/data/unprocessed"))
            .await,
        200,
    )
    .await;
    assert_eq!(processed["inventory"], m.data()["inventory"]);
    assert!(processed.get("all_interfaces").is_some());
    assert_eq!(unprocessed["inventory"], m.data()["inventory"]);
    assert!(unprocessed.get("all_interfaces").is_none());

    let response = app.reapply(&uuid, None).await;
    assert_eq!(response.status(), 202);
    assert_eq!(response.text().await.unwrap(), "{}\n");
    let second = app.wait_for_next_finish(&uuid, &first).await;
    assert!(second["started_at"].as_str().unwrap() > first["started_at"].as_str().unwrap());
    assert_eq!(app.reapply(&uuid, None).await.status(), 202);
    app.wait_for_state(&uuid, "finished", Duration::from_secs(30))
        .await;

    let mut changed = m.data();
    changed["inventory"]["cpu"]["count"] = json!(42);
    assert_eq!(app.reapply(&uuid, Some(&changed)).await.status(), 202);
    eventually(
        "the changed document is the stored data",
        Duration::from_secs(30),
        || async {
            let processed = json_with_status(
                app.get(&format!("/v1/introspection/{uuid}/data")).await,
                200,
            )
            .await;
            processed["inventory"]["cpu"]["count"] == 42
        },
    )
    .await;
    app.wait_for_state(&uuid, "finished", Duration::from_secs(30))
        .await;
    assert_eq!(ironic.node(&uuid).await["properties"]["cpus"], "42");
    app.finish().await;
}

/// 12. test_edge_state_transitions.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_12_edge_state_transitions() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(app_config).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    // (a) two starts in a row; (b) abort then start again.
    app.start_introspection(&uuid, "?manage_boot=false").await;
    app.start_introspection(&uuid, "?manage_boot=false").await;
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(10))
        .await;
    app.request(Method::POST, &format!("/v1/introspection/{uuid}/abort"))
        .send()
        .await
        .unwrap();
    app.wait_for_state(&uuid, "error", Duration::from_secs(10))
        .await;
    app.start_introspection(&uuid, "?manage_boot=false").await;
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(10))
        .await;
    // (d) a node forced into `processing` refuses data and ends in error.
    app.store()
        .update_state(
            &uuid,
            inspector_core::state::State::Waiting,
            inspector_core::state::State::Processing,
        )
        .await
        .unwrap();
    assert_error_prefix(
        post_continue(&app, &m.data()).await,
        400,
        "Can not transition from state 'processing' on event 'process'",
    )
    .await;
    let status = app
        .wait_for_state(&uuid, "error", Duration::from_secs(10))
        .await;
    assert!(
        status["error"]
            .as_str()
            .unwrap()
            .contains("no defined transition"),
        "{status}"
    );
    assert_eq!(status["finished"], true);
    // (e) process to finished, then reapply twice.
    app.introspect(&uuid, "?manage_boot=false", &m.data()).await;
    for _ in 0..2 {
        let r = app
            .request(
                Method::POST,
                &format!("/v1/introspection/{uuid}/data/unprocessed"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        finished(&app, &uuid).await;
    }
    app.finish().await;
}

/// 13. test_without_root_disk.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_13_without_root_disk() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(app_config).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    let mut data = m.data();
    data.as_object_mut().unwrap().remove("root_disk");
    data["inventory"]["disks"] = json!([]);
    app.introspect(&uuid, "?manage_boot=false", &data).await;
    assert_standard_properties(&ironic.node(&uuid).await, "0");
    assert_eq!(ironic.ports(&uuid).await.len(), 1);
    app.finish().await;
}

/// 14. test_lldp_plugin.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_14_lldp_processed() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(app_config).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    app.introspect(&uuid, "?manage_boot=false", &m.data()).await;
    let processed = json_with_status(
        app.get(&format!("/v1/introspection/{uuid}/data")).await,
        200,
    )
    .await;
    let lldp = &processed["all_interfaces"]["eth1"]["lldp_processed"];
    assert_eq!(
        (&lldp["switch_chassis_id"], &lldp["switch_port_id"]),
        (&json!("11:22:33:aa:bb:cc"), &json!("734"))
    );
    app.finish().await;
}

async fn active_node(ironic: &Ironic, m: &Machine) -> String {
    let uuid = m.node(ironic).await;
    ironic.create_port(&uuid, &m.pxe).await;
    ironic
        .set_provision_state(&uuid, "provide", "available")
        .await;
    ironic.set_provision_state(&uuid, "active", "active").await;
    uuid
}

/// 15. test_update_unknown_active_node: data from a deployed node that was
/// never started.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_15_unknown_active_node() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|c| {
        app_config(c);
        c.processing.permit_active_introspection = true;
    })
    .await;
    let m = Machine::new();
    let uuid = active_node(&ironic, &m).await;
    let power_before = ironic.node(&uuid).await["power_state"].clone();
    let body = json_with_status(post_continue(&app, &m.data()).await, 200).await;
    assert_eq!(body["uuid"], uuid.as_str());
    finished(&app, &uuid).await;
    let node = ironic.node(&uuid).await;
    assert_standard_properties(&node, "999");
    assert_eq!(node["power_state"], power_before, "power left alone");
    assert_eq!(ironic.ports(&uuid).await.len(), 1, "no port created");
    app.finish().await;
}

/// 16. test_update_known_active_node: scenario 1, then the active node again.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn scenario_16_known_active_node() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|c| {
        app_config(c);
        c.processing.permit_active_introspection = true;
    })
    .await;
    let m = Machine::new();
    let uuid = active_node(&ironic, &m).await;
    json_with_status(post_continue(&app, &m.data()).await, 200).await;
    finished(&app, &uuid).await;
    let mut data = m.data();
    data["inventory"]["memory"]["physical_mb"] = json!(16384);
    json_with_status(post_continue(&app, &data).await, 200).await;
    finished(&app, &uuid).await;
    assert_eq!(ironic.node(&uuid).await["properties"]["memory_mb"], "16384");
    app.finish().await;
}

/// 6 (the rules API CRUD scenario) is `rules::crud_round_trip`.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn a_ramdisk_error_while_waiting_ends_in_error_with_its_message() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(app_config).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    app.start_introspection(&uuid, "?manage_boot=false").await;
    let mut data = m.data();
    data["error"] = json!("no disks found, the ramdisk is sad");
    assert_error_prefix(
        post_continue(&app, &data).await,
        400,
        "The following failures happened during running pre-processing hooks:\nPreprocessing hook ramdisk_error: Ramdisk reported error: no disks found",
    )
    .await;
    // upstream-behaviour §q1: upstream left the node waiting and lost the message.
    let status = app
        .wait_for_state(&uuid, "error", Duration::from_secs(10))
        .await;
    assert_eq!(
        status["error"],
        "Preprocessing hook ramdisk_error: Ramdisk reported error: no disks found, the ramdisk is sad"
    );
    app.finish().await;
}
