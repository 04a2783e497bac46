//! The real Ironic the tests drive (started by scripts/test.sh, or by hand
//! with scripts/testbed/ironic.sh), and helpers to create nodes and ports in
//! it and read back its state, and the scenario helper
//! [`TestApp::introspect`]. A test that needs the bed is marked ignored when
//! build.rs found no bed for its group (see `test_bed_groups_left_out`);
//! when it runs, a missing piece of the bed fails it loudly.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, eventually, json_with_status};

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
        eventually(
            &format!("node {uuid} {field} is {expect}"),
            limit,
            || async {
                let node = self.node(uuid).await;
                if node[field] == expect {
                    Ok(node)
                } else {
                    Err(format!("{field} {}", node[field]))
                }
            },
        )
        .await
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

/// The test bed's real Ironic (`INSPECTOR_TEST_IRONIC_URL`), with a few
/// retries and no delay between power-ons.
pub fn use_bed_ironic(c: &mut inspector_core::conf::Config) {
    c.ironic.client.endpoint_override = Some(env("INSPECTOR_TEST_IRONIC_URL"));
    c.ironic.max_retries = 3;
    c.ironic.retry_interval = 1;
    c.ironic.client.timeout = Some(Duration::from_secs(30));
    c.default.introspection_delay = 0;
}

impl TestApp {
    /// The service against the real test bed Ironic.
    pub async fn with_ironic(adjust: impl FnOnce(&mut inspector_core::conf::Config)) -> TestApp {
        TestApp::spawn_with(|c| {
            use_bed_ironic(c);
            adjust(c);
        })
        .await
    }

    /// The whole happy path of a node already in Ironic: start with
    /// `query` (asserts 202), the ramdisk's callback with `data` (asserts
    /// 200 and the node's UUID in the answer), then `finished` without
    /// error. Returns that final status.
    pub async fn introspect(&self, uuid: &str, query: &str, data: &Value) -> Value {
        self.start_introspection(uuid, query).await;
        let answer = json_with_status(self.callback(data).await, 200).await;
        assert_eq!(answer, json!({"uuid": uuid}), "the callback's answer");
        let status = self
            .wait_for_state(uuid, "finished", Duration::from_secs(30))
            .await;
        assert_eq!(status["error"], json!(null), "{status}");
        assert_eq!(status["finished"], true, "{status}");
        status
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

    /// Reapply: `POST /v1/introspection/<uuid>/data/unprocessed`, with
    /// `body` when given.
    pub async fn reapply(&self, uuid: &str, body: Option<&Value>) -> reqwest::Response {
        let mut request = self.request(
            reqwest::Method::POST,
            &format!("/v1/introspection/{uuid}/data/unprocessed"),
        );
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        request.send().await.expect("POST .../data/unprocessed")
    }

    /// Polls the status until a run started after `earlier` (a status of
    /// the node) finished (bounded); returns its status.
    pub async fn wait_for_next_finish(&self, uuid: &str, earlier: &Value) -> Value {
        eventually(
            &format!("a new run of {uuid} finished"),
            Duration::from_secs(30),
            || async {
                let status =
                    json_with_status(self.get(&format!("/v1/introspection/{uuid}")).await, 200)
                        .await;
                if status["state"] == "finished" && status["started_at"] != earlier["started_at"] {
                    Ok(status)
                } else {
                    Err(status)
                }
            },
        )
        .await
    }

    /// Polls the status until it is in `state` (bounded).
    pub async fn wait_for_state(&self, uuid: &str, state: &str, limit: Duration) -> Value {
        eventually(
            &format!("introspection of {uuid} is {state}"),
            limit,
            || async {
                let response = self.get(&format!("/v1/introspection/{uuid}")).await;
                let body: Value = response.json().await.unwrap();
                if body["state"] == state {
                    Ok(body)
                } else {
                    Err(body.to_string())
                }
            },
        )
        .await
    }
}

/// The groups of tests that need a part of the test bed: (cfg set by
/// build.rs, what the group needs, the variables that enable it).
const BED_GROUPS: &[(bool, &str, &str)] = &[
    (
        cfg!(bed_ironic),
        "Ironic 39 (scripts/testbed/ironic.sh)",
        "INSPECTOR_TEST_IRONIC_URL, INSPECTOR_TEST_IRONIC_LOG",
    ),
    (
        cfg!(bed_ironic32),
        "Ironic 32 calling our inspector (legacy)",
        "INSPECTOR_TEST_IRONIC32_URL, INSPECTOR_TEST_LEGACY_PORT",
    ),
    (
        cfg!(bed_keystone),
        "Keystone (scripts/testbed/keystone.sh)",
        "INSPECTOR_TEST_KEYSTONE_URL, INSPECTOR_TEST_KEYSTONE_USERS",
    ),
    (
        cfg!(bed_venv),
        "the Python clients and IPA of venv-ironic",
        "INSPECTOR_TEST_VENV",
    ),
    (
        cfg!(bed_upstream_db),
        "a database written by upstream ironic-inspector",
        "INSPECTOR_TEST_UPSTREAM_DB",
    ),
    (
        cfg!(bed_swift),
        "Swift (scripts/testbed/swift.sh)",
        "INSPECTOR_TEST_SWIFT_URL",
    ),
    (
        cfg!(bed_pxe),
        "root, dnsmasq and iptables (PXE filter)",
        "INSPECTOR_TEST_PXE=1 or INSPECTOR_TEST_IRONIC_URL",
    ),
];

/// Says, one line per group, which tests this build leaves out (marked
/// ignored, see build.rs) and how to run them. Written straight to stderr
/// so that `cargo test` shows it (nextest: `.config/nextest.toml`). With
/// `INSPECTOR_TEST_REQUIRE_BED` set, fails on any missing variable.
#[test]
fn test_bed_groups_left_out() {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    for (enabled, needs, vars) in BED_GROUPS {
        if !enabled {
            writeln!(
                stderr,
                "LEFT OUT (ignored): the tests that need {needs}; set {vars}, or run scripts/test.sh \
                 (see scripts/testbed/README.md)"
            )
            .unwrap();
        }
    }
    if std::env::var_os("INSPECTOR_TEST_REQUIRE_BED").is_some() {
        let vars = BED_GROUPS
            .iter()
            .flat_map(|(_, _, vars)| vars.split(", "))
            .filter(|var| !var.contains('='));
        for var in vars {
            env(var);
        }
    }
}
