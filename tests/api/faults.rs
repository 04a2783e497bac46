//! Ironic failures a real Ironic cannot produce on demand, injected with an
//! HTTP mock: 409 NodeLocked and 503 bursts (retried), a slow Ironic
//! (timeouts), and persistent failures (visible in the status, no node stuck).

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, assert_error_prefix};

const NODE: &str = "6f1c7d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f";

fn locked() -> ResponseTemplate {
    let message = json!({"faultstring": format!("Node {NODE} is locked by host conductor-1, please retry after the current operation is completed."), "debuginfo": null});
    ResponseTemplate::new(409).set_body_json(json!({"error_message": message.to_string()}))
}

/// An Ironic that knows one manageable node with one port.
async fn ironic_with_node() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "default_version": {"id": "v1", "version": "1.115", "min_version": "1.1", "status": "CURRENT"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/nodes/{NODE}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uuid": NODE, "name": "mocked", "provision_state": "manageable", "driver_info": {}, "properties": {}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/nodes/{NODE}/validate")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"power": {"result": true, "reason": null}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/ports"))
        .and(query_param("node", NODE))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ports": [{"uuid": "0e3f1c2a-0000-4000-8000-000000000001", "address": "52:54:00:00:00:01", "node_uuid": NODE}]
        })))
        .mount(&server)
        .await;
    server
}

async fn app_for(server: &MockServer, retries: u32, timeout_s: u64) -> TestApp {
    TestApp::builder()
        .ironic_at(&server.uri())
        .ironic_retries(retries, 0)
        .configure(move |c| {
            c.ironic.client.timeout = Some(Duration::from_secs(timeout_s));
            c.default.introspection_delay = 0;
        })
        .spawn()
        .await
}

#[tokio::test]
async fn node_locked_and_503_bursts_are_retried() {
    let server = ironic_with_node().await;
    let boot = format!("/v1/nodes/{NODE}/management/boot_device");
    Mock::given(method("PUT"))
        .and(path(&boot))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(&boot))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    let power = format!("/v1/nodes/{NODE}/states/power");
    Mock::given(method("PUT"))
        .and(path(&power))
        .respond_with(locked())
        .up_to_n_times(4)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(&power))
        .respond_with(ResponseTemplate::new(202))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;

    let app = app_for(&server, 5, 5).await;
    app.start_introspection(NODE, "").await;
    let status = app
        .wait_for_state(NODE, "waiting", Duration::from_secs(10))
        .await;
    assert_eq!(status["error"], json!(null));
    let requests = server.received_requests().await.unwrap();
    let count = |p: &str| {
        requests
            .iter()
            .filter(|r| r.url.path() == p && r.method.as_str() == "PUT")
            .count()
    };
    assert_eq!((count(&boot), count(&power)), (4, 5));
}

#[tokio::test]
async fn persistent_failures_end_in_error_with_the_reason() {
    let server = ironic_with_node().await;
    Mock::given(method("PUT"))
        .and(path(format!("/v1/nodes/{NODE}/management/boot_device")))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let app = app_for(&server, 2, 5).await;
    app.start_introspection(NODE, "").await;
    let status = app
        .wait_for_state(NODE, "error", Duration::from_secs(10))
        .await;
    assert!(
        status["error"]
            .as_str()
            .unwrap()
            .starts_with("Failed to set boot device to PXE: Ironic failed"),
        "{status}"
    );
    assert_eq!(status["finished"], true);
}

#[tokio::test]
async fn a_conflict_that_is_not_a_lock_is_not_retried() {
    let server = ironic_with_node().await;
    let power = format!("/v1/nodes/{NODE}/states/power");
    Mock::given(method("PUT"))
        .and(path(format!("/v1/nodes/{NODE}/management/boot_device")))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let conflict = json!({"error_message": json!({"faultstring": "The requested action is not allowed"}).to_string()});
    Mock::given(method("PUT"))
        .and(path(&power))
        .respond_with(ResponseTemplate::new(409).set_body_json(conflict))
        .expect(1)
        .mount(&server)
        .await;
    let app = app_for(&server, 5, 5).await;
    app.start_introspection(NODE, "").await;
    let status = app
        .wait_for_state(NODE, "error", Duration::from_secs(10))
        .await;
    assert_eq!(
        status["error"],
        "Failed to power on the node, check its power management configuration: The requested action is not allowed"
    );
}

#[tokio::test]
async fn a_slow_ironic_times_out_and_the_caller_gets_a_503() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let app = app_for(&server, 1, 1).await;
    let started = std::time::Instant::now();
    let response = app
        .request(
            Method::POST,
            &format!("/v1/introspection/{NODE}?manage_boot=0"),
        )
        .send()
        .await
        .unwrap();
    assert_error_prefix(response, 503, "Ironic is unreachable: timed out").await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        app.get(&format!("/v1/introspection/{NODE}")).await.status(),
        404
    );
}

