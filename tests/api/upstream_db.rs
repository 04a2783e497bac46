//! A database created and filled by the real ironic-inspector 12.5.0
//! (scripts/testbed/make-upstream-db.sh) is adopted by `inspector db
//! upgrade` and served exactly as upstream served it; after that the real
//! upstream service still reads it, rules we wrote included. On SQLite (the
//! bed's reference file), PostgreSQL and MariaDB.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::bed::{Ironic, env};
use crate::helpers::{TestApp, test_config};
use crate::schema_parity::{Database, Server, ServerDatabase, SqliteFile, our_db_upgrade};

/// A private copy of the reference database and the responses upstream gave for it.
pub fn reference(dir: &std::path::Path) -> (PathBuf, Value) {
    let source = PathBuf::from(env("INSPECTOR_TEST_UPSTREAM_DB"));
    let copy = dir.join("upstream.sqlite");
    std::fs::copy(&source, &copy).expect("copy the reference database");
    let expected = std::fs::read_to_string(format!("{}.json", source.display()))
        .expect("the recorded responses");
    (copy, serde_json::from_str(&expected).unwrap())
}

/// Replaces upstream's base URL in every string of the document.
fn rebase(value: &Value, from: &str, to: &str) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace(from, to)),
        Value::Array(items) => Value::Array(items.iter().map(|v| rebase(v, from, to)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), rebase(v, from, to)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[tokio::test]
#[cfg_attr(
    not(bed_upstream_db),
    ignore = "needs the test bed (upstream DB): run scripts/test.sh"
)]
async fn an_upstream_database_is_adopted_and_served_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (db, recorded) = reference(dir.path());
    assert_adopted_and_served(&SqliteFile(db), &recorded).await;
}

/// `inspector db upgrade` adopts the upstream-made `db` (once; a second run
/// has nothing to do) and our service then answers every request upstream
/// answered when it made it (`recorded`, from make-upstream-db.sh) the same.
async fn assert_adopted_and_served(db: &dyn Database, recorded: &Value) {
    let out = our_db_upgrade(&db.url());
    assert!(
        out.contains("adopted a database created by ironic-inspector"),
        "{out}"
    );
    assert!(out.contains("applied migration 2"), "{out}");
    assert_eq!(db.alembic_version(), "b55109d5063a");
    let out = our_db_upgrade(&db.url());
    assert!(out.contains("the schema is up to date"), "{out}");

    let app_dir = tempfile::tempdir().unwrap();
    let mut app_config = test_config(&app_dir);
    app_config.database.connection = Some(db.url());
    let app = TestApp::spawn_config(app_config, app_dir).await;
    assert_recorded_answers(&app, recorded).await;
}

/// Every GET upstream answered for the reference database gets the same
/// status, version headers and body from `app`.
pub async fn assert_recorded_answers(app: &TestApp, recorded: &Value) {
    let upstream_url = recorded["inspector_url"].as_str().unwrap();
    let our_url = format!("http://{}", app.addr);
    let responses = recorded["responses"].as_array().unwrap();
    assert!(
        responses.len() >= 20,
        "the reference recorded too little: {}",
        responses.len()
    );
    for expected in responses {
        let path = expected["path"].as_str().unwrap();
        let response = app.get(path).await;
        assert_eq!(
            response.status().as_u16() as u64,
            expected["status"].as_u64().unwrap(),
            "GET {path}"
        );
        assert_eq!(
            response.headers()["X-OpenStack-Ironic-Inspector-API-Minimum-Version"],
            expected["headers"]["X-OpenStack-Ironic-Inspector-API-Minimum-Version"]
                .as_str()
                .unwrap()
        );
        // Upstream's maximum is 1.18; ours is newer (1.19 adds the history).
        assert_eq!(
            response.headers()["X-OpenStack-Ironic-Inspector-API-Maximum-Version"],
            inspector_core::api_version::ApiVersion::MAX
                .to_string()
                .as_str()
        );
        let text = response.text().await.unwrap();
        // Stored data is upstream's json.dumps of the stored document:
        // clients may hash or diff it, so the text must be the same.
        if path.contains("/data") {
            let raw = expected["raw_body"].as_str().unwrap_or_else(|| {
                panic!("GET {path}: no raw_body recorded; regenerate the reference with make-upstream-db.sh")
            });
            assert_eq!(text, raw, "GET {path}: the body's text");
        }
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            body,
            rebase(&expected["body"], upstream_url, &our_url),
            "GET {path}"
        );
    }
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_upstream_db, bed_ironic)),
    ignore = "needs the test bed (upstream DB, Ironic): run scripts/test.sh"
)]
async fn upstream_still_reads_a_database_we_wrote_to() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = reference(dir.path());
    assert_upstream_reads_rules_we_wrote(&SqliteFile(db)).await;
}

