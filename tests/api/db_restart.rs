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

use crate::bed::Ironic;
use crate::cluster::{Instances, LEASE_SECONDS, cluster_at};
use crate::db_backend::create_database;
use crate::db_copy::read_all;
use crate::helpers::{TestApp, eventually, test_config};
use crate::openapi::SendChecked;
use crate::processing::Machine;
use crate::server_db::PrivateServer;
use inspector::store::Store;

/// `[database] pool_timeout`: how long a request waits for a connection.
const POOL_TIMEOUT: u32 = 2;
const WORKERS: usize = 4;
/// A request answered later than this hangs: it waited for a connection
/// longer than the pool allows.
const HANG: Duration = Duration::from_secs(POOL_TIMEOUT as u64 + 5);

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

/// A rule of two conditions and two actions that matches no machine (it
/// would fail their introspection).
fn rule_body(uuid: &str) -> Value {
    json!({
        "uuid": uuid,
        "description": "made under load",
        "conditions": [
            {"op": "lt", "field": "memory_mb", "value": 0},
            {"op": "eq", "field": "cpus", "value": 2, "invert": true},
        ],
        "actions": [
            {"action": "set-capability", "name": "a", "value": "1"},
            {"action": "fail", "message": "no"},
        ],
    })
}

/// Status lists and rule creations until `stop`, by `workers` workers,
/// worker `i` on the service at `bases[i % bases.len()]`.
fn start_load(
    bases: &[String],
    workers: usize,
    stop: Arc<AtomicBool>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
) -> tokio::task::JoinSet<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        // Far beyond the pool's wait: a request this slow hangs.
        .timeout(Duration::from_secs(u64::from(POOL_TIMEOUT) + 10))
        .build()
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..workers {
        let (client, stop, outcomes) = (client.clone(), stop.clone(), outcomes.clone());
        let base = &bases[worker % bases.len()];
        let (list, rules) = (
            format!("{base}/v1/introspection?limit=5"),
            format!("{base}/v1/rules"),
        );
        tasks.spawn(async move {
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
                let (status, body) = match request.send_checked().await {
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
    tasks
}

/// When the database server was away, as the test saw it.
struct Outage {
    /// The stop was asked for.
    stopping: Instant,
    /// The server had stopped.
    down_from: Instant,
    /// The start was asked for.
    down_until: Instant,
    /// The server answered again.
    back: Instant,
}

/// Stops `server` for four seconds at least, and as long as `meanwhile`
/// runs; its output. The scripts block; the load and the service go on on
/// other threads.
async fn stop_for_a_while<T>(
    server: &PrivateServer,
    meanwhile: impl Future<Output = T>,
) -> (Outage, T) {
    let stopping = Instant::now();
    tokio::task::block_in_place(|| server.run("stop", false));
    let down_from = Instant::now();
    let ((), output) = tokio::join!(tokio::time::sleep(Duration::from_secs(4)), meanwhile);
    let down_until = Instant::now();
    tokio::task::block_in_place(|| server.run("start", false));
    let outage = Outage {
        stopping,
        down_from,
        down_until,
        back: Instant::now(),
    };
    (outage, output)
}

/// Waits until every service at `bases` lists statuses and creates a rule
/// again, by itself; when that was.
async fn wait_serving(bases: &[String]) -> Instant {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for base in bases {
        eventually(
            &format!("{base} serves again once the database is back"),
            Duration::from_secs(30),
            || async {
                let list = client
                    .get(format!("{base}/v1/introspection"))
                    .send_checked()
                    .await
                    .map(|r| r.status().as_u16());
                let uuid = uuid::Uuid::new_v4().to_string();
                let create = client
                    .post(format!("{base}/v1/rules"))
                    .json(&rule_body(&uuid))
                    .send_checked()
                    .await
                    .map(|r| r.status().as_u16());
                match (list, create) {
                    (Ok(200), Ok(201)) => Ok(()),
                    other => Err(format!("{other:?}")),
                }
            },
        )
        .await;
    }
    Instant::now()
}

/// A 503 has the API's JSON error body.
fn assert_json_error(status: u16, body: &str, context: &dyn std::fmt::Debug) {
    if status == 503 {
        let body: Value = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("503 without a JSON body ({e}): {context:?}"));
        assert!(body["error"]["message"].is_string(), "{body}");
    }
}

/// Every answer of the load was a success or a 503 with the JSON error
/// body, within the pool's wait; every one while the server was away was a
/// 503, and none before the stop or after `recovered` was.
fn check_outcomes(outcomes: &[Outcome], outage: &Outage, recovered: Instant, workers: usize) {
    eprintln!(
        "{} requests; back after {:?}, serving {:?} later",
        outcomes.len(),
        outage.back - outage.down_from,
        recovered - outage.back
    );
    for outcome in outcomes {
        assert!(
            matches!(outcome.status, 200 | 201 | 503),
            "only success or 503 is acceptable: {outcome:?}"
        );
        assert!(outcome.elapsed < HANG, "a request hung: {outcome:?}");
        assert_json_error(outcome.status, &outcome.body, outcome);
    }
    let while_down: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.started >= outage.down_from && o.started + o.elapsed <= outage.down_until)
        .collect();
    assert!(
        while_down.len() >= workers,
        "too few requests while the database was away: {}",
        while_down.len()
    );
    assert!(
        while_down.iter().all(|o| o.status == 503),
        "served without a database? {while_down:?}"
    );
    let before: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.started + o.elapsed < outage.stopping)
        .collect();
    let after: Vec<&Outcome> = outcomes.iter().filter(|o| o.started > recovered).collect();
    for (phase, list) in [("before the stop", &before), ("after recovery", &after)] {
        assert!(!list.is_empty(), "no requests {phase}");
        // A request overlapping the stop may fail; none of these did.
        let failed: Vec<_> = list.iter().filter(|o| o.status == 503).collect();
        assert!(failed.is_empty(), "{phase}: {failed:?}");
    }
}

