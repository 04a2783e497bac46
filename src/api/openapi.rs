//! The OpenAPI 3.1 document of the API, served at `GET /v1/openapi.json`.
//!
//! Paths, methods, policy rules, access and the version each operation
//! appeared in come from the route table ([`ROUTES`]); what only a person
//! can say (summaries, parameters, bodies, statuses) is written once here,
//! per route, in [`OPERATIONS`]. A route of the API without an entry here,
//! or an entry without a route, fails this module's tests.

use axum::http::Method;
use inspector_core::api_version::ApiVersion;
use inspector_core::rules::{ActionKind, ConditionOp};
use inspector_core::state::State;
use serde_json::{Map, Value, json};

use super::auth::Access;
use super::links::BaseUrl;
use super::middleware::{
    MAX_VERSION_HEADER, MIN_VERSION_HEADER, REQUEST_ID_HEADER, STANDARD_VERSION_HEADER,
    VERSION_HEADER,
};
use super::routes::{Part, ROUTES, Route};

/// What the document says of one route beyond the route table.
pub struct Operation {
    pub method: Method,
    pub path: &'static str,
    pub id: &'static str,
    pub summary: &'static str,
    /// Query parameters, request body and the responses, as OpenAPI
    /// operation fields; `responses` holds the answers particular to the
    /// operation, the errors every operation can give are added to it.
    build: fn() -> Value,
}

macro_rules! operation {
    ($method:ident $path:literal, $id:literal, $summary:literal, $build:expr) => {
        Operation {
            method: Method::$method,
            path: $path,
            id: $id,
            summary: $summary,
            build: $build,
        }
    };
}

