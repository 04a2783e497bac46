//! The service on a PostgreSQL or MariaDB database: it starts on an empty
//! database and serves the API from it, survives a restart of the database
//! server without being restarted itself, and refuses to start, naming
//! `[database] connection`, when the server is not there.

use std::process::Command;

use inspector::store::{NodeRecord, ScratchDatabase};
use inspector_core::state::State;
use serde_json::json;
use time::macros::datetime;

use crate::bed::env;
use crate::binary::{free_port, run};
use crate::helpers::{TestApp, json_with_status};
use crate::openapi::SendChecked;

const NODE: &str = "0a000000-0000-4000-8000-0000000000aa";

fn waiting_node() -> NodeRecord {
    NodeRecord {
        uuid: NODE.into(),
        state: State::Waiting,
        started_at: Some(datetime!(2026-01-01 00:00:00)),
        finished_at: None,
        error: None,
        manage_boot: true,
    }
}

async fn service_on(url: String, pool_timeout: u32) -> TestApp {
    TestApp::builder()
        .configure(move |c| {
            c.database.connection = Some(url);
            c.database.pool_timeout = Some(pool_timeout);
            c.database.max_retries = 1;
        })
        .spawn()
        .await
}

/// The statuses the API lists.
async fn listed(app: &TestApp) -> Vec<(String, String)> {
    let body = json_with_status(app.get("/v1/introspection").await, 200).await;
    body["introspection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["uuid"].as_str().unwrap().to_string(),
                s["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// An empty database gets the schema at start; statuses and rules are
/// then served from it.
async fn serves_statuses_and_rules(admin_url_var: &str) {
    let (_database, url) = ScratchDatabase::create(&env(admin_url_var)).await.unwrap();
    let app = service_on(url, 10).await;
    assert!(listed(&app).await.is_empty());
    app.store()
        .add_node(&waiting_node(), &[("mac", "aa")])
        .await
        .unwrap();
    assert_eq!(
        listed(&app).await,
        [(NODE.to_string(), "waiting".to_string())]
    );

    let rule = json!({
        "uuid": "0b000000-0000-4000-8000-0000000000bb",
        "description": "memory",
        "conditions": [{"op": "ge", "field": "memory_mb", "value": 1024}],
        "actions": [{"action": "fail", "message": "too small"}],
    });
    json_with_status(app.post_json("/v1/rules", &rule).await, 201).await;
    let again = app.post_json("/v1/rules", &rule).await;
    assert_eq!(again.status(), 409, "{:?}", again.text().await);
    let rules = json_with_status(app.get("/v1/rules").await, 200).await;
    assert_eq!(rules["rules"][0]["description"], "memory", "{rules}");
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_postgres),
    ignore = "needs the test bed's PostgreSQL (scripts/test.sh starts it)"
)]
async fn serves_statuses_and_rules_on_postgres() {
    serves_statuses_and_rules("INSPECTOR_TEST_POSTGRES_URL").await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_mysql),
    ignore = "needs the test bed's MariaDB (scripts/test.sh starts it)"
)]
async fn serves_statuses_and_rules_on_mariadb() {
    serves_statuses_and_rules("INSPECTOR_TEST_MYSQL_URL").await;
}

/// A private database server for one test, from the test bed's scripts,
/// stopped (and its state directory removed) with the guard.
pub struct PrivateServer {
    script: String,
    port_var: &'static str,
    port: u16,
}

impl PrivateServer {
    fn script(name: &str) -> String {
        format!("{}/scripts/testbed/{name}.sh", env!("CARGO_MANIFEST_DIR"))
    }

