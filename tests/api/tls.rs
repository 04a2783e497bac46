//! `[DEFAULT] use_ssl`: the shipped binary serving the API over HTTPS, with
//! certificates made by the `openssl` command at test time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use serde_json::{Value, json};

use crate::bed::{Ironic, env, random_mac};
use crate::binary::{Served, free_port, serve_until_answered, spawn, write_config};
use crate::helpers::TestApp;
use crate::helpers::eventually;
use crate::legacy::{inspect_until_waiting, manageable_with_the_inventory, node_with_inspector};
use crate::openapi::SendChecked;
use crate::payloads::{ipa_result, run_ipa_callback, testbed_data, with_macs};
use crate::processing::Machine;

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the openssl command is needed by the TLS tests");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA (`ca.pem`) in `dir`, created once per directory.
fn make_ca(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=inspector test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// `NAME.pem` and `NAME.key` signed by the CA of `dir`, for 127.0.0.1.
fn make_leaf(dir: &Path, name: &str, serial: &str, usage: &str) {
    let ext = format!("{name}.ext");
    std::fs::write(
        dir.join(&ext),
        format!(
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage={usage}\n"
        ),
    )
    .unwrap();
    let (key, csr, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN={name}"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            serial,
            "-days",
            "2",
            "-out",
            &pem,
            "-extfile",
            &ext,
        ],
    );
}

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        make_ca(dir.path());
        make_leaf(dir.path(), "server", "1001", "serverAuth");
        make_leaf(dir.path(), "client", "2001", "clientAuth");
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn ssl_section(&self, extra: &str) -> String {
        format!(
            "auth_strategy = noauth\nuse_ssl = true\n[ssl]\ncert_file = {}\nkey_file = {}\n{extra}\n\
             [ironic]\nauth_type = none\nendpoint_override = http://127.0.0.1:9\n[pxe_filter]\ndriver = noop\n",
            self.path("server.pem").display(),
            self.path("server.key").display()
        )
    }

    fn ca(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_pem(&std::fs::read(self.path("ca.pem")).unwrap()).unwrap()
    }
}

fn https_client(pki: &Pki, identity: Option<&str>) -> reqwest::Client {
    https_client_as(pki, identity.map(|name| (pki, name)))
}

