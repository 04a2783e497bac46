//! Discovery: `node_not_found_hook = enroll` for machines nobody knows.

use inspector_core::state::State;
use serde_json::json;

use super::{bench, bench_with, document};
use crate::ironic::fake::Op;

const NEW_MAC: &str = "52:54:00:77:00:01";
const NEW_MAC_2: &str = "52:54:00:77:00:02";

#[tokio::test]
async fn enroll_creates_one_node_for_an_unknown_machine_even_for_two_callbacks_at_once() {
    let bench = bench_with(|c| c.processing.node_not_found_hook = Some("enroll".into())).await;
    // Without a BMC address, nothing in Ironic tells the second callback
    // that the first one already created the node: only the cache can.
    let mut data = document(NEW_MAC, NEW_MAC_2);
    data["inventory"]
        .as_object_mut()
        .unwrap()
        .remove("bmc_address");
    let processing = bench.inspector.processing();
    let (first, second) = tokio::join!(processing.process(data.clone()), processing.process(data),);
    bench.settle().await;

    let created = bench.ironic.calls_of(Op::CreateNode);
    assert_eq!(created.len(), 1, "{created:?}");
    let nodes = bench.ironic.list_all();
    assert_eq!(nodes.len(), 1);
    let uuid = nodes[0]["uuid"].as_str().unwrap().to_string();
    assert_eq!(nodes[0]["driver_info"], json!({}));
    // Only one of the two callbacks processed the new node.
    let results = [&first, &second];
    assert_eq!(
        results
            .iter()
            .filter(|r| r.as_deref() == Ok(uuid.as_str()))
            .count(),
        1,
        "{results:?}"
    );
    assert_eq!(bench.state(&uuid).await, State::Finished);
    assert_eq!(bench.port_macs(&uuid).await, [NEW_MAC]);
}

#[tokio::test]
async fn without_a_node_not_found_hook_an_unknown_machine_is_not_enrolled() {
    let bench = bench().await;
    let err = bench
        .callback(document(NEW_MAC, NEW_MAC_2))
        .await
        .expect_err("unknown");
    assert!(
        err.message
            .ends_with("Could not find a node under introspection for the data posted")
    );
    assert!(bench.ironic.calls_of(Op::CreateNode).is_empty());
    assert!(bench.ironic.list_all().is_empty());
}

#[tokio::test]
async fn a_node_not_found_hook_that_finds_nothing_is_a_failure_line_of_the_400() {
    for (hook, line) in [
        ("example", "Node not found hook returned nothing"),
        (
            "nonsense",
            "Node not found hook failed: unknown hook nonsense",
        ),
    ] {
        let bench = bench_with(|c| c.processing.node_not_found_hook = Some(hook.into())).await;
        let err = bench
            .callback(document(NEW_MAC, NEW_MAC_2))
            .await
            .expect_err("nothing found");
        assert_eq!(err.kind, crate::domain::ErrorKind::BadRequest);
        assert_eq!(
            err.message,
            format!("The following failures happened during running pre-processing hooks:\n{line}")
        );
        assert!(bench.ironic.list_all().is_empty());
    }
}
