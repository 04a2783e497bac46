//! Version negotiation, discovery documents and the conventions every
//! response follows (upstream-behaviour
//! §api-conventions, §api-errors, §api-versions).

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, assert_error, assert_error_prefix, json_with_status};

const LEGACY: &str = "X-OpenStack-Ironic-Inspector-API-Version";
const STANDARD: &str = "OpenStack-API-Version";

fn assert_version_headers(response: &reqwest::Response) {
    let headers = response.headers();
    assert_eq!(
        headers["x-openstack-ironic-inspector-api-minimum-version"],
        "1.0"
    );
    assert_eq!(
        headers["x-openstack-ironic-inspector-api-maximum-version"],
        "1.19"
    );
    assert!(
        headers["x-openstack-request-id"]
            .to_str()
            .unwrap()
            .starts_with("req-")
    );
}

#[tokio::test]
async fn root_lists_the_current_version_with_an_absolute_link() {
    let app = TestApp::spawn().await;
    let response = app.get("/").await;
    assert_version_headers(&response);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = json_with_status(response, 200).await;
    let href = format!("http://{}/v1", app.addr);
    assert_eq!(
        body,
        json!({"versions": [{"id": "1.19", "status": "CURRENT", "links": [{"href": href, "rel": "self"}]}]})
    );
}

#[tokio::test]
async fn v1_lists_its_resources() {
    let app = TestApp::spawn().await;
    for path in ["/v1", "/v1/"] {
        let body = json_with_status(app.get(path).await, 200).await;
        let names: Vec<&str> = body["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["continue", "introspection", "rules"]);
        assert_eq!(
            body["resources"][1]["links"][0]["href"],
            format!("http://{}/v1/introspection", app.addr)
        );
    }
}

#[tokio::test]
async fn other_single_segments_are_unknown_versions() {
    let app = TestApp::spawn().await;
    assert_error(app.get("/v2").await, 404, "Version v2 not found.").await;
    assert_error(
        app.get("/continue").await,
        404,
        "Version continue not found.",
    )
    .await;
}

#[tokio::test]
async fn json_is_compact_sorted_and_ends_with_a_newline() {
    let app = TestApp::spawn().await;
    let text = app.get("/").await.text().await.unwrap();
    assert!(
        text.starts_with("{\"versions\":[{\"id\":\"1.19\",\"links\":[{\"href\":"),
        "{text}"
    );
    assert!(text.ends_with("}]}\n"), "{text:?}");
}

#[tokio::test]
async fn links_follow_proxy_headers() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::GET, "/")
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-Host", "inspector.example")
        .header("X-Forwarded-Prefix", "/introspection")
        .send()
        .await
        .unwrap();
    let body = json_with_status(response, 200).await;
    assert_eq!(
        body["versions"][0]["links"][0]["href"],
        "https://inspector.example/introspection/v1"
    );
}