/// Trusts the CA of `pki`; presents the certificate `name` of `issuer`.
fn https_client_as(pki: &Pki, identity: Option<(&Pki, &str)>) -> reqwest::Client {
    inspector::tls::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([pki.ca()])
        .timeout(Duration::from_secs(10));
    if let Some((issuer, name)) = identity {
        let mut pem = std::fs::read(issuer.path(&format!("{name}.pem"))).unwrap();
        pem.extend(std::fs::read(issuer.path(&format!("{name}.key"))).unwrap());
        builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    builder.build().unwrap()
}

/// Starts the TLS server and waits until it answers `GET /v1` over HTTPS.
async fn serve_tls(config: &Path, port: u16, client: &reqwest::Client) -> Served {
    let url = format!("https://127.0.0.1:{port}/v1");
    serve_until_answered(config, port, client, &url).await
}

#[tokio::test]
async fn https_serves_the_api_and_plain_http_is_closed_promptly() {
    let pki = Pki::new();
    let port = free_port();
    let config = write_config(pki.dir.path(), port, &pki.ssl_section(""));
    let client = https_client(&pki, None);
    let served = serve_tls(&config, port, &client).await;

    let answer = client
        .get(format!("https://127.0.0.1:{port}/v1"))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let over_https = answer.text().await.unwrap();
    assert!(
        over_https.contains(&format!("https://127.0.0.1:{port}/v1")),
        "links use https: {over_https}"
    );

    // Plain HTTP on the TLS port: the handshake fails and the connection is
    // closed, instead of the client waiting for an answer that never comes.
    let started = Instant::now();
    let mut plain = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    plain
        .write_all(b"GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut reply = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut reply)).await;
    assert!(read.is_ok(), "plain HTTP not closed within 5 s");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        !String::from_utf8_lossy(&reply).contains("HTTP/1.1 200"),
        "plain HTTP answered: {reply:?}"
    );

    // A client that connects and says nothing is let go by the handshake timeout.
    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut nothing = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(20), silent.read_to_end(&mut nothing)).await;
    assert!(read.is_ok(), "a silent client kept its connection for 20 s");

    // The same API as over plain HTTP, on the same port.
    drop(served);
    let plain_config = write_config(
        pki.dir.path(),
        port,
        "auth_strategy = noauth\n[ironic]\nauth_type = none\nendpoint_override = http://127.0.0.1:9\n[pxe_filter]\ndriver = noop\n",
    );
    let served = crate::binary::serve(&plain_config, port).await;
    let over_http = reqwest::get(served.url("/v1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(over_https.replace("https://", "http://"), over_http);
}

async fn exits_naming(config: &Path, option: &str) {
    let mut served = spawn(config, 0);
    let code = served.wait_exit(Duration::from_secs(20)).await;
    assert_ne!(code, Some(0));
    let log = served.log_text();
    assert!(log.contains(option), "{option} not named: {log}");
    let (code, out, err) =
        crate::binary::run(&["config", "check", "--config-file", config.to_str().unwrap()]);
    assert_ne!(code, 0, "config check passed: {out}{err}");
    assert!(
        err.contains(option),
        "{option} not named by config check: {err}"
    );
}

#[tokio::test]
async fn bad_certificate_files_stop_start_up_naming_the_option() {
    let pki = Pki::new();
    let port = free_port();
    let mismatched = pki.ssl_section("").replace(
        &pki.path("server.key").display().to_string(),
        &pki.path("client.key").display().to_string(),
    );
    let config = write_config(pki.dir.path(), port, &mismatched);
    exits_naming(&config, "[ssl] key_file").await;

    let missing = pki.ssl_section("").replace(
        &pki.path("server.pem").display().to_string(),
        &pki.path("absent.pem").display().to_string(),
    );
    let config = write_config(pki.dir.path(), port, &missing);
    exits_naming(&config, "[ssl] cert_file").await;

    let missing_ca = pki.ssl_section(&format!(
        "ca_file = {}",
        pki.path("absent-ca.pem").display()
    ));
    let config = write_config(pki.dir.path(), port, &missing_ca);
    exits_naming(&config, "[ssl] ca_file").await;
}

#[tokio::test]
async fn ca_file_requires_a_client_certificate_signed_by_it() {
    let pki = Pki::new();
    let port = free_port();
    let section = pki.ssl_section(&format!("ca_file = {}", pki.path("ca.pem").display()));
    let config = write_config(pki.dir.path(), port, &section);
    let with_cert = https_client(&pki, Some("client"));
    let _served = serve_tls(&config, port, &with_cert).await;
    let url = format!("https://127.0.0.1:{port}/v1");

    let answer = with_cert.get(&url).send_checked().await.unwrap();
    assert_eq!(answer.status(), 200);
    let refused = https_client(&pki, None).get(&url).send_checked().await;
    assert!(
        refused.is_err(),
        "served without a client certificate: {refused:?}"
    );
    // The server's own certificate is not a client certificate.
    let wrong = https_client(&pki, Some("server"))
        .get(&url)
        .send_checked()
        .await;
    assert!(
        wrong.is_err(),
        "served with a server certificate as client: {wrong:?}"
    );
}

async fn tls_connect(pki: &Pki, port: u16) -> TlsStream<TcpStream> {
    tls_handshake(pki, port, rustls::ALL_VERSIONS, &[])
        .await
        .unwrap()
}

/// A TLS handshake offering only `versions` and, unless empty, `suites`.
async fn tls_handshake(
    pki: &Pki,
    port: u16,
    versions: &[&'static rustls::SupportedProtocolVersion],
    suites: &[rustls::CipherSuite],
) -> std::io::Result<TlsStream<TcpStream>> {
    inspector::tls::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(pki.path("ca.pem")).unwrap())
        .unwrap();
    let mut provider = rustls::crypto::ring::default_provider();
    if !suites.is_empty() {
        provider
            .cipher_suites
            .retain(|s| suites.contains(&s.suite()));
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
}

fn peer_certificate(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

/// One keep-alive `GET /v1` on an open connection; the status line.
async fn get_v1(stream: &mut TlsStream<TcpStream>) -> String {
    stream
        .write_all(b"GET /v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert_eq!(read, 1, "connection closed; so far: {head:?}");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("a content-length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    head.lines().next().unwrap().to_string()
}

#[tokio::test]
async fn sighup_reloads_the_certificate_and_keeps_open_connections() {
    let pki = Pki::new();
    let port = free_port();
    let config = write_config(pki.dir.path(), port, &pki.ssl_section(""));
    let served = serve_tls(&config, port, &https_client(&pki, None)).await;
    let first = CertificateDer::from_pem_file(pki.path("server.pem"))
        .unwrap()
        .to_vec();

    let mut open = tls_connect(&pki, port).await;
    assert_eq!(peer_certificate(&open), first);
    assert_eq!(get_v1(&mut open).await, "HTTP/1.1 200 OK");

    make_leaf(pki.dir.path(), "server", "1002", "serverAuth");
    let second = CertificateDer::from_pem_file(pki.path("server.pem"))
        .unwrap()
        .to_vec();
    assert_ne!(first, second);
    served.signal("HUP");

    let fresh = eventually(
        "a new connection sees the new certificate",
        Duration::from_secs(10),
        || {
            let pki = &pki;
            let second = second.clone();
            async move {
                let stream = tls_connect(pki, port).await;
                if peer_certificate(&stream) == second {
                    Ok(stream)
                } else {
                    Err("still the old certificate".to_string())
                }
            }
        },
    )
    .await;
    drop(fresh);
    // The connection opened before the reload still works, with its certificate.
    assert_eq!(get_v1(&mut open).await, "HTTP/1.1 200 OK");
    assert_eq!(peer_certificate(&open), first);
    assert!(served.log_text().contains("reloaded the TLS certificate"));
}

/// python-ironic-inspector-client through the `openstack` CLI, over HTTPS.
async fn openstack_over_https(
    port: u16,
    cacert: Option<&Path>,
    args: &[&str],
) -> std::process::Output {
    let venv = crate::bed::env("INSPECTOR_TEST_VENV");
    let mut command = tokio::process::Command::new(format!("{venv}/bin/openstack"));
    if let Some(cacert) = cacert {
        command.arg("--os-cacert").arg(cacert);
    }
    command
        .arg("--inspector-url")
        .arg(format!("https://127.0.0.1:{port}"))
        .args(["baremetal", "introspection"])
        .args(args)
        .env("OS_AUTH_TYPE", "none")
        .env("OS_ENDPOINT", "http://127.0.0.1:9")
        .env("no_proxy", "127.0.0.1")
        .output()
        .await
        .expect("openstack CLI in the test venv")
}

#[tokio::test]
#[cfg_attr(
    not(bed_venv),
    ignore = "needs the test bed (venv-ironic): run scripts/test.sh"
)]
async fn the_cli_manages_rules_over_https_with_the_ca_file() {
    let pki = Pki::new();
    let port = free_port();
    let config = write_config(pki.dir.path(), port, &pki.ssl_section(""));
    let _served = serve_tls(&config, port, &https_client(&pki, None)).await;
    let rules = pki.path("rules.json");
    std::fs::write(
        &rules,
        r#"[{"description": "over https", "actions": [{"action": "fail", "message": "x"}]}]"#,
    )
    .unwrap();
    let ca = pki.path("ca.pem");

    let imported = openstack_over_https(
        port,
        Some(&ca),
        &["rule", "import", rules.to_str().unwrap()],
    )
    .await;
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let listed = openstack_over_https(port, Some(&ca), &["rule", "list", "-f", "json"]).await;
    let stdout = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed[0]["Description"], "over https", "{listed}");

    // Without the CA the client refuses the server's certificate.
    let untrusted = openstack_over_https(port, None, &["rule", "list"]).await;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&untrusted.stdout),
        String::from_utf8_lossy(&untrusted.stderr)
    );
    assert!(said.contains("CERTIFICATE_VERIFY_FAILED"), "{said}");
}

