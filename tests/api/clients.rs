//! The real clients, as users run them: python-ironic-inspector-client
//! through `openstack baremetal introspection ...`, and openstacksdk.

use std::time::Duration;
use tokio::process::Command;

use serde_json::{Value, json};

use crate::bed::{Ironic, env, random_mac};
use crate::helpers::TestApp;
use crate::openapi::checking_proxy;

fn venv_bin(tool: &str) -> String {
    format!("{}/bin/{tool}", env("INSPECTOR_TEST_VENV"))
}

/// Runs `openstack --inspector-url <app> baremetal introspection <args>`,
/// through a proxy that checks the app's answers against the OpenAPI document.
async fn openstack(app: &TestApp, ironic_url: &str, args: &[&str]) -> String {
    let proxy = checking_proxy("127.0.0.1:0", &app.url("")).await;
    let output = Command::new(venv_bin("openstack"))
        .arg("--inspector-url")
        .arg(&proxy.url)
        .args(["baremetal", "introspection"])
        .args(args)
        .env("OS_AUTH_TYPE", "none")
        .env("OS_ENDPOINT", ironic_url)
        .env("no_proxy", "127.0.0.1")
        .output()
        .await
        .expect("openstack CLI in the test venv");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "openstack {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    proxy.assert_answers_passed();
    stdout
}

fn json_out(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
#[cfg_attr(
    not(bed_venv),
    ignore = "needs the test bed (venv-ironic): run scripts/test.sh"
)]
async fn the_cli_manages_rules_from_json_and_yaml_files() {
    let app = TestApp::spawn().await;
    let ironic_url = "http://127.0.0.1:9";
    let json_file = app.dir.path().join("rules.json");
    std::fs::write(
        &json_file,
        json!([
            {"description": "memory check", "conditions": [{"op": "eq", "field": "memory_mb", "value": 1024}],
             "actions": [{"action": "fail", "message": "boom"}]},
            {"description": "scoped", "scope": "rack-1", "actions": [{"action": "set-capability", "name": "x", "value": "y"}]}
        ])
        .to_string(),
    )
    .unwrap();
    let yaml_file = app.dir.path().join("rule.yaml");
    std::fs::write(
        &yaml_file,
        "description: from yaml\nconditions:\n  - op: matches\n    field: data://inventory.cpu.architecture\n    value: 'x86_.*'\n    invert: true\nactions:\n  - action: add-trait\n    name: CUSTOM_YAML\n",
    )
    .unwrap();
    let imported = openstack(
        &app,
        ironic_url,
        &["rule", "import", json_file.to_str().unwrap(), "-f", "json"],
    )
    .await;
    assert_eq!(json_out(&imported).as_array().unwrap().len(), 2);
    openstack(
        &app,
        ironic_url,
        &["rule", "import", yaml_file.to_str().unwrap()],
    )
    .await;

    let listed = json_out(&openstack(&app, ironic_url, &["rule", "list", "-f", "json"]).await);
    let descriptions: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Description"].as_str().unwrap())
        .collect();
    assert_eq!(descriptions, ["memory check", "scoped", "from yaml"]);

    let yaml_uuid = listed[2]["UUID"].as_str().unwrap().to_string();
    let shown = json_out(
        &openstack(
            &app,
            ironic_url,
            &["rule", "show", &yaml_uuid, "-f", "json"],
        )
        .await,
    );
    assert_eq!(shown["description"], "from yaml");
    assert_eq!(shown["conditions"][0]["invert"], true);
    assert_eq!(shown["conditions"][0]["multiple"], "any");
    assert_eq!(
        shown["actions"],
        json!([{"action": "add-trait", "name": "CUSTOM_YAML"}])
    );

    openstack(&app, ironic_url, &["rule", "delete", &yaml_uuid]).await;
    assert_eq!(
        json_out(&openstack(&app, ironic_url, &["rule", "list", "-f", "json"]).await)
            .as_array()
            .unwrap()
            .len(),
        2
    );
    openstack(&app, ironic_url, &["rule", "purge"]).await;
    assert_eq!(
        json_out(&openstack(&app, ironic_url, &["rule", "list", "-f", "json"]).await),
        json!([])
    );
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_venv)),
    ignore = "needs the test bed (Ironic, venv-ironic): run scripts/test.sh"
)]
async fn the_cli_starts_lists_and_shows_statuses() {
    let ironic = Ironic::new();
    let app = TestApp::with_ironic(|_| {}).await;
    let uuid = ironic.manageable_node(json!({})).await;
    ironic.create_port(&uuid, &random_mac()).await;
    let name = ironic.node(&uuid).await["name"]
        .as_str()
        .unwrap()
        .to_string();

    openstack(&app, &ironic.url, &["start", &name]).await;
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;
    let status = json_out(&openstack(&app, &ironic.url, &["status", &name, "-f", "json"]).await);
    assert_eq!(
        (status["state"].clone(), status["finished"].clone()),
        (json!("waiting"), json!(false))
    );
    let listed = json_out(&openstack(&app, &ironic.url, &["list", "-f", "json"]).await);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["UUID"] == uuid.as_str() && s["Finished at"].is_null()),
        "{listed}"
    );

    openstack(&app, &ironic.url, &["abort", &uuid]).await;
    let status = app
        .wait_for_state(&uuid, "error", Duration::from_secs(30))
        .await;
    assert_eq!(status["error"], "Canceled by operator");
}

/// Runs a Python script with openstacksdk against the app (its URL is
/// `sys.argv[1]`: a proxy that checks the app's answers against the OpenAPI
/// document); the script prints one JSON document.
async fn run_sdk_script(app: &TestApp, script: &str) -> Value {
    let proxy = checking_proxy("127.0.0.1:0", &app.url("")).await;
    let printed = run_python(script, std::slice::from_ref(&proxy.url)).await;
    proxy.assert_answers_passed();
    printed
}

