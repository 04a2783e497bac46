//! `auth_strategy = keystone` against the real test-bed Keystone
//! (scripts/testbed/keystone.sh, at INSPECTOR_TEST_KEYSTONE_URL; its users
//! and passwords in the users.json at INSPECTOR_TEST_KEYSTONE_USERS): the role matrix of
//! upstream-behaviour §auth-policy over every endpoint of §api-endpoints,
//! token caching, expiry and revocation, an unreachable Keystone, policy
//! files edited at run time, legacy defaults, the Ironic client finding
//! Ironic through the Keystone catalog, and the real clients authenticating
//! through Keystone.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use inspector_core::conf::{AuthStrategy, Config};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::process::Command;

use crate::bed::{Ironic, env, random_mac};
use crate::helpers::{TestApp, assert_error, json_with_status};
use crate::openapi::SendChecked;
use crate::recording_proxy::RecordingProxy;

/// The test-bed Keystone and its users (password, project or system scope).
pub(crate) struct Keystone {
    auth_url: String,
    pub(crate) users: Value,
    client: reqwest::Client,
}

/// How a token is scoped.
#[derive(Clone, Copy)]
enum Scope {
    /// The user's project from users.json.
    Project,
    System,
    Unscoped,
}

impl Keystone {
    pub(crate) fn new() -> Self {
        inspector::tls::install_crypto_provider();
        let path = env("INSPECTOR_TEST_KEYSTONE_USERS");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let doc: Value = serde_json::from_str(&text).unwrap();
        let url = env("INSPECTOR_TEST_KEYSTONE_URL");
        Self {
            auth_url: format!("{}/v3", url.trim_end_matches('/')),
            users: doc["users"].clone(),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    pub(crate) fn password(&self, user: &str) -> String {
        self.users[user]["password"]
            .as_str()
            .unwrap_or_else(|| panic!("no test user {user}"))
            .to_string()
    }

    /// A token and its body.
    async fn issue(&self, user: &str, scope: Scope) -> (String, Value) {
        let mut body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": self.password(user)}}}}});
        match scope {
            Scope::Project => {
                let project = self.users[user]["project"].as_str().unwrap();
                body["auth"]["scope"] =
                    json!({"project": {"name": project, "domain": {"id": "default"}}});
            }
            Scope::System => body["auth"]["scope"] = json!({"system": {"all": true}}),
            Scope::Unscoped => {}
        }
        self.post_token(body).await
    }

    async fn post_token(&self, body: Value) -> (String, Value) {
        let response = self
            .client
            .post(format!("{}/auth/tokens", self.auth_url))
            .json(&body)
            .send()
            .await
            .expect("Keystone answers");
        let token = response
            .headers()
            .get("x-subject-token")
            .map(|v| v.to_str().unwrap().to_string());
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "token request: {status} {body}");
        (token.unwrap(), body)
    }

    async fn token(&self, user: &str, scope: Scope) -> String {
        self.issue(user, scope).await.0
    }

    /// Revokes a token (`DELETE /v3/auth/tokens`, by the admin).
    async fn revoke(&self, token: &str) {
        let admin = self.token("admin", Scope::System).await;
        self.revoke_with(&admin, token).await;
    }

    async fn revoke_with(&self, admin: &str, token: &str) {
        let response = self
            .client
            .delete(format!("{}/auth/tokens", self.auth_url))
            .header("X-Auth-Token", admin)
            .header("X-Subject-Token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }

    /// A project-admin token that expires in `seconds`: Keystone caps the
    /// expiry of a token issued for an application credential at the
    /// credential's own expiry.
    async fn short_lived_token(&self, seconds: i64) -> (String, OffsetDateTime) {
        let (admin, body) = self.issue("admin", Scope::Project).await;
        let user_id = body["token"]["user"]["id"].as_str().unwrap();
        let expires = OffsetDateTime::now_utc() + time::Duration::seconds(seconds);
        let expires_text = expires.format(&Rfc3339).unwrap();
        let response = self
            .client
            .post(format!(
                "{}/users/{user_id}/application_credentials",
                self.auth_url
            ))
            .header("X-Auth-Token", &admin)
            .json(&json!({"application_credential": {
                "name": format!("short-{}", uuid::Uuid::new_v4().simple()),
                "expires_at": expires_text.trim_end_matches('Z'),
            }}))
            .send()
            .await
            .unwrap();
        let credential = json_with_status(response, 201).await;
        let (token, body) = self
            .post_token(
                json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {
                    "id": credential["application_credential"]["id"],
                    "secret": credential["application_credential"]["secret"]}}}}),
            )
            .await;
        let expires_at =
            OffsetDateTime::parse(body["token"]["expires_at"].as_str().unwrap(), &Rfc3339).unwrap();
        assert!(expires_at <= expires + time::Duration::seconds(1), "{body}");
        (token, expires_at)
    }

    /// A token that has already expired.
    async fn expired_token(&self) -> String {
        // Enough for Keystone to still find the expiry in the future when
        // it creates the credential, even on a loaded machine.
        let (token, expires_at) = self.short_lived_token(10).await;
        sleep_until(expires_at).await;
        token
    }

    /// `[keystone_authtoken]` with the service user `inspector`.
    fn configure(&self, c: &mut Config) {
        c.default.auth_strategy = AuthStrategy::Keystone;
        let k = &mut c.keystone_authtoken;
        k.www_authenticate_uri = Some("http://keystone.example.com:5000".into());
        k.auth.auth_url = Some(self.auth_url.clone());
        k.auth_type = Some("password".into());
        k.auth.username = Some("inspector".into());
        k.auth.password = Some(self.password("inspector"));
        k.auth.project_name = Some("service".into());
        k.auth.user_domain_name = Some("Default".into());
        k.auth.project_domain_name = Some("Default".into());
        k.region_name = Some("RegionOne".into());
        // No policy file unless a test sets one (not even a stray
        // ~/policy.yaml or /etc/ironic-inspector/policy.yaml).
        c.oslo_policy.policy_file = "/nonexistent/inspector-test-policy.yaml".into();
        c.oslo_policy.policy_dirs = Vec::new();
    }

    pub(crate) async fn app(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::with_ironic(|c| {
            self.configure(c);
            adjust(c);
        })
        .await
    }
}

