//! The OpenAPI document against what the service answers. Every response a
//! test receives from its service is checked here: through
//! [`crate::helpers::TestApp`]'s requests, through a test's own reqwest
//! client with [`SendChecked::send_checked`], and, for clients run as
//! subprocesses (the openstack CLI, openstacksdk, IPA, Ironic), through a
//! [`checking_proxy`] between them and the service. Each check
//! ([`check_response`]) finds the operation by method and path template,
//! the response by status, and compares its required headers, its media
//! type and its JSON body with the schema. The tests below pin where the
//! document is served, and (with the test bed's venv) that it is valid
//! OpenAPI 3.1.

use std::sync::{Arc, OnceLock};

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Client, Method, Request, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, json_with_status};
use crate::recording_proxy::RecordingProxy;
use crate::schema_check;

/// The document the service serves, built in this process.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(inspector::api::openapi::document)
}

/// Whether `path` is served outside the API (the dashboard's pages and
/// their session endpoints, `src/api/dashboard`), and so outside the document.
pub fn outside_the_api(path: &str) -> bool {
    path == "/dashboard" || path.starts_with("/dashboard/")
}

/// What an unknown URL or method answers: no operation, an error.
const UNROUTED_STATUSES: &[u16] = &[400, 404, 405, 406];

/// Reads `response` to `method path` (a query string is ignored), checks
/// it against the document (panicking with what differs) and gives back an
/// equal response.
pub async fn checked(method: &Method, path: &str, response: Response) -> reqwest::Result<Response> {
    let path = path.split('?').next().unwrap_or(path);
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    if let Err(problem) = check_response(method, path, status.as_u16(), &headers, &body) {
        panic!(
            "the response to {method} {path} ({status}) does not match the OpenAPI document \
             (src/api/openapi.rs): {problem}\nbody: {}",
            String::from_utf8_lossy(&body[..body.len().min(2000)])
        );
    }
    let mut rebuilt = axum::http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(Response::from(rebuilt))
}

/// Sends `request` with `client` and checks the response like [`checked`],
/// unless its path is outside the API.
pub async fn execute_checked(client: &Client, request: Request) -> reqwest::Result<Response> {
    let method = request.method().clone();
    let path = request.url().path().to_owned();
    let response = client.execute(request).await?;
    if outside_the_api(&path) {
        return Ok(response);
    }
    checked(&method, &path, response).await
}

/// `send`, with the response checked against the document: for tests that
/// talk to their service with their own reqwest client (a spawned binary,
/// HTTPS, a client with a timeout).
pub trait SendChecked {
    fn send_checked(self) -> impl Future<Output = reqwest::Result<Response>> + Send;
}

impl SendChecked for RequestBuilder {
    async fn send_checked(self) -> reqwest::Result<Response> {
        let (client, request) = self.build_split();
        execute_checked(&client, request?).await
    }
}

/// A proxy on `listen` ("127.0.0.1:0" for any port) to our service at
/// `origin` that checks every answer against the document: what clients
/// run as subprocesses are pointed at instead of the service, since their
/// answers never reach Rust code. The test ends with
/// [`RecordingProxy::assert_answers_passed`].
pub async fn checking_proxy(listen: &str, origin: &str) -> Arc<RecordingProxy> {
    let check = |method: &Method, path: &str, status, headers: &HeaderMap, body: &[u8]| {
        if outside_the_api(path) {
            return Ok(());
        }
        check_response(method, path, status, headers, body)
    };
    RecordingProxy::checking(listen, origin, Box::new(check)).await
}

/// The document's path template a request path falls under, as the router
/// picks it: at the first segment where two templates differ, a literal
/// segment wins over a parameter.
pub fn template_of<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    let trimmed = path.trim_end_matches('/');
    let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
    let segments = if trimmed.is_empty() {
        vec![""]
    } else {
        segments
    };
    doc["paths"]
        .as_object()?
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').skip(1).collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = Vec::with_capacity(parts.len());
            for (part, segment) in parts.iter().zip(&segments) {
                let is_param = part.starts_with('{') && part.ends_with('}');
                if !is_param && part != segment || is_param && segment.is_empty() {
                    return None;
                }
                literal.push(!is_param);
            }
            Some((literal, template.as_str()))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, template)| template)
}

/// Resolves a `$ref` to a component, or gives the object itself.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> Result<&'a Value, String> {
    match value.get("$ref").and_then(Value::as_str) {
        Some(target) => doc
            .pointer(target.trim_start_matches('#'))
            .ok_or_else(|| format!("{target} does not resolve")),
        None => Ok(value),
    }
}