/// One entry per route of the API.
pub static OPERATIONS: &[Operation] = &[
    operation!(GET "/", "listVersions", "The API versions (one major version: v1)", || {
        json!({"responses": {"200": ok("The versions", "Versions")}})
    }),
    operation!(GET "/{version}", "listResources", "The resources of a major version", || {
        json!({"responses": {
            "200": ok("The resources of v1", "Resources"),
            "404": error("Any other version than `v1`: `Version <version> not found.`"),
        }})
    }),
    operation!(GET "/v1/openapi.json", "getOpenApiDocument", "This document", || {
        json!({"responses": {
            "200": {"description": "The OpenAPI document, its `servers` pointing at the URL it was asked through",
                    "headers": response_headers(), "content": json_content(json!({"type": "object"}))},
            "404": error("Asked for a version below 1.19"),
        }})
    }),
    operation!(POST "/v1/continue", "continueIntrospection", "The ramdisk posts what it found (public: the ramdisk has no credentials)", || {
        json!({
            "requestBody": body("The ramdisk's data (ironic-python-agent's `inventory` and the rest)",
                json!({"type": "object"})),
            "responses": {
                "200": ok("Processed; the node's UUID", "ContinueResult"),
                "404": error("No node matches the data, or it is not being introspected"),
                "409": error("The node is busy or not in a state to take data"),
                "413": error("The body is larger than `[processing] max_body_size` or the documents memory"),
            },
        })
    }),
    operation!(GET "/v1/introspection", "listIntrospections", "The introspection statuses, newest first", || {
        json!({
            "parameters": [
                query("marker", "The UUID of the last node of the previous page", json!({"type": "string"})),
                query("limit", "At most this many (at most `[DEFAULT] api_max_limit`)", json!({"type": "integer", "minimum": 0})),
                query("state", "Only nodes in these states (comma-separated)", json!({"type": "string"})),
            ],
            "responses": {
                "200": ok("The statuses", "IntrospectionList"),
                "404": error("The marker names no node"),
            },
        })
    }),
    operation!(GET "/v1/introspection/{node_id}", "getIntrospectionStatus", "A node's introspection status", || {
        json!({"responses": {
            "200": ok("The status", "IntrospectionStatus"),
            "404": error("No introspection of this node"),
        }})
    }),
    operation!(POST "/v1/introspection/{node_id}", "startIntrospection", "Starts introspecting a node", || {
        json!({
            "parameters": [query("manage_boot", "Whether to set PXE boot and power the node on (oslo's boolean spellings; default true)", json!({"type": "string"}))],
            "responses": {
                "202": ok("Started in the background", "Accepted"),
                "404": error("No such node in Ironic"),
                "409": error("The node is locked or in a state that forbids introspection"),
            },
        })
    }),
    operation!(POST "/v1/introspection/{node_id}/abort", "abortIntrospection", "Aborts a running introspection", || {
        json!({"responses": {
            "202": ok("Aborting in the background", "Accepted"),
            "400": error("The introspection is not running, or a bad version header"),
            "404": error("No introspection of this node"),
            "409": error("The node is locked"),
        }})
    }),
    operation!(GET "/v1/introspection/{node_id}/data", "getIntrospectionData", "The processed data of the node's latest introspection", || {
        json!({"responses": {
            "200": data_ok("The stored processed data, as stored"),
            "404": error("No data stored for this node (or data storage is off)"),
        }})
    }),
    operation!(GET "/v1/introspection/{node_id}/data/unprocessed", "getUnprocessedIntrospectionData", "The data the ramdisk posted, before processing", || {
        json!({"responses": {
            "200": data_ok("The stored unprocessed data, as stored"),
            "404": error("No data stored for this node (or data storage is off)"),
        }})
    }),
    operation!(POST "/v1/introspection/{node_id}/data/unprocessed", "reapplyIntrospection", "Processes the stored (or the given) unprocessed data again", || {
        json!({
            "requestBody": {"required": false, "description": "Data replacing the stored unprocessed data (optional)",
                            "content": json_content(json!({"type": "object"}))},
            "responses": {
                "202": ok("Reapplying in the background", "Accepted"),
                "404": error("No introspection or no stored data of this node"),
                "409": error("The node is locked or its introspection is not finished"),
                "413": error("The body is larger than `[processing] max_body_size` or the documents memory"),
            },
        })
    }),
    operation!(GET "/v1/introspection/{node_id}/history", "listIntrospectionHistory", "A node's past introspections, newest first", || {
        json!({"responses": {
            "200": ok("The runs", "HistoryList"),
            "404": error("Unknown node, or asked for a version below 1.19"),
        }})
    }),
    operation!(GET "/v1/introspection/{node_id}/history/{run_id}/data", "getIntrospectionHistoryData", "The processed data of one past introspection", || {
        json!({"responses": {
            "200": data_ok("The run's processed data, as stored"),
            "404": error("Unknown node or run, a run without data, or a version below 1.19"),
        }})
    }),
    operation!(GET "/v1/introspection/{node_id}/diff", "diffIntrospections", "What changed in the hardware between two introspections", || {
        json!({
            "parameters": [
                query("from", "The older run (default: the second newest run with data)", json!({"type": "string"})),
                query("to", "The newer run (default: the newest run with data)", json!({"type": "string"})),
            ],
            "responses": {
                "200": ok("The changes", "HardwareDiff"),
                "404": error("Unknown node or run, or a version below 1.19"),
                "409": error("Fewer than two runs with data, or a run without data"),
            },
        })
    }),
    operation!(GET "/v1/rules", "listRules", "The introspection rules", || {
        json!({"responses": {"200": ok("The rules, without conditions and actions", "RuleList")}})
    }),
    operation!(POST "/v1/rules", "createRule", "Creates an introspection rule", || {
        json!({
            "requestBody": body("The rule", schema_ref("RuleCreate")),
            "responses": {
                "200": ok("Created (versions below 1.6)", "Rule"),
                "201": ok("Created (1.6 and above)", "Rule"),
                "409": error("A rule with this UUID exists"),
                "413": error("The body is larger than `[DEFAULT] max_request_body_size`"),
            },
        })
    }),
    operation!(DELETE "/v1/rules", "deleteRules", "Deletes every rule", || {
        json!({"responses": {"204": no_content("Deleted")}})
    }),
    operation!(GET "/v1/rules/{uuid}", "getRule", "One rule, with its conditions and actions", || {
        json!({"responses": {
            "200": ok("The rule", "Rule"),
            "404": error("No such rule"),
        }})
    }),
    operation!(DELETE "/v1/rules/{uuid}", "deleteRule", "Deletes one rule", || {
        json!({"responses": {
            "204": no_content("Deleted"),
            "404": error("No such rule"),
        }})
    }),
    operation!(POST "/v1/rules/evaluate", "evaluateRules", "Dry run: what the rules would do to a node, done neither to Ironic nor to the database", || {
        json!({
            "requestBody": body("What to evaluate", schema_ref("EvaluateRequest")),
            "responses": {
                "200": ok("The report, one entry per rule in run order", "EvaluateReport"),
                "404": error("Unknown node, no stored data for it, or a version below 1.19"),
                "413": error("The body is larger than `[DEFAULT] max_request_body_size`"),
            },
        })
    }),
    operation!(POST "/v1/rules/{uuid}", "createRuleWithUuid", "Creates a rule with the UUID of the URL (how openstacksdk creates rules)", || {
        json!({
            "requestBody": body("The rule; a `uuid` in it must be the URL's", schema_ref("RuleCreate")),
            "responses": {
                "200": ok("Created (versions below 1.6)", "Rule"),
                "201": ok("Created (1.6 and above)", "Rule"),
                "409": error("A rule with this UUID exists"),
                "413": error("The body is larger than `[DEFAULT] max_request_body_size`"),
            },
        })
    }),
    operation!(GET "/metrics", "getMetrics", "Prometheus metrics", || {
        json!({"responses": {"200": {
            "description": "The metrics in Prometheus' text format",
            "headers": response_headers(),
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }}})
    }),
];

