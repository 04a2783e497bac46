//! API 1.19: each node's past introspections (`GET .../history`, the data of
//! one run) and the hardware diff between two runs, through the real Ironic;
//! at 1.18 and below the three URLs do not exist.

use serde_json::{Value, json};

use crate::bed::Ironic;
use crate::helpers::{TestApp, assert_error, json_with_status};
use crate::processing::Machine;

const UNKNOWN_URL: &str = "404 Not Found: The requested URL was not found on the server. If you \
                           entered the URL manually please check your spelling and try again.";

fn history_config(depth: u32) -> impl FnOnce(&mut inspector_core::conf::Config) {
    move |c| {
        c.processing.processing_hooks.push("lldp_basic".into());
        c.processing.history_depth = depth;
    }
}

/// The machine's document with the OS disk's serial and the LLDP port ID
/// (TLV type 2, locally assigned subtype 7) of its PXE interface given.
fn data(m: &Machine, os_disk_serial: &str, switch_port: &str) -> Value {
    let mut data = m.data();
    data["inventory"]["disks"][1]["serial"] = json!(os_disk_serial);
    data["inventory"]["interfaces"][0]["lldp"][1] =
        json!([2, format!("07{}", text_hex(switch_port))]);
    data
}

fn text_hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// A node of the bed's Ironic introspected once (OS disk `OS-1`, switch
/// port 734) by a service keeping `depth` runs.
async fn introspected_once(depth: u32) -> (Ironic, TestApp, Machine, String) {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(history_config(depth)).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    app.introspect(&uuid, "?manage_boot=false", &data(&m, "OS-1", "734"))
        .await;
    (ironic, app, m, uuid)
}

async fn history(app: &TestApp, node: &str) -> Vec<Value> {
    let body = json_with_status(
        app.get(&format!("/v1/introspection/{node}/history")).await,
        200,
    )
    .await;
    body["history"].as_array().expect("a list").clone()
}