#[tokio::test]
async fn ironic_down_is_a_503_and_leaves_no_node_behind() {
    let app = TestApp::builder()
        .ironic_at("http://127.0.0.1:9")
        .ironic_retries(1, 0)
        .spawn()
        .await;
    for query in ["", "?manage_boot=0"] {
        let response = app
            .request(Method::POST, &format!("/v1/introspection/{NODE}{query}"))
            .send()
            .await
            .unwrap();
        assert_error_prefix(response, 503, "Ironic is unreachable: connection failed").await;
    }
    assert_eq!(
        app.get(&format!("/v1/introspection/{NODE}")).await.status(),
        404
    );
}

#[tokio::test]
async fn http_basic_credentials_are_sent_to_ironic() {
    let server = MockServer::start().await;
    // "inspector:s3cret" in base64.
    let authorized =
        || wiremock::matchers::header("authorization", "Basic aW5zcGVjdG9yOnMzY3JldA==");
    Mock::given(method("GET"))
        .and(path("/"))
        .and(authorized())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"default_version": {"version": "1.115"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/nodes/by-name"))
        .and(authorized())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"uuid": NODE})))
        .expect(1)
        .mount(&server)
        .await;
    let url = server.uri();
    let app = TestApp::spawn_with(move |c| {
        c.ironic.client.endpoint_override = Some(url);
        c.ironic.client.auth_type = "http_basic".into();
        c.ironic.client.auth.username = Some("inspector".into());
        c.ironic.client.auth.password = Some("s3cret".into());
    })
    .await;
    // The name resolves through the authenticated Ironic; the node is not cached.
    crate::helpers::assert_error(
        app.get("/v1/introspection/by-name").await,
        404,
        &format!("Could not find node {NODE} in cache"),
    )
    .await;
}

/// A graceful shutdown waits for processing in flight: the node ends
/// `finished`, not half-way.
#[tokio::test]
async fn shutdown_drains_processing_in_flight() {
    let server = ironic_with_node().await;
    Mock::given(method("PATCH"))
        .and(path(format!("/v1/nodes/{NODE}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uuid": NODE, "provision_state": "manageable", "driver_info": {}, "properties": {}
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/ports"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"uuid": "0e3f1c2a-0000-4000-8000-000000000002"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/v1/ports/0e3f1c2a-0000-4000-8000-000000000001"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"uuid": "0e3f1c2a-0000-4000-8000-000000000001"})),
        )
        .mount(&server)
        .await;
    // The power-off at the end of processing takes a while.
    Mock::given(method("PUT"))
        .and(path(format!("/v1/nodes/{NODE}/states/power")))
        .respond_with(ResponseTemplate::new(202).set_delay(Duration::from_millis(1500)))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("/v1/nodes/{NODE}/management/boot_device")))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let app = app_for(&server, 0, 10).await;
    app.start_introspection(NODE, "").await;
    app.wait_for_state(NODE, "waiting", Duration::from_secs(10))
        .await;

    let mut data = crate::processing::Machine::new().data();
    data["inventory"]["interfaces"][0]["mac_address"] = json!("52:54:00:00:00:01");
    data["boot_interface"] = json!("01-52-54-00-00-00-01");
    let response = crate::processing::post_continue(&app, &data).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    // The power-off is still running in the background; stop now.
    let app = app.restart().await;
    let status: serde_json::Value = app
        .get(&format!("/v1/introspection/{NODE}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "finished", "{status}");
}

/// Not a fault, but a front a real Ironic rarely has: every request is
/// redirected (307, method and body kept) to the test bed's Ironic. Calls
/// to a plain `http` endpoint take a transport of their own, which follows
/// no redirect; it must hand such a call to the client that does, as
/// keystoneauth would, and the introspection must end as it does directly.
#[tokio::test]
async fn an_ironic_endpoint_that_redirects_is_followed() {
    let ironic = crate::bed::Ironic::new();
    let server = MockServer::start().await;
    let target = ironic.url.clone();
    Mock::given(wiremock::matchers::any())
        .respond_with(move |request: &wiremock::Request| {
            let url = &request.url;
            let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
            ResponseTemplate::new(307).insert_header(
                "Location",
                format!("{target}{}{query}", url.path()).as_str(),
            )
        })
        .mount(&server)
        .await;
    let m = crate::processing::Machine::new();
    let uuid = m.node(&ironic).await;
    let app = TestApp::with_ironic(|c| {
        c.ironic.client.endpoint_override = Some(server.uri());
    })
    .await;
    app.introspect(&uuid, "?manage_boot=false", &m.data()).await;
    let node = ironic.node(&uuid).await;
    assert_eq!(node["properties"]["memory_mb"], "12288", "{node}");
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests.iter().any(|r| r.method.as_str() == "PATCH"),
        "the node's update went through the redirecting front: {:?}",
        requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.url))
            .collect::<Vec<_>>()
    );
}
