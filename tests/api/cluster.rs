//! Several `inspector serve` processes on one database (an SQLite file, or
//! a scratch database on the test bed's PostgreSQL or MariaDB) with no other
//! coordination: any instance answers any request, a node's lock excludes
//! the other instances, an instance killed mid-processing leaves no node
//! behind, and the periodic tasks run on one instance. Every instance
//! reaches the test bed's Ironic through one recording proxy.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;

use inspector::store::ScratchDatabase;

use crate::bed::{self, Ironic};
use crate::binary::{Served, free_port, run, serve};
use crate::helpers::eventually;
use crate::openapi::SendChecked;
use crate::processing::Machine;
use crate::recording_proxy::RecordingProxy;

/// Lease of the node locks and of the leadership in these tests: short, so
/// that a killed instance's locks expire quickly.
pub const LEASE_SECONDS: u64 = 3;

/// Where the instances keep their shared state.
#[derive(Clone, Copy)]
enum Database {
    /// An SQLite file in the cluster's directory.
    Sqlite,
    /// A scratch database on the test bed's server whose account URL this
    /// variable holds.
    Server(&'static str),
}

const POSTGRES: Database = Database::Server("INSPECTOR_TEST_POSTGRES_URL");
const MARIADB: Database = Database::Server("INSPECTOR_TEST_MYSQL_URL");

pub struct Cluster {
    dir: TempDir,
    pub proxy: Arc<RecordingProxy>,
    /// Declared before the scratch database: stopped before it is dropped.
    pub instances: Vec<Served>,
    client: reqwest::Client,
    connection: String,
    _scratch: Option<ScratchDatabase>,
}

fn write_instance_config(
    dir: &Path,
    host: &str,
    port: u16,
    ironic: &str,
    connection: &str,
    extra: &str,
    database_extra: &str,
) -> PathBuf {
    let path = dir.join(format!("{host}.conf"));
    let text = format!(
        "[DEFAULT]\nhost = {host}\nlisten_address = 127.0.0.1\nlisten_port = {port}\n\
         auth_strategy = noauth\nintrospection_delay = 0\n\
         {extra}\n\
         [database]\nconnection = {connection}\n{database_extra}\n\
         [ironic]\nauth_type = none\nendpoint_override = {ironic}\nretry_interval = 1\n\
         [pxe_filter]\ndriver = noop\n\
         [processing]\nstore_data = database\n",
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts one instance per host, one after the other, on `database`, with
/// leases of `lease` seconds or of the default length; `extra` goes into
/// each one's `[DEFAULT]` (and may open sections).
async fn cluster_on(
    database: Database,
    hosts: &[&str],
    extra: &str,
    lease: Option<u64>,
) -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let (connection, scratch) = match database {
        Database::Sqlite => (
            format!(
                "sqlite:///{}",
                dir.path().join("inspector.sqlite").display()
            ),
            None,
        ),
        Database::Server(account) => {
            let (scratch, url) = ScratchDatabase::create(&bed::env(account)).await.unwrap();
            (url, Some(scratch))
        }
    };
    let instances = Instances {
        hosts,
        extra,
        database_extra: "",
        lease,
    };
    cluster_at(dir, connection, scratch, instances).await
}

/// What each instance of a cluster is started with.
pub struct Instances<'a> {
    /// One instance per host, started in this order.
    pub hosts: &'a [&'a str],
    /// Lines of `[DEFAULT]` (which may open further sections).
    pub extra: &'a str,
    /// Lines of `[database]`.
    pub database_extra: &'a str,
    /// `lock_lease_time`, when not the default.
    pub lease: Option<u64>,
}

/// Starts `instances` on the database of `connection` (whose scratch
/// database, if any, is dropped with the cluster), keeping their files in
/// `dir`.
pub async fn cluster_at(
    dir: TempDir,
    connection: String,
    scratch: Option<ScratchDatabase>,
    instances: Instances<'_>,
) -> Cluster {
    let Instances {
        hosts,
        extra,
        database_extra,
        lease,
    } = instances;
    let proxy = RecordingProxy::start(&bed::env("INSPECTOR_TEST_IRONIC_URL")).await;
    let extra = match lease {
        Some(seconds) => format!("lock_lease_time = {seconds}\n{extra}"),
        None => extra.to_string(),
    };
    let mut instances = Vec::new();
    for host in hosts {
        let port = free_port();
        let config = write_instance_config(
            dir.path(),
            host,
            port,
            &proxy.url,
            &connection,
            &extra,
            database_extra,
        );
        instances.push(serve(&config, port).await);
    }
    inspector::tls::install_crypto_provider();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(90))
        .build()
        .unwrap();
    Cluster {
        dir,
        proxy,
        instances,
        client,
        connection,
        _scratch: scratch,
    }
}