async fn sleep_until(at: OffsetDateTime) {
    let left = at - OffsetDateTime::now_utc() + time::Duration::milliseconds(1100);
    if left.is_positive() {
        tokio::time::sleep(Duration::try_from(left).unwrap()).await;
    }
}

const NODE: &str = "0b8a7a64-1a0b-4c1d-9f7e-2b9c8d7e6f50";
const RULE: &str = "5f3e2a1b-6c7d-4e8f-9a0b-1c2d3e4f5a6b";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Access {
    Public,
    Status,
    Admin,
}

/// Every endpoint of upstream-behaviour §api-endpoints, with a request whose
/// outcome, once allowed, is fixed (an unknown node or rule, an invalid
/// rule): no test state changes, so every caller sees the same code.
fn endpoints() -> Vec<(Method, String, Option<Value>, Access, u16)> {
    let n = NODE;
    vec![
        (Method::GET, "/".into(), None, Access::Public, 200),
        (Method::GET, "/v1".into(), None, Access::Public, 200),
        (
            Method::POST,
            "/v1/continue".into(),
            Some(json!({})),
            Access::Public,
            400,
        ),
        (
            Method::POST,
            format!("/v1/introspection/{n}"),
            None,
            Access::Admin,
            404,
        ),
        (
            Method::GET,
            format!("/v1/introspection/{n}"),
            None,
            Access::Status,
            404,
        ),
        (
            Method::GET,
            "/v1/introspection".into(),
            None,
            Access::Status,
            200,
        ),
        (
            Method::POST,
            format!("/v1/introspection/{n}/abort"),
            None,
            Access::Admin,
            404,
        ),
        (
            Method::GET,
            format!("/v1/introspection/{n}/data"),
            None,
            Access::Admin,
            404,
        ),
        (
            Method::GET,
            format!("/v1/introspection/{n}/data/unprocessed"),
            None,
            Access::Admin,
            404,
        ),
        (
            Method::POST,
            format!("/v1/introspection/{n}/data/unprocessed"),
            None,
            Access::Admin,
            404,
        ),
        (Method::GET, "/v1/rules".into(), None, Access::Admin, 200),
        (
            Method::POST,
            "/v1/rules".into(),
            Some(json!({})),
            Access::Admin,
            400,
        ),
        (
            Method::POST,
            format!("/v1/rules/{RULE}"),
            Some(json!({})),
            Access::Admin,
            400,
        ),
        (Method::DELETE, "/v1/rules".into(), None, Access::Admin, 204),
        (
            Method::GET,
            format!("/v1/rules/{RULE}"),
            None,
            Access::Admin,
            404,
        ),
        (
            Method::DELETE,
            format!("/v1/rules/{RULE}"),
            None,
            Access::Admin,
            404,
        ),
    ]
}

