//! The rules API (upstream-behaviour §api-rules, §rules-validation).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, assert_error_prefix, json_with_status};

pub fn sample_rule() -> Value {
    json!({
        "conditions": [{"op": "eq", "field": "memory_mb", "value": 1024}],
        "actions": [{"action": "fail", "message": "boom"}],
        "description": "Cool actions",
        "scope": "sniper's scope"
    })
}

pub async fn rule_count(app: &TestApp) -> usize {
    json_with_status(app.get("/v1/rules").await, 200).await["rules"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn crud_round_trip() {
    let app = TestApp::spawn().await;
    assert_eq!(
        json_with_status(app.get("/v1/rules").await, 200).await,
        json!({"rules": []})
    );

    let created = json_with_status(app.post_json("/v1/rules", &sample_rule()).await, 201).await;
    let uuid = created["uuid"].as_str().unwrap().to_string();
    assert!(inspector_core::ids::is_uuid_like(&uuid));
    let href = format!("/v1/rules/{uuid}");
    assert_eq!(
        created,
        json!({
            "uuid": uuid,
            "description": "Cool actions",
            "scope": "sniper's scope",
            "conditions": [{"op": "eq", "field": "memory_mb", "value": 1024, "multiple": "any", "invert": false}],
            "actions": [{"action": "fail", "message": "boom"}],
            "links": [{"href": href, "rel": "self"}]
        })
    );
    assert_eq!(json_with_status(app.get(&href).await, 200).await, created);
    assert_eq!(
        json_with_status(app.get("/v1/rules").await, 200).await,
        json!({"rules": [{"uuid": uuid, "description": "Cool actions", "scope": "sniper's scope", "links": [{"href": href, "rel": "self"}]}]})
    );

    let response = app.delete(&href).await;
    assert_eq!(response.status(), 204);
    assert_eq!(response.text().await.unwrap(), "");
    assert_eq!(rule_count(&app).await, 0);
    assert_error(
        app.get(&href).await,
        404,
        &format!("Rule {uuid} was not found"),
    )
    .await;
    assert_error(
        app.delete(&href).await,
        404,
        &format!("Rule {uuid} was not found"),
    )
    .await;

    for _ in 0..3 {
        json_with_status(app.post_json("/v1/rules", &sample_rule()).await, 201).await;
    }
    assert_eq!(rule_count(&app).await, 3);
    let response = app.delete("/v1/rules").await;
    assert_eq!(response.status(), 204);
    assert_eq!(response.text().await.unwrap(), "");
    assert_eq!(rule_count(&app).await, 0);
    assert_eq!(app.delete("/v1/rules").await.status(), 204);
}

#[tokio::test]
async fn creation_answers_200_below_1_6() {
    let app = TestApp::spawn().await;
    for (version, status) in [("1.0", 200), ("1.5", 200), ("1.6", 201), ("1.18", 201)] {
        let response = app
            .request(Method::POST, "/v1/rules")
            .header("X-OpenStack-Ironic-Inspector-API-Version", version)
            .json(&sample_rule())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "version {version}");
    }
}

#[tokio::test]
async fn rules_are_listed_oldest_first_and_keep_condition_order() {
    let app = TestApp::spawn().await;
    let mut uuids = Vec::new();
    for i in 0..4 {
        let mut rule = sample_rule();
        rule["description"] = json!(format!("rule {i}"));
        rule["conditions"] = json!([
            {"op": "is-empty", "field": "node://extra.x", "invert": true, "multiple": "all"},
            {"op": "in-net", "field": "ipmi_address", "value": "10.0.0.0/8"},
            {"op": "matches", "field": "data://inventory.cpu.architecture", "value": "x86_\\d+", "multiple": "first"}
        ]);
        uuids.push(
            json_with_status(app.post_json("/v1/rules", &rule).await, 201).await["uuid"].clone(),
        );
    }
    let listed = json_with_status(app.get("/v1/rules").await, 200).await;
    let listed: Vec<Value> = listed["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uuid"].clone())
        .collect();
    assert_eq!(listed, uuids);
    let rule = json_with_status(
        app.get(&format!("/v1/rules/{}", uuids[2].as_str().unwrap()))
            .await,
        200,
    )
    .await;
    let ops: Vec<&str> = rule["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["is-empty", "in-net", "matches"]);
    assert_eq!(rule["conditions"][0]["invert"], true);
    assert_eq!(rule["conditions"][0]["multiple"], "all");
    assert_eq!(rule["conditions"][2]["multiple"], "first");
}

#[tokio::test]
async fn given_uuids_are_kept_and_duplicates_conflict() {
    let app = TestApp::spawn().await;
    let mut rule = sample_rule();
    rule["uuid"] = json!("7459bf7c-9ff9-43a8-ba9f-48542ecda66c");
    let created = json_with_status(app.post_json("/v1/rules", &rule).await, 201).await;
    assert_eq!(created["uuid"], "7459bf7c-9ff9-43a8-ba9f-48542ecda66c");
    assert_error(
        app.post_json("/v1/rules", &rule).await,
        409,
        "Rule with UUID 7459bf7c-9ff9-43a8-ba9f-48542ecda66c already exists",
    )
    .await;
    assert_eq!(rule_count(&app).await, 1);
}

#[tokio::test]
async fn bodies_are_read_whatever_the_content_type() {
    let app = TestApp::spawn().await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = app
            .request(Method::POST, "/v1/rules")
            .body(sample_rule().to_string());
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        assert_eq!(
            request.send().await.unwrap().status(),
            201,
            "{content_type:?}"
        );
    }
}

