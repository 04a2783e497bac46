//! The web dashboard in a real browser: Debian's headless Chromium driven by
//! playwright-core (both installed by scripts/testbed/install.sh), one
//! script per scenario under tests/dashboard/, against the service and the
//! test bed's real Ironic and Keystone. The script does what a user does
//! and reports what the page showed; this side prepares the nodes, acts
//! midway (a ramdisk's callback) and checks the service and Ironic. The
//! screenshots land in target/dashboard-screenshots (INSPECTOR_TEST_SCREENSHOTS),
//! which CI keeps. A missing browser, Node.js or playwright-core fails the
//! tests, never skips them.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::bed::Ironic;
use crate::helpers::{TestApp, json_with_status};
use crate::keystone::Keystone;
use crate::openapi::{SendChecked, checking_proxy};
use crate::payloads::{testbed_data, with_macs};
use crate::recording_proxy::RecordingProxy;

/// How long one scenario may take between two of its messages.
const STEP_LIMIT: Duration = Duration::from_secs(120);

fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Where playwright-core is installed (a `node_modules` directory).
fn playwright_modules() -> PathBuf {
    let dir = std::env::var_os("INSPECTOR_TEST_PLAYWRIGHT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("TESTBED_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| repo_path("target/testbed"))
                .join("playwright/node_modules")
        });
    assert!(
        dir.join("playwright-core/package.json").is_file(),
        "playwright-core is not installed in {}: run scripts/testbed/install.sh, or set \
         INSPECTOR_TEST_PLAYWRIGHT to a node_modules directory holding it",
        dir.display()
    );
    dir
}

fn chromium() -> String {
    let path = std::env::var("INSPECTOR_TEST_CHROMIUM").unwrap_or("/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&path).is_file(),
        "{path} is missing: install Debian's chromium (scripts/testbed/install.sh) or set INSPECTOR_TEST_CHROMIUM"
    );
    path
}

fn screenshots() -> PathBuf {
    std::env::var_os("INSPECTOR_TEST_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_path("target/dashboard-screenshots"))
}

/// One browser scenario (tests/dashboard/<name>.cjs) running.
struct Scenario {
    name: String,
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Arc<Mutex<String>>,
    /// Between the browser and the service: checks the API's answers
    /// against the OpenAPI document.
    proxy: Arc<RecordingProxy>,
}

impl Scenario {
    async fn start(name: &str, app: &TestApp, input: Value) -> Self {
        let proxy = checking_proxy("127.0.0.1:0", &app.url("")).await;
        let mut child = Command::new(std::env::var("INSPECTOR_TEST_NODE").unwrap_or("node".into()))
            .arg(repo_path(&format!("tests/dashboard/{name}.cjs")))
            .env("NODE_PATH", playwright_modules())
            .env("DASHBOARD_CHROMIUM", chromium())
            .env("DASHBOARD_BASE_URL", &proxy.url)
            .env("DASHBOARD_INPUT", input.to_string())
            .env("DASHBOARD_SCREENSHOTS", screenshots())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run node (Node.js, for the browser tests; INSPECTOR_TEST_NODE): {e}")
            });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let collected = stderr.clone();
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text).await;
            collected.lock().unwrap().push_str(&text);
        });
        Self {
            name: name.to_string(),
            stdin: child.stdin.take().unwrap(),
            stdout: BufReader::new(child.stdout.take().unwrap()).lines(),
            child,
            stderr,
            proxy,
        }
    }

    /// The scenario's next message; fails the test with the script's
    /// output when it ended or failed instead.
    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(STEP_LIMIT, self.stdout.next_line()).await;
        match line {
            Ok(Ok(Some(line))) => serde_json::from_str(&line)
                .unwrap_or_else(|_| panic!("{}: not a message: {line}", self.name)),
            other => {
                let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
                panic!(
                    "browser scenario {} failed ({other:?}):\n{}",
                    self.name,
                    self.stderr.lock().unwrap()
                )
            }
        }
    }

    /// Waits until the scenario reaches `step`.
    async fn reached(&mut self, step: &str) {
        let message = self.next().await;
        assert_eq!(message["step"], step, "{}: {message}", self.name);
    }

    /// Lets the scenario go on after a step.
    async fn resume(&mut self) {
        self.stdin.write_all(b"ok\n").await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// What the scenario reported at its end; it must exit successfully.
    async fn finish(mut self) -> Value {
        let message = self.next().await;
        let status = tokio::time::timeout(STEP_LIMIT, self.child.wait())
            .await
            .expect("the browser scenario exits")
            .unwrap();
        assert!(
            status.success() && message.get("done").is_some(),
            "browser scenario {}: {status}, {message}\n{}",
            self.name,
            self.stderr.lock().unwrap()
        );
        // The pages alone would not do: the API answers the page used.
        let api_calls = self
            .proxy
            .calls()
            .iter()
            .filter(|c| c.target.starts_with("/v1"))
            .count();
        assert!(
            api_calls > 0,
            "browser scenario {}: no API request",
            self.name
        );
        self.proxy.assert_answers_passed();
        message["done"].clone()
    }
}

