//! Listing statuses, and the periodic clean-up of nodes Ironic forgot.

use inspector_core::state::State;
use serde_json::json;

use super::{Bench, bench};
use crate::domain::{ErrorKind, ListRequest};

impl Bench {
    /// Three nodes started a minute apart, the second one then failed;
    /// returned oldest first.
    async fn three_introspections(&self) -> Vec<String> {
        let mut uuids = Vec::new();
        for index in 0..3 {
            let uuid = self.ironic.add_node(json!({"name": format!("n{index}")}));
            self.ironic
                .add_port(&uuid, &format!("52:54:00:00:10:0{index}"));
            self.start_unmanaged(&uuid).await;
            self.clock.advance(time::Duration::seconds(60));
            uuids.push(uuid);
        }
        self.inspector
            .introspection()
            .abort(&uuids[1])
            .await
            .expect("abort");
        self.settle().await;
        uuids
    }

    async fn listed(
        &self,
        marker: Option<&str>,
        limit: Option<&str>,
        state: Option<&str>,
    ) -> Vec<String> {
        let request = ListRequest {
            marker: marker.map(str::to_owned),
            limit: limit.map(str::to_owned),
            state: state.map(str::to_owned),
        };
        self.inspector
            .statuses()
            .list(&request)
            .await
            .expect("listed")
            .into_iter()
            .map(|s| s.uuid)
            .collect()
    }
}

#[tokio::test]
async fn the_status_list_pages_newest_first_by_marker_and_limit() {
    let bench = bench().await;
    let uuids = bench.three_introspections().await;
    let newest_first: Vec<String> = uuids.iter().rev().cloned().collect();
    assert_eq!(bench.listed(None, None, None).await, newest_first);
    let page = bench.listed(None, Some("2"), None).await;
    assert_eq!(page, newest_first[..2]);
    assert_eq!(
        bench.listed(Some(&page[1]), Some("2"), None).await,
        newest_first[2..]
    );
}

#[tokio::test]
async fn the_status_list_filters_by_state_and_refuses_bad_parameters() {
    let bench = bench().await;
    let uuids = bench.three_introspections().await;
    assert_eq!(
        bench.listed(None, None, Some("error")).await,
        [uuids[1].clone()]
    );
    assert_eq!(
        bench.listed(None, None, Some("waiting")).await,
        [uuids[2].clone(), uuids[0].clone()]
    );
    assert!(bench.listed(None, None, Some("finished")).await.is_empty());

    let list = |request: ListRequest| {
        let statuses = bench.inspector.statuses().clone();
        async move { statuses.list(&request).await }
    };
    let err = list(ListRequest {
        state: Some("waiting,sleepy".into()),
        ..Default::default()
    })
    .await
    .expect_err("bad state");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(
        err.message,
        "Bad request: State(s) \"sleepy\" are not valid"
    );
    let err = list(ListRequest {
        marker: Some(uuid::Uuid::new_v4().to_string()),
        ..Default::default()
    })
    .await
    .expect_err("unknown marker");
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = list(ListRequest {
        limit: Some("-1".into()),
        ..Default::default()
    })
    .await
    .expect_err("negative limit");
    assert_eq!(err.message, "Bad request: Limit cannot be negative");
}

#[tokio::test]
async fn the_clean_up_forgets_a_node_deleted_in_ironic_and_keeps_the_others() {
    let bench = bench().await;
    let uuids = bench.three_introspections().await;
    let periodic = bench.inspector.periodic();
    assert_eq!(periodic.forget_nodes_deleted_in_ironic().await.unwrap(), 0);

    bench.ironic.remove_node(&uuids[0]);
    assert_eq!(periodic.forget_nodes_deleted_in_ironic().await.unwrap(), 1);
    assert_eq!(bench.record(&uuids[0]).await, None);
    assert_eq!(bench.state(&uuids[1]).await, State::Error);
    assert_eq!(bench.state(&uuids[2]).await, State::Waiting);
    let err = bench
        .inspector
        .statuses()
        .status(&uuids[0])
        .await
        .expect_err("forgotten");
    assert_eq!(err.kind, ErrorKind::NotFound);
    // Ironic unreachable: nothing is forgotten.
    bench.ironic.set_down(true);
    assert!(periodic.forget_nodes_deleted_in_ironic().await.is_err());
    assert_eq!(bench.state(&uuids[2]).await, State::Waiting);
}
