//! A database created and filled by the real ironic-inspector 12.5.0
//! (scripts/testbed/make-upstream-db.sh) is adopted by `inspector db
//! upgrade` and served exactly as upstream served it; after that the real
//! upstream service still reads it.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::bed::{Ironic, env};
use crate::binary::run;
use crate::helpers::{TestApp, test_config};

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
        for header in [
            "X-OpenStack-Ironic-Inspector-API-Minimum-Version",
            "X-OpenStack-Ironic-Inspector-API-Maximum-Version",
        ] {
            assert_eq!(
                response.headers()[header],
                expected["headers"][header].as_str().unwrap()
            );
        }
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            rebase(&expected["body"], upstream_url, &our_url),
            "GET {path}"
        );
    }
}

fn sqlite(db: &std::path::Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("sqlite3 is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test]
#[cfg_attr(
    not(bed_upstream_db),
    ignore = "needs the test bed (upstream DB): run scripts/test.sh"
)]
async fn an_upstream_database_is_adopted_and_served_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (db, recorded) = reference(dir.path());
    let config = dir.path().join("inspector.conf");
    std::fs::write(
        &config,
        format!("[database]\nconnection = sqlite:///{}\n", db.display()),
    )
    .unwrap();

    let (code, out, err) = run(&["db", "upgrade", "--config-file", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("adopted a database created by ironic-inspector"),
        "{out}"
    );
    assert!(out.contains("applied migration 2"), "{out}");
    assert_eq!(
        sqlite(&db, "SELECT version_num FROM alembic_version"),
        "b55109d5063a"
    );
    let (_, out, _) = run(&["db", "upgrade", "--config-file", config.to_str().unwrap()]);
    assert!(out.contains("the schema is up to date"), "{out}");

    let app_dir = tempfile::tempdir().unwrap();
    let mut app_config = test_config(&app_dir);
    app_config.database.connection = Some(format!("sqlite:///{}", db.display()));
    let app = TestApp::spawn_config(app_config, app_dir).await;
    assert_recorded_answers(&app, &recorded).await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_upstream_db, bed_ironic)),
    ignore = "needs the test bed (upstream DB, Ironic): run scripts/test.sh"
)]
async fn upstream_still_reads_a_database_we_wrote_to() {
    let ironic = Ironic::new();
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = reference(dir.path());
    let app_dir = tempfile::tempdir().unwrap();
    let mut app_config = test_config(&app_dir);
    app_config.database.connection = Some(format!("sqlite:///{}", db.display()));
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

    let port = crate::binary::free_port();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/testbed/upstream-inspector.sh"
    );
    let start = Command::new(script)
        .arg("start")
        .env("INSPECTOR_PORT", port.to_string())
        .env("IRONIC_URL", &ironic.url)
        .env("INSPECTOR_DB", &db)
        .output()
        .unwrap();
    assert!(
        start.status.success(),
        "{}",
        String::from_utf8_lossy(&start.stderr)
    );
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let fetched = client
        .get(format!(
            "http://127.0.0.1:{port}/v1/rules/9d0c1f5e-1111-4222-8333-444455556666"
        ))
        .send()
        .await;
    let fetched_hex = client
        .get(format!("http://127.0.0.1:{port}/v1/rules/{hex_id}"))
        .send()
        .await;
    let stop = Command::new(script)
        .arg("stop")
        .env("INSPECTOR_PORT", port.to_string())
        .output()
        .unwrap();
    assert!(stop.status.success());
    let body: Value = fetched.unwrap().json().await.unwrap();
    assert_eq!(body["description"], "written by inspector");
    assert_eq!(body["conditions"][0]["invert"], true);
    assert_eq!(body["actions"][0]["value"], "{data[cpus]}");
    let fetched_hex = fetched_hex.unwrap();
    assert_eq!(fetched_hex.status(), 200);
    let body: Value = fetched_hex.json().await.unwrap();
    assert_eq!(body["uuid"], hex_id);
}