/// Every invalid body: the exact 400 (or its prefix) and nothing written.
#[tokio::test]
async fn invalid_rules_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let fail = json!([{"action": "fail", "message": "x"}]);
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({}),
            "Validation failed for actions: [] should be non-empty",
        ),
        (
            json!({"actions": null}),
            "Validation failed for actions: None is not of type 'array'",
        ),
        (
            json!({"actions": {"a": 1}}),
            "Validation failed for actions: ",
        ),
        (
            json!({"actions": [5]}),
            "Validation failed for actions: 5 is not of type 'object'",
        ),
        (
            json!({"actions": [{"x": 1}]}),
            "Validation failed for actions: 'action' is a required property",
        ),
        (
            json!({"actions": [{"action": "nope"}]}),
            "Validation failed for actions: 'nope' is not one of ['add-trait', 'example', 'extend-attribute', 'fail', 'remove-trait', 'set-attribute', 'set-capability']",
        ),
        (
            json!({"actions": fail, "conditions": [{"op": "eq"}]}),
            "Validation failed for conditions: 'field' is a required property",
        ),
        (
            json!({"actions": fail, "conditions": [{"field": "a"}]}),
            "Validation failed for conditions: 'op' is a required property",
        ),
        (
            json!({"actions": fail, "conditions": [{"op": "foo", "field": "a"}]}),
            "Validation failed for conditions: 'foo' is not one of ['contains', 'eq', 'ge', 'gt', 'in-net', 'is-empty', 'le', 'lt', 'matches', 'ne']",
        ),
        (
            json!({"actions": fail, "conditions": [{"op": "eq", "field": 5, "value": 1}]}),
            "Validation failed for conditions: 5 is not of type 'string'",
        ),
        (
            json!({"actions": fail, "conditions": [{"op": "eq", "field": "a", "value": 1, "multiple": "some"}]}),
            "Validation failed for conditions: 'some' is not one of ['all', 'any', 'first']",
        ),
        (
            json!({"actions": fail, "conditions": [{"op": "eq", "field": "a", "value": 1, "invert": "yes"}]}),
            "Validation failed for conditions: 'yes' is not of type 'boolean'",
        ),
        (
            json!({"actions": fail, "conditions": "x"}),
            "Validation failed for conditions: 'x' is not of type 'array'",
        ),
        (
            json!({"actions": [{"action": "fail"}]}),
            "Invalid parameters for action fail: missing required parameter(s): message",
        ),
        (
            json!({"actions": [{"action": "fail", "message": "m", "extra": 1}]}),
            "Invalid parameters for action fail: unexpected parameter(s): extra",
        ),
        (
            json!({"actions": [{"action": "set-attribute", "path": "/a"}]}),
            "Invalid parameters for action set-attribute: missing required parameter(s): value",
        ),
        (
            json!({"actions": [{"action": "extend-attribute", "path": "/a"}]}),
            "Invalid parameters for action extend-attribute: missing required parameter(s): value",
        ),
        (
            json!({"actions": [{"action": "add-trait"}]}),
            "Invalid parameters for action add-trait: missing required parameter(s): name",
        ),
        (
            json!({"actions": [{"action": "example", "x": 1}]}),
            "Invalid parameters for action example: unexpected parameter(s): x",
        ),
        (
            json!({"actions": fail, "conditions": [{"op": "eq", "field": "a"}]}),
            "Invalid parameters for operator eq: missing required parameter(s): value",
        ),
        (
            json!({"actions": fail, "conditions": [{"op": "eq", "field": "a", "value": null}]}),
            "Invalid parameters for operator eq: missing required parameter(s): value",
        ),
        (
            json!({"actions": fail, "conditions": [{"op": "is-empty", "field": "a", "value": 1}]}),
            "Invalid parameters for operator is-empty: unexpected parameter(s): value",
        ),
        (
            json!({"actions": fail, "conditions": [{"op": "matches", "field": "a", "value": "(("}]}),
            "Invalid parameters for operator matches: invalid regular expression: ",
        ),
        (
            json!({"actions": fail, "conditions": [{"op": "contains", "field": "a", "value": "[a-"}]}),
            "Invalid parameters for operator contains: invalid regular expression: ",
        ),
        (
            json!({"actions": fail, "conditions": [{"op": "in-net", "field": "a", "value": "10.0.0.0/33"}]}),
            "Invalid parameters for operator in-net: invalid value: ",
        ),
        (
            json!({"actions": fail, "conditions": [{"op": "eq", "field": "a[", "value": 1}]}),
            "Unable to parse field JSON path a[: ",
        ),
        (
            json!({"actions": fail, "conditions": [{"op": "eq", "field": "foo://a", "value": 1}]}),
            "Unsupported scheme for field: foo, valid values are node:// or data://",
        ),
        (
            json!({"actions": fail, "uuid": "abc"}),
            "Invalid UUID value",
        ),
        (json!({"actions": fail, "uuid": 5}), "Invalid UUID value"),
        (
            json!({"actions": fail, "uuid": "'; DROP TABLE rules; --"}),
            "Invalid UUID value",
        ),
        (
            json!({"actions": fail, "scope": "s".repeat(256)}),
            "Invalid scope: the length of the scope should be within 255 characters",
        ),
        (
            json!({"actions": fail, "scope": 5}),
            "Invalid scope: expected a string, got int",
        ),
        (
            json!({"actions": fail, "description": {"a": 1}}),
            "Invalid description: expected a string, got dict",
        ),
        (json!([1]), "Invalid data: expected a JSON object, got list"),
        (
            json!("rule"),
            "Invalid data: expected a JSON object, got str",
        ),
    ];
    for (body, message) in cases {
        let response = app.post_json("/v1/rules", &body).await;
        assert_error_prefix(response, 400, message).await;
    }
    assert_eq!(rule_count(&app).await, 0);
}

