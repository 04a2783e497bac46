//! The ramdisk callback: lookup, hooks, the end state and the power-off.

use inspector_core::conf::AddPorts;
use inspector_core::state::State;
use serde_json::json;

use super::{PXE_MAC, SECOND_MAC, bench, bench_with, document};
use crate::clock::Clock;
use crate::domain::ErrorKind;
use crate::ironic::IronicError;
use crate::ironic::fake::Op;

const LOOKUP_FAILED: &str =
    "The following failures happened during running pre-processing hooks:\nLook up error: ";

#[tokio::test]
async fn a_callback_finishes_the_node_with_the_hooks_patches_and_new_ports() {
    let bench = bench_with(|c| c.processing.add_ports = AddPorts::All).await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;
    bench.clock.advance(time::Duration::seconds(10));
    // CPU flags give the capabilities hook, which runs after the port is
    // created, a node patch of its own: it must join the earlier hooks' one.
    let mut data = document(PXE_MAC, SECOND_MAC);
    data["inventory"]["cpu"]["flags"] = json!(["vmx", "aes"]);

    let found = bench.callback(data).await.expect("processed");
    assert_eq!(found, uuid);
    let record = bench.record(&uuid).await.unwrap();
    assert_eq!(record.state, State::Finished);
    assert_eq!(record.error, None);
    assert_eq!(record.finished_at, Some(bench.clock.now()));
    let properties = &bench.ironic_node(&uuid)["properties"];
    assert_eq!(properties["cpus"], json!("4"), "{properties}");
    assert_eq!(properties["cpu_arch"], json!("x86_64"));
    assert_eq!(properties["memory_mb"], json!("12288"));
    assert_eq!(properties["local_gb"], json!("999"));
    assert_eq!(
        properties["capabilities"],
        json!("cpu_vt:true,cpu_aes:true"),
        "{properties}"
    );
    assert_eq!(bench.port_macs(&uuid).await, [PXE_MAC, SECOND_MAC]);
    assert_eq!(bench.ironic.calls_of(Op::CreatePort).len(), 1);
    assert_eq!(bench.ironic.calls_of(Op::PatchNode).len(), 1);
}

/// The hooks' node patches wait for no port call: one PATCH after the port
/// creation. When Ironic refuses the port, the patches of the hooks before
/// it still reach the node, as upstream (which sent them first) leaves it,
/// and the node fails with the port's error.
#[tokio::test]
async fn the_hooks_patch_goes_after_the_port_calls_and_survives_a_refused_port() {
    let bench = bench_with(|c| c.processing.add_ports = AddPorts::All).await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;
    bench.ironic.fail(
        Op::CreatePort,
        IronicError::Rejected {
            status: 400,
            message: "Invalid port".into(),
        },
    );
    let err = bench
        .callback(document(PXE_MAC, SECOND_MAC))
        .await
        .expect_err("port refused");
    assert!(
        err.message.starts_with("Failed to create port ")
            && err.message.ends_with("Invalid port (HTTP 400)"),
        "{}",
        err.message
    );
    assert_eq!(bench.state(&uuid).await, State::Error);
    let order: Vec<Op> = bench
        .ironic
        .calls()
        .into_iter()
        .map(|c| c.op)
        .filter(|op| matches!(op, Op::CreatePort | Op::PatchNode))
        .collect();
    assert_eq!(order, [Op::CreatePort, Op::PatchNode]);
    let properties = &bench.ironic_node(&uuid)["properties"];
    assert_eq!(properties["memory_mb"], json!("12288"), "{properties}");
    assert_eq!(bench.port_macs(&uuid).await, [PXE_MAC]);
}

