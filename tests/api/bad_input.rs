//! Hostile or broken ramdisk documents: every outcome is a 4xx or a node in
//! `error` with a message — never a 500, a panic, a hung request or a node
//! stuck mid-processing.

use std::time::Duration;

use inspector_core::hooks::addresses::posted_addresses;
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};

use crate::bed::Ironic;
use crate::helpers::{TestApp, assert_error, assert_error_prefix, eventually};
use crate::openapi::SendChecked;
use crate::processing::{Machine, post_continue};

const ALL_HOOKS: [&str; 7] = [
    "accelerators",
    "extra_hardware",
    "lldp_basic",
    "local_link_connection",
    "physnet_cidr_map",
    "raid_device",
    "example",
];

async fn all_hooks_app() -> TestApp {
    TestApp::with_ironic(|c| {
        c.processing
            .processing_hooks
            .extend(ALL_HOOKS.map(String::from));
        c.port_physnet.cidr_map = vec!["1.2.0.0/16:physnet1".into()];
        c.pci_devices.alias =
            vec![r#"{"vendor_id": "8086", "product_id": "1572", "name": "nic"}"#.into()];
    })
    .await
}

/// Restarts introspection of the node and posts `data`; returns the HTTP
/// status once the node has settled (finished or error).
async fn attempt(app: &TestApp, uuid: &str, data: &Value) -> (u16, Value) {
    let r = app
        .request(
            Method::POST,
            &format!("/v1/introspection/{uuid}?manage_boot=0"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "restart: {}", r.text().await.unwrap());
    let response = post_continue(app, data).await;
    let code = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(
        code == 200 || code == 400,
        "status {code} for {data}: {body}"
    );
    assert!(
        body.get("error").is_none_or(|e| e["message"].is_string()),
        "{body}"
    );
    if data.get("error").is_none_or(Value::is_null) {
        assert_repeats_no_posted_address(data, &body);
    }
    let status = eventually(
        &format!("the node settled after {data}"),
        Duration::from_secs(20),
        || async {
            let status: Value = app
                .get(&format!("/v1/introspection/{uuid}"))
                .await
                .json()
                .await
                .unwrap();
            // A 400 before lookup leaves the node waiting: that is fine, the
            // document was never matched to it.
            if status["finished"] == true || (code == 400 && status["state"] == "waiting") {
                Ok(status)
            } else {
                Err(status)
            }
        },
    )
    .await;
    if status["finished"] == true && status["state"] == "error" {
        assert!(
            status["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{status}"
        );
    }
    (code, status)
}

/// Anyone on the provisioning network may post: the answer must not tell
/// them which addresses it saw (the ramdisk's own error text aside).
fn assert_repeats_no_posted_address(posted: &Value, answer: &Value) {
    let Some(posted) = posted.as_object() else {
        return;
    };
    let answer = answer.to_string().to_ascii_lowercase();
    for address in posted_addresses(posted) {
        assert!(
            !answer.contains(&address.to_ascii_lowercase()),
            "the answer repeats the posted {address}: {answer}"
        );
    }
}

/// A document whose interfaces all lack an IP address is refused by
/// `validate_interfaces`: the answer names the interfaces but none of the
/// posted addresses; the node's error, which only an operator reads, keeps
/// upstream's full text.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn a_refused_callback_does_not_repeat_the_posted_addresses() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    let mut data = m.data();
    for iface in data["inventory"]["interfaces"].as_array_mut().unwrap() {
        iface.as_object_mut().unwrap().remove("ipv4_address");
    }
    app.start_introspection(&uuid, "?manage_boot=0").await;
    let response = post_continue(&app, &data).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "The following failures happened during running pre-processing hooks:\n\
         Preprocessing hook validate_interfaces: No suitable interfaces found among \
         the 4 posted (eth1, eth2, eth3, ib0)"
    );
    assert_repeats_no_posted_address(&data, &body);
    let status: Value = app
        .get(&format!("/v1/introspection/{uuid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "error", "{status}");
    let error = status["error"].as_str().unwrap();
    assert!(
        error.contains("No suitable interfaces found in {")
            && error.contains(&format!("'mac': '{}'", m.pxe)),
        "{error}"
    );
}

/// Sets the value at a dotted path (numbers index arrays); false if absent.
fn set_path(doc: &mut Value, path: &str, value: Value) -> bool {
    let mut target = doc;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let next = match part.parse::<usize>() {
            Ok(index) => target.get_mut(index),
            Err(_) => target.get_mut(*part),
        };
        let Some(next) = next else { return false };
        if i == parts.len() - 1 {
            *next = value;
            return true;
        }
        target = next;
    }
    false
}

const KEYS: [&str; 27] = [
    "inventory",
    "inventory.interfaces",
    "inventory.interfaces.0",
    "inventory.interfaces.0.name",
    "inventory.interfaces.0.mac_address",
    "inventory.interfaces.0.ipv4_address",
    "inventory.interfaces.0.lldp",
    "inventory.interfaces.0.lldp.0",
    "inventory.interfaces.3.client_id",
    "inventory.disks",
    "inventory.disks.0",
    "inventory.disks.0.size",
    "inventory.disks.0.name",
    "inventory.cpu",
    "inventory.cpu.count",
    "inventory.cpu.architecture",
    "inventory.memory",
    "inventory.memory.physical_mb",
    "inventory.bmc_address",
    "inventory.bmc_v6address",
    "boot_interface",
    "root_disk",
    "root_disk.size",
    "error",
    "logs",
    "pci_devices",
    "data",
];

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn wrong_types_at_every_key_the_hooks_read() {
    let ironic = Ironic::new();
    let app = all_hooks_app().await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    let mut base = m.data();
    base["pci_devices"] =
        json!([{"vendor_id": "8086", "product_id": "1572", "bus": "0000:01:00.0"}]);
    base["data"] = json!([["cpu", "logical", "number", "4"]]);
    base["lldp_raw"] = json!({});
    base["logs"] = json!("aGVsbG8=");
    let wrong = [json!(null), json!(-1.5), json!("x"), json!([[]]), json!({})];
    let mut outcomes = std::collections::BTreeMap::new();
    for key in KEYS {
        for value in &wrong {
            let mut data = base.clone();
            assert!(
                set_path(&mut data, key, value.clone()),
                "{key} missing from the document"
            );
            let (code, status) = attempt(&app, &uuid, &data).await;
            *outcomes
                .entry((code, status["state"].as_str().unwrap_or("?").to_string()))
                .or_insert(0) += 1;
        }
    }
    // Both kinds of outcome occur: some wrong values are tolerated, others refused.
    assert!(
        outcomes.keys().any(|(c, _)| *c == 200) && outcomes.keys().any(|(c, _)| *c == 400),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn malformed_and_oversized_documents() {
    let app = TestApp::spawn_with(|c| c.processing.max_body_size = 1024 * 1024).await;
    for body in ["", "{", "not json", "{\"a\": }", "[1,2", "\u{0}"] {
        let response = app
            .request(Method::POST, "/v1/continue")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error_prefix(response, 400, "Invalid JSON in request body").await;
    }
    for (body, name) in [
        ("[]", "list"),
        ("42", "int"),
        ("\"x\"", "str"),
        ("null", "NoneType"),
        ("1.5", "float"),
        ("true", "bool"),
    ] {
        let response = app
            .request(Method::POST, "/v1/continue")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(
            response,
            400,
            &format!("Invalid data: expected a JSON object, got {name}"),
        )
        .await;
    }
    let deep = format!("{{\"inventory\": {}{}}}", "[".repeat(100), "]".repeat(100));
    let response = app
        .request(Method::POST, "/v1/continue")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert_error_prefix(
        response,
        400,
        "Invalid JSON: documents may nest at most 25 levels deep",
    )
    .await;
    let huge = format!("{{\"x\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let response = app
        .request(Method::POST, "/v1/continue")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_error_prefix(response, 413, "Request body is larger than the limit").await;
}

#[tokio::test]
async fn huge_arrays_are_processed_in_bounded_time() {
    // The default budget refuses these 300,000 values with a 413; here
    // they are let in to be processed.
    let app = TestApp::spawn_with(|c| c.processing.max_documents_memory = 256).await;
    let mut data = Machine::new().data();
    let interfaces: Vec<Value> = (0..30_000u32)
        .map(|i| json!({"name": format!("eth{i}"), "mac_address": format!("02:00:00:{:02x}:{:02x}:{:02x}", i >> 16, (i >> 8) & 255, i & 255)}))
        .collect();
    data["inventory"]["interfaces"] = Value::Array(interfaces);
    data["inventory"]["disks"] = Value::Array(
        (0..30_000)
            .map(|i| json!({"name": format!("/dev/sd{i}"), "size": i}))
            .collect(),
    );
    let started = std::time::Instant::now();
    let response = post_continue(&app, &data).await;
    assert_error_prefix(
        response,
        400,
        "The following failures happened during running pre-processing hooks:",
    )
    .await;
    // A guard against quadratic work (a quadratic pass took 100 s), not a
    // performance figure: debug builds on a busy machine take 20 s.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn sql_metacharacters_in_macs_and_bmc_addresses_are_just_data() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let m = Machine::new();
    let uuid = m.node(&ironic).await;
    app.start_introspection(&uuid, "?manage_boot=0").await;
    let hostile = [
        "' OR '1'='1",
        "1.2.3.4'; DROP TABLE nodes; --",
        "\" OR \"\"=\"",
        "%' --",
        "x\u{0}y",
    ];
    for value in hostile {
        let mut data = m.data();
        data["inventory"]["bmc_address"] = json!(value);
        data["inventory"]["bmc_v6address"] = json!(value);
        for i in 0..4 {
            data["inventory"]["interfaces"][i]["mac_address"] = json!(value);
        }
        data["boot_interface"] = json!(value);
        assert_error_prefix(
            post_continue(&app, &data).await,
            400,
            "The following failures happened",
        )
        .await;
    }
    // The node is untouched and still findable by its real attributes.
    let status: Value = app
        .get(&format!("/v1/introspection/{uuid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "waiting");
    assert_eq!(post_continue(&app, &m.data()).await.status(), 200);
}

/// A random edit of the document: a key removed, replaced by another JSON
/// value, or a string/number changed.
fn mutation() -> impl Strategy<Value = (usize, u8, Value)> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    (0..KEYS.len(), 0u8..3, value)
}

fn remove_path(doc: &mut Value, path: &str) {
    let (parent, last) = path.rsplit_once('.').unwrap_or(("", path));
    let target = if parent.is_empty() {
        Some(&mut *doc)
    } else {
        parent
            .split('.')
            .try_fold(&mut *doc, |t, p| match p.parse::<usize>() {
                Ok(i) => t.get_mut(i),
                Err(_) => t.get_mut(p),
            })
    };
    match target {
        Some(Value::Object(map)) => {
            map.remove(last);
        }
        Some(Value::Array(items)) => {
            if let Ok(i) = last.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
}

/// Property test over the JSON → lookup → hooks → Ironic path.
#[test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
fn random_edits_never_break_processing() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, uuid, base) = runtime.block_on(async {
        let ironic = Ironic::new();
        let app = all_hooks_app().await;
        let m = Machine::new();
        let uuid = m.node(&ironic).await;
        (app, uuid, m.data())
    });
    let config = ProptestConfig {
        cases: 60,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(edits in prop::collection::vec(mutation(), 1..4))| {
        let mut data = base.clone();
        for (key, kind, value) in edits {
            match kind {
                0 => remove_path(&mut data, KEYS[key]),
                _ => { set_path(&mut data, KEYS[key], value); }
            }
        }
        runtime.block_on(attempt(&app, &uuid, &data));
    });
}

/// Peak resident memory of a process, in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

/// Anyone on the provisioning network may post: bodies at the size limit
/// posted eight at a time wait their turn instead of being held at once
/// (they took the service past 200 MiB), and a body of millions of tiny
/// values, which would take over a GiB parsed, is refused with 413
/// naming the option. Every body the limits allow is answered.
#[tokio::test]
async fn documents_at_the_size_limit_stay_within_the_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::binary::free_port();
    let config = crate::binary::write_config(
        dir.path(),
        port,
        "auth_strategy = noauth\n[ironic]\nauth_type = none\nendpoint_override = http://127.0.0.1:9\n",
    );
    let served = crate::binary::serve(&config, port).await;
    let limit = 16 * 1024 * 1024;
    let mut document = Machine::new().data();
    let padding = limit - document.to_string().len() - 100;
    document["logs"] = json!("A".repeat(padding));
    let large = axum::body::Bytes::from(document.to_string());
    // reqwest gives up on a send the peer leaves unread for 30 s (its
    // TCP_USER_TIMEOUT); bodies waiting their turn stay unread that long
    // in a debug build. The ramdisk's client has no such limit.
    let client = reqwest::Client::builder()
        .tcp_user_timeout(None)
        .build()
        .unwrap();
    let url = served.url("/v1/continue");
    let mut posts = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let request = client.post(&url).body(large.clone());
        posts.spawn(async move { request.send_checked().await.unwrap() });
    }
    while let Some(answer) = posts.join_next().await {
        let answer = answer.unwrap();
        // No node matches: each is processed as far as the lookup.
        assert_eq!(answer.status(), 400, "{:?}", answer.text().await);
    }
    let mut dense = Machine::new().data();
    dense["padding"] = json!(vec![1u8; (limit - 4096) / 2]);
    let answer = client
        .post(&url)
        .body(dense.to_string())
        .send_checked()
        .await;
    let answer = answer.unwrap();
    assert_error_prefix(answer, 413, "The document has 8").await;
    let peak = peak_rss_mib(served.child.id());
    assert!(peak < 128, "peak RSS {peak} MiB");
}
