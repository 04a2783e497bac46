//! Introspection rules run at the end of processing.

use inspector_core::state::State;
use serde_json::{Value, json};

use super::{Bench, PXE_MAC, SECOND_MAC, bench, document};
use crate::ironic::fake::Op;

impl Bench {
    async fn add_rule(&self, rule: Value) {
        self.inspector.rules().create(&rule).await.expect("rule");
    }

    /// Starts the node of [`Bench::node_with_port`] and posts its document.
    async fn introspect(&self) -> (String, crate::domain::Result<String>) {
        let uuid = self.node_with_port();
        self.start_unmanaged(&uuid).await;
        let result = self.callback(document(PXE_MAC, SECOND_MAC)).await;
        (uuid, result)
    }

    /// A second node, started and called back, processed.
    async fn introspect_another(&self) -> String {
        let uuid = self.ironic.add_node(json!({"name": "node-1"}));
        self.ironic.add_port(&uuid, "52:54:00:00:00:09");
        self.start_unmanaged(&uuid).await;
        self.callback(document("52:54:00:00:00:09", "52:54:00:00:00:0a"))
            .await
            .expect("processed");
        uuid
    }
}

#[tokio::test]
async fn a_rule_whose_conditions_match_sets_the_attribute_on_the_node() {
    let bench = bench().await;
    bench
        .add_rule(json!({
            "description": "big memory",
            "conditions": [
                {"op": "eq", "field": "memory_mb", "value": 12288},
                {"op": "eq", "field": "node://properties.cpus", "value": "4"}
            ],
            "actions": [{"action": "set-attribute", "path": "/extra/class", "value": "large"}]
        }))
        .await;
    bench
        .add_rule(json!({
            "description": "small memory",
            "conditions": [{"op": "lt", "field": "memory_mb", "value": 1024}],
            "actions": [{"action": "set-attribute", "path": "/extra/small", "value": true}]
        }))
        .await;
    let (uuid, result) = bench.introspect().await;
    result.expect("processed");
    assert_eq!(bench.state(&uuid).await, State::Finished);
    assert_eq!(bench.ironic_node(&uuid)["extra"], json!({"class": "large"}));
}

#[tokio::test]
async fn a_rule_of_another_scope_is_skipped() {
    let bench = bench().await;
    bench
        .add_rule(json!({
            "scope": "rack-7",
            "conditions": [],
            "actions": [{"action": "set-attribute", "path": "/extra/rack", "value": 7}]
        }))
        .await;
    let (uuid, result) = bench.introspect().await;
    result.expect("processed");
    assert_eq!(bench.ironic_node(&uuid)["extra"], json!({}));

    // The same rule applies to a node of that scope.
    let scoped = bench
        .ironic
        .add_node(json!({"properties": {"inspection_scope": "rack-7"}}));
    bench.ironic.add_port(&scoped, "52:54:00:00:00:07");
    bench.start_unmanaged(&scoped).await;
    bench
        .callback(document("52:54:00:00:00:07", "52:54:00:00:00:08"))
        .await
        .expect("processed");
    assert_eq!(bench.ironic_node(&scoped)["extra"], json!({"rack": 7}));
}

#[tokio::test]
async fn a_failing_rule_action_fails_the_node_with_its_message() {
    let bench = bench().await;
    bench
        .add_rule(json!({
            "conditions": [{"op": "ge", "field": "cpus", "value": 1}],
            "actions": [{"action": "fail", "message": "refused by rule"}]
        }))
        .await;
    let (uuid, result) = bench.introspect().await;
    let err = result.expect_err("rule failed");
    assert_eq!(err.message, "refused by rule");
    assert_eq!(bench.failed_with(&uuid).await, "refused by rule");
    // The hooks' patch went to Ironic before the rules ran; no power-off.
    assert_eq!(bench.ironic.calls_of(Op::PatchNode).len(), 1);
    assert!(bench.ironic.calls_of(Op::SetPowerState).is_empty());
}

/// Compiled rules are kept between callbacks, but a rule another instance
/// replaced in the shared database (same UUID, other content) is the one
/// the next callback runs.
#[tokio::test]
async fn a_rule_replaced_by_another_writer_is_seen_by_the_next_callback() {
    let bench = bench().await;
    let uuid = "5f0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
    let rule = |class: &str| {
        json!({
            "uuid": uuid,
            "conditions": [{"op": "matches", "field": "inventory.cpu.architecture", "value": "x86_.*"}],
            "actions": [{"action": "set-attribute", "path": "/extra/class", "value": class}]
        })
    };
    bench.add_rule(rule("first")).await;
    let (first, result) = bench.introspect().await;
    result.expect("processed");
    assert_eq!(
        bench.ironic_node(&first)["extra"],
        json!({"class": "first"})
    );

    // Another instance deletes the rule and creates it again, under the same
    // UUID, through its own store: this instance's API sees none of it.
    let other = bench.inspector.store();
    assert!(other.delete_rule(uuid).await.expect("deleted"));
    let replaced = inspector_core::rules::parse_rule(&rule("second")).expect("valid");
    let record = crate::domain::rules::to_record(replaced, crate::clock::Clock::now(&*bench.clock));
    other.create_rule(&record).await.expect("created");

    let second = bench.introspect_another().await;
    assert_eq!(
        bench.ironic_node(&second)["extra"],
        json!({"class": "second"})
    );
}

/// A rule written by a service that does not keep the rules' version
/// counter (upstream, sharing the database during a rolling upgrade) is
/// still seen by the next callback: the version also counts the rules.
#[tokio::test]
async fn a_rule_written_behind_the_counter_is_seen_by_the_next_callback() {
    let bench = bench().await;
    bench
        .add_rule(json!({
            "conditions": [{"op": "eq", "field": "inventory.cpu.count", "value": -1}],
            "actions": [{"action": "set-attribute", "path": "/extra/never", "value": "x"}]
        }))
        .await;
    let (first, result) = bench.introspect().await;
    result.expect("processed");
    assert_eq!(bench.ironic_node(&first)["extra"], json!({}));

    // Rows as upstream's SQLAlchemy writes them, the counter untouched.
    let db = rusqlite::Connection::open(bench._dir.path().join("inspector.sqlite")).expect("db");
    let uuid = "6a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
    db.execute(
        "INSERT INTO rules (uuid, created_at, description, disabled, scope) \
         VALUES (?1, '2020-01-01 00:00:00.000000', NULL, 0, NULL)",
        [uuid],
    )
    .expect("rule row");
    db.execute(
        "INSERT INTO rule_conditions (rule, op, multiple, invert, field, params) \
         VALUES (?1, 'matches', 'any', 0, 'inventory.cpu.architecture', '{\"value\": \"x86_.*\"}')",
        [uuid],
    )
    .expect("condition row");
    db.execute(
        "INSERT INTO rule_actions (rule, action, params) \
         VALUES (?1, 'set-attribute', '{\"path\": \"/extra/class\", \"value\": \"upstream\"}')",
        [uuid],
    )
    .expect("action row");

    let second = bench.introspect_another().await;
    assert_eq!(
        bench.ironic_node(&second)["extra"],
        json!({"class": "upstream"})
    );
}
