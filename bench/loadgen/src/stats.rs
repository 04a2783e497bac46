//! Exact percentiles of recorded latencies.

use std::time::Duration;

use serde_json::{Value, json};

/// Nearest-rank percentile (`q` in 0..=1) of sorted samples.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// p50/p90/p99/max/mean in milliseconds, with the sample count.
pub fn summary(samples: &mut [Duration]) -> Value {
    samples.sort_unstable();
    let total: Duration = samples.iter().sum();
    let mean = if samples.is_empty() {
        Duration::ZERO
    } else {
        total / samples.len() as u32
    };
    json!({
        "samples": samples.len(),
        "p50_ms": ms(percentile(samples, 0.50)),
        "p90_ms": ms(percentile(samples, 0.90)),
        "p99_ms": ms(percentile(samples, 0.99)),
        "max_ms": ms(samples.last().copied().unwrap_or_default()),
        "mean_ms": ms(mean),
    })
}

/// A small xorshift generator: the sample order only has to be spread, not secure.
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Self {
        let seed = u64::from_le_bytes(
            uuid::Uuid::new_v4().as_bytes()[..8]
                .try_into()
                .unwrap_or([1; 8]),
        );
        Rng(seed | 1)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let s = summary(&mut samples);
        assert_eq!(s["p50_ms"], 50.0);
        assert_eq!(s["p99_ms"], 99.0);
        assert_eq!(s["max_ms"], 100.0);
        assert_eq!(s["samples"], 100);
        let mut one = vec![Duration::from_micros(1500)];
        assert_eq!(summary(&mut one)["p99_ms"], 1.5);
    }
}
