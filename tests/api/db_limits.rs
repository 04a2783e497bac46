//! Documents larger than the database server takes in one statement
//! (MariaDB's `max_allowed_packet`): the request is answered, nothing is
//! half-written and the connection pool serves on. PostgreSQL's only such
//! limit is a field's 1 GB, beyond any body the API accepts.

use std::time::{Duration, Instant};

use inspector::store::bulk;
use serde_json::json;

use crate::bed::Ironic;
use crate::db_copy::read_all;
use crate::helpers::{TestApp, json_with_status};
use crate::processing::{Machine, post_continue};
use crate::server_db::PrivateServer;

/// `max_allowed_packet` of the private server: below what one rule
/// parameter may hold (`TEXT`, 65,535 bytes), so that a rule the service
/// accepts can exceed it.
const PACKET: usize = 32 * 1024;
/// `[database] max_pool_size`: few connections, so that the ones the server
/// closed after refusing a packet are the ones later requests get.
const POOL: u32 = 2;

/// On a MariaDB with a 32 KiB `max_allowed_packet`:
/// * a ramdisk document beyond it cannot be stored: the callback answers
///   400 naming the limit, the node ends in `error` with that message, and
///   no document of it is stored (404);
/// * a rule beyond it (a condition value under the column's size) is
///   refused with a 400 naming the limit, every time, and no row of it is
///   left;
/// * afterwards every request succeeds on the pool's connections, although
///   the server closed each connection that carried too big a packet.
#[tokio::test]
#[cfg_attr(
    not(all(bed_mysql, bed_ironic)),
    ignore = "needs the test bed's MariaDB and Ironic (scripts/test.sh starts them)"
)]
async fn documents_beyond_max_allowed_packet_are_refused_on_mariadb() {
    let (server, url) = PrivateServer::start("mariadb", "MARIADB_PORT");
    // Only connections opened afterwards get the small packet.
    server.mariadb_sql(&format!("SET GLOBAL max_allowed_packet = {PACKET}"));
    let app = TestApp::builder()
        .bed_ironic()
        .configure(move |c| {
            c.database.connection = Some(url);
            c.database.max_retries = 1;
            c.database.max_pool_size = POOL;
            c.database.pool_timeout = Some(5);
            c.processing.store_data = inspector_core::conf::StoreData::Database;
        })
        .spawn()
        .await;
    let ironic = Ironic::new();

    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    app.start_introspection(&uuid, "?manage_boot=false").await;
    let mut data = m.data();
    data["extra"] = json!({"blob": "x".repeat(PACKET * 3)});
    let started = Instant::now();
    let body = json_with_status(post_continue(&app, &data).await, 400).await;
    eprintln!("big callback answered in {:?}", started.elapsed());
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("max_allowed_packet"), "{message}");
    let status = app
        .wait_for_state(&uuid, "error", Duration::from_secs(30))
        .await;
    let error = status["error"].as_str().unwrap();
    assert!(error.contains("max_allowed_packet"), "{status}");
    for path in ["data", "data/unprocessed"] {
        let stored = app.get(&format!("/v1/introspection/{uuid}/{path}")).await;
        let body = json_with_status(stored, 404).await;
        assert!(body["error"]["message"].is_string(), "{body}");
    }

    let big_rule = json!({
        "uuid": "0c000000-0000-4000-8000-0000000000cc",
        "description": "too big for one packet",
        "conditions": [
            {"op": "eq", "field": "memory_mb", "value": "y".repeat(PACKET + 8 * 1024)},
        ],
        "actions": [{"action": "fail", "message": "no"}],
    });
    for _ in 0..=POOL {
        let started = Instant::now();
        let body = json_with_status(app.post_json("/v1/rules", &big_rule).await, 400).await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("max_allowed_packet"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(5), "{message}");
    }
    let store = app.store();
    for table in [&bulk::RULES, &bulk::RULE_CONDITIONS, &bulk::RULE_ACTIONS] {
        let rows = read_all(store, table).await;
        assert!(rows.is_empty(), "{}: {rows:?}", table.name);
    }

    // Twice as many requests as the pool has connections, each one served.
    for n in 0..2 * POOL {
        let small = json!({
            "description": format!("small {n}"),
            "conditions": [{"op": "eq", "field": "memory_mb", "value": 1}],
            "actions": [{"action": "fail", "message": "no"}],
        });
        json_with_status(app.post_json("/v1/rules", &small).await, 201).await;
        json_with_status(app.get("/v1/rules").await, 200).await;
    }
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    app.start_introspection(&uuid, "?manage_boot=false").await;
    json_with_status(post_continue(&app, &m.data()).await, 200).await;
    app.wait_for_state(&uuid, "finished", Duration::from_secs(30))
        .await;
    let stored = app.get(&format!("/v1/introspection/{uuid}/data")).await;
    let stored = json_with_status(stored, 200).await;
    assert_eq!(stored["cpus"], 4, "{stored}");
    app.finish().await;
}