/// What a caller may do under the default policy (upstream-behaviour §auth-policy).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Role {
    /// No valid identity: 401 on protected endpoints.
    Invalid,
    /// Valid, but denied everything non-public.
    Nothing,
    /// Statuses only.
    Reader,
    Everything,
}

fn expected(role: Role, access: Access, allowed: u16) -> u16 {
    match (access, role) {
        (Access::Public, _) => allowed,
        (_, Role::Invalid) => 401,
        (_, Role::Everything) => allowed,
        (Access::Status, Role::Reader) => allowed,
        _ => 403,
    }
}

async fn call(
    app: &TestApp,
    token: Option<&str>,
    method: &Method,
    path: &str,
    body: Option<&Value>,
) -> u16 {
    let mut request = app.request(method.clone(), path);
    if let Some(token) = token {
        request = request.header("X-Auth-Token", token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("request").status().as_u16()
}

#[tokio::test]
#[cfg_attr(
    not(bed_keystone),
    ignore = "needs the test bed (Keystone): run scripts/test.sh"
)]
async fn role_matrix_over_every_endpoint() {
    let keystone = Keystone::new();
    let app = keystone.app(|_| {}).await;
    let revoked = keystone.token("admin", Scope::Project).await;
    keystone.revoke(&revoked).await;
    let callers: Vec<(&str, Option<String>, Role)> = vec![
        ("no token", None, Role::Invalid),
        (
            "garbage token",
            Some("gAAAAABgarbage-not-a-token".into()),
            Role::Invalid,
        ),
        (
            "expired token",
            Some(keystone.expired_token().await),
            Role::Invalid,
        ),
        ("revoked token", Some(revoked), Role::Invalid),
        (
            "admin (project)",
            Some(keystone.token("admin", Scope::Project).await),
            Role::Everything,
        ),
        (
            "admin (system)",
            Some(keystone.token("admin", Scope::System).await),
            Role::Everything,
        ),
        (
            "service (project)",
            Some(keystone.token("inspector", Scope::Project).await),
            Role::Everything,
        ),
        (
            "manager (project)",
            Some(keystone.token("manager", Scope::Project).await),
            Role::Nothing,
        ),
        (
            "member (project)",
            Some(keystone.token("member", Scope::Project).await),
            Role::Nothing,
        ),
        (
            "reader (project)",
            Some(keystone.token("reader", Scope::Project).await),
            Role::Nothing,
        ),
        (
            "baremetal_admin (project)",
            Some(keystone.token("baremetal-admin", Scope::Project).await),
            Role::Nothing,
        ),
        (
            "baremetal_observer (project)",
            Some(keystone.token("baremetal-observer", Scope::Project).await),
            Role::Nothing,
        ),
        (
            "no role (unscoped)",
            Some(keystone.token("norole", Scope::Unscoped).await),
            Role::Nothing,
        ),
        (
            "reader (system)",
            Some(keystone.token("system-reader", Scope::System).await),
            Role::Reader,
        ),
        (
            "member (system)",
            Some(keystone.token("system-member", Scope::System).await),
            Role::Reader,
        ),
    ];
    // One task per caller: Keystone is slow, invalid tokens are re-checked
    // on every request.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut rows = tokio::task::JoinSet::new();
    for (index, (who, token, role)) in callers.iter().cloned().enumerate() {
        let (client, base) = (client.clone(), app.url(""));
        rows.spawn(async move {
            let mut codes = Vec::new();
            let mut mismatches = Vec::new();
            for (method, path, body, access, allowed) in endpoints() {
                let mut request = client.request(method.clone(), format!("{base}{path}"));
                if let Some(token) = &token {
                    request = request.header("X-Auth-Token", token);
                }
                if let Some(body) = &body {
                    request = request.json(body);
                }
                let got = request
                    .send_checked()
                    .await
                    .expect("request")
                    .status()
                    .as_u16();
                let want = expected(role, access, allowed);
                codes.push(got.to_string());
                if got != want {
                    mismatches.push(format!(
                        "{who}: {method} {path}: got {got}, expected {want}"
                    ));
                }
            }
            (index, format!("{who:>30}: {}", codes.join(" ")), mismatches)
        });
    }
    let mut results = rows.join_all().await;
    results.sort_by_key(|r| r.0);
    let table: String = results.iter().map(|r| format!("{}\n", r.1)).collect();
    let mismatches: Vec<String> = results.into_iter().flat_map(|r| r.2).collect();
    println!("{table}");
    assert!(mismatches.is_empty(), "{}\n{table}", mismatches.join("\n"));

    // The 401 tells where to authenticate; the others are plain errors.
    let response = app.get("/v1/introspection").await;
    assert_eq!(
        response.headers()["www-authenticate"],
        "Keystone uri=\"http://keystone.example.com:5000\""
    );
    assert_error(response, 401, "Authentication required").await;
    let member = callers[8].1.as_deref().unwrap();
    let response = app
        .request(Method::GET, "/v1/rules")
        .header("X-Auth-Token", member)
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("www-authenticate").is_none());
    assert_error(response, 403, "Access denied by policy").await;
}