pub fn check_response(
    method: &Method,
    path: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let doc = document();
    let operation_method = if method == Method::HEAD {
        "get".to_string()
    } else {
        method.as_str().to_lowercase()
    };
    let operation = template_of(doc, path).and_then(|t| doc["paths"][t].get(&operation_method));
    let Some(operation) = operation else {
        // No operation: an unknown URL, a method the path lacks, or the
        // version header refused before routing.
        if !UNROUTED_STATUSES.contains(&status) {
            return Err(format!(
                "no operation in the document, and {status} is not an unknown URL's or method's \
                 status ({UNROUTED_STATUSES:?})"
            ));
        }
        return check_json(
            doc,
            &json!({"$ref": "#/components/schemas/Error"}),
            headers,
            body,
        );
    };
    let documented = operation["responses"]
        .get(status.to_string())
        .ok_or_else(|| {
            let listed: Vec<&String> = operation["responses"]
                .as_object()
                .map(|r| r.keys().collect())
                .unwrap_or_default();
            format!("status {status} is not documented (documented: {listed:?})")
        })?;
    let documented = resolve(doc, documented)?;
    if let Some(Value::Object(expected)) = documented.get("headers") {
        for (name, header) in expected {
            let header = resolve(doc, header)?;
            if header["required"] == json!(true) && !headers.contains_key(name.as_str()) {
                return Err(format!("the required header {name} is missing"));
            }
        }
    }
    if method == Method::HEAD {
        return Ok(());
    }
    let Some(Value::Object(content)) = documented.get("content") else {
        return if body.is_empty() {
            Ok(())
        } else {
            Err("the document says no body, but there is one".into())
        };
    };
    let media_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .ok_or("no Content-Type")?;
    let media = content.get(&media_type).ok_or_else(|| {
        format!(
            "Content-Type {media_type} is not documented (documented: {:?})",
            content.keys().collect::<Vec<_>>()
        )
    })?;
    if media_type == "application/json" {
        check_json(doc, &media["schema"], headers, body)
    } else {
        std::str::from_utf8(body)
            .map(|_| ())
            .map_err(|_| format!("a {media_type} body that is not UTF-8"))
    }
}

fn check_json(doc: &Value, schema: &Value, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    let media_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if media_type != Some("application/json") {
        return Err(format!("Content-Type {media_type:?}, not application/json"));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    schema_check::validate(doc, schema, &value)
}

#[tokio::test]
async fn the_document_is_served_by_a_plain_get_and_from_1_19() {
    let app = TestApp::spawn().await;
    // No version header: the newest version, so a plain GET finds it.
    let response = app.get("/v1/openapi.json").await;
    let served = json_with_status(response, 200).await;
    let mut expected = inspector::api::openapi::document();
    expected["servers"] = json!([{"url": format!("http://{}", app.addr)}]);
    assert_eq!(served, expected);
    assert_eq!(served["openapi"], "3.1.0");
    for version in ["1.19", "latest"] {
        let response = app.get_at("/v1/openapi.json", version).await;
        assert_eq!(json_with_status(response, 200).await, served);
    }
    // Older clients see what they always saw: an unknown URL.
    for version in ["1.0", "1.18"] {
        let response = app.get_at("/v1/openapi.json", version).await;
        assert_error(
            response,
            404,
            "404 Not Found: The requested URL was not found on the server. If you entered the URL \
             manually please check your spelling and try again.",
        )
        .await;
    }
    // It is no resource of v1: the listing is the same at every version.
    for version in ["1.18", "1.19"] {
        let response = app.get_at("/v1", version).await;
        let body = json_with_status(response, 200).await;
        let names: Vec<&str> = body["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["continue", "introspection", "rules"], "{version}");
    }
    app.finish().await;
}

#[tokio::test]
async fn the_documents_server_follows_the_proxy() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::GET, "/v1/openapi.json")
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-Host", "inspector.example")
        .header("X-Forwarded-Prefix", "/baremetal-introspection")
        .send()
        .await
        .unwrap();
    let served = json_with_status(response, 200).await;
    assert_eq!(
        served["servers"],
        json!([{"url": "https://inspector.example/baremetal-introspection"}])
    );
    app.finish().await;
}

#[tokio::test]
async fn the_document_is_public_under_http_basic() {
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    let hash = bcrypt::hash("secret", 4)
        .unwrap()
        .replacen("$2b$", "$2y$", 1);
    std::fs::write(&htpasswd, format!("admin:{hash}\n")).unwrap();
    let mut config = crate::helpers::test_config(&dir);
    config.default.auth_strategy = inspector_core::conf::AuthStrategy::HttpBasic;
    config.default.http_basic_auth_user_file = htpasswd.display().to_string();
    let app = TestApp::spawn_config(config, dir).await;
    let served = json_with_status(app.get("/v1/openapi.json").await, 200).await;
    assert_eq!(
        served["paths"]["/v1/openapi.json"]["get"]["security"],
        json!([])
    );
    let response = app.get("/v1/rules").await;
    assert_eq!(response.status(), 401);
    app.finish().await;
}

