//! Prometheus metrics: a few process-wide counters and histograms kept in
//! atomics (no registry dependency), rendered as text at `GET /metrics`.

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use std::collections::BTreeMap;

/// Upper bounds of latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    const fn new() -> Self {
        Self {
            counts: [const { AtomicU64::new(0) }; BUCKETS.len()],
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        for (bucket, bound) in self.counts.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bucket, bound) in self.counts.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }
}

/// Counters keyed by a small, bounded set of label values.
struct LabelledCounter(Mutex<BTreeMap<String, u64>>);

impl LabelledCounter {
    const fn new() -> Self {
        Self(Mutex::new(BTreeMap::new()))
    }

    fn add(&self, labels: String) {
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(labels)
            .or_default() += 1;
    }

    fn render(&self, out: &mut String, name: &str) {
        for (labels, value) in self.0.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

static HTTP_REQUESTS: LabelledCounter = LabelledCounter::new();
static HTTP_LATENCY: Histogram = Histogram::new();
static PROCESSING_LATENCY: Histogram = Histogram::new();
static INTROSPECTIONS_FINISHED: LabelledCounter = LabelledCounter::new();
static IRONIC_REQUESTS: LabelledCounter = LabelledCounter::new();
static IRONIC_RETRIES: AtomicU64 = AtomicU64::new(0);
static CALLBACKS_WAITING: AtomicU64 = AtomicU64::new(0);
static CALLBACKS_PROCESSING: AtomicU64 = AtomicU64::new(0);

/// Counts one ramdisk callback in a gauge while it lives.
pub struct CallbackGauge(&'static AtomicU64);

impl CallbackGauge {
    /// A callback waiting for its turn (`[processing] max_concurrent_callbacks`).
    pub fn waiting() -> Self {
        CALLBACKS_WAITING.fetch_add(1, Ordering::Relaxed);
        Self(&CALLBACKS_WAITING)
    }

    /// A callback read and processed.
    pub fn processing() -> Self {
        CALLBACKS_PROCESSING.fetch_add(1, Ordering::Relaxed);
        Self(&CALLBACKS_PROCESSING)
    }
}

impl Drop for CallbackGauge {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One API request; `route` is the matched route template (bounded set).
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    HTTP_REQUESTS.add(format!(
        "method=\"{method}\",route=\"{route}\",status=\"{status}\""
    ));
    HTTP_LATENCY.observe(elapsed);
}

/// One ramdisk callback, from receipt to response.
pub fn callback_processed(elapsed: Duration) {
    PROCESSING_LATENCY.observe(elapsed);
}

/// An introspection reached `finished` or `error`.
pub fn introspection_ended(state: &str) {
    INTROSPECTIONS_FINISHED.add(format!("state=\"{state}\""));
}

pub fn ironic_request(method: &str, status: Option<u16>) {
    let status = status
        .map(|s| s.to_string())
        .unwrap_or_else(|| "unreachable".into());
    IRONIC_REQUESTS.add(format!("method=\"{method}\",status=\"{status}\""));
}

pub fn ironic_retry() {
    IRONIC_RETRIES.fetch_add(1, Ordering::Relaxed);
}

/// The exposition text; `nodes` are the cached nodes per state.
pub fn render(nodes: &[(String, u64)]) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str(
        "# HELP inspector_http_requests_total API requests by method, route and status.\n",
    );
    out.push_str("# TYPE inspector_http_requests_total counter\n");
    HTTP_REQUESTS.render(&mut out, "inspector_http_requests_total");
    out.push_str("# HELP inspector_http_request_duration_seconds API request latency.\n");
    out.push_str("# TYPE inspector_http_request_duration_seconds histogram\n");
    HTTP_LATENCY.render(&mut out, "inspector_http_request_duration_seconds", "");
    out.push_str(
        "# HELP inspector_callback_duration_seconds Time to process a ramdisk callback.\n",
    );
    out.push_str("# TYPE inspector_callback_duration_seconds histogram\n");
    PROCESSING_LATENCY.render(&mut out, "inspector_callback_duration_seconds", "");
    out.push_str(
        "# HELP inspector_introspections_ended_total Introspections that ended, by final state.\n",
    );
    out.push_str("# TYPE inspector_introspections_ended_total counter\n");
    INTROSPECTIONS_FINISHED.render(&mut out, "inspector_introspections_ended_total");
    out.push_str(
        "# HELP inspector_ironic_requests_total Requests to Ironic by method and status.\n",
    );
    out.push_str("# TYPE inspector_ironic_requests_total counter\n");
    IRONIC_REQUESTS.render(&mut out, "inspector_ironic_requests_total");
    out.push_str("# HELP inspector_ironic_retries_total Retries of transient Ironic failures.\n");
    out.push_str("# TYPE inspector_ironic_retries_total counter\n");
    let _ = writeln!(
        out,
        "inspector_ironic_retries_total {}",
        IRONIC_RETRIES.load(Ordering::Relaxed)
    );
    for (name, help, gauge) in [
        (
            "inspector_callbacks_waiting",
            "Ramdisk callbacks waiting for their turn.",
            &CALLBACKS_WAITING,
        ),
        (
            "inspector_callbacks_processing",
            "Ramdisk callbacks being read and processed.",
            &CALLBACKS_PROCESSING,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        let _ = writeln!(out, "{name} {}", gauge.load(Ordering::Relaxed));
    }
    out.push_str("# HELP inspector_nodes Cached nodes by introspection state.\n");
    out.push_str("# TYPE inspector_nodes gauge\n");
    for (state, count) in nodes {
        let _ = writeln!(out, "inspector_nodes{{state=\"{state}\"}} {count}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::new();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(30));
        let mut out = String::new();
        h.render(&mut out, "x", "");
        assert!(out.contains("x_bucket{le=\"0.0005\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.05\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 2\n"), "{out}");
        assert!(out.contains("x_count 2\n"), "{out}");
    }
}