/// A recording proxy in front of Keystone, to count its round trips.
async fn keystone_proxy(auth_url: &str) -> Arc<RecordingProxy> {
    RecordingProxy::start(auth_url.trim_end_matches('/').trim_end_matches("/v3")).await
}

fn validations(proxy: &RecordingProxy) -> usize {
    proxy.count("GET /v3/auth/tokens")
}

/// Validation goes to the proxy: with no `admin` identity endpoint in the
/// catalog, the validator falls back to auth_url.
fn through(proxy: &RecordingProxy, c: &mut Config) {
    c.keystone_authtoken.auth.auth_url = Some(proxy.url.clone());
    c.keystone_authtoken.interface = Some("admin".into());
}

#[tokio::test]
#[cfg_attr(
    not(bed_keystone),
    ignore = "needs the test bed (Keystone): run scripts/test.sh"
)]
async fn validated_tokens_are_cached_until_token_cache_time() {
    const CACHE_TIME: u64 = 15;
    let keystone = Keystone::new();
    let proxy = keystone_proxy(&keystone.auth_url).await;
    let app = keystone
        .app(|c| {
            through(&proxy, c);
            c.keystone_authtoken.token_cache_time = CACHE_TIME as i64;
        })
        .await;
    let revoker = keystone.token("admin", Scope::System).await;
    let token = keystone.token("admin", Scope::Project).await;
    let validated_after = std::time::Instant::now();
    assert_eq!(
        call(&app, Some(&token), &Method::GET, "/v1/introspection", None).await,
        200
    );
    let validated_before = std::time::Instant::now();
    for _ in 0..19 {
        assert_eq!(
            call(&app, Some(&token), &Method::GET, "/v1/introspection", None).await,
            200
        );
    }
    assert_eq!(validations(&proxy), 1, "{:?}", proxy.calls());
    // One service token, reused.
    assert_eq!(proxy.count("POST /v3/auth/tokens"), 1);

    // Revoked: still served from the cache until token_cache_time passes,
    // then Keystone is asked again and says no.
    keystone.revoke_with(&revoker, &token).await;
    assert!(
        validated_after.elapsed() < Duration::from_secs(CACHE_TIME - 1),
        "Keystone took too long to revoke a token for this test"
    );
    assert_eq!(
        call(&app, Some(&token), &Method::GET, "/v1/introspection", None).await,
        200
    );
    assert_eq!(validations(&proxy), 1);
    let stale_at = validated_before + Duration::from_millis(CACHE_TIME * 1000 + 200);
    tokio::time::sleep_until(stale_at.into()).await;
    assert_eq!(
        call(&app, Some(&token), &Method::GET, "/v1/introspection", None).await,
        401
    );
    assert_eq!(validations(&proxy), 2);
    // Invalid tokens are not cached: each use asks Keystone.
    assert_eq!(
        call(&app, Some(&token), &Method::GET, "/v1/introspection", None).await,
        401
    );
    assert_eq!(validations(&proxy), 3);
}

