#!/usr/bin/env python3
"""Side-by-side benchmark of upstream ironic-inspector 12.5.0 and inspector.

Both services run one after the other against the same real Ironic on
127.0.0.1, with the same inspector.conf (only port and paths differ), and get
the same workloads; every measurement is repeated and reported as the median
with its spread. Run it through bench/run.sh, which installs and builds what
it needs; see bench/README.md. Standard library only.
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "scripts" / "testbed" / "data"
PAYLOADS = [
    f"{DATA / 'ipa-inventory-this-machine.json'}=02:fc:00:00:00:01",
    f"{DATA / 'ipa-inventory-handmade-2nic.json'}=52:54:00:aa:00:01,52:54:00:aa:00:02",
]
UPSTREAM, OURS = "upstream", "inspector"

# One request in Ironic's log (INFO, ironic.api): time, method, path?query, status, duration.
IRONIC_API_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) \d+ INFO ironic\.api \[[^\]]*\] \S+ - "
    r"([A-Z]+) (\S+) - (\d{3}) \(([\d.]+)ms\)"
)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAC = re.compile(r"[0-9a-f]{2}(?:(?::|%3A)[0-9a-f]{2}){5}", re.IGNORECASE)

# The paths whose Ironic calls are counted: (key, label, loadgen options, which window).
CALL_PATHS = [
    ("start_managed", "start, managed boot", [], "start"),
    ("start_unmanaged", "start, unmanaged boot (`manage_boot=false`)", ["--manage-boot", "false"], "start"),
    ("continue_added", "callback + finish (power-off), ports added, no rules", [], "continue"),
    ("continue_kept", "callback + finish, ports kept (all present beforehand)", ["--ports-for-all-macs"], "continue"),
    ("continue_unmanaged", "callback, unmanaged boot (no power-off), ports added", ["--manage-boot", "false"],
     "continue"),
]


def ironic_calls(log_path, offset, window, nodes):
    """The requests Ironic logged after byte `offset` that started and ended within `window` (epoch
    seconds, from, to), by shape (UUIDs and MACs replaced): {shape: [count per node, ms per node]}."""
    since, until = window
    calls = {}
    with open(log_path, "rb") as f:
        f.seek(offset)
        for raw in f:
            m = IRONIC_API_LINE.match(raw.decode("utf-8", "replace"))
            if not m:
                continue
            ended = datetime.datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S.%f").timestamp()
            ms = float(m[5])
            # A little slack: the log's clock has millisecond steps.
            if ended - ms / 1000 < since - 0.01 or ended > until + 0.01:
                continue
            shape = MAC.sub("<mac>", UUID.sub("<uuid>", f"{m[2]} {m[3]}"))
            entry = calls.setdefault(shape, [0.0, 0.0])
            entry[0] += 1 / nodes
            entry[1] += ms / nodes
    return {k: [round(v[0], 3), round(v[1], 1)] for k, v in sorted(calls.items(), key=lambda kv: -kv[1][0])}

PROFILES = {
    "full": {
        "reps": 3,
        "duration": 5.0,
        "concurrencies": [1, 8, 32],
        "cache_nodes": 10_000,
        "list_count": 30,
        "walks": 1,
        "rules": 100,
        "rule_nodes": 10,
        "e2e_nodes": 200,
        "scale_nodes": 100_000,
        "lookup_samples": 5000,
        "scale_requests": 300,
        "call_nodes": 10,
    },
    "quick": {
        "reps": 1,
        "duration": 2.0,
        "concurrencies": [1, 8, 32],
        "cache_nodes": 10_000,
        "list_count": 10,
        "walks": 1,
        "rules": 100,
        "rule_nodes": 4,
        "e2e_nodes": 40,
        "scale_nodes": 20_000,
        "lookup_samples": 1000,
        "scale_requests": 100,
        "call_nodes": 4,
    },
}


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg():
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def cpu_times():
    """(total, idle, steal) jiffies of all CPUs since boot (guest time is in user)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    return sum(fields), fields[3] + fields[4], fields[7]


def machine_busy(seconds=1.0):
    """Fraction of all CPUs busy over `seconds` (what others use while we idle)."""
    total0, idle0, _ = cpu_times()
    time.sleep(seconds)
    total1, idle1, _ = cpu_times()
    return round(1 - (idle1 - idle0) / max(1, total1 - total0), 3)