/// The errors any operation can answer, whatever its own: a malformed or
/// unsupported version header (checked before routing), authentication
/// and policy, and the service's own failures.
const COMMON_ERRORS: &[(u16, &str)] = &[
    (
        400,
        "Bad request: a malformed version header, or invalid input",
    ),
    (
        401,
        "Authentication required (keystone, http_basic), or a token refused",
    ),
    (403, "Refused by policy (keystone)"),
    (
        406,
        "The version asked for is outside the supported range (1.0 to the maximum)",
    ),
    (
        500,
        "Internal error (the detail is logged, and shown with `debug = true`)",
    ),
    (
        503,
        "The database, Ironic or the PXE filter cannot serve now, or too many requests wait",
    ),
];

/// The entry of a route, if it has one.
pub fn operation_of(route: &Route) -> Option<&'static Operation> {
    OPERATIONS
        .iter()
        .find(|op| op.method == route.method && op.path == route.path)
}

/// The document, without `servers` (the served copy adds them).
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES.iter().filter(|route| route.part != Part::Outside) {
        // A route without an entry fails this module's tests; the service
        // still serves the rest of the document.
        let Some(operation) = operation_of(route) else {
            continue;
        };
        let item = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        item[route.method.as_str().to_lowercase()] = operation_json(route, operation);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "inspector: the ironic-inspector API",
            "version": ApiVersion::MAX.to_string(),
            "description": INFO,
        },
        "paths": paths,
        "components": components(),
    })
}

/// What a client reads at `GET /v1/openapi.json`: the document with the
/// URL it was asked through (behind a proxy, its prefix) as the server.
pub fn served(base: &BaseUrl) -> Value {
    let mut document = document();
    document["servers"] = json!([{"url": base.absolute}]);
    document
}

