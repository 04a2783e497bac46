//! The database server restarted under load: a service on a server of the
//! test's own keeps answering while the server is away (503 with the JSON
//! error body, within the pool's wait; never a 500 or a hang), serves again
//! by itself once the server is back, and no rule is left half-written.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use inspector::store::bulk;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::db_backend::create_database;
use crate::db_copy::read_all;
use crate::helpers::{TestApp, eventually, test_config};
use crate::server_db::PrivateServer;

/// `[database] pool_timeout`: how long a request waits for a connection.
const POOL_TIMEOUT: u32 = 2;
const WORKERS: usize = 4;

/// One request of the load.
#[derive(Debug)]
struct Outcome {
    started: Instant,
    elapsed: Duration,
    status: u16,
    body: String,
    /// The rule a POST tried to create.
    rule: Option<String>,
}

fn rule_body(uuid: &str) -> Value {
    json!({
        "uuid": uuid,
        "description": "made under load",
        "conditions": [
            {"op": "ge", "field": "memory_mb", "value": 1024},
            {"op": "eq", "field": "cpus", "value": 2, "invert": true},
        ],
        "actions": [
            {"action": "set-capability", "name": "a", "value": "1"},
            {"action": "fail", "message": "no"},
        ],
    })
}

/// Status lists and rule creations, `WORKERS` at a time, until `stop`.
fn start_load(
    app: &TestApp,
    stop: Arc<AtomicBool>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
) -> tokio::task::JoinSet<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        // Far beyond the pool's wait: a request this slow hangs.
        .timeout(Duration::from_secs(u64::from(POOL_TIMEOUT) + 10))
        .build()
        .unwrap();
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..WORKERS {
        let (client, stop, outcomes) = (client.clone(), stop.clone(), outcomes.clone());
        let (list, rules) = (app.url("/v1/introspection?limit=5"), app.url("/v1/rules"));
        workers.spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let rule = n
                    .is_multiple_of(2)
                    .then(|| uuid::Uuid::new_v4().to_string());
                let request = match &rule {
                    Some(uuid) => client.request(Method::POST, &rules).json(&rule_body(uuid)),
                    None => client.request(Method::GET, &list),
                };
                let started = Instant::now();
                let (status, body) = match request.send().await {
                    Ok(response) => (
                        response.status().as_u16(),
                        response.text().await.unwrap_or_default(),
                    ),
                    Err(e) => (0, format!("worker {worker}: no answer: {e}")),
                };
                outcomes.lock().await.push(Outcome {
                    started,
                    elapsed: started.elapsed(),
                    status,
                    body,
                    rule,
                });
            }
        });
    }
    workers
}

