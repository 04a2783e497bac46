//! The rules API.

use axum::Extension;
use axum::body::Body;
use axum::extract::State;

use crate::api::path::ApiPath;
use axum::http::StatusCode;
use axum::response::Response;
use inspector_core::api_version::ApiVersion;
use inspector_core::ids::uuid_hex;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::api::body::{self, BodyLimits};
use crate::api::error::ApiError;
use crate::api::links::BaseUrl;
use crate::api::render;
use crate::api::state::AppState;
use crate::domain::{RuleSummaryView, RuleView};

fn links(base: &BaseUrl, uuid: &str) -> Value {
    json!([{"href": base.relative(&format!("/v1/rules/{uuid}")), "rel": "self"}])
}

/// One rule of `GET /v1/rules`, fields in the sorted order of upstream's
/// output. Typed rather than a `Value`: a site may have thousands of rules.
#[derive(Serialize)]
struct RuleSummaryJson<'a> {
    description: Option<&'a str>,
    links: [LinkJson; 1],
    scope: Option<&'a str>,
    uuid: &'a str,
}

#[derive(Serialize)]
struct LinkJson {
    href: String,
    rel: &'static str,
}

#[derive(Serialize)]
struct RuleListJson<'a> {
    rules: Vec<RuleSummaryJson<'a>>,
}

fn summary_json<'a>(rule: &'a RuleSummaryView, base: &BaseUrl) -> RuleSummaryJson<'a> {
    RuleSummaryJson {
        description: rule.description.as_deref(),
        links: [LinkJson {
            href: base.relative(&format!("/v1/rules/{}", rule.uuid)),
            rel: "self",
        }],
        scope: rule.scope.as_deref(),
        uuid: &rule.uuid,
    }
}

/// The full rule: conditions and actions carry their parameters at top level.
fn rule_json(rule: &RuleView, base: &BaseUrl) -> Value {
    let conditions: Vec<Value> = rule
        .conditions
        .iter()
        .map(|c| {
            let mut obj: Map<String, Value> = c.params.clone();
            obj.insert("op".into(), json!(c.op));
            obj.insert("field".into(), json!(c.field));
            obj.insert("multiple".into(), json!(c.multiple));
            obj.insert("invert".into(), json!(c.invert));
            Value::Object(obj)
        })
        .collect();
    let actions: Vec<Value> = rule
        .actions
        .iter()
        .map(|a| {
            let mut obj: Map<String, Value> = a.params.clone();
            obj.insert("action".into(), json!(a.action));
            Value::Object(obj)
        })
        .collect();
    json!({
        "uuid": rule.uuid,
        "description": rule.description,
        "scope": rule.scope,
        "conditions": conditions,
        "actions": actions,
        "links": links(base, &rule.uuid),
    })
}

pub async fn list(State(state): State<AppState>, base: BaseUrl) -> Result<Response, ApiError> {
    let rules = state.inspector().rules().list().await?;
    let rules = rules.iter().map(|r| summary_json(r, &base)).collect();
    Ok(render::json_typed(StatusCode::OK, &RuleListJson { rules }))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    base: BaseUrl,
    request_body: Body,
) -> Result<Response, ApiError> {
    create_rule(state, version, base, request_body, None).await
}

/// `POST /v1/rules/{uuid}`: how openstacksdk creates a rule (upstream
/// answered 405, so the SDK could not create rules there). The path's UUID
/// is the rule's, kept in the form given; a different UUID in the body is
/// refused (the same one in another form is not different).
pub async fn create_with_uuid(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    ApiPath(uuid): ApiPath<String>,
    base: BaseUrl,
    request_body: Body,
) -> Result<Response, ApiError> {
    create_rule(state, version, base, request_body, Some(uuid)).await
}

fn body_limits(state: &AppState) -> BodyLimits {
    BodyLimits {
        max_bytes: usize::try_from(state.inspector().config().default.max_request_body_size)
            .unwrap_or(usize::MAX),
        max_depth: state.inspector().config().processing.max_json_depth as usize,
    }
}

async fn create_rule(
    state: AppState,
    version: ApiVersion,
    base: BaseUrl,
    request_body: Body,
    path_uuid: Option<String>,
) -> Result<Response, ApiError> {
    let limits = body_limits(&state);
    let bytes = body::read_bytes(request_body, limits).await?;
    let mut document = body::parse_json(&bytes, limits)?;
    if let (Some(uuid), Value::Object(fields)) = (path_uuid, &mut document) {
        match fields.get("uuid") {
            Some(Value::String(given)) if !same_uuid(given, &uuid) => {
                return Err(ApiError::bad_request(format!(
                    "The rule UUID {given} does not match the URL's {uuid}"
                )));
            }
            _ => {
                fields.insert("uuid".into(), Value::String(uuid));
            }
        }
    }
    let rule = state.inspector().rules().create(&document).await?;
    // The only version-gated behaviour upstream has.
    let status = if version < ApiVersion::RULES_CREATED_201 {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(render::json(status, &rule_json(&rule, &base)))
}

fn same_uuid(a: &str, b: &str) -> bool {
    a == b || uuid_hex(a).is_some_and(|hex| uuid_hex(b) == Some(hex))
}

/// `POST /v1/rules/evaluate` (1.19): the rules dry run.
pub async fn evaluate(
    State(state): State<AppState>,
    request_body: Body,
) -> Result<Response, ApiError> {
    let limits = body_limits(&state);
    let bytes = body::read_bytes(request_body, limits).await?;
    let document = body::parse_json(&bytes, limits)?;
    let report = state.inspector().rules().evaluate(&document).await?;
    Ok(render::json(StatusCode::OK, &report))
}

pub async fn delete_all(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.inspector().rules().delete_all().await?;
    Ok(render::no_content())
}

pub async fn get(
    State(state): State<AppState>,
    ApiPath(uuid): ApiPath<String>,
    base: BaseUrl,
) -> Result<Response, ApiError> {
    let rule = state.inspector().rules().get(&uuid).await?;
    Ok(render::json(StatusCode::OK, &rule_json(&rule, &base)))
}

pub async fn delete(
    State(state): State<AppState>,
    ApiPath(uuid): ApiPath<String>,
) -> Result<Response, ApiError> {
    state.inspector().rules().delete(&uuid).await?;
    Ok(render::no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed list is byte for byte what the sorted `Value` output was.
    #[test]
    fn the_typed_rule_list_is_the_sorted_json_of_upstream() {
        let base = BaseUrl {
            absolute: "http://127.0.0.1:5050/root".into(),
            prefix: "/root".into(),
        };
        let rules = [
            RuleSummaryView {
                uuid: "7459bf7c-9ff9-43a8-ba9f-48542ecda66c".into(),
                description: Some("quote \" newline \n ünï".into()),
                scope: None,
            },
            RuleSummaryView {
                uuid: "b0d6a2c6-5a43-4a3a-9b86-2d7a7f4a6ad2".into(),
                description: None,
                scope: Some("rack-1".into()),
            },
        ];
        let items: Vec<Value> = rules
            .iter()
            .map(|r| {
                json!({"uuid": r.uuid, "description": r.description, "scope": r.scope,
                       "links": [{"href": base.relative(&format!("/v1/rules/{}", r.uuid)), "rel": "self"}]})
            })
            .collect();
        let expected = render::to_json_bytes(&json!({ "rules": items }));
        let typed = RuleListJson {
            rules: rules.iter().map(|r| summary_json(r, &base)).collect(),
        };
        let mut actual = serde_json::to_vec(&typed).unwrap();
        actual.push(b'\n');
        assert_eq!(
            String::from_utf8(actual).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }
}