#[tokio::test]
async fn a_255_character_scope_is_accepted() {
    let app = TestApp::spawn().await;
    let mut rule = sample_rule();
    rule["scope"] = json!("é".repeat(255));
    let created = json_with_status(app.post_json("/v1/rules", &rule).await, 201).await;
    assert_eq!(created["scope"], json!("é".repeat(255)));
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = TestApp::spawn().await;
    for body in ["garbage", "{\"actions\": [", "", "{\"a\":1}}"] {
        let response = app
            .request(Method::POST, "/v1/rules")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error_prefix(response, 400, "Invalid JSON in request body: ").await;
    }
    assert_eq!(rule_count(&app).await, 0);
}

#[tokio::test]
async fn oversized_and_deeply_nested_bodies_are_refused() {
    let app = TestApp::spawn_with(|c| c.default.max_request_body_size = 4096).await;
    let mut rule = sample_rule();
    rule["description"] = json!("x".repeat(5000));
    assert_error_prefix(
        app.post_json("/v1/rules", &rule).await,
        413,
        "Request body is larger than the limit",
    )
    .await;

    let deep = format!("{{\"actions\": {}1{}}}", "[".repeat(30), "]".repeat(30));
    let response = app
        .request(Method::POST, "/v1/rules")
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
    assert_eq!(rule_count(&app).await, 0);
}