const INFO: &str = "A drop-in replacement of OpenStack ironic-inspector: versions 1.0 to 1.18 are \
upstream's API, 1.19 adds the introspection history and diff, the rules dry run and this document.\n\n\
**Versions.** A client asks for a version with `X-OpenStack-Ironic-Inspector-API-Version: 1.N` (or \
`latest`), or `OpenStack-API-Version: baremetal-introspection 1.N`; the first wins when both are \
sent. Without either, the newest version applies. Every response carries \
`X-OpenStack-Ironic-Inspector-API-Minimum-Version` and `...-Maximum-Version`. An operation exists \
from the version in its `x-since`; asked for at an older version it answers 404, as an unknown URL \
does. A malformed version is a 400, one outside the range a 406.\n\n\
**Errors.** Every error is `{\"error\": {\"message\": \"...\"}}`; an unknown URL is a 404 and a \
method a path does not have a 405, with that body.\n\n\
**Authentication** follows `[DEFAULT] auth_strategy`: none (`noauth`), a Keystone token in \
`X-Auth-Token` (`keystone`, with the policy rule in `x-policy-rule`), or HTTP basic (`http_basic`). \
Public operations need no credentials.\n\n\
**Trailing slashes** are ignored, and every `GET` answers `HEAD`.";

fn operation_json(route: &Route, operation: &Operation) -> Value {
    let mut op = (operation.build)();
    op["operationId"] = json!(operation.id);
    op["summary"] = json!(operation.summary);
    op["x-since"] = json!(route.since.to_string());
    op["x-policy-rule"] = json!(route.rule);
    op["security"] = match route.access {
        Access::Public => json!([]),
        Access::Authenticated => json!([{}, {"keystone": []}, {"basic": []}]),
    };
    let mut parameters: Vec<Value> = path_parameters(route.path);
    parameters.push(json!({"$ref": "#/components/parameters/ApiVersion"}));
    parameters.push(json!({"$ref": "#/components/parameters/OpenStackApiVersion"}));
    if let Some(Value::Array(own)) = op.get("parameters") {
        parameters.extend(own.iter().cloned());
    }
    op["parameters"] = Value::Array(parameters);
    let responses = op["responses"]
        .as_object_mut()
        .expect("every operation lists its responses");
    for (status, description) in COMMON_ERRORS {
        responses
            .entry(status.to_string())
            .or_insert_with(|| error(description));
    }
    op
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let description = match name {
                "node_id" => "The node's UUID or name",
                "run_id" => "The past introspection's id (a UUID)",
                "uuid" => "The rule's UUID",
                "version" => "A major version: `v1`",
                _ => "",
            };
            json!({"name": name, "in": "path", "required": true, "description": description,
                   "schema": {"type": "string"}})
        })
        .collect()
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn response_headers() -> Value {
    json!({
        MIN_VERSION_HEADER.as_str(): {"$ref": "#/components/headers/MinimumVersion"},
        MAX_VERSION_HEADER.as_str(): {"$ref": "#/components/headers/MaximumVersion"},
        REQUEST_ID_HEADER.as_str(): {"$ref": "#/components/headers/RequestId"},
    })
}

fn ok(description: &str, schema: &str) -> Value {
    json!({"description": description, "headers": response_headers(),
           "content": json_content(schema_ref(schema))})
}

/// Stored data is whatever object was stored.
fn data_ok(description: &str) -> Value {
    json!({"description": description, "headers": response_headers(),
           "content": json_content(json!({"type": "object"}))})
}

fn no_content(description: &str) -> Value {
    json!({"description": description, "headers": response_headers()})
}

fn error(description: &str) -> Value {
    json!({"description": description, "headers": response_headers(),
           "content": json_content(schema_ref("Error"))})
}

fn body(description: &str, schema: Value) -> Value {
    json!({"required": true, "description": description, "content": json_content(schema)})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn string_or_null() -> Value {
    json!({"type": ["string", "null"]})
}

/// A closed object: every property listed, `required` those always there.
fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties,
           "additionalProperties": false})
}

