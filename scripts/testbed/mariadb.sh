#!/usr/bin/env bash
# Run a private MariaDB server (Debian's package) on 127.0.0.1 for the tests:
# its own data directory, port and socket, a user `inspector` with every
# privilege (password auth over TCP and the socket, so the tests can create
# and drop their own databases) and an empty database `inspector`.
#
#   mariadb.sh start    install a fresh data dir, start, wait until it
#                       answers; prints the connection URL on stdout
#   mariadb.sh stop     SIGTERM (clean shutdown), then SIGKILL
#   mariadb.sh status   exit 0 running and answering, 1 running but not
#                       answering, 3 not running
#
# Env knobs:
#   MARIADB_PORT      default 3306; state (data, socket, log, pid file) in
#                     $TESTBED_DIR/mariadb-<port>
#   MARIADB_PASSWORD  password of the `inspector` user (default inspector-test)
#   MARIADB_FRESH     1 (default) wipes the state dir on start
#   TESTBED_DIR       default <repo>/target/testbed
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MARIADB_PORT="${MARIADB_PORT:-3306}"
[[ "$MARIADB_PORT" =~ ^[0-9]+$ ]] || die "MARIADB_PORT must be a number"
PASSWORD="${MARIADB_PASSWORD:-inspector-test}"
STATE="$TESTBED_DIR/mariadb-$MARIADB_PORT"
DATA="$STATE/data"
SOCKET="$STATE/mysqld.sock"
LOGFILE="$STATE/mariadb.log"
PIDFILE="$STATE/mariadb.pid"
URL="mysql+pymysql://inspector:$PASSWORD@127.0.0.1:$MARIADB_PORT/inspector?charset=utf8"

# The server runs as `mysql` when we are root (mariadbd refuses root unless told).
server_user() { if [[ "$(id -u)" == 0 ]]; then echo mysql; else id -un; fi; }

root_sql() { mariadb --no-defaults --socket="$SOCKET" -uroot -N -B -e "$1"; }
answers() { root_sql 'select 1' 2>/dev/null | grep -qx 1; }
ready() {
    mariadb --no-defaults -h 127.0.0.1 -P "$MARIADB_PORT" -uinspector -p"$PASSWORD" -N -B \
        -e 'select 1' inspector 2>/dev/null | grep -qx 1
}

cmd_start() {
    local pid t user
    if pid="$(pidfile_alive "$PIDFILE")"; then
        ready || die "mariadb pid $pid on port $MARIADB_PORT runs but does not answer; see $LOGFILE"
        log "mariadb already running on 127.0.0.1:$MARIADB_PORT (pid $pid)"
        echo "$URL"
        return 0
    fi
    require_cmd mariadbd mariadb-install-db mariadb setsid
    check_port_free "$MARIADB_PORT"
    t=$(now_s)
    user="$(server_user)"
    [[ "${MARIADB_FRESH:-1}" == 1 ]] && rm -rf "$STATE"
    mkdir -p "$STATE"
    [[ "$(id -u)" == 0 ]] && chown -R "$user": "$STATE"
    if [[ ! -d "$DATA/mysql" ]]; then
        # Tried twice: once in a CI run the bootstrap failed while many
        # private servers of other tests were starting, and passed alone.
        local try
        for try in 1 2; do
            rm -rf "$DATA"
            mariadb-install-db --no-defaults --datadir="$DATA" --user="$user" \
                --auth-root-authentication-method=socket --skip-test-db >"$STATE/install.log" 2>&1 && break
            # The reason is in the server's own lines, before the generic advice.
            grep -E '\[(ERROR|Warning)\]|rror' "$STATE/install.log" | head -n 20 >&2
            [[ $try == 2 ]] && die "mariadb-install-db failed twice (log: $STATE/install.log)"
            log "mariadb-install-db failed; trying once more"
            sleep 2
        done
    fi
    setsid mariadbd --no-defaults --datadir="$DATA" --user="$user" --port="$MARIADB_PORT" \
        --bind-address=127.0.0.1 --socket="$SOCKET" --pid-file="$STATE/mariadbd.pid" \
        --log-error="$LOGFILE" --skip-log-bin --max-connections=400 \
        --innodb-buffer-pool-size=64M --innodb-log-file-size=32M \
        --innodb-flush-log-at-trx-commit=0 --skip-name-resolve \
        --character-set-server=utf8mb4 >>"$LOGFILE" 2>&1 &
    write_pidfile "$PIDFILE" $!
    wait_ready mariadb 60 "$PIDFILE" "$LOGFILE" answers ||
        { stop_pidfile "$PIDFILE" mariadb; die "mariadb did not start"; }
    root_sql "CREATE DATABASE IF NOT EXISTS inspector;
        CREATE USER IF NOT EXISTS 'inspector'@'127.0.0.1' IDENTIFIED BY '$PASSWORD';
        CREATE USER IF NOT EXISTS 'inspector'@'localhost' IDENTIFIED BY '$PASSWORD';
        GRANT ALL PRIVILEGES ON *.* TO 'inspector'@'127.0.0.1' WITH GRANT OPTION;
        GRANT ALL PRIVILEGES ON *.* TO 'inspector'@'localhost' WITH GRANT OPTION;" ||
        die "cannot create the inspector user"
    ready || die "user inspector cannot log in"
    log "mariadb $(mariadbd --version | awk '{print $3}') on 127.0.0.1:$MARIADB_PORT, socket $SOCKET ($(since "$t") s)"
    echo "$URL"
}

mariadb_answers() { answers; }

case "${1:-}" in
    start) cmd_start ;;
    stop) STOP_TIMEOUT=30 stop_pidfile "$PIDFILE" mariadb ;;
    status) service_status mariadb "$PIDFILE" "127.0.0.1:$MARIADB_PORT" mariadb_answers "socket $SOCKET" ;;
    *) die "usage: $0 start|stop|status" ;;
esac