#[tokio::test]
#[cfg_attr(
    not(bed_keystone),
    ignore = "needs the test bed (Keystone): run scripts/test.sh"
)]
async fn a_cached_token_stops_working_when_it_expires() {
    let keystone = Keystone::new();
    let proxy = keystone_proxy(&keystone.auth_url).await;
    let app = keystone.app(|c| through(&proxy, c)).await;
    // Get the service token first, so the short-lived token's first use
    // costs a single round trip.
    let admin = keystone.token("admin", Scope::Project).await;
    assert_eq!(
        call(&app, Some(&admin), &Method::GET, "/v1/rules", None).await,
        200
    );
    // Keystone may take seconds per request on a loaded machine: lengthen
    // the token's life until it can be used once before it expires.
    for lifetime in [15, 45, 120] {
        let (token, expires_at) = keystone.short_lived_token(lifetime).await;
        let code = call(&app, Some(&token), &Method::GET, "/v1/rules", None).await;
        if OffsetDateTime::now_utc() >= expires_at {
            continue;
        }
        assert_eq!(code, 200);
        let before = validations(&proxy);
        sleep_until(expires_at).await;
        assert_eq!(
            call(&app, Some(&token), &Method::GET, "/v1/rules", None).await,
            401
        );
        // Known expired from the cached expiry: Keystone is not asked again.
        assert_eq!(validations(&proxy), before);
        return;
    }
    panic!("Keystone is too slow to use a short-lived token before it expires");
}

#[tokio::test]
#[cfg_attr(
    not(bed_keystone),
    ignore = "needs the test bed (Keystone): run scripts/test.sh"
)]
async fn an_unreachable_keystone_is_a_503_never_a_pass() {
    let keystone = Keystone::new();
    let nobody = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    for retries in [0, 1] {
        let app = keystone
            .app(|c| {
                c.keystone_authtoken.auth.auth_url = Some(nobody.clone());
                c.keystone_authtoken.http_request_max_retries = retries;
            })
            .await;
        let token = keystone.token("admin", Scope::Project).await;
        for (method, path, body, access, allowed) in endpoints() {
            let got = call(&app, Some(&token), &method, &path, body.as_ref()).await;
            // Public endpoints serve the caller as anonymous, as upstream.
            let want = if access == Access::Public {
                allowed
            } else {
                503
            };
            assert_eq!(got, want, "{method} {path} (retries {retries})");
        }
        let response = app
            .request(Method::GET, "/v1/introspection")
            .header("X-Auth-Token", &token)
            .send()
            .await
            .unwrap();
        assert_error(
            response,
            503,
            "The Keystone service is temporarily unavailable: the token cannot be validated",
        )
        .await;
        // No token at all needs no Keystone: still a 401.
        assert_eq!(call(&app, None, &Method::GET, "/v1/rules", None).await, 401);
    }
}

#[tokio::test]
#[cfg_attr(
    not(bed_keystone),
    ignore = "needs the test bed (Keystone): run scripts/test.sh"
)]
async fn refused_service_credentials_are_a_503() {
    let keystone = Keystone::new();
    let app = keystone
        .app(|c| c.keystone_authtoken.auth.password = Some("wrong".into()))
        .await;
    let token = keystone.token("admin", Scope::Project).await;
    assert_eq!(
        call(&app, Some(&token), &Method::GET, "/v1/rules", None).await,
        503
    );
}

#[tokio::test]
#[cfg_attr(
    not(bed_keystone),
    ignore = "needs the test bed (Keystone): run scripts/test.sh"
)]
async fn service_tokens_need_the_service_role() {
    let keystone = Keystone::new();
    let app = keystone.app(|_| {}).await;
    let admin = keystone.token("admin", Scope::Project).await;
    let with_service = |service: String| {
        app.request(Method::GET, "/v1/rules")
            .header("X-Auth-Token", admin.clone())
            .header("X-Service-Token", service)
            .send()
    };
    let service = keystone.token("inspector", Scope::Project).await;
    assert_eq!(with_service(service).await.unwrap().status(), 200);
    let not_a_service = keystone.token("member", Scope::Project).await;
    assert_eq!(with_service(not_a_service).await.unwrap().status(), 401);
    assert_eq!(with_service("garbage".into()).await.unwrap().status(), 401);
}

