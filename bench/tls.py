#!/usr/bin/env python3
"""TLS beside plain HTTP: inspector alone, the same build and configuration, once with
`[DEFAULT] use_ssl` (an ECDSA P-256 certificate from a private CA made with openssl) and
once without.

Run by `bench/run.sh --tls` (see bench/README.md). Per mode, at concurrency 1 and 8, with
`loadgen http`: new connections per second (one `GET /v1` on each fresh connection; over
TLS a full handshake every time, session resumption off in the client) and the status GET
of a cached introspection on keep-alive connections; with the service's CPU time per
request. Writes benchmarks-tls.md and .json. No Ironic is needed: the status GET reads the
database only.
"""

import json
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as kit  # noqa: E402  (the main benchmark's helpers: servers, loadgen, machine)

REPO = kit.REPO
PROFILES = {
    "full": {"duration": 5.0, "max_requests": 200_000, "cache_nodes": 1000},
    "quick": {"duration": 2.0, "max_requests": 50_000, "cache_nodes": 200},
}
MODES = ("http", "https")
CONCURRENCIES = (1, 8)
WORKLOADS = ("new_connection", "status_keepalive")


def openssl(cwd, *argv):
    subprocess.run(["openssl", *argv], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(d):
    """A CA and a server certificate for 127.0.0.1, as in the TLS tests."""
    d.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl(d, "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=inspector bench CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                                  "extendedKeyUsage=serverAuth\n")
    openssl(d, "req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=server")
    openssl(d, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "1",
            "-days", "2", "-out", "server.pem", "-extfile", "server.ext")


class TlsServer(kit.Server):
    """Ready when `GET /v1` answers over HTTPS with the bench CA."""

    def __init__(self, *args, ca):
        super().__init__(*args)
        self.context = ssl.create_default_context(cafile=str(ca))

    def answers(self):
        import http.client
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=2, context=self.context)
        try:
            conn.request("GET", "/v1")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()


class TlsBench(kit.Bench):
    def __init__(self, args, profile):
        super().__init__(args, profile)
        self.results = {}

    def service(self, mode, db):
        port = kit.free_port()
        state = self.work / mode
        shutil.rmtree(state, ignore_errors=True)
        (state / "locks").mkdir(parents=True)
        (state / "ramdisk-logs").mkdir()
        shutil.copy(db, state / "inspector.sqlite")
        conf = kit.config_text(port, "http://127.0.0.1:9", state / "inspector.sqlite", state)
        argv = [self.args.inspector, "serve", "--config-file", str(state / "inspector.conf")]
        if mode == "https":
            pki = self.work / "pki"
            conf = conf.replace("[database]", f"use_ssl = true\n\n[ssl]\ncert_file = {pki}/server.pem\n"
                                f"key_file = {pki}/server.key\n\n[database]", 1)
            server = TlsServer(mode, argv, port, state, ca=pki / "ca.pem")
        else:
            server = kit.Server(mode, argv, port, state)
        (state / "inspector.conf").write_text(conf)
        server.start()
        self.running.append(server)
        return server

    def measure(self, server, mode, url, concurrency, new_connections):
        argv = ["http", "--url", url, "--concurrency", concurrency, "--duration", self.p["duration"],
                "--count", self.p["max_requests"], "--expect", 200]
        if mode == "https":
            argv += ["--cacert", self.work / "pki" / "ca.pem"]
        if new_connections:
            argv.append("--new-connections")
        load0 = kit.loadavg()[0]
        cpu0 = server.group.cpu_seconds()
        r = self.run_loadgen(*argv, timeout=120)
        cpu = server.group.cpu_seconds() - cpu0
        if r["errors"]:
            raise RuntimeError(f"{mode} {url} c={concurrency}: {r['errors']} errors, first: {r['first_error']}")
        return {"rps": round(r["rps"]), "requests": r["ok"], "p50_ms": r["latency"]["p50_ms"],
                "p99_ms": r["latency"]["p99_ms"], "cpu_us_per_request": round(cpu / max(1, r["ok"]) * 1e6, 1),
                "loadavg_before": load0}

    def run(self):
        self.work.mkdir(parents=True, exist_ok=True)
        make_pki(self.work / "pki")
        db = self.work / "cache.sqlite"
        db.unlink(missing_ok=True)
        fill = self.run_loadgen("fill", "--db", f"sqlite:///{db}", "--nodes", self.p["cache_nodes"],
                                "--state", "finished")
        try:
            for mode in MODES:
                server = self.service(mode, db)
                base = f"{mode}://127.0.0.1:{server.port}"
                r = self.results.setdefault(mode, {"idle_rss_mib": server.group.rss_mib()})
                for c in CONCURRENCIES:
                    kit.log(f"{mode} c={c}: new connections, then keep-alive status GETs")
                    r[f"new_connection_c{c}"] = self.measure(server, mode, f"{base}/v1", c, True)
                    r[f"status_keepalive_c{c}"] = self.measure(
                        server, mode, f"{base}/v1/introspection/{fill['last_uuid']}", c, False)
                server.stop()
                self.running.remove(server)
        finally:
            for server in self.running:
                server.stop()


def markdown(raw):
    res = raw["results"]
    lines = [
        "# TLS beside plain HTTP", "",
        f"Measured by `bench/run.sh --tls` ({raw['profile']} profile) on {raw['finished']}, "
        f"{raw['machine'].get('cpu', '?')}, {raw['machine'].get('cpus', '?')} CPUs, the load generator on the "
        "same machine; inspector alone, release build, the same configuration with and without "
        "`[DEFAULT] use_ssl` (rustls, ECDSA P-256 certificate; the client offers TLS 1.3 and gets it).", "",
        "* **new connection**: every request on a fresh connection (`GET /v1`); over HTTPS each one is a full "
        "handshake (session resumption off in the client): connections per second.",
        "* **status GET, keep-alive**: `GET /v1/introspection/<uuid>` of a cached introspection on connections "
        "kept open: requests per second.", "",
        "| workload | c | HTTP req/s | HTTPS req/s | HTTPS / HTTP | HTTP p99 ms | HTTPS p99 ms "
        "| HTTP CPU µs/req | HTTPS CPU µs/req |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    names = {"new_connection": "new connection", "status_keepalive": "status GET, keep-alive"}
    for w in WORKLOADS:
        for c in CONCURRENCIES:
            h, s = res["http"][f"{w}_c{c}"], res["https"][f"{w}_c{c}"]
            lines.append(f"| {names[w]} | {c} | {h['rps']} | {s['rps']} | {s['rps'] / h['rps']:.2f} | "
                         f"{h['p99_ms']} | {s['p99_ms']} | {h['cpu_us_per_request']} | {s['cpu_us_per_request']} |")
    loads = [v["loadavg_before"] for m in MODES for v in res[m].values() if isinstance(v, dict)]
    lines += ["", f"Idle RSS: HTTP {res['http']['idle_rss_mib']} MiB, HTTPS {res['https']['idle_rss_mib']} MiB. "
              f"1-minute load average before each load: {min(loads):.1f} to {max(loads):.1f} (other work on the "
              "machine). "
              f"Each figure is one run of {raw['settings']['duration']} s (at most "
              f"{raw['settings']['max_requests']:,} requests); the service's CPU time is read from /proc over the "
              "run. Raw figures: `benchmarks-tls.json`. On a shared 2-core machine, where the load generator "
              "competes with the service for the same cores, read small differences as noise."]
    return "\n".join(lines) + "\n"


def main():
    args = kit.report_parser(__doc__, "benchmarks-tls").parse_args()
    name, out_dir = kit.report_settings(args, "benchmarks-tls")
    profile = PROFILES[name]
    bench = TlsBench(args, profile)
    return kit.run_and_report(bench, args, name, profile, "benchmarks-tls", markdown, out_dir)


if __name__ == "__main__":
    sys.exit(main())