/// Ironic refuses the hooks' patch, which now goes after the port calls:
/// the new port stays (upstream stopped before creating it) and the node
/// fails with the patch's error, as upstream's does.
#[tokio::test]
async fn a_refused_hooks_patch_fails_the_node_after_the_port_calls() {
    let bench = bench_with(|c| c.processing.add_ports = AddPorts::All).await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;
    bench.ironic.fail(
        Op::PatchNode,
        IronicError::Rejected {
            status: 400,
            message: "Invalid properties".into(),
        },
    );
    let err = bench
        .callback(document(PXE_MAC, SECOND_MAC))
        .await
        .expect_err("patch refused");
    assert_eq!(
        err.message,
        format!("Failed to update node properties for node {uuid}: Invalid properties (HTTP 400)")
    );
    assert_eq!(bench.state(&uuid).await, State::Error);
    assert_eq!(bench.port_macs(&uuid).await, [PXE_MAC, SECOND_MAC]);
}

#[tokio::test]
async fn with_add_ports_pxe_only_the_boot_interface_becomes_a_port() {
    let bench = bench().await;
    // Found by its BMC address: the node has no port yet.
    let uuid = bench
        .ironic
        .add_node(json!({"driver_info": {"ipmi_address": "192.0.2.200"}}));
    bench.start_unmanaged(&uuid).await;
    bench
        .callback(document(PXE_MAC, SECOND_MAC))
        .await
        .expect("processed");
    assert_eq!(bench.state(&uuid).await, State::Finished);
    assert_eq!(bench.port_macs(&uuid).await, [PXE_MAC]);
}

#[tokio::test]
async fn a_callback_matching_no_node_is_the_generic_lookup_error_and_writes_nothing() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;
    let err = bench
        .callback(document("52:54:00:00:00:01", "52:54:00:00:00:02"))
        .await
        .expect_err("no such node");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(
        err.message,
        format!("{LOOKUP_FAILED}Could not find a node under introspection for the data posted")
    );
    assert_eq!(bench.state(&uuid).await, State::Waiting);
    assert!(bench.changes().is_empty(), "{:?}", bench.changes());
}

#[tokio::test]
async fn a_callback_matching_two_nodes_equally_is_ambiguous() {
    let bench = bench().await;
    let first = bench.node_with_port();
    let second = bench.ironic.add_node(json!({"name": "node-1"}));
    bench.ironic.add_port(&second, SECOND_MAC);
    bench.start_unmanaged(&first).await;
    bench.start_unmanaged(&second).await;
    let err = bench
        .callback(document(PXE_MAC, SECOND_MAC))
        .await
        .expect_err("ambiguous");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(
        err.message,
        format!("{LOOKUP_FAILED}The data posted matches several nodes equally")
    );
    assert_eq!(bench.state(&first).await, State::Waiting);
    assert_eq!(bench.state(&second).await, State::Waiting);
    assert!(bench.changes().is_empty(), "{:?}", bench.changes());
}

#[tokio::test]
async fn a_ramdisk_error_fails_the_node_with_its_message() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;
    let mut data = document(PXE_MAC, SECOND_MAC);
    data.insert("error".into(), json!("disk on fire"));
    let err = bench.callback(data).await.expect_err("ramdisk error");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    let error = bench.failed_with(&uuid).await;
    assert_eq!(
        error,
        "Preprocessing hook ramdisk_error: Ramdisk reported error: disk on fire"
    );
    assert!(err.message.ends_with(&error), "{}", err.message);
    assert!(bench.ironic.calls_of(Op::PatchNode).is_empty());
}

#[tokio::test]
async fn ironic_failing_the_node_read_during_processing_fails_the_node() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;
    bench.ironic.fail(
        Op::GetNode,
        IronicError::Server {
            status: 503,
            message: "Service Unavailable".into(),
        },
    );
    let err = bench
        .callback(document(PXE_MAC, SECOND_MAC))
        .await
        .expect_err("node not read");
    assert!(
        err.message.contains("Service Unavailable (HTTP 503)"),
        "{}",
        err.message
    );
    assert_eq!(bench.failed_with(&uuid).await, err.message);
    assert!(bench.ironic.calls_of(Op::PatchNode).is_empty());
}