impl Cluster {
    pub fn url(&self, instance: usize, path: &str) -> String {
        self.instances[instance].url(path)
    }

    /// Also checks the answer against the OpenAPI document.
    pub async fn call(&self, instance: usize, method: Method, path: &str) -> (u16, Value) {
        let response = self
            .client
            .request(method, self.url(instance, path))
            .send_checked()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn status(&self, instance: usize, uuid: &str) -> Value {
        let (code, status) = self
            .call(instance, Method::GET, &format!("/v1/introspection/{uuid}"))
            .await;
        assert_eq!(code, 200, "{status}");
        status
    }

    pub async fn wait_for_state(&self, instance: usize, uuid: &str, state: &str) -> Value {
        eventually(
            &format!("{uuid} is {state}"),
            Duration::from_secs(30),
            || async {
                let status = self.status(instance, uuid).await;
                if status["state"] == state {
                    Ok(status)
                } else {
                    Err(status)
                }
            },
        )
        .await
    }

    pub async fn start(&self, instance: usize, uuid: &str) {
        let (code, body) = self
            .call(
                instance,
                Method::POST,
                &format!("/v1/introspection/{uuid}?manage_boot=false"),
            )
            .await;
        assert_eq!(code, 202, "{body}");
        self.wait_for_state(instance, uuid, "waiting").await;
    }

    pub fn callback(&self, instance: usize, data: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(instance, "/v1/continue"))
            .body(data.to_string())
    }

    /// A store of one connection on the shared database, for a look at
    /// what the instances wrote; close it after use.
    pub async fn store(&self) -> inspector::store::Store {
        let options = inspector::store::StoreOptions {
            max_connections: 1,
            ..Default::default()
        };
        inspector::store::open(&self.connection, &options)
            .await
            .unwrap()
    }

    /// The leases in the shared database now.
    pub async fn leases(&self) -> Vec<inspector::store::LeaseRecord> {
        let store = self.store().await;
        let leases = store.leases("").await.unwrap();
        store.close().await;
        leases
    }

    /// How many times the instances list Ironic's nodes (the periodic
    /// Ironic sync) over `window` from now.
    pub async fn ironic_syncs_over(&self, window: Duration) -> usize {
        self.proxy.clear();
        tokio::time::sleep(window).await;
        let listings = self.proxy.count("GET /v1/nodes?fields=uuid");
        eprintln!("{listings} Ironic node listings in {window:?}");
        listings
    }

    pub fn logs(&self) -> Vec<String> {
        self.instances.iter().map(Served::log_text).collect()
    }
}

/// Start on one instance, callback on another, status, data, reapply and
/// abort on a third: every instance serves every node. Upstream's HA
/// options are accepted with one line saying they are not needed, and one
/// instance leads.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn any_instance_serves_any_request() {
    serves_any_request(Database::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_postgres)),
    ignore = "needs the test bed's Ironic and PostgreSQL (scripts/test.sh starts them)"
)]
async fn any_instance_serves_any_request_on_postgres() {
    serves_any_request(POSTGRES).await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_mysql)),
    ignore = "needs the test bed's Ironic and MariaDB (scripts/test.sh starts them)"
)]
async fn any_instance_serves_any_request_on_mariadb() {
    serves_any_request(MARIADB).await;
}