fn ids(runs: &[Value]) -> Vec<String> {
    runs.iter()
        .map(|r| r["id"].as_str().expect("a run id").to_string())
        .collect()
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn two_runs_are_listed_newest_first_with_their_data_and_diff() {
    let (ironic, app, m, uuid) = introspected_once(10).await;
    // One run: nothing to compare yet.
    let only = history(&app, &uuid).await;
    assert_eq!(only.len(), 1, "{only:?}");
    let response = app.get(&format!("/v1/introspection/{uuid}/diff")).await;
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("fewer than two introspections"),
        "{body}"
    );

    // The OS disk replaced, the PXE NIC moved to another switch port.
    app.introspect(&uuid, "?manage_boot=false", &data(&m, "OS-2", "735"))
        .await;
    let runs = history(&app, &uuid).await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    let (newest, oldest) = (&runs[0], &runs[1]);
    assert_eq!(oldest["id"], only[0]["id"]);
    for run in &runs {
        assert_eq!(run["state"], "finished", "{run}");
        assert_eq!(run["error"], Value::Null, "{run}");
        assert!(
            run["started_at"].is_string() && run["finished_at"].is_string(),
            "{run}"
        );
        let href = run["links"][0]["href"].as_str().unwrap();
        assert!(
            href.ends_with(&format!(
                "/v1/introspection/{uuid}/history/{}/data",
                run["id"].as_str().unwrap()
            )),
            "{href}"
        );
    }
    assert!(
        newest["started_at"].as_str() > oldest["finished_at"].as_str(),
        "{runs:?}"
    );

    // Each run's own processed data; the node by name works as by UUID.
    let name = ironic.node(&uuid).await["name"]
        .as_str()
        .expect("the bed's nodes have names")
        .to_string();
    for (run, serial) in [(oldest, "OS-1"), (newest, "OS-2")] {
        let id = run["id"].as_str().unwrap();
        for node_id in [&uuid, &name] {
            let stored = json_with_status(
                app.get(&format!("/v1/introspection/{node_id}/history/{id}/data"))
                    .await,
                200,
            )
            .await;
            assert_eq!(stored["inventory"]["disks"][1]["serial"], serial);
        }
    }

    let diff = json_with_status(
        app.get(&format!("/v1/introspection/{uuid}/diff")).await,
        200,
    )
    .await;
    assert_eq!((&diff["from"], &diff["to"]), (&oldest["id"], &newest["id"]));
    let pxe = m.pxe.to_lowercase();
    let removed_disk = json!({"name": "/dev/sdb", "model": "Small OS Disk",
                              "size": 20u64 * 1024 * 1024 * 1024, "serial": "OS-1"});
    let added_disk = json!({"name": "/dev/sdb", "model": "Small OS Disk",
                            "size": 20u64 * 1024 * 1024 * 1024, "serial": "OS-2"});
    assert_eq!(
        diff["changes"],
        json!([
            {"component": "disks", "change": "removed", "id": "serial:OS-1", "old": removed_disk, "new": null},
            {"component": "disks", "change": "added", "id": "serial:OS-2", "old": null, "new": added_disk},
            {"component": "interfaces", "change": "changed", "id": pxe, "field": "switch_port_id",
             "old": "734", "new": "735"}
        ]),
        "{diff:#}"
    );
    // Runs chosen explicitly, the other way round.
    let back = json_with_status(
        app.get(&format!(
            "/v1/introspection/{uuid}/diff?from={}&to={}",
            newest["id"].as_str().unwrap(),
            oldest["id"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(back["changes"][2]["old"], "735");
    assert_eq!(back["changes"][0]["id"], "serial:OS-2");
    let same = json_with_status(
        app.get(&format!(
            "/v1/introspection/{uuid}/diff?from={0}&to={0}",
            newest["id"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(same["changes"], json!([]));

    // Unknown runs and nodes.
    let stranger = "5f000000-0000-4000-8000-00000000000f";
    assert_error(
        app.get(&format!("/v1/introspection/{uuid}/history/{stranger}/data"))
            .await,
        404,
        &format!("Run {stranger} not found for node {uuid}"),
    )
    .await;
    assert_error(
        app.get(&format!("/v1/introspection/{uuid}/diff?from={stranger}"))
            .await,
        404,
        &format!("Run {stranger} not found for node {uuid}"),
    )
    .await;
    let unknown = uuid::Uuid::new_v4().to_string();
    for path in ["history", "diff"] {
        assert_error(
            app.get(&format!("/v1/introspection/{unknown}/{path}"))
                .await,
            404,
            &format!("Could not find node {unknown} in cache"),
        )
        .await;
    }
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn history_depth_keeps_only_the_newest_runs() {
    let (_ironic, app, m, uuid) = introspected_once(2).await;
    let mut seen = ids(&history(&app, &uuid).await);
    for serial in ["OS-2", "OS-3"] {
        app.introspect(&uuid, "?manage_boot=false", &data(&m, serial, "734"))
            .await;
        seen.push(ids(&history(&app, &uuid).await)[0].clone());
    }
    let kept = ids(&history(&app, &uuid).await);
    assert_eq!(kept, [seen[2].clone(), seen[1].clone()]);
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn history_depth_zero_keeps_no_history() {
    let (_ironic, app, _machine, uuid) = introspected_once(0).await;
    assert_eq!(history(&app, &uuid).await, Vec::<Value>::new());
    // Today's single introspection is still served.
    json_with_status(
        app.get(&format!("/v1/introspection/{uuid}/data")).await,
        200,
    )
    .await;
    app.finish().await;
}

/// Below 1.19 the new URLs answer exactly as an unknown URL does, before
/// any node is looked up; at 1.19 they exist.
#[tokio::test]
async fn history_urls_do_not_exist_before_1_19() {
    let app = TestApp::spawn().await;
    let node = uuid::Uuid::new_v4().to_string();
    let run = uuid::Uuid::new_v4().to_string();
    let paths = [
        format!("/v1/introspection/{node}/history"),
        format!("/v1/introspection/{node}/history/{run}/data"),
        format!("/v1/introspection/{node}/diff"),
    ];
    let unknown = app.get_at("/v1/introspection/x/nothing-here", "1.18").await;
    assert_eq!(unknown.status(), 404);
    let unknown_body = unknown.text().await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&unknown_body).unwrap(),
        json!({"error": {"message": UNKNOWN_URL}})
    );
    for path in &paths {
        for version in ["1.0", "1.18"] {
            let response = app.get_at(path, version).await;
            assert_eq!(response.status(), 404, "{path} at {version}");
            assert_eq!(
                response.headers()["x-openstack-ironic-inspector-api-maximum-version"],
                "1.19"
            );
            assert_eq!(
                response.text().await.unwrap(),
                unknown_body,
                "{path} at {version}"
            );
        }
        for version in ["1.19", "latest"] {
            let response = app.get_at(path, version).await;
            assert_error(
                response,
                404,
                &format!("Could not find node {node} in cache"),
            )
            .await;
        }
    }
    // Everything else is unchanged at 1.18.
    let status = app.get_at("/v1/introspection", "1.18").await;
    assert_eq!(status.status(), 200);
    app.finish().await;
}

/// A reapply reprocesses the data of the last introspection: no new run.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn a_reapply_adds_no_run() {
    let (_ironic, app, _machine, uuid) = introspected_once(10).await;
    let before = history(&app, &uuid).await;
    let status = json_with_status(app.get(&format!("/v1/introspection/{uuid}")).await, 200).await;
    assert_eq!(app.reapply(&uuid, None).await.status(), 202);
    app.wait_for_next_finish(&uuid, &status).await;
    app.wait_idle().await;
    assert_eq!(history(&app, &uuid).await, before);
    app.finish().await;
}
