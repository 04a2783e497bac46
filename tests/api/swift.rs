//! `[processing] store_data = swift` against the test bed's real Swift
//! (scripts/testbed/swift.sh, at INSPECTOR_TEST_SWIFT_URL) authenticating
//! with the test bed's Keystone, and the real Ironic: the objects upstream
//! names, their bytes, `delete_after`, the data API and reapply reading
//! Swift, what the real upstream ironic-inspector 12.5.0 service reads of
//! ours and we of its, and the node's outcome when Swift refuses or does
//! not answer.

use std::time::Duration;

use inspector::keystone::{PasswordAuth, issue_token};
use inspector_core::conf::{Config, StoreData};
use reqwest::Method;
use serde_json::{Value, json};

use crate::bed::{Ironic, env};
use crate::helpers::{TestApp, assert_error_prefix, json_with_status};
use crate::processing::Machine;

fn keystone_users() -> Value {
    let path = env("INSPECTOR_TEST_KEYSTONE_USERS");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn auth_url() -> String {
    format!(
        "{}/v3",
        env("INSPECTOR_TEST_KEYSTONE_URL").trim_end_matches('/')
    )
}

/// The `[swift]` group upstream and we are given: the test bed's
/// `inspector` user (service role on project `service`), the object-store
/// endpoint from Keystone's catalog, a container of the test's own.
fn use_swift(c: &mut Config, container: &str) {
    let users = keystone_users();
    c.processing.store_data = StoreData::Swift;
    c.swift.container = container.to_string();
    let client = &mut c.swift.client;
    client.auth_type = "password".into();
    client.auth.auth_url = Some(auth_url());
    client.auth.username = Some("inspector".into());
    client.auth.password = users["users"]["inspector"]["password"]
        .as_str()
        .map(str::to_owned);
    client.auth.project_name = Some("service".into());
    client.auth.user_domain_id = Some("default".into());
    client.auth.project_domain_id = Some("default".into());
    client.timeout = Some(Duration::from_secs(30));
}

fn unique_container() -> String {
    format!(
        "inspector-test-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// The test bed's Swift as the `inspector` user sees it.
struct Swift {
    account: String,
    token: String,
    client: reqwest::Client,
}

struct Object {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Object {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 object")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON object")
    }
}

impl Swift {
    async fn new() -> Self {
        inspector::tls::install_crypto_provider();
        let swift_url = env("INSPECTOR_TEST_SWIFT_URL");
        let users = keystone_users();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let token = issue_token(
            &client,
            &PasswordAuth {
                auth_url: auth_url(),
                username: Some("inspector".into()),
                password: users["users"]["inspector"]["password"]
                    .as_str()
                    .unwrap()
                    .into(),
                user_domain_id: Some("default".into()),
                project_name: Some("service".into()),
                project_domain_id: Some("default".into()),
                ..Default::default()
            },
        )
        .await
        .expect("a token for the inspector user");
        let project = token.project_id.expect("a project-scoped token");
        Self {
            account: format!("{}/v1/AUTH_{project}", swift_url.trim_end_matches('/')),
            token: token.value,
            client,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<String>) -> Object {
        let mut request = self
            .client
            .request(method, format!("{}/{path}", self.account))
            .header("X-Auth-Token", &self.token);
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("Swift answers");
        Object {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.unwrap().to_vec(),
        }
    }

    async fn object(&self, container: &str, name: &str) -> Object {
        let object = self
            .call(Method::GET, &format!("{container}/{name}"), None)
            .await;
        assert_eq!(
            object.status,
            200,
            "GET {container}/{name}: {}",
            object.text()
        );
        object
    }

    async fn put(&self, container: &str, name: &str, body: String) {
        let answer = self
            .call(Method::PUT, &format!("{container}/{name}"), Some(body))
            .await;
        assert_eq!(
            answer.status,
            201,
            "PUT {container}/{name}: {}",
            answer.text()
        );
    }
}

/// A GET of the service, its status and body bytes.
async fn raw(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.get(path).await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// What Python's `json.dumps` writes for the document in `text`.
async fn python_dumps(text: &str) -> String {
    let mut child =
        tokio::process::Command::new(format!("{}/bin/python", env("INSPECTOR_TEST_VENV")))
            .args([
                "-c",
                "import json, sys; sys.stdout.write(json.dumps(json.loads(sys.stdin.read())))",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("venv python");
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// The ramdisk document of `m`, with logs (never stored) and text that
/// Python's `json.dumps` escapes.
fn document(m: &Machine) -> Value {
    let mut data = m.data();
    data["logs"] = json!("H4sIAAAAAAAAA+3BAQ0AAADCoPdPbQ8HFAAAAAAAAAAAAHwaAAD//wMAUEsHCA==");
    data["extra"] = json!({"vendor": "Société Générale ✓", "ratio": 0.1});
    data
}

/// The real upstream ironic-inspector 12.5.0 service
/// (scripts/testbed/upstream-inspector.sh) on the bed's Ironic, storing
/// its data in Swift with `app`'s `[swift]` options; stopped when dropped.
struct UpstreamService {
    port: u16,
    client: reqwest::Client,
}

const UPSTREAM_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scripts/testbed/upstream-inspector.sh"
);

impl UpstreamService {
    fn start(app: &TestApp, ironic: &Ironic) -> Self {
        let s = &app.config.swift;
        let a = &s.client.auth;
        let config = app.dir.path().join("upstream-swift.conf");
        std::fs::write(
            &config,
            format!(
                "[processing]\nstore_data = swift\n\n\
                 [swift]\nauth_type = password\nauth_url = {}\nusername = {}\npassword = {}\n\
                 project_name = {}\nuser_domain_id = default\nproject_domain_id = default\n\
                 container = {}\n",
                a.auth_url.as_deref().unwrap(),
                a.username.as_deref().unwrap(),
                a.password.as_deref().unwrap(),
                a.project_name.as_deref().unwrap(),
                s.container,
            ),
        )
        .unwrap();
        let port = crate::binary::free_port();
        let start = std::process::Command::new(UPSTREAM_SCRIPT)
            .arg("start")
            .env("INSPECTOR_PORT", port.to_string())
            .env("IRONIC_URL", &ironic.url)
            .env("INSPECTOR_EXTRA_CONFIG", &config)
            .output()
            .unwrap();
        assert!(
            start.status.success(),
            "upstream ironic-inspector did not start: {}",
            String::from_utf8_lossy(&start.stderr)
        );
        Self {
            port,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, String) {
        let mut request = self
            .client
            .request(method, format!("http://127.0.0.1:{}{path}", self.port));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("upstream answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Upstream's whole introspection of a node already in Ironic, with
    /// unmanaged boot, until `finished` without error.
    async fn introspect(&self, uuid: &str, data: &Value) {
        let path = format!("/v1/introspection/{uuid}");
        let (status, text) = self
            .call(Method::POST, &format!("{path}?manage_boot=false"), None)
            .await;
        assert_eq!(status, 202, "upstream's start: {text}");
        self.wait_for_state(uuid, "waiting").await;
        let (status, text) = self.call(Method::POST, "/v1/continue", Some(data)).await;
        assert_eq!(status, 200, "upstream's callback: {text}");
        let finished = self.wait_for_state(uuid, "finished").await;
        assert_eq!(finished["error"], json!(null), "{finished}");
    }

    async fn wait_for_state(&self, uuid: &str, state: &str) -> Value {
        crate::helpers::eventually(
            &format!("upstream's introspection of {uuid} is {state}"),
            Duration::from_secs(60),
            || async {
                let (_, text) = self
                    .call(Method::GET, &format!("/v1/introspection/{uuid}"), None)
                    .await;
                let status: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if status["state"] == state {
                    Ok(status)
                } else {
                    Err(text)
                }
            },
        )
        .await
    }
}

impl Drop for UpstreamService {
    fn drop(&mut self) {
        let _ = std::process::Command::new(UPSTREAM_SCRIPT)
            .arg("stop")
            .env("INSPECTOR_PORT", self.port.to_string())
            .output();
    }
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_swift, bed_keystone, bed_ironic, bed_venv)),
    ignore = "needs the test bed (Swift, Keystone, Ironic): run scripts/test.sh"
)]
async fn introspection_data_is_stored_in_swift_under_upstreams_names() {
    let swift = Swift::new().await;
    let ironic = Ironic::new();
    let container = unique_container();
    let app = TestApp::with_ironic(|c| {
        use_swift(c, &container);
        c.swift.delete_after = 3600;
    })
    .await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    let data = document(&m);
    app.introspect(&uuid, "?manage_boot=false", &data).await;

    let stored_at = time::OffsetDateTime::now_utc().unix_timestamp();
    let processed = swift
        .object(&container, &format!("inspector_data-{uuid}"))
        .await;
    let unprocessed = swift
        .object(&container, &format!("inspector_data-{uuid}-UNPROCESSED"))
        .await;
    // The raw document as it came, without the logs; the processed one as
    // the hooks left it.
    let mut without_logs = data.clone();
    without_logs.as_object_mut().unwrap().remove("logs");
    assert_eq!(unprocessed.json(), without_logs);
    assert!(processed.json().get("logs").is_none());
    assert_eq!(processed.json()["inventory"], data["inventory"]);
    assert_eq!(processed.json()["memory_mb"], 12288);
    assert!(processed.json().get("all_interfaces").is_some());
    // Written as upstream's json.dumps writes it.
    for object in [&processed, &unprocessed] {
        assert_eq!(object.text(), python_dumps(&object.text()).await);
    }
    // delete_after: Swift turned X-Delete-After into an expiry time.
    for object in [&processed, &unprocessed] {
        let delete_at: i64 = object.headers["x-delete-at"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (stored_at + 3600 - 120..=stored_at + 3600).contains(&delete_at),
            "X-Delete-At {delete_at}, stored at about {stored_at}"
        );
    }

    // The data API serves the objects' bytes.
    assert_eq!(
        raw(&app, &format!("/v1/introspection/{uuid}/data")).await,
        (200, processed.text())
    );
    assert_eq!(
        raw(&app, &format!("/v1/introspection/{uuid}/data/unprocessed")).await,
        (200, unprocessed.text())
    );
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_swift, bed_keystone, bed_ironic)),
    ignore = "needs the test bed (Swift, Keystone, Ironic): run scripts/test.sh"
)]
async fn reapply_reads_and_writes_the_data_in_swift() {
    let swift = Swift::new().await;
    let ironic = Ironic::new();
    let container = unique_container();
    let app = TestApp::with_ironic(|c| use_swift(c, &container)).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    let first = app.introspect(&uuid, "?manage_boot=false", &m.data()).await;
    assert_eq!(ironic.node(&uuid).await["properties"]["cpus"], "4");

    // Only Swift holds 42 CPUs: reapply without a body must read it there.
    let mut in_swift = m.data();
    in_swift["inventory"]["cpu"]["count"] = json!(42);
    swift
        .put(
            &container,
            &format!("inspector_data-{uuid}-UNPROCESSED"),
            in_swift.to_string(),
        )
        .await;
    assert_eq!(app.reapply(&uuid, None).await.status(), 202);
    let second = app.wait_for_next_finish(&uuid, &first).await;
    assert_eq!(second["error"], json!(null));
    assert_eq!(ironic.node(&uuid).await["properties"]["cpus"], "42");
    let processed = swift
        .object(&container, &format!("inspector_data-{uuid}"))
        .await;
    assert_eq!(processed.json()["cpus"], 42);

    // A body is stored in Swift as the new unprocessed data.
    let mut sent = m.data();
    sent["inventory"]["cpu"]["count"] = json!(7);
    app.wait_idle().await;
    assert_eq!(app.reapply(&uuid, Some(&sent)).await.status(), 202);
    app.wait_for_state(&uuid, "finished", Duration::from_secs(30))
        .await;
    app.wait_idle().await;
    let unprocessed = swift
        .object(&container, &format!("inspector_data-{uuid}-UNPROCESSED"))
        .await;
    assert_eq!(unprocessed.json(), sent);
    assert_eq!(ironic.node(&uuid).await["properties"]["cpus"], "7");
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_swift, bed_keystone, bed_ironic, bed_venv)),
    ignore = "needs the test bed (Swift, Keystone, Ironic, venv-ironic's upstream): run scripts/test.sh"
)]
async fn upstream_and_inspector_read_each_others_objects_byte_for_byte() {
    let ironic = Ironic::new();
    let container = unique_container();
    let app = TestApp::with_ironic(|c| use_swift(c, &container)).await;
    let upstream = UpstreamService::start(&app, &ironic);

    // Upstream's processing stores a node's data, with numbers and text
    // whose rendering differs between JSON writers; we serve its objects.
    let m = Machine::new();
    let theirs = m.node(&ironic).await;
    let mut data = document(&m);
    data["nested"] = json!({"z": [1, {"y": null, "x": "\u{1}\t"}], "a": -0.0, "big": 1.5e12});
    upstream.introspect(&theirs, &data).await;
    for path in ["data", "data/unprocessed"] {
        let path = format!("/v1/introspection/{theirs}/{path}");
        let (status, upstream_body) = upstream.call(Method::GET, &path, None).await;
        assert_eq!(status, 200, "upstream's {path}: {upstream_body}");
        assert!(!upstream_body.contains("\"logs\""), "{upstream_body}");
        assert_eq!(raw(&app, &path).await, (200, upstream_body), "{path}");
    }

    // We store another node's data; upstream's data API serves our objects.
    let m = Machine::new();
    let ours = m.node(&ironic).await;
    app.introspect(&ours, "?manage_boot=false", &document(&m))
        .await;
    for path in ["data", "data/unprocessed"] {
        let path = format!("/v1/introspection/{ours}/{path}");
        let served = raw(&app, &path).await;
        assert_eq!(served.0, 200, "{}", served.1);
        assert_eq!(
            upstream.call(Method::GET, &path, None).await,
            served,
            "{path}"
        );
    }
    drop(upstream);
    app.finish().await;
}

