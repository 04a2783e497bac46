#!/usr/bin/env python3
"""Soak test: a long, bounded, mixed load on inspector against a real Ironic.

A few worker threads run, each at a fixed rate: introspections of a fixed pool
of fake-hardware nodes (start, ramdisk callback, finished), introspections that
are aborted, callbacks that must be refused, status polls and list pages, and
rule create/list/get/delete cycles. Every response is counted by (operation,
status); a status the load did not provoke fails the run. Every few seconds
the service's RSS, open file descriptors, threads, database size (with its
WAL) and ERROR log lines are sampled; at the end the script checks that they
stayed flat after the warm-up, writes the samples to `docs/soak.json` and
their plot to `docs/soak.svg`, and exits 1 on any unexpected error or growth.

    python3 bench/soak.py --minutes 30 --ironic-url http://127.0.0.1:PORT
    python3 bench/soak.py --self-check      # the verdict and plot on synthetic data

Standard library only; see bench/README.md.
"""

import argparse
import collections
import http.client
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as kit  # noqa: E402  (servers, config, machine description)

REPO = kit.REPO
DATA = kit.DATA
API_VERSION = {"X-OpenStack-Ironic-Inspector-API-Version": "1.18"}
IRONIC_VERSION = {"X-OpenStack-Ironic-API-Version": "latest"}

# The statuses each operation may answer under this load; anything else
# (a 5xx, a refused connection, a 4xx on a call that must succeed) is an error.
EXPECTED = {
    "start": {202},
    "continue": {200},
    "abort": {202},
    "status": {200},
    "data": {200},
    "list": {200},
    "rule_create": {201},
    "rule_list": {200},
    "rule_get": {200},
    "rule_delete": {204},
    "rules_delete_all": {204},
    # The provoked errors: a body that is not JSON, and a callback whose MACs
    # and BMC address belong to no node under introspection.
    "bad_continue_not_json": {400},
    # Upstream answers a failed lookup as a failed pre-processing hook: 400.
    "bad_continue_unknown_node": {400},
}

# ERROR lines the provoked errors write to the service log; any other is unexpected.
PROVOKED_LOG = [re.compile(p) for p in (
    r"Could not find a node under introspection",
    r"error=Canceled by operator",
)]

# Flatness after the warm-up: the figures allowed to grow this much at most.
LIMITS = {
    "rss_mib": {"abs": 4.0, "rel": 0.10},
    "db_kib": {"abs": 1024.0, "rel": 0.10},
    "fds": {"abs": 16},
    "threads": {"abs": 4},
}


def log(message):
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- pure parts: verdict and plot ---------------------------------------------