#[tokio::test]
#[cfg_attr(
    not(bed_keystone),
    ignore = "needs the test bed (Keystone): run scripts/test.sh"
)]
async fn policy_file_edits_apply_while_running() {
    let keystone = Keystone::new();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    let app = keystone
        .app(|c| c.oslo_policy.policy_file = policy.display().to_string())
        .await;
    let member = keystone.token("member", Scope::Project).await;
    let status = |token: String| {
        let app = &app;
        async move { call(app, Some(&token), &Method::GET, "/v1/introspection", None).await }
    };
    assert_eq!(status(member.clone()).await, 403);

    std::fs::write(&policy, "\"introspection:status\": \"role:member\"\n").unwrap();
    assert_eq!(status(member.clone()).await, 200);
    // Only that rule changed.
    assert_eq!(
        call(&app, Some(&member), &Method::GET, "/v1/rules", None).await,
        403
    );

    // JSON works too, and a public endpoint can be closed.
    std::fs::write(&policy, "{\"introspection:version\": \"role:admin\"}\n").unwrap();
    assert_eq!(status(member.clone()).await, 403);
    assert_eq!(
        call(&app, Some(&member), &Method::GET, "/v1", None).await,
        403
    );
    assert_eq!(call(&app, None, &Method::GET, "/v1", None).await, 403);
    let admin = keystone.token("admin", Scope::Project).await;
    assert_eq!(
        call(&app, Some(&admin), &Method::GET, "/v1", None).await,
        200
    );

    // A broken file refuses rather than falling back to the defaults.
    std::fs::write(&policy, "- a list is not a policy\n").unwrap();
    assert_eq!(status(admin.clone()).await, 503);
    std::fs::remove_file(&policy).unwrap();
    assert_eq!(status(admin).await, 200);
    assert_eq!(status(member).await, 403);
}

