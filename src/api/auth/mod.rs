//! Authentication and authorization (upstream-behaviour §auth). Two layers, both attached
//! after routing (as upstream checks inside each endpoint, so an unknown URL
//! is a 404 even without credentials): [`require_auth`] on the protected
//! routes, [`public_policy`] on `/`, `/{version}` and `/v1/continue`, which
//! need no identity but, under keystone, still obey their policy rule.
//! Policy applies to keystone only: `noauth` and `http_basic` let any
//! (authenticated) caller do everything, as upstream.

mod basic;
mod keystone;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

pub use basic::{BasicAuth, parse_htpasswd};
pub use keystone::KeystoneAuth;

use crate::app::AppState;

/// How requests are authenticated, from `[DEFAULT] auth_strategy`.
pub enum Authenticator {
    Noauth,
    HttpBasic(BasicAuth),
    Keystone(Box<KeystoneAuth>),
}

/// The authenticated caller, for logs.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: Option<String>,
}

pub async fn require_auth(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let identity = match state.authenticator() {
        Authenticator::Noauth => Identity { user: None },
        Authenticator::HttpBasic(basic) => match basic
            .authenticate(request.headers().get(axum::http::header::AUTHORIZATION))
            .await
        {
            Ok(user) => Identity { user: Some(user) },
            Err(response) => return response,
        },
        Authenticator::Keystone(keystone) => {
            let rule = policy_rule(&request);
            match keystone.authorize(request.headers(), rule, false).await {
                Ok(identity) => identity,
                Err(response) => return response,
            }
        }
    };
    if let Some(user) = &identity.user {
        tracing::debug!(user = %user, "authenticated");
    }
    request.extensions_mut().insert(identity);
    next.run(request).await
}

/// Public endpoints: no identity needed, but keystone's policy still applies
/// (with `is_public_api` set in the credentials).
pub async fn public_policy(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Authenticator::Keystone(keystone) = state.authenticator() {
        let rule = policy_rule(&request);
        match keystone.authorize(request.headers(), rule, true).await {
            Ok(identity) => {
                request.extensions_mut().insert(identity);
            }
            Err(response) => return response,
        }
    }
    next.run(request).await
}

/// The policy rule of a route (upstream-behaviour §api-endpoints).
fn policy_rule(request: &Request) -> &'static str {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or_default();
    rule_for(request.method(), route)
}

/// `default` (deny unless overridden) for a route without a rule, as
/// upstream's `policy_default_rule`.
fn rule_for(method: &Method, route: &str) -> &'static str {
    let read = *method == Method::GET || *method == Method::HEAD;
    match (route, read, method) {
        ("/", true, _) => "introspection",
        ("/{version}", true, _) => "introspection:version",
        ("/v1/continue", _, &Method::POST) => "introspection:continue",
        // Metrics are read-only status, for the same audience.
        ("/v1/introspection" | "/v1/introspection/{node_id}" | "/metrics", true, _) => {
            "introspection:status"
        }
        ("/v1/introspection/{node_id}", _, &Method::POST) => "introspection:start",
        ("/v1/introspection/{node_id}/abort", _, &Method::POST) => "introspection:abort",
        (
            "/v1/introspection/{node_id}/data" | "/v1/introspection/{node_id}/data/unprocessed",
            true,
            _,
        ) => "introspection:data",
        ("/v1/introspection/{node_id}/data/unprocessed", _, &Method::POST) => {
            "introspection:reapply"
        }
        ("/v1/rules" | "/v1/rules/{uuid}", true, _) => "introspection:rule:get",
        ("/v1/rules" | "/v1/rules/{uuid}", _, &Method::POST) => "introspection:rule:create",
        ("/v1/rules" | "/v1/rules/{uuid}", _, &Method::DELETE) => "introspection:rule:delete",
        _ => "default",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_its_rule() {
        let cases = [
            (Method::GET, "/", "introspection"),
            (Method::GET, "/{version}", "introspection:version"),
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
            (Method::PUT, "/v1/rules", "default"),
        ];
        for (method, route, rule) in cases {
            assert_eq!(rule_for(&method, route), rule, "{method} {route}");
        }
    }
}
