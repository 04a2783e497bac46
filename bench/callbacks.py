#!/usr/bin/env python3
"""Callback and listing costs of inspector alone (issue 16), quicker than the full kit.

Starts one real Ironic, writes the kit's cache of 10,000 finished statuses, starts inspector
with the kit's inspector.conf and measures:

* the first list page (1,000 statuses) and the full paginated walk, as bench.py does; with
  --upstream-lists, the same for ironic-inspector 12.5.0 on a copy of the same database, for
  the ratio;
* whole introspections posted one at a time (`loadgen introspect`, concurrency 1) with no rule,
  then with each count of --rules (the kit's rules: two conditions hold, the third does not,
  so every condition is evaluated and no action runs), and the service's CPU per processed
  node over the callbacks' window; the cost per rule per node is
  (CPU with N rules - CPU without) / N. The rules are compiled before the window, by a dry
  run that fills the same cache the callbacks use (compile_ms: a cost paid once per change of
  the rules, not per node).

Prints one JSON object. Run through bench/run.sh --callbacks (builds the release binaries).
"""

import argparse
import contextlib
import http.client
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as kit  # noqa: E402


@contextlib.contextmanager
def profiled(args, server, name):
    """With --perf DIR: `perf record` of the service over the block, then its
    flame graph (bench/flamegraph.py) as DIR/NAME.svg."""
    if not args.perf:
        yield
        return
    out = Path(args.perf).resolve()
    out.mkdir(parents=True, exist_ok=True)
    data = out / f"{name}.perf.data"
    rec = subprocess.Popen(["perf", "record", "-F", "2999", "--call-graph", "dwarf", "-p", str(server.proc.pid),
                            "-o", str(data)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)  # perf attaches to every thread before the workload starts
    try:
        yield
    finally:
        rec.send_signal(signal.SIGINT)
        rec.wait(timeout=120)
    script = subprocess.run(["perf", "script", "--no-inline", "-i", str(data)], capture_output=True, text=True,
                            timeout=1800)
    (out / f"{name}.perf.txt").write_text(script.stdout)
    with open(out / f"{name}.svg", "w") as svg:
        subprocess.run([sys.executable, str(kit.REPO / "bench" / "flamegraph.py"), "--title", name,
                        "--binary", str(Path(args.inspector).resolve()),
                        "--folded", str(out / f"{name}.folded"), "--top", "25"],
                       input=script.stdout, stdout=svg, text=True, timeout=600)
    data.unlink(missing_ok=True)


def create_rules(bench, base, count):
    bench.p["rules"] = count
    path = bench.rules_file()
    made = bench.run_loadgen("http", "--url", f"{base}/v1/rules", "--method", "POST", "--body-file", path,
                             "--concurrency", 8, "--count", count, "--duration", 600)
    if made["ok"] != count:
        raise RuntimeError(f"{made['ok']} of {count} rules created: {made['first_error']}")


def compile_rules(server, data_file):
    """Has the service compile the stored rules, as the first callback after a
    rule change would, through a dry run (API 1.19) that shares the callbacks'
    cache of compiled rules; the service's CPU seconds for it. Compiling is paid
    once per change of the rules, so it is kept out of the per-node figures."""
    body = json.dumps({"data": json.loads(Path(data_file).read_text())})
    before = server.group.cpu_seconds()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
    try:
        conn.request("POST", "/v1/rules/evaluate", body,
                     {"Content-Type": "application/json", "X-OpenStack-Ironic-Inspector-API-Version": "1.19"})
        response = conn.getresponse()
        text = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"POST /v1/rules/evaluate: {response.status} {text[:200]!r}")
    return server.group.cpu_seconds() - before