#[tokio::test]
#[cfg_attr(
    not(bed_keystone),
    ignore = "needs the test bed (Keystone): run scripts/test.sh"
)]
async fn legacy_defaults_when_new_defaults_are_not_enforced() {
    let keystone = Keystone::new();
    let app = keystone
        .app(|c| c.oslo_policy.enforce_new_defaults = false)
        .await;
    let legacy_admin = keystone.token("baremetal-admin", Scope::Project).await;
    let observer = keystone.token("baremetal-observer", Scope::Project).await;
    let member = keystone.token("member", Scope::Project).await;
    let mut got = BTreeMap::new();
    for (who, token) in [
        ("baremetal_admin", &legacy_admin),
        ("baremetal_observer", &observer),
        ("member", &member),
    ] {
        for (method, path, body, access, _) in endpoints() {
            if access == Access::Public {
                continue;
            }
            let code = call(&app, Some(token), &method, &path, body.as_ref()).await;
            got.entry((who, access == Access::Status))
                .or_insert_with(Vec::new)
                .push(code);
        }
    }
    let all = |codes: &Vec<u16>, allowed: bool| codes.iter().all(|c| (*c == 403) != allowed);
    assert!(all(&got[&("baremetal_admin", true)], true), "{got:?}");
    assert!(all(&got[&("baremetal_admin", false)], true), "{got:?}");
    assert!(all(&got[&("baremetal_observer", true)], true), "{got:?}");
    assert!(all(&got[&("baremetal_observer", false)], false), "{got:?}");
    assert!(all(&got[&("member", true)], false), "{got:?}");
    assert!(all(&got[&("member", false)], false), "{got:?}");
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_keystone, bed_ironic)),
    ignore = "needs the test bed (Keystone, Ironic): run scripts/test.sh"
)]
async fn the_ironic_client_finds_ironic_in_the_keystone_catalog() {
    let keystone = Keystone::new();
    let ironic = Ironic::new();
    let app = keystone
        .app(|c| {
            c.ironic.client.endpoint_override = None;
            c.ironic.client.auth_type = "password".into();
            c.ironic.client.auth.auth_url = Some(keystone.auth_url.clone());
            c.ironic.client.auth.username = Some("inspector".into());
            c.ironic.client.auth.password = Some(keystone.password("inspector"));
            c.ironic.client.auth.project_name = Some("service".into());
            c.ironic.client.auth.user_domain_name = Some("Default".into());
            c.ironic.client.auth.project_domain_name = Some("Default".into());
            c.ironic.client.region_name = Some("RegionOne".into());
        })
        .await;
    let uuid = ironic.manageable_node(json!({})).await;
    ironic.create_port(&uuid, &random_mac()).await;
    let admin = keystone.token("admin", Scope::Project).await;
    let response = app
        .request(Method::POST, &format!("/v1/introspection/{uuid}"))
        .header("X-Auth-Token", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    let status = app
        .request(Method::GET, &format!("/v1/introspection/{uuid}"))
        .header("X-Auth-Token", &admin)
        .send()
        .await
        .unwrap();
    let status = json_with_status(status, 200).await;
    assert_eq!(status["finished"], false, "{status}");
    // The node was found by name through the catalog too.
    let name = ironic.node(&uuid).await["name"]
        .as_str()
        .unwrap()
        .to_string();
    let by_name = app
        .request(Method::POST, &format!("/v1/introspection/{name}/abort"))
        .header("X-Auth-Token", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.status(), 202);
}

/// A clouds.yaml for `user`, with inspector's endpoint given explicitly:
/// `inspector_url`.
fn clouds_yaml(
    keystone: &Keystone,
    app: &TestApp,
    inspector_url: &str,
    user: &str,
) -> std::path::PathBuf {
    let path = app.dir.path().join(format!("clouds-{user}.yaml"));
    let project = keystone.users[user]["project"].as_str().unwrap();
    std::fs::write(
        &path,
        format!(
            "clouds:\n  testbed:\n    auth_type: password\n    auth:\n      auth_url: {}\n      \
             username: {user}\n      password: {}\n      project_name: {project}\n      \
             user_domain_name: Default\n      project_domain_name: Default\n    \
             region_name: RegionOne\n    baremetal_introspection_endpoint_override: {inspector_url}\n",
            keystone.auth_url,
            keystone.password(user),
        ),
    )
    .unwrap();
    path
}

fn venv_bin(tool: &str) -> String {
    format!("{}/bin/{tool}", env("INSPECTOR_TEST_VENV"))
}

async fn run(program: &str, args: &[&str], clouds: &std::path::Path) -> (bool, String, String) {
    let output = Command::new(venv_bin(program))
        .args(args)
        .env("OS_CLIENT_CONFIG_FILE", clouds)
        .env("OS_CLOUD", "testbed")
        .env("no_proxy", "127.0.0.1")
        .env_remove("OS_AUTH_TYPE")
        .env_remove("OS_ENDPOINT")
        .output()
        .await
        .expect("client in the test venv");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_keystone, bed_ironic, bed_venv)),
    ignore = "needs the test bed (Keystone, Ironic, venv-ironic): run scripts/test.sh"
)]
async fn the_cli_and_openstacksdk_authenticate_through_keystone() {
    let keystone = Keystone::new();
    let ironic = Ironic::new();
    let app = keystone.app(|_| {}).await;
    // The clients reach the service through a proxy that checks its answers
    // against the OpenAPI document.
    let proxy = crate::openapi::checking_proxy("127.0.0.1:0", &app.url("")).await;
    let clouds = clouds_yaml(&keystone, &app, &proxy.url, "admin");
    let uuid = ironic.manageable_node(json!({})).await;
    ironic.create_port(&uuid, &random_mac()).await;

    let cli = |args: &'static [&'static str], extra: Vec<String>| {
        let clouds = clouds.clone();
        async move {
            let mut all: Vec<&str> = vec!["baremetal", "introspection"];
            all.extend(args);
            all.extend(extra.iter().map(String::as_str));
            let (ok, out, err) = run("openstack", &all, &clouds).await;
            assert!(ok, "openstack {all:?}:\n{out}\n{err}");
            out
        }
    };
    cli(&["start"], vec![uuid.clone()]).await;
    let status: Value =
        serde_json::from_str(&cli(&["status", "-f", "json"], vec![uuid.clone()]).await).unwrap();
    assert_eq!(status["finished"], false, "{status}");
    let listed: Value = serde_json::from_str(&cli(&["list", "-f", "json"], vec![]).await).unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["UUID"] == uuid.as_str()),
        "{listed}"
    );
    let rules_file = app.dir.path().join("rules.json");
    std::fs::write(
        &rules_file,
        json!([{"description": "via keystone", "actions": [{"action": "add-trait", "name": "CUSTOM_KS"}]}]).to_string(),
    )
    .unwrap();
    cli(&["rule", "import"], vec![rules_file.display().to_string()]).await;
    let rules: Value =
        serde_json::from_str(&cli(&["rule", "list", "-f", "json"], vec![]).await).unwrap();
    assert_eq!(rules[0]["Description"], "via keystone", "{rules}");
    cli(&["rule", "purge"], vec![]).await;
    cli(&["abort"], vec![uuid.clone()]).await;

    let script = r#"
