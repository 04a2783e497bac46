#!/usr/bin/env bash
# make-upstream-db.sh OUT.sqlite
#
# Builds a reference ironic-inspector database with the real upstream code:
# the schema comes from `ironic-inspector-dbsync --config-file X upgrade`
# (run by upstream-inspector.sh start), the rows from the real
# ironic-inspector 12.5.0 service driven through its HTTP API against a real
# Ironic 39 (both on free 127.0.0.1 ports, stopped at the end).
# fill_upstream_db.py creates 5 fake-hardware nodes with ports and 5 rules
# and leaves the nodes finished (one of them reapplied), waiting, aborted
# (error) and failed by a rule (error, data stored).
#
# Writes OUT.sqlite and OUT.sqlite.json (what the upstream API returned for
# every read endpoint: the expected output of any service serving OUT.sqlite).
# Before that it serves a copy of the new database with a restarted upstream
# inspector and checks with compare_responses.py that the JSON is reproduced.
# Both files are replaced only when the whole run succeeded.
#
# Env: TESTBED_DIR (default <repo>/target/testbed), KEEP_STATE=1 keeps the
# servers' state dirs (config, logs) after a successful run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# == 1 && -n "$1" ]] || die "usage: $0 OUT.sqlite"
OUT="$1"
[[ "$OUT" == /* ]] || OUT="$PWD/$OUT"
mkdir -p "$(dirname "$OUT")"
T0=$(now_s)

VENV="$(venv_path 39)"
IRONIC_PORT="$(free_port)"
INSPECTOR_PORT="$(free_port)"
while [[ "$INSPECTOR_PORT" == "$IRONIC_PORT" ]]; do INSPECTOR_PORT="$(free_port)"; done
export IRONIC_PORT INSPECTOR_PORT IRONIC_VENV=39 INSPECTOR_VENV=39
export IRONIC_URL="http://127.0.0.1:$IRONIC_PORT"
INSPECTOR_URL="http://127.0.0.1:$INSPECTOR_PORT"

TMP_DB="$OUT.tmp.$$"
TMP_JSON="$OUT.json.tmp.$$"
VERIFY_DB="$OUT.verify.tmp.$$"
rm -f "$TMP_DB" "$TMP_JSON" "$VERIFY_DB"

stop_all() {
    # in parallel: each graceful stop takes a few seconds
    "$TESTBED_SCRIPTS/upstream-inspector.sh" stop &
    local a=$!
    "$TESTBED_SCRIPTS/ironic.sh" stop &
    local b=$!
    wait "$a" || true
    wait "$b" || true
}
on_exit() {
    local rc=$?
    stop_all
    rm -f "$TMP_DB" "$TMP_JSON" "$VERIFY_DB"
    if ((rc != 0)); then
        log "FAILED; logs kept in $TESTBED_DIR/ironic-$IRONIC_PORT and $TESTBED_DIR/upstream-inspector-$INSPECTOR_PORT"
    fi
}
trap on_exit EXIT
trap "exit 130" INT TERM

"$TESTBED_SCRIPTS/ironic.sh" start >/dev/null
INSPECTOR_DB="$TMP_DB" "$TESTBED_SCRIPTS/upstream-inspector.sh" start >/dev/null
T_FILL=$(now_s)
"$VENV/bin/python" "$TESTBED_SCRIPTS/fill_upstream_db.py" \
    --ironic "$IRONIC_URL" --inspector "$INSPECTOR_URL" \
    --data-dir "$TESTBED_SCRIPTS/data" --db "$TMP_DB" --out-json "$TMP_JSON"
log "filled through the API in $(since "$T_FILL") s"
"$TESTBED_SCRIPTS/upstream-inspector.sh" stop

# The service is stopped, so the file is complete; check it before handing it out.
"$VENV/bin/python" - "$TMP_DB" <<'PYEOF'
import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
    sys.exit("[testbed] ERROR: sqlite integrity check failed")
counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
          for t in ("nodes", "rules", "rule_conditions", "rule_actions", "introspection_data")}
if counts["nodes"] != 5 or counts["rules"] != 5:
    sys.exit(f"[testbed] ERROR: unexpected row counts {counts}")
print("[testbed] database rows:", counts, file=sys.stderr)
PYEOF

# Proof that the JSON is reproducible from the database alone: serve a copy
# of it with a freshly started upstream inspector and replay every request.
cp "$TMP_DB" "$VERIFY_DB"
INSPECTOR_DB="$VERIFY_DB" "$TESTBED_SCRIPTS/upstream-inspector.sh" start >/dev/null
"$VENV/bin/python" "$TESTBED_SCRIPTS/compare_responses.py" \
    --expected "$TMP_JSON" --url "$INSPECTOR_URL" >&2 ||
    die "the upstream inspector serving the new database does not reproduce the recorded responses"
stop_all

mv -f "$TMP_DB" "$OUT"
mv -f "$TMP_JSON" "$OUT.json"
if [[ "${KEEP_STATE:-0}" != 1 ]]; then
    rm -rf "$TESTBED_DIR/ironic-$IRONIC_PORT" "$TESTBED_DIR/upstream-inspector-$INSPECTOR_PORT"
fi
log "wrote $OUT and $OUT.json in $(since "$T0") s"