#[tokio::test]
#[cfg_attr(
    not(bed_venv),
    ignore = "needs the test bed (venv-ironic): run scripts/test.sh"
)]
async fn openstacksdk_talks_https_with_the_ca_file() {
    let pki = Pki::new();
    let port = free_port();
    let config = write_config(pki.dir.path(), port, &pki.ssl_section(""));
    let _served = serve_tls(&config, port, &https_client(&pki, None)).await;
    let script = r#"
import json, sys, uuid
import openstack
conn = openstack.connection.Connection(auth_type="none", cacert=sys.argv[2],
    baremetal_introspection_endpoint_override=sys.argv[1])
bi = conn.baremetal_introspection
rule = bi.create_introspection_rule(uuid=str(uuid.uuid4()), actions=[{"action": "fail", "message": "x"}], description="sdk over https")
print(json.dumps({"rules": [r.description for r in bi.introspection_rules()]}))
"#;
    let printed = crate::clients::run_python(
        script,
        &[
            format!("https://127.0.0.1:{port}"),
            pki.path("ca.pem").display().to_string(),
        ],
    )
    .await;
    assert_eq!(printed, serde_json::json!({"rules": ["sdk over https"]}));
}

/// The `[ssl]` section of `pki` with `[ironic]` pointing at `ironic_url`.
fn ssl_section_with_ironic(pki: &Pki, extra: &str, ironic_url: &str) -> String {
    pki.ssl_section(extra).replace(
        "endpoint_override = http://127.0.0.1:9",
        &format!("endpoint_override = {ironic_url}\nmax_retries = 5\nretry_interval = 1"),
    )
}

