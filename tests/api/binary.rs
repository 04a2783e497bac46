//! The shipped binary, as an operator runs it: a generated inspector.conf,
//! `db upgrade`, `config check`, `serve`, SIGTERM and SIGKILL.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::bed::{Ironic, random_mac};
use crate::helpers::eventually;
use crate::openapi::SendChecked;

pub const BINARY: &str = env!("CARGO_BIN_EXE_inspector");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Served {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Served {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit (bounded) and returns its exit code.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let child = &mut self.child;
        eventually("inspector exited", limit, || {
            std::future::ready(child.try_wait().unwrap())
        })
        .await
        .code()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `inspector.conf` into `dir` with the given extra lines per section.
pub fn write_config(dir: &Path, port: u16, extra: &str) -> PathBuf {
    let path = dir.join("inspector.conf");
    let text = format!(
        "[DEFAULT]\nlisten_address = 127.0.0.1\nlisten_port = {port}\nintrospection_delay = 0\n{extra}\n\
         [database]\nconnection = sqlite:///{db}\n",
        db = dir.join("inspector.sqlite").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

pub fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(BINARY).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Starts `inspector serve` and waits until `GET /v1` answers.
pub async fn serve(config: &Path, port: u16) -> Served {
    let url = format!("http://127.0.0.1:{port}/v1");
    serve_until_answered(config, port, &client(), &url).await
}

/// Starts `inspector serve` without waiting.
pub fn spawn(config: &Path, port: u16) -> Served {
    let log = config.with_extension("log");
    let child = Command::new(BINARY)
        .args(["serve", "--config-file", config.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Served { child, port, log }
}

/// Starts `inspector serve` and waits until `client` gets a 200 from `url`.
pub async fn serve_until_answered(
    config: &Path,
    port: u16,
    client: &reqwest::Client,
    url: &str,
) -> Served {
    let mut served = spawn(config, port);
    eventually("inspector answers GET /v1", Duration::from_secs(20), || {
        if let Some(status) = served.child.try_wait().unwrap() {
            panic!("inspector exited with {status}: {}", served.log_text());
        }
        let (answer, log) = (client.get(url).send_checked(), served.log_text());
        async move {
            match answer.await {
                Ok(r) if r.status() == 200 => Ok(()),
                other => Err(format!("{other:?}; log: {log}")),
            }
        }
    })
    .await;
    served
}

fn client() -> reqwest::Client {
    inspector::tls::install_crypto_provider();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn operator_workflow_with_basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    std::fs::write(
        &htpasswd,
        format!("admin:{}\n", bcrypt::hash("pw", 4).unwrap()),
    )
    .unwrap();
    let port = free_port();
    let extra = format!(
        "auth_strategy = http_basic\nhttp_basic_auth_user_file = {}\n[ironic]\nauth_type = none\nendpoint_override = http://127.0.0.1:9\n[pxe_filter]\ndriver = noop\n",
        htpasswd.display()
    );
    let config = write_config(dir.path(), port, &extra);
    let config_arg = config.to_str().unwrap();

    let (code, out, err) = run(&["config", "check", "--config-file", config_arg]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("configuration OK"), "{out}");
    let (code, out, _) = run(&["db", "upgrade", "--config-file", config_arg]);
    assert_eq!(code, 0);
    assert!(out.contains("created the schema"), "{out}");
    let (code, out, _) = run(&["--config-file", config_arg, "db", "upgrade"]);
    assert_eq!(code, 0);
    assert!(out.contains("the schema is up to date"), "{out}");

    let mut served = serve(&config, port).await;
    let client = client();
    let unauthenticated = client
        .get(served.url("/v1/rules"))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let rule =
        json!({"actions": [{"action": "add-trait", "name": "CUSTOM_X"}], "description": "e2e"});
    let created = client
        .post(served.url("/v1/rules"))
        .basic_auth("admin", Some("pw"))
        .body(rule.to_string())
        .send_checked()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let listed: serde_json::Value = client
        .get(served.url("/v1/rules"))
        .basic_auth("admin", Some("pw"))
        .send_checked()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["rules"][0]["description"], "e2e");

    served.signal("TERM");
    assert_eq!(served.wait_exit(Duration::from_secs(10)).await, Some(0));
    assert!(
        served.log_text().contains("shutting down"),
        "{}",
        served.log_text()
    );
}

#[tokio::test]
async fn config_check_reports_every_problem_with_file_section_and_option() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.conf");
    std::fs::write(
        &config,
        "[DEFAULT]\nauth_strategy = kerberos\ntimeout = soon\nmade_up_option = 1\n[processing]\nadd_ports = some\n",
    )
    .unwrap();
    let (code, _, err) = run(&["config", "check", "--config-file", config.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    let file = config.display().to_string();
    for needle in [
        format!("{file}: [DEFAULT] auth_strategy:"),
        format!("{file}: [DEFAULT] timeout:"),
        format!("{file}: [processing] add_ports:"),
    ] {
        assert!(err.contains(&needle), "missing {needle:?} in:\n{err}");
    }
    // An unknown option is a warning, not an error.
    assert!(!err.contains("made_up_option:"), "{err}");
    let (code, _, err) = run(&["serve", "--config-file", config.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
}

/// An unknown hook name is refused by `config check` and at start,
/// naming the option and the known hooks, before the database is touched.
#[tokio::test]
async fn unknown_hook_names_are_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        free_port(),
        "[processing]\nprocessing_hooks = $default_processing_hooks,nonexistent_hook\n",
    );
    let config = config.to_str().unwrap();
    let (code, _, err) = run(&["config", "check", "--config-file", config]);
    assert_eq!(code, 2, "{err}");
    for needle in [
        "[processing] processing_hooks: The following hook(s) are missing or failed to load: nonexistent_hook",
        "known hooks: ramdisk_error, root_disk_selection, scheduler, validate_interfaces,",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    let (code, _, err) = run(&["serve", "--config-file", config]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("nonexistent_hook"), "{err}");
    assert!(!dir.path().join("inspector.sqlite").exists());
}

#[tokio::test]
async fn unknown_options_only_warn() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        free_port(),
        "made_up_option = 1\n[made_up_section]\nx = 1\n",
    );
    let (code, _, err) = run(&["config", "check", "--config-file", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("WARNING") && err.contains("made_up_option"),
        "{err}"
    );
}

/// A misspelt option or section is reported with the closest known name.
#[tokio::test]
async fn config_check_suggests_the_closest_known_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        free_port(),
        "made_up_option = 1\n[ironic]\nendpont_override = http://127.0.0.1:9\n[ironc]\nx = 1\n",
    );
    let (code, _, err) = run(&["config", "check", "--config-file", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let file = config.display().to_string();
    for line in [
        format!(
            "WARNING: {file}: [ironic] endpont_override: unknown option; did you mean endpoint_override?"
        ),
        format!("WARNING: {file}: [ironc]: unknown section; did you mean [ironic]?"),
        // Nothing close: no suggestion.
        format!("WARNING: {file}: [DEFAULT] made_up_option: unknown option, ignored"),
    ] {
        assert!(
            err.lines().any(|l| l == line),
            "missing {line:?} in:\n{err}"
        );
    }
}

/// `config check --strict` fails on unknown names (for CI pipelines); without
/// it they only warn.
#[tokio::test]
async fn config_check_strict_makes_unknown_names_errors() {
    let dir = tempfile::tempdir().unwrap();
    let clean = write_config(dir.path(), free_port(), "");
    let clean = clean.to_str().unwrap();
    let (code, _, err) = run(&["config", "check", "--strict", "--config-file", clean]);
    assert_eq!(code, 0, "{err}");

    let typo = dir.path().join("typo.conf");
    std::fs::write(&typo, "[ironic]\nendpont_override = http://127.0.0.1:9\n").unwrap();
    let typo = typo.to_str().unwrap();
    let (code, _, err) = run(&[
        "config",
        "check",
        "--config-file",
        clean,
        "--config-file",
        typo,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("WARNING: {typo}: [ironic] endpont_override:")),
        "{err}"
    );
    let (code, out, err) = run(&[
        "config",
        "check",
        "--strict",
        "--config-file",
        clean,
        "--config-file",
        typo,
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&format!(
            "ERROR: {typo}: [ironic] endpont_override: unknown option"
        )),
        "{err}"
    );
    assert!(!out.contains("configuration OK"), "{out}");
}

#[tokio::test]
async fn startup_log_shows_the_listen_address_as_host_and_port() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        port,
        "auth_strategy = noauth\n[ironic]\nauth_type = none\nendpoint_override = http://127.0.0.1:9\n[pxe_filter]\ndriver = noop\n",
    );
    let mut served = serve(&config, port).await;
    served.signal("TERM");
    assert_eq!(served.wait_exit(Duration::from_secs(10)).await, Some(0));
    let log = served.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("inspector is listening"))
        .unwrap_or_else(|| panic!("no listening line in:\n{log}"));
    assert!(
        line.ends_with(&format!("inspector is listening address=127.0.0.1:{port}")),
        "{line}"
    );
}

/// SIGKILL while nodes wait, then restart: nothing lost, timeouts still enforced.
#[tokio::test]
#[cfg_attr(
    not(bed_ironic),
    ignore = "needs the test bed (Ironic): run scripts/test.sh"
)]
async fn sigkill_while_nodes_wait_then_restart() {
    let ironic = Ironic::new();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let ironic_section = format!(
        "[ironic]\nauth_type = none\nendpoint_override = {}\nretry_interval = 1\n[pxe_filter]\ndriver = noop\n",
        ironic.url
    );
    let config = write_config(
        dir.path(),
        port,
        &format!("auth_strategy = noauth\n{ironic_section}"),
    );
    let served = serve(&config, port).await;
    let client = client();
    let mut nodes = Vec::new();
    for _ in 0..3 {
        let uuid = ironic.manageable_node(json!({})).await;
        ironic.create_port(&uuid, &random_mac()).await;
        let r = client
            .post(served.url(&format!("/v1/introspection/{uuid}?manage_boot=false")))
            .send_checked()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        nodes.push(uuid);
    }
    served.signal("KILL");
    drop(served);

    // Restart with a short timeout: the nodes are still there, still
    // waiting, and then the timeout task fails them.
    let config = write_config(
        dir.path(),
        port,
        &format!("auth_strategy = noauth\ntimeout = 3\nclean_up_period = 1\n{ironic_section}"),
    );
    let served = serve(&config, port).await;
    for uuid in &nodes {
        let status: serde_json::Value = client
            .get(served.url(&format!("/v1/introspection/{uuid}")))
            .send_checked()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            status["state"] == "waiting" || status["error"] == "Introspection timeout",
            "{status}"
        );
    }
    for uuid in &nodes {
        let status = eventually(
            &format!("{uuid} timed out"),
            Duration::from_secs(20),
            || async {
                let status: serde_json::Value = client
                    .get(served.url(&format!("/v1/introspection/{uuid}")))
                    .send_checked()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if status["state"] == "error" {
                    Ok(status)
                } else {
                    Err(status)
                }
            },
        )
        .await;
        assert_eq!(status["error"], "Introspection timeout");
    }
}