async fn serves_any_request(database: Database) {
    let ironic = Ironic::new();
    let cluster = cluster_on(
        database,
        &["a", "b", "c"],
        "standalone = false\ntransport_url = rabbit://user:secret@mq:5672/\n\
         [coordination]\nbackend_url = redis://127.0.0.1:6379\n",
        Some(LEASE_SECONDS),
    )
    .await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    cluster.start(0, &uuid).await;
    let response = cluster.callback(1, &m.data()).send_checked().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let status = cluster.wait_for_state(2, &uuid, "finished").await;
    assert_eq!(status["error"], Value::Null);
    let (code, data) = cluster
        .call(0, Method::GET, &format!("/v1/introspection/{uuid}/data"))
        .await;
    assert_eq!(code, 200, "{data}");
    assert_eq!(data["cpus"], 4, "{data}");
    let (code, body) = cluster
        .call(
            2,
            Method::POST,
            &format!("/v1/introspection/{uuid}/data/unprocessed"),
        )
        .await;
    assert_eq!(code, 202, "{body}");
    cluster.wait_for_state(1, &uuid, "finished").await;

    let other = Machine::new().node(&ironic).await;
    cluster.start(0, &other).await;
    let (code, body) = cluster
        .call(2, Method::POST, &format!("/v1/introspection/{other}/abort"))
        .await;
    assert_eq!(code, 202, "{body}");
    let status = cluster.wait_for_state(1, &other, "error").await;
    assert_eq!(status["error"], "Canceled by operator");

    let logs = cluster.logs();
    for log in &logs {
        let notes: Vec<&str> = log.lines().filter(|l| l.contains("not needed")).collect();
        assert_eq!(notes.len(), 1, "{log}");
        for option in [
            "[DEFAULT] standalone = false",
            "[DEFAULT] transport_url",
            "[coordination] backend_url",
        ] {
            assert!(notes[0].contains(option), "{}", notes[0]);
        }
        assert!(!notes[0].contains("secret"), "{}", notes[0]);
        assert!(!log.contains("not supported"), "{log}");
    }
    // `config check` has nothing to warn about either.
    let config = cluster.dir.path().join("a.conf");
    let (code, out, err) = run(&["config", "check", "--config-file", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("WARNING"), "{err}");
    let leaders = logs
        .iter()
        .filter(|log| log.contains("is now the leader"))
        .count();
    assert_eq!(leaders, 1, "{logs:?}");
    // Every lock was released.
    let leases = cluster.leases().await;
    assert!(leases.iter().all(|l| l.name == "leader"), "{leases:?}");
}

/// Thirty callbacks for one node, spread over three instances while its
/// processing is slowed down: one is processed (200), the others find it
/// finished (400), as on a single instance.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn concurrent_callbacks_across_instances_are_processed_once() {
    callbacks_processed_once(Database::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_postgres)),
    ignore = "needs the test bed's Ironic and PostgreSQL: run scripts/test.sh"
)]
async fn concurrent_callbacks_across_instances_are_processed_once_on_postgres() {
    callbacks_processed_once(POSTGRES).await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_mysql)),
    ignore = "needs the test bed's Ironic and MariaDB: run scripts/test.sh"
)]
async fn concurrent_callbacks_across_instances_are_processed_once_on_mariadb() {
    callbacks_processed_once(MARIADB).await;
}

async fn callbacks_processed_once(database: Database) {
    let ironic = Ironic::new();
    let cluster = cluster_on(database, &["a", "b", "c"], "", Some(LEASE_SECONDS)).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    cluster.start(0, &uuid).await;
    // Every instance looks the node up before the first one is done.
    cluster
        .proxy
        .delay(&format!("PATCH /v1/nodes/{uuid}"), Duration::from_secs(1));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..30 {
        let request = cluster.callback(i % 3, &m.data());
        tasks.spawn(async move { request.send_checked().await.unwrap().status().as_u16() });
    }
    let mut statuses = tasks.join_all().await;
    statuses.sort();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
    let status = cluster.wait_for_state(2, &uuid, "finished").await;
    assert_eq!(status["error"], Value::Null);
    assert_eq!(ironic.ports(&uuid).await.len(), 1);
}

/// An instance killed while it processes a node (the leader, `a`): once
/// its lock's lease expires, the instance that leads next fails the node,
/// saying which instance was interrupted, and the lock is free for a new
/// introspection.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn sigkill_of_the_leader_mid_processing_fails_the_node_elsewhere() {
    kill_mid_processing(Database::Sqlite, Some(LEASE_SECONDS), 0).await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_postgres)),
    ignore = "needs the test bed's Ironic and PostgreSQL: run scripts/test.sh"
)]
async fn sigkill_of_the_leader_mid_processing_fails_the_node_elsewhere_on_postgres() {
    kill_mid_processing(POSTGRES, Some(LEASE_SECONDS), 0).await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_mysql)),
    ignore = "needs the test bed's Ironic and MariaDB: run scripts/test.sh"
)]
async fn sigkill_of_the_leader_mid_processing_fails_the_node_elsewhere_on_mariadb() {
    kill_mid_processing(MARIADB, Some(LEASE_SECONDS), 0).await;
}

/// The same with the default lease, killing an instance that does not
/// lead (`c`): the node is failed, and its lock free, within a minute.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn sigkill_mid_processing_frees_the_node_within_a_minute_by_default() {
    kill_mid_processing(Database::Sqlite, None, 2).await;
}

