#!/usr/bin/env python3
"""Fill a running upstream ironic-inspector's database through its own API.

Creates fake-hardware nodes with ports in Ironic, introspection rules and
introspections in the inspector, drives them into several end states by
posting ramdisk payloads to /v1/continue, aborting and reapplying, then
records what the inspector's read API returns into a JSON file: the
expected output for any service that serves the resulting database.

Standard library only for a SQLite database; a PostgreSQL or MySQL one is
read through schema_dump.py's drivers (run with venv-ironic's python).
Called by make-upstream-db.sh.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

from schema_dump import connect

IRONIC_HEADERS = {"X-OpenStack-Ironic-API-Version": "1.87"}
RECORDED_HEADERS = (
    "Content-Type",
    "X-OpenStack-Ironic-Inspector-API-Minimum-Version",
    "X-OpenStack-Ironic-Inspector-API-Maximum-Version",
    "X-OpenStack-Ironic-Inspector-API-Version",
)
TIMEOUT_S = 30

# Fixed UUIDs and MACs so every run produces the same identifiers; only
# timestamps and the inspector's base URL differ between runs.
NODES = {
    # finished: 2-NIC payload, one port known; inspector adds the second
    "tb-finished-2nic": {
        "uuid": "6d3a0c52-5b8e-4f0e-9a51-1c2b7f0e0a01",
        "port": "52:54:00:10:00:01",
        "payload": "ipa-inventory-handmade-2nic.json",
        "macs": {"52:54:00:aa:00:01": "52:54:00:10:00:01",
                 "52:54:00:aa:00:02": "52:54:00:10:00:02",
                 "52:54:00:aa:00:ff": "52:54:00:10:00:ff"},
    },
    # finished, started with manage_boot=false, then reapplied from the
    # stored unprocessed data
    "tb-finished-vm": {
        "uuid": "6d3a0c52-5b8e-4f0e-9a51-1c2b7f0e0a02",
        "port": "52:54:00:20:00:01",
        "payload": "ipa-inventory-this-machine.json",
        "macs": {"02:fc:00:00:00:01": "52:54:00:20:00:01"},
        "manage_boot": False,
    },
    # waiting: introspection started, no data ever posted
    "tb-waiting": {
        "uuid": "6d3a0c52-5b8e-4f0e-9a51-1c2b7f0e0a03",
        "port": "52:54:00:30:00:01",
    },
    # error: aborted by the operator while waiting
    "tb-aborted": {
        "uuid": "6d3a0c52-5b8e-4f0e-9a51-1c2b7f0e0a04",
        "port": "52:54:00:40:00:01",
    },
    # error: the scoped 'fail' rule stops processing after data was stored
    "tb-rule-failed": {
        "uuid": "6d3a0c52-5b8e-4f0e-9a51-1c2b7f0e0a05",
        "port": "52:54:00:50:00:01",
        "payload": "ipa-inventory-this-machine.json",
        "macs": {"02:fc:00:00:00:01": "52:54:00:50:00:01"},
        "properties": {"inspection_scope": "testbed-fail-scope"},
    },
}

RULES = [
    {
        "uuid": "0b7e3c1a-6f0d-4a55-8d2e-5a7c9e1f0b01",
        "description": "Record the CPU count and set a capability",
        "conditions": [
            {"op": "ge", "field": "memory_mb", "value": 1024},
            {"op": "eq", "field": "data://cpu_arch", "value": "x86_64"},
        ],
        "actions": [
            {"action": "set-attribute", "path": "/extra/testbed_cpus", "value": "{data[cpus]}"},
            {"action": "set-capability", "name": "testbed_cap", "value": "yes"},
        ],
    },
    {
        "uuid": "0b7e3c1a-6f0d-4a55-8d2e-5a7c9e1f0b02",
        "description": "Fail every node of the testbed-fail-scope",
        "scope": "testbed-fail-scope",
        "conditions": [],
        "actions": [{"action": "fail", "message": "Failed by testbed rule"}],
    },
    {
        "uuid": "0b7e3c1a-6f0d-4a55-8d2e-5a7c9e1f0b03",
        "description": "No loopback NIC reported; tag fake-hardware nodes",
        "conditions": [
            {"op": "matches", "field": "inventory.interfaces[*].name", "value": "lo",
             "invert": True, "multiple": "all"},
            {"op": "contains", "field": "node://driver", "value": "fake", "multiple": "first"},
        ],
        "actions": [
            {"action": "extend-attribute", "path": "/extra/tags", "value": "testbed", "unique": True},
            {"action": "add-trait", "name": "CUSTOM_TESTBED"},
        ],
    },
    {
        # no description, path without leading slash, dict value (formatted
        # recursively since API 1.14)
        "uuid": "0b7e3c1a-6f0d-4a55-8d2e-5a7c9e1f0b04",
        "conditions": [
            {"op": "in-net", "field": "inventory.interfaces[0].ipv4_address", "value": "127.0.0.0/8"},
            {"op": "is-empty", "field": "node://extra.never_set"},
        ],
        "actions": [
            {"action": "set-attribute", "path": "extra/loopback_pxe_nic",
             "value": {"nic": "{data[inventory][interfaces][0][name]}", "count": 1}},
        ],
    },
    {
        "uuid": "0b7e3c1a-6f0d-4a55-8d2e-5a7c9e1f0b05",
        "description": "Scoped rule no node matches",
        "scope": "nobody",
        "conditions": [
            {"op": "lt", "field": "cpus", "value": 1, "multiple": "any"},
            {"op": "ne", "field": "inventory.cpu.architecture", "value": "aarch64", "invert": True},
        ],
        "actions": [{"action": "remove-trait", "name": "CUSTOM_NEVER"}],
    },
]


class Api:
    """Tiny JSON-over-HTTP client."""

    def __init__(self, base, headers=None):
        self.base = base.rstrip("/")
        self.headers = headers or {}

    def call(self, method, path, body=None, expect=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        for k, v in self.headers.items():
            req.add_header(k, v)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, headers, raw = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as exc:
            status, headers, raw = exc.code, exc.headers, exc.read()
        self.last_raw = raw
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        if expect is not None and status not in expect:
            raise SystemExit(f"{method} {self.base}{path}: HTTP {status} (expected {expect}): {parsed}")
        return status, headers, parsed


def log(msg):
    print(f"[fill-db {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait_for(what, check, timeout=TIMEOUT_S):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ok, last = check()
        if ok:
            return last
        time.sleep(0.2)
    raise SystemExit(f"timeout after {timeout}s waiting for {what} (last seen: {last})")


def rewrite_macs(obj, macs):
    """Replaces every MAC (colon and PXELinux dash forms) in all strings."""
    if isinstance(obj, dict):
        return {k: rewrite_macs(v, macs) for k, v in obj.items()}
    if isinstance(obj, list):
        return [rewrite_macs(v, macs) for v in obj]
    if isinstance(obj, str):
        for old, new in macs.items():
            for a, b in ((old, new), (old.replace(":", "-"), new.replace(":", "-"))):
                obj = obj.replace(a, b).replace(a.upper(), b)
        return obj
    return obj


def inspector_state(inspector, uuid):
    _, _, body = inspector.call("GET", f"/v1/introspection/{uuid}", expect=(200, 404))
    return body if isinstance(body, dict) else {}


def versions(ironic, db):
    """Versions of everything that produced the database."""
    import importlib.metadata

    conn = connect(db if "://" in db else f"sqlite:///{db}")
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT version_num FROM alembic_version")
        (revision,) = cursor.fetchone()
    finally:
        conn.close()
    _, _, root = ironic.call("GET", "/", expect=(200,))
    result = {"alembic_revision": revision, "ironic_api": root["default_version"]["version"]}
    for dist in ("ironic", "ironic-inspector"):
        try:
            result[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            result[dist] = None
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ironic", required=True)
    ap.add_argument("--inspector", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--out-json", required=True)
    ap.add_argument("--db", required=True,
                    help="the inspector's sqlite file or database URL (read-only here)")
    args = ap.parse_args()

    ironic = Api(args.ironic, IRONIC_HEADERS)
    inspector = Api(args.inspector)

    # Rules first, so they run during processing.
    for rule in RULES:
        inspector.call("POST", "/v1/rules", rule, expect=(201,))
    log(f"created {len(RULES)} rules")

    for name, spec in NODES.items():
        node = {"uuid": spec["uuid"], "name": name, "driver": "fake-hardware",
                "properties": spec.get("properties", {})}
        ironic.call("POST", "/v1/nodes", node, expect=(201,))
        ironic.call("POST", "/v1/ports", {"address": spec["port"], "node_uuid": spec["uuid"]},
                    expect=(201,))
        ironic.call("PUT", f"/v1/nodes/{spec['uuid']}/states/provision", {"target": "manage"},
                    expect=(202,))
    for name, spec in NODES.items():
        def manageable(uuid=spec["uuid"]):
            _, _, node = ironic.call("GET", f"/v1/nodes/{uuid}", expect=(200,))
            return node["provision_state"] == "manageable", node["provision_state"]
        wait_for(f"{name} to become manageable", manageable)
    log(f"created {len(NODES)} manageable nodes with ports in Ironic")

    for name, spec in NODES.items():
        query = "" if spec.get("manage_boot", True) else "?manage_boot=false"
        inspector.call("POST", f"/v1/introspection/{spec['uuid']}{query}", expect=(202,))
    for name, spec in NODES.items():
        def waiting(uuid=spec["uuid"]):
            st = inspector_state(inspector, uuid).get("state")
            return st == "waiting", st
        wait_for(f"{name} to reach 'waiting'", waiting)
    log("all introspections are waiting")

    inspector.call("POST", f"/v1/introspection/{NODES['tb-aborted']['uuid']}/abort", expect=(202,))

    continue_answers = {}
    for name, spec in NODES.items():
        if "payload" not in spec:
            continue
        with open(os.path.join(args.data_dir, spec["payload"])) as f:
            payload = rewrite_macs(json.load(f), spec["macs"])
        status, _, body = inspector.call("POST", "/v1/continue", payload)
        continue_answers[name] = {"status": status, "body": body}
        log(f"{name}: /v1/continue answered {status} {body}")

    expected_states = {"tb-finished-2nic": "finished", "tb-finished-vm": "finished",
                       "tb-waiting": "waiting", "tb-aborted": "error",
                       "tb-rule-failed": "error"}
    for name, state in expected_states.items():
        def reached(uuid=NODES[name]["uuid"], state=state):
            st = inspector_state(inspector, uuid)
            return st.get("state") == state and (state == "waiting" or st.get("finished")), st
        wait_for(f"{name} to reach '{state}'", reached)

    # Reapply the stored unprocessed data of one finished node.
    vm = NODES["tb-finished-vm"]["uuid"]
    before = inspector_state(inspector, vm)
    # Upstream's reapply stores the new started_at while the state is still
    # `finished`, so only a new finished_at tells that it is over. MySQL
    # keeps whole seconds: let one pass, so the new one differs.
    time.sleep(1.1)
    inspector.call("POST", f"/v1/introspection/{vm}/data/unprocessed", expect=(202,))

    def reapplied():
        st = inspector_state(inspector, vm)
        return (st.get("state") == "finished"
                and st.get("started_at") != before["started_at"]
                and st.get("finished_at") != before["finished_at"]), st
    wait_for("tb-finished-vm reapply to finish", reapplied)
    log("reapplied tb-finished-vm")

    # What a client reads back: the expected output for this database.
    responses = []

    def record(path, raw=False):
        """raw: keep the body's text too, to be reproduced byte for byte."""
        status, headers, body = inspector.call("GET", path)
        responses.append({
            "method": "GET", "path": path, "status": status,
            "headers": {h: headers[h] for h in RECORDED_HEADERS if headers.get(h) is not None},
            "body": body,
        })
        if raw:
            responses[-1]["raw_body"] = inspector.last_raw.decode()
        return body

    listing = record("/v1/introspection")
    for item in listing["introspection"]:
        record(f"/v1/introspection/{item['uuid']}")
    uuids = [item["uuid"] for item in listing["introspection"]]
    record("/v1/introspection?limit=2")
    record(f"/v1/introspection?marker={uuids[1]}")
    record("/v1/introspection?state=error")
    record("/v1/introspection?state=finished,waiting")
    for name, spec in NODES.items():
        # Stored data comes back as upstream's json.dumps of the stored
        # document: its key order and spacing are part of the answer.
        record(f"/v1/introspection/{spec['uuid']}/data", raw=True)
        record(f"/v1/introspection/{spec['uuid']}/data/unprocessed", raw=True)
    record("/v1/introspection/00000000-0000-4000-8000-000000000000")
    rules = record("/v1/rules")
    for rule in rules["rules"]:
        record(f"/v1/rules/{rule['uuid']}")

    # Ironic's side of the story, for side-by-side comparisons.
    _, _, nodes = ironic.call(
        "GET", "/v1/nodes?fields=uuid,name,properties,extra,traits,power_state,provision_state",
        expect=(200,))
    _, _, ports = ironic.call(
        "GET", "/v1/ports?fields=address,node_uuid,pxe_enabled,local_link_connection&sort_key=address",
        expect=(200,))
    for item in nodes["nodes"] + ports["ports"]:
        item.pop("links", None)

    states = {n: inspector_state(inspector, s["uuid"])["state"] for n, s in NODES.items()}
    if states != expected_states:
        raise SystemExit(f"unexpected final states {states}, wanted {expected_states}")

    out = {
        "comment": "What the upstream ironic-inspector API returned for the database next to "
                   "this file. Absolute links in bodies start with inspector_url; timestamps "
                   "are those stored in the database.",
        "generator": "scripts/testbed/make-upstream-db.sh",
        "versions": versions(ironic, args.db),
        "inspector_url": inspector.base,
        "nodes": {n: {"uuid": s["uuid"], "state": states[n], "ironic_port": s["port"],
                      "payload": s.get("payload"),
                      "manage_boot": s.get("manage_boot", True)}
                  for n, s in NODES.items()},
        "continue_answers": continue_answers,
        "rules_created": RULES,
        "responses": responses,
        "ironic_after": {"nodes": nodes["nodes"], "ports": ports["ports"]},
    }
    with open(args.out_json, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    log(f"recorded {len(responses)} responses in {args.out_json}")


if __name__ == "__main__":
    main()
