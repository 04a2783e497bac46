//! The real Ironic the tests drive (started by scripts/test.sh, or by hand
//! with scripts/testbed/ironic.sh), and helpers to create nodes and ports in
//! it and read back its state. A missing test bed fails the test loudly.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: these tests need the real test bed. Run scripts/test.sh, or start Ironic with \
             scripts/testbed/ironic.sh start and export {name}"
        )
    })
}

pub struct Ironic {
    pub url: String,
    client: reqwest::Client,
}

impl Ironic {
    pub fn new() -> Self {
        Self::at(&env("INSPECTOR_TEST_IRONIC_URL"))
    }

    pub fn at(url: &str) -> Self {
        inspector::tls::install_crypto_provider();
        Self {
            url: url.trim_end_matches('/').to_string(),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}/v1{path}", self.url))
            .header("X-OpenStack-Ironic-API-Version", "latest");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("Ironic answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method.clone(), path, body).await;
        assert!(
            (200..300).contains(&status),
            "Ironic {method} {path}: {status} {value}"
        );
        value
    }

    /// A fake-hardware node, moved to `manageable`.
    pub async fn manageable_node(&self, extra_fields: Value) -> String {
        let name = format!("test-{}", uuid::Uuid::new_v4().simple());
        let mut body = json!({"name": name, "driver": "fake-hardware"});
        if let Value::Object(fields) = extra_fields {
            body.as_object_mut().unwrap().extend(fields);
        }
        let node = self.ok(Method::POST, "/nodes", Some(body)).await;
        let uuid = node["uuid"].as_str().unwrap().to_string();
        self.set_provision_state(&uuid, "manage", "manageable")
            .await;
        // Fake hardware reports no power state until told one.
        self.ok(
            Method::PUT,
            &format!("/nodes/{uuid}/states/power"),
            Some(json!({"target": "power off"})),
        )
        .await;
        self.wait_for(&uuid, "power_state", "power off", Duration::from_secs(30))
            .await;
        uuid
    }

    pub async fn set_provision_state(&self, uuid: &str, target: &str, expect: &str) {
        self.ok(
            Method::PUT,
            &format!("/nodes/{uuid}/states/provision"),
            Some(json!({"target": target})),
        )
        .await;
        self.wait_for(uuid, "provision_state", expect, Duration::from_secs(60))
            .await;
    }

    /// Waits until a node field has the value (Ironic works asynchronously).
    pub async fn wait_for(&self, uuid: &str, field: &str, expect: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let node = self.node(uuid).await;
            if node[field] == expect {
                return node;
            }
            assert!(
                started.elapsed() < limit,
                "node {uuid} {field} is {} after {limit:?}, expected {expect}",
                node[field]
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn node(&self, id: &str) -> Value {
        self.ok(Method::GET, &format!("/nodes/{id}"), None).await
    }

    /// A manageable node with one port of a fresh MAC: (node, MAC).
    pub async fn node_with_port(&self) -> (String, String) {
        let node = self.manageable_node(json!({})).await;
        let mac = random_mac();
        self.create_port(&node, &mac).await;
        (node, mac)
    }

    pub async fn create_port(&self, node: &str, mac: &str) -> Value {
        self.ok(
            Method::POST,
            "/ports",
            Some(json!({"node_uuid": node, "address": mac})),
        )
        .await
    }

    pub async fn ports(&self, node: &str) -> Vec<Value> {
        self.ok(Method::GET, &format!("/ports/detail?node={node}"), None)
            .await["ports"]
            .as_array()
            .unwrap()
            .clone()
    }

    pub async fn delete_node(&self, node: &str) {
        for port in self.ports(node).await {
            self.ok(
                Method::DELETE,
                &format!("/ports/{}", port["uuid"].as_str().unwrap()),
                None,
            )
            .await;
        }
        self.ok(Method::DELETE, &format!("/nodes/{node}"), None)
            .await;
    }
}

/// A MAC nobody else in the test bed uses.
pub fn random_mac() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    format!(
        "52:54:{:02x}:{:02x}:{:02x}:{:02x}",
        bytes[0], bytes[1], bytes[2], bytes[3]
    )
}

impl TestApp {
    /// The service against the real test bed Ironic.
    pub async fn with_ironic(adjust: impl FnOnce(&mut inspector_core::conf::Config)) -> TestApp {
        let url = env("INSPECTOR_TEST_IRONIC_URL");
        TestApp::spawn_with(|c| {
            c.ironic.client.endpoint_override = Some(url);
            c.ironic.max_retries = 3;
            c.ironic.retry_interval = 1;
            c.ironic.client.timeout = Some(Duration::from_secs(30));
            c.default.introspection_delay = 0;
            adjust(c);
        })
        .await
    }

    /// Starts introspection (`query` is e.g. `?manage_boot=false`); expects 202.
    pub async fn start_introspection(&self, node: &str, query: &str) {
        let response = self
            .request(
                reqwest::Method::POST,
                &format!("/v1/introspection/{node}{query}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    }

    /// Polls the status until it is in `state` (bounded).
    pub async fn wait_for_state(&self, uuid: &str, state: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let response = self.get(&format!("/v1/introspection/{uuid}")).await;
            let body: Value = response.json().await.unwrap();
            if body["state"] == state {
                return body;
            }
            assert!(
                started.elapsed() < limit,
                "introspection of {uuid} is {body} after {limit:?}, expected {state}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
