//! The rules dry run, `POST /v1/rules/evaluate` (API 1.19), against the
//! real Ironic of the test bed: it reports and never applies.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::bed::Ironic;
use crate::helpers::{TestApp, assert_error, eventually, json_with_status};
use crate::processing::Machine;

const VERSION: &str = "X-OpenStack-Ironic-Inspector-API-Version";
const SCOPE: &str = "dry-run-rack";

async fn evaluate(app: &TestApp, version: &str, body: &Value) -> reqwest::Response {
    app.request(Method::POST, "/v1/rules/evaluate")
        .header(VERSION, version)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// What the dry run must leave alone: the node's Ironic fields rules can
/// change, its traits, and its introspection status.
async fn observed(app: &TestApp, ironic: &Ironic, uuid: &str) -> Value {
    let node = ironic.node(uuid).await;
    let (code, traits) = ironic
        .call(Method::GET, &format!("/nodes/{uuid}/traits"), None)
        .await;
    assert_eq!(code, 200, "{traits}");
    let status = json_with_status(app.get(&format!("/v1/introspection/{uuid}")).await, 200).await;
    json!({
        "extra": node["extra"],
        "properties": node["properties"],
        "driver": node["driver"],
        "provision_state": node["provision_state"],
        "traits": traits,
        "status": status,
    })
}

fn matching_rule() -> Value {
    json!({
        "description": "four CPUs",
        "scope": SCOPE,
        "conditions": [
            {"op": "ge", "field": "inventory.memory.physical_mb", "value": 4096},
            {"op": "eq", "field": "node://properties.inspection_scope", "value": SCOPE},
        ],
        "actions": [
            {"action": "set-attribute", "path": "/extra/cpu_count", "value": "{data[inventory][cpu][count]}"},
            {"action": "add-trait", "name": "CUSTOM_DRY_RUN"},
        ],
    })
}

fn other_rule() -> Value {
    json!({
        "description": "big machines",
        "conditions": [{"op": "eq", "field": "inventory.cpu.count", "value": 64}],
        "actions": [{"action": "set-attribute", "path": "/extra/big", "value": true}],
    })
}

#[tokio::test]
async fn evaluating_a_node_reports_the_stored_rules_and_changes_nothing() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let m = Machine::new();
    let uuid = ironic
        .manageable_node(json!({
            "driver_info": {"ipmi_address": m.bmc},
            "properties": {"inspection_scope": SCOPE},
        }))
        .await;
    app.introspect(&uuid, "?manage_boot=false", &m.data()).await;
    // Stored after the introspection, so they have never run for real.
    let mut uuids = Vec::new();
    for rule in [
        matching_rule(),
        other_rule(),
        json!({"scope": "elsewhere", "conditions": [], "actions": [{"action": "fail", "message": "no"}]}),
    ] {
        let created = json_with_status(app.post_json("/v1/rules", &rule).await, 201).await;
        uuids.push(created["uuid"].clone());
    }
    let before = observed(&app, &ironic, &uuid).await;

    let report =
        json_with_status(evaluate(&app, "1.19", &json!({"node_id": uuid})).await, 200).await;
    let by_uuid = |rule_uuid: &Value| -> Value {
        report["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| &r["uuid"] == rule_uuid)
            .cloned()
            .unwrap_or_else(|| panic!("rule {rule_uuid} missing from {report}"))
    };
    assert_eq!(report["node_id"], json!(uuid));
    assert_eq!(report["error"], Value::Null, "{report}");
    assert_eq!(report["rules"].as_array().unwrap().len(), 3, "{report}");
    assert_eq!(
        by_uuid(&uuids[0]),
        json!({
            "uuid": uuids[0],
            "description": "four CPUs",
            "scope": SCOPE,
            "scope_applies": true,
            "matched": true,
            "conditions": [
                {"op": "ge", "field": "inventory.memory.physical_mb", "multiple": "any",
                 "invert": false, "values": [12288], "result": true},
                {"op": "eq", "field": "node://properties.inspection_scope", "multiple": "any",
                 "invert": false, "values": [SCOPE], "result": true},
            ],
            "actions": [
                {"action": "set-attribute", "effects": [{
                    "call": format!("PATCH /v1/nodes/{uuid}"),
                    "patch": [{"op": "add", "path": "/extra/cpu_count", "value": "4"}],
                    "reset_interfaces": false,
                }]},
                {"action": "add-trait", "effects": [
                    {"call": format!("PUT /v1/nodes/{uuid}/traits/CUSTOM_DRY_RUN")},
                ]},
            ],
            "error": null,
        })
    );
    let other = by_uuid(&uuids[1]);
    assert_eq!(other["matched"], false);
    assert_eq!(
        other["conditions"],
        json!([{"op": "eq", "field": "inventory.cpu.count", "multiple": "any",
                "invert": false, "values": [4], "result": false}])
    );
    assert_eq!(other["actions"], json!([]));
    // Out of scope: not evaluated, so its fail action is not planned either.
    let elsewhere = by_uuid(&uuids[2]);
    assert_eq!(
        (
            &elsewhere["scope_applies"],
            &elsewhere["matched"],
            &elsewhere["actions"]
        ),
        (&json!(false), &json!(false), &json!([]))
    );

    assert_eq!(observed(&app, &ironic, &uuid).await, before);
    let stored = json_with_status(app.get("/v1/rules").await, 200).await;
    assert_eq!(stored["rules"].as_array().unwrap().len(), 3);

    // The real run (reapply) then does what the dry run planned.
    let earlier = json_with_status(app.get(&format!("/v1/introspection/{uuid}")).await, 200).await;
    assert_eq!(app.reapply(&uuid, None).await.status(), 202);
    // Finished after it started: the status can show the new start while the
    // state is still the previous run's `finished`.
    let status = eventually("the reapply finished", Duration::from_secs(30), || async {
        let status =
            json_with_status(app.get(&format!("/v1/introspection/{uuid}")).await, 200).await;
        let done = ["finished", "error"].contains(&status["state"].as_str().unwrap_or(""))
            && status["started_at"] != earlier["started_at"]
            && status["finished_at"].as_str() >= status["started_at"].as_str();
        if done { Ok(status) } else { Err(status) }
    })
    .await;
    assert_eq!(status["error"], Value::Null, "{status}");
    let after = observed(&app, &ironic, &uuid).await;
    assert_eq!(after["extra"]["cpu_count"], "4", "{after}");
    assert_eq!(
        after["traits"]["traits"],
        json!(["CUSTOM_DRY_RUN"]),
        "{after}"
    );
    assert!(after["extra"].get("big").is_none(), "{after}");
    assert_eq!(app.delete("/v1/rules").await.status(), 204);
    ironic.delete_node(&uuid).await;
}

#[tokio::test]
async fn given_rules_are_evaluated_against_given_data_and_not_stored() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let uuid = ironic
        .manageable_node(json!({"properties": {"capabilities": "boot_mode:uefi"}}))
        .await;
    let before = ironic.node(&uuid).await;
    let data = json!({"cpus": 8, "interfaces": {"eth0": {"ip": "10.1.2.3"}}});
    let rules = json!([
        {"conditions": [{"op": "in-net", "field": "interfaces.*.ip", "value": "10.0.0.0/8"}],
         "actions": [
            {"action": "set-capability", "name": "cpus", "value": "{data[cpus]}"},
            {"action": "extend-attribute", "path": "/extra/seen", "value": "{data[cpus]}"},
            {"action": "fail", "message": "stop here"},
            {"action": "remove-trait", "name": "CUSTOM_NEVER"},
         ]},
    ]);

    // With a node: its Ironic document, the given data instead of stored data
    // (this node has none).
    let report = json_with_status(
        evaluate(
            &app,
            "1.19",
            &json!({"node_id": uuid, "data": data, "rules": rules}),
        )
        .await,
        200,
    )
    .await;
    let rule = &report["rules"][0];
    assert_eq!(rule["uuid"], Value::Null);
    assert_eq!(rule["conditions"][0]["values"], json!(["10.1.2.3"]));
    assert_eq!(
        rule["actions"],
        json!([
            {"action": "set-capability", "effects": [{
                "call": format!("PATCH /v1/nodes/{uuid}"),
                "patch": [{"op": "add", "path": "/properties/capabilities", "value": "boot_mode:uefi,cpus:8"}],
                "reset_interfaces": false,
            }]},
            {"action": "extend-attribute", "effects": [{
                "call": format!("PATCH /v1/nodes/{uuid}"),
                "patch": [{"op": "add", "path": "/extra/seen", "value": ["8"]}],
                "reset_interfaces": false,
            }]},
            {"action": "fail", "effects": [{"fail": "stop here"}]},
        ])
    );
    assert_eq!(rule["error"], "stop here");
    assert_eq!(report["error"], "stop here");

    // Data alone: no node, so scoped rules do not apply and node:// fields
    // are null.
    let report = json_with_status(
        evaluate(
            &app,
            "1.19",
            &json!({"data": data, "rules": [
                {"scope": "any", "conditions": [], "actions": [{"action": "fail", "message": "x"}]},
                {"conditions": [{"op": "is-empty", "field": "node://extra"}],
                 "actions": [{"action": "add-trait", "name": "CUSTOM_T"}]},
            ]}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(report["node_id"], Value::Null);
    assert_eq!(report["error"], Value::Null);
    assert_eq!(report["rules"][0]["scope_applies"], false);
    assert_eq!(report["rules"][1]["conditions"][0]["values"], json!([null]));
    assert_eq!(
        report["rules"][1]["actions"],
        json!([{"action": "add-trait", "effects": [{"call": "PUT /v1/nodes/{node_id}/traits/CUSTOM_T"}]}])
    );

    assert_eq!(
        json_with_status(app.get("/v1/rules").await, 200).await,
        json!({"rules": []})
    );
    let after = ironic.node(&uuid).await;
    assert_eq!(
        (&after["extra"], &after["properties"]),
        (&before["extra"], &before["properties"])
    );
    ironic.delete_node(&uuid).await;
}

#[tokio::test]
async fn bad_requests_are_refused_as_rule_creation_refuses_them() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let invalid =
        json!({"conditions": [{"op": "nope", "field": "x"}], "actions": [{"action": "example"}]});
    let created = app.post_json("/v1/rules", &invalid).await;
    assert_eq!(created.status(), 400);
    let message = json_with_status(created, 400).await["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert_error(
        evaluate(&app, "1.19", &json!({"data": {}, "rules": [invalid]})).await,
        400,
        &message,
    )
    .await;
    assert_error(
        evaluate(&app, "1.19", &json!({})).await,
        400,
        "Either node_id or data is required to evaluate rules",
    )
    .await;
    assert_error(
        evaluate(&app, "1.19", &json!({"data": []})).await,
        400,
        "data must be a JSON object",
    )
    .await;
    let missing = uuid::Uuid::new_v4().to_string();
    assert_error(
        evaluate(&app, "1.19", &json!({"node_id": missing})).await,
        404,
        &format!("Node {missing} was not found in Ironic"),
    )
    .await;
    // A node Ironic knows, never introspected: nothing stored to evaluate.
    let uuid = ironic.manageable_node(json!({})).await;
    assert_error(
        evaluate(&app, "1.19", &json!({"node_id": uuid})).await,
        404,
        &format!("Introspection data not found for node {uuid}, processed=True"),
    )
    .await;
    let unstored = TestApp::with_ironic(|c| {
        c.processing.store_data = inspector_core::conf::StoreData::None;
    })
    .await;
    assert_error(
        evaluate(&unstored, "1.19", &json!({"node_id": uuid})).await,
        404,
        "Inspector is not configured to store data, so a node's data cannot be evaluated; \
         pass \"data\" instead.",
    )
    .await;
    ironic.delete_node(&uuid).await;
}

#[tokio::test]
async fn below_1_19_evaluate_is_an_unknown_url() {
    let app = TestApp::spawn().await;
    let unknown = app
        .request(Method::POST, "/v1/no/such/thing")
        .header(VERSION, "1.18")
        .send()
        .await
        .unwrap();
    let expected = json_with_status(unknown, 404).await;
    for version in ["1.0", "1.18"] {
        let response = evaluate(&app, version, &json!({"data": {}})).await;
        assert_eq!(json_with_status(response, 404).await, expected, "{version}");
    }
    assert_eq!(
        json_with_status(app.get("/v1/rules").await, 200).await,
        json!({"rules": []})
    );
}

#[tokio::test]
async fn body_limits_are_those_of_rule_creation() {
    let app = TestApp::spawn_with(|c| {
        c.default.max_request_body_size = 64;
        c.processing.max_json_depth = 4;
    })
    .await;
    // Within the limits, the dry run answers.
    let small = json!({"data": {"a": {}}, "rules": []});
    assert_eq!(
        json_with_status(evaluate(&app, "1.19", &small).await, 200).await,
        json!({"node_id": null, "rules": [], "error": null})
    );
    let oversized = json!({"data": {"padding": "x".repeat(100)}});
    let too_deep = json!({"data": {"a": {"b": {"c": {"d": {}}}}}});
    for body in [oversized, too_deep] {
        let created = app.post_json("/v1/rules", &body).await;
        let (status, expected) = (created.status(), created.text().await.unwrap());
        assert!(status.is_client_error(), "{status} {expected}");
        let response = evaluate(&app, "1.19", &body).await;
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(response.text().await.unwrap(), expected, "{body}");
    }
}