#[tokio::test]
async fn hostile_rule_ids_in_paths_are_just_not_found() {
    let app = TestApp::spawn().await;
    json_with_status(app.post_json("/v1/rules", &sample_rule()).await, 201).await;
    for id in [
        "' OR '1'='1",
        "x%27%3B%20DROP%20TABLE%20rules%3B--",
        "%00",
        &"a".repeat(5000),
    ] {
        let response = app.get(&format!("/v1/rules/{id}")).await;
        assert_eq!(response.status(), 404, "{id}");
        let response = app.delete(&format!("/v1/rules/{id}")).await;
        assert_eq!(response.status(), 404, "{id}");
    }
    assert_eq!(rule_count(&app).await, 1);
}

#[tokio::test]
async fn rules_survive_a_restart() {
    let app = TestApp::spawn().await;
    let created = json_with_status(app.post_json("/v1/rules", &sample_rule()).await, 201).await;
    let app = app.restart().await;
    let href = format!("/v1/rules/{}", created["uuid"].as_str().unwrap());
    assert_eq!(json_with_status(app.get(&href).await, 200).await, created);
}

/// openstacksdk posts to the rule's own URL (upstream answered 405).
#[tokio::test]
async fn rules_can_be_created_at_their_own_url() {
    let app = TestApp::spawn().await;
    let uuid = "3f0b5a7e-5e1c-4c2b-9d7a-8e6f5d4c3b2a";
    let created = json_with_status(
        app.post_json(&format!("/v1/rules/{uuid}"), &sample_rule())
            .await,
        201,
    )
    .await;
    assert_eq!(created["uuid"], uuid);
    let mut mismatched = sample_rule();
    mismatched["uuid"] = json!("7459bf7c-9ff9-43a8-ba9f-48542ecda66c");
    assert_error_prefix(
        app.post_json(&format!("/v1/rules/{uuid}"), &mismatched)
            .await,
        400,
        "The rule UUID",
    )
    .await;
    assert_error(
        app.post_json("/v1/rules/not-a-uuid", &sample_rule()).await,
        400,
        "Invalid UUID value",
    )
    .await;
    assert_eq!(rule_count(&app).await, 1);
}

const HEX_ID: &str = "0a5f3c1e9b7d4e2f8c6a1b3d5e7f9a0b";
const HYPHENATED_ID: &str = "0a5f3c1e-9b7d-4e2f-8c6a-1b3d5e7f9a0b";

/// Creates the sample rule at its own URL, as openstacksdk does.
async fn create_at(app: &TestApp, uuid: &str) -> Value {
    json_with_status(
        app.post_json(&format!("/v1/rules/{uuid}"), &sample_rule())
            .await,
        201,
    )
    .await
}

fn rule_uuids(listed: &Value) -> Vec<&str> {
    listed["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uuid"].as_str().unwrap())
        .collect()
}

