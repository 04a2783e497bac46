//! Every API route, declared once. The router, each route's policy check and
//! the resources `/v1` lists are all built from [`ROUTES`].
//!
//! Upstream's routes are served at every version from 1.0 to the maximum, as
//! upstream did (the only version-dependent behaviour there, the status of a
//! created rule, lives in its handler). A newer route answers a client
//! asking for an older version as an unknown URL does (OpenStack's
//! convention for microversions), through its `since` version here, before
//! authentication.

use std::collections::BTreeSet;

use std::sync::Arc;

use crate::api::path::ApiPath;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter, on};
use inspector_core::api_version::ApiVersion;

use super::auth::{self, Access, Authenticator, RouteGuard};
use super::error::ApiError;
use super::handlers::{continue_, health, history, introspection, root, rules};
use super::links::BaseUrl;
use super::state::AppState;

/// One method on one path.
pub struct Route {
    /// `GET` routes answer `HEAD` too.
    pub method: Method,
    /// The axum path pattern, also the route's name in metrics.
    pub path: &'static str,
    /// Binds the handler to the method.
    handler: fn(MethodFilter) -> MethodRouter<AppState>,
    /// The policy rule checked under keystone (upstream-behaviour
    /// §api-endpoints; the defaults are in `inspector_core::policy`).
    pub rule: &'static str,
    pub access: Access,
    /// The first API version that has the route.
    pub since: ApiVersion,
    pub part: Part,
}

/// What a route is to the API's description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// An operation of the API, in the OpenAPI document; under `/v1/`, its
    /// first segment is a resource that `/v1` lists.
    Api,
    /// In the OpenAPI document, but not a resource (the document itself).
    Description,
    /// Not part of the API (pages for people): neither documented nor listed.
    Outside,
}

impl Route {
    /// The route's handler, answering its method only.
    pub fn method_router(&self) -> MethodRouter<AppState> {
        let filter = MethodFilter::try_from(self.method.clone())
            .expect("the route table uses standard methods");
        (self.handler)(filter)
    }
}

macro_rules! route {
    ($method:ident $path:literal => $handler:expr, $rule:literal, $access:ident) => {
        route!($method $path => $handler, $rule, $access, since ApiVersion::MIN)
    };
    ($method:ident $path:literal => $handler:expr, $rule:literal, $access:ident, since $since:expr) => {
        route!($method $path => $handler, $rule, $access, since $since, part Api)
    };
    ($method:ident $path:literal => $handler:expr, $rule:literal, $access:ident, since $since:expr, part $part:ident) => {
        Route {
            method: Method::$method,
            path: $path,
            handler: |filter| on(filter, $handler),
            rule: $rule,
            access: Access::$access,
            since: $since,
            part: Part::$part,
        }
    };
}

