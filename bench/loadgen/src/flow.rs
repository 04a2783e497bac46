//! Whole introspections against a real Ironic: fake-hardware nodes are
//! created (not timed), introspection is started on each (timed: the start
//! window) and real ramdisk payloads, MACs rewritten per node, are posted to
//! `/v1/continue` (timed: the continue window). CPU time of the inspector and
//! of Ironic is read from /proc at the window edges. Given several inspector
//! instances (`--inspector` repeated), node i starts on instance i, posts its
//! callback to the next one and is polled on the one after, so every request
//! of a node crosses instances; their CPU is summed.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use clap::Args;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::drive::client;
use crate::procfs::{CpuSnapshot, round3};
use crate::stats::{Rng, summary};

#[derive(Args)]
pub struct IntrospectArgs {
    #[arg(long)]
    ironic: String,
    /// An inspector base URL; repeat it for several instances of a cluster.
    #[arg(long = "inspector", required = true)]
    inspectors: Vec<String>,
    #[arg(long)]
    nodes: usize,
    /// Concurrent starts and concurrent callbacks.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Concurrent starts, when they should differ from the callbacks': a
    /// burst of starts measures Ironic's validation, not the service.
    #[arg(long)]
    start_concurrency: Option<usize>,
    /// FILE=MAC[,MAC...]: a ramdisk document and the MACs in it to rewrite
    /// per node (the first is the PXE NIC, whose port is created in Ironic).
    /// Nodes use the documents in turn.
    #[arg(long = "payload", required = true)]
    payloads: Vec<String>,
    /// Process group of an inspector instance; repeatable, CPU is summed.
    #[arg(long = "inspector-pgid")]
    inspector_pgids: Vec<u32>,
    #[arg(long)]
    ironic_pgid: Option<u32>,
    /// Give up (and fail) after this many seconds in all.
    #[arg(long, value_parser = crate::seconds, default_value = "900")]
    timeout: Duration,
    /// Start with `manage_boot` (the inspector sets the boot device and
    /// reboots the node, and powers it off at the end) or without.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    manage_boot: bool,
    /// Create a port for every MAC of the payload beforehand (PXE only on the
    /// first), so the callback finds the ports it would have added.
    #[arg(long)]
    ports_for_all_macs: bool,
}

struct Payload {
    text: String,
    macs: Vec<String>,
}

fn parse_payload(spec: &str) -> anyhow::Result<Payload> {
    let (file, macs) = spec
        .split_once('=')
        .ok_or_else(|| anyhow!("--payload {spec}: expected FILE=MAC[,MAC...]"))?;
    let macs: Vec<String> = macs.split(',').map(str::to_lowercase).collect();
    let text = crate::read_text(&PathBuf::from(file))?;
    for mac in &macs {
        if !text.to_lowercase().contains(mac.as_str()) {
            bail!("{file} does not contain {mac}");
        }
    }
    Ok(Payload { text, macs })
}

/// Replaces MACs in both the colon and the PXELinux dash forms.
fn rewrite(text: &str, pairs: &[(String, String)]) -> String {
    let mut out = text.to_string();
    for (from, to) in pairs {
        out = out
            .replace(from.as_str(), to)
            .replace(&from.replace(':', "-"), &to.replace(':', "-"));
    }
    out
}

struct Node {
    uuid: String,
    body: String,
}

struct Bed {
    http: reqwest::Client,
    ironic: String,
    inspectors: Vec<String>,
    deadline: Instant,
}