def group_pids(pgid):
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def status_kib(pid, key):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Group:
    """Memory and CPU time of a process group (a server and whatever it forked)."""

    def __init__(self, pgid):
        self.pgid = pgid

    def cpu_seconds(self):
        total = 0
        for pid in group_pids(self.pgid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return total / os.sysconf("SC_CLK_TCK")

    def rss_mib(self):
        return round(sum(status_kib(p, "VmRSS") for p in group_pids(self.pgid)) / 1024, 1)

    def reset_peak(self):
        # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
        for pid in group_pids(self.pgid):
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                pass

    def peak_mib(self):
        return round(sum(status_kib(p, "VmHWM") for p in group_pids(self.pgid)) / 1024, 1)


def http_get(port, path, timeout=2.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_call(port, method, path, timeout=30.0, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body, headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def tail(path, lines=30):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def config_text(port, ironic_url, db, state):
    """One inspector.conf for both services: upstream's options, as an operator
    would write them for ironic-inspector 12.5.0 standalone."""
    return f"""# Written by bench/bench.py; the same file (port and paths aside) for both services.
[DEFAULT]
auth_strategy = noauth
standalone = true
transport_url = fake://
host = bench-{port}
listen_address = 127.0.0.1
listen_port = {port}
debug = false
log_file = {state}/inspector.log
use_stderr = false
introspection_delay = 0
# No periodic clean-up: its sync with Ironic would drop the synthetic cached
# statuses (their nodes are not in Ironic), and it would add background work
# at random points of the measurements.
clean_up_period = 0
rootwrap_config = /dev/null

[database]
connection = sqlite:///{db}

[ironic]
auth_type = none
endpoint_override = {ironic_url}

[pxe_filter]
driver = noop

[processing]
store_data = database
add_ports = all
keep_ports = all
processing_hooks = $default_processing_hooks,extra_hardware,lldp_basic,local_link_connection
ramdisk_logs_dir = {state}/ramdisk-logs

[oslo_concurrency]
lock_path = {state}/locks
"""


class Server:
    """A service started in its own session; stop() ends exactly that group."""

    def __init__(self, name, argv, port, state):
        self.name, self.argv, self.port, self.state = name, argv, port, Path(state)
        self.proc = None
        self.startup_s = None

    def start(self, timeout=120):
        out = open(self.state / "stdout.log", "ab")
        env = dict(os.environ, no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.state,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        out.close()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode} during start-up:\n"
                    f"{tail(self.state / 'stdout.log')}\n{tail(self.state / 'inspector.log')}"
                )
            if self.answers():
                break
            if time.monotonic() - t0 > timeout:
                self.stop()
                raise RuntimeError(f"{self.name} did not answer GET /v1 within {timeout} s")
            time.sleep(0.002)
        self.startup_s = time.monotonic() - t0
        return self.startup_s

    def answers(self):
        try:
            return http_get(self.port, "/v1", timeout=2)[0] == 200
        except OSError:
            return False

    @property
    def group(self):
        return Group(self.proc.pid)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = self.proc.pid
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            # Stopping is not measured: upstream's graceful shutdown can take a
            # minute, so its group is killed after a few seconds.
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log(f"{self.name} ignored SIGTERM; killing its process group")
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)


class Bench:
    def __init__(self, args, profile):
        self.args, self.p = args, profile
        self.work = Path(args.work).resolve()
        self.loadgen = args.loadgen
        self.samples = {UPSTREAM: {}, OURS: {}}
        self.scale = {}
        self.phases = []
        self.notes = []
        self.ironic_url = None
        self.ironic_port = None
        self.ironic_pgid = None
        self.running = []
        # Ironic's calls per path, for each service: {svc: {path key: {shape: [per node, ms per node]}}}.
        self.calls = {UPSTREAM: {}, OURS: {}}

    # --- helpers -------------------------------------------------------------
    def record(self, svc, key, value):
        self.samples[svc].setdefault(key, []).append(value)

    def phase(self, svc, rep, name):
        entry = {"service": svc, "rep": rep, "phase": name, "loadavg": loadavg(), "at": time.time()}
        self.phases.append(entry)
        log(f"{svc} rep {rep + 1}: {name} (loadavg {entry['loadavg'][0]:.2f})")

    def run_loadgen(self, *argv, timeout=1200, env=None):
        result = subprocess.run(
            [self.loadgen, *map(str, argv)], capture_output=True, text=True, timeout=timeout,
            env=None if env is None else dict(os.environ, **env),
        )
        if result.returncode != 0:
            raise RuntimeError(f"loadgen {' '.join(map(str, argv[:1]))} failed: {result.stderr.strip()}")
        return json.loads(result.stdout)

    def wrk(self, url, concurrency):
        argv = [
            "wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(self.p['duration']))}s", "--timeout", "10s",
            "-s", str(REPO / "bench" / "wrk-report.lua"), url,
        ]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=self.p["duration"] + 60)
        lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
        if result.returncode != 0 or not lines:
            raise RuntimeError(f"wrk failed: {result.stdout}\n{result.stderr}")
        out = json.loads(lines[-1])
        errors = sum(out["errors"].values())
        ok = out["requests"] - out["errors"]["status"]
        return {
            "rps": ok / (out["duration_us"] / 1e6),
            "p50_ms": out["latency_us"]["p50"] / 1000,
            "p99_ms": out["latency_us"]["p99"] / 1000,
            "errors": errors,
            "requests": out["requests"],
        }

    # --- Ironic and the services --------------------------------------------
    def start_ironic(self):
        self.ironic_port = free_port()
        # DEBUG logging would make Ironic, the shared backend, slower for both.
        env = dict(os.environ, IRONIC_PORT=str(self.ironic_port), IRONIC_VENV="39", IRONIC_DEBUG="false",
                   INSPECTOR_URL=f"http://127.0.0.1:{free_port()}")
        if self.args.testbed_dir:
            env["TESTBED_DIR"] = self.args.testbed_dir
        log(f"starting Ironic on 127.0.0.1:{self.ironic_port}")
        out = subprocess.run([str(REPO / "scripts/testbed/ironic.sh"), "start"], env=env,
                             capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"ironic.sh start failed:\n{out.stderr}")
        self.ironic_url = out.stdout.strip().splitlines()[-1]
        pidfile = Path(self.testbed_dir()) / f"ironic-{self.ironic_port}" / "ironic.pid"
        self.ironic_pgid = int(pidfile.read_text().split()[0])

    def stop_ironic(self):
        if self.ironic_port is None:
            return
        env = dict(os.environ, IRONIC_PORT=str(self.ironic_port))
        if self.args.testbed_dir:
            env["TESTBED_DIR"] = self.args.testbed_dir
        subprocess.run([str(REPO / "scripts/testbed/ironic.sh"), "stop"], env=env, timeout=60)
        self.ironic_port = None

    def testbed_dir(self):
        return self.args.testbed_dir or str(REPO / "target" / "testbed")

    def venv_bin(self, name):
        return str(Path(self.testbed_dir()) / "venv-ironic" / "bin" / name)

    def server(self, svc, db_template, label):
        port = free_port()
        state = self.work / f"{label}-{svc}"
        shutil.rmtree(state, ignore_errors=True)
        (state / "locks").mkdir(parents=True)
        (state / "ramdisk-logs").mkdir()
        db = state / "inspector.sqlite"
        shutil.copyfile(db_template, db)
        conf = state / "inspector.conf"
        conf.write_text(config_text(port, self.ironic_url, db, state))
        if svc == UPSTREAM:
            argv = [self.venv_bin("ironic-inspector"), "--config-file", str(conf)]
        else:
            argv = [self.args.inspector, "serve", "--config-file", str(conf)]
        return Server(svc, argv, port, state)

    # --- the workloads ----------------------------------------------------------
    def make_cache(self):
        """The 10,000 finished introspections both services list; written through
        our store, then `ironic-inspector-dbsync upgrade` checks upstream takes it."""
        db = self.work / "cache.sqlite"
        db.unlink(missing_ok=True)
        out = self.run_loadgen("fill", "--db", f"sqlite:///{db}", "--nodes", self.p["cache_nodes"],
                               "--state", "finished")
        log(f"cache of {out['nodes']} statuses written in {out['seconds']:.1f} s")
        self.cache_uuid = out["last_uuid"]
        conf = self.work / "dbsync.conf"
        conf.write_text(f"[database]\nconnection = sqlite:///{db}\n")
        check = subprocess.run([self.venv_bin("ironic-inspector-dbsync"), "--config-file", str(conf), "upgrade"],
                               capture_output=True, text=True, timeout=120)
        if check.returncode != 0:
            raise RuntimeError(f"ironic-inspector-dbsync refused the cache database:\n{check.stderr}")
        return db

    def rules_file(self):
        """Rules that are evaluated on every callback but never match: two
        conditions that hold, then one that does not, so no action runs."""
        rules = []
        for i in range(self.p["rules"]):
            rules.append({
                "description": f"bench rule {i}",
                "conditions": [
                    {"op": "ge", "field": "memory_mb", "value": 1},
                    {"op": "matches", "field": "inventory.cpu.model_name", "value": ".*"},
                    {"op": "eq", "field": "inventory.system_vendor.manufacturer", "value": f"No vendor {i}"},
                ],
                "actions": [{"action": "set-attribute", "path": "/extra/bench_rule", "value": str(i)}],
            })
        path = self.work / "rules.json"
        path.write_text(json.dumps(rules))
        return path

    def measure_gets(self, svc, rep, server, base):
        group = server.group
        url_status = f"{base}/v1/introspection/{self.cache_uuid}"
        self.wrk(url_status, 8)  # warm-up, not recorded
        for name, url in (("status", url_status), ("root", f"{base}/v1")):
            for c in self.p["concurrencies"]:
                self.phase(svc, rep, f"GET {name} c={c}")
                group.reset_peak()
                cpu = group.cpu_seconds()
                r = self.wrk(url, c)
                cpu = group.cpu_seconds() - cpu
                self.record(svc, f"{name}_c{c}_rps", r["rps"])
                # CPU per request depends little on other load on the machine.
                self.record(svc, f"{name}_c{c}_cpu_us", 1e6 * cpu / max(1, r["requests"]))
                self.record(svc, f"{name}_c{c}_p50_ms", r["p50_ms"])
                self.record(svc, f"{name}_c{c}_p99_ms", r["p99_ms"])
                self.record(svc, f"{name}_c{c}_peak_rss_mib", group.peak_mib())
                if r["errors"]:
                    self.notes.append(f"{svc} rep {rep + 1}: GET {name} c={c}: {r['errors']} errors of {r['requests']}")

    def measure_lists(self, svc, rep, server, base):
        group = server.group
        self.phase(svc, rep, "list first page")
        group.reset_peak()
        r = self.run_loadgen("http", "--url", f"{base}/v1/introspection", "--concurrency", 1,
                             "--duration", max(self.p["duration"], 10), "--count", self.p["list_count"], "--expect", 200)
        self.record(svc, "list_page_p50_ms", r["latency"]["p50_ms"])
        self.record(svc, "list_page_p99_ms", r["latency"]["p99_ms"])
        self.phase(svc, rep, "paginated walk")
        w = self.run_loadgen("walk", "--url", base, "--expect", self.p["cache_nodes"], "--repeat", self.p["walks"],
                             "--timeout", 600)
        for walk in w["walks"]:
            self.record(svc, "walk_s", walk["seconds"])
        self.record(svc, "list_peak_rss_mib", group.peak_mib())

    def ironic_log(self):
        return Path(self.testbed_dir()) / f"ironic-{self.ironic_port}" / "ironic.log"

    def introspect(self, svc, server, nodes, concurrency, *options, calls=None):
        """`loadgen introspect`; `calls`: {path key: window} whose Ironic calls are counted from
        Ironic's log and kept for the report."""
        offset = self.ironic_log().stat().st_size
        r = self.run_loadgen(
            "introspect", "--ironic", self.ironic_url, "--inspector", f"http://127.0.0.1:{server.port}",
            "--nodes", nodes, "--concurrency", concurrency,
            *sum((["--payload", p] for p in PAYLOADS), []),
            "--inspector-pgid", server.proc.pid, "--ironic-pgid", self.ironic_pgid, "--timeout", 1200,
            *options, timeout=1300,
        )
        time.sleep(0.5)  # Ironic's log handler flushes each line; let the last ones land.
        for key, window in (calls or {}).items():
            span = (r[window]["from_epoch_s"], r[window]["to_epoch_s"])
            self.calls[svc][key] = ironic_calls(self.ironic_log(), offset, span, r["nodes"])
        return r

    def measure_call_paths(self, svc, rep, server):
        """The paths the other workloads do not take, on a few nodes each: Ironic's calls counted."""
        n = self.p["call_nodes"]
        runs = {}
        for key, _label, options, window in CALL_PATHS:
            runs.setdefault(tuple(options), {})[key] = window
        for options, calls in runs.items():
            if all(key in self.calls[svc] for key in calls):
                continue
            self.phase(svc, rep, f"Ironic calls: {n} nodes {' '.join(options) or '(managed boot, ports added)'}")
            try:
                r = self.introspect(svc, server, n, 4, *options, calls=calls)
            except RuntimeError as e:
                # A failed start fails the whole loadgen run: the path is left out, the run goes on.
                note = f"{svc} rep {rep + 1} Ironic calls {' '.join(options)}: {e}"
                log(note)
                self.notes.append(note[:500])
                continue
            self.check_introspect(svc, rep, f"Ironic calls {' '.join(options)}", r)

    def check_introspect(self, svc, rep, what, r):
        """Failed introspections are reported, not hidden: the run goes on."""
        if r["finished_ok"] != r["nodes"] or r["failed_posts"]:
            note = f"{svc} rep {rep + 1} {what}: {r['finished_ok']} of {r['nodes']} finished without error; {r['errors']}"
            log(note)
            self.notes.append(note)

    def measure_rules(self, svc, rep, server, base):
        group = server.group
        k = self.p["rule_nodes"]
        self.phase(svc, rep, f"{k} callbacks, 0 rules")
        r0 = self.introspect(svc, server, k, 1)
        self.check_introspect(svc, rep, "callbacks with 0 rules", r0)
        self.phase(svc, rep, f"create {self.p['rules']} rules")
        group.reset_peak()
        c = self.run_loadgen("http", "--url", f"{base}/v1/rules", "--method", "POST", "--body-file",
                             self.rules_path, "--concurrency", 8, "--count", self.p["rules"], "--duration", 300)
        if c["ok"] != self.p["rules"]:
            raise RuntimeError(f"{svc}: {c['ok']} of {self.p['rules']} rules created: {c['first_error']}")
        self.record(svc, "rules_create_rps", c["rps"])
        self.phase(svc, rep, "list rules")
        lst = self.run_loadgen("http", "--url", f"{base}/v1/rules", "--concurrency", 8,
                               "--duration", self.p["duration"], "--expect", 200)
        self.record(svc, "rules_list_rps", lst["rps"])
        self.record(svc, "rules_list_p99_ms", lst["latency"]["p99_ms"])
        self.record(svc, "rules_peak_rss_mib", group.peak_mib())
        self.phase(svc, rep, f"{k} callbacks, {self.p['rules']} rules")
        r100 = self.introspect(svc, server, k, 1, calls={"continue_rules": "continue"})
        self.check_introspect(svc, rep, "callbacks with rules", r100)
        status, body = http_call(server.port, "DELETE", "/v1/rules")
        if status not in (200, 204):
            raise RuntimeError(f"{svc}: DELETE /v1/rules: {status} {body[:200]}")
        for label, r in (("0", r0), ("100", r100)):
            self.record(svc, f"callback_{label}rules_p50_ms", r["continue"]["latency"]["p50_ms"])
            self.record(svc, f"callback_{label}rules_cpu_ms", 1000 * r["continue"]["inspector_cpu_per_node_s"])

    def measure_e2e(self, svc, rep, server):
        group = server.group
        n = self.p["e2e_nodes"]
        self.phase(svc, rep, f"end to end, {n} nodes, concurrency 8")
        group.reset_peak()
        r = self.introspect(svc, server, n, 8, calls={"start_managed": "start", "continue_added": "continue"})
        self.check_introspect(svc, rep, "end to end", r)
        cont, start = r["continue"], r["start"]
        self.record(svc, "e2e_wall_s", cont["wall_s"])
        self.record(svc, "e2e_callback_p50_ms", cont["latency"]["p50_ms"])
        self.record(svc, "e2e_callback_p99_ms", cont["latency"]["p99_ms"])
        self.record(svc, "e2e_cpu_per_node_ms", 1000 * cont["inspector_cpu_per_node_s"])
        self.record(svc, "e2e_ironic_cpu_per_node_ms", 1000 * cont["ironic_cpu_per_node_s"])
        self.record(svc, "e2e_start_wall_s", start["wall_s"])
        self.record(svc, "e2e_start_cpu_per_node_ms", 1000 * start["inspector_cpu_s"] / n)
        self.record(svc, "e2e_start_ironic_cpu_per_node_ms", 1000 * start["ironic_cpu_s"] / n)
        self.record(svc, "e2e_peak_rss_mib", group.peak_mib())
        self.record(svc, "e2e_status_polls", cont["status_polls"])

    def service_rep(self, svc, rep, cache_db):
        self.record(svc, "machine_busy_before", machine_busy())
        server = self.server(svc, cache_db, f"rep{rep + 1}")
        self.phase(svc, rep, "start-up")
        self.running.append(server)
        try:
            startup = server.start()
            self.record(svc, "startup_s", startup)
            time.sleep(3)
            self.record(svc, "idle_rss_mib", server.group.rss_mib())
            base = f"http://127.0.0.1:{server.port}"
            if self.args.part == "all":
                self.measure_gets(svc, rep, server, base)
                self.measure_lists(svc, rep, server, base)
            self.measure_rules(svc, rep, server, base)
            self.measure_e2e(svc, rep, server)
            self.measure_call_paths(svc, rep, server)
            self.record(svc, "rss_after_mib", server.group.rss_mib())
        finally:
            server.stop()
            self.running.remove(server)
            self.save_partial()

    def save_partial(self):
        """What was measured so far, in case a later phase fails."""
        partial = {"samples": self.samples, "scale": self.scale, "phases": self.phases, "notes": self.notes,
                   "calls": self.calls}
        (self.work / "raw-partial.json").write_text(json.dumps(partial))

    def scale_run(self):
        n = self.p["scale_nodes"]
        db = self.work / "scale.sqlite"
        db.unlink(missing_ok=True)
        self.phase(OURS, 0, f"scale: filling {n} waiting nodes through the store")
        fill = self.run_loadgen("fill", "--db", f"sqlite:///{db}", "--nodes", n, "--state", "waiting",
                                timeout=1800)
        self.scale["nodes"] = n
        self.scale["fill_s"] = fill["seconds"]
        server = self.server(OURS, db, "scale")
        self.running.append(server)
        try:
            self.scale["startup_s"] = server.start()
            time.sleep(3)
            self.scale["idle_rss_mib"] = server.group.rss_mib()
            base = f"http://127.0.0.1:{server.port}"
            self.phase(OURS, 0, "scale: lookups through the store")
            lookup = self.run_loadgen("lookup", "--db", f"sqlite:///{server.state / 'inspector.sqlite'}",
                                      "--nodes", n, "--samples", self.p["lookup_samples"])
            self.scale["lookup_by_mac"] = lookup["by_mac"]
            self.scale["lookup_bmc_and_two_macs"] = lookup["bmc_and_two_macs"]
            self.phase(OURS, 0, "scale: list pages")
            count = self.p["scale_requests"]
            # Node i of the set is be0c0000-0000-4000-8000-<i>; the middle one's page is deep in the list.
            middle = f"be0c0000-0000-4000-8000-{n // 2:012x}"
            for key, query in (
                ("list_first_page", ""),
                ("list_page_limit_100", "?limit=100"),
                ("list_page_deep_marker", f"?marker={middle}"),
            ):
                r = self.run_loadgen("http", "--url", f"{base}/v1/introspection{query}", "--concurrency", 1,
                                     "--count", count, "--duration", 60, "--expect", 200)
                self.scale[key] = r["latency"]
            self.phase(OURS, 0, "scale: status GET c=8")
            self.scale["status_c8"] = self.wrk(f"{base}/v1/introspection/{fill['last_uuid']}", 8)
            self.phase(OURS, 0, "scale: /v1/continue lookup misses")
            r = self.run_loadgen("http", "--url", f"{base}/v1/continue", "--method", "POST", "--body-file",
                                 DATA / "ipa-inventory-this-machine.json", "--concurrency", 1,
                                 "--count", count, "--duration", 60, "--expect", 400)
            self.scale["continue_lookup_miss"] = r["latency"]
            self.scale["rss_after_mib"] = server.group.rss_mib()
        finally:
            server.stop()
            self.running.remove(server)

    def run(self):
        self.cpu_at_start = cpu_times()
        self.work.mkdir(parents=True, exist_ok=True)
        self.rules_path = self.rules_file()
        self.start_ironic()
        try:
            cache_db = self.make_cache()
            for rep in range(self.p["reps"]):
                # Alternate who goes first, so drift in the machine's load and in
                # Ironic's database size does not favour one side.
                order = [UPSTREAM, OURS] if rep % 2 == 0 else [OURS, UPSTREAM]
                for svc in order:
                    self.service_rep(svc, rep, cache_db)
            if not self.args.skip_scale and self.args.part == "all":
                self.scale_run()
        finally:
            for server in list(self.running):
                server.stop()
            self.stop_ironic()
            total, _, steal = cpu_times()
            # CPU time the hypervisor gave to other guests (0 on bare metal).
            self.steal = round((steal - self.cpu_at_start[2]) / max(1, total - self.cpu_at_start[0]), 3)