def callbacks(bench, svc, server, nodes, what):
    r = bench.introspect(svc, server, nodes, 1)
    bench.check_introspect(svc, 0, what, r)
    cont, start = r["continue"], r["start"]
    return {"cpu_per_node_ms": round(1000 * cont["inspector_cpu_s"] / nodes, 3),
            "callback_p50_ms": cont["latency"]["p50_ms"],
            "start_cpu_per_node_ms": round(1000 * start["inspector_cpu_s"] / nodes, 3),
            "errors": r["errors"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inspector", required=True, help="the inspector binary (release build)")
    parser.add_argument("--loadgen", required=True, help="the loadgen binary")
    parser.add_argument("--testbed-dir", help="TESTBED_DIR of scripts/testbed (venvs)")
    parser.add_argument("--work", help="scratch directory (default target/bench/callbacks)")
    parser.add_argument("--nodes", type=int, default=40, help="introspections per measurement")
    parser.add_argument("--rules", default="100,1000", help="rule counts, comma-separated")
    parser.add_argument("--lists", type=int, default=30, help="first-page requests")
    parser.add_argument("--walks", type=int, default=3, help="full walks")
    parser.add_argument("--upstream-lists", action="store_true", help="also list with upstream 12.5.0")
    parser.add_argument("--skip-callbacks", action="store_true")
    parser.add_argument("--perf", help="profile each phase with perf into this directory (flame graphs)")
    args = parser.parse_args()
    args.work = args.work or str(kit.REPO / "target" / "bench" / "callbacks")
    profile = dict(kit.PROFILES["quick"], list_count=max(1, min(args.lists, 1000)),
                   walks=max(1, min(args.walks, 20)), duration=5.0)
    nodes = max(1, min(args.nodes, 500))
    counts = [max(1, min(int(n), 5000)) for n in args.rules.split(",") if n.strip()]
    bench = kit.Bench(args, profile)
    bench.work.mkdir(parents=True, exist_ok=True)
    out = {"nodes": nodes, "rules": counts, "lists": {}, "callbacks": {}}
    bench.start_ironic()
    try:
        cache = bench.make_cache()
        services = [kit.OURS] + ([kit.UPSTREAM] if args.upstream_lists else [])
        for svc in services:
            server = bench.server(svc, cache, "callbacks")
            bench.running.append(server)
            try:
                server.start()
                base = f"http://127.0.0.1:{server.port}"
                with profiled(args, server, f"{svc}-lists") if svc == kit.OURS else contextlib.nullcontext():
                    bench.measure_lists(svc, 0, server, base)
                s = bench.samples[svc]
                out["lists"][svc] = {"first_page_p50_ms": s["list_page_p50_ms"][-1],
                                     "walk_s": sorted(s["walk_s"])[len(s["walk_s"]) // 2]}
                if svc != kit.OURS or args.skip_callbacks:
                    continue
                bench.phase(svc, 0, f"{nodes} callbacks, no rule")
                with profiled(args, server, "callbacks-0-rules"):
                    base_cost = callbacks(bench, svc, server, nodes, "no rule")
                out["callbacks"]["0"] = base_cost
                for count in counts:
                    bench.phase(svc, 0, f"create {count} rules")
                    create_rules(bench, base, count)
                    compile_s = compile_rules(server, kit.REPO / "scripts/testbed/data/ipa-inventory-this-machine.json")
                    bench.phase(svc, 0, f"{nodes} callbacks, {count} rules")
                    with profiled(args, server, f"callbacks-{count}-rules"):
                        r = callbacks(bench, svc, server, nodes, f"{count} rules")
                    extra = r["cpu_per_node_ms"] - base_cost["cpu_per_node_ms"]
                    r["per_rule_per_node_us"] = round(1000 * extra / count, 2)
                    r["compile_ms"] = round(1000 * compile_s, 1)
                    out["callbacks"][str(count)] = r
                    status, body = kit.http_call(server.port, "DELETE", "/v1/rules")
                    if status not in (200, 204):
                        raise RuntimeError(f"DELETE /v1/rules: {status} {body[:200]}")
            finally:
                server.stop()
                bench.running.remove(server)
    finally:
        for server in list(bench.running):
            server.stop()
        bench.stop_ironic()
    if kit.UPSTREAM in out["lists"]:
        ours, theirs = out["lists"][kit.OURS], out["lists"][kit.UPSTREAM]
        out["lists"]["ratio"] = {k: round(ours[k] / theirs[k], 4) for k in ours}
    out["notes"] = bench.notes
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
