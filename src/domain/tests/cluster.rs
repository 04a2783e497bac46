//! Several instances on one database: each bench here is one instance
//! (its own store connections, lease holder and periodic state) over one
//! SQLite file, one in-memory Ironic and one clock.

use std::sync::Arc;
use std::time::Duration;

use inspector_core::conf::{Config, PxeDriver};
use inspector_core::hooks::Pipeline;
use inspector_core::state::State;
use tempfile::TempDir;

use super::{Bench, ErrorKind, Inspector};
use crate::clock::FakeClock;
use crate::domain::locks::node_lease;
use crate::ironic::fake::FakeIronic;
use crate::store::StoreOptions;

/// The lease of these instances: short, so that expiry is quick to see.
const LEASE_SECONDS: u64 = 1;

struct Cluster {
    instances: Vec<Bench>,
    _database: TempDir,
}

async fn instance(url: &str, host: &str, ironic: &FakeIronic, clock: &Arc<FakeClock>) -> Bench {
    let mut config = Config::default();
    config.pxe_filter.driver = PxeDriver::Noop;
    config.default.host = host.into();
    config.default.lock_lease_time = LEASE_SECONDS;
    let options = StoreOptions {
        max_connections: 2,
        ..StoreOptions::default()
    };
    let store = crate::store::open(url, &options).await.expect("store");
    store.upgrade().await.expect("schema");
    let pxe = crate::pxe_filter::PxeFilter::from_config(&config).expect("pxe filter");
    let (pipeline, _) = Pipeline::load(&config, None).expect("pipeline");
    let inspector = Inspector::with_clock(
        Arc::new(config),
        store,
        ironic.clone(),
        clock.clone(),
        pxe,
        pipeline,
    );
    Bench {
        inspector,
        ironic: ironic.clone(),
        clock: clock.clone(),
        _dir: tempfile::tempdir().expect("temp dir"),
    }
}

/// Instances named after `hosts` on one database.
async fn cluster(hosts: &[&str]) -> Cluster {
    let database = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite:///{}",
        database.path().join("inspector.sqlite").display()
    );
    let ironic = FakeIronic::new();
    let clock = Arc::new(FakeClock::new());
    let mut instances = Vec::new();
    for host in hosts {
        instances.push(instance(&url, host, &ironic, &clock).await);
    }
    Cluster {
        instances,
        _database: database,
    }
}

/// Waits out a lease of [`LEASE_SECONDS`] (with a margin for the
/// database's clock resolution).
async fn outlive_lease() {
    tokio::time::sleep(Duration::from_millis(LEASE_SECONDS * 1000 + 300)).await;
}

/// One leader at a time: the second instance cannot lead while the first
/// holds the lease, only the leader fails timed-out introspections, and
/// leadership moves when the leader stops.
#[tokio::test]
async fn only_the_leader_runs_the_timeouts() {
    let cluster = cluster(&["a", "b"]).await;
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    let uuid = a.node_with_port();
    a.start_unmanaged(&uuid).await;
    a.clock.advance(a.past_timeout(1));

    assert!(a.inspector.periodic().elect().await.unwrap());
    assert!(!b.inspector.periodic().elect().await.unwrap());
    assert!(a.inspector.periodic().is_leader());
    assert!(!b.inspector.periodic().is_leader());
    assert_eq!(
        b.inspector
            .periodic()
            .fail_timed_out_if_leader()
            .await
            .unwrap(),
        0
    );
    assert_eq!(b.state(&uuid).await, State::Waiting);
    assert_eq!(
        a.inspector
            .periodic()
            .fail_timed_out_if_leader()
            .await
            .unwrap(),
        1
    );
    assert_eq!(b.failed_with(&uuid).await, "Introspection timeout");

    // The leader renews its lease: it keeps leading past the first term.
    outlive_lease().await;
    assert!(a.inspector.periodic().elect().await.unwrap());
    assert!(!b.inspector.periodic().elect().await.unwrap());
    // Stopped, it gives the lease up and the other instance takes over.
    a.inspector.shutdown(Duration::from_secs(5)).await;
    assert!(b.inspector.periodic().elect().await.unwrap());
    assert!(b.inspector.periodic().is_leader());
}