impl Bed {
    async fn ironic_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self
            .http
            .request(method, format!("{}/v1{path}", self.ironic))
            .header("X-OpenStack-Ironic-API-Version", "latest");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// An Ironic call that must succeed; NodeLocked (409) is retried.
    async fn ironic_ok(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        loop {
            let (status, value) = self.ironic_call(method.clone(), path, body.clone()).await?;
            if (200..300).contains(&status) {
                return Ok(value);
            }
            if status != 409 || Instant::now() >= self.deadline {
                bail!("Ironic {method} {path}: {status} {value}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_ironic(&self, uuid: &str, field: &str, expect: &str) -> anyhow::Result<()> {
        loop {
            let node = self
                .ironic_ok(Method::GET, &format!("/nodes/{uuid}"), None)
                .await?;
            if node[field] == expect {
                return Ok(());
            }
            if Instant::now() >= self.deadline {
                bail!(
                    "Ironic node {uuid}: {field} is {} (want {expect})",
                    node[field]
                );
            }
            // Every poll costs Ironic, the bottleneck of the setup, a request.
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// A manageable, powered-off fake-hardware node with a port for each
    /// of `macs`, PXE-enabled for the first only.
    async fn ironic_node(&self, name: &str, macs: &[String]) -> anyhow::Result<String> {
        let node = self
            .ironic_ok(
                Method::POST,
                "/nodes",
                Some(json!({"name": name, "driver": "fake-hardware"})),
            )
            .await?;
        let uuid = node["uuid"]
            .as_str()
            .context("node without uuid")?
            .to_string();
        for (n, mac) in macs.iter().enumerate() {
            self.ironic_ok(
                Method::POST,
                "/ports",
                Some(json!({"node_uuid": uuid, "address": mac, "pxe_enabled": n == 0})),
            )
            .await?;
        }
        self.ironic_ok(
            Method::PUT,
            &format!("/nodes/{uuid}/states/provision"),
            Some(json!({"target": "manage"})),
        )
        .await?;
        self.wait_ironic(&uuid, "provision_state", "manageable")
            .await?;
        self.ironic_ok(
            Method::PUT,
            &format!("/nodes/{uuid}/states/power"),
            Some(json!({"target": "power off"})),
        )
        .await?;
        self.wait_ironic(&uuid, "power_state", "power off").await?;
        Ok(uuid)
    }

    /// The instance that serves the `step`th request of node `i`.
    fn inspector(&self, i: usize, step: usize) -> &str {
        &self.inspectors[(i + step) % self.inspectors.len()]
    }

    async fn status(&self, i: usize, uuid: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(format!("{}/v1/introspection/{uuid}", self.inspector(i, 2)))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            bail!("status of {uuid}: {status} {body}");
        }
        Ok(body)
    }

    /// Polls each node in turn until `done` holds for it; returns the number
    /// of status requests made (they cost the inspector CPU too).
    async fn wait_all(
        &self,
        nodes: &[Node],
        done: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<(u64, Vec<Value>)> {
        let mut polls = 0;
        let mut finals = Vec::with_capacity(nodes.len());
        for (i, node) in nodes.iter().enumerate() {
            loop {
                let status = self.status(i, &node.uuid).await?;
                polls += 1;
                if done(&status) {
                    finals.push(status);
                    break;
                }
                if Instant::now() >= self.deadline {
                    bail!("node {} is still {}", node.uuid, status);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok((polls, finals))
    }
}

/// Runs `work` for every node, at most `concurrency` at a time; returns each
/// one's latency with its result.
async fn fan_out<F, Fut>(
    count: usize,
    concurrency: usize,
    work: F,
) -> Vec<(Duration, anyhow::Result<()>)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(concurrency));
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let gate = gate.clone();
        let fut = work(i);
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await;
            let t = Instant::now();
            let result = fut.await;
            (t.elapsed(), result)
        }));
    }
    let mut out = Vec::with_capacity(count);
    for task in tasks {
        out.push(
            task.await
                .unwrap_or_else(|e| (Duration::ZERO, Err(anyhow!("task failed: {e}")))),
        );
    }
    out
}

fn first_error(results: &[(Duration, anyhow::Result<()>)]) -> anyhow::Result<()> {
    match results.iter().find_map(|(_, r)| r.as_ref().err()) {
        Some(e) => Err(anyhow!("{e:#}")),
        None => Ok(()),
    }
}

/// Now, in seconds since the Unix epoch: window edges a caller can match
/// with other logs (Ironic's).
fn epoch_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

pub async fn introspect(args: IntrospectArgs) -> anyhow::Result<Value> {
    if args.nodes == 0 || args.nodes > 2000 {
        bail!("--nodes must be between 1 and 2000");
    }
    if [Some(args.concurrency), args.start_concurrency]
        .into_iter()
        .flatten()
        .any(|c| c == 0 || c > 64)
    {
        bail!("--concurrency and --start-concurrency must be between 1 and 64");
    }
    let payloads: Vec<Payload> = args
        .payloads
        .iter()
        .map(|p| parse_payload(p))
        .collect::<anyhow::Result<_>>()?;
    let bed = Arc::new(Bed {
        http: client(args.concurrency.max(8))?,
        ironic: args.ironic.trim_end_matches('/').to_string(),
        inspectors: args
            .inspectors
            .iter()
            .map(|url| url.trim_end_matches('/').to_string())
            .collect(),
        deadline: Instant::now() + args.timeout,
    });
    // MACs 52:TT:TT:HH:LL:NN: a random tag per run keeps Ironic's ports unique.
    let tag = Rng::seeded().below(1 << 16) as u16;
    let [t1, t2] = tag.to_be_bytes();

    let setup_started = Instant::now();
    // Per node: the MACs to create ports for, and the document to post.
    let plans: Vec<(Vec<String>, String)> = (0..args.nodes)
        .map(|i| {
            let payload = &payloads[i % payloads.len()];
            let [h, l] = (i as u16).to_be_bytes();
            let pairs: Vec<(String, String)> = payload
                .macs
                .iter()
                .enumerate()
                .map(|(n, from)| {
                    (
                        from.clone(),
                        format!("52:{t1:02x}:{t2:02x}:{h:02x}:{l:02x}:{:02x}", n + 1),
                    )
                })
                .collect();
            let ports = pairs.iter().map(|(_, to)| to.clone());
            let ports = ports.take(if args.ports_for_all_macs {
                pairs.len()
            } else {
                1
            });
            (ports.collect(), rewrite(&payload.text, &pairs))
        })
        .collect();
    let plans = Arc::new(plans);
    let created = Arc::new(tokio::sync::Mutex::new(vec![String::new(); args.nodes]));
    let results = fan_out(args.nodes, 8, |i| {
        let (bed, plans, created) = (bed.clone(), plans.clone(), created.clone());
        async move {
            let uuid = bed
                .ironic_node(&format!("bench-{tag:04x}-{i}"), &plans[i].0)
                .await?;
            created.lock().await[i] = uuid;
            Ok(())
        }
    })
    .await;
    first_error(&results)?;
    let nodes: Vec<Node> = created
        .lock()
        .await
        .iter()
        .zip(plans.iter())
        .map(|(uuid, (_, body))| Node {
            uuid: uuid.clone(),
            body: body.clone(),
        })
        .collect();
    let nodes = Arc::new(nodes);
    let setup_s = setup_started.elapsed().as_secs_f64();

    // Start window: every introspection started and waiting for its ramdisk.
    let cpu_start = CpuSnapshot::take(&args.inspector_pgids, args.ironic_pgid);
    let started = Instant::now();
    let start_from = epoch_s();
    let query = if args.manage_boot {
        ""
    } else {
        "?manage_boot=false"
    };
    let start_concurrency = args.start_concurrency.unwrap_or(args.concurrency);
    let results = fan_out(args.nodes, start_concurrency, |i| {
        let (bed, nodes) = (bed.clone(), nodes.clone());
        async move {
            let response = bed
                .http
                .post(format!(
                    "{}/v1/introspection/{}{query}",
                    bed.inspector(i, 0),
                    nodes[i].uuid
                ))
                .send()
                .await?;
            let status = response.status();
            if status.as_u16() != 202 {
                bail!(
                    "start {}: {status} {}",
                    nodes[i].uuid,
                    response.text().await.unwrap_or_default()
                );
            }
            Ok(())
        }
    })
    .await;
    first_error(&results)?;
    let mut start_latency: Vec<Duration> = results.iter().map(|(d, _)| *d).collect();
    let (start_polls, _) = bed.wait_all(&nodes, |s| s["state"] == "waiting").await?;
    let start_wall = started.elapsed().as_secs_f64();
    let start_to = epoch_s();
    let cpu_waiting = CpuSnapshot::take(&args.inspector_pgids, args.ironic_pgid);

    // Continue window: every callback posted and every node finished.
    let continued = Instant::now();
    let continue_from = epoch_s();
    let results = fan_out(args.nodes, args.concurrency, |i| {
        let (bed, nodes) = (bed.clone(), nodes.clone());
        async move {
            let response = bed
                .http
                .post(format!("{}/v1/continue", bed.inspector(i, 1)))
                .header("Content-Type", "application/json")
                .body(nodes[i].body.clone())
                .send()
                .await?;
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            if status.as_u16() != 200 {
                bail!("continue {}: {status} {body}", nodes[i].uuid);
            }
            Ok(())
        }
    })
    .await;
    let posts_wall = continued.elapsed().as_secs_f64();
    let failed_posts: Vec<String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err().map(|e| format!("{e:#}")))
        .collect();
    let mut callback_latency: Vec<Duration> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(d, _)| *d)
        .collect();
    let (finish_polls, finals) = bed.wait_all(&nodes, |s| s["finished"] == true).await?;
    let continue_wall = continued.elapsed().as_secs_f64();
    let continue_to = epoch_s();
    let cpu_finished = CpuSnapshot::take(&args.inspector_pgids, args.ironic_pgid);

