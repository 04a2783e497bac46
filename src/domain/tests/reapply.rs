//! Reapplying hooks and rules to stored data.

use std::time::Instant;

use inspector_core::conf::StoreData;
use inspector_core::state::State;
use serde_json::json;

use super::{PXE_MAC, SECOND_MAC, bench, bench_with, document};
use crate::clock::Clock;
use crate::domain::ErrorKind;
use crate::ironic::IronicApi;
use crate::ironic::fake::Op;

#[tokio::test]
async fn reapply_reruns_the_hooks_and_rules_on_the_stored_data() {
    let bench = bench_with(|c| c.processing.store_data = StoreData::Database).await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;
    bench
        .callback(document(PXE_MAC, SECOND_MAC))
        .await
        .expect("processed");
    // Changes made since: an operator reset the properties, and a rule
    // was added.
    bench
        .ironic
        .patch_node(
            &uuid,
            &[json!({"op": "replace", "path": "/properties", "value": {}})],
            false,
        )
        .await
        .unwrap();
    bench
        .inspector
        .rules()
        .create(&json!({
            "conditions": [{"op": "eq", "field": "cpus", "value": 4}],
            "actions": [{"action": "set-attribute", "path": "/extra/reapplied", "value": true}]
        }))
        .await
        .unwrap();
    bench.clock.advance(time::Duration::seconds(60));
    let before = bench.ironic.calls().len();

    bench
        .inspector
        .processing()
        .reapply(&uuid, None)
        .await
        .expect("reapply accepted");
    bench.settle().await;
    let record = bench.record(&uuid).await.unwrap();
    assert_eq!(record.state, State::Finished);
    assert_eq!(record.started_at, Some(bench.clock.now()));
    assert_eq!(record.finished_at, Some(bench.clock.now()));
    let node = bench.ironic_node(&uuid);
    assert_eq!(node["properties"]["memory_mb"], json!("12288"));
    assert_eq!(node["extra"], json!({"reapplied": true}));
    // Reapply never touches the power.
    let after = &bench.ironic.calls()[before..];
    assert!(after.iter().all(|c| c.op != Op::SetPowerState), "{after:?}");
}

#[tokio::test]
async fn reapply_without_stored_data_is_refused() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;
    let err = bench
        .inspector
        .processing()
        .reapply(&uuid, None)
        .await
        .expect_err("nothing stored");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert!(
        err.message
            .starts_with("Inspector is not configured to store introspection data."),
        "{}",
        err.message
    );

    let bench = bench_with(|c| c.processing.store_data = StoreData::Database).await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;
    let err = bench
        .inspector
        .processing()
        .reapply(&uuid, None)
        .await
        .expect_err("no data yet");
    assert_eq!(err.kind, ErrorKind::NotFound, "{err:?}");
    assert_eq!(bench.state(&uuid).await, State::Waiting);
    assert!(bench.changes().is_empty());
}

#[tokio::test]
async fn reapply_of_a_busy_node_is_a_conflict() {
    let bench = bench_with(|c| c.processing.store_data = StoreData::Database).await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;
    bench
        .callback(document(PXE_MAC, SECOND_MAC))
        .await
        .expect("processed");
    let finished = bench.record(&uuid).await.unwrap();
    let _busy = bench
        .inspector
        .locks()
        .try_lock(&uuid)
        .await
        .expect("store")
        .expect("free");
    let waited = Instant::now();
    let err = bench
        .inspector
        .processing()
        .reapply(&uuid, None)
        .await
        .expect_err("busy");
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert_eq!(err.message, "Node locked, please, try again later");
    // It waited for the node before giving up.
    assert!(waited.elapsed() >= crate::domain::BUSY_PATIENCE);
    assert_eq!(bench.record(&uuid).await.unwrap(), finished);
}
