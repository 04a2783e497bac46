#!/usr/bin/env bash
# Run a private PostgreSQL server (Debian's package) on 127.0.0.1 for the
# tests: its own cluster directory, port and socket directory, a superuser
# `inspector` (password auth over TCP, so the tests can create and drop
# their own databases) and an empty database `inspector`.
#
#   postgres.sh start    initdb (fresh), start, wait until it answers; prints
#                        the connection URL on stdout
#   postgres.sh stop     fast shutdown (SIGINT), then SIGKILL
#   postgres.sh status   exit 0 running and answering, 1 running but not
#                        answering, 3 not running
#
# Env knobs:
#   POSTGRES_PORT      default 5432; state (cluster, socket, log, pid file)
#                      in $TESTBED_DIR/postgres-<port>
#   POSTGRES_PASSWORD  password of the `inspector` role (default inspector-test)
#   POSTGRES_FRESH     1 (default) wipes the state dir on start
#   TESTBED_DIR        default <repo>/target/testbed
#
# PostgreSQL refuses to run as root, so when run as root the cluster belongs
# to the `postgres` system user that Debian's package creates.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POSTGRES_PORT="${POSTGRES_PORT:-5432}"
[[ "$POSTGRES_PORT" =~ ^[0-9]+$ ]] || die "POSTGRES_PORT must be a number"
PASSWORD="${POSTGRES_PASSWORD:-inspector-test}"
STATE="$TESTBED_DIR/postgres-$POSTGRES_PORT"
DATA="$STATE/data"
SOCKDIR="$STATE/run"
LOGFILE="$STATE/postgres.log"
PIDFILE="$STATE/postgres.pid"
URL="postgresql://inspector:$PASSWORD@127.0.0.1:$POSTGRES_PORT/inspector"

pg_bindir() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [[ -x "$d/postgres" && -x "$d/initdb" ]] ||
        die "PostgreSQL server binaries not found under /usr/lib/postgresql (run scripts/testbed/install.sh)"
    echo "$d"
}

# as_owner CMD...: runs CMD as the cluster's owner.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# answers [DB]: whether the server answers a query in DB (default postgres).
answers() { as_owner psql -h "$SOCKDIR" -p "$POSTGRES_PORT" -U inspector -d "${1:-postgres}" -Atc 'select 1' 2>/dev/null | grep -qx 1; }
ready() { answers inspector; }

cmd_start() {
    local bin pid t
    bin="$(pg_bindir)"
    if pid="$(pidfile_alive "$PIDFILE")"; then
        ready || die "postgres pid $pid on port $POSTGRES_PORT runs but does not answer; see $LOGFILE"
        log "postgres already running on 127.0.0.1:$POSTGRES_PORT (pid $pid)"
        echo "$URL"
        return 0
    fi
    require_cmd psql setsid
    check_port_free "$POSTGRES_PORT"
    t=$(now_s)
    [[ "${POSTGRES_FRESH:-1}" == 1 ]] && rm -rf "$STATE"
    mkdir -p "$STATE" "$SOCKDIR"
    [[ "$(id -u)" == 0 ]] && chown -R postgres: "$STATE"
    if [[ ! -s "$DATA/PG_VERSION" ]]; then
        local pwfile="$STATE/pwfile"
        echo "$PASSWORD" > "$pwfile"
        [[ "$(id -u)" == 0 ]] && chown postgres: "$pwfile"
        as_owner "$bin/initdb" -D "$DATA" -U inspector --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 >"$STATE/initdb.log" 2>&1 ||
            { tail -n 20 "$STATE/initdb.log" >&2; die "initdb failed (log: $STATE/initdb.log)"; }
        rm -f "$pwfile"
    fi
    # Tests open many short-lived databases and pools at once.
    # authentication_timeout: DROP DATABASE waits for every backend, one still
    # logging in included, and a login only ends when it finishes or times out
    # (60 s by default, 10 s here). The tests drop their databases off their
    # own runtime (src/store/server/scratch.rs), so their logins can finish;
    # this bounds the wait should one be left unfinished anyway.
    # setpriv execs (runuser would stay as a parent), so the pid file holds
    # the postmaster itself.
    local drop=()
    [[ "$(id -u)" == 0 ]] && drop=(setpriv --reuid=postgres --regid=postgres --init-groups)
    setsid bash -c 'exec "$@" >>"'"$LOGFILE"'" 2>&1' _ "${drop[@]}" \
        "$bin/postgres" -D "$DATA" -p "$POSTGRES_PORT" -c listen_addresses=127.0.0.1 \
        -c unix_socket_directories="$SOCKDIR" -c max_connections=400 -c shared_buffers=64MB \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c authentication_timeout=10s \
        -c logging_collector=off -c log_min_messages=warning &
    write_pidfile "$PIDFILE" $!
    wait_ready postgres 60 "$PIDFILE" "$LOGFILE" answers ||
        { stop_pidfile "$PIDFILE" postgres; die "postgres did not start"; }
    as_owner psql -h "$SOCKDIR" -p "$POSTGRES_PORT" -U inspector -d postgres -qc 'CREATE DATABASE inspector' \
        >/dev/null 2>&1 || true
    ready || die "database inspector missing"
    log "postgres $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$POSTGRES_PORT, socket dir $SOCKDIR ($(since "$t") s)"
    echo "$URL"
}

cmd_stop() {
    local pid
    if pid="$(pidfile_alive "$PIDFILE")"; then
        # SIGINT is PostgreSQL's fast shutdown; SIGTERM waits for clients.
        kill -INT "$pid" 2>/dev/null || true
    fi
    stop_pidfile "$PIDFILE" postgres
}

# ready_check for service_status
pg_answers() { ready >/dev/null 2>&1; }

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) service_status postgres "$PIDFILE" "127.0.0.1:$POSTGRES_PORT" pg_answers "socket dir $SOCKDIR" ;;
    *) die "usage: $0 start|stop|status" ;;
esac