/// Our service writes two rules into `db`; the real upstream service, then
/// started on it (against the bed's Ironic), serves them.
async fn assert_upstream_reads_rules_we_wrote(db: &dyn Database) {
    let app_dir = tempfile::tempdir().unwrap();
    let mut app_config = test_config(&app_dir);
    app_config.database.connection = Some(db.url());
    let app = TestApp::spawn_config(app_config, app_dir).await;
    let rule = serde_json::json!({"uuid": "9d0c1f5e-1111-4222-8333-444455556666", "description": "written by inspector",
        "conditions": [{"op": "ge", "field": "memory_mb", "value": 1024, "invert": true}],
        "actions": [{"action": "set-capability", "name": "x", "value": "{data[cpus]}"}]});
    assert_eq!(app.post_json("/v1/rules", &rule).await.status(), 201);
    // A rule ID chosen in hex (openstacksdk's way) is stored as given, as
    // upstream stores it, so upstream finds it by that ID.
    let hex_id = "5c9e6a402f1b4d3c9e8a7b6c5d4e3f2a";
    assert_eq!(
        app.post_json(
            &format!("/v1/rules/{hex_id}"),
            &serde_json::json!({"actions": [{"action": "fail", "message": "x"}]})
        )
        .await
        .status(),
        201
    );
    drop(app);

    let answers = upstream_answers(
        db,
        &[
            "/v1/rules/9d0c1f5e-1111-4222-8333-444455556666",
            &format!("/v1/rules/{hex_id}"),
        ],
    )
    .await;
    let body = &answers[0].1;
    assert_eq!(body["description"], "written by inspector");
    assert_eq!(body["conditions"][0]["invert"], true);
    assert_eq!(body["actions"][0]["value"], "{data[cpus]}");
    assert_eq!(answers[1].0, 200);
    assert_eq!(answers[1].1["uuid"], hex_id);
}

/// Starts the real upstream service on `db` (against the bed's Ironic),
/// GETs each path and stops it; the answers (status, body) in order.
async fn upstream_answers(db: &dyn Database, paths: &[&str]) -> Vec<(u16, Value)> {
    let ironic = Ironic::new();
    let port = crate::binary::free_port();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/testbed/upstream-inspector.sh"
    );
    let start = Command::new(script)
        .arg("start")
        .env("INSPECTOR_PORT", port.to_string())
        .env("IRONIC_URL", &ironic.url)
        .env("INSPECTOR_DB_URL", db.upstream_url())
        .output()
        .unwrap();
    assert!(
        start.status.success(),
        "{}",
        String::from_utf8_lossy(&start.stderr)
    );
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut answers = Vec::new();
    for path in paths {
        let response = client
            .get(format!("http://127.0.0.1:{port}{path}"))
            .send()
            .await;
        answers.push(match response {
            Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or(Value::Null)),
            Err(e) => (0, Value::String(e.to_string())),
        });
    }
    let stop = Command::new(script)
        .arg("stop")
        .env("INSPECTOR_PORT", port.to_string())
        .output()
        .unwrap();
    assert!(stop.status.success());
    answers
}

/// Rules stored with the same `created_at` (whole seconds on MySQL make
/// that common) are listed in upstream's order: its query joins the
/// conditions and actions and sorts by (created_at, condition id, action
/// id), so a rule without conditions comes first where the server sorts
/// NULL first (SQLite, MySQL) and last on PostgreSQL.
async fn assert_rules_of_one_instant_in_upstreams_order(db: &dyn Database) {
    db.sql("UPDATE rules SET created_at = '2026-01-01 00:00:00.000000'");
    let upstream = upstream_answers(db, &["/v1/rules"]).await.remove(0);
    assert_eq!(upstream.0, 200, "{}", upstream.1);
    let uuids: Vec<&str> = upstream.1["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uuid"].as_str().unwrap())
        .collect();
    let mut sorted = uuids.clone();
    sorted.sort();
    assert_ne!(uuids, sorted, "the rules no longer tell the orders apart");

    let app_dir = tempfile::tempdir().unwrap();
    let mut app_config = test_config(&app_dir);
    app_config.database.connection = Some(db.url());
    let app = TestApp::spawn_config(app_config, app_dir).await;
    let ours: Value = app.get("/v1/rules").await.json().await.unwrap();
    assert_eq!(ours, upstream.1);
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_upstream_db, bed_ironic)),
    ignore = "needs the test bed (upstream DB, Ironic): run scripts/test.sh"
)]
async fn rules_of_one_instant_are_listed_in_upstreams_order() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = reference(dir.path());
    assert_rules_of_one_instant_in_upstreams_order(&SqliteFile(db)).await;
}

/// make-upstream-db.sh fills `db` through the real upstream service;
/// returns what upstream answered then.
fn fill_with_upstream(db: &ServerDatabase) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("upstream.json");
    let output = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/testbed/make-upstream-db.sh"
    ))
    .arg(db.url.as_str())
    .arg(&json)
    .output()
    .unwrap();
    assert!(
        output.status.success(),
        "make-upstream-db.sh {}: {}",
        db.name,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

async fn upstream_database_round_trip(server: Server) {
    let db = server.create_database("filled");
    let recorded = fill_with_upstream(&db);
    assert_adopted_and_served(&db, &recorded).await;
    assert_upstream_reads_rules_we_wrote(&db).await;
    assert_rules_of_one_instant_in_upstreams_order(&db).await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_postgres, bed_venv, bed_ironic)),
    ignore = "needs the test bed (PostgreSQL, venv, Ironic): run scripts/test.sh"
)]
async fn an_upstream_postgres_database_is_adopted_served_and_handed_back() {
    upstream_database_round_trip(Server::Postgres).await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_mysql, bed_venv, bed_ironic)),
    ignore = "needs the test bed (MariaDB, venv, Ironic): run scripts/test.sh"
)]
async fn an_upstream_mysql_database_is_adopted_served_and_handed_back() {
    upstream_database_round_trip(Server::Mysql).await;
}