async fn wait_for_state_over_https(
    client: &reqwest::Client,
    port: u16,
    uuid: &str,
    state: &str,
) -> serde_json::Value {
    eventually(
        &format!("introspection of {uuid} is {state}"),
        Duration::from_secs(30),
        || async {
            let status: serde_json::Value = client
                .get(format!("https://127.0.0.1:{port}/v1/introspection/{uuid}"))
                .send_checked()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            if status["state"] == state {
                Ok(status)
            } else {
                Err(status.to_string())
            }
        },
    )
    .await
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_ironic, bed_venv)),
    ignore = "needs the test bed (Ironic, venv-ironic): run scripts/test.sh"
)]
async fn ipa_posts_over_https_with_its_cafile_or_insecure_and_ironic_gets_the_node() {
    let pki = Pki::new();
    let port = free_port();
    let ironic = Ironic::new();
    let config = write_config(
        pki.dir.path(),
        port,
        &ssl_section_with_ironic(&pki, "", &ironic.url),
    );
    let client = https_client(&pki, None);
    let _served = serve_tls(&config, port, &client).await;
    let callback = format!("https://127.0.0.1:{port}/v1/continue");
    let ca = pki.path("ca.pem").display().to_string();

    // Without the CA IPA refuses our certificate (one attempt: IPA retries
    // connection errors for about a minute).
    let untrusted = run_ipa_callback(pki.dir.path(), &callback, "{}", &["--attempts", "1"]).await;
    assert!(!untrusted.status.success());
    let said = String::from_utf8_lossy(&untrusted.stderr);
    assert!(said.contains("CERTIFICATE_VERIFY_FAILED"), "{said}");

    for ipa_tls in [&["--cafile", ca.as_str()][..], &["--insecure"][..]] {
        let mac = random_mac();
        let uuid = ironic.manageable_node(json!({})).await;
        ironic.create_port(&uuid, &mac).await;
        let started = client
            .post(format!(
                "https://127.0.0.1:{port}/v1/introspection/{uuid}?manage_boot=false"
            ))
            .send_checked()
            .await
            .unwrap();
        assert_eq!(started.status(), 202, "{:?}", started.text().await);
        let document = with_macs(
            &testbed_data("ipa-inventory-this-machine.json"),
            &[("02:fc:00:00:00:01", &mac)],
        );

        let posted = run_ipa_callback(pki.dir.path(), &callback, &document, ipa_tls).await;
        assert_eq!(
            ipa_result(&posted),
            json!({"uuid": uuid}),
            "IPA {ipa_tls:?}"
        );
        let status = wait_for_state_over_https(&client, port, &uuid, "finished").await;
        assert_eq!(status["error"], json!(null), "{status}");
        let node = ironic.node(&uuid).await;
        let p = &node["properties"];
        assert_eq!(
            (&p["memory_mb"], &p["cpus"], &p["local_gb"]),
            (&json!("24576"), &json!("2"), &json!("255")),
            "IPA {ipa_tls:?}: {p}"
        );
        let ports = ironic.ports(&uuid).await;
        assert_eq!(ports.len(), 1);
        assert_eq!(ports[0]["address"], mac.as_str());
    }
}