fn components() -> Value {
    json!({
        "securitySchemes": {
            "keystone": {"type": "apiKey", "in": "header", "name": "X-Auth-Token",
                         "description": "A Keystone token (`auth_strategy = keystone`)"},
            "basic": {"type": "http", "scheme": "basic",
                      "description": "`auth_strategy = http_basic`, users from `http_basic_auth_user_file`"},
        },
        "parameters": {
            "ApiVersion": {"name": VERSION_HEADER.as_str(), "in": "header", "required": false,
                "description": "The API version asked for: `1.N` or `latest`; absent, the newest",
                "schema": {"type": "string"}},
            "OpenStackApiVersion": {"name": STANDARD_VERSION_HEADER.as_str(), "in": "header", "required": false,
                "description": "The same as `baremetal-introspection 1.N`; the legacy header wins when both are sent",
                "schema": {"type": "string"}},
        },
        "headers": {
            "MinimumVersion": {"required": true, "description": "The oldest version served", "schema": {"type": "string"}},
            "MaximumVersion": {"required": true, "description": "The newest version served", "schema": {"type": "string"}},
            "RequestId": {"required": true, "description": "`req-<uuid>`, in the service's log lines too", "schema": {"type": "string"}},
        },
        "schemas": schemas(),
    })
}

/// Every schema, by name.
fn schemas() -> Value {
    let mut all = Map::new();
    for group in [basic_schemas(), rule_schemas(), evaluate_schemas()] {
        if let Value::Object(map) = group {
            all.extend(map);
        }
    }
    Value::Object(all)
}

fn basic_schemas() -> Value {
    let states: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
    let timestamp = json!({"type": ["string", "null"], "description": "UTC, ISO 8601 without a zone, as Python's isoformat"});
    json!({
            "Error": object(&["error"], json!({
                "error": object(&["message"], json!({"message": {"type": "string"}})),
            })),
            "Link": object(&["href", "rel"], json!({"href": {"type": "string"}, "rel": {"type": "string"}})),
            "Links": {"type": "array", "items": schema_ref("Link")},
            "Versions": object(&["versions"], json!({
                "versions": {"type": "array", "items": object(&["id", "status", "links"], json!({
                    "id": {"type": "string"}, "status": {"type": "string"}, "links": schema_ref("Links"),
                }))},
            })),
            "Resources": object(&["resources"], json!({
                "resources": {"type": "array", "items": object(&["name", "links"], json!({
                    "name": {"type": "string"}, "links": schema_ref("Links"),
                }))},
            })),
            "Accepted": {"type": "object", "properties": {}, "additionalProperties": false,
                         "description": "Always `{}`"},
            "ContinueResult": object(&["uuid"], json!({"uuid": {"type": "string"}})),
            "IntrospectionStatus": object(
                &["uuid", "state", "finished", "error", "started_at", "finished_at", "links"],
                json!({
                    "uuid": {"type": "string"},
                    "state": {"type": "string", "enum": states},
                    "finished": {"type": "boolean"},
                    "error": string_or_null(),
                    "started_at": timestamp,
                    "finished_at": timestamp,
                    "links": schema_ref("Links"),
                }),
            ),
            "IntrospectionList": object(&["introspection"], json!({
                "introspection": {"type": "array", "items": schema_ref("IntrospectionStatus")},
            })),
            "HistoryRun": object(
                &["id", "state", "error", "started_at", "finished_at", "links"],
                json!({
                    "id": {"type": "string"},
                    "state": {"type": "string", "enum": ["finished", "error"]},
                    "error": string_or_null(),
                    "started_at": timestamp,
                    "finished_at": timestamp,
                    "links": schema_ref("Links"),
                }),
            ),
            "HistoryList": object(&["history"], json!({
                "history": {"type": "array", "items": schema_ref("HistoryRun")},
            })),
            "HardwareChange": object(&["component", "change", "old", "new"], json!({
                "component": {"type": "string", "enum": ["cpu", "memory", "disks", "interfaces", "bmc", "system"]},
                "change": {"type": "string", "enum": ["added", "removed", "changed"]},
                "id": {"type": "string", "description": "Which disk (`serial:`, `wwn:` or `name:`) or interface (its MAC)"},
                "field": {"type": "string"},
                "old": {"description": "The whole item when added or removed, else the old value"},
                "new": {},
            })),
            "HardwareDiff": object(&["from", "to", "changes"], json!({
                "from": {"type": "string"}, "to": {"type": "string"},
                "changes": {"type": "array", "items": schema_ref("HardwareChange")},
            })),
    })
}