    pub fn run(&self, action: &str, fresh: bool) -> String {
        let fresh_var = self.port_var.replace("_PORT", "_FRESH");
        let output = Command::new(&self.script)
            .arg(action)
            .env(self.port_var, self.port.to_string())
            .env(fresh_var, if fresh { "1" } else { "0" })
            .env("TESTBED_DIR", env("TESTBED_DIR"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{} {action}: {}",
            self.script,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// The `mariadb` command line client running `sql` in the database
    /// `inspector` of this (MariaDB) server, printing bare rows.
    pub fn mariadb_client(&self, sql: &str) -> Command {
        let mut command = Command::new("mariadb");
        command.args([
            "--no-defaults",
            "-h127.0.0.1",
            &format!("-P{}", self.port),
            "-uinspector",
            "-pinspector-test",
            "-N",
            "-B",
            "--unbuffered",
            "inspector",
            "-e",
            sql,
        ]);
        command
    }

    /// Runs `sql` with [`Self::mariadb_client`]; its output.
    pub fn mariadb_sql(&self, sql: &str) -> String {
        let output = self.mariadb_client(sql).output().unwrap();
        assert!(
            output.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// The (MariaDB) server's global status counter `name`.
    pub fn mariadb_counter(&self, name: &str) -> u64 {
        let text = self.mariadb_sql(&format!("SHOW GLOBAL STATUS LIKE '{name}'"));
        text.split_whitespace()
            .nth(1)
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} in {text:?}"))
    }

    /// Starts a fresh server; its oslo.db URL.
    pub fn start(name: &str, port_var: &'static str) -> (Self, String) {
        let server = Self {
            script: Self::script(name),
            port_var,
            port: free_port(),
        };
        let url = server.run("start", true);
        (server, url)
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.run("stop", false);
        let name = self.port_var.trim_end_matches("_PORT").to_lowercase();
        let state = format!("{}/{name}-{}", env("TESTBED_DIR"), self.port);
        let _ = std::fs::remove_dir_all(state);
    }
}

/// The database server stops under a running service: requests answer
/// 503 while it is away, and as soon as it is back the service serves the
/// same data again by itself.
async fn recovers_when_the_server_returns(name: &str, port_var: &'static str) {
    let (server, url) = PrivateServer::start(name, port_var);
    let app = service_on(url, 2).await;
    app.store().add_node(&waiting_node(), &[]).await.unwrap();
    assert_eq!(listed(&app).await.len(), 1);

    server.run("stop", false);
    let away = app.get("/v1/introspection").await;
    assert_eq!(away.status(), 503, "{:?}", away.text().await);

    // The script returns once the server answers: from then on no request
    // may fail, although every connection the pool held before is dead.
    server.run("start", false);
    assert_eq!(
        listed(&app).await,
        [(NODE.to_string(), "waiting".to_string())]
    );
    assert_eq!(listed(&app).await.len(), 1);
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_postgres),
    ignore = "needs the test bed's PostgreSQL (scripts/test.sh starts it)"
)]
async fn recovers_when_postgres_returns() {
    recovers_when_the_server_returns("postgres", "POSTGRES_PORT").await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_mysql),
    ignore = "needs the test bed's MariaDB (scripts/test.sh starts it)"
)]
async fn recovers_when_mariadb_returns() {
    recovers_when_the_server_returns("mariadb", "MARIADB_PORT").await;
}