/// A private Ironic 32.1.0 (scripts/testbed/ironic.sh) whose `inspector`
/// inspect interface calls `inspector_url` trusting `cafile`; stopped on drop.
struct Ironic32 {
    port: u16,
}

impl Ironic32 {
    async fn start(inspector_url: &str, cafile: &Path) -> Self {
        let port = free_port();
        let this = Self { port };
        let output = tokio::process::Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/testbed/ironic.sh"
        ))
        .arg("start")
        .env("IRONIC_VENV", "32")
        .env("IRONIC_PORT", port.to_string())
        .env("INSPECTOR_URL", inspector_url)
        .env("INSPECTOR_CAFILE", cafile)
        .output()
        .await
        .expect("scripts/testbed/ironic.sh");
        assert!(
            output.status.success(),
            "Ironic 32 did not start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        this
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Ironic32 {
    fn drop(&mut self) {
        let _ = Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/testbed/ironic.sh"
        ))
        .arg("stop")
        .env("IRONIC_PORT", self.port.to_string())
        .output();
        // Its state directory (config, database, log) goes with it.
        if let Ok(testbed) = std::env::var("TESTBED_DIR") {
            let _ = std::fs::remove_dir_all(format!("{testbed}/ironic-{}", self.port));
        }
    }
}

#[tokio::test]
#[cfg_attr(
    not(bed_ironic32),
    ignore = "needs the test bed (Ironic 32): run scripts/test.sh"
)]
async fn ironic_32_inspects_through_us_over_https_with_its_cafile() {
    // The venvs of the bed; ironic.sh finds them through TESTBED_DIR.
    env("TESTBED_DIR");
    let pki = Pki::new();
    let port = free_port();
    let ironic32 = Ironic32::start(&format!("https://127.0.0.1:{port}"), &pki.path("ca.pem")).await;
    let ironic = Ironic::at(&ironic32.url());
    // Ironic 32 fetches the data it stores as the node's inventory.
    let section = format!(
        "{}\n[processing]\nstore_data = database\n",
        ssl_section_with_ironic(&pki, "", &ironic.url)
    );
    let config = write_config(pki.dir.path(), port, &section);
    let client = https_client(&pki, None);
    let served = serve_tls(&config, port, &client).await;
    let m = Machine::new();
    let uuid = node_with_inspector(&ironic, &m, "fake").await;
    inspect_until_waiting(&ironic, &uuid).await;
    // Ironic reached us over HTTPS: we have the introspection it started.
    wait_for_state_over_https(&client, port, &uuid, "waiting").await;

    let answer = client
        .post(format!("https://127.0.0.1:{port}/v1/continue"))
        .json(&m.data())
        .send_checked()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{:?}", answer.text().await);
    manageable_with_the_inventory(&ironic, &uuid).await;
    drop(served);
}