fn rule_schemas() -> Value {
    let ops: Vec<&str> = ConditionOp::ALL.iter().map(|op| op.name()).collect();
    let actions: Vec<&str> = ActionKind::ALL.iter().map(|a| a.name()).collect();
    let multiple = json!({"type": "string", "enum": MULTIPLE});
    json!({
            "Condition": {
                "type": "object", "required": ["op", "field"],
                "description": "The operator's parameters (`value`, ...) sit beside these",
                "properties": {
                    "op": {"type": "string", "enum": ops},
                    "field": {"type": "string", "description": "A JSON path in the data, or `node://`/`data://` followed by one"},
                    "multiple": multiple,
                    "invert": {"type": "boolean"},
                },
            },
            "Action": {
                "type": "object", "required": ["action"],
                "description": "The action's parameters sit beside `action`",
                "properties": {"action": {"type": "string", "enum": actions}},
            },
            "RuleCreate": {
                "type": "object", "required": ["actions"],
                "properties": {
                    "uuid": {"type": "string"},
                    "description": string_or_null(),
                    "scope": string_or_null(),
                    "conditions": {"type": "array", "items": schema_ref("Condition")},
                    "actions": {"type": "array", "items": schema_ref("Action"), "minItems": 1},
                },
            },
            "Rule": object(&["uuid", "description", "scope", "conditions", "actions", "links"], json!({
                "uuid": {"type": "string"},
                "description": string_or_null(),
                "scope": string_or_null(),
                "conditions": {"type": "array", "items": {"allOf": [schema_ref("Condition")],
                                                          "required": ["multiple", "invert"]}},
                "actions": {"type": "array", "items": schema_ref("Action")},
                "links": schema_ref("Links"),
            })),
            "RuleSummary": object(&["uuid", "description", "scope", "links"], json!({
                "uuid": {"type": "string"},
                "description": string_or_null(),
                "scope": string_or_null(),
                "links": schema_ref("Links"),
            })),
            "RuleList": object(&["rules"], json!({
                "rules": {"type": "array", "items": schema_ref("RuleSummary")},
            })),
            "EvaluateRequest": object(&[], json!({
                "node_id": {"type": "string", "description": "A node (UUID or name): its Ironic node, read only, and its latest stored processed data"},
                "data": {"type": "object", "description": "Processed data to evaluate against (instead of the stored data)"},
                "rules": {"type": "array", "items": schema_ref("RuleCreate"),
                          "description": "Rules to evaluate, validated and never stored (default: the stored rules)"},
            })),
    })
}