/// openstacksdk posts a rule chosen as `uuid.uuid4().hex` to its own URL;
/// the answer, later reads and the list keep that string, and the rule is
/// found by either form.
#[tokio::test]
async fn a_chosen_hex_id_is_kept_and_found_by_either_form() {
    let app = TestApp::spawn().await;
    let created = create_at(&app, HEX_ID).await;
    assert_eq!(created["uuid"], HEX_ID);
    assert_eq!(
        created["links"],
        json!([{"href": format!("/v1/rules/{HEX_ID}"), "rel": "self"}])
    );
    for form in [HEX_ID, HYPHENATED_ID, &HYPHENATED_ID.to_ascii_uppercase()] {
        let fetched = json_with_status(app.get(&format!("/v1/rules/{form}")).await, 200).await;
        assert_eq!(fetched, created, "GET by {form}");
    }
    assert_eq!(
        rule_uuids(&json_with_status(app.get("/v1/rules").await, 200).await),
        [HEX_ID]
    );

    // Upper case is kept too; a form longer than the 36 characters of the
    // database column is stored hyphenated.
    let upper = "7459BF7C-9FF9-43A8-BA9F-48542ECDA66C";
    let mut rule = sample_rule();
    rule["uuid"] = json!(upper);
    let created = json_with_status(app.post_json("/v1/rules", &rule).await, 201).await;
    assert_eq!(created["uuid"], upper);
    let fetched = json_with_status(
        app.get("/v1/rules/7459bf7c9ff943a8ba9f48542ecda66c").await,
        200,
    )
    .await;
    assert_eq!(fetched["uuid"], upper);
    rule["uuid"] = json!("urn:uuid:3f0b5a7e-5e1c-4c2b-9d7a-8e6f5d4c3b2a");
    let created = json_with_status(app.post_json("/v1/rules", &rule).await, 201).await;
    assert_eq!(created["uuid"], "3f0b5a7e-5e1c-4c2b-9d7a-8e6f5d4c3b2a");

    // The body may name the path's UUID in the other form.
    let other = "5c9e6a40-2f1b-4d3c-9e8a-7b6c5d4e3f2a";
    let mut rule = sample_rule();
    rule["uuid"] = json!(other);
    let created = json_with_status(
        app.post_json(&format!("/v1/rules/{}", other.replace('-', "")), &rule)
            .await,
        201,
    )
    .await;
    assert_eq!(created["uuid"], other.replace('-', ""));
    assert_error(
        app.get("/v1/rules/0a5f3c1e9b7d4e2f8c6a1b3d5e7f9a0c").await,
        404,
        "Rule 0a5f3c1e9b7d4e2f8c6a1b3d5e7f9a0c was not found",
    )
    .await;
}

#[tokio::test]
async fn rules_are_deleted_by_either_form() {
    let app = TestApp::spawn().await;
    let mut rule = sample_rule();
    rule["uuid"] = json!(HEX_ID);
    let created = json_with_status(app.post_json("/v1/rules", &rule).await, 201).await;
    assert_eq!(created["uuid"], HEX_ID);
    assert_eq!(
        app.delete(&format!("/v1/rules/{HYPHENATED_ID}"))
            .await
            .status(),
        204
    );
    assert_error(
        app.get(&format!("/v1/rules/{HEX_ID}")).await,
        404,
        &format!("Rule {HEX_ID} was not found"),
    )
    .await;

    rule["uuid"] = json!(HYPHENATED_ID);
    json_with_status(app.post_json("/v1/rules", &rule).await, 201).await;
    assert_eq!(
        app.delete(&format!("/v1/rules/{HEX_ID}")).await.status(),
        204
    );
    assert_error(
        app.delete(&format!("/v1/rules/{HEX_ID}")).await,
        404,
        &format!("Rule {HEX_ID} was not found"),
    )
    .await;
    assert_eq!(rule_count(&app).await, 0);
}

#[tokio::test]
async fn the_same_uuid_in_another_form_conflicts() {
    let app = TestApp::spawn().await;
    let created = create_at(&app, HEX_ID).await;
    assert_eq!(created["uuid"], HEX_ID);
    for form in [
        HEX_ID,
        HYPHENATED_ID,
        &HYPHENATED_ID.to_ascii_uppercase(),
        &format!("{{{HEX_ID}}}"),
    ] {
        assert_error(
            app.post_json(&format!("/v1/rules/{form}"), &sample_rule())
                .await,
            409,
            &format!("Rule with UUID {form} already exists"),
        )
        .await;
        let mut rule = sample_rule();
        rule["uuid"] = json!(form);
        assert_error(
            app.post_json("/v1/rules", &rule).await,
            409,
            &format!("Rule with UUID {form} already exists"),
        )
        .await;
    }
    assert_eq!(
        rule_uuids(&json_with_status(app.get("/v1/rules").await, 200).await),
        [HEX_ID]
    );
}
