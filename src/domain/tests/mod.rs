//! Edge cases of the flows against the in-memory Ironic and a clock that
//! only moves when told; the node cache is the real SQLite store on a
//! temporary file. No test bed: these run under plain `cargo test`, in
//! milliseconds (reapply of a busy node waits its 2 s patience).
//!
//! Start, abort and the timeout sweep are here; the callback, rules,
//! reapply, discovery, and statuses with the clean-up have a file each.

use std::sync::Arc;
use std::time::Duration;

use inspector_core::conf::{Config, PxeDriver};
use inspector_core::hooks::Pipeline;
use inspector_core::state::State;
use serde_json::json;
use tempfile::TempDir;

use super::{ErrorKind, Inspector};
use crate::clock::{Clock, FakeClock};
use crate::ironic::fake::{FakeIronic, Op};
use crate::ironic::{IronicApi, IronicError};
use crate::pxe_filter::{IronicPort, SyncInputs};
use crate::store::{NodeRecord, StoreOptions};

struct Bench {
    inspector: Arc<Inspector>,
    ironic: FakeIronic,
    clock: Arc<FakeClock>,
    _dir: TempDir,
}

mod cluster;
mod discovery;
mod processing;
mod reapply;
mod rules;
mod statuses;

async fn bench() -> Bench {
    bench_with(|_| {}).await
}

/// A bench whose configuration `configure` adjusts.
async fn bench_with(configure: impl FnOnce(&mut Config)) -> Bench {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.pxe_filter.driver = PxeDriver::Noop;
    configure(&mut config);
    let url = format!(
        "sqlite:///{}",
        dir.path().join("inspector.sqlite").display()
    );
    let options = StoreOptions {
        max_connections: 2,
        ..StoreOptions::default()
    };
    let store = crate::store::open(&url, &options).await.expect("store");
    store.upgrade().await.expect("schema");
    let pxe = crate::pxe_filter::PxeFilter::from_config(&config).expect("pxe filter");
    let (pipeline, _) = Pipeline::load(&config, None).expect("pipeline");
    let ironic = FakeIronic::new();
    let clock = Arc::new(FakeClock::new());
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
        ironic,
        clock,
        _dir: dir,
    }
}

impl Bench {
    /// A node introspection can start on: `manageable`, with one port.
    fn node_with_port(&self) -> String {
        let uuid = self.ironic.add_node(json!({"name": "node-0"}));
        self.ironic.add_port(&uuid, "52:54:00:12:34:56");
        uuid
    }

    async fn record(&self, uuid: &str) -> Option<NodeRecord> {
        self.inspector.store().get_node(uuid).await.expect("store")
    }

    /// The node's introspection ended in `error`, at the clock's time now;
    /// returns the error recorded.
    async fn failed_with(&self, uuid: &str) -> String {
        let record = self.record(uuid).await.expect("cached");
        assert_eq!(record.state, State::Error);
        assert_eq!(record.finished_at, Some(self.clock.now()));
        record.error.expect("an error recorded")
    }

    fn power(&self, uuid: &str) -> Option<String> {
        self.ironic.power_state(uuid)
    }

    /// Waits until the background steps spawned so far are done.
    async fn settle(&self) {
        tokio::time::timeout(Duration::from_secs(5), async {
            while !self.inspector.background.is_empty() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("background work ends");
    }

    /// Starts without managed boot: the node waits at once.
    async fn start_unmanaged(&self, uuid: &str) {
        self.inspector
            .introspection()
            .start(uuid, false)
            .await
            .expect("started");
        assert_eq!(self.state(uuid).await, State::Waiting);
    }

    async fn state(&self, uuid: &str) -> State {
        self.record(uuid).await.expect("cached").state
    }

    /// `[DEFAULT] timeout` plus `extra` seconds.
    fn past_timeout(&self, extra: i64) -> time::Duration {
        let timeout = i64::try_from(self.inspector.config().default.timeout).unwrap();
        time::Duration::seconds(timeout + extra)
    }

    /// Starts with managed boot and waits for the background steps.
    async fn start_managed(&self, uuid: &str) {
        self.inspector
            .introspection()
            .start(uuid, true)
            .await
            .expect("start accepted");
        self.settle().await;
    }
}

#[tokio::test]
async fn start_of_a_node_ironic_does_not_know_is_not_found() {
    let bench = bench().await;
    let err = bench
        .inspector
        .introspection()
        .start("no-such-node", true)
        .await
        .expect_err("unknown node");
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.message, "Node no-such-node was not found in Ironic");
    assert!(bench.ironic.calls_of(Op::SetPowerState).is_empty());
}

#[tokio::test]
async fn start_while_ironic_does_not_answer_is_unavailable_and_caches_nothing() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    bench.ironic.set_down(true);
    let err = bench
        .inspector
        .introspection()
        .start(&uuid, true)
        .await
        .expect_err("Ironic down");
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err:?}");
    assert!(err.message.contains("unreachable"), "{}", err.message);
    assert_eq!(bench.record(&uuid).await, None);
}