/// The check itself: a response that differs from the document is caught,
/// with what differs, on each of the ways it can differ.
#[test]
fn a_response_that_differs_from_the_document_is_caught() {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, "application/json".parse().unwrap());
    for name in [
        "x-openstack-ironic-inspector-api-minimum-version",
        "x-openstack-ironic-inspector-api-maximum-version",
        "x-openstack-request-id",
    ] {
        headers.insert(name, "x".parse().unwrap());
    }
    let status = json!({"uuid": "u", "state": "waiting", "finished": false, "error": null,
                        "started_at": "2026-01-01T00:00:00", "finished_at": null,
                        "links": [{"href": "h", "rel": "self"}]});
    let get = |path: &str, status: u16, body: &Value| {
        check_response(
            &Method::GET,
            path,
            status,
            &headers,
            body.to_string().as_bytes(),
        )
    };
    get("/v1/introspection/node-1", 200, &status).unwrap();
    get("/v1/introspection/node-1/", 200, &status).unwrap();
    let mut bad = status.clone();
    bad["state"] = json!("sleeping");
    let e = get("/v1/introspection/node-1", 200, &bad).unwrap_err();
    assert!(e.contains("/state"), "{e}");
    bad = status.clone();
    bad["extra"] = json!(1);
    assert!(get("/v1/introspection/node-1", 200, &bad).is_err());
    let e = get("/v1/introspection/node-1", 201, &status).unwrap_err();
    assert!(e.contains("status 201 is not documented"), "{e}");
    let error = json!({"error": {"message": "m"}});
    get("/v1/introspection/node-1", 404, &error).unwrap();
    assert!(get("/v1/introspection/node-1", 404, &json!({"message": "m"})).is_err());
    // Unknown URLs and methods answer errors, and only with their statuses.
    get("/v2/x/y", 404, &error).unwrap();
    assert!(get("/v2/x/y", 200, &json!({})).is_err());
    check_response(
        &Method::PUT,
        "/v1/rules",
        405,
        &headers,
        error.to_string().as_bytes(),
    )
    .unwrap();
    // A literal segment wins over a parameter, as in the router.
    assert_eq!(
        template_of(document(), "/v1/rules/evaluate"),
        Some("/v1/rules/evaluate")
    );
    assert_eq!(
        template_of(document(), "/v1/rules/abc"),
        Some("/v1/rules/{uuid}")
    );
    assert_eq!(template_of(document(), "/v1"), Some("/{version}"));
    assert_eq!(template_of(document(), "/"), Some("/"));
    // A missing version header, a body where none is documented, the media type.
    let mut bare = headers.clone();
    bare.remove("x-openstack-request-id");
    let e = check_response(&Method::DELETE, "/v1/rules", 204, &bare, b"").unwrap_err();
    assert!(e.contains("x-openstack-request-id"), "{e}");
    assert!(check_response(&Method::DELETE, "/v1/rules", 204, &headers, b"{}").is_err());
    check_response(&Method::DELETE, "/v1/rules", 204, &headers, b"").unwrap();
    let e = check_response(&Method::GET, "/metrics", 200, &headers, b"x 1").unwrap_err();
    assert!(e.contains("application/json is not documented"), "{e}");
}

/// Runs `tool` of the test bed's venv-openapi (at most 300 s) in the app's
/// directory and gives its standard output; fails the test when it cannot
/// run or exits non-zero, with what it printed.
async fn run_venv_openapi(app: &TestApp, tool: &str, args: &[&str]) -> String {
    let path = format!("{}/venv-openapi/bin/{tool}", crate::bed::env("TESTBED_DIR"));
    let run = tokio::process::Command::new(&path)
        .current_dir(app.dir.path())
        .args(args)
        .env("no_proxy", "127.0.0.1")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(300), run)
        .await
        .unwrap_or_else(|_| panic!("{tool} did not finish within 300 s"))
        .unwrap_or_else(|e| {
            panic!("{path} cannot run ({e}): install it with scripts/testbed/install.sh")
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{tool} found a problem with the document or the answers:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// openapi-spec-validator (the test bed's venv-openapi) on the served
/// document: the document is valid OpenAPI 3.1.
#[cfg_attr(
    not(bed_venv),
    ignore = "needs the test bed's venvs (TESTBED_DIR with venv-openapi, INSPECTOR_TEST_VENV)"
)]
#[tokio::test]
async fn the_served_document_is_valid_openapi_3_1() {
    let app = TestApp::spawn().await;
    let text = app.get("/v1/openapi.json").await.text().await.unwrap();
    std::fs::write(app.dir.path().join("openapi.json"), &text).unwrap();
    let stdout = run_venv_openapi(&app, "openapi-spec-validator", &["openapi.json"]).await;
    assert!(stdout.contains("OK"), "{stdout}");
    app.finish().await;
}

