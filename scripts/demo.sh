#!/usr/bin/env bash
# The README's walk-through, end to end: one introspection of a fake-hardware
# node in a real Ironic, with the shipped IPA payload standing in for the
# ramdisk. CI runs it (scripts/test.sh), so the README's commands cannot rot.
#
#   1. an Ironic: DEMO_IRONIC_URL (noauth, e.g. http://127.0.0.1:6385) or, when
#      unset, a fresh one of the test bed (scripts/testbed/ironic.sh) on a free port
#   2. inspector: INSPECTOR_BIN, or target/release/inspector built now when
#      unset, serving examples/inspector.conf plus a second config file that
#      points it at that Ironic, a free port and a temporary SQLite file
#   3. baremetal node create (fake-hardware), port create with the payload's
#      MAC, node manage; POST /v1/introspection/<uuid> -> "waiting";
#      POST the payload to /v1/continue -> "finished"
#   4. the node's properties in Ironic (cpus, cpu_arch, memory_mb, local_gb)
#      must be what the payload says
#
# Everything listens on 127.0.0.1 only. On exit, success or not, it deletes
# the node, stops inspector, removes its temporary files and stops (and
# removes) an Ironic it started. Exit status 0 only when every check passed.
#
# Env: DEMO_IRONIC_URL, INSPECTOR_BIN, DEMO_PAYLOAD (default
# scripts/testbed/data/ipa-inventory-this-machine.json), TESTBED_DIR (venvs,
# default target/testbed; needs venv-ironic: scripts/testbed/install.sh --walkthrough).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Relative paths given by the caller are relative to where it runs.
[[ -z "${INSPECTOR_BIN:-}" || "$INSPECTOR_BIN" == /* ]] || INSPECTOR_BIN="$PWD/$INSPECTOR_BIN"
[[ -z "${DEMO_PAYLOAD:-}" || "$DEMO_PAYLOAD" == /* ]] || DEMO_PAYLOAD="$PWD/$DEMO_PAYLOAD"
cd "$REPO"
source scripts/testbed/lib.sh

say() { echo "[demo $(date +%H:%M:%S)] $*" >&2; }
fail() {
    echo "[demo] FAILED: $*" >&2
    exit 1
}

STARTED=$(now_s)
PAYLOAD="${DEMO_PAYLOAD:-scripts/testbed/data/ipa-inventory-this-machine.json}"
[[ -f "$PAYLOAD" ]] || fail "payload $PAYLOAD not found"
VENV="$(venv_path 39)"
BAREMETAL="$VENV/bin/baremetal"
[[ -x "$BAREMETAL" ]] || fail "$BAREMETAL is missing; run scripts/testbed/install.sh --walkthrough"
require_cmd curl python3

WORK="$(mktemp -d "${TMPDIR:-/tmp}/inspector-demo.XXXXXX")"
IRONIC_STARTED_PORT=""
INSPECTOR_PID=""
NODE=""

cleanup() {
    local rc=$?
    set +e
    if [[ -n "$INSPECTOR_PID" ]]; then
        kill -TERM "$INSPECTOR_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$INSPECTOR_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$INSPECTOR_PID" 2>/dev/null
        wait "$INSPECTOR_PID" 2>/dev/null
    fi
    if ((rc != 0)) && [[ -f "$WORK/inspector.log" ]]; then
        say "last lines of inspector's log:"
        tail -n 30 "$WORK/inspector.log" >&2
    fi
    # Deleting the node deletes its port too; a port left behind would hold
    # the payload's MAC in an Ironic others use (CI runs the tests next).
    if [[ -n "$NODE" && -z "$IRONIC_STARTED_PORT" ]]; then
        if ! "$BAREMETAL" node delete "$NODE" >/dev/null; then
            say "could not delete node $NODE from $IRONIC_URL; delete it by hand"
            ((rc != 0)) || rc=1
        fi
    fi
    if [[ -n "$IRONIC_STARTED_PORT" ]]; then
        IRONIC_PORT=$IRONIC_STARTED_PORT scripts/testbed/ironic.sh stop
        rm -rf "$TESTBED_DIR/ironic-$IRONIC_STARTED_PORT"
    fi
    rm -rf "$WORK"
    if ((rc == 0)); then
        say "walk-through passed in $(since "$STARTED") s"
    else
        say "walk-through FAILED (exit $rc) after $(since "$STARTED") s"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# json_get FIELD...: reads JSON on stdin, prints the value at that path
# (keys, or indexes for lists); strings bare, anything else as JSON.
json_get() {
    python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if isinstance(v, str) else json.dumps(v))
' "$@"
}

# --- 1. Ironic -----------------------------------------------------------
if [[ -n "${DEMO_IRONIC_URL:-}" ]]; then
    IRONIC_URL="$DEMO_IRONIC_URL"
    curl -sf --max-time 5 "$IRONIC_URL/" >/dev/null || fail "no Ironic answers at DEMO_IRONIC_URL=$IRONIC_URL"
    say "using the Ironic at $IRONIC_URL"
else
    IRONIC_STARTED_PORT=$(free_port)
    say "starting a test-bed Ironic on 127.0.0.1:$IRONIC_STARTED_PORT"
    IRONIC_URL="$(IRONIC_PORT=$IRONIC_STARTED_PORT scripts/testbed/ironic.sh start)"
fi
export OS_AUTH_TYPE=none OS_ENDPOINT="$IRONIC_URL"

# --- 2. inspector --------------------------------------------------------
if [[ -z "${INSPECTOR_BIN:-}" ]]; then
    say "building target/release/inspector"
    cargo build --release --bin inspector
    INSPECTOR_BIN=target/release/inspector
fi
[[ -x "$INSPECTOR_BIN" ]] || fail "INSPECTOR_BIN=$INSPECTOR_BIN is not an executable"
INSPECTOR_PORT=$(free_port)
INSPECTOR_URL="http://127.0.0.1:$INSPECTOR_PORT"
# Later config files win: the example stays as shipped.
cat > "$WORK/demo.conf" <<EOF
[DEFAULT]
listen_address = 127.0.0.1
listen_port = $INSPECTOR_PORT

[ironic]
endpoint_override = $IRONIC_URL

[database]
connection = sqlite:///$WORK/inspector.sqlite
EOF
"$INSPECTOR_BIN" config check --config-file examples/inspector.conf --config-file "$WORK/demo.conf" >&2 ||
    fail "inspector config check refused examples/inspector.conf + $WORK/demo.conf"
"$INSPECTOR_BIN" serve --config-file examples/inspector.conf --config-file "$WORK/demo.conf" \
    >"$WORK/inspector.log" 2>&1 </dev/null &
INSPECTOR_PID=$!
for i in $(seq 200); do
    curl -sf --max-time 2 "$INSPECTOR_URL/v1" >/dev/null && break
    kill -0 "$INSPECTOR_PID" 2>/dev/null || fail "inspector exited during start-up"
    ((i < 200)) || fail "inspector did not answer on $INSPECTOR_URL within 20 s"
    sleep 0.1
done
say "inspector ($INSPECTOR_BIN) serves $INSPECTOR_URL"

# --- 3. one introspection --------------------------------------------------
MAC="$(json_get inventory interfaces 0 mac_address < "$PAYLOAD")"
[[ "$MAC" =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]] || fail "no MAC in the payload's first interface: '$MAC'"

NODE="$("$BAREMETAL" node create --driver fake-hardware --name "demo-$(date +%s)-$$" -f value -c uuid)" ||
    fail "baremetal node create failed"
say "node $NODE created"
"$BAREMETAL" port create "$MAC" --node "$NODE" -f value -c uuid >/dev/null ||
    fail "cannot create a port with the payload's MAC $MAC (does another node in $IRONIC_URL have it?)"
"$BAREMETAL" node manage "$NODE" --wait 60 || fail "baremetal node manage $NODE failed"
state="$("$BAREMETAL" node show "$NODE" -f value -c provision_state)"
[[ "$state" == manageable ]] || fail "node $NODE is '$state' after manage, expected manageable"
say "node $NODE is manageable with a port $MAC"

code="$(curl -s -o "$WORK/answer" -w '%{http_code}' -X POST "$INSPECTOR_URL/v1/introspection/$NODE")"
[[ "$code" == 202 ]] || fail "POST /v1/introspection/$NODE answered $code: $(cat "$WORK/answer")"

# status_of FIELD: one field of the node's introspection status.
status_of() { curl -sf --max-time 5 "$INSPECTOR_URL/v1/introspection/$NODE" | json_get "$1"; }
# wait_state STATE: polls the status (up to 30 s) until it is STATE.
wait_state() {
    local state i
    for i in $(seq 150); do
        state="$(status_of state)" || fail "GET /v1/introspection/$NODE failed"
        [[ "$state" == "$1" ]] && return 0
        [[ "$state" == error ]] && fail "introspection ended in error: $(status_of error)"
        sleep 0.2
    done
    fail "introspection of $NODE is '$state' after 30 s, expected '$1'"
}
wait_state waiting
say "introspection started: waiting for the ramdisk"

code="$(curl -s -o "$WORK/answer" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary "@$PAYLOAD" "$INSPECTOR_URL/v1/continue")"
[[ "$code" == 200 ]] || fail "POST /v1/continue answered $code: $(cat "$WORK/answer")"
[[ "$(json_get uuid < "$WORK/answer")" == "$NODE" ]] ||
    fail "/v1/continue found another node: $(cat "$WORK/answer")"
wait_state finished
[[ "$(status_of error)" == null ]] || fail "finished with an error: $(status_of error)"
say "introspection finished"

# --- 4. what Ironic now knows --------------------------------------------
"$BAREMETAL" node show "$NODE" -f json -c properties > "$WORK/properties.json"
python3 - "$PAYLOAD" "$WORK/properties.json" <<'EOF' || fail "the node's properties in Ironic do not match the payload"
import json, sys
data = json.load(open(sys.argv[1]))
props = json.load(open(sys.argv[2]))["properties"]
inventory = data["inventory"]
# What the scheduler hook derives; local_gb keeps one GiB for partitioning
# ([processing] disk_partitioning_spacing, on by default).
expected = {
    "cpus": inventory["cpu"]["count"],
    "cpu_arch": inventory["cpu"]["architecture"],
    "memory_mb": inventory["memory"]["physical_mb"],
    "local_gb": data["root_disk"]["size"] // 2**30 - 1,
}
bad = [f"{k}: Ironic has {props.get(k)!r}, the payload says {v!r}"
       for k, v in expected.items() if str(props.get(k)) != str(v)]
for line in bad:
    print(f"[demo] {line}", file=sys.stderr)
if not bad:
    print("[demo] properties in Ironic: " + ", ".join(f"{k}={props[k]}" for k in expected), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