/// `inspector db upgrade` and `inspector serve` stop with an error that
/// names the option, the address and the cause, without the password;
/// an unsupported driver is named as well.
#[tokio::test]
async fn an_unreachable_or_unsupported_database_is_named_at_start() {
    let dir = tempfile::tempdir().unwrap();
    // Bound but not listening: connections are refused, and no other
    // test's server can take the port meanwhile.
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let nothing_there = reserved.local_addr().unwrap().port();
    let write = |connection: &str| {
        let path = dir.path().join("inspector.conf");
        std::fs::write(
            &path,
            format!(
                "[DEFAULT]\nlisten_address = 127.0.0.1\nlisten_port = {}\n\
                 [database]\nconnection = {connection}\nmax_retries = 2\nretry_interval = 0\n",
                free_port()
            ),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    };
    let config = write(&format!(
        "mysql+pymysql://inspector:s3cret%40x@127.0.0.1:{nothing_there}/inspector?charset=utf8"
    ));
    for command in [&["db", "upgrade"][..], &["serve"][..]] {
        let mut args = command.to_vec();
        args.extend(["--config-file", &config]);
        let (code, _, stderr) = run(&args);
        assert_ne!(code, 0, "{command:?}: {stderr}");
        for expected in [
            "[database] connection",
            &format!("127.0.0.1:{nothing_there}"),
            "2 attempt",
            "refused",
        ] {
            assert!(
                stderr.contains(expected),
                "{command:?}: {expected:?} in {stderr}"
            );
        }
        assert!(!stderr.contains("s3cret"), "{stderr}");
    }
    let config = write("mysql+oursql://inspector:s3cret@127.0.0.1/inspector");
    let (code, _, stderr) = run(&["db", "upgrade", "--config-file", &config]);
    assert_ne!(code, 0, "{stderr}");
    assert!(
        stderr.contains("[database] connection") && stderr.contains("oursql"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

/// On MariaDB, whose upstream tables hold no 4-byte character, a ramdisk
/// document with emoji in its inventory and its `error` is answered as on
/// any database: 400 with the ramdisk's error, the node ends in `error`
/// with that message (the emoji as U+FFFD) rather than staying in
/// `waiting` for good, and Ironic's node was left unchanged. A second
/// document with emoji only in its inventory is processed: 200,
/// `finished`, Ironic's properties set, and the stored documents are
/// served with their emoji. A rule described with an emoji is refused
/// with a 400 naming the field, and nothing is stored.
#[tokio::test]
#[cfg_attr(
    not(all(bed_mysql, bed_ironic)),
    ignore = "needs the test bed's MariaDB and Ironic (scripts/test.sh starts them)"
)]
async fn ramdisk_emoji_are_handled_on_mariadb() {
    use crate::bed::Ironic;
    use crate::processing::{Machine, post_continue};

    let (_database, url) = ScratchDatabase::create(&env("INSPECTOR_TEST_MYSQL_URL"))
        .await
        .unwrap();
    let app = TestApp::builder()
        .bed_ironic()
        .configure(move |c| {
            c.database.connection = Some(url);
            c.database.max_retries = 1;
            c.processing.store_data = inspector_core::conf::StoreData::Database;
        })
        .spawn()
        .await;
    let ironic = Ironic::new();

    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    app.start_introspection(&uuid, "?manage_boot=false").await;
    let mut data = m.data();
    data["inventory"]["system_vendor"] =
        json!({"product_name": "box 📦", "manufacturer": "𠀀 corp"});
    data["error"] = json!("disk 💥 gone");
    let answer = post_continue(&app, &data).await;
    let body = json_with_status(answer, 400).await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Ramdisk reported error: disk 💥 gone"),
        "{message}"
    );
    let status = app
        .wait_for_state(&uuid, "error", std::time::Duration::from_secs(10))
        .await;
    assert_eq!(
        status["error"],
        "Preprocessing hook ramdisk_error: Ramdisk reported error: disk \u{FFFD} gone"
    );
    let node = ironic.node(&uuid).await;
    assert_eq!(node["provision_state"], "manageable", "{node}");
    assert!(node["properties"]["memory_mb"].is_null(), "{node}");

    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    app.start_introspection(&uuid, "?manage_boot=false").await;
    let mut data = m.data();
    data["inventory"]["system_vendor"] = json!({"product_name": "box 📦"});
    json_with_status(post_continue(&app, &data).await, 200).await;
    let status = app
        .wait_for_state(&uuid, "finished", std::time::Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], json!(null), "{status}");
    let node = ironic.node(&uuid).await;
    assert_eq!(node["properties"]["memory_mb"], "12288", "{node}");
    let stored = json_with_status(
        app.get(&format!("/v1/introspection/{uuid}/data")).await,
        200,
    )
    .await;
    assert_eq!(
        stored["inventory"]["system_vendor"]["product_name"],
        "box 📦"
    );
    let raw = json_with_status(
        app.get(&format!("/v1/introspection/{uuid}/data/unprocessed"))
            .await,
        200,
    )
    .await;
    assert_eq!(raw["inventory"]["system_vendor"]["product_name"], "box 📦");

    let rule = json!({
        "description": "big 🐘",
        "conditions": [{"op": "ge", "field": "memory_mb", "value": 1024}],
        "actions": [{"action": "fail", "message": "too small"}],
    });
    let body = json_with_status(app.post_json("/v1/rules", &rule).await, 400).await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Rule description cannot be stored: "),
        "{message}"
    );
    let rules = json_with_status(app.get("/v1/rules").await, 200).await;
    assert_eq!(rules["rules"], json!([]), "{rules}");
    app.finish().await;
}