/// A node locked by one instance is busy for another: abort there waits
/// its patience and answers 409, and a lone try fails.
#[tokio::test]
async fn a_node_locked_on_one_instance_is_busy_on_another() {
    let cluster = cluster(&["a", "b"]).await;
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    // Renewed, the lock outlives its one-second lease.
    a.inspector.locks().start_renewer();
    let uuid = a.node_with_port();
    a.start_unmanaged(&uuid).await;
    let held = a
        .inspector
        .locks()
        .try_lock(&uuid)
        .await
        .unwrap()
        .expect("free");
    assert!(b.inspector.locks().try_lock(&uuid).await.unwrap().is_none());
    let err = b
        .inspector
        .introspection()
        .abort(&uuid)
        .await
        .expect_err("busy");
    assert_eq!(err.kind, ErrorKind::Conflict, "{err:?}");
    drop(held);
    b.inspector
        .introspection()
        .abort(&uuid)
        .await
        .expect("aborted");
    b.settle().await;
    assert_eq!(b.state(&uuid).await, State::Error);
}

/// An instance that stops while it holds a node mid-step (its lock is
/// never released nor renewed): once the lease expires, the leader takes
/// the lock over and fails the node naming the stopped instance; the lock
/// is then free.
#[tokio::test]
async fn the_leader_fails_nodes_a_stopped_instance_held() {
    let cluster = cluster(&["a", "b"]).await;
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    let uuid = a.node_with_port();
    a.start_unmanaged(&uuid).await;
    let held = a
        .inspector
        .locks()
        .try_lock(&uuid)
        .await
        .unwrap()
        .expect("free");
    a.inspector
        .store()
        .update_state(&uuid, State::Waiting, State::Processing)
        .await
        .unwrap();
    // Killed: nothing runs on its drop.
    std::mem::forget(held);
    let a_holder = a.inspector.locks().holder().to_string();

    let periodic = b.inspector.periodic();
    assert_eq!(periodic.fail_nodes_of_stopped_instances().await.unwrap(), 0);
    assert_eq!(b.state(&uuid).await, State::Processing);
    outlive_lease().await;
    assert_eq!(periodic.fail_nodes_of_stopped_instances().await.unwrap(), 1);
    assert_eq!(
        b.failed_with(&uuid).await,
        format!(
            "Introspection was interrupted: inspector instance {a_holder} lost its lock on the \
             node while processing (it stopped, or could not reach the database)"
        )
    );
    b.settle().await;
    let free = tokio::time::timeout(Duration::from_secs(5), b.inspector.locks().lock(&uuid))
        .await
        .expect("the lock is free")
        .unwrap();
    drop(free);
    // Nothing is left to take over.
    outlive_lease().await;
    assert_eq!(periodic.fail_nodes_of_stopped_instances().await.unwrap(), 0);
}

