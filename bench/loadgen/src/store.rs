//! Synthetic caches written through the service's own store, and lookups
//! timed through it. Node `i` of a set has a UUID, MACs and a BMC address
//! derived from `i`, so other commands can name them without a list.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use inspector::store::{NodeRecord, Store, StoreOptions};
use inspector_core::state::State;
use serde_json::{Value, json};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::stats::{Rng, summary};

/// UUID of node `i` of the set `prefix`.
pub fn node_uuid(prefix: u32, i: u64) -> String {
    format!("{prefix:08x}-0000-4000-8000-{i:012x}")
}

/// The two MACs of node `i` (enough for 2^32 nodes).
pub fn node_macs(i: u64) -> [String; 2] {
    let b = (i as u32).to_be_bytes();
    [
        format!("52:54:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3]),
        format!("52:55:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3]),
    ]
}

pub fn node_bmc(i: u64) -> String {
    let b = (i as u32).to_be_bytes();
    format!("10.{}.{}.{}", b[1], b[2], b[3])
}

fn parse_prefix(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text, 16).map_err(|e| format!("hex prefix: {e}"))
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FillState {
    /// Finished introspections (every tenth in error), no lookup attributes.
    Finished,
    /// Introspections waiting for their ramdisk, with MACs and BMC address.
    Waiting,
}

#[derive(Args)]
pub struct FillArgs {
    /// oslo.db URL of the database (created and upgraded when needed).
    #[arg(long)]
    db: String,
    #[arg(long)]
    nodes: u64,
    #[arg(long, value_enum)]
    state: FillState,
    /// First UUID group, hex.
    #[arg(long, default_value = "be0c0000", value_parser = parse_prefix)]
    prefix: u32,
}

fn now() -> PrimitiveDateTime {
    let now = OffsetDateTime::now_utc();
    PrimitiveDateTime::new(now.date(), now.time())
}

async fn open(db: &str) -> anyhow::Result<Store> {
    inspector::store::open(
        db,
        &StoreOptions {
            max_connections: 4,
            ..StoreOptions::default()
        },
    )
    .await
    .with_context(|| format!("opening {db}"))
}

pub async fn fill(args: FillArgs) -> anyhow::Result<Value> {
    if args.nodes == 0 || args.nodes > 1_000_000 {
        bail!("--nodes must be between 1 and 1000000");
    }
    let store = open(&args.db).await?;
    store.upgrade().await?;
    let started = Instant::now();
    let base = now();
    for i in 0..args.nodes {
        let uuid = node_uuid(args.prefix, i);
        let (record, attributes) = match args.state {
            FillState::Finished => {
                // Distinct start times, half a second apart, a day ago.
                let started_at =
                    base - Duration::from_secs(86_400) + Duration::from_millis(i * 500);
                let failed = i % 10 == 9;
                (
                    NodeRecord {
                        uuid: uuid.clone(),
                        state: if failed {
                            State::Error
                        } else {
                            State::Finished
                        },
                        started_at: Some(started_at),
                        finished_at: Some(started_at + Duration::from_secs(30)),
                        error: failed.then(|| "Timeout waiting for the ramdisk".to_string()),
                        manage_boot: true,
                    },
                    Vec::new(),
                )
            }
            FillState::Waiting => {
                // Recent enough that no timeout fires during a benchmark.
                let started_at = base - Duration::from_secs(300) + Duration::from_micros(i * 1000);
                let [a, b] = node_macs(i);
                (
                    NodeRecord {
                        uuid: uuid.clone(),
                        state: State::Waiting,
                        started_at: Some(started_at),
                        finished_at: None,
                        error: None,
                        manage_boot: true,
                    },
                    vec![
                        ("bmc_address".to_string(), node_bmc(i)),
                        ("mac".to_string(), a),
                        ("mac".to_string(), b),
                    ],
                )
            }
        };
        let pairs: Vec<(&str, &str)> = attributes
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        store.add_node(&record, &pairs).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    store.close().await;
    Ok(json!({
        "nodes": args.nodes,
        "seconds": seconds,
        "per_node_us": seconds * 1e6 / args.nodes as f64,
        "first_uuid": node_uuid(args.prefix, 0),
        "last_uuid": node_uuid(args.prefix, args.nodes - 1),
    }))
}

#[derive(Args)]
pub struct LookupArgs {
    #[arg(long)]
    db: String,
    /// How many nodes the set holds (filled with --state waiting).
    #[arg(long)]
    nodes: u64,
    #[arg(long, default_value = "be0c0000", value_parser = parse_prefix)]
    prefix: u32,
    /// Timed lookups of each kind (after 100 untimed ones).
    #[arg(long, default_value_t = 2000)]
    samples: u64,
}

pub async fn lookup(args: LookupArgs) -> anyhow::Result<Value> {
    if args.samples == 0 || args.samples > 100_000 {
        bail!("--samples must be between 1 and 100000");
    }
    let store = open(&args.db).await?;
    let mut rng = Rng::seeded();
    let mut by_mac = Vec::new();
    let mut like_ipa = Vec::new();
    for round in 0..(args.samples + 100) {
        let i = rng.below(args.nodes);
        let expected = node_uuid(args.prefix, i);
        let [a, b] = node_macs(i);
        // One MAC, then what a ramdisk sends: the BMC address and every MAC.
        let kinds = [
            vec![("mac".to_string(), a.clone())],
            vec![
                ("bmc_address".to_string(), node_bmc(i)),
                ("mac".to_string(), a),
                ("mac".to_string(), b),
            ],
        ];
        for (k, pairs) in kinds.iter().enumerate() {
            let t = Instant::now();
            let found = store.find_by_attributes(pairs).await?;
            let elapsed = t.elapsed();
            if found.len() != 1 || found[0].0 != expected {
                bail!("lookup of node {i} found {found:?}, expected {expected}");
            }
            if round >= 100 {
                if k == 0 {
                    by_mac.push(elapsed);
                } else {
                    like_ipa.push(elapsed);
                }
            }
        }
    }
    store.close().await;
    Ok(json!({
        "nodes": args.nodes,
        "by_mac": summary(&mut by_mac),
        "bmc_and_two_macs": summary(&mut like_ipa),
    }))
}