#[tokio::test]
async fn start_of_a_node_failing_power_validation_is_a_bad_request() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    bench
        .ironic
        .fail_power_validation(&uuid, "missing ipmi_address");
    let err = bench
        .inspector
        .introspection()
        .start(&uuid, true)
        .await
        .expect_err("invalid power interface");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(
        err.message,
        "Failed validation of power interface: missing ipmi_address"
    );
    assert_eq!(bench.record(&uuid).await, None);
}

#[tokio::test]
async fn start_of_a_node_locked_in_ironic_fails_it_without_powering_it() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    // Reads work on a locked node: the request is accepted, the background
    // step that changes the node meets the lock.
    bench.ironic.lock_node(&uuid);
    bench.start_managed(&uuid).await;
    let error = bench.failed_with(&uuid).await;
    assert!(
        error.starts_with("Failed to set boot device to PXE: Node ") && error.contains("is locked"),
        "{error}"
    );
    assert!(bench.ironic.calls_of(Op::SetPowerState).is_empty());
    assert_eq!(bench.power(&uuid).as_deref(), Some("power off"));
}

#[tokio::test]
async fn start_without_managed_boot_fails_at_once_when_ports_cannot_be_listed() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    bench.ironic.fail(
        Op::NodePorts,
        IronicError::Server {
            status: 503,
            message: "Service Unavailable".into(),
        },
    );
    let err = bench
        .inspector
        .introspection()
        .start(&uuid, false)
        .await
        .expect_err("ports not listed");
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert!(
        err.message
            .starts_with(&format!("Cannot list the ports of node {uuid}: ")),
        "{}",
        err.message
    );
    assert_eq!(bench.failed_with(&uuid).await, err.message);
}

#[tokio::test]
async fn abort_of_a_waiting_node_powers_it_off_and_ends_in_error() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    bench.start_managed(&uuid).await;
    assert_eq!(bench.state(&uuid).await, State::Waiting);
    assert_eq!(bench.power(&uuid).as_deref(), Some("power on"));
    assert_eq!(bench.ironic.boot_device(&uuid), Some(("pxe".into(), false)));

    bench.clock.advance(time::Duration::seconds(30));
    bench
        .inspector
        .introspection()
        .abort("node-0")
        .await
        .expect("abort accepted");
    bench.settle().await;
    assert_eq!(bench.failed_with(&uuid).await, "Canceled by operator");
    assert_eq!(bench.power(&uuid).as_deref(), Some("power off"));
}

#[tokio::test]
async fn abort_still_ends_the_introspection_when_the_power_off_fails() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    bench.start_managed(&uuid).await;
    bench.ironic.lock_node(&uuid);
    bench.inspector.introspection().abort(&uuid).await.unwrap();
    bench.settle().await;
    assert_eq!(bench.failed_with(&uuid).await, "Canceled by operator");
    assert_eq!(bench.ironic.calls_of(Op::SetPowerState).len(), 2);
    assert_eq!(bench.power(&uuid).as_deref(), Some("power on"));
}

#[tokio::test]
async fn abort_of_a_node_not_under_introspection_is_not_found() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    let err = bench
        .inspector
        .introspection()
        .abort(&uuid)
        .await
        .expect_err("not cached");
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.message, format!("Could not find node {uuid} in cache"));
    // A UUID is not resolved through Ironic.
    assert!(bench.ironic.calls().is_empty());
}

#[tokio::test]
async fn a_waiting_node_times_out_only_once_its_timeout_has_passed() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;

    bench.clock.advance(bench.past_timeout(-1));
    assert_eq!(
        bench.inspector.periodic().fail_timed_out().await.unwrap(),
        0
    );
    assert_eq!(bench.state(&uuid).await, State::Waiting);

    bench.clock.advance(time::Duration::seconds(2));
    assert_eq!(
        bench.inspector.periodic().fail_timed_out().await.unwrap(),
        1
    );
    assert_eq!(bench.failed_with(&uuid).await, "Introspection timeout");
    // Once finished, the next sweep leaves it alone.
    bench.clock.advance(bench.past_timeout(0));
    assert_eq!(
        bench.inspector.periodic().fail_timed_out().await.unwrap(),
        0
    );
}

