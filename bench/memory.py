#!/usr/bin/env python3
"""Memory under load: the service's peak RSS (VmHWM, reset before each load) under the loads
that once pushed it highest, against a real Ironic.

Run by `bench/run.sh --memory` (see bench/README.md). Loads, one service for all, in order:

* rules: rules created at concurrency 8 for a few seconds (thousands of them), then listed at
  concurrency 8, then deleted at once;
* introspections: 50 nodes started and called back at concurrency 8;
* large documents: 50 callbacks of 1 MiB inventories at once;
* in flight: 200 nodes started, all waiting together, then called back at concurrency 50.

Each load runs on a freshly started service. Writes benchmarks-memory.md and .json. The peak includes the binary's own pages mapped from the
file (about 12 MiB of code, shared and reclaimable); the report gives the anonymous part too.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as kit  # noqa: E402  (the main benchmark's helpers: servers, loadgen, machine)

REPO = kit.REPO
PROFILES = {
    "full": {"rules_seconds": 3.0, "max_rules": 20_000, "list_seconds": 3.0, "nodes": 50,
             "big_nodes": 50, "big_mib": 1, "in_flight": 200},
    "quick": {"rules_seconds": 1.0, "max_rules": 2_000, "list_seconds": 1.0, "nodes": 10,
              "big_nodes": 10, "big_mib": 1, "in_flight": 40},
}
TARGET_MIB = 32


def big_document(source, mib, out):
    """The IPA document with a top-level `padding` list of strings bringing it to
    about `mib` MiB: kept in the stored data, ignored by the hooks."""
    doc = json.loads(Path(source).read_text())
    chunk = "x" * 1000
    need = mib * 1024 * 1024 - len(json.dumps(doc))
    doc["padding"] = [chunk] * max(0, need // (len(chunk) + 4))
    out.write_text(json.dumps(doc))
    return out


class MemoryBench(kit.Bench):
    def __init__(self, args, profile):
        super().__init__(args, profile)
        self.results = {}

    def measure(self, server, name, load):
        group = server.group
        load0 = kit.loadavg()[0]
        group.reset_peak()
        detail = load()
        self.results[name] = {
            "peak_rss_mib": group.peak_mib(),
            "rss_after_mib": group.rss_mib(),
            "anon_after_mib": round(sum(kit.status_kib(p, "RssAnon") for p in kit.group_pids(group.pgid)) / 1024, 1),
            "loadavg_before": load0,
            **detail,
        }
        kit.log(f"{name}: peak {self.results[name]['peak_rss_mib']} MiB ({detail})")

    def introspect(self, server, nodes, concurrency, payloads):
        # Starts at most 8 at a time: a burst of 50 only makes Ironic's
        # validation answer after the service's 10 s limit.
        r = self.run_loadgen(
            "introspect", "--ironic", self.ironic_url, "--inspector", f"http://127.0.0.1:{server.port}",
            "--nodes", nodes, "--concurrency", concurrency, "--start-concurrency", min(concurrency, 8),
            *sum((["--payload", p] for p in payloads), []),
            "--timeout", 1200, timeout=1300)
        if r["finished_ok"] != r["nodes"] or r["failed_posts"]:
            raise RuntimeError(f"{r['finished_ok']} of {r['nodes']} finished without error: {r['errors']}")
        return {"nodes": nodes, "concurrency": concurrency, "wall_s": round(r["continue"]["wall_s"], 2)}

    def rules(self, server, base):
        rule = {"description": "memory bench rule",
                "conditions": [{"op": "ge", "field": "memory_mb", "value": 1},
                               {"op": "matches", "field": "inventory.cpu.model_name", "value": ".*"}],
                "actions": [{"action": "set-attribute", "path": "/extra/bench", "value": "1"}]}
        body = self.work / "rule.json"
        body.write_text(json.dumps(rule))
        created = self.run_loadgen("http", "--url", f"{base}/v1/rules", "--method", "POST", "--body-file", body,
                                   "--concurrency", 8, "--duration", self.p["rules_seconds"],
                                   "--count", self.p["max_rules"])
        listed = self.run_loadgen("http", "--url", f"{base}/v1/rules", "--concurrency", 8,
                                  "--duration", self.p["list_seconds"], "--expect", 200)
        status, text = kit.http_call(server.port, "DELETE", "/v1/rules")
        if status not in (200, 204):
            raise RuntimeError(f"DELETE /v1/rules: {status} {text[:200]}")
        return {"rules": created["ok"], "lists": listed["ok"]}

    def run(self):
        self.work.mkdir(parents=True, exist_ok=True)
        db = self.work / "empty.sqlite"
        db.unlink(missing_ok=True)
        self.run_loadgen("fill", "--db", f"sqlite:///{db}", "--nodes", 1, "--state", "finished")
        data = REPO / "scripts" / "testbed" / "data"
        payloads = [f"{data / 'ipa-inventory-this-machine.json'}=02:fc:00:00:00:01",
                    f"{data / 'ipa-inventory-handmade-2nic.json'}=52:54:00:aa:00:01,52:54:00:aa:00:02"]
        big = big_document(data / "ipa-inventory-this-machine.json", self.p["big_mib"], self.work / "big.json")
        p = self.p
        # Each load on a fresh service: memory one load leaves in the
        # allocator would otherwise count as the next one's peak.
        loads = {
            "rules": lambda server: self.rules(server, f"http://127.0.0.1:{server.port}"),
            "introspections": lambda server: self.introspect(server, p["nodes"], 8, payloads),
            "large_documents": lambda server: self.introspect(server, p["big_nodes"], p["big_nodes"],
                                                              [f"{big}=02:fc:00:00:00:01"]),
            "in_flight": lambda server: self.introspect(server, p["in_flight"], 50, payloads),
        }
        self.start_ironic()
        try:
            for name, load in loads.items():
                server = self.server(kit.OURS, db, f"memory-{name}")
                self.running.append(server)
                server.start()
                self.results.setdefault("idle", {"rss_mib": server.group.rss_mib()})
                self.measure(server, name, lambda: load(server))
                server.stop()
                self.running.remove(server)
        finally:
            for server in self.running:
                server.stop()
            self.stop_ironic()


LABELS = {
    "rules": "rules created at c=8, listed at c=8, deleted",
    "introspections": "introspections (start and callback) at c=8",
    "large_documents": "1 MiB documents, all callbacks at once",
    "in_flight": "nodes waiting together, then callbacks at c=50",
}


def markdown(raw):
    res = raw["results"]
    lines = [
        "# Memory under load", "",
        f"Measured by `bench/run.sh --memory` ({raw['profile']} profile) on {raw['finished']}, "
        f"{raw['machine'].get('cpu', '?')}, {raw['machine'].get('cpus', '?')} CPUs; inspector alone, release "
        "build, SQLite, against a real Ironic (fake-hardware) on the same machine. Peak RSS is VmHWM, reset "
        "before each load; it includes the binary's code pages mapped from the file (shared, clean). "
        f"Target: at most {TARGET_MIB} MiB under every load.", "",
        "| load | size | peak RSS MiB | RSS after MiB | anonymous after MiB | within target |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in LABELS.items():
        r = res[name]
        size = f"{r['rules']} rules, {r['lists']} lists" if name == "rules" else \
            f"{r['nodes']} nodes, c={r['concurrency']}"
        ok = "yes" if r["peak_rss_mib"] <= TARGET_MIB else "**no**"
        lines.append(f"| {label} | {size} | {r['peak_rss_mib']} | {r['rss_after_mib']} | {r['anon_after_mib']} "
                     f"| {ok} |")
    loads = [r["loadavg_before"] for r in res.values() if "loadavg_before" in r]
    lines += ["", f"Idle RSS: {res['idle']['rss_mib']} MiB. 1-minute load average before each load: "
              f"{min(loads):.1f} to {max(loads):.1f}. Raw figures: `benchmarks-memory.json`."]
    return "\n".join(lines) + "\n"


def main():
    args = kit.report_parser(__doc__, "benchmarks-memory").parse_args()
    name, out_dir = kit.report_settings(args, "benchmarks-memory")
    bench = MemoryBench(args, PROFILES[name])
    return kit.run_and_report(bench, args, name, PROFILES[name], "benchmarks-memory", markdown, out_dir)


if __name__ == "__main__":
    sys.exit(main())
