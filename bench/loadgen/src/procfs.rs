//! CPU time of a process group from /proc (the kit starts every server in
//! its own session, so its group is the server and whatever it forked).

use std::fs;

/// Linux reports utime/stime in USER_HZ ticks, 100 on every mainstream architecture.
const TICKS_PER_SECOND: f64 = 100.0;

/// utime + stime, in seconds, of every live process whose group is `pgid`.
pub fn group_cpu_seconds(pgid: u32) -> f64 {
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0.0;
    };
    let mut ticks: u64 = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The command name may hold spaces and parentheses: count from the last ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // After the name: state(3) ppid(4) pgrp(5) ... utime(14) stime(15).
        if fields.len() < 13 || fields[2].parse::<u32>().ok() != Some(pgid) {
            continue;
        }
        let utime: u64 = fields[11].parse().unwrap_or(0);
        let stime: u64 = fields[12].parse().unwrap_or(0);
        ticks += utime + stime;
    }
    ticks as f64 / TICKS_PER_SECOND
}

/// CPU seconds of optional process groups, taken together at one instant.
#[derive(Clone, Copy)]
pub struct CpuSnapshot {
    pub inspector: f64,
    pub ironic: f64,
}

impl CpuSnapshot {
    pub fn take(inspectors: &[u32], ironic: Option<u32>) -> Self {
        Self {
            inspector: inspectors.iter().copied().map(group_cpu_seconds).sum(),
            ironic: ironic.map(group_cpu_seconds).unwrap_or(0.0),
        }
    }

    /// (inspector, ironic) CPU seconds spent since `earlier`.
    pub fn since(&self, earlier: &CpuSnapshot) -> (f64, f64) {
        (
            round3(self.inspector - earlier.inspector),
            round3(self.ironic - earlier.ironic),
        )
    }
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