/// The handmade two-NIC server (LLDP on both, root disk /dev/sda) with
/// fresh MACs, as its ramdisk posts it: (document, MAC of the PXE NIC).
fn two_nic_server() -> (Value, String) {
    let (eno1, eno2) = (crate::bed::random_mac(), crate::bed::random_mac());
    let text = with_macs(
        &testbed_data("ipa-inventory-handmade-2nic.json"),
        &[
            ("52:54:00:aa:00:01", eno1.as_str()),
            ("52:54:00:aa:00:02", eno2.as_str()),
        ],
    );
    (serde_json::from_str(&text).unwrap(), eno1)
}

/// A manageable node of the bed's Ironic whose port has the document's PXE MAC.
async fn node_for(ironic: &Ironic, mac: &str) -> String {
    let uuid = ironic.manageable_node(json!({})).await;
    ironic.create_port(&uuid, mac).await;
    uuid
}

/// The two-NIC server's PXE address is a loopback one, which only
/// `add_ports = all` keeps; LLDP parsed, past runs kept.
fn two_nic_settings(c: &mut inspector_core::conf::Config) {
    c.processing.add_ports = inspector_core::conf::AddPorts::All;
    c.processing.processing_hooks.push("lldp_basic".into());
    c.processing.history_depth = 10;
}

