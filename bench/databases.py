#!/usr/bin/env python3
"""Database backends and clusters: inspector on SQLite, PostgreSQL and MariaDB side by side.

Run by `bench/run.sh --databases` (see bench/README.md). Inspector alone (upstream is not
involved), against one real Ironic, with private PostgreSQL and MariaDB servers started from
Debian's packages by scripts/testbed/postgres.sh and mariadb.sh on 127.0.0.1. Per backend:
status GET throughput and CPU per request (10,000 cached statuses), then whole introspections
with their callback CPU per node. On each server database: the same burst of introspections
through one instance and through three instances of one cluster (every node's start, callback
and status polls go to three different instances). Then 100,000 waiting nodes on PostgreSQL and
lookups by MAC through the store. Writes benchmarks-databases.md and .json.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as kit  # noqa: E402  (the main benchmark's helpers: servers, wrk, loadgen)

REPO = kit.REPO
PROFILES = {
    "full": {"duration": 5.0, "cache_nodes": 10_000, "e2e_nodes": 200, "scale_nodes": 100_000,
             "lookup_samples": 5000},
    "quick": {"duration": 2.0, "cache_nodes": 2_000, "e2e_nodes": 40, "scale_nodes": 10_000,
              "lookup_samples": 1000},
}
BACKENDS = ("sqlite", "postgresql", "mysql")
CONCURRENCIES = (1, 8, 32)


def sh(script, env, *argv, timeout=300):
    out = subprocess.run([str(REPO / "scripts" / "testbed" / script), *argv], env=env, capture_output=True,
                         text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(argv)} failed:\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


class DatabaseBench(kit.Bench):
    def __init__(self, args, profile):
        super().__init__(args, profile)
        self.results = {}
        self.db_servers = {}
        self.db_groups = {}

    # --- the database servers ------------------------------------------------
    def start_databases(self):
        env = dict(os.environ, TESTBED_DIR=self.testbed_dir())
        for name, script, var in (("postgresql", "postgres.sh", "POSTGRES_PORT"),
                                  ("mysql", "mariadb.sh", "MARIADB_PORT")):
            if name not in self.args.backends:
                continue
            port = kit.free_port()
            env_db = dict(env, **{var: str(port)})
            kit.log(f"starting {script} on 127.0.0.1:{port}")
            url = sh(script, env_db, "start")
            self.db_servers[name] = (script, env_db, url)
            pid_file = Path(self.testbed_dir()) / f"{script[:-3]}-{port}" / f"{script[:-3]}.pid"
            self.db_groups[name] = ProcessTree(int(pid_file.read_text().split()[0]))

    def stop_databases(self):
        for script, env, _ in self.db_servers.values():
            subprocess.run([str(REPO / "scripts" / "testbed" / script), "stop"], env=env, timeout=120)

    def database_url(self, backend, name):
        """A fresh, empty database `name` on the backend; its oslo.db URL."""
        if backend == "sqlite":
            path = self.work / f"{name}.sqlite"
            path.unlink(missing_ok=True)
            return f"sqlite:///{path}"
        script, env, admin = self.db_servers[backend]
        base, _, query = admin.partition("?")
        url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
        user_pw = admin.split("//", 1)[1].split("@", 1)[0]
        user, password = user_pw.split(":", 1)
        port = env["POSTGRES_PORT" if backend == "postgresql" else "MARIADB_PORT"]
        if backend == "postgresql":
            sql = [["psql", f"postgresql://{user}:{password}@127.0.0.1:{port}/postgres", "-qc",
                    f"DROP DATABASE IF EXISTS {name}"],
                   ["psql", f"postgresql://{user}:{password}@127.0.0.1:{port}/postgres", "-qc",
                    f"CREATE DATABASE {name}"]]
        else:
            sql = [["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{port}", f"-u{user}", f"-p{password}", "-e",
                    f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"]]
        for argv in sql:
            subprocess.run(argv, check=True, capture_output=True, timeout=60)
        return url

    # --- services ------------------------------------------------------------
    def instance(self, label, url):
        port = kit.free_port()
        state = self.work / label
        shutil.rmtree(state, ignore_errors=True)
        (state / "locks").mkdir(parents=True)
        (state / "ramdisk-logs").mkdir()
        conf = kit.config_text(port, self.ironic_url, "DB", state)
        conf = conf.replace("connection = sqlite:///DB", f"connection = {url}")
        (state / "inspector.conf").write_text(conf)
        server = kit.Server(label, [self.args.inspector, "serve", "--config-file", str(state / "inspector.conf")],
                            port, state)
        server.start()
        self.running.append(server)
        return server

    def stop_all(self):
        for server in list(self.running):
            server.stop()
            self.running.remove(server)

    def burst(self, servers, nodes):
        return self.run_loadgen(
            "introspect", "--ironic", self.ironic_url,
            *sum((["--inspector", f"http://127.0.0.1:{s.port}"] for s in servers), []),
            "--nodes", nodes, "--concurrency", 8,
            *sum((["--payload", p] for p in kit.PAYLOADS), []),
            *sum((["--inspector-pgid", s.proc.pid] for s in servers), []),
            "--ironic-pgid", self.ironic_pgid, "--timeout", 1200, timeout=1300)

    # --- workloads -------------------------------------------------------------
    def per_backend(self, backend, with_burst=True):
        r = self.results.setdefault(backend, {})
        url = self.database_url(backend, "bench_status")
        kit.log(f"{backend}: filling {self.p['cache_nodes']} finished statuses")
        fill = self.run_loadgen("fill", "--db", url, "--nodes", self.p["cache_nodes"], "--state", "finished")
        r["fill_per_node_us"] = round(fill["per_node_us"], 1)
        server = self.instance(f"{backend}-single", url)
        status_url = f"http://127.0.0.1:{server.port}/v1/introspection/{fill['last_uuid']}"
        # MariaDB only: PostgreSQL's backends showed no CPU time over a window in several runs,
        # a measurement not yet understood.
        db_group = self.db_groups.get(backend) if backend == "mysql" else None
        for c in CONCURRENCIES:
            cpu0 = server.group.cpu_seconds()
            db_cpu0 = db_group.snapshot() if db_group else None
            w = self.wrk(status_url, c)
            cpu = server.group.cpu_seconds() - cpu0
            r[f"status_c{c}"] = {"rps": round(w["rps"]), "p50_ms": round(w["p50_ms"], 3),
                                 "p99_ms": round(w["p99_ms"], 3), "errors": w["errors"],
                                 "cpu_us_per_request": round(cpu / max(1, w["requests"]) * 1e6, 1)}
            if db_group:
                # The database server's CPU per request.
                db_cpu = ProcessTree.seconds_between(db_cpu0, db_group.snapshot())
                r[f"status_c{c}"]["db_cpu_us_per_request"] = round(db_cpu / max(1, w["requests"]) * 1e6, 1)
        if not with_burst:
            self.stop_all()
            return
        kit.log(f"{backend}: {self.p['e2e_nodes']} introspections through one instance")
        e2e = self.burst([server], self.p["e2e_nodes"])
        r["one_instance"] = summary_of(e2e)
        self.stop_all()

    def one_instance(self, backend):
        r = self.results.setdefault(backend, {})
        server = self.instance(f"{backend}-single", self.database_url(backend, "bench_single"))
        kit.log(f"{backend}: {self.p['e2e_nodes']} introspections through one instance")
        r["one_instance"] = summary_of(self.burst([server], self.p["e2e_nodes"]))
        self.stop_all()

    def cluster(self, backend):
        r = self.results.setdefault(backend, {})
        url = self.database_url(backend, "bench_cluster")
        servers = [self.instance(f"{backend}-cluster-{i}", url) for i in range(3)]
        kit.log(f"{backend}: {self.p['e2e_nodes']} introspections through three instances")
        r["three_instances"] = summary_of(self.burst(servers, self.p["e2e_nodes"]))
        self.stop_all()

    def scale_lookup(self):
        n = self.p["scale_nodes"]
        url = self.database_url("postgresql", "bench_scale")
        kit.log(f"postgresql: filling {n} waiting nodes")
        fill = self.run_loadgen("fill", "--db", url, "--nodes", n, "--state", "waiting", timeout=3600)
        lookup = self.run_loadgen("lookup", "--db", url, "--nodes", n, "--samples", self.p["lookup_samples"])
        self.results["postgresql_scale"] = {"nodes": n, "fill_s": round(fill["seconds"], 1),
                                            "lookup_by_mac": lookup["by_mac"],
                                            "lookup_bmc_and_two_macs": lookup["bmc_and_two_macs"]}

    def run(self):
        self.work.mkdir(parents=True, exist_ok=True)
        self.start_ironic()
        try:
            self.start_databases()
            backends = self.args.backends
            if self.args.part == "status":
                for backend in backends:
                    self.per_backend(backend, with_burst=False)
                return
            if self.args.part == "cluster":
                # Each twice, alternating, to tell a difference from noise.
                for rep in range(self.args.repeat):
                    for backend in (b for b in backends if b != "sqlite"):
                        self.one_instance(backend)
                        self.results[backend][f"one_instance_{rep}"] = self.results[backend]["one_instance"]
                        self.cluster(backend)
                        self.results[backend][f"three_instances_{rep}"] = self.results[backend]["three_instances"]
                return
            for backend in backends:
                self.per_backend(backend)
            for backend in backends:
                if backend != "sqlite":
                    self.cluster(backend)
            if "postgresql" in backends:
                self.scale_lookup()
        finally:
            self.stop_all()
            self.stop_ironic()
            self.stop_databases()


class ProcessTree:
    """CPU time of a process and its descendants (PostgreSQL's backends leave the postmaster's
    process group, so `kit.Group` would miss them), counted over a window only for the processes
    alive at both ends: a worker that starts or ends inside it (autovacuum) is left out rather than
    counted with the CPU of its whole life."""

    def __init__(self, pid):
        self.pid = pid

    def snapshot(self):
        stats, children = {}, {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid = int(entry.name)
            stats[pid] = int(fields[11]) + int(fields[12])
            children.setdefault(int(fields[1]), []).append(pid)
        tree, todo = {}, [self.pid]
        while todo:
            pid = todo.pop()
            tree[pid] = stats.get(pid, 0)
            todo += children.get(pid, [])
        return tree

    @staticmethod
    def seconds_between(before, after):
        ticks = sum(after[pid] - before[pid] for pid in after.keys() & before.keys())
        return ticks / os.sysconf("SC_CLK_TCK")


def summary_of(e2e):
    return {
        "nodes": e2e["nodes"], "instances": e2e["instances"], "finished_ok": e2e["finished_ok"],
        "failed_posts": e2e["failed_posts"], "errors": e2e["errors"],
        "start_wall_s": round(e2e["start"]["wall_s"], 2), "continue_wall_s": round(e2e["continue"]["wall_s"], 2),
        "total_wall_s": round(e2e["start"]["wall_s"] + e2e["continue"]["wall_s"], 2),
        "callback_cpu_ms_per_node": round(e2e["continue"]["inspector_cpu_s"] / e2e["nodes"] * 1000, 2),
        "callback_p50_ms": round(e2e["continue"]["latency"]["p50_ms"], 1),
        "callback_p99_ms": round(e2e["continue"]["latency"]["p99_ms"], 1),
    }


def markdown(raw):
    res = raw["results"]
    lines = [
        "# Database backends and clusters", "",
        f"Measured by `bench/run.sh --databases` ({raw['profile']} profile) on {raw['finished']}, "
        f"{raw['machine'].get('cpu', '?')}, {raw['machine'].get('cpus', '?')} CPUs; "
        "inspector alone against one real Ironic 39.0.0 on the same machine; PostgreSQL and MariaDB from "
        "Debian's packages, private servers on 127.0.0.1 (durability off: test servers).", "",
        "| figure | SQLite | PostgreSQL | MariaDB |", "|---|---|---|---|",
    ]

    def row(label, get):
        cells = []
        for b in BACKENDS:
            try:
                cells.append(str(get(res[b])))
            except (KeyError, TypeError):
                cells.append("–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    for c in CONCURRENCIES:
        row(f"status GET c={c}: req/s", lambda r, c=c: r[f"status_c{c}"]["rps"])
        row(f"status GET c={c}: throughput / SQLite's", lambda r, c=c: round(
            r[f"status_c{c}"]["rps"] / res["sqlite"][f"status_c{c}"]["rps"], 2))
        row(f"status GET c={c}: p99 ms", lambda r, c=c: r[f"status_c{c}"]["p99_ms"])
        row(f"status GET c={c}: service CPU µs/request", lambda r, c=c: r[f"status_c{c}"]["cpu_us_per_request"])
        row(f"status GET c={c}: database server CPU µs/request",
            lambda r, c=c: r[f"status_c{c}"]["db_cpu_us_per_request"])
    n = raw["settings"]["e2e_nodes"]
    row(f"{n} introspections, one instance: callback CPU ms/node", lambda r: r["one_instance"]["callback_cpu_ms_per_node"])
    row(f"{n} introspections, one instance: wall s (start + callbacks)", lambda r: r["one_instance"]["total_wall_s"])
    row(f"{n} introspections, three instances: wall s", lambda r: r["three_instances"]["total_wall_s"])
    row(f"{n} introspections, three instances: CPU ms/node (all instances)",
        lambda r: r["three_instances"]["callback_cpu_ms_per_node"])
    row(f"{n} introspections, finished without error (one / three instances)",
        lambda r: f"{r['one_instance']['finished_ok']} / {r.get('three_instances', {}).get('finished_ok', '–')}")
    scale = res.get("postgresql_scale")
    if scale:
        lines += ["", f"PostgreSQL with {scale['nodes']:,} waiting nodes (filled in {scale['fill_s']} s): lookup by MAC "
                  f"p50 {scale['lookup_by_mac']['p50_ms']} ms, p99 {scale['lookup_by_mac']['p99_ms']} ms; "
                  f"BMC address and two MACs p99 {scale['lookup_bmc_and_two_macs']['p99_ms']} ms."]
    lines += ["", "Raw figures: `benchmarks-databases.json`. Every figure comes from one run; on a shared 2-core machine "
              "read small differences as noise."]
    return "\n".join(lines) + "\n"


def main():
    parser = kit.report_parser(__doc__, "benchmarks-databases")
    parser.add_argument("--part", choices=("all", "status", "cluster"), default="all",
                        help="status: only the status GET figures; cluster: only the bursts through one and "
                             "three instances (--repeat times); all: everything (default)")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help=f"comma-separated, of {', '.join(BACKENDS)} (default all)")
    parser.add_argument("--repeat", type=int, default=1, help="--part cluster: how many times")
    parser.add_argument("--nodes", type=int, help="introspections per burst (default: the profile's)")
    args = parser.parse_args()
    args.backends = [b for b in args.backends.split(",") if b]
    if set(args.backends) - set(BACKENDS):
        parser.error(f"--backends: unknown {sorted(set(args.backends) - set(BACKENDS))}")
    name, out_dir = kit.report_settings(args, "benchmarks-databases")
    profile = dict(PROFILES[name])
    if args.nodes:
        profile["e2e_nodes"] = args.nodes
    bench = DatabaseBench(args, profile)
    return kit.run_and_report(bench, args, name, profile, "benchmarks-databases", markdown, out_dir)


if __name__ == "__main__":
    sys.exit(main())