    let errors: Vec<String> = finals
        .iter()
        .filter(|s| s["state"] != "finished" || !s["error"].is_null())
        .map(|s| format!("{}: {} {}", s["uuid"], s["state"], s["error"]))
        .collect();
    let (start_cpu, start_ironic_cpu) = cpu_waiting.since(&cpu_start);
    let (cont_cpu, cont_ironic_cpu) = cpu_finished.since(&cpu_waiting);
    let n = args.nodes as f64;
    Ok(json!({
        "nodes": args.nodes,
        "instances": bed.inspectors.len(),
        "concurrency": args.concurrency,
        "setup_s": setup_s,
        "manage_boot": args.manage_boot,
        "ports_for_all_macs": args.ports_for_all_macs,
        "start": {
            "wall_s": start_wall,
            "from_epoch_s": start_from,
            "to_epoch_s": start_to,
            "latency": summary(&mut start_latency),
            "status_polls": start_polls,
            "inspector_cpu_s": start_cpu,
            "ironic_cpu_s": start_ironic_cpu,
        },
        "continue": {
            "wall_s": continue_wall,
            "from_epoch_s": continue_from,
            "to_epoch_s": continue_to,
            "posts_wall_s": posts_wall,
            "latency": summary(&mut callback_latency),
            "status_polls": finish_polls,
            "inspector_cpu_s": cont_cpu,
            "ironic_cpu_s": cont_ironic_cpu,
            "inspector_cpu_per_node_s": round3(cont_cpu / n * 1000.0) / 1000.0,
            "ironic_cpu_per_node_s": round3(cont_ironic_cpu / n * 1000.0) / 1000.0,
        },
        "finished_ok": args.nodes - errors.len(),
        "failed_posts": failed_posts.len(),
        "errors": failed_posts.iter().chain(errors.iter()).take(5).collect::<Vec<_>>(),
    }))
}