/// Methods of one path are listed in the order of the `Allow` header a
/// 405 answer carries.
pub static ROUTES: &[Route] = &[
    route!(GET "/" => root::versions, "introspection", Public),
    route!(GET "/{version}" => version_resources, "introspection:version", Public),
    // Read like the version documents; from 1.19, so older clients see no change.
    route!(GET "/v1/openapi.json" => root::openapi, "introspection:version", Public, since OPENAPI, part Description),
    route!(POST "/v1/continue" => continue_::continue_, "introspection:continue", Public),
    route!(GET "/v1/introspection" => introspection::list_statuses, "introspection:status", Authenticated),
    route!(GET "/v1/introspection/{node_id}" => introspection::get_status, "introspection:status", Authenticated),
    route!(POST "/v1/introspection/{node_id}" => introspection::start, "introspection:start", Authenticated),
    route!(POST "/v1/introspection/{node_id}/abort" => introspection::abort, "introspection:abort", Authenticated),
    route!(GET "/v1/introspection/{node_id}/data" => introspection::get_data, "introspection:data", Authenticated),
    route!(GET "/v1/introspection/{node_id}/data/unprocessed" => introspection::get_unprocessed_data, "introspection:data", Authenticated),
    route!(POST "/v1/introspection/{node_id}/data/unprocessed" => introspection::reapply, "introspection:reapply", Authenticated),
    // Past introspections read like the status; their data and diff like the data.
    route!(GET "/v1/introspection/{node_id}/history" => history::list, "introspection:status", Authenticated, since HISTORY),
    route!(GET "/v1/introspection/{node_id}/history/{run_id}/data" => history::data, "introspection:data", Authenticated, since HISTORY),
    route!(GET "/v1/introspection/{node_id}/diff" => history::diff, "introspection:data", Authenticated, since HISTORY),
    route!(GET "/v1/rules" => rules::list, "introspection:rule:get", Authenticated),
    route!(POST "/v1/rules" => rules::create, "introspection:rule:create", Authenticated),
    route!(DELETE "/v1/rules" => rules::delete_all, "introspection:rule:delete", Authenticated),
    route!(GET "/v1/rules/{uuid}" => rules::get, "introspection:rule:get", Authenticated),
    route!(DELETE "/v1/rules/{uuid}" => rules::delete, "introspection:rule:delete", Authenticated),
    // From 1.19 on; below, the handler answers as for an unknown URL.
    route!(POST "/v1/rules/evaluate" => rules::evaluate, "introspection:rule:evaluate", Authenticated, since ApiVersion::RULES_EVALUATE),
    route!(POST "/v1/rules/{uuid}" => rules::create_with_uuid, "introspection:rule:create", Authenticated),
    // Metrics are read-only status, for the same audience.
    route!(GET "/metrics" => health::metrics, "introspection:status", Authenticated),
];

/// The history and diff of introspections.
const HISTORY: ApiVersion = ApiVersion::new(1, 19);
/// The OpenAPI document.
const OPENAPI: ApiVersion = ApiVersion::new(1, 19);

/// Every route of the table, each behind its own authentication and policy
/// check, which therefore runs after routing; a route newer than the
/// version asked for answers first, as an unknown URL does.
pub fn router(authenticator: &Arc<Authenticator>) -> Router<AppState> {
    ROUTES.iter().fold(Router::new(), |router, route| {
        let guard = RouteGuard {
            authenticator: authenticator.clone(),
            rule: route.rule,
            access: route.access,
        };
        let mut handler = route
            .method_router()
            .route_layer(from_fn_with_state(guard, auth::guard));
        if route.since > ApiVersion::MIN {
            handler = handler.route_layer(from_fn_with_state(route.since, since_version));
        }
        router.route(route.path, handler)
    })
}

/// Hides a route from clients asking for a version before `since`.
async fn since_version(State(since): State<ApiVersion>, request: Request, next: Next) -> Response {
    let asked = request.extensions().get::<ApiVersion>().copied();
    if asked.is_some_and(|v| v < since) {
        return super::not_found().await;
    }
    next.run(request).await
}

/// `/{version}`, listing the resources of this table.
async fn version_resources(version: ApiPath<String>, base: BaseUrl) -> Result<Response, ApiError> {
    root::version_resources(version, base, v1_resources()).await
}