#[tokio::test]
async fn ssl_version_restricts_the_protocol_and_unknown_ones_stop_start_up() {
    use rustls::version::{TLS12, TLS13};
    let pki = Pki::new();
    for (version, refused, accepted) in [("TLSv1_3", &TLS12, &TLS13), ("tlsv1_2", &TLS13, &TLS12)] {
        let port = free_port();
        let section = pki.ssl_section(&format!("version = {version}"));
        let config = write_config(pki.dir.path(), port, &section);
        let _served = serve_tls(&config, port, &https_client(&pki, None)).await;
        let failed = tls_handshake(&pki, port, &[refused], &[]).await;
        assert!(
            failed.is_err(),
            "version = {version}: a {refused:?} client got through"
        );
        let stream = tls_handshake(&pki, port, &[accepted], &[]).await.unwrap();
        assert_eq!(
            stream.get_ref().1.protocol_version(),
            Some(accepted.version)
        );
    }

    // What rustls cannot serve is said at start and by config check, and
    // TLS 1.2 and 1.3 are served instead.
    let port = free_port();
    let config = write_config(pki.dir.path(), port, &pki.ssl_section("version = TLSv1_1"));
    let served = serve_tls(&config, port, &https_client(&pki, None)).await;
    let log = served.log_text();
    assert!(
        log.contains("WARN") && log.contains("[ssl] version TLSv1_1 is not available"),
        "{log}"
    );
    let (code, _, err) =
        crate::binary::run(&["config", "check", "--config-file", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("WARNING: [ssl] version TLSv1_1 is not available"),
        "{err}"
    );
    drop(served);

    let config = write_config(pki.dir.path(), port, &pki.ssl_section("version = SSLv3"));
    exits_naming(&config, "[ssl] version SSLv3").await;
}

#[tokio::test]
async fn ssl_ciphers_choose_the_tls12_suites_and_a_list_without_any_stops_start_up() {
    use rustls::CipherSuite::{
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    };
    use rustls::version::TLS12;
    let pki = Pki::new();
    let port = free_port();
    // OpenSSL's names; one rustls lacks, reported and ignored.
    let section = pki.ssl_section("ciphers = ECDHE-ECDSA-AES128-GCM-SHA256:AES128-SHA");
    let config = write_config(pki.dir.path(), port, &section);
    let served = serve_tls(&config, port, &https_client(&pki, None)).await;
    let refused = tls_handshake(
        &pki,
        port,
        &[&TLS12],
        &[TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384],
    )
    .await;
    assert!(refused.is_err(), "a suite not in [ssl] ciphers was agreed");
    let stream = tls_handshake(
        &pki,
        port,
        &[&TLS12],
        &[TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256],
    )
    .await
    .unwrap();
    assert_eq!(
        stream
            .get_ref()
            .1
            .negotiated_cipher_suite()
            .map(|s| s.suite()),
        Some(TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
    );
    let log = served.log_text();
    assert!(
        log.contains("[ssl] ciphers: AES128-SHA selects no cipher suite rustls offers"),
        "{log}"
    );
    drop(served);

    let config = write_config(
        pki.dir.path(),
        port,
        &pki.ssl_section("ciphers = AES128-SHA:DES-CBC3-SHA"),
    );
    exits_naming(&config, "[ssl] ciphers").await;
    // Only TLS 1.3 suites while only TLS 1.2 is served.
    let config = write_config(
        pki.dir.path(),
        port,
        &pki.ssl_section("version = TLSv1_2\nciphers = TLS_AES_128_GCM_SHA256"),
    );
    exits_naming(&config, "[ssl] ciphers").await;
}

#[tokio::test]
async fn sighup_rereads_the_ca_file() {
    let pki = Pki::new();
    let other = Pki::new();
    let port = free_port();
    let clients_ca = pki.path("clients-ca.pem");
    std::fs::copy(pki.path("ca.pem"), &clients_ca).unwrap();
    let section = pki.ssl_section(&format!("ca_file = {}", clients_ca.display()));
    let config = write_config(pki.dir.path(), port, &section);
    let served = serve_tls(&config, port, &https_client(&pki, Some("client"))).await;
    let url = format!("https://127.0.0.1:{port}/v1");
    let from_other_ca = || https_client_as(&pki, Some((&other, "client")));
    assert!(from_other_ca().get(&url).send_checked().await.is_err());

    std::fs::copy(other.path("ca.pem"), &clients_ca).unwrap();
    served.signal("HUP");
    eventually(
        "a client of the new CA is let in",
        Duration::from_secs(10),
        || async {
            match from_other_ca().get(&url).send_checked().await {
                Ok(r) if r.status() == 200 => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
    let old_ca_client = https_client(&pki, Some("client"))
        .get(&url)
        .send_checked()
        .await;
    assert!(
        old_ca_client.is_err(),
        "a client of the replaced CA still got in"
    );
}

#[tokio::test]
async fn idle_connections_beyond_the_handshake_cap_wait_instead_of_taking_handshakes() {
    const CAP: usize = 256;
    let pki = Arc::new(Pki::new());
    let port = free_port();
    let config = write_config(pki.dir.path(), port, &pki.ssl_section(""));
    let _served = serve_tls(&config, port, &https_client(&pki, None)).await;

    let mut idle = Vec::new();
    for _ in 0..CAP {
        idle.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    }
    let probe = {
        let pki = pki.clone();
        tokio::spawn(async move {
            tls_handshake(&pki, port, rustls::ALL_VERSIONS, &[])
                .await
                .map(|_| ())
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !probe.is_finished(),
        "a handshake ran while {CAP} silent connections held theirs"
    );
    drop(idle);
    let done = tokio::time::timeout(Duration::from_secs(5), probe).await;
    assert!(
        matches!(done, Ok(Ok(Ok(())))),
        "the waiting handshake did not complete once the silent clients left: {done:?}"
    );
}

/// A TLS terminator on 127.0.0.1 in front of the plain `backend`
/// (`host:port`), presenting `pki`'s server certificate; returns its port.
async fn tls_in_front_of(pki: &Pki, backend: String) -> u16 {
    use rustls::pki_types::PrivateKeyDer;
    inspector::tls::install_crypto_provider();
    let chain = CertificateDer::pem_file_iter(pki.path("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(pki.path("server.key")).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, backend) = (acceptor.clone(), backend.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(&backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}

/// Plain `http` endpoints of Ironic are called on a transport of our own;
/// an `https` one through the keystoneauth-like session, with its TLS
/// options. Both must reach the same end state.
#[tokio::test]
async fn an_ironic_behind_https_is_called_trusting_the_cafile_and_refused_without_it() {
    let pki = Pki::new();
    let ironic = Ironic::new();
    let backend = ironic.url.trim_start_matches("http://").to_string();
    let https = format!("https://127.0.0.1:{}", tls_in_front_of(&pki, backend).await);
    let m = Machine::new();
    let uuid = m.node(&ironic).await;

    let untrusting = TestApp::with_ironic(|c| {
        c.ironic.client.endpoint_override = Some(https.clone());
        c.ironic.max_retries = 0;
    })
    .await;
    let response = untrusting
        .request(
            reqwest::Method::POST,
            &format!("/v1/introspection/{uuid}?manage_boot=false"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let message = response.text().await.unwrap();
    assert!(message.contains("certificate"), "{message}");
    assert_eq!(
        untrusting
            .get(&format!("/v1/introspection/{uuid}"))
            .await
            .status(),
        404
    );

    let ca = pki.path("ca.pem").display().to_string();
    let app = TestApp::with_ironic(|c| {
        c.ironic.client.endpoint_override = Some(https.clone());
        c.ironic.client.cafile = Some(ca);
    })
    .await;
    app.introspect(&uuid, "?manage_boot=false", &m.data()).await;
    let node = ironic.node(&uuid).await;
    assert_eq!(node["properties"]["memory_mb"], "12288", "{node}");
    let macs: Vec<Value> = ironic
        .ports(&uuid)
        .await
        .into_iter()
        .map(|p| p["address"].clone())
        .collect();
    assert!(macs.contains(&json!(m.pxe)), "{macs:?}");
}