/// `name`: the test bed's script (postgres, mariadb); `port_var`: its port knob.
async fn the_database_restarted_under_load(name: &str, port_var: &'static str) {
    let (server, admin) = PrivateServer::start(name, port_var);
    let (_database, url) = create_database(&admin);
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    config.database.connection = Some(url);
    config.database.pool_timeout = Some(POOL_TIMEOUT);
    let app = TestApp::spawn_config(config, dir).await;

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let workers = start_load(&app, stop.clone(), outcomes.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    // The scripts block; the load and the service go on on other threads.
    let stopping = Instant::now();
    tokio::task::block_in_place(|| server.run("stop", false));
    let down_from = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let down_until = Instant::now();
    tokio::task::block_in_place(|| server.run("start", false));
    let back = Instant::now();

    // Recovers by itself: a list and a rule creation succeed again.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    eventually(
        "the service serves again once the database is back",
        Duration::from_secs(30),
        || async {
            let list = client
                .get(app.url("/v1/introspection"))
                .send()
                .await
                .map(|r| r.status().as_u16());
            let uuid = uuid::Uuid::new_v4().to_string();
            let create = client
                .post(app.url("/v1/rules"))
                .json(&rule_body(&uuid))
                .send()
                .await
                .map(|r| r.status().as_u16());
            match (list, create) {
                (Ok(200), Ok(201)) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    let recovered = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    workers.join_all().await;
    let outcomes = std::mem::take(&mut *outcomes.lock().await);
    eprintln!(
        "{} requests; back after {:?}, serving {:?} later",
        outcomes.len(),
        back - down_from,
        recovered - back
    );

    let limit = Duration::from_secs(u64::from(POOL_TIMEOUT) + 5);
    for outcome in &outcomes {
        assert!(
            matches!(outcome.status, 200 | 201 | 503),
            "only success or 503 is acceptable: {outcome:?}"
        );
        assert!(outcome.elapsed < limit, "a request hung: {outcome:?}");
        if outcome.status == 503 {
            let body: Value = serde_json::from_str(&outcome.body)
                .unwrap_or_else(|e| panic!("503 without a JSON body ({e}): {outcome:?}"));
            assert!(body["error"]["message"].is_string(), "{body}");
        }
    }
    let while_down: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.started >= down_from && o.started + o.elapsed <= down_until)
        .collect();
    assert!(
        while_down.len() >= WORKERS,
        "too few requests while the database was away: {}",
        while_down.len()
    );
    assert!(
        while_down.iter().all(|o| o.status == 503),
        "served without a database? {while_down:?}"
    );
    let before: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.started + o.elapsed < stopping)
        .collect();
    let after: Vec<&Outcome> = outcomes.iter().filter(|o| o.started > recovered).collect();
    for (phase, list) in [("before the stop", &before), ("after recovery", &after)] {
        assert!(!list.is_empty(), "no requests {phase}");
        // A request overlapping the stop may fail; none of these did.
        let failed: Vec<_> = list.iter().filter(|o| o.status == 503).collect();
        assert!(failed.is_empty(), "{phase}: {failed:?}");
    }

    // Nothing half-written: a rule is whole (2 conditions, 2 actions) or absent.
    let store = app.store();
    let rules: BTreeSet<String> = read_all(store, &bulk::RULES)
        .await
        .into_iter()
        .map(|row| text(&row[0]))
        .collect();
    for (table, column) in [(&bulk::RULE_CONDITIONS, 1), (&bulk::RULE_ACTIONS, 1)] {
        let mut per_rule: BTreeMap<String, usize> = BTreeMap::new();
        for row in read_all(store, table).await {
            *per_rule.entry(text(&row[column])).or_default() += 1;
        }
        for rule in &rules {
            assert_eq!(per_rule.get(rule), Some(&2), "{}: rule {rule}", table.name);
        }
        let orphans: Vec<_> = per_rule.keys().filter(|r| !rules.contains(*r)).collect();
        assert!(
            orphans.is_empty(),
            "{}: rows of no rule: {orphans:?}",
            table.name
        );
    }
    let created: Vec<&String> = outcomes
        .iter()
        .filter(|o| o.status == 201)
        .filter_map(|o| o.rule.as_ref())
        .collect();
    assert!(!created.is_empty());
    for uuid in created {
        assert!(
            rules.contains(uuid),
            "rule {uuid} answered 201 but is not stored"
        );
    }
    app.finish().await;
}

fn text(cell: &bulk::Cell) -> String {
    match cell {
        bulk::Cell::Text(s) => s.clone(),
        other => panic!("not text: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(bed_postgres),
    ignore = "needs the test bed (PostgreSQL): run scripts/test.sh"
)]
async fn postgresql_restarted_under_load_gives_503_then_recovers_with_nothing_half_written() {
    the_database_restarted_under_load("postgres", "POSTGRES_PORT").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(bed_mysql),
    ignore = "needs the test bed (MariaDB): run scripts/test.sh"
)]
async fn mysql_restarted_under_load_gives_503_then_recovers_with_nothing_half_written() {
    the_database_restarted_under_load("mariadb", "MARIADB_PORT").await;
}