/// Runs a Python script of the venv with `args` as `sys.argv[1..]`; the
/// script prints one JSON document.
pub async fn run_python(script: &str, args: &[String]) -> Value {
    let output = Command::new(venv_bin("python"))
        .arg("-c")
        .arg(script)
        .args(args)
        .env("no_proxy", "127.0.0.1")
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    json_out(&String::from_utf8_lossy(&output.stdout))
}

#[tokio::test]
#[cfg_attr(
    not(bed_venv),
    ignore = "needs the test bed (venv-ironic): run scripts/test.sh"
)]
async fn openstacksdk_drives_rules_and_statuses() {
    let app = TestApp::spawn().await;
    let script = r#"
import json, sys
import openstack
conn = openstack.connection.Connection(auth_type="none", baremetal_introspection_endpoint_override=sys.argv[1])
bi = conn.baremetal_introspection
import uuid
rule = bi.create_introspection_rule(uuid=str(uuid.uuid4()), actions=[{"action": "add-trait", "name": "CUSTOM_SDK"}], description="sdk")
rules = [r.description for r in bi.introspection_rules()]
fetched = bi.get_introspection_rule(rule.id)
bi.delete_introspection_rule(rule.id)
print(json.dumps({"rules": rules, "actions": fetched.actions, "left": len(list(bi.introspection_rules())),
                  "statuses": len(list(bi.introspections()))}))
"#;
    let result = run_sdk_script(&app, script).await;
    assert_eq!(
        result,
        json!({"rules": ["sdk"], "actions": [{"action": "add-trait", "name": "CUSTOM_SDK"}], "left": 0, "statuses": 0})
    );
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_venv)),
    ignore = "needs the test bed (Ironic, venv-ironic): run scripts/test.sh"
)]
async fn the_cli_shows_lldp_interfaces_and_saves_data() {
    let ironic = Ironic::new();
    let app =
        TestApp::with_ironic(|c| c.processing.processing_hooks.push("lldp_basic".into())).await;
    let m = crate::processing::Machine::new();
    let uuid = m.node(&ironic).await;
    openstack(&app, &ironic.url, &["start", &uuid]).await;
    app.wait_for_state(&uuid, "waiting", Duration::from_secs(30))
        .await;
    let response = crate::processing::post_continue(&app, &m.data()).await;
    assert_eq!(response.status(), 200);
    app.wait_for_state(&uuid, "finished", Duration::from_secs(30))
        .await;

    let interfaces = json_out(
        &openstack(
            &app,
            &ironic.url,
            &["interface", "list", &uuid, "-f", "json"],
        )
        .await,
    );
    let eth1 = interfaces
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["Interface"] == "eth1")
        .cloned()
        .unwrap_or_else(|| panic!("{interfaces}"));
    assert_eq!(eth1["MAC Address"], m.pxe.as_str());
    assert_eq!(eth1["Switch Chassis ID"], "11:22:33:aa:bb:cc");
    assert_eq!(eth1["Switch Port ID"], "734");
    let shown = json_out(
        &openstack(
            &app,
            &ironic.url,
            &["interface", "show", &uuid, "eth1", "-f", "json"],
        )
        .await,
    );
    assert_eq!(shown["switch_chassis_id"], "11:22:33:aa:bb:cc");
    assert_eq!(shown["switch_port_id"], "734");

    let saved = app.dir.path().join("saved.json");
    openstack(
        &app,
        &ironic.url,
        &["data", "save", &uuid, "--file", saved.to_str().unwrap()],
    )
    .await;
    let stored: Value = app
        .get(&format!("/v1/introspection/{uuid}/data"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&std::fs::read_to_string(&saved).unwrap()).unwrap(),
        stored
    );
    let unprocessed =
        json_out(&openstack(&app, &ironic.url, &["data", "save", &uuid, "--unprocessed"]).await);
    assert_eq!(unprocessed["inventory"], m.data()["inventory"]);
}

/// openstacksdk's documented way to choose a rule's ID, `uuid.uuid4().hex`:
/// the rule it returns, a later fetch, the list and a delete all use that
/// string.
#[tokio::test]
#[cfg_attr(
    not(bed_venv),
    ignore = "needs the test bed (venv-ironic): run scripts/test.sh"
)]
async fn openstacksdk_keeps_a_chosen_hex_rule_id() {
    let app = TestApp::spawn().await;
    let script = r#"
import json, sys, uuid
import openstack
conn = openstack.connection.Connection(auth_type="none", baremetal_introspection_endpoint_override=sys.argv[1])
bi = conn.baremetal_introspection
chosen = uuid.uuid4().hex
rule = bi.create_introspection_rule(id=chosen, actions=[{"action": "add-trait", "name": "CUSTOM_SDK"}])
fetched = bi.get_introspection_rule(chosen)
by_other_form = bi.get_introspection_rule(str(uuid.UUID(chosen)))
listed = [r.id for r in bi.introspection_rules()]
bi.delete_introspection_rule(chosen, ignore_missing=False)
print(json.dumps({"chosen": chosen, "created": rule.id, "fetched": fetched.id,
                  "by_other_form": by_other_form.id, "listed": listed,
                  "left": len(list(bi.introspection_rules()))}))
"#;
    let result = run_sdk_script(&app, script).await;
    let chosen = result["chosen"].as_str().unwrap();
    assert_eq!(chosen.len(), 32, "{result}");
    assert_eq!(
        result,
        json!({"chosen": chosen, "created": chosen, "fetched": chosen, "by_other_form": chosen,
               "listed": [chosen], "left": 0})
    );
}
