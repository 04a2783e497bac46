#!/usr/bin/env bash
# Benchmark kit: upstream ironic-inspector 12.5.0 and inspector, side by side,
# against one real Ironic on 127.0.0.1; writes docs/benchmarks.md and
# docs/benchmarks.json (see bench/README.md).
#
#   bench/run.sh            full run (3 repetitions, about 20 minutes)
#   bench/run.sh --quick    one small repetition, report in target/bench/quick/
#   bench/run.sh --databases [--quick]
#                           inspector on SQLite, PostgreSQL and MariaDB, one and
#                           three instances (bench/databases.py); docs/benchmarks-databases.md
#   bench/run.sh --tls [--quick]
#                           inspector over HTTPS beside plain HTTP: handshake rate and
#                           keep-alive status GETs (bench/tls.py); docs/benchmarks-tls.md
#   bench/run.sh --memory [--quick]
#                           peak RSS of inspector under the loads that pushed it
#                           highest (bench/memory.py); docs/benchmarks-memory.md
#   bench/run.sh --callbacks [--upstream-lists] [--perf DIR] [--floor N]
#                           inspector alone: callback CPU per node with 0, 100 and 1,000
#                           rules, list page and walk (bench/callbacks.py); prints JSON
#   bench/run.sh --help     every option of bench/bench.py
#
# Installs what it needs (idempotent): wrk from Debian, the test bed venvs
# (scripts/testbed/install.sh: Ironic 39 and ironic-inspector 12.5.0 from
# PyPI), and release builds of the service and of bench/loadgen.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

if [[ " $* " == *" --help "* || " $* " == *" -h "* ]]; then
    exec python3 bench/bench.py --help
fi

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
    [[ "$(id -u)" == 0 ]] || { echo "wrk is missing: apt-get install wrk (as root)" >&2; exit 1; }
    log "installing wrk"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi

log "test bed venvs"
scripts/testbed/install.sh

log "release build of inspector and loadgen"
cargo build --release -p inspector -p inspector-bench
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"

DRIVER=bench/bench.py
if [[ " $* " == *" --databases "* ]]; then
    DRIVER=bench/databases.py
    set -- $(printf '%s\n' "$@" | grep -vx -- --databases)
fi
if [[ " $* " == *" --callbacks "* ]]; then
    DRIVER=bench/callbacks.py
    set -- $(printf '%s\n' "$@" | grep -vx -- --callbacks)
fi
if [[ " $* " == *" --tls "* ]]; then
    DRIVER=bench/tls.py
    set -- $(printf '%s\n' "$@" | grep -vx -- --tls)
fi
if [[ " $* " == *" --memory "* ]]; then
    DRIVER=bench/memory.py
    set -- $(printf '%s\n' "$@" | grep -vx -- --memory)
fi
exec python3 "$DRIVER" --inspector "$TARGET/release/inspector" --loadgen "$TARGET/release/loadgen" \
    ${TESTBED_DIR:+--testbed-dir "$TESTBED_DIR"} "$@"