fn texts(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("a list: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn list_filters_by_state_and_refreshes_live() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(two_nic_settings).await;
    let (finished_doc, finished_mac) = two_nic_server();
    let finished = node_for(&ironic, &finished_mac).await;
    app.introspect(&finished, "?manage_boot=false", &finished_doc)
        .await;
    let (waiting_doc, waiting_mac) = two_nic_server();
    let waiting = node_for(&ironic, &waiting_mac).await;
    app.start_introspection(&waiting, "?manage_boot=false")
        .await;

    let mut browser = Scenario::start(
        "list",
        &app,
        json!({"finished": finished, "waiting": waiting}),
    )
    .await;
    browser.reached("watching").await;
    // The ramdisk's callback while the page is open.
    json_with_status(app.callback(&waiting_doc).await, 200).await;
    browser.resume().await;
    browser.finish().await;

    let status =
        json_with_status(app.get(&format!("/v1/introspection/{waiting}")).await, 200).await;
    assert_eq!(status["state"], "finished");
    for node in [finished, waiting] {
        ironic.delete_node(&node).await;
    }
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn node_page_shows_inventory_lldp_history_and_diff_and_reapplies() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(two_nic_settings).await;
    let (mut doc, mac) = two_nic_server();
    let uuid = node_for(&ironic, &mac).await;
    app.introspect(&uuid, "?manage_boot=false", &doc).await;
    // The second run finds twice the memory.
    doc["inventory"]["memory"]["physical_mb"] = json!(131072);
    app.introspect(&uuid, "?manage_boot=false", &doc).await;
    let data = json_with_status(
        app.get(&format!("/v1/introspection/{uuid}/data")).await,
        200,
    )
    .await;
    let root = data["root_disk"]["name"]
        .as_str()
        .expect("a root disk")
        .to_string();

    let before = json_with_status(app.get(&format!("/v1/introspection/{uuid}")).await, 200).await;
    let mut browser = Scenario::start("node", &app, json!({"node": uuid})).await;
    browser.reached("reapplied").await;
    app.wait_for_next_finish(&uuid, &before).await;
    browser.resume().await;
    let shown = browser.finish().await;

    let facts = shown["facts"].as_str().unwrap();
    assert!(
        facts.contains("16 × Intel(R) Xeon(R) Gold 6230R"),
        "{facts}"
    );
    assert!(facts.contains("131072 MiB"), "{facts}");
    assert!(facts.contains("127.0.0.52"), "the BMC address: {facts}");
    assert_eq!(texts(&shown["diskRows"]).len(), 2, "{shown}");
    let root_rows = texts(&shown["rootRows"]);
    assert_eq!(root_rows.len(), 1, "{shown}");
    assert!(root_rows[0].contains(&root), "{root_rows:?} (root {root})");
    let nics = texts(&shown["nicRows"]);
    let eno1 = nics
        .iter()
        .find(|row| row.contains(&mac))
        .expect("the PXE NIC");
    assert!(eno1.contains("leaf-sw-01.example.com"), "{eno1}");
    assert!(eno1.contains("Ethernet1/18"), "{eno1}");
    assert!(
        nics.iter().any(|row| row.contains("Ethernet1/19")),
        "{nics:?}"
    );
    assert_eq!(texts(&shown["historyRows"]).len(), 2, "{shown}");
    let diff = texts(&shown["diffRows"]);
    assert!(
        diff.iter()
            .any(|row| row.contains("memory") && row.contains("65536") && row.contains("131072")),
        "{diff:?}"
    );
    ironic.delete_node(&uuid).await;
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn rules_page_lists_rules_and_shows_a_dry_run() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(two_nic_settings).await;
    let (doc, mac) = two_nic_server();
    let uuid = node_for(&ironic, &mac).await;
    app.introspect(&uuid, "?manage_boot=false", &doc).await;
    for (description, memory) in [("big memory", 32768), ("huge memory", 1_048_576)] {
        let rule = json!({
            "description": description,
            "conditions": [{"op": "ge", "field": "memory_mb", "value": memory}],
            "actions": [{"action": "set-attribute", "path": "/extra/size", "value": description}],
        });
        json_with_status(app.post_json("/v1/rules", &rule).await, 201).await;
    }

    let shown = Scenario::start("rules", &app, json!({"node": uuid}))
        .await
        .finish()
        .await;

    let rules = texts(&shown["rules"]);
    assert!(
        rules[0].contains("big memory") && rules[1].contains("huge memory"),
        "{rules:?}"
    );
    let report = texts(&shown["report"]);
    assert_eq!(report.len(), 2, "{report:?}");
    assert!(report[0].contains("big memory — matches"), "{report:?}");
    assert!(
        report[0].contains("/extra/size"),
        "the action's effect: {report:?}"
    );
    assert!(
        report[1].contains("huge memory — does not match"),
        "{report:?}"
    );
    // A dry run changes nothing.
    assert_eq!(ironic.node(&uuid).await["extra"].get("size"), None);
    ironic.delete_node(&uuid).await;
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn start_by_click_and_abort_by_keyboard() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let (_, mac) = two_nic_server();
    let uuid = node_for(&ironic, &mac).await;

    let mut browser = Scenario::start("actions", &app, json!({"node": uuid})).await;
    browser.reached("started").await;
    let status = json_with_status(app.get(&format!("/v1/introspection/{uuid}")).await, 200).await;
    assert_eq!(status["state"], "waiting", "{status}");
    // The service managed the boot: Ironic rebooted the node into the ramdisk.
    ironic
        .wait_for(&uuid, "power_state", "power on", Duration::from_secs(30))
        .await;
    browser.resume().await;
    browser.reached("aborted").await;
    let status = json_with_status(app.get(&format!("/v1/introspection/{uuid}")).await, 200).await;
    assert_eq!(status["state"], "error", "{status}");
    assert_eq!(status["error"], "Canceled by operator", "{status}");
    ironic
        .wait_for(&uuid, "power_state", "power off", Duration::from_secs(30))
        .await;
    browser.resume().await;
    let done = browser.finish().await;
    assert!(done["tabs"].as_u64().unwrap() < 40, "{done}");
    ironic.delete_node(&uuid).await;
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn http_basic_asks_the_browser_for_credentials_and_refuses_forged_forms() {
    let ironic = Ironic::new();
    let users = tempfile::tempdir().unwrap();
    let htpasswd = users.path().join("htpasswd");
    std::fs::write(&htpasswd, crate::auth::entry("operator", "s3cret")).unwrap();
    let app = TestApp::with_ironic(|c| {
        c.default.auth_strategy = inspector_core::conf::AuthStrategy::HttpBasic;
        c.default.http_basic_auth_user_file = htpasswd.display().to_string();
    })
    .await;
    let (_, mac) = two_nic_server();
    let uuid = node_for(&ironic, &mac).await;
    let started = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/introspection/{uuid}?manage_boot=false"),
        )
        .basic_auth("operator", Some("s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);

    let victim = node_for(&ironic, &crate::bed::random_mac()).await;

    let shown = Scenario::start(
        "http_basic",
        &app,
        json!({"user": "operator", "password": "s3cret", "node": uuid, "victim": victim}),
    )
    .await
    .finish()
    .await;
    assert_eq!(shown["status"], 401, "{shown}");
    assert!(
        shown["challenge"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Basic "),
        "{shown}"
    );
    assert_eq!(shown["forgedStatus"], 403, "{shown}");
    assert!(
        app.inspector.statuses().status(&victim).await.is_err(),
        "the forged form started an introspection"
    );
    ironic.delete_node(&uuid).await;
    ironic.delete_node(&victim).await;
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_keystone)),
    ignore = "needs the test bed (Ironic, Keystone): run scripts/test.sh"
)]
async fn keystone_login_cookie_csrf_and_logout() {
    let ironic = Ironic::new();
    let keystone = Keystone::new();
    let app = keystone.app(|_| {}).await;
    let (_, mac) = two_nic_server();
    let uuid = node_for(&ironic, &mac).await;
    let user = |name: &str| {
        json!({"user": name, "password": keystone.password(name),
               "project": keystone.users[name]["project"]})
    };
    let mut browser = Scenario::start(
        "keystone",
        &app,
        json!({"node": uuid, "admin": user("admin"), "observer": user("baremetal-observer")}),
    )
    .await;
    browser.reached("refused").await;
    // The cookie alone started nothing.
    assert!(app.inspector.statuses().status(&uuid).await.is_err());
    browser.resume().await;
    browser.reached("started").await;
    let status = app.inspector.statuses().status(&uuid).await.unwrap();
    assert_eq!(status.state.as_str(), "waiting");
    browser.resume().await;
    let shown = browser.finish().await;

    assert_eq!(shown["wrongStatus"], 401, "{shown}");
    assert!(
        shown["wrongMessage"].as_str().unwrap().contains("refused"),
        "{shown}"
    );
    let cookie = |cookies: &Value, name: &str| {
        cookies
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
    };
    let token = cookie(&shown["cookies"], "inspector_token").expect("the session cookie");
    assert_eq!(token["httpOnly"], true, "{token}");
    assert_eq!(token["sameSite"], "Strict", "{token}");
    assert_eq!(token["path"], "/", "{token}");
    // Bounded by the token's expiry (Keystone's default: an hour).
    let expires = token["expires"].as_f64().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    assert!(expires > now && expires <= now + 3700.0, "{token}");
    let csrf = cookie(&shown["cookies"], "inspector_csrf").expect("the CSRF cookie");
    assert_eq!(csrf["httpOnly"], false, "{csrf}");
    assert_eq!(csrf["sameSite"], "Strict", "{csrf}");
    let visible = shown["visibleToScripts"].as_str().unwrap();
    assert!(!visible.contains("inspector_token"), "{visible}");
    assert_eq!(shown["withoutCsrf"]["status"], 403, "{shown}");
    assert!(
        shown["withoutCsrf"]["body"]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("CSRF token missing or invalid"),
        "{shown}"
    );
    assert!(
        cookie(&shown["afterLogout"], "inspector_token").is_none(),
        "{shown}"
    );
    assert_eq!(shown["sessionAfterLogout"]["status"], 401, "{shown}");
    assert_eq!(shown["observer"]["status"], 200, "{shown}");
    assert_eq!(
        shown["observer"]["body"]["actions"],
        json!({"start": false, "abort": false, "reapply": false, "evaluate": false}),
        "{shown}"
    );
    assert_eq!(shown["observerStartForm"], 0, "{shown}");
    ironic.delete_node(&uuid).await;
    app.finish().await;
}

/// The assets and the session endpoint, without a browser: content types
/// and security headers; keystone's pages do not exist under noauth.
#[tokio::test]
async fn assets_are_served_with_their_types_and_security_headers() {
    let app = TestApp::spawn().await;
    for (path, content_type) in [
        ("/dashboard/", "text/html; charset=utf-8"),
        ("/dashboard", "text/html; charset=utf-8"),
        ("/dashboard/app.js", "text/javascript; charset=utf-8"),
        ("/dashboard/style.css", "text/css; charset=utf-8"),
        ("/dashboard/favicon.svg", "image/svg+xml"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        assert_eq!(header("content-type"), content_type, "{path}");
        assert!(
            header("content-security-policy").starts_with("default-src 'self';"),
            "{path}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
    }
    let session = json_with_status(app.get("/dashboard/session").await, 200).await;
    assert_eq!(
        session,
        json!({"auth_strategy": "noauth", "user": null, "actions":
            {"start": true, "abort": true, "reapply": true, "evaluate": true}})
    );
    assert_eq!(app.get("/dashboard/login").await.status(), 404);
    assert_eq!(app.get("/dashboard/nothing.js").await.status(), 404);
    app.finish().await;
}

/// `name=value` of each Set-Cookie header of a response.
fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn cookie_value(set_cookies: &[String], name: &str) -> String {
    set_cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no cookie {name} in {set_cookies:?}"))
        .to_string()
}

/// The session cookie without a browser: safe requests pass on it alone,
/// every other needs the CSRF header (a wrong one is refused too), a real
/// X-Auth-Token needs none, and the login and logout forms check it.
#[tokio::test]
#[cfg_attr(
    not(bed_keystone),
    ignore = "needs the test bed (Keystone): run scripts/test.sh"
)]
async fn cookie_sessions_need_the_csrf_token_for_every_change() {
    let keystone = Keystone::new();
    let app = keystone.app(|_| {}).await;
    // Redirects are what is checked, not followed.
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let request = |method: reqwest::Method, path: &str| client.request(method, app.url(path));
    let form = app.get("/dashboard/login").await;
    assert_eq!(form.status(), 200);
    let login_csrf = cookie_value(&set_cookies(&form), "inspector_csrf");
    assert!(form.text().await.unwrap().contains(&login_csrf));
    let password = keystone.password("admin");
    let login = |csrf: &str| {
        request(reqwest::Method::POST, "/dashboard/login")
            .header("cookie", format!("inspector_csrf={login_csrf}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                [
                    ("username", "admin"),
                    ("password", password.as_str()),
                    ("project", "admin"),
                    ("csrf", csrf),
                ]
                .map(|(k, v)| format!("{k}={}", inspector::keystone::encode_segment(v)))
                .join("&"),
            )
    };
    let forged = login("0123").send_checked().await.unwrap();
    assert_eq!(forged.status(), 403);
    assert!(
        set_cookies(&forged).is_empty(),
        "{:?}",
        set_cookies(&forged)
    );

    let session = login(&login_csrf).send_checked().await.unwrap();
    assert_eq!(session.status(), 303);
    assert_eq!(session.headers()["location"], "/dashboard/");
    let cookies = set_cookies(&session);
    let token_cookie = cookies
        .iter()
        .find(|c| c.starts_with("inspector_token="))
        .unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(token_cookie.contains(attribute), "{token_cookie}");
    }
    assert!(
        !token_cookie.contains("Secure"),
        "plain HTTP: {token_cookie}"
    );
    let token = cookie_value(&cookies, "inspector_token");
    let csrf = cookie_value(&cookies, "inspector_csrf");
    assert_ne!(csrf, login_csrf, "a new CSRF token for the session");
    let both = format!("inspector_token={token}; inspector_csrf={csrf}");

    let with_cookies =
        |method: reqwest::Method, path: &str| request(method, path).header("cookie", both.clone());
    let listed = with_cookies(reqwest::Method::GET, "/v1/introspection")
        .send_checked()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    // An invalid rule: 400 once through authentication, nothing created.
    let create_rule = || with_cookies(reqwest::Method::POST, "/v1/rules").json(&json!({}));
    let refused = create_rule().send_checked().await.unwrap();
    crate::helpers::assert_error_prefix(refused, 403, "CSRF token missing or invalid").await;
    let wrong = create_rule()
        .header("X-CSRF-Token", format!("{csrf}0"))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let passed = create_rule()
        .header("X-CSRF-Token", &csrf)
        .send_checked()
        .await
        .unwrap();
    assert_eq!(passed.status(), 400);
    let header_token = app
        .request(reqwest::Method::POST, "/v1/rules")
        .header("X-Auth-Token", &token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(header_token.status(), 400);

    let logout_refused = with_cookies(reqwest::Method::POST, "/dashboard/logout")
        .send_checked()
        .await
        .unwrap();
    assert_eq!(logout_refused.status(), 403);
    let logout = with_cookies(reqwest::Method::POST, "/dashboard/logout")
        .header("X-CSRF-Token", &csrf)
        .send_checked()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    let cleared = set_cookies(&logout);
    assert_eq!(cleared.len(), 2, "{cleared:?}");
    assert!(
        cleared.iter().all(|c| c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    app.finish().await;
}
