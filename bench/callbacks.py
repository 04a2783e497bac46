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

With --floor, it also measures what one HTTP exchange costs on this machine, the unit every
callback pays five or six times over (issue 16's "Sixth pass" in docs/benchmarks-analysis.md):

* a bare HTTP client (`loadgen http`, on one tokio worker, as the service runs) calling Ironic one
  request at a time: its own CPU per GET of a node and per PUT of a boot device, with reqwest (as
  the service calls Ironic), with hyper's HTTP/1 connection alone (what reqwest runs on), and with
  a blocking socket and no HTTP library (the kernel's loopback TCP and little else);
* the service answering GET /v1 one request at a time (an answer with no work behind it);
* the service refusing a start on a node in the wrong provision state: one request in, one
  Ironic GET out, an error back.

Prints one JSON object. Run through bench/run.sh --callbacks (builds the release binaries).
"""

import argparse
import contextlib
import http.client
import json
import resource
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


def ironic_request(bench, method, path, body=None):
    status, text = kit.http_call(bench.ironic_port, method, path, timeout=60,
                                 body=None if body is None else json.dumps(body),
                                 headers={"Content-Type": "application/json",
                                          "X-OpenStack-Ironic-API-Version": "1.46"})
    if status >= 300:
        raise RuntimeError(f"Ironic {method} {path}: {status} {text[:200]!r}")
    return json.loads(text) if text else None


def available_node(bench):
    """A fake-hardware node moved to `available`, where a start is refused."""
    uuid = ironic_request(bench, "POST", "/v1/nodes", {"driver": "fake-hardware", "name": "floor"})["uuid"]
    for target, state in (("manage", "manageable"), ("provide", "available")):
        ironic_request(bench, "PUT", f"/v1/nodes/{uuid}/states/provision", {"target": target})
        deadline = time.monotonic() + 120
        while ironic_request(bench, "GET", f"/v1/nodes/{uuid}?fields=provision_state")["provision_state"] != state:
            if time.monotonic() > deadline:
                raise RuntimeError(f"node {uuid} did not become {state}")
            time.sleep(0.5)
    return uuid


CLIENTS = ("reqwest", "hyper", "raw")


def client_cpu_per_call_us(bench, requests, client, url, *options):
    """CPU of `loadgen http --client CLIENT` (one tokio worker) per request at concurrency 1."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = bench.run_loadgen("http", "--url", url, "--client", client, "--concurrency", 1, "--count", requests,
                            "--duration", 120, *options, timeout=300, env={"TOKIO_WORKER_THREADS": "1"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out["ok"] != requests:
        raise RuntimeError(f"loadgen http {url}: {out}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(1e6 * cpu / requests, 1)


def service_cpu_per_request_us(bench, server, requests, url, *options):
    before = server.group.cpu_seconds()
    out = bench.run_loadgen("http", "--url", url, "--concurrency", 1, "--count", requests, "--duration", 120,
                            *options)
    if out["ok"] != requests:
        raise RuntimeError(f"loadgen http {url}: {out}")
    return round(1e6 * (server.group.cpu_seconds() - before) / requests, 1)


def floor(bench, server, requests):
    uuid = available_node(bench)
    body = bench.work / "boot-device.json"
    body.write_text(json.dumps({"boot_device": "pxe", "persistent": False}))
    ironic, base = bench.ironic_url, f"http://127.0.0.1:{server.port}"
    refused = service_cpu_per_request_us(bench, server, requests, f"{base}/v1/introspection/{uuid}",
                                         "--method", "POST", "--expect", "400")
    return {
        "requests": requests,
        "bare_client_us_per_ironic_call": {
            client: {
                "get_node": client_cpu_per_call_us(bench, requests, client, f"{ironic}/v1/nodes/{uuid}"),
                "put_boot_device": client_cpu_per_call_us(
                    bench, requests, client, f"{ironic}/v1/nodes/{uuid}/management/boot_device",
                    "--method", "PUT", "--body-file", body, "--expect", "204"),
            } for client in CLIENTS
        },
        "service_us_per_request": {
            "get_v1": service_cpu_per_request_us(bench, server, requests, f"{base}/v1"),
            "refused_start_one_ironic_get": refused,
        },
    }


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
            "status_polls": {"start": start["status_polls"], "continue": cont["status_polls"]},
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
    parser.add_argument("--floor", type=int, default=0, metavar="N",
                        help="also measure one HTTP exchange's CPU, N requests per figure")
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
                if svc == kit.OURS and args.floor:
                    bench.phase(svc, 0, "the cost of one HTTP exchange")
                    out["floor"] = floor(bench, server, max(100, min(args.floor, 20000)))
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