fn evaluate_schemas() -> Value {
    let ops: Vec<&str> = ConditionOp::ALL.iter().map(|op| op.name()).collect();
    let actions: Vec<&str> = ActionKind::ALL.iter().map(|a| a.name()).collect();
    let multiple = json!({"type": "string", "enum": MULTIPLE});
    json!({
            "Effect": {"oneOf": [
                object(&["call", "patch", "reset_interfaces"], json!({
                    "call": {"type": "string", "description": "`PATCH /v1/nodes/<uuid>`"},
                    "patch": {"type": "array", "items": {"type": "object"}},
                    "reset_interfaces": {"type": "boolean"},
                })),
                object(&["call"], json!({"call": {"type": "string", "description": "`PUT` or `DELETE /v1/nodes/<uuid>/traits/<name>`"}})),
                object(&["fail"], json!({"fail": {"type": "string", "description": "The error the node would get"}})),
            ]},
            "RuleTrace": object(
                &["uuid", "description", "scope", "scope_applies", "matched", "conditions", "actions", "error"],
                json!({
                    "uuid": string_or_null(),
                    "description": string_or_null(),
                    "scope": string_or_null(),
                    "scope_applies": {"type": "boolean"},
                    "matched": {"type": "boolean"},
                    "conditions": {"type": "array", "items": object(
                        &["op", "field", "multiple", "invert", "values", "result"],
                        json!({
                            "op": {"type": "string", "enum": ops},
                            "field": {"type": "string"},
                            "multiple": multiple,
                            "invert": {"type": "boolean"},
                            "values": {"type": "array", "description": "What the field's path found"},
                            "result": {"type": "boolean"},
                        }),
                    )},
                    "actions": {"type": "array", "items": object(&["action", "effects"], json!({
                        "action": {"type": "string", "enum": actions},
                        "effects": {"type": "array", "items": schema_ref("Effect")},
                    }))},
                    "error": string_or_null(),
                }),
            ),
            "EvaluateReport": object(&["node_id", "rules", "error"], json!({
                "node_id": string_or_null(),
                "rules": {"type": "array", "items": schema_ref("RuleTrace")},
                "error": string_or_null(),
            })),
    })
}

/// The spellings of a condition's `multiple`.
const MULTIPLE: [&str; 3] = ["any", "all", "first"];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use inspector_core::rules::Multiple;

    use super::*;

    #[test]
    fn every_api_route_is_documented_and_every_operation_has_a_route() {
        for route in ROUTES.iter().filter(|route| route.part != Part::Outside) {
            assert!(
                operation_of(route).is_some(),
                "{} {} is not in the OpenAPI document: add it to OPERATIONS in src/api/openapi.rs, \
                 or mark the route `part Outside` in the route table if it is not part of the API",
                route.method,
                route.path
            );
        }
        for op in OPERATIONS {
            let route = ROUTES
                .iter()
                .find(|route| route.method == op.method && route.path == op.path);
            assert!(
                route.is_some_and(|route| route.part != Part::Outside),
                "the OpenAPI operation {} {} has no API route",
                op.method,
                op.path
            );
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let ids: BTreeSet<&str> = OPERATIONS.iter().map(|op| op.id).collect();
        assert_eq!(ids.len(), OPERATIONS.len());
    }

    #[test]
    fn the_document_has_each_route_with_its_version_access_and_rule() {
        let doc = document();
        let documented = ROUTES.iter().filter(|r| r.part != Part::Outside);
        for route in documented {
            let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
            assert_eq!(op["x-since"], route.since.to_string(), "{}", route.path);
            assert_eq!(op["x-policy-rule"], route.rule, "{}", route.path);
            assert_eq!(
                op["security"] == json!([]),
                route.access == Access::Public,
                "{}",
                route.path
            );
            let responses = op["responses"].as_object().unwrap();
            for (status, _) in COMMON_ERRORS {
                assert!(responses.contains_key(&status.to_string()));
            }
        }
        assert_eq!(
            doc["paths"]["/v1/rules/evaluate"]["post"]["x-since"],
            "1.19"
        );
        assert_eq!(doc["paths"]["/v1/rules"]["get"]["x-since"], "1.0");
    }

    #[test]
    fn every_reference_resolves() {
        fn refs(value: &Value, found: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::String(target)) = map.get("$ref") {
                        found.push(target.clone());
                    }
                    map.values().for_each(|v| refs(v, found));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
                _ => {}
            }
        }
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for target in found {
            let pointer = target.strip_prefix('#').expect("a local reference");
            assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
        }
    }

    #[test]
    fn the_multiple_spellings_are_the_rules_own() {
        for name in MULTIPLE {
            assert!(Multiple::from_name(name).is_some(), "{name}");
        }
    }
}