#[tokio::test]
async fn the_node_is_powered_off_after_processing_only_with_managed_boot() {
    let bench = bench().await;
    let managed = bench.node_with_port();
    bench.start_managed(&managed).await;
    assert_eq!(bench.power(&managed).as_deref(), Some("power on"));
    bench
        .callback(document(PXE_MAC, "52:54:00:00:00:01"))
        .await
        .expect("processed");
    assert_eq!(bench.state(&managed).await, State::Finished);
    assert_eq!(bench.power(&managed).as_deref(), Some("power off"));
    let power_calls: Vec<String> = bench
        .ironic
        .calls_of(Op::SetPowerState)
        .into_iter()
        .map(|c| c.argument)
        .collect();
    assert_eq!(power_calls, ["rebooting", "power off"]);

    let unmanaged = bench.ironic.add_node(json!({"power_state": "power on"}));
    bench.ironic.add_port(&unmanaged, SECOND_MAC);
    bench.start_unmanaged(&unmanaged).await;
    bench
        .callback(document(SECOND_MAC, "52:54:00:00:00:02"))
        .await
        .expect("processed");
    assert_eq!(bench.state(&unmanaged).await, State::Finished);
    assert_eq!(bench.power(&unmanaged).as_deref(), Some("power on"));
    assert_eq!(bench.ironic.calls_of(Op::SetPowerState).len(), 2);
}

#[tokio::test]
async fn a_second_callback_for_a_finished_node_is_refused() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;
    bench
        .callback(document(PXE_MAC, SECOND_MAC))
        .await
        .expect("processed");
    let finished = bench.record(&uuid).await.unwrap();
    let patches = bench.ironic.calls_of(Op::PatchNode).len();

    bench.clock.advance(time::Duration::seconds(5));
    let err = bench
        .callback(document(PXE_MAC, SECOND_MAC))
        .await
        .expect_err("already finished");
    assert_eq!(
        err.message,
        format!("{LOOKUP_FAILED}Could not find a node under introspection for the data posted")
    );
    assert_eq!(bench.record(&uuid).await.unwrap(), finished);
    assert_eq!(bench.ironic.calls_of(Op::PatchNode).len(), patches);
}

#[tokio::test]
async fn a_callback_for_a_node_still_starting_fails_it_and_is_refused() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    // As if its start were still setting the boot device when the
    // ramdisk called back.
    bench
        .inspector
        .store()
        .add_node(
            &crate::store::NodeRecord {
                uuid: uuid.clone(),
                state: State::Starting,
                started_at: Some(bench.clock.now()),
                finished_at: None,
                error: None,
                manage_boot: true,
            },
            &[("mac", PXE_MAC)],
        )
        .await
        .expect("cached");
    let err = bench
        .callback(document(PXE_MAC, SECOND_MAC))
        .await
        .expect_err("not waiting");
    assert_eq!(err.kind, ErrorKind::BadRequest, "{err:?}");
    assert_eq!(bench.failed_with(&uuid).await, err.message);
    assert!(bench.ironic.calls_of(Op::PatchNode).is_empty());
}

#[tokio::test]
async fn with_store_data_database_both_documents_are_stored_without_the_logs() {
    let bench = bench_with(|c| {
        c.processing.store_data = inspector_core::conf::StoreData::Database;
    })
    .await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;
    let mut data = document(PXE_MAC, SECOND_MAC);
    data.insert(
        "logs".into(),
        json!("H4sIAAAAAAAAA+3BAQ0AAADCoPdPbQ8HFAAAAAAAAAAA"),
    );
    bench.callback(data).await.expect("processed");
    let mut stored = Vec::new();
    for processed in [false, true] {
        let text = bench
            .inspector
            .statuses()
            .introspection_data(&uuid, processed)
            .await
            .expect("stored");
        stored.push(serde_json::from_str::<serde_json::Value>(&text).unwrap());
    }
    let [unprocessed, processed] = <[_; 2]>::try_from(stored).unwrap();
    assert_eq!(unprocessed.get("logs"), None);
    assert_eq!(processed.get("logs"), None);
    assert_eq!(
        unprocessed["inventory"]["memory"]["physical_mb"],
        json!(12288)
    );
    assert_eq!(unprocessed.get("memory_mb"), None);
    // The hooks' results are in the processed document only.
    assert_eq!(processed["memory_mb"], json!(12288));
    assert_eq!(processed["local_gb"], json!(999));
}