/// Three instances a, b, c (`a` leads, being the first); the node's
/// callback goes to `victim`, which is killed while it processes it.
async fn kill_mid_processing(database: Database, lease: Option<u64>, victim: usize) {
    let ironic = Ironic::new();
    let hosts = ["a", "b", "c"];
    let cluster = cluster_on(database, &hosts, "", lease).await;
    let [witness, other] = match victim {
        0 => [1, 2],
        1 => [2, 0],
        _ => [0, 1],
    };
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    cluster.start(witness, &uuid).await;
    // Processing on the victim stops at its first write to the node.
    let patch = format!("PATCH /v1/nodes/{uuid}");
    cluster.proxy.delay(&patch, Duration::from_secs(120));
    let stuck = cluster.callback(victim, &m.data()).send_checked();
    let stuck = tokio::spawn(stuck);
    eventually(
        "the victim is processing the node",
        Duration::from_secs(20),
        || std::future::ready(cluster.proxy.count(&patch) > 0),
    )
    .await;
    assert_eq!(cluster.status(witness, &uuid).await["state"], "processing");
    let leases = cluster.leases().await;
    let lock = leases
        .iter()
        .find(|l| l.name == format!("node:{uuid}"))
        .expect("the node's lease");
    assert!(
        lock.holder.starts_with(&format!("{}/", hosts[victim])),
        "{leases:?}"
    );

    cluster.instances[victim].signal("KILL");
    let killed = Instant::now();
    let status = eventually(
        "the node failed on another instance",
        Duration::from_secs(60),
        || async {
            let status = cluster.status(other, &uuid).await;
            if status["state"] == "error" {
                Ok(status)
            } else {
                Err(status)
            }
        },
    )
    .await;
    eprintln!(
        "node failed {:?} after the SIGKILL (lock_lease_time {lease:?})",
        killed.elapsed()
    );
    assert_eq!(
        status["error"],
        json!(format!(
            "Introspection was interrupted: inspector instance {} lost its lock on the node \
             while processing (it stopped, or could not reach the database)",
            lock.holder
        ))
    );
    assert!(
        stuck.await.unwrap().is_err(),
        "the killed instance answered"
    );
    let leases = cluster.leases().await;
    assert!(
        leases.iter().all(|l| !l.name.starts_with("node:")),
        "{leases:?}"
    );
    // Free: a new introspection of the node starts.
    cluster.start(other, &uuid).await;
    let logs = cluster.logs();
    assert!(
        logs.iter().any(|l| l.contains("its instance stopped")),
        "{logs:?}"
    );
}

/// Three instances with a one-second clean-up period: the Ironic sync (and
/// the timeouts) run on the leader only, once per period across the
/// cluster, and each timed-out node is failed once.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn periodic_tasks_run_once_per_period_across_instances() {
    periodic_once(Database::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_postgres)),
    ignore = "needs the test bed's Ironic and PostgreSQL: run scripts/test.sh"
)]
async fn periodic_tasks_run_once_per_period_across_instances_on_postgres() {
    periodic_once(POSTGRES).await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_mysql)),
    ignore = "needs the test bed's Ironic and MariaDB: run scripts/test.sh"
)]
async fn periodic_tasks_run_once_per_period_across_instances_on_mariadb() {
    periodic_once(MARIADB).await;
}

async fn periodic_once(database: Database) {
    let ironic = Ironic::new();
    let cluster = cluster_on(
        database,
        &["a", "b", "c"],
        "timeout = 4\nclean_up_period = 1\nleader_election_interval = 1\n",
        Some(LEASE_SECONDS),
    )
    .await;
    let mut nodes = Vec::new();
    for i in 0..3 {
        let uuid = Machine::new().node(&ironic).await;
        cluster.start(i, &uuid).await;
        nodes.push(uuid);
    }
    // Counted over a window of whole periods once every instance runs: one
    // instance lists (about 8 times), not three (about 24).
    let window = Duration::from_secs(8);
    let listings = cluster.ironic_syncs_over(window).await;
    assert!(
        (3..=10).contains(&listings),
        "{listings} listings of Ironic nodes in {window:?}: {:?}",
        cluster
            .proxy
            .calls()
            .iter()
            .map(|c| c.line())
            .collect::<Vec<_>>()
    );
    for uuid in &nodes {
        let status = cluster.wait_for_state(0, uuid, "error").await;
        assert_eq!(status["error"], "Introspection timeout");
    }
    let failures: usize = cluster
        .logs()
        .iter()
        .map(|log| {
            log.lines()
                .filter(|l| {
                    l.contains("Introspection timeout") && l.contains("introspection failed")
                })
                .count()
        })
        .sum();
    assert_eq!(failures, nodes.len(), "{:?}", cluster.logs());
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed's Ironic (scripts/test.sh starts it)"
)]
async fn forty_introspections_spread_over_instances() {
    spread_over_instances(Database::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_postgres)),
    ignore = "needs the test bed's Ironic and PostgreSQL (scripts/test.sh starts them)"
)]
async fn forty_introspections_spread_over_instances_on_postgres() {
    spread_over_instances(POSTGRES).await;
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_mysql)),
    ignore = "needs the test bed's Ironic and MariaDB (scripts/test.sh starts them)"
)]
async fn forty_introspections_spread_over_instances_on_mariadb() {
    spread_over_instances(MARIADB).await;
}