/// schemathesis (venv-openapi) sends a bounded, seeded set of generated
/// requests, valid and not, to every operation of the served document and
/// checks each answer's status, media type, headers and body against it.
#[cfg_attr(
    not(bed_venv),
    ignore = "needs the test bed's venvs (TESTBED_DIR with venv-openapi, INSPECTOR_TEST_VENV)"
)]
#[tokio::test]
async fn generated_requests_get_answers_the_document_describes() {
    let app = TestApp::spawn().await;
    let url = app.url("/v1/openapi.json");
    let args = [
        "run",
        &url,
        "--max-examples",
        "10",
        "--seed",
        "1",
        "--generation-deterministic",
        "--request-timeout",
        "10",
        "--no-color",
        "--checks",
        "status_code_conformance,content_type_conformance,response_headers_conformance,\
         response_schema_conformance,negative_data_rejection",
    ];
    let stdout = run_venv_openapi(&app, "st", &args).await;
    // Every operation schemathesis selected from the document was tested.
    let number_after = |label: &str| {
        stdout
            .lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .map(|rest| rest.trim().split('/').next().unwrap_or_default().to_owned())
            .unwrap_or_else(|| panic!("no {label:?} line in:\n{stdout}"))
    };
    let selected = number_after("Selected:");
    assert!(selected.parse::<u32>().is_ok_and(|n| n > 20), "{stdout}");
    assert_eq!(number_after("Tested:"), selected, "{stdout}");
    app.finish().await;
}

/// A stand-in for the service whose `GET /v1/rules` answers 200 with every
/// header the document requires but a body without `rules`; serves until
/// the test ends.
async fn service_with_a_wrong_body() -> String {
    inspector::tls::install_crypto_provider();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = || async {
        (
            [
                ("content-type", "application/json"),
                ("x-openstack-ironic-inspector-api-minimum-version", "1.0"),
                ("x-openstack-ironic-inspector-api-maximum-version", "1.19"),
                ("x-openstack-request-id", "req-1"),
            ],
            "{}",
        )
    };
    let app = axum::Router::new().route("/v1/rules", axum::routing::get(answer));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// What `check` panicked with, failing the test if it did not panic.
fn panic_message(check: impl FnOnce()) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(check))
        .expect_err("the check passed");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// The checking proxy (what subprocess clients go through) reports an
/// answer that differs from the document, cannot pass when nothing went
/// through it, and passes the real service's answers.
#[tokio::test]
async fn the_checking_proxy_reports_answers_that_differ_from_the_document() {
    let wrong = service_with_a_wrong_body().await;
    let proxy = checking_proxy("127.0.0.1:0", &wrong).await;
    let message = panic_message(|| proxy.assert_answers_passed());
    assert!(message.contains("no request went through"), "{message}");
    let client = Client::builder().no_proxy().build().unwrap();
    let answer = client
        .get(format!("{}/v1/rules", proxy.url))
        .send()
        .await
        .unwrap();
    // The client gets the answer as it was.
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "{}");
    let message = panic_message(|| proxy.assert_answers_passed());
    assert!(
        message.contains("1 of 1 answers failed") && message.contains("GET /v1/rules (200 OK)"),
        "{message}"
    );
    assert!(message.contains("rules"), "{message}");

    let app = TestApp::spawn().await;
    let proxy = checking_proxy("127.0.0.1:0", &app.url("")).await;
    for path in ["/", "/v1", "/v1/rules", "/v1/introspection/nowhere"] {
        client
            .get(format!("{}{path}", proxy.url))
            .send()
            .await
            .unwrap();
    }
    proxy.assert_answers_passed();
    app.finish().await;
}

/// A test's own reqwest client with `send_checked` fails on such an answer.
#[tokio::test]
#[should_panic(
    expected = "the response to GET /v1/rules (200 OK) does not match the OpenAPI document"
)]
async fn send_checked_fails_on_an_answer_that_differs_from_the_document() {
    let wrong = service_with_a_wrong_body().await;
    let client = Client::builder().no_proxy().build().unwrap();
    let _ = client
        .get(format!("{wrong}/v1/rules?x=1"))
        .send_checked()
        .await;
}