#[tokio::test]
async fn a_node_busy_at_the_sweep_times_out_at_the_next_one() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    bench.start_unmanaged(&uuid).await;
    bench.clock.advance(bench.past_timeout(1));
    let lock = bench
        .inspector
        .locks()
        .try_lock(&uuid)
        .await
        .expect("store")
        .expect("free");
    assert_eq!(
        bench.inspector.periodic().fail_timed_out().await.unwrap(),
        0
    );
    assert_eq!(bench.state(&uuid).await, State::Waiting);
    drop(lock);
    assert_eq!(
        bench.inspector.periodic().fail_timed_out().await.unwrap(),
        1
    );
}

#[tokio::test]
async fn the_pxe_filter_reads_the_nodes_under_introspection_and_ironics_ports() {
    let bench = bench().await;
    let uuid = bench.node_with_port();
    let port = bench.ironic.add_port(&uuid, "20:00:55:04:01:fe");
    let client_id = "ff:00:00:00:00:00:02:00:00:02:c9:00:00:02:c9:03:00:01:f3:01";
    bench
        .ironic
        .patch_port(
            &port,
            &[json!({"op": "add", "path": "/extra/client-id", "value": client_id})],
            &uuid,
        )
        .await
        .unwrap();
    let inputs = super::pxe_inputs::PxeInputs(&bench.inspector.lifecycle);
    assert!(!inputs.any_active().await.unwrap());

    bench.start_unmanaged(&uuid).await;
    assert!(inputs.any_active().await.unwrap());
    let mut macs = inputs.active_macs().await.unwrap();
    macs.sort();
    assert_eq!(macs, ["20:00:55:04:01:fe", "52:54:00:12:34:56"]);
    let ports = inputs.ironic_ports().await.unwrap();
    assert_eq!(
        ports,
        [
            IronicPort {
                address: "52:54:00:12:34:56".into(),
                client_id: None,
            },
            IronicPort {
                address: "20:00:55:04:01:fe".into(),
                client_id: Some(client_id.into()),
            },
        ]
    );
    bench.ironic.set_down(true);
    let err = inputs.ironic_ports().await.expect_err("Ironic down");
    assert!(err.to_string().contains("unreachable"), "{err}");
}

/// The MAC of the port [`Bench::node_with_port`] gives its node.
const PXE_MAC: &str = "52:54:00:12:34:56";
/// A second NIC of the same machine, with no port in Ironic.
const SECOND_MAC: &str = "52:54:00:ab:cd:ef";

/// A ramdisk document of a machine booted from `pxe_mac` with one more NIC
/// (`second_mac`): 4 CPUs, 12 GiB of memory, a 1000 GiB root disk.
fn document(pxe_mac: &str, second_mac: &str) -> inspector_core::hooks::Data {
    let gib = 1024u64 * 1024 * 1024;
    let doc = json!({
        "boot_interface": format!("01-{}", pxe_mac.replace(':', "-")),
        "inventory": {
            "interfaces": [
                {"name": "eth0", "mac_address": pxe_mac, "ipv4_address": "192.0.2.10"},
                {"name": "eth1", "mac_address": second_mac, "ipv4_address": "192.0.2.11"}
            ],
            "disks": [{"name": "/dev/sda", "model": "Big Disk", "size": 1000 * gib}],
            "cpu": {"count": 4, "architecture": "x86_64"},
            "memory": {"physical_mb": 12288},
            "bmc_address": "192.0.2.200"
        },
        "root_disk": {"name": "/dev/sda", "model": "Big Disk", "size": 1000 * gib},
        "error": null
    });
    match doc {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a JSON object"),
    }
}

impl Bench {
    /// Posts the ramdisk document and waits for the background steps.
    async fn callback(&self, data: inspector_core::hooks::Data) -> super::Result<String> {
        let result = self.inspector.processing().process(data).await;
        self.settle().await;
        result
    }

    /// The node's ports in the fake Ironic, MACs sorted.
    async fn port_macs(&self, uuid: &str) -> Vec<String> {
        let mut macs: Vec<String> = self
            .ironic
            .node_ports(uuid, "address")
            .await
            .expect("ports")
            .iter()
            .map(|p| p.address().to_string())
            .collect();
        macs.sort();
        macs
    }

    /// The node as the fake Ironic has it.
    fn ironic_node(&self, uuid: &str) -> serde_json::Value {
        self.ironic.node(uuid).expect("in Ironic").0
    }

    /// Calls that changed something in Ironic.
    fn changes(&self) -> Vec<crate::ironic::fake::Call> {
        self.ironic
            .calls()
            .into_iter()
            .filter(|c| {
                !matches!(
                    c.op,
                    Op::GetNode
                        | Op::ValidateNode
                        | Op::NodePorts
                        | Op::AllPorts
                        | Op::PortsByAddress
                        | Op::ListNodes
                )
            })
            .collect()
    }
}
