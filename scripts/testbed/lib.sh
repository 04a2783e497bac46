# shellcheck shell=bash
# Shared helpers for the test bed scripts. Sourced, never executed.
# Everything the test bed starts listens on 127.0.0.1 only.

# A failure inside $(...) must stop the script too, not yield an empty string.
shopt -s inherit_errexit

TESTBED_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TESTBED_REPO="$(cd "$TESTBED_SCRIPTS/../.." && pwd)"
TESTBED_DIR="${TESTBED_DIR:-$TESTBED_REPO/target/testbed}"

# Loopback traffic must never be routed through a proxy from the environment.
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
export NO_PROXY="$no_proxy"

log() { echo "[testbed $(date +%H:%M:%S)] $*" >&2; }
die() { echo "[testbed] ERROR: $*" >&2; exit 1; }

# now_s: seconds since the epoch with sub-second precision (for timings).
now_s() { date +%s.%N; }
# since START: seconds elapsed since START, one decimal.
since() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

require_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || die "required command '$c' not found (run scripts/testbed/install.sh)"
    done
}

# venv_path 39|32|/path -> venv directory; dies when it is not installed.
venv_path() {
    local v
    case "$1" in
        39|ironic|venv-ironic) v="$TESTBED_DIR/venv-ironic" ;;
        32|ironic32|venv-ironic32) v="$TESTBED_DIR/venv-ironic32" ;;
        /*) v="$1" ;;
        *) die "unknown venv '$1' (use 39, 32 or an absolute path)" ;;
    esac
    [[ -x "$v/bin/python" ]] || die "venv $v is missing; run scripts/testbed/install.sh"
    echo "$v"
}

# check_port_free PORT: dies when something already listens on 127.0.0.1:PORT.
check_port_free() {
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
        die "something already listens on 127.0.0.1:$1"
    fi
}

# free_port: prints a TCP port on 127.0.0.1 that is free right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# --- pid files -------------------------------------------------------------
# A pid file holds "<pid> <start time in clock ticks>" so a recycled pid is
# never mistaken for ours.

# (field 22 of /proc/PID/stat; the command name before it may contain spaces
# and parentheses, so count from the last ')')
proc_start_time() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    awk '{ print $20 }' <<<"$stat"
}

write_pidfile() { echo "$2 $(proc_start_time "$2")" > "$1"; }

# pidfile_alive PIDFILE -> prints the pid and returns 0 when that exact
# process is still running.
pidfile_alive() {
    local pid start
    [[ -f "$1" ]] || return 1
    read -r pid start < "$1" || return 1
    [[ -n "$pid" ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    [[ -z "$start" || "$(proc_start_time "$pid")" == "$start" ]] || return 1
    echo "$pid"
}

# stop_pidfile PIDFILE NAME: SIGTERM the recorded process, wait up to
# STOP_TIMEOUT s (default 10), then SIGKILL it and whatever is left of its
# process group (it was started with setsid, so the group holds only what it
# forked itself).
stop_pidfile() {
    local pidfile="$1" name="$2" pid i group
    if ! pid="$(pidfile_alive "$pidfile")"; then
        [[ -f "$pidfile" ]] && log "$name: recorded process is not running"
        rm -f "$pidfile"
        return 0
    fi
    group="$(ps -o pid= -g "$pid" 2>/dev/null | tr -s ' \n' ' ')"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < ${STOP_TIMEOUT:-10} * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name: pid $pid ignored SIGTERM, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    local p
    for p in $group; do
        [[ "$p" == "$pid" ]] && continue
        # only processes still in our group (not a recycled pid)
        if [[ "$(ps -o pgid= -p "$p" 2>/dev/null | tr -d ' ')" == "$pid" ]]; then
            kill -KILL "$p" 2>/dev/null || true
        fi
    done
    rm -f "$pidfile"
    log "$name: stopped (pid $pid)"
}

# wait_ready NAME TIMEOUT_S PIDFILE LOGFILE CHECK_CMD...: polls CHECK_CMD until
# it succeeds; fails with the log tail when the process dies or time is up.
wait_ready() {
    local name="$1" timeout="$2" pidfile="$3" logfile="$4"
    shift 4
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if ! pidfile_alive "$pidfile" >/dev/null; then
            log "$name died during start-up; last log lines ($logfile):"
            tail -n 40 "$logfile" >&2 2>/dev/null || true
            return 1
        fi
        sleep 0.2
    done
    log "$name did not become ready within ${timeout}s; last log lines ($logfile):"
    tail -n 40 "$logfile" >&2 2>/dev/null || true
    return 1
}

# --- loopback host name ------------------------------------------------------
# Ironic <= 32 refuses a loopback *address* (127.x, ::1) or "localhost" as
# the inspector callback URL, but accepts any other host name, so a name
# that resolves to 127.0.0.1 is needed. Preference: $TESTBED_LOOPBACK_HOST,
# this machine's host name, then our own name "ironic-testbed-loopback".
# When none resolves to 127.0.0.1 and we run as root (as in CI), that last
# name is appended to /etc/hosts (TESTBED_EDIT_HOSTS=0 forbids it); as
# non-root this fails with instructions instead.
TESTBED_HOSTS_NAME=ironic-testbed-loopback

resolves_to_loopback() {
    [[ -n "$1" && "$1" != localhost* ]] || return 1
    getent ahostsv4 "$1" 2>/dev/null | awk '{ print $1 }' | grep -qx 127.0.0.1
}

loopback_host() {
    local name
    if [[ -n "${TESTBED_LOOPBACK_HOST:-}" ]]; then
        resolves_to_loopback "$TESTBED_LOOPBACK_HOST" ||
            die "TESTBED_LOOPBACK_HOST=$TESTBED_LOOPBACK_HOST does not resolve to 127.0.0.1"
        echo "$TESTBED_LOOPBACK_HOST"
        return 0
    fi
    for name in "$(hostname 2>/dev/null)" "$TESTBED_HOSTS_NAME"; do
        if resolves_to_loopback "$name"; then
            echo "$name"
            return 0
        fi
    done
    if [[ "$(id -u)" == 0 && "${TESTBED_EDIT_HOSTS:-1}" == 1 ]]; then
        echo "127.0.0.1 $TESTBED_HOSTS_NAME # added by scripts/testbed (Ironic <= 32 callback URL)" >> /etc/hosts ||
            die "cannot append $TESTBED_HOSTS_NAME to /etc/hosts"
        resolves_to_loopback "$TESTBED_HOSTS_NAME" ||
            die "added $TESTBED_HOSTS_NAME to /etc/hosts but it still does not resolve to 127.0.0.1"
        log "added '127.0.0.1 $TESTBED_HOSTS_NAME' to /etc/hosts"
        echo "$TESTBED_HOSTS_NAME"
        return 0
    fi
    die "no host name resolves to 127.0.0.1 (needed by Ironic 32's inspector callback URL):" \
        "add '127.0.0.1 $TESTBED_HOSTS_NAME' to /etc/hosts or set TESTBED_LOOPBACK_HOST"
}

# The `status` command of the service scripts: prints the state of the
# service behind a pid file; exit status 0 running and answering (READY_FN
# succeeds), 1 alive but not answering, 3 not running.
service_status() {
    local name="$1" pidfile="$2" url="$3" ready_fn="$4" detail="${5:-}" pid
    if ! pid="$(pidfile_alive "$pidfile")"; then
        echo "$name: not running"
        return 3
    fi
    if "$ready_fn"; then
        echo "$name: running (pid $pid${detail:+, $detail}) at $url"
        return 0
    fi
    echo "$name: pid $pid alive but not answering at $url"
    return 1
}