/// Status GETs and lists cost the database one statement each, no ping:
/// sqlx's pool pings every connection given back to it, the hot reads
/// keep connections of their own. MariaDB counts pings in
/// `Com_admin_commands` (a private server: nothing else talks to it).
#[tokio::test]
#[cfg_attr(
    not(bed_mysql),
    ignore = "needs the test bed's MariaDB (scripts/test.sh starts it)"
)]
async fn status_reads_make_no_ping_on_mariadb() {
    let (server, url) = PrivateServer::start("mariadb", "MARIADB_PORT");
    let app = service_on(url, 10).await;
    app.store().add_node(&waiting_node(), &[]).await.unwrap();
    let admin_commands = || server.mariadb_counter("Com_admin_commands");
    let status = format!("/v1/introspection/{NODE}");
    json_with_status(app.get(&status).await, 200).await;
    let before = admin_commands();
    let reads = 40;
    for _ in 0..reads {
        json_with_status(app.get(&status).await, 200).await;
        json_with_status(app.get("/v1/introspection").await, 200).await;
    }
    let pings = admin_commands() - before;
    assert!(pings < 5, "{pings} pings for {} reads", 2 * reads);
    app.finish().await;
}

/// Status GETs that arrive together share statements: with 162 of them
/// sent at once, of 20 nodes and of 4 unknown ones, MariaDB's `Com_select`
/// (a private server: nothing else talks to it) grows by far fewer than
/// one statement a request, and each answer is that of its own node, or
/// a 404. Then, with the server stopped, the same burst gets 503s, none a
/// 500, and once it is back 200s again.
#[tokio::test]
#[cfg_attr(
    not(bed_mysql),
    ignore = "needs the test bed's MariaDB (scripts/test.sh starts it)"
)]
async fn concurrent_status_reads_share_statements_on_mariadb() {
    let (server, url) = PrivateServer::start("mariadb", "MARIADB_PORT");
    let app = service_on(url, 2).await;
    let nodes: Vec<String> = (0..20)
        .map(|n| format!("0d000000-0000-4000-8000-{n:012x}"))
        .collect();
    for (n, uuid) in nodes.iter().enumerate() {
        let node = NodeRecord {
            uuid: uuid.clone(),
            error: Some(format!("error {n}")),
            ..waiting_node()
        };
        app.store().add_node(&node, &[]).await.unwrap();
    }
    let mut asked: Vec<(String, Option<String>)> = Vec::new();
    for _ in 0..7 {
        asked.extend((0..nodes.len()).map(|n| (nodes[n].clone(), Some(format!("error {n}")))));
        asked.extend((0..3).map(|n| (format!("0e000000-0000-4000-8000-{n:012x}"), None)));
    }
    // The last one alone of its kind.
    asked.push(("0e000000-0000-4000-8000-0000000000ff".into(), None));
    let burst = |asked: Vec<(String, Option<String>)>| {
        let mut requests = tokio::task::JoinSet::new();
        for (uuid, error) in asked {
            let (client, url) = (
                app.client.clone(),
                app.url(&format!("/v1/introspection/{uuid}")),
            );
            requests.spawn(async move {
                let response = client.get(url).send_checked().await.unwrap();
                let status = response.status().as_u16();
                let body: serde_json::Value = response.json().await.unwrap();
                (uuid, error, status, body)
            });
        }
        requests.join_all()
    };
    let selects = || server.mariadb_counter("Com_select");
    json_with_status(
        app.get(&format!("/v1/introspection/{}", nodes[0])).await,
        200,
    )
    .await;
    let before = selects();
    let answers = burst(asked.clone()).await;
    let statements = selects() - before;
    for (uuid, error, status, body) in &answers {
        match error {
            Some(error) => {
                assert_eq!(*status, 200, "{uuid}: {body}");
                assert_eq!(body["uuid"], json!(uuid), "{body}");
                assert_eq!(body["error"], json!(error), "{body}");
            }
            None => {
                assert_eq!(*status, 404, "{uuid}: {body}");
                let message = body["error"]["message"].as_str().unwrap();
                assert!(message.contains(uuid.as_str()), "{message}");
            }
        }
    }
    // Without the queue every read is a statement of its own. How many share
    // one depends on how many wait at once, which a loaded machine lowers
    // (41 statements for 162 reads with four fuzzers on the two cores):
    // fewer than half shows the sharing whatever the load.
    assert!(
        statements * 2 < answers.len() as u64,
        "{statements} statements for {} status reads",
        answers.len()
    );

    server.run("stop", false);
    for (uuid, _, status, body) in burst(asked.clone()).await {
        assert_eq!(status, 503, "{uuid}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("The database is not available"),
            "{message}"
        );
    }
    server.run("start", false);
    for (uuid, error, status, body) in burst(asked).await {
        assert_eq!(
            status,
            if error.is_some() { 200 } else { 404 },
            "{uuid}: {body}"
        );
    }
    app.finish().await;
}