/// Starts introspection of a new node and posts its ramdisk data; returns
/// the node and the callback's answer.
async fn callback_of_a_new_node(app: &TestApp, ironic: &Ironic) -> (String, reqwest::Response) {
    let m = Machine::new();
    let uuid = m.node(ironic).await;
    app.start_introspection(&uuid, "?manage_boot=false").await;
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;
    (uuid, app.callback(&m.data()).await)
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_swift, bed_keystone, bed_ironic)),
    ignore = "needs the test bed (Swift, Keystone, Ironic): run scripts/test.sh"
)]
async fn refused_swift_credentials_fail_the_node_with_a_400_naming_the_401() {
    let ironic = Ironic::new();
    let container = unique_container();
    let app = TestApp::with_ironic(|c| {
        use_swift(c, &container);
        c.swift.client.auth.password = Some("not-the-password".into());
    })
    .await;
    let (uuid, answer) = callback_of_a_new_node(&app, &ironic).await;
    let prefix = format!("Swift failed to create container {container}. Error was: ");
    let body = json_with_status(answer, 400).await;
    let message = body["error"]["message"].as_str().unwrap().to_string();
    assert!(message.starts_with(&prefix), "{message}");
    assert!(message.contains("401"), "{message}");
    let status = app
        .wait_for_state(&uuid, "error", Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], message.as_str());
    assert_eq!(status["finished"], true);

    assert_error_prefix(
        app.get(&format!("/v1/introspection/{uuid}/data")).await,
        400,
        &format!(
            "Swift failed to get object inspector_data-{uuid} in container {container}. Error was: "
        ),
    )
    .await;
    // Reapply without a body reads the unprocessed object: refused alike.
    assert_error_prefix(
        app.reapply(&uuid, None).await,
        400,
        &format!(
            "Swift failed to get object inspector_data-{uuid}-UNPROCESSED in container {container}. Error was: "
        ),
    )
    .await;
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_swift, bed_keystone, bed_ironic)),
    ignore = "needs the test bed (Swift, Keystone, Ironic): run scripts/test.sh"
)]
async fn an_unreachable_swift_fails_the_node_with_a_503_naming_the_connection() {
    let ironic = Ironic::new();
    let container = unique_container();
    // A port nothing listens on: Swift down, Keystone still answering.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!(
        "http://{}/v1/AUTH_%(project_id)s",
        closed.local_addr().unwrap()
    );
    drop(closed);
    let app = TestApp::with_ironic(|c| {
        use_swift(c, &container);
        c.swift.client.endpoint_override = Some(down.clone());
    })
    .await;
    let (uuid, answer) = callback_of_a_new_node(&app, &ironic).await;
    let body = json_with_status(answer, 503).await;
    let message = body["error"]["message"].as_str().unwrap().to_string();
    assert!(
        message.starts_with(&format!(
            "Swift failed to create container {container}. Error was: cannot reach Swift at http://127.0.0.1:"
        )),
        "{message}"
    );
    let status = app
        .wait_for_state(&uuid, "error", Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], message.as_str());

    let (status, text) = raw(&app, &format!("/v1/introspection/{uuid}/data/unprocessed")).await;
    assert_eq!(status, 503, "{text}");
    assert!(
        text.contains(&format!(
            "Swift failed to get object inspector_data-{uuid}-UNPROCESSED in container {container}"
        )),
        "{text}"
    );
    app.finish().await;
}