/// A different instance of the three for each request, chosen at random.
fn any_instance() -> usize {
    usize::from(uuid::Uuid::new_v4().as_bytes()[0]) % 3
}

/// Forty introspections on three instances, each request of a node sent to
/// an instance chosen at random: every node finishes without error and
/// Ironic holds what processing wrote. Then a node deleted in Ironic is
/// forgotten by every instance (the leader's clean-up).
async fn spread_over_instances(database: Database) {
    const NODES: usize = 40;
    const AT_ONCE: usize = 8;
    let ironic_url = bed::env("INSPECTOR_TEST_IRONIC_URL");
    // Its client installs the TLS provider every later client needs.
    let ironic = Ironic::at(&ironic_url);
    let cluster = cluster_on(
        database,
        &["a", "b", "c"],
        "clean_up_period = 1\nleader_election_interval = 1\n",
        Some(LEASE_SECONDS),
    )
    .await;
    let mut nodes: Vec<(Machine, String)> = Vec::new();
    while nodes.len() < NODES {
        let mut batch = tokio::task::JoinSet::new();
        for _ in 0..AT_ONCE.min(NODES - nodes.len()) {
            let ironic = Ironic::at(&ironic_url);
            batch.spawn(async move {
                let machine = Machine::new();
                let uuid = machine.node(&ironic).await;
                (machine, uuid)
            });
        }
        nodes.extend(batch.join_all().await);
    }
    for (_, uuid) in &nodes {
        let (code, body) = cluster
            .call(
                any_instance(),
                Method::POST,
                &format!("/v1/introspection/{uuid}?manage_boot=false"),
            )
            .await;
        assert_eq!(code, 202, "start {uuid}: {body}");
    }
    for (_, uuid) in &nodes {
        cluster
            .wait_for_state(any_instance(), uuid, "waiting")
            .await;
    }
    for batch in nodes.chunks(AT_ONCE) {
        let mut posts = tokio::task::JoinSet::new();
        for (machine, uuid) in batch {
            let request = cluster.callback(any_instance(), &machine.data());
            let uuid = uuid.clone();
            posts.spawn(async move {
                let response = request.send_checked().await.unwrap();
                (
                    uuid,
                    response.status().as_u16(),
                    response.text().await.unwrap(),
                )
            });
        }
        for (uuid, code, body) in posts.join_all().await {
            assert_eq!(code, 200, "callback of {uuid}: {body}");
        }
    }
    for (_, uuid) in &nodes {
        let status = cluster
            .wait_for_state(any_instance(), uuid, "finished")
            .await;
        assert_eq!(status["error"], Value::Null, "{status}");
        let node = ironic.node(uuid).await;
        assert_eq!(node["properties"]["memory_mb"], "12288", "{node}");
        assert_eq!(node["properties"]["cpus"], "4", "{node}");
    }
    let leases = cluster.leases().await;
    assert!(leases.iter().all(|l| l.name == "leader"), "{leases:?}");

    let (_, deleted) = &nodes[0];
    ironic.delete_node(deleted).await;
    for instance in 0..3 {
        eventually(
            &format!("instance {instance} forgets {deleted}"),
            Duration::from_secs(30),
            || async {
                let (code, body) = cluster
                    .call(
                        instance,
                        Method::GET,
                        &format!("/v1/introspection/{deleted}"),
                    )
                    .await;
                if code == 404 {
                    Ok(())
                } else {
                    Err(format!("{code} {body}"))
                }
            },
        )
        .await;
    }
    let (_, kept) = &nodes[1];
    assert_eq!(
        cluster.status(any_instance(), kept).await["state"],
        "finished"
    );
}
