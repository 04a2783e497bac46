#!/usr/bin/env bash
# make-upstream-db.sh OUT.sqlite
# make-upstream-db.sh URL OUT.json
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
# With a database URL (postgresql://... or mysql+pymysql://...?charset=utf8,
# as in `[database] connection`) instead of a file, the same is done in that
# database, which must exist and be empty: the fill and the check run there
# (in place, so a failed run leaves it half-filled), the restarted upstream
# inspector serves the same database, and the responses go to OUT.json.
# A bare postgresql:// is handed to upstream as postgresql+psycopg2://: the
# venv's SQLAlchemy 2.1 reads the bare scheme as psycopg 3, not installed.
#
# Env: TESTBED_DIR (default <repo>/target/testbed), KEEP_STATE=1 keeps the
# servers' state dirs (config, logs) after a successful run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

USAGE="usage: $0 OUT.sqlite | $0 URL OUT.json"
if [[ $# == 2 && "$1" == *://* && -n "$2" ]]; then
    DB_URL="$1"
    [[ "$DB_URL" == postgresql://* ]] && DB_URL="postgresql+psycopg2://${DB_URL#postgresql://}"
    OUT_JSON="$2"
elif [[ $# == 1 && -n "$1" && "$1" != *://* ]]; then
    DB_URL=""
    OUT="$1"
    [[ "$OUT" == /* ]] || OUT="$PWD/$OUT"
    OUT_JSON="$OUT.json"
else
    die "$USAGE"
fi
[[ "$OUT_JSON" == /* ]] || OUT_JSON="$PWD/$OUT_JSON"
mkdir -p "$(dirname "$OUT_JSON")"
T0=$(now_s)
# fill_upstream_db.py imports schema_dump.py: no __pycache__ in the source tree
export PYTHONDONTWRITEBYTECODE=1

VENV="$(venv_path 39)"
IRONIC_PORT="$(free_port)"
INSPECTOR_PORT="$(free_port)"
while [[ "$INSPECTOR_PORT" == "$IRONIC_PORT" ]]; do INSPECTOR_PORT="$(free_port)"; done
export IRONIC_PORT INSPECTOR_PORT IRONIC_VENV=39 INSPECTOR_VENV=39
export IRONIC_URL="http://127.0.0.1:$IRONIC_PORT"
INSPECTOR_URL="http://127.0.0.1:$INSPECTOR_PORT"

TMP_JSON="$OUT_JSON.tmp.$$"
if [[ -n "$DB_URL" ]]; then
    TMP_DB="" VERIFY_DB=""
    # the fill and the verification both use the server database itself
    db_env=(INSPECTOR_DB_URL="$DB_URL")
    verify_env=(INSPECTOR_DB_URL="$DB_URL")
    DB_ARG="$DB_URL"
else
    TMP_DB="$OUT.tmp.$$"
    VERIFY_DB="$OUT.verify.tmp.$$"
    db_env=(INSPECTOR_DB="$TMP_DB")
    verify_env=(INSPECTOR_DB="$VERIFY_DB")
    DB_ARG="$TMP_DB"
fi
rm -f "$TMP_JSON" ${TMP_DB:+"$TMP_DB"} ${VERIFY_DB:+"$VERIFY_DB"}

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
    rm -f "$TMP_JSON" ${TMP_DB:+"$TMP_DB"} ${VERIFY_DB:+"$VERIFY_DB"}
    if ((rc != 0)); then
        log "FAILED; logs kept in $TESTBED_DIR/ironic-$IRONIC_PORT and $TESTBED_DIR/upstream-inspector-$INSPECTOR_PORT"
    fi
}
trap on_exit EXIT
trap "exit 130" INT TERM

"$TESTBED_SCRIPTS/ironic.sh" start >/dev/null
env "${db_env[@]}" "$TESTBED_SCRIPTS/upstream-inspector.sh" start >/dev/null
T_FILL=$(now_s)
"$VENV/bin/python" "$TESTBED_SCRIPTS/fill_upstream_db.py" \
    --ironic "$IRONIC_URL" --inspector "$INSPECTOR_URL" \
    --data-dir "$TESTBED_SCRIPTS/data" --db "$DB_ARG" --out-json "$TMP_JSON"
log "filled through the API in $(since "$T_FILL") s"
"$TESTBED_SCRIPTS/upstream-inspector.sh" stop

# The service is stopped, so the database is complete; check it before handing it out.
PYTHONPATH="$TESTBED_SCRIPTS" "$VENV/bin/python" - "$DB_ARG" <<'PYEOF'
import sys
from schema_dump import connect
db = sys.argv[1]
conn = connect(db if "://" in db else f"sqlite:///{db}")
cursor = conn.cursor()
if "://" not in db:
    cursor.execute("PRAGMA integrity_check")
    if cursor.fetchone()[0] != "ok":
        sys.exit("[testbed] ERROR: sqlite integrity check failed")
counts = {}
for table in ("nodes", "rules", "rule_conditions", "rule_actions", "introspection_data"):
    cursor.execute(f"SELECT COUNT(*) FROM {table}")
    counts[table] = cursor.fetchone()[0]
if counts["nodes"] != 5 or counts["rules"] != 5:
    sys.exit(f"[testbed] ERROR: unexpected row counts {counts}")
print("[testbed] database rows:", counts, file=sys.stderr)
PYEOF

# Proof that the JSON is reproducible from the database alone: serve it (a
# copy of the file, the server database itself) with a freshly started
# upstream inspector and replay every request.
[[ -n "$VERIFY_DB" ]] && cp "$TMP_DB" "$VERIFY_DB"
env "${verify_env[@]}" "$TESTBED_SCRIPTS/upstream-inspector.sh" start >/dev/null
"$VENV/bin/python" "$TESTBED_SCRIPTS/compare_responses.py" \
    --expected "$TMP_JSON" --url "$INSPECTOR_URL" >&2 ||
    die "the upstream inspector serving the new database does not reproduce the recorded responses"
stop_all

[[ -n "$TMP_DB" ]] && mv -f "$TMP_DB" "$OUT"
mv -f "$TMP_JSON" "$OUT_JSON"
if [[ "${KEEP_STATE:-0}" != 1 ]]; then
    rm -rf "$TESTBED_DIR/ironic-$IRONIC_PORT" "$TESTBED_DIR/upstream-inspector-$INSPECTOR_PORT"
fi
if [[ -n "$TMP_DB" ]]; then
    log "wrote $OUT and $OUT_JSON in $(since "$T0") s"
else
    DB_NAME="${DB_URL##*/}"
    log "filled ${DB_URL%%://*} database ${DB_NAME%%\?*} and wrote $OUT_JSON in $(since "$T0") s"
fi