def head_tail_medians(values, n=5):
    n = max(1, min(n, len(values) // 2 or 1))
    return statistics.median(values[:n]), statistics.median(values[-n:])


def verdict(samples, warmup_s, limits=LIMITS):
    """Whether RSS, fds, threads and database size stayed flat after the warm-up.

    RSS and database size: the median of the last five samples against that of
    the first five after warm-up may grow by `abs` or `rel` (whichever is
    larger). fds and threads: every sample after warm-up at most the warm-up
    maximum plus `abs` (in-flight connections and blocking-pool threads come
    and go). Returns {figure: {"ok", "detail", ...}}."""
    warm = [s for s in samples if s["t"] < warmup_s]
    after = [s for s in samples if s["t"] >= warmup_s]
    out = {}
    if len(after) < 2 or not warm:
        return {k: {"ok": False, "detail": "too few samples after warm-up"} for k in limits}
    for key in ("rss_mib", "db_kib"):
        lim = limits[key]
        first, last = head_tail_medians([s[key] for s in after])
        allowed = max(lim["abs"], lim["rel"] * first)
        out[key] = {"ok": last - first <= allowed, "first": round(first, 1), "last": round(last, 1),
                    "growth": round(last - first, 1), "allowed": round(allowed, 1),
                    "detail": f"{first:.1f} -> {last:.1f} (growth {last - first:+.1f}, allowed {allowed:.1f})"}
    for key in ("fds", "threads"):
        warm_max = max(s[key] for s in warm)
        after_max = max(s[key] for s in after)
        allowed = warm_max + limits[key]["abs"]
        first, last = head_tail_medians([s[key] for s in after])
        out[key] = {"ok": after_max <= allowed, "warmup_max": warm_max, "after_max": after_max,
                    "first": first, "last": last, "allowed": allowed,
                    "detail": f"max {after_max} after warm-up (warm-up max {warm_max}, allowed {allowed}); "
                              f"median {first} -> {last}"}
    return out


PANELS = [("rss_mib", "RSS (MiB)"), ("fds", "open file descriptors"),
          ("threads", "threads"), ("db_kib", "database + WAL (KiB)")]


def svg_plot(samples, warmup_s, title):
    """Four stacked panels, one polyline each, minutes on the x axis."""
    width, panel_h, left, right, top, gap = 760, 150, 70, 20, 40, 40
    height = top + len(PANELS) * (panel_h + gap)
    t_max = max([s["t"] for s in samples] + [60.0])
    x = lambda t: left + (width - left - right) * t / t_max  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{esc(title)}</text>']
    for i, (key, label) in enumerate(PANELS):
        y0 = top + i * (panel_h + gap)
        values = [s[key] for s in samples] or [0]
        lo, hi = 0.0, max(values) * 1.15 or 1.0
        y = lambda v: y0 + panel_h - panel_h * (v - lo) / (hi - lo)  # noqa: E731,B023
        parts.append(f'<text x="{left}" y="{y0 - 6}" font-weight="bold">{esc(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y0}" width="{width - left - right}" height="{panel_h}" '
                     f'fill="none" stroke="#888"/>')
        for frac in (0, 0.5, 1):
            v = lo + (hi - lo) * frac
            parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.4g}</text>')
            parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                         f'stroke="#ddd"/>')
        step = 5 if t_max > 600 else 1
        for minute in range(0, int(t_max // 60) + 1, step):
            parts.append(f'<text x="{x(minute * 60):.1f}" y="{y0 + panel_h + 14}" '
                         f'text-anchor="middle">{minute}</text>')
        if 0 < warmup_s < t_max:
            parts.append(f'<line x1="{x(warmup_s):.1f}" x2="{x(warmup_s):.1f}" y1="{y0}" '
                         f'y2="{y0 + panel_h}" stroke="#c33" stroke-dasharray="4,3"/>')
        points = " ".join(f"{x(s['t']):.1f},{y(s[key]):.1f}" for s in samples)
        parts.append(f'<polyline points="{points}" fill="none" stroke="#1f5fa8" stroke-width="1.5"/>')
    parts.append(f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle">minutes since start '
                 f'(dashed: end of warm-up)</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unexpected_statuses(counts):
    """[(operation, status, count)] of the responses no operation of the load provokes."""
    bad = []
    for key, n in sorted(counts.items()):
        op, status = key.split(" ", 1)
        if not (status.isdigit() and int(status) in EXPECTED.get(op, set())):
            bad.append((op, status, n))
    return bad


def self_check():
    """The pure parts on synthetic samples: flat passes, growth fails."""
    def series(rss, fds=lambda t: 20, threads=lambda t: 10, db=lambda t: 800.0):
        return [{"t": t, "rss_mib": rss(t), "fds": fds(t), "threads": threads(t), "db_kib": db(t)}
                for t in range(0, 1800, 5)]
    noise = random.Random(7)
    flat = series(lambda t: 30 + noise.uniform(-0.5, 0.5) + (5 if t < 120 else 0))
    v = verdict(flat, 300)
    assert all(f["ok"] for f in v.values()), v
    leak = verdict(series(lambda t: 30 + t / 60), 300)
    assert not leak["rss_mib"]["ok"] and leak["fds"]["ok"], leak
    fd_leak = verdict(series(lambda t: 30, fds=lambda t: 20 + t // 60), 300)
    assert not fd_leak["fds"]["ok"] and fd_leak["rss_mib"]["ok"], fd_leak
    db_growth = verdict(series(lambda t: 30, db=lambda t: 800 + t), 300)
    assert not db_growth["db_kib"]["ok"], db_growth
    assert unexpected_statuses({"start 202": 3, "continue 200": 1}) == []
    assert unexpected_statuses({"start 500": 1, "status error:ConnectionRefusedError": 2,
                                "bad_continue_unknown_node 400": 1}) == [
        ("start", "500", 1), ("status", "error:ConnectionRefusedError", 2)]
    svg = svg_plot(flat, 300, "self-check")
    assert svg.count("<polyline") == 4 and svg.startswith("<svg")
    print("soak self-check: ok")
    return 0


# --- the load ------------------------------------------------------------------

def rewrite(text, pairs):
    """MACs replaced in both the colon and the PXELinux dash forms."""
    for old, new in pairs:
        text = text.replace(old, new).replace(old.replace(":", "-"), new.replace(":", "-"))
    return text


def payloads():
    out = []
    for name in ("ipa-inventory-this-machine.json", "ipa-inventory-handmade-2nic.json"):
        text = (DATA / name).read_text()
        macs = sorted(set(re.findall(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}", text.lower())))
        out.append((text, macs))
    return out


class Soak:
    def __init__(self, args):
        self.args = args
        self.work = Path(args.work).resolve()
        self.ironic = args.ironic_url.rstrip("/") if args.ironic_url else None
        self.counts = collections.Counter()
        self.lock = threading.Lock()
        self.problems = []  # unexpected outcomes other than statuses
        self.samples = []
        self.stop = threading.Event()
        self.server = None
        self.nodes = []  # [(uuid, callback body)]
        self.tag = random.randrange(1 << 16)
        self.started_nodes = set()  # polled: a node never started is a 404

    # HTTP: one connection per request, so a leak of sockets shows in the fds.
    def call(self, op, method, url, body=None, headers=None, timeout=60):
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        hdrs = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if body is not None:
            hdrs.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=body, headers=hdrs)
            response = conn.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException) as e:
            status, raw = f"error:{type(e).__name__}", str(e).encode()
        finally:
            conn.close()
        if op:
            with self.lock:
                self.counts[f"{op} {status}"] += 1
                if not (isinstance(status, int) and status in EXPECTED[op]):
                    if len(self.problems) < 200:
                        self.problems.append(f"{time.strftime('%H:%M:%S')} {op} {method} {path}: "
                                             f"{status} {raw[:300]!r}")
        try:
            value = json.loads(raw) if raw else None
        except ValueError:
            value = raw.decode(errors="replace")
        return status, value

    def svc(self, op, method, path, body=None):
        return self.call(op, method, f"http://127.0.0.1:{self.server.port}{path}", body, API_VERSION)

    def ironic_ok(self, method, path, body=None):
        deadline = time.monotonic() + 120
        while True:
            status, value = self.call(None, method, f"{self.ironic}/v1{path}", body, IRONIC_VERSION)
            if isinstance(status, int) and 200 <= status < 300:
                return value
            if status != 409 or time.monotonic() > deadline:
                raise RuntimeError(f"Ironic {method} {path}: {status} {value}")
            time.sleep(0.2)

    def wait_ironic(self, uuid, field, want):
        deadline = time.monotonic() + 120
        while self.ironic_ok("GET", f"/nodes/{uuid}")[field] != want:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Ironic node {uuid}: {field} never became {want}")
            time.sleep(0.25)

    def make_nodes(self):
        """The fixed pool: manageable, powered-off fake-hardware nodes, each
        with its own MACs (a random tag per run keeps Ironic's ports unique)."""
        kinds = payloads()
        t1, t2 = divmod(self.tag, 256)
        for i in range(self.args.nodes):
            text, macs = kinds[i % len(kinds)]
            pairs = [(m, f"52:{t1:02x}:{t2:02x}:{i // 256:02x}:{i % 256:02x}:{n + 1:02x}")
                     for n, m in enumerate(macs)]
            node = self.ironic_ok("POST", "/nodes", {"name": f"soak-{self.tag:04x}-{i}",
                                                     "driver": "fake-hardware"})
            uuid = node["uuid"]
            self.ironic_ok("POST", "/ports", {"node_uuid": uuid, "address": pairs[0][1]})
            self.ironic_ok("PUT", f"/nodes/{uuid}/states/provision", {"target": "manage"})
            self.wait_ironic(uuid, "provision_state", "manageable")
            self.ironic_ok("PUT", f"/nodes/{uuid}/states/power", {"target": "power off"})
            self.wait_ironic(uuid, "power_state", "power off")
            self.nodes.append((uuid, rewrite(text, pairs)))
        log(f"{len(self.nodes)} nodes created in Ironic (tag {self.tag:04x})")

    def delete_nodes(self):
        for uuid, _ in self.nodes:
            try:
                self.ironic_ok("DELETE", f"/nodes/{uuid}")
            except RuntimeError as e:
                log(f"could not delete {uuid}: {e}")

    def problem(self, text):
        with self.lock:
            self.problems.append(f"{time.strftime('%H:%M:%S')} {text}")
        log(text)

    def wait_state(self, uuid, done, what):
        deadline = time.monotonic() + 120
        while not self.stop.is_set():
            status, value = self.svc("status", "GET", f"/v1/introspection/{uuid}")
            if status == 200 and done(value):
                return value
            if time.monotonic() > deadline:
                self.problem(f"{uuid}: not {what} after 120 s: {value}")
                return None
            time.sleep(0.2)
        return None

    # Each worker owns its nodes, so no two workers act on one node.
    def every(self, period, step):
        next_at = time.monotonic()
        n = 0
        while not self.stop.is_set():
            try:
                step(n)
            except Exception as e:  # noqa: BLE001  (a crash of the load is a problem, not a hang)
                self.problem(f"worker {step.__name__}: {type(e).__name__}: {e}")
            n += 1
            next_at += period
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    def introspection_worker(self, nodes):
        def introspect(n):
            uuid, body = nodes[n % len(nodes)]
            if not self.start_and_wait(uuid):
                return
            if self.svc("continue", "POST", "/v1/continue", body)[0] != 200:
                return
            final = self.wait_state(uuid, lambda s: s["finished"], "finished")
            if final and (final["state"] != "finished" or final["error"]):
                self.problem(f"{uuid}: introspection ended {final['state']}: {final['error']}")
            elif final and n % 5 == 0:
                self.svc("data", "GET", f"/v1/introspection/{uuid}/data")
        return introspect

    def abort_worker(self, nodes):
        def abort(n):
            uuid, _ = nodes[n % len(nodes)]
            if not self.start_and_wait(uuid):
                return
            if self.svc("abort", "POST", f"/v1/introspection/{uuid}/abort")[0] != 202:
                return
            final = self.wait_state(uuid, lambda s: s["finished"], "finished")
            if final and not (final["state"] == "error" and "cancel" in (final["error"] or "").lower()):
                self.problem(f"{uuid}: aborted introspection ended {final['state']}: {final['error']}")
        return abort

    def start(self, uuid):
        ok = self.svc("start", "POST", f"/v1/introspection/{uuid}")[0] == 202
        if ok:
            with self.lock:
                self.started_nodes.add(uuid)
        return ok

    def start_and_wait(self, uuid):
        """Starts an introspection and waits for it to wait for the ramdisk."""
        return self.start(uuid) and bool(
            self.wait_state(uuid, lambda s: s["state"] == "waiting", "waiting"))

    def poll(self, n):
        with self.lock:
            started = sorted(self.started_nodes)
        if n % 10 == 0 or not started:
            status, page = self.svc("list", "GET", "/v1/introspection?limit=20")
            if status == 200 and page.get("introspection"):
                marker = page["introspection"][-1]["uuid"]
                self.svc("list", "GET", f"/v1/introspection?limit=20&marker={marker}")
        else:
            self.svc("status", "GET", f"/v1/introspection/{started[n % len(started)]}")

    def rules(self, n):
        created = []
        for i in range(3):
            # Rules that are evaluated on every callback and never match.
            status, rule = self.svc("rule_create", "POST", "/v1/rules", {
                "description": f"soak rule {n}-{i}",
                "conditions": [{"op": "ge", "field": "memory_mb", "value": 1},
                               {"op": "eq", "field": "inventory.system_vendor.manufacturer",
                                "value": f"No vendor {n}-{i}"}],
                "actions": [{"action": "set-attribute", "path": "/extra/soak", "value": str(n)}],
            })
            if status == 201:
                created.append(rule["uuid"])
        self.svc("rule_list", "GET", "/v1/rules")
        for uuid in created:
            self.svc("rule_get", "GET", f"/v1/rules/{uuid}")
            if n % 10 != 9:
                self.svc("rule_delete", "DELETE", f"/v1/rules/{uuid}")
        if n % 10 == 9:
            self.svc("rules_delete_all", "DELETE", "/v1/rules")

    def bad_callbacks(self, n):
        if n % 2 == 0:
            self.svc("bad_continue_not_json", "POST", "/v1/continue", "{this is not json")
        else:
            text, macs = payloads()[1]
            pairs = [(m, f"02:de:ad:{n % 256:02x}:00:{i + 1:02x}") for i, m in enumerate(macs)]
            body = json.loads(rewrite(text, pairs))
            body.pop("ipmi_address", None)
            body.get("inventory", {}).pop("bmc_address", None)
            self.svc("bad_continue_unknown_node", "POST", "/v1/continue", body)

    # --- sampling ----------------------------------------------------------------
    def sample_loop(self, started):
        pid = self.server.proc.pid
        db = self.server.state / "inspector.sqlite"
        wal = Path(str(db) + "-wal")
        logfile = self.server.state / "inspector.log"
        errors, warnings, offset = 0, 0, 0
        self.error_lines = []
        cpu0 = kit.cpu_times()
        while True:
            try:
                with open(logfile, "rb") as f:
                    f.seek(offset)
                    chunk = f.read()
                    offset += len(chunk)
                for line in chunk.decode(errors="replace").splitlines():
                    if " ERROR " in line:
                        errors += 1
                        if len(self.error_lines) < 500:
                            self.error_lines.append(line)
                    elif " WARN " in line:
                        warnings += 1
            except OSError:
                pass
            cpu1 = kit.cpu_times()
            busy = 1 - (cpu1[1] - cpu0[1]) / max(1, cpu1[0] - cpu0[0])
            cpu0 = cpu1
            try:
                sample = {
                    "t": round(time.monotonic() - started, 1),
                    "rss_mib": round(kit.status_kib(pid, "VmRSS") / 1024, 2),
                    "fds": len(os.listdir(f"/proc/{pid}/fd")),
                    "threads": len(os.listdir(f"/proc/{pid}/task")),
                    "db_kib": round(sum(p.stat().st_size for p in (db, wal) if p.exists()) / 1024, 1),
                    "db_main_kib": round(db.stat().st_size / 1024, 1),
                    "error_lines": errors,
                    "warning_lines": warnings,
                    "requests": sum(self.counts.values()),
                    "loadavg1": kit.loadavg()[0],
                    "machine_busy": round(busy, 3),
                }
            except OSError as e:
                self.problem(f"sampling the service failed (has it exited?): {e}")
                return
            self.samples.append(sample)
            if len(self.samples) % 12 == 1:
                log(f"t={sample['t']:.0f}s rss={sample['rss_mib']} MiB fds={sample['fds']} "
                    f"threads={sample['threads']} db={sample['db_kib']} KiB errors={errors} "
                    f"requests={sample['requests']} load={sample['loadavg1']}")
            if self.stop.wait(self.args.sample_s):
                return

    # --- the run -------------------------------------------------------------------
    def start_service(self):
        state = self.work / "service"
        shutil.rmtree(state, ignore_errors=True)
        (state / "locks").mkdir(parents=True)
        (state / "ramdisk-logs").mkdir()
        port = kit.free_port()
        conf = kit.config_text(port, self.ironic, state / "inspector.sqlite", state)
        # A soak runs the periodic clean-up (timeouts, sync with Ironic): every
        # node of the load is a real Ironic node.
        conf = conf.replace("clean_up_period = 0", f"clean_up_period = {self.args.clean_up_period}")
        (state / "inspector.conf").write_text(conf)
        self.server = kit.Server("inspector", [self.args.inspector, "serve", "--config-file",
                                               str(state / "inspector.conf")], port, state)
        self.server.start()
        log(f"inspector pid {self.server.proc.pid} on 127.0.0.1:{port}")

    def run(self):
        self.work.mkdir(parents=True, exist_ok=True)
        self.make_nodes()
        self.start_service()
        try:
            return self.load()
        finally:
            self.server.stop()
            self.delete_nodes()

    def load(self):
        a = self.args
        k = max(2, a.nodes // 4)
        intro_a, intro_b = self.nodes[:(a.nodes - k) // 2], self.nodes[(a.nodes - k) // 2:a.nodes - k]
        aborts = self.nodes[a.nodes - k:]
        started = time.monotonic()
        workers = [
            threading.Thread(target=self.sample_loop, args=(started,), name="sampler"),
            threading.Thread(target=self.every, args=(a.period, self.introspection_worker(intro_a))),
            threading.Thread(target=self.every, args=(a.period, self.introspection_worker(intro_b))),
            threading.Thread(target=self.every, args=(a.period, self.abort_worker(aborts))),
            threading.Thread(target=self.every, args=(0.2, self.poll)),
            threading.Thread(target=self.every, args=(5.0, self.rules)),
            threading.Thread(target=self.every, args=(2.5, self.bad_callbacks)),
        ]
        for w in workers:
            w.start()
        try:
            self.stop.wait(a.minutes * 60)
        finally:
            self.stop.set()
            for w in workers:
                w.join()
        return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--warmup-minutes", type=float, default=None,
                        help="default: 5, or a sixth of a run shorter than 30 minutes")
    parser.add_argument("--inspector", default=str(REPO / "target" / "release" / "inspector"))
    parser.add_argument("--ironic-url", help="an Ironic already running (default: start one)")
    parser.add_argument("--testbed-dir", default=os.environ.get("TESTBED_DIR"))
    parser.add_argument("--nodes", type=int, default=20,
                        help="the fixed pool of Ironic nodes; small enough that every node's "
                             "history ([processing] history_depth runs) fills within the warm-up")
    parser.add_argument("--period", type=float, default=3.0,
                        help="seconds between introspections of each of the two introspection workers")
    parser.add_argument("--sample-s", type=float, default=5.0)
    parser.add_argument("--clean-up-period", type=int, default=60)
    parser.add_argument("--work", default=str(REPO / "target" / "soak"))
    parser.add_argument("--out", default=str(REPO / "docs"))
    parser.add_argument("--self-check", action="store_true", help="check the verdict and plot code, then exit")
    args = parser.parse_args()
    if args.self_check:
        return self_check()
    warmup_s = 60 * (args.warmup_minutes if args.warmup_minutes is not None else min(5.0, args.minutes / 6))
    if not os.access(args.inspector, os.X_OK):
        sys.exit(f"{args.inspector}: not an executable (cargo build --release --bin inspector)")
    machine = kit.describe_machine(args)
    bench = None
    if not args.ironic_url:
        bench = kit.Bench(argparse.Namespace(work=args.work, loadgen=None, testbed_dir=args.testbed_dir),
                          kit.PROFILES["quick"])
        bench.start_ironic()
        args.ironic_url = bench.ironic_url
    soak = Soak(args)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    try:
        seconds = soak.run()
    finally:
        if bench:
            bench.stop_ironic()
    flat = verdict(soak.samples, warmup_s)
    bad = unexpected_statuses(dict(soak.counts))
    unexpected_log = [line for line in soak.error_lines if not any(p.search(line) for p in PROVOKED_LOG)]
    ok = all(v["ok"] for v in flat.values()) and not bad and not soak.problems and not unexpected_log
    raw = {
        "started": started_at, "seconds": round(seconds), "warmup_s": warmup_s,
        "settings": {k: v for k, v in vars(args).items() if k not in ("self_check",)},
        "machine": machine, "ok": ok, "flatness": flat,
        "counts": dict(sorted(soak.counts.items())), "unexpected_statuses": bad,
        "problems": soak.problems, "error_lines": soak.error_lines[:50],
        "unexpected_error_lines": unexpected_log[:50], "samples": soak.samples,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(raw, indent=1) + "\n")
    title = f"inspector soak: {seconds / 60:.0f} min of mixed load against Ironic, {started_at}"
    (out / "soak.svg").write_text(svg_plot(soak.samples, warmup_s, title))
    print(f"soak: {seconds / 60:.1f} min, {sum(soak.counts.values())} requests")
    for key, n in sorted(soak.counts.items()):
        print(f"  {key:40} {n}")
    for key, v in flat.items():
        print(f"  {key:10} {'flat' if v['ok'] else 'GROWS'}: {v['detail']}")
    for line in bad:
        print(f"  unexpected status: {line}")
    for line in soak.problems[:20] + unexpected_log[:20]:
        print(f"  problem: {line}")
    print(f"soak verdict: {'PASS' if ok else 'FAIL'} (written {out / 'soak.json'}, {out / 'soak.svg'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