# --- machine and versions --------------------------------------------------------

def command_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def run_and_report(bench, args, profile_name, settings, stem, markdown, out_dir):
    """Runs `bench` and writes `<stem>.json` (raw figures) and `<stem>.md`
    (`markdown(raw)`) into `out_dir`; prints the report."""
    signal.signal(signal.SIGTERM, lambda s, _f: (_ for _ in ()).throw(KeyboardInterrupt(f"signal {s}")))
    started = time.time()
    machine = describe_machine(args)
    bench.run()
    raw = {"profile": profile_name, "settings": settings, "machine": machine,
           "finished": datetime.datetime.now().isoformat(timespec="seconds"),
           "duration_s": round(time.time() - started), "results": bench.results}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{stem}.json").write_text(json.dumps(raw, indent=1))
    (out_dir / f"{stem}.md").write_text(markdown(raw))
    print((out_dir / f"{stem}.md").read_text())
    return 0


def report_parser(doc, stem):
    """The options of a benchmark that writes `<stem>.md/json` (tls, databases, memory); the caller
    adds its own, then gives the parsed arguments to `report_settings`."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", help=f"where {stem}.md/json go (default docs/, or target/bench/quick)")
    parser.add_argument("--work", help=f"scratch directory (default target/bench/work-{stem.split('-')[-1]})")
    parser.add_argument("--inspector", required=True)
    parser.add_argument("--loadgen", required=True)
    parser.add_argument("--testbed-dir")
    return parser


def report_settings(args, stem):
    """Absolute binaries (the services run in their own directories), the default scratch directory;
    returns the profile name and the output directory."""
    args.inspector, args.loadgen = (str(Path(p).resolve()) for p in (args.inspector, args.loadgen))
    args.work = args.work or str(REPO / "target" / "bench" / f"work-{stem.split('-')[-1]}")
    name = "quick" if args.quick else "full"
    out_dir = Path(args.out) if args.out else (REPO / "target" / "bench" / "quick" if args.quick else REPO / "docs")
    return name, out_dir


def describe_machine(args):
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = status_like("/proc/meminfo", "MemTotal")
    os_name = ""
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    venv_python = str(Path(args.testbed_dir or REPO / "target" / "testbed") / "venv-ironic" / "bin" / "python")
    versions = command_output([venv_python, "-c",
                               "import importlib.metadata as m, sys; print(sys.version.split()[0], "
                               "m.version('ironic'), m.version('ironic-inspector'), m.version('eventlet'))"]).split()
    vm = command_output(["systemd-detect-virt", "--vm"])
    container = command_output(["systemd-detect-virt", "--container"])
    if not vm and "hypervisor" in Path("/proc/cpuinfo").read_text():
        vm = "a hypervisor"
    virt = ", ".join(x for x in (
        f"{vm} virtual machine" if vm and vm != "none" else "",
        f"{container} container" if container and container != "none" else "",
    ) if x)
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": os_name,
        "virtualization": virt,
        "rustc": command_output(["rustc", "--version"]),
        "python": versions[0] if versions else "",
        "ironic": versions[1] if len(versions) > 1 else "",
        "ironic_inspector": versions[2] if len(versions) > 2 else "",
        "eventlet": versions[3] if len(versions) > 3 else "",
        "wrk": command_output(["sh", "-c", "wrk -v 2>&1 | head -1"]).split(" [")[0],
        "commit": command_output(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
    }


def status_like(path, key):
    for line in Path(path).read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


# --- report -------------------------------------------------------------------------

# key, label, unit, which way is better
METRICS = [
    ("startup_s", "start-up to first GET /v1", "s", "lower"),
    ("idle_rss_mib", "idle RSS", "MiB", "lower"),
]
for _c in (1, 8, 32):
    METRICS += [
        (f"status_c{_c}_rps", f"GET /v1/introspection/<uuid>, c={_c}: throughput", "req/s", "higher"),
        (f"status_c{_c}_p50_ms", f"GET /v1/introspection/<uuid>, c={_c}: p50", "ms", "lower"),
        (f"status_c{_c}_p99_ms", f"GET /v1/introspection/<uuid>, c={_c}: p99", "ms", "lower"),
        (f"status_c{_c}_cpu_us", f"GET /v1/introspection/<uuid>, c={_c}: service CPU per request", "µs", "lower"),
        (f"status_c{_c}_peak_rss_mib", f"GET /v1/introspection/<uuid>, c={_c}: peak RSS", "MiB", "lower"),
    ]
for _c in (1, 8, 32):
    METRICS += [
        (f"root_c{_c}_rps", f"GET /v1 (trivial endpoint), c={_c}: throughput", "req/s", "higher"),
        (f"root_c{_c}_p50_ms", f"GET /v1, c={_c}: p50", "ms", "lower"),
        (f"root_c{_c}_p99_ms", f"GET /v1, c={_c}: p99", "ms", "lower"),
        (f"root_c{_c}_cpu_us", f"GET /v1, c={_c}: service CPU per request", "µs", "lower"),
    ]
METRICS += [
    ("list_page_p50_ms", "GET /v1/introspection first page (1,000 of 10,000): p50", "ms", "lower"),
    ("list_page_p99_ms", "GET /v1/introspection first page: p99", "ms", "lower"),
    ("walk_s", "full paginated walk of 10,000 statuses", "s", "lower"),
    ("list_peak_rss_mib", "list and walk: peak RSS", "MiB", "lower"),
    ("rules_create_rps", "POST /v1/rules (100 rules, c=8): throughput", "req/s", "higher"),
    ("rules_list_rps", "GET /v1/rules (100 rules, c=8): throughput", "req/s", "higher"),
    ("rules_list_p99_ms", "GET /v1/rules (100 rules, c=8): p99", "ms", "lower"),
    ("rules_peak_rss_mib", "rules: peak RSS", "MiB", "lower"),
    ("callback_0rules_p50_ms", "one callback, 0 rules: latency p50", "ms", "lower"),
    ("callback_100rules_p50_ms", "one callback, 100 rules: latency p50", "ms", "lower"),
    ("callback_0rules_cpu_ms", "one callback, 0 rules: inspector CPU", "ms", "lower"),
    ("callback_100rules_cpu_ms", "one callback, 100 rules: inspector CPU", "ms", "lower"),
    ("e2e_wall_s", "/v1/continue end to end: wall time until all finished", "s", "lower"),
    ("e2e_callback_p50_ms", "/v1/continue end to end: callback p50", "ms", "lower"),
    ("e2e_callback_p99_ms", "/v1/continue end to end: callback p99", "ms", "lower"),
    ("e2e_cpu_per_node_ms", "/v1/continue end to end: inspector CPU per processed node", "ms", "lower"),
    ("e2e_ironic_cpu_per_node_ms", "/v1/continue end to end: Ironic CPU per node (same window)", "ms", "lower"),
    ("e2e_peak_rss_mib", "/v1/continue end to end: peak RSS (start + continue)", "MiB", "lower"),
    ("e2e_start_wall_s", "starting the introspections: wall time until all waiting", "s", "lower"),
    ("e2e_start_cpu_per_node_ms", "starting the introspections: inspector CPU per node", "ms", "lower"),
    ("e2e_start_ironic_cpu_per_node_ms", "starting the introspections: Ironic CPU per node", "ms", "lower"),
    ("rss_after_mib", "RSS after all workloads", "MiB", "lower"),
]


def stats_of(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": values}


def fmt(x):
    if x is None:
        return "–"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def cell(s):
    if s is None:
        return "–"
    if s["n"] == 1:
        return fmt(s["median"])
    return f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})"


def ratio_text(ours, upstream, better):
    if not ours or not upstream or upstream["median"] == 0 or ours["median"] == 0:
        return "–", None
    r = ours["median"] / upstream["median"]
    if better == "higher":
        return f"{r:.1f}×", r
    return (inverse(r) if r < 1 else f"{r:.2f}"), r


def inverse(r):
    """0.043 -> "0.043 (1/23)"."""
    k = 1 / r
    return f"{r:.3f} (1/{k:.1f})" if k < 10 else f"{r:.3f} (1/{k:.0f})"


def targets(agg, scale):
    """The issue's targets: (text, value shown, met)."""
    o, u = agg[OURS], agg[UPSTREAM]

    def med(side, key):
        s = side.get(key)
        return s["median"] if s else None

    out = []
    for c in (1, 8, 32):
        ours_rps, up_rps, root_rps = med(o, f"status_c{c}_rps"), med(u, f"status_c{c}_rps"), med(o, f"root_c{c}_rps")
        p99 = med(o, f"status_c{c}_p99_ms")
        if ours_rps and up_rps:
            out.append((f"status GET c={c}: ≥ 30× upstream's throughput", f"{ours_rps / up_rps:.1f}×", ours_rps / up_rps >= 30))
        if p99 is not None:
            out.append((f"status GET c={c}: p99 < 2 ms", f"{p99:.2f} ms", p99 < 2))
        if ours_rps and root_rps:
            out.append((f"status GET c={c}: ≥ 0.5 of the local limit (GET /v1)", f"{ours_rps / root_rps:.2f}", ours_rps / root_rps >= 0.5))
    for key, label, limit in (
        ("e2e_cpu_per_node_ms", "CPU seconds per processed node ≤ 1/10 of upstream", 0.1),
        ("idle_rss_mib", "idle RSS ≤ 1/5 of upstream", 0.2),
        ("startup_s", "start-up ≤ 1/20 of upstream", 0.05),
    ):
        a, b = med(o, key), med(u, key)
        if a is not None and b:
            out.append((label, inverse(a / b) if a else "0", a / b <= limit))
    if scale:
        p99 = scale["lookup_by_mac"]["p99_ms"]
        out.append((f"{scale['nodes']:,} cached nodes: lookup by MAC p99 < 1 ms", f"{p99:.3f} ms", p99 < 1))
        page = scale["list_first_page"]["p50_ms"]
        out.append((f"{scale['nodes']:,} cached nodes: list page (first, 1,000 statuses) < 20 ms (p50)",
                    f"{page:.1f} ms", page < 20))
        page100 = scale["list_page_limit_100"]["p50_ms"]
        out.append((f"{scale['nodes']:,} cached nodes: list page of 100 < 20 ms (p50)", f"{page100:.1f} ms", page100 < 20))
    return out