/// Messages the service sent to a notification socket, as systemd would
/// receive them (`Type=notify`).
struct NotifySocket {
    socket: std::os::unix::net::UnixDatagram,
    /// What to put in `NOTIFY_SOCKET`.
    name: String,
}

impl NotifySocket {
    /// An abstract socket (`@name`), the form systemd itself uses.
    fn bind_abstract() -> Self {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("inspector-test-notify-{}", uuid::Uuid::new_v4().simple());
        let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let socket = std::os::unix::net::UnixDatagram::bind_addr(&address).unwrap();
        Self {
            socket,
            name: format!("@{name}"),
        }
    }

    /// The next message, waiting at most `limit`.
    fn next(&self, limit: Duration) -> Option<String> {
        self.socket.set_read_timeout(Some(limit)).unwrap();
        let mut buf = [0u8; 4096];
        let n = self.socket.recv(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }
}

/// Under systemd (`Type=notify`, `WatchdogSec=`): READY=1 once the port
/// accepts connections, WATCHDOG=1 at half the watchdog period, STOPPING=1
/// when SIGTERM starts the shutdown.
#[tokio::test]
async fn systemd_notifications_ready_watchdog_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // The dnsmasq filter, with Ironic unreachable (no retries): its first
    // sync closes the filter, then the start command leaves a mark.
    let hostsdir = dir.path().join("hostsdir");
    std::fs::create_dir(&hostsdir).unwrap();
    let started_mark = dir.path().join("dnsmasq-started");
    let config = write_config(
        dir.path(),
        port,
        &format!(
            "auth_strategy = noauth\n[ironic]\nauth_type = none\nendpoint_override = http://127.0.0.1:9\nmax_retries = 0\n\
             [pxe_filter]\ndriver = dnsmasq\n[dnsmasq_pxe_filter]\ndhcp_hostsdir = {}\ndnsmasq_start_command = touch {}\n",
            hostsdir.display(),
            started_mark.display()
        ),
    );
    let notify = NotifySocket::bind_abstract();
    let log = config.with_extension("log");
    let child = Command::new(BINARY)
        .args(["serve", "--config-file", config.to_str().unwrap()])
        .env("NOTIFY_SOCKET", &notify.name)
        // Keep-alives every 0.2 s.
        .env("WATCHDOG_USEC", "400000")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut served = Served { child, port, log };