/// Nothing half-written: every rule is whole (2 conditions, 2 actions) or
/// absent, and every one answered 201 is there.
async fn check_rules_whole(store: &Store, outcomes: &[Outcome]) {
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
    let bases = [app.url("")];

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let workers = start_load(&bases, WORKERS, stop.clone(), outcomes.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (outage, ()) = stop_for_a_while(&server, async {}).await;
    let recovered = wait_serving(&bases).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    workers.join_all().await;
    let outcomes = std::mem::take(&mut *outcomes.lock().await);
    check_outcomes(&outcomes, &outage, recovered, WORKERS);
    check_rules_whole(app.store(), &outcomes).await;
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

/// Three instances `a`, `b`, `c` on a private server, which is restarted
/// under a load spread over them while a node's processing is under way
/// (its first write to Ironic held up by the proxy, so that it goes on
/// while the server is away) and while a start and callbacks are asked
/// for. Besides what a single instance shows (only successes and 503s,
/// none hanging; every instance serves again by itself; no rule
/// half-written):
/// * the start and the callbacks sent while the server is away answer 503;
/// * the node whose processing was cut ends `finished` or `error`, not
///   stuck, and every node then goes through a whole introspection again
///   on any instance (no lock is left behind);
/// * the leases hold only the leadership afterwards, and the leader's
///   periodic Ironic sync runs about once a period across the cluster, not
///   once per instance nor not at all.
async fn three_instances_restarted_under_load(name: &str, port_var: &'static str) {
    const INSTANCES: usize = 3;
    const WORKERS: usize = 2 * INSTANCES;
    let began = Instant::now();
    let phase = |what: &str| eprintln!("{:>6.1?}: {what}", began.elapsed());
    let ironic = Ironic::new();
    let (server, admin) = PrivateServer::start(name, port_var);
    let (scratch, url) = create_database(&admin);
    let database_extra = format!("pool_timeout = {POOL_TIMEOUT}\n");
    let cluster = cluster_at(
        tempfile::tempdir().unwrap(),
        url,
        Some(scratch),
        Instances {
            hosts: &["a", "b", "c"],
            extra: "clean_up_period = 1\nleader_election_interval = 1\n",
            database_extra: &database_extra,
            lease: Some(LEASE_SECONDS),
        },
    )
    .await;
    let bases: Vec<String> = (0..INSTANCES).map(|i| cluster.url(i, "")).collect();
    phase("the instances serve");

    // Waiting for their callbacks through the outage.
    let mut waiting = Vec::new();
    for i in 0..INSTANCES {
        let m = Machine::new();
        let uuid = m.node(&ironic).await;
        cluster.start(i, &uuid).await;
        waiting.push((m, uuid));
    }
    let cut = Machine::new();
    let cut_uuid = cut.node(&ironic).await;
    cluster.start(0, &cut_uuid).await;
    let idle = Machine::new();
    let idle_uuid = idle.node(&ironic).await;
    phase("the nodes wait");

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let workers = start_load(&bases, WORKERS, stop.clone(), outcomes.clone());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let patch = format!("PATCH /v1/nodes/{cut_uuid}");
    cluster.proxy.delay(&patch, Duration::from_secs(3));
    let cut_callback = cluster.callback(1, &cut.data()).send_checked();
    let cut_callback = tokio::spawn(async move {
        let response = cut_callback.await.unwrap();
        let code = response.status().as_u16();
        (code, response.text().await.unwrap())
    });
    eventually(
        "the node's processing reached Ironic",
        Duration::from_secs(20),
        || std::future::ready(cluster.proxy.count(&patch) > 0),
    )
    .await;
    let cluster = &cluster;
    let asked_while_away = async {
        let start = async {
            let path = format!("/v1/introspection/{idle_uuid}?manage_boot=false");
            let asked = Instant::now();
            let (code, body) = cluster.call(2, Method::POST, &path).await;
            (format!("start {idle_uuid}"), asked.elapsed(), code, body)
        };
        let waiting = &waiting;
        let callback = |i: usize| {
            let (m, uuid) = &waiting[i];
            async move {
                let asked = Instant::now();
                let response = cluster.callback(i, &m.data()).send_checked().await.unwrap();
                let code = response.status().as_u16();
                let body = response.text().await.unwrap();
                let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
                (format!("callback {uuid}"), asked.elapsed(), code, body)
            }
        };
        let (a, b, c, d) = tokio::join!(start, callback(0), callback(1), callback(2));
        let answers: [(String, Duration, u16, Value); INSTANCES + 1] = [a, b, c, d];
        answers
    };
    phase("the server stops");
    let (outage, answers) = stop_for_a_while(&server, asked_while_away).await;
    phase("the server is back");
    for (what, elapsed, code, body) in &answers {
        eprintln!("{what} while the server was away: {code} {body} in {elapsed:?}");
        assert_eq!(*code, 503, "{what} while the server was away: {body}");
        assert_json_error(*code, &body.to_string(), what);
        assert!(*elapsed < HANG, "{what} hung: {elapsed:?}");
    }
    let recovered = wait_serving(&bases).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    workers.join_all().await;
    let outcomes = std::mem::take(&mut *outcomes.lock().await);
    check_outcomes(&outcomes, &outage, recovered, WORKERS);
    phase("the instances serve again");
    let store = cluster.store().await;
    check_rules_whole(&store, &outcomes).await;
    store.close().await;

    // The cut processing was answered (done, or refused for the outage)
    // and its node ended.
    let (code, body) = cut_callback.await.unwrap();
    eprintln!("the cut processing answered {code} {body}");
    assert!(matches!(code, 200 | 503), "{code} {body}");
    assert_json_error(code, &body, &body);
    let ended = eventually(
        "the node whose processing was cut ends",
        Duration::from_secs(30),
        || async {
            let status = cluster.status(2, &cut_uuid).await;
            if status["finished"] == true {
                Ok(status)
            } else {
                Err(status)
            }
        },
    )
    .await;
    eprintln!("it ended: {ended}");
    assert!(
        matches!(ended["state"].as_str(), Some("finished" | "error")),
        "{ended}"
    );

    phase("the cut node ended");
    // The start refused for the outage left nothing behind.
    let (code, body) = cluster
        .call(0, Method::GET, &format!("/v1/introspection/{idle_uuid}"))
        .await;
    assert_eq!(code, 404, "{body}");

    // Every node goes through a whole introspection, on any instance.
    let mut all: Vec<(&Machine, &str)> = waiting.iter().map(|(m, u)| (m, u.as_str())).collect();
    for (i, (_, uuid)) in all.iter().enumerate() {
        // Still waiting for the callback the outage refused.
        assert_eq!(cluster.status(i, uuid).await["state"], "waiting");
    }
    for (i, uuid) in [&cut_uuid, &idle_uuid].into_iter().enumerate() {
        cluster.start(i, uuid).await;
    }
    all.extend([(&cut, cut_uuid.as_str()), (&idle, idle_uuid.as_str())]);
    let mut callbacks = tokio::task::JoinSet::new();
    for (i, (m, uuid)) in all.iter().enumerate() {
        let callback = cluster
            .callback((i + 1) % INSTANCES, &m.data())
            .send_checked();
        let uuid = uuid.to_string();
        callbacks.spawn(async move {
            let response = callback.await.unwrap();
            let code = response.status().as_u16();
            (uuid, code, response.text().await.unwrap())
        });
    }
    for (uuid, code, body) in callbacks.join_all().await {
        assert_eq!(code, 200, "callback of {uuid}: {body}");
    }
    for (i, (_, uuid)) in all.iter().enumerate() {
        let status = cluster
            .wait_for_state((i + 2) % INSTANCES, uuid, "finished")
            .await;
        assert_eq!(status["error"], Value::Null, "{status}");
    }
    phase("every node introspected again");
    eventually(
        "only the leadership is leased",
        Duration::from_secs(10),
        || async {
            let leases = cluster.leases().await;
            if leases.iter().all(|l| l.name == "leader") && leases.len() == 1 {
                Ok(())
            } else {
                Err(format!("{leases:?}"))
            }
        },
    )
    .await;
    let window = Duration::from_secs(5);
    let listings = cluster.ironic_syncs_over(window).await;
    assert!(
        (2..=7).contains(&listings),
        "{listings} periodic listings of Ironic nodes in {window:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(bed_postgres, bed_ironic)),
    ignore = "needs the test bed's PostgreSQL and Ironic: run scripts/test.sh"
)]
async fn three_instances_on_postgresql_restarted_under_load_recover_with_nothing_half_written() {
    three_instances_restarted_under_load("postgres", "POSTGRES_PORT").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(bed_mysql, bed_ironic)),
    ignore = "needs the test bed's MariaDB and Ironic: run scripts/test.sh"
)]
async fn three_instances_on_mysql_restarted_under_load_recover_with_nothing_half_written() {
    three_instances_restarted_under_load("mariadb", "MARIADB_PORT").await;
}