/// The resources of `/v1`: the first path segment of its API routes, sorted.
pub fn v1_resources() -> Vec<&'static str> {
    ROUTES
        .iter()
        .filter(|route| route.part == Part::Api)
        .filter_map(|route| route.path.strip_prefix("/v1/"))
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use inspector_core::policy::inspector_defaults;

    use super::*;

    /// The route a request reaches, `HEAD` served by `GET` as axum does.
    fn route_for(method: &Method, path: &str) -> Option<&'static Route> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        ROUTES
            .iter()
            .find(|route| route.method == method && route.path == path)
    }

    #[test]
    fn every_route_has_a_rule_the_policy_defaults_register() {
        let defaults: HashMap<String, String> = inspector_defaults()
            .into_iter()
            .map(|rule| (rule.name, rule.check_str))
            .collect();
        for route in ROUTES {
            let check = defaults.get(route.rule).unwrap_or_else(|| {
                panic!(
                    "{} {}: rule {:?} is not a policy default",
                    route.method, route.path, route.rule
                )
            });
            // `default` denies everything: a route naming it could never be used.
            assert_ne!(route.rule, "default", "{} {}", route.method, route.path);
            // Public routes are exactly those whose rule defaults to the public API.
            assert_eq!(
                route.access == Access::Public,
                check == "rule:public_api",
                "{} {} is {:?} under rule {:?} ({check})",
                route.method,
                route.path,
                route.access,
                route.rule
            );
        }
    }

    #[test]
    fn each_route_keeps_its_policy_rule() {
        let cases = [
            (Method::GET, "/", "introspection"),
            (Method::GET, "/{version}", "introspection:version"),
            (Method::GET, "/v1/openapi.json", "introspection:version"),
            (Method::POST, "/v1/continue", "introspection:continue"),
            (Method::GET, "/v1/introspection", "introspection:status"),
            (
                Method::HEAD,
                "/v1/introspection/{node_id}",
                "introspection:status",
            ),
            (
                Method::POST,
                "/v1/introspection/{node_id}",
                "introspection:start",
            ),
            (
                Method::POST,
                "/v1/introspection/{node_id}/abort",
                "introspection:abort",
            ),
            (
                Method::GET,
                "/v1/introspection/{node_id}/data",
                "introspection:data",
            ),
            (
                Method::GET,
                "/v1/introspection/{node_id}/data/unprocessed",
                "introspection:data",
            ),
            (
                Method::POST,
                "/v1/introspection/{node_id}/data/unprocessed",
                "introspection:reapply",
            ),
            (
                Method::GET,
                "/v1/introspection/{node_id}/history",
                "introspection:status",
            ),
            (
                Method::GET,
                "/v1/introspection/{node_id}/history/{run_id}/data",
                "introspection:data",
            ),
            (
                Method::GET,
                "/v1/introspection/{node_id}/diff",
                "introspection:data",
            ),
            (Method::GET, "/v1/rules", "introspection:rule:get"),
            (Method::GET, "/v1/rules/{uuid}", "introspection:rule:get"),
            (Method::POST, "/v1/rules", "introspection:rule:create"),
            (
                Method::POST,
                "/v1/rules/{uuid}",
                "introspection:rule:create",
            ),
            (Method::DELETE, "/v1/rules", "introspection:rule:delete"),
            (
                Method::DELETE,
                "/v1/rules/{uuid}",
                "introspection:rule:delete",
            ),
            (
                Method::POST,
                "/v1/rules/evaluate",
                "introspection:rule:evaluate",
            ),
            (Method::GET, "/metrics", "introspection:status"),
        ];
        let mut covered = BTreeSet::new();
        for (method, path, rule) in &cases {
            let route = route_for(method, path)
                .unwrap_or_else(|| panic!("{method} {path} is not in the table"));
            assert_eq!(route.rule, *rule, "{method} {path}");
            covered.insert((route.method.as_str(), route.path));
        }
        assert_eq!(covered.len(), ROUTES.len(), "a route has no case here");
        assert!(route_for(&Method::PUT, "/v1/rules").is_none());
    }

    #[test]
    fn the_v1_resources_come_from_the_table() {
        assert_eq!(v1_resources(), ["continue", "introspection", "rules"]);
        for route in ROUTES.iter().filter(|route| route.part == Part::Api) {
            if let Some(rest) = route.path.strip_prefix("/v1/") {
                let resource = rest.split('/').next().unwrap_or(rest);
                assert!(v1_resources().contains(&resource), "{}", route.path);
            }
        }
    }

    #[test]
    fn the_table_builds_a_router_without_overlaps() {
        assert!(router(&Arc::new(Authenticator::Noauth)).has_routes());
    }
}