def report(raw, out_dir):
    agg = {svc: {k: stats_of(v) for k, v in raw["samples"][svc].items()} for svc in (UPSTREAM, OURS)}
    scale = raw.get("scale") or None
    checks = targets(agg, scale)
    doc = {
        "generated": raw["finished"],
        "profile": raw["profile"],
        "settings": raw["settings"],
        "machine": raw["machine"],
        "load": raw["load"],
        "metrics": [
            {
                "key": key, "label": label, "unit": unit, "better": better,
                UPSTREAM: agg[UPSTREAM].get(key), OURS: agg[OURS].get(key),
                "ratio": ratio_text(agg[OURS].get(key), agg[UPSTREAM].get(key), better)[1],
            }
            for key, label, unit, better in METRICS
        ],
        "scale": scale,
        "targets": [{"target": t, "value": v, "met": m} for t, v, m in checks],
        "notes": raw["notes"],
        "phases": raw["phases"],
        "calls": raw.get("calls") or {},
        "stem": "benchmarks-ironic" if raw.get("part") == "ironic" else "benchmarks",
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{doc['stem']}.json").write_text(json.dumps(doc, indent=1) + "\n")
    analysis = (out_dir / "benchmarks-analysis.md").exists()
    (out_dir / f"{doc['stem']}.md").write_text(markdown(doc, agg, checks, analysis))
    return doc


def calls_markdown(calls):
    """Ironic's calls per path, per node, from Ironic's own log (last repetition of each service)."""
    paths = [(key, label) for key, label, _o, _w in CALL_PATHS]
    paths.insert(3, ("continue_rules", "callback + finish, ports added, 100 rules (none matches)"))
    lines = [
        "## Ironic's work per introspection",
        "",
        "Ironic's API requests, counted from Ironic's own log (`ironic.api` INFO lines: method, path "
        "and query, status, time taken) over each window of `loadgen introspect`, divided by the number "
        "of nodes; UUIDs and MACs are replaced by placeholders. The time is what Ironic's API took to "
        "answer (its conductor's work after a 202, e.g. the power change, is not in it).",
        "",
        "| path | upstream: calls per node | inspector: calls per node | upstream: Ironic API ms per node "
        "| inspector: Ironic API ms per node |",
        "|---|---|---|---|---|",
    ]
    for key, label in paths:
        u, o = calls.get(UPSTREAM, {}).get(key), calls.get(OURS, {}).get(key)
        if u is None and o is None:
            continue

        def total(c, i):
            return fmt(sum(v[i] for v in c.values())) if c is not None else "–"

        lines.append(f"| {label} | {total(u, 0)} | {total(o, 0)} | {total(u, 1)} | {total(o, 1)} |")
    for key, label in paths:
        u, o = calls.get(UPSTREAM, {}).get(key), calls.get(OURS, {}).get(key)
        if u is None and o is None:
            continue
        lines += ["", f"### {label}", "", "| call | upstream per node (ms) | inspector per node (ms) |",
                  "|---|---|---|"]
        for shape in sorted(set(u or {}) | set(o or {})):
            cells = [f"{fmt(c[shape][0])} ({fmt(c[shape][1])})" if c and shape in c else "–" for c in (u, o)]
            lines.append(f"| `{shape}` | {cells[0]} | {cells[1]} |")
    return lines


def markdown(doc, agg, checks, analysis):
    m, s, load = doc["machine"], doc["settings"], doc["load"]
    lines = [
        "# Benchmarks: inspector against ironic-inspector 12.5.0",
        "",
        f"Generated by `bench/run.sh{' --quick' if doc['profile'] == 'quick' else ''}` on {doc['generated']} "
        f"(commit {m['commit']}). Both services ran one after the other against the same real Ironic "
        f"{m['ironic']} (fake-hardware) on 127.0.0.1, with the same `inspector.conf` (noauth, SQLite, "
        "`store_data = database`, `introspection_delay = 0`, `[pxe_filter] driver = noop`, hooks "
        "`$default_processing_hooks,extra_hardware,lldp_basic,local_link_connection`, `add_ports = all`, "
        "`keep_ports = all`, `clean_up_period = 0`, INFO logging to a file). Each figure is the median of "
        f"{s['reps']} repetition{'s' if s['reps'] != 1 else ''} (the services alternate who goes first), with min–max in parentheses; "
        "ratios are inspector ÷ upstream of the medians. How to run: [bench/README.md](../bench/README.md).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu']}, {m['cpus']} cores ({m['virtualization'] or 'bare metal'}) |",
        f"| memory | {m['memory_gib']} GiB |",
        f"| OS, kernel | {m['os']}, Linux {m['kernel']} |",
        f"| upstream | ironic-inspector {m['ironic_inspector']} (Python {m['python']}, eventlet {m['eventlet']}) |",
        f"| inspector | commit {m['commit']}, release build, {m['rustc']} |",
        f"| Ironic | {m['ironic']}, API and conductor in one process, SQLite, INFO logging (`scripts/testbed/ironic.sh`) |",
        f"| load generators | {m['wrk']} (GETs, one thread); `bench/loadgen` (POSTs, walks, whole introspections) |",
        "",
        "Load from other work on the machine while the benchmark ran (it is shared): "
        f"1-minute load average {load['loadavg_min']:.2f}–{load['loadavg_max']:.2f} (median "
        f"{load['loadavg_median']:.2f}) at the start of each phase; CPU busy while both services were idle, "
        f"sampled for 1 s before each service's run: {load['busy_min'] * 100:.0f}–{load['busy_max'] * 100:.0f}% "
        f"of all cores"
        + (f"; CPU time stolen by the hypervisor over the whole run: {load['steal'] * 100:.1f}%"
           if load.get("steal") is not None else "")
        + f". {verdict(load)} Repetitions of one service can differ by tens of percent on this "
        "virtual machine (see the min–max ranges): compare within a repetition as well as medians.",
        "",
        "## Targets",
        "",
        *([
            "Why the missed ones are missed, what was profiled and fixed: "
            "[benchmarks-analysis.md](benchmarks-analysis.md).",
            "",
        ] if analysis else []),
        "| target (inspector vs upstream, same run) | measured | met |",
        "|---|---|---|",
    ]
    for t, v, met in checks:
        lines.append(f"| {t} | {v} | {'yes' if met else '**no**'} |")
    lines += ["", "## Side by side", "", "| metric | unit | upstream 12.5.0 | inspector | inspector ÷ upstream |",
              "|---|---|---|---|---|"]
    for metric in doc["metrics"]:
        u, o = metric[UPSTREAM], metric[OURS]
        if u is None and o is None:
            continue
        rt, _ = ratio_text(o, u, metric["better"])
        lines.append(f"| {metric['label']} | {metric['unit']} | {cell(u)} | {cell(o)} | {rt} |")
    lines += ["", "Status GET as a fraction of the local limit (GET /v1 of the same service, same concurrency):", ""]
    lines += ["| concurrency | upstream | inspector |", "|---|---|---|"]
    for c in (1, 8, 32):
        row = []
        for svc in (UPSTREAM, OURS):
            a, b = agg[svc].get(f"status_c{c}_rps"), agg[svc].get(f"root_c{c}_rps")
            row.append(f"{a['median'] / b['median']:.2f}" if a and b else "–")
        lines.append(f"| {c} | {row[0]} | {row[1]} |")
    sc = doc["scale"]
    if sc:
        lines += [
            "",
            f"## Scale: inspector alone with {sc['nodes']:,} cached nodes",
            "",
            f"{sc['nodes']:,} introspections waiting for their ramdisk (each with a BMC address and two MACs as "
            f"lookup attributes) inserted through the store (`Store::add_node`) in {sc['fill_s']:.1f} s; "
            f"the service then started in {sc['startup_s'] * 1000:.0f} ms with an idle RSS of "
            f"{sc['idle_rss_mib']} MiB (after the run: {sc['rss_after_mib']} MiB). Lookups go through the "
            "service's store code (`Store::find_by_attributes`, the query `/v1/continue` makes) in a separate "
            "process on the same database file while the service runs; the HTTP figures are measured at "
            "concurrency 1.",
            "",
            "| measurement | samples | p50 ms | p90 ms | p99 ms | max ms |",
            "|---|---|---|---|---|---|",
        ]
        for key, label in (
            ("lookup_by_mac", "lookup by one MAC (store)"),
            ("lookup_bmc_and_two_macs", "lookup by BMC address + two MACs, as a ramdisk sends (store)"),
            ("list_first_page", "GET /v1/introspection, first page (1,000 statuses)"),
            ("list_page_limit_100", "GET /v1/introspection?limit=100"),
            ("list_page_deep_marker", "GET /v1/introspection?marker=<node in the middle> (1,000 statuses)"),
            ("continue_lookup_miss", "POST /v1/continue with unknown MACs (hooks + lookup miss, 400)"),
        ):
            x = sc[key]
            lines.append(f"| {label} | {x['samples']} | {x['p50_ms']:.3f} | {x['p90_ms']:.3f} | "
                         f"{x['p99_ms']:.3f} | {x['max_ms']:.3f} |")
        st = sc["status_c8"]
        lines += ["", f"GET /v1/introspection/<uuid> at concurrency 8 with {sc['nodes']:,} nodes: "
                  f"{st['rps']:,.0f} req/s, p50 {st['p50_ms']:.3f} ms, p99 {st['p99_ms']:.3f} ms."]
    lines += ["", "## Method", ""]
    lines += [
        f"* GETs: wrk, one thread, {s['duration']:g} s per run after a warm-up, keep-alive connections; "
        "the status is read for one node of a cache of "
        f"{s['cache_nodes']:,} finished introspections. The same SQLite file, written through our store and "
        "accepted by `ironic-inspector-dbsync upgrade`, is copied for each service (so upstream also gets our "
        "extra indexes).",
        f"* List: the first page without `limit` (both default to `api_max_limit` = 1,000), {s['list_count']} "
        "requests at concurrency 1; the walk follows `marker` until an empty page (11 requests).",
        f"* Rules: {s['rules']} rules created at concurrency 8, then listed for {s['duration']:g} s at "
        "concurrency 8. Each rule has three conditions on the processed data (two hold, the last does not), so "
        "all are evaluated on every callback and no action calls Ironic. The callback cost is measured on "
        f"{s['rule_nodes']} nodes posted one at a time, first without rules, then with the {s['rules']} rules.",
        f"* End to end: {s['e2e_nodes']} fake-hardware nodes are created in Ironic beforehand (not timed), "
        "each with a port for its PXE MAC; introspection is started on all (`manage_boot` true: the inspector "
        "sets the boot device and reboots through Ironic) and, once all wait, the two real ramdisk documents "
        "of `scripts/testbed/data` (alternating, MACs rewritten per node) are posted to `/v1/continue` at "
        "concurrency 8. Wall time runs from the first post until every node reads `finished` (the status is "
        "polled node by node, about one request per node, which both services also pay for). CPU is "
        "utime + stime from /proc of the service's process group over that window; Ironic's is read over the "
        "same window.",
        "* Peak RSS: VmHWM of the service, reset (`clear_refs`) before each load.",
        "* Start-up: from spawning the process to the first 200 answer to GET /v1, polled every 2 ms, on the "
        "10,000-status database.",
    ]
    if doc["calls"]:
        lines += [""] + calls_markdown(doc["calls"])
    if doc["notes"]:
        lines += ["", "## Notes from the run", ""] + [f"* {n}" for n in doc["notes"]]
    return "\n".join(lines) + "\n"


def load_summary(bench):
    loads = [p["loadavg"][0] for p in bench.phases]
    busy = [b for svc in (UPSTREAM, OURS) for b in bench.samples[svc].get("machine_busy_before", [])]
    busy_max = max(busy) if busy else 0
    return {
        "steal": getattr(bench, "steal", None),
        "loadavg_min": min(loads) if loads else 0,
        "loadavg_max": max(loads) if loads else 0,
        "loadavg_median": statistics.median(loads) if loads else 0,
        "busy_min": min(busy) if busy else 0,
        "busy_max": busy_max,
    }


def verdict(load):
    if load["busy_max"] > 0.25 or (load.get("steal") or 0) > 0.05:
        return "The machine was busy with other work: treat small differences as noise; the large ratios hold."
    return "Other work on the machine was light."


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small, fast run for iteration")
    parser.add_argument("--reps", type=int, help="repetitions (default: 3, or 1 with --quick)")
    parser.add_argument("--out", help="where benchmarks.md/json go (default docs/, or target/bench/quick)")
    parser.add_argument("--work", help="scratch directory (default target/bench/work)")
    parser.add_argument("--inspector", required=True, help="the inspector binary (release build)")
    parser.add_argument("--loadgen", required=True, help="the loadgen binary")
    parser.add_argument("--testbed-dir", help="TESTBED_DIR of scripts/testbed (venvs)")
    parser.add_argument("--skip-scale", action="store_true", help="skip the scale run")
    parser.add_argument("--report-from", help="rewrite the report from a raw results file and exit")
    parser.add_argument("--part", choices=["all", "ironic"], default="all",
                        help="ironic: only the workloads that reach Ironic (callbacks with and without rules, "
                             "the end-to-end burst, the Ironic calls per path); the report goes to "
                             "benchmarks-ironic.md/json")
    args = parser.parse_args()
    profile_name = "quick" if args.quick else "full"
    out_dir = Path(args.out) if args.out else (REPO / "target" / "bench" / "quick" if args.quick else REPO / "docs")
    if args.report_from:
        report(json.loads(Path(args.report_from).read_text()), out_dir)
        return 0
    profile = dict(PROFILES[profile_name])
    if args.reps:
        profile["reps"] = max(1, min(args.reps, 10))
    args.work = args.work or str(REPO / "target" / "bench" / "work")
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing (bench/run.sh installs it)")
    started = time.time()
    bench = Bench(args, profile)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    machine = describe_machine(args)
    log(f"profile {profile_name}: {profile}")
    bench.run()
    raw = {
        "profile": profile_name,
        "settings": profile,
        "machine": machine,
        "started": datetime.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
        "duration_s": round(time.time() - started),
        "samples": bench.samples,
        "scale": bench.scale,
        "phases": bench.phases,
        "notes": bench.notes,
        "load": load_summary(bench),
        "part": args.part,
        "calls": bench.calls,
    }
    raw_path = bench.work / "raw.json"
    raw_path.write_text(json.dumps(raw, indent=1))
    stem = report(raw, out_dir)["stem"]
    log(f"done in {raw['duration_s']} s; raw results {raw_path}; report {out_dir / (stem + '.md')}")
    print((out_dir / f"{stem}.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