    let started = Instant::now();
    let mut before_ready = Vec::new();
    loop {
        let message = notify.next(Duration::from_secs(20)).unwrap_or_else(|| {
            panic!(
                "no READY=1 within 20 s (got {before_ready:?}): {}",
                served.log_text()
            )
        });
        if message == "READY=1" {
            break;
        }
        before_ready.push(message);
        assert!(started.elapsed() < Duration::from_secs(20));
    }
    // systemd starts dependent units at READY=1: they must find the port
    // open and the PXE filter in place.
    std::net::TcpStream::connect(("127.0.0.1", port))
        .expect("READY=1 was sent before the port accepted connections");
    assert!(
        hostsdir.join("unknown_hosts_filter").exists() && started_mark.exists(),
        "READY=1 was sent before the PXE filter's first sync: {}",
        served.log_text()
    );
    assert!(
        before_ready.iter().all(|m| m == "WATCHDOG=1"),
        "{before_ready:?}"
    );

    let watching = Instant::now();
    let mut watchdogs = 0;
    while watching.elapsed() < Duration::from_millis(1500) {
        let message = notify.next(Duration::from_secs(2)).expect("WATCHDOG=1");
        assert_eq!(message, "WATCHDOG=1");
        watchdogs += 1;
    }
    // 0.2 s apart over 1.5 s: about 7; a loaded machine may delay some.
    assert!(watchdogs >= 3, "{watchdogs} WATCHDOG=1 in 1.5 s");

