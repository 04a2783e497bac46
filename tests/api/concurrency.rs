//! Concurrency: duplicate callbacks for one node, and many nodes processed
//! at once on the embedded SQLite store.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::bed::Ironic;
use crate::helpers::{TestApp, eventually, json_with_status};
use crate::processing::{Machine, post_concurrently};

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn fifty_callbacks_for_one_node_are_processed_once() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    app.start_introspection(&uuid, "?manage_boot=0").await;
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(10))
        .await;

    let statuses = post_concurrently(&app, &m.data(), 50).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );

    let status = app
        .wait_for_state(&uuid, "finished", Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], json!(null));
    let node = ironic.node(&uuid).await;
    assert_eq!(node["properties"]["cpus"], "4");
    assert_eq!(node["properties"]["local_gb"], "999");
    let ports = ironic.ports(&uuid).await;
    assert_eq!(ports.len(), 1, "exactly one port: {ports:?}");
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn two_hundred_nodes_processed_at_once_on_sqlite() {
    const NODES: usize = 200;
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|c| {
        c.ironic.max_retries = 10;
        c.database.max_pool_size = 5;
    })
    .await;

    // Nodes in `enroll` need no state change in Ironic: introspection may
    // start from there, which keeps the setup short.
    let mut machines = Vec::new();
    let mut setup = tokio::task::JoinSet::new();
    let url = ironic.url.clone();
    for chunk in (0..NODES).collect::<Vec<_>>().chunks(NODES / 8) {
        let (url, chunk_len) = (url.clone(), chunk.len());
        setup.spawn(async move {
            let ironic = Ironic::at(&url);
            let mut out = Vec::new();
            for _ in 0..chunk_len {
                let m = Machine::new();
                let (status, node) = ironic
                    .call(Method::POST, "/nodes", Some(json!({"driver": "fake-hardware", "driver_info": {"ipmi_address": m.bmc}})))
                    .await;
                assert_eq!(status, 201, "{node}");
                let uuid = node["uuid"].as_str().unwrap().to_string();
                ironic.create_port(&uuid, &m.pxe).await;
                out.push((m, uuid));
            }
            out
        });
    }
    for batch in setup.join_all().await {
        machines.extend(batch);
    }
    for (_, uuid) in &machines {
        let r = app
            .request(
                Method::POST,
                &format!("/v1/introspection/{uuid}?manage_boot=0"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    }

    let results = post_callbacks(&app, &machines).join_all().await;
    let failures: Vec<&(u16, String)> = results.iter().filter(|(s, _)| *s != 200).collect();
    assert!(
        failures.is_empty(),
        "{} of {NODES} failed, e.g. {:?}",
        failures.len(),
        failures.first()
    );

    eventually(
        &format!("all {NODES} introspections finished"),
        Duration::from_secs(120),
        || async {
            let list =
                json_with_status(app.get("/v1/introspection?state=finished").await, 200).await;
            match list["introspection"].as_array().unwrap().len() {
                NODES => Ok(()),
                finished => Err(format!("{finished} finished")),
            }
        },
    )
    .await;
    let errors = json_with_status(app.get("/v1/introspection?state=error").await, 200).await;
    assert_eq!(errors["introspection"], Value::Array(vec![]));
    app.finish().await;
}

/// Posts every machine's callback at once; each task answers with the
/// status and body.
fn post_callbacks(
    app: &TestApp,
    machines: &[(Machine, String)],
) -> tokio::task::JoinSet<(u16, String)> {
    let mut posts = tokio::task::JoinSet::new();
    for (m, _) in machines {
        let request = app
            .request(Method::POST, "/v1/continue")
            .body(m.data().to_string());
        posts.spawn(async move {
            let response = request.send().await.expect("POST /v1/continue");
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        });
    }
    posts
}

/// The value of an unlabelled gauge in the `/metrics` text.
fn gauge(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no gauge {name} in /metrics: {text}"))
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn callbacks_beyond_max_concurrent_callbacks_wait_their_turn_and_all_succeed() {
    const NODES: usize = 6;
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|c| c.processing.max_concurrent_callbacks = 2).await;
    let mut machines = Vec::new();
    for _ in 0..NODES {
        let m = Machine::new();
        let uuid = m.node(&ironic).await;
        app.start_introspection(&uuid, "?manage_boot=0").await;
        machines.push((m, uuid));
    }
    for (_, uuid) in &machines {
        app.wait_for_state(uuid, "waiting", Duration::from_secs(10))
            .await;
    }

    let mut posts = post_callbacks(&app, &machines);
    // Samples the gauges until every callback has answered.
    let (mut most_processing, mut most_waiting) = (0, 0);
    while !posts.is_empty() {
        let text = app.get("/metrics").await.text().await.unwrap();
        most_processing = most_processing.max(gauge(&text, "inspector_callbacks_processing"));
        most_waiting = most_waiting.max(gauge(&text, "inspector_callbacks_waiting"));
        while let Some(done) = posts.try_join_next() {
            let (status, body) = done.unwrap();
            assert_eq!(status, 200, "a waiting callback must not fail: {body}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        most_processing <= 2,
        "{most_processing} callbacks processed at once"
    );
    assert!(
        most_waiting >= 1,
        "{NODES} callbacks at once should have made some wait"
    );
    let text = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(gauge(&text, "inspector_callbacks_processing"), 0);
    assert_eq!(gauge(&text, "inspector_callbacks_waiting"), 0);

    for (_, uuid) in &machines {
        let status = app
            .wait_for_state(uuid, "finished", Duration::from_secs(30))
            .await;
        assert_eq!(status["error"], json!(null));
        assert_eq!(ironic.node(uuid).await["properties"]["cpus"], "4");
    }
    app.finish().await;
}