/// On a MariaDB that lets a statement wait one second for a row lock
/// (`innodb_lock_wait_timeout = 1`, set on a private server), another
/// session holds the node's row for 1.5 s: the store's `update_state`
/// times out once (error 1205) and succeeds when run again, and so does
/// `finish`.
#[tokio::test]
#[cfg_attr(
    not(bed_mysql),
    ignore = "needs the test bed's MariaDB (scripts/test.sh starts it)"
)]
async fn a_lock_wait_timeout_is_retried_on_mariadb() {
    let (server, url) = PrivateServer::start("mariadb", "MARIADB_PORT");
    let client = |sql: &str| server.mariadb_client(sql);
    server.mariadb_sql("SET GLOBAL innodb_lock_wait_timeout = 1");
    // Opened afterwards: every connection of the store has the short wait.
    let options = inspector::store::StoreOptions {
        max_connections: 2,
        connect_attempts: Some(1),
        ..Default::default()
    };
    let store = inspector::store::open(&url, &options).await.unwrap();
    store.upgrade().await.unwrap();
    store
        .add_node(&waiting_node(), &[("mac", "aa")])
        .await
        .unwrap();

    let hold_row = |store_call: &'static str| {
        let mut peer = client(&format!(
            "BEGIN; SELECT uuid FROM nodes WHERE uuid = '{NODE}' FOR UPDATE; \
             SELECT SLEEP(1.5); ROLLBACK"
        ))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
        // The first line comes once the row is locked.
        let mut lines =
            std::io::BufRead::lines(std::io::BufReader::new(peer.stdout.take().unwrap()));
        assert_eq!(
            lines.next().unwrap().unwrap(),
            NODE,
            "{store_call}: the peer did not lock the row"
        );
        (peer, lines)
    };

    let (mut peer, _lines) = hold_row("update_state");
    let started = std::time::Instant::now();
    store
        .update_state(NODE, State::Waiting, State::Processing)
        .await
        .expect("update_state, run again after the lock wait timed out");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "the store never waited: {:?}",
        started.elapsed()
    );
    assert!(peer.wait().unwrap().success());

    let (mut peer, _lines) = hold_row("finish");
    store
        .finish(
            NODE,
            State::Processing,
            State::Finished,
            datetime!(2026-01-01 00:01:00),
            None,
        )
        .await
        .expect("finish, run again after the lock wait timed out");
    assert!(peer.wait().unwrap().success());
    let node = store.get_node(NODE).await.unwrap().unwrap();
    assert_eq!(node.state, State::Finished);
    assert!(store.node_attributes(NODE).await.unwrap().is_empty());
    store.close().await;
}