import json, sys, uuid
import openstack
conn = openstack.connect(cloud="testbed")
bi = conn.baremetal_introspection
rule = bi.create_introspection_rule(uuid=str(uuid.uuid4()), actions=[{"action": "add-trait", "name": "CUSTOM_SDK"}], description="sdk")
rules = [r.description for r in bi.introspection_rules()]
status = bi.get_introspection(sys.argv[1])
statuses = [i.id for i in bi.introspections()]
bi.delete_introspection_rule(rule.id)
print(json.dumps({"rules": rules, "node": status.id, "listed": sys.argv[1] in statuses,
                  "left": len(list(bi.introspection_rules()))}))
"#;
    let (ok, out, err) = run("python", &["-c", script, &uuid], &clouds).await;
    assert!(ok, "openstacksdk: {out}\n{err}");
    let result: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        result,
        json!({"rules": ["sdk"], "node": uuid, "listed": true, "left": 0})
    );

    // A member's clouds.yaml gets the policy's refusal, not a crash.
    let member = clouds_yaml(&keystone, &app, &proxy.url, "member");
    let (ok, out, err) = run(
        "openstack",
        &["baremetal", "introspection", "list"],
        &member,
    )
    .await;
    assert!(!ok, "{out}");
    assert!(
        err.contains("Access denied by policy") || err.contains("403"),
        "{err}"
    );
    proxy.assert_answers_passed();
}

#[tokio::test]
async fn keystone_without_service_credentials_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::helpers::test_config(&dir);
    config.default.auth_strategy = AuthStrategy::Keystone;
    let err = inspector::service::build(config.clone())
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("[keystone_authtoken] auth_type"),
        "{err:#}"
    );
    config.keystone_authtoken.auth_type = Some("password".into());
    config.keystone_authtoken.auth.auth_url = Some("http://127.0.0.1:9".into());
    config.keystone_authtoken.auth.username = Some("inspector".into());
    let err = inspector::service::build(config)
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("[keystone_authtoken] password is required"),
        "{err:#}"
    );
}

#[tokio::test]
async fn generate_sample_prints_the_default_policy() {
    let output = Command::new(env!("CARGO_BIN_EXE_inspector"))
        .args(["policy", "generate-sample"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with("# DEPRECATED\n# \"is_admin\" has been deprecated since W.\n"),
        "{text}"
    );
    assert!(text.contains(
        "# GET  /introspection\n# GET  /introspection/{node_id}\n#\"introspection:status\": \
         \"(role:reader and system_scope:all) or (role:admin) or (role:service)\"\n"
    ));
    // Uncommented, the rules are exactly the defaults.
    let rules: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .filter(|l| l.starts_with('"'))
        .collect();
    assert_eq!(
        rules.len(),
        inspector_core::policy::inspector_defaults().len()
    );
    for rule in inspector_core::policy::inspector_defaults() {
        assert!(
            rules.contains(&format!("\"{}\": \"{}\"", rule.name, rule.check_str).as_str()),
            "{}",
            rule.name
        );
    }
}