    served.signal("TERM");
    let stopping = Instant::now();
    loop {
        let message = notify
            .next(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("no STOPPING=1 after SIGTERM: {}", served.log_text()));
        if message == "STOPPING=1" {
            break;
        }
        assert_eq!(message, "WATCHDOG=1");
        assert!(stopping.elapsed() < Duration::from_secs(10));
    }
    assert_eq!(served.wait_exit(Duration::from_secs(10)).await, Some(0));
}

/// logrotate without copytruncate: the log file is renamed, SIGHUP makes the
/// service write to a new file at the configured path, and the service
/// keeps serving. oslo.log's watch_log_file is accepted.
#[tokio::test]
async fn sighup_reopens_the_log_file_and_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log_file = dir.path().join("service.log");
    let config = write_config(
        dir.path(),
        port,
        &format!(
            "auth_strategy = noauth\nlog_file = {}\nwatch_log_file = true\n[ironic]\nauth_type = none\nendpoint_override = http://127.0.0.1:9\n[pxe_filter]\ndriver = noop\n",
            log_file.display()
        ),
    );
    let (code, out, err) = run(&["config", "check", "--config-file", config.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("watch_log_file"), "{err}");

    let mut served = serve(&config, port).await;
    let first = std::fs::read_to_string(&log_file).unwrap();
    assert!(first.contains("inspector is listening"), "{first}");
    assert!(
        first.contains("watch_log_file") && first.contains("SIGHUP"),
        "{first}"
    );

    let rotated = dir.path().join("service.log.1");
    std::fs::rename(&log_file, &rotated).unwrap();
    served.signal("HUP");
    eventually(
        "a new log file after SIGHUP",
        Duration::from_secs(10),
        || {
            assert!(
                served.child.try_wait().unwrap().is_none(),
                "SIGHUP ended the service: {}",
                std::fs::read_to_string(&rotated).unwrap_or_default()
            );
            let new = std::fs::read_to_string(&log_file).unwrap_or_default();
            std::future::ready(if new.contains("reopened the log file") {
                Ok(())
            } else {
                Err(format!(
                    "old one: {}",
                    std::fs::read_to_string(&rotated).unwrap_or_default()
                ))
            })
        },
    )
    .await;
    let r = client()
        .get(served.url("/v1"))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    served.signal("TERM");
    assert_eq!(served.wait_exit(Duration::from_secs(10)).await, Some(0));
    let new = std::fs::read_to_string(&log_file).unwrap();
    let old = std::fs::read_to_string(&rotated).unwrap();
    assert!(new.contains("shutting down"), "{new}");
    assert!(
        !old.contains("shutting down") && !old.contains("reopened the log file"),
        "{old}"
    );
}