#[tokio::test]
async fn every_supported_version_and_latest_are_accepted() {
    let app = TestApp::spawn().await;
    for minor in 0..=19 {
        let response = app
            .request(Method::GET, "/v1/rules")
            .header(LEGACY, format!("1.{minor}"))
            .send()
            .await
            .unwrap();
        assert_version_headers(&response);
        assert_eq!(response.status(), 200, "1.{minor}");
    }
    for value in ["latest", "LATEST"] {
        let response = app
            .request(Method::GET, "/v1/rules")
            .header(LEGACY, value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

#[tokio::test]
async fn unsupported_versions_get_406_with_version_headers() {
    let app = TestApp::spawn().await;
    for (value, shown) in [("1.20", "1.20"), ("2.0", "2.0"), ("0.9", "0.9")] {
        let response = app
            .request(Method::GET, "/v1/rules")
            .header(LEGACY, value)
            .send()
            .await
            .unwrap();
        assert_version_headers(&response);
        assert_error(
            response,
            406,
            &format!("Unsupported API version {shown}, supported range is 1.0 to 1.19"),
        )
        .await;
    }
    // Checked before routing: an unknown URL is still a 406.
    let response = app
        .request(Method::GET, "/no/such/thing")
        .header(LEGACY, "9.9")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 406);
}

#[tokio::test]
async fn malformed_versions_get_400_not_500() {
    let app = TestApp::spawn().await;
    for value in ["", "1", "abc", "1.x", "1.2.3", "v1.1"] {
        let response = app
            .request(Method::GET, "/v1/rules")
            .header(LEGACY, value)
            .send()
            .await
            .unwrap();
        assert_version_headers(&response);
        assert_error(
            response,
            400,
            "Malformed API version: expected string in form of X.Y or latest",
        )
        .await;
    }
}

#[tokio::test]
async fn the_standard_header_is_honoured_and_the_legacy_one_wins() {
    let app = TestApp::spawn().await;
    let rule = json!({"actions": [{"action": "fail", "message": "boom"}]});
    let created = |version_header: (&'static str, &'static str)| {
        app.request(Method::POST, "/v1/rules")
            .header(version_header.0, version_header.1)
            .json(&rule)
            .send()
    };
    assert_eq!(
        created((STANDARD, "baremetal-introspection 1.5"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        created((STANDARD, "baremetal-introspection 1.6"))
            .await
            .unwrap()
            .status(),
        201
    );
    let response = app
        .request(Method::POST, "/v1/rules")
        .header(LEGACY, "1.2")
        .header(STANDARD, "baremetal-introspection 1.9")
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = app
        .request(Method::GET, "/v1/rules")
        .header(STANDARD, "baremetal-introspection 1.50")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 406);
}

#[tokio::test]
async fn unknown_routes_get_a_json_404() {
    let app = TestApp::spawn().await;
    for path in ["/v1/nothing/here", "/v1/introspection/a/b/c/d"] {
        let response = app.get(path).await;
        assert_version_headers(&response);
        assert_error_prefix(
            response,
            404,
            "404 Not Found: The requested URL was not found on the server.",
        )
        .await;
    }
}

/// A path segment that is not UTF-8 once decoded is refused with the
/// API's JSON error body, as every other error of its routes.
#[tokio::test]
async fn segments_that_are_not_utf8_get_a_json_400() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/%ff"),
        (Method::GET, "/v1/introspection/%ff"),
        (Method::POST, "/v1/introspection/%ff"),
        (Method::POST, "/v1/introspection/%ff/abort"),
        (Method::GET, "/v1/introspection/%ff/data"),
        (Method::GET, "/v1/introspection/%ff/data/unprocessed"),
        (Method::GET, "/v1/rules/%c3%28"),
        (Method::DELETE, "/v1/rules/%c3%28"),
    ] {
        let response = app.request(method.clone(), path).send().await.unwrap();
        assert_version_headers(&response);
        assert_error_prefix(response, 400, "Invalid URL: ").await;
    }
}

#[tokio::test]
async fn wrong_methods_get_a_json_405() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::PUT, "/v1/rules"),
        (Method::PATCH, "/v1/introspection"),
        (Method::POST, "/"),
    ] {
        let response = app.request(method.clone(), path).send().await.unwrap();
        assert_version_headers(&response);
        assert_error_prefix(response, 405, "405 Method Not Allowed").await;
    }
}

#[tokio::test]
async fn trailing_slashes_are_ignored() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/v1/rules/").await.status(), 200);
    assert_eq!(app.get("/v1/introspection/").await.status(), 200);
}

#[tokio::test]
async fn the_health_check_is_off_by_default_and_open_when_enabled() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthcheck").await.status(), 404);
    let app = TestApp::spawn_with(|c| c.healthcheck.enabled = true).await;
    // No version negotiation either: a bogus version header does not matter.
    let response = app
        .request(Method::GET, "/healthcheck")
        .header(LEGACY, "9.9")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "OK");
}

#[tokio::test]
async fn metrics_count_requests_and_nodes() {
    let app = TestApp::spawn().await;
    app.get("/v1/rules").await;
    app.get("/v1/no/such/route").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(
            "inspector_http_requests_total{method=\"GET\",route=\"/v1/rules\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("route=\"unmatched\",status=\"404\""),
        "{text}"
    );
    assert!(
        text.contains("# TYPE inspector_http_request_duration_seconds histogram"),
        "{text}"
    );
    assert!(!text.contains("inspector_nodes{"), "no nodes yet: {text}");
}