/// The recovery at start leaves nodes another live instance holds, and
/// fails those whose lock is free or belonged to this instance's previous
/// life (same host name).
#[tokio::test]
async fn the_recovery_at_start_spares_nodes_other_instances_hold() {
    let cluster = cluster(&["a", "b", "b"]).await;
    let [a, b, b_again] = &cluster.instances[..] else {
        unreachable!()
    };
    let mut nodes = (1..=3).map(|i| {
        let uuid = a
            .ironic
            .add_node(serde_json::json!({"name": format!("node-{i}")}));
        a.ironic.add_port(&uuid, &format!("52:54:00:12:34:0{i}"));
        uuid
    });
    let (by_a, by_b, free) = (
        nodes.next().unwrap(),
        nodes.next().unwrap(),
        nodes.next().unwrap(),
    );
    for uuid in [&by_a, &by_b, &free] {
        a.start_unmanaged(uuid).await;
        a.inspector
            .store()
            .update_state(uuid, State::Waiting, State::Processing)
            .await
            .unwrap();
    }
    // The starts release their locks in the background: wait for them.
    let patience = Duration::from_secs(5);
    let held_by_a = a.inspector.locks().lock_within(&by_a, patience).await;
    let held_by_a = held_by_a.unwrap().expect("a takes the node's lock");
    let held_by_b = b.inspector.locks().lock_within(&by_b, patience).await;
    let held_by_b = held_by_b.unwrap().expect("b takes the node's lock");
    // b stops without releasing anything, and starts again.
    std::mem::forget(held_by_b);
    let restarted = b_again.inspector.periodic();
    assert_eq!(restarted.recover_interrupted().await.unwrap(), 2);
    let restart_message =
        "Introspection was interrupted by a restart of inspector while processing";
    assert_eq!(b_again.failed_with(&by_b).await, restart_message);
    assert_eq!(b_again.failed_with(&free).await, restart_message);
    assert_eq!(b_again.state(&by_a).await, State::Processing);
    // Released in the background once the nodes were failed.
    let store = a.inspector.store();
    let leases = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let leases = store.leases("").await.unwrap();
            if leases.len() == 1 {
                return leases;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("only the live instance's lease is left");
    assert_eq!(leases[0].name, node_lease(&by_a));
    drop(held_by_a);
}

/// A task that could not record its node's end (the database was away
/// when it failed or finished) leaves the node in a running state with
/// its lock released: the leader fails such nodes, and spares those a task
/// holds, those waiting for their ramdisk, and those whose lease expired
/// (left to the recovery that names the stopped instance).
#[tokio::test]
async fn the_leader_fails_nodes_left_running_without_their_lock() {
    let cluster = cluster(&["a", "b"]).await;
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    let [stopped, held, left, waiting] = [(); 4].map(|()| a.node_with_port());
    for uuid in [&stopped, &held, &left, &waiting] {
        a.start_unmanaged(uuid).await;
    }
    // The starts release their locks in the background: wait for them.
    let patience = Duration::from_secs(5);
    let processing = |uuid: &String| {
        let uuid = uuid.clone();
        async move {
            let lock = a.inspector.locks().lock_within(&uuid, patience).await;
            let lock = lock.unwrap().expect("a takes the node's lock");
            a.inspector
                .store()
                .update_state(&uuid, State::Waiting, State::Processing)
                .await
                .unwrap();
            lock
        }
    };
    // The task on `stopped` is killed: its lease is neither released nor
    // renewed (nor are the others', taken afterwards: this bench runs no
    // renewer).
    std::mem::forget(processing(&stopped).await);
    outlive_lease().await;
    let held_lock = processing(&held).await;
    // The task on `left` ends without writing the node's next state.
    drop(processing(&left).await);
    let periodic = b.inspector.periodic();
    let failed = tokio::time::timeout(patience, async {
        loop {
            // Until `left`'s lease is released in the background.
            match periodic.fail_nodes_left_running().await.unwrap() {
                0 => tokio::time::sleep(Duration::from_millis(10)).await,
                n => return n,
            }
        }
    })
    .await
    .expect("the node left running is failed");
    assert_eq!(failed, 1);
    assert_eq!(
        b.failed_with(&left).await,
        "Introspection was interrupted while processing: its outcome could not be recorded \
         in the database"
    );
    assert_eq!(b.state(&held).await, State::Processing);
    assert_eq!(b.state(&waiting).await, State::Waiting);
    assert_eq!(b.state(&stopped).await, State::Processing);
    assert_eq!(periodic.fail_nodes_left_running().await.unwrap(), 0);
    assert_eq!(periodic.fail_nodes_of_stopped_instances().await.unwrap(), 1);
    let message = b.failed_with(&stopped).await;
    assert!(
        message.contains("lost its lock on the node while processing"),
        "{message}"
    );
    drop(held_lock);
}
