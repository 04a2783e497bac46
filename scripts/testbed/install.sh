#!/usr/bin/env bash
# Install what the real-OpenStack test bed needs; idempotent and quick when
# everything is already there.
#
#   Debian packages   curl, procps, the tools ironic-python-agent's
#                     inventory collectors shell out to, and the PXE filter
#                     tests' dnsmasq-base (DHCP server), busybox (udhcpc
#                     DHCP client), iptables (iptables, ip6tables,
#                     iptables-restore) and iproute2 (ip netns); for the
#                     Debian package check (packaging/deb/test.sh) adduser
#                     (its postinst) and logrotate; openssl (the TLS tests
#                     make their certificates); postgresql and mariadb-server
#                     (postgres.sh and mariadb.sh start private servers from
#                     them; Debian's own instances are not used); chromium
#                     (with fonts-liberation, which it only recommends) and
#                     nodejs (npm too when there is none) for the
#                     dashboard's browser tests; apt-get only runs when one
#                     of them is missing (needs root).
#   playwright        playwright-core (pinned below, from the npm registry)
#                     in $TESTBED_DIR/playwright, driving that chromium.
#   venv-ironic       ironic 39.0.0, ironic-inspector 12.5.0 (the upstream
#                     service we reimplement), ironic-python-agent 13.0.0,
#                     python-ironicclient, python-ironic-inspector-client,
#                     openstacksdk, python-openstackclient, and the database
#                     drivers PyMySQL and psycopg2-binary (upstream's
#                     ironic-inspector-dbsync on MariaDB and PostgreSQL); every package
#                     pinned by constraints/venv-ironic.txt.
#   venv-ironic32     ironic 32.1.0 (last release with the 'inspector'
#                     inspect interface) + python-ironicclient,
#                     python-openstackclient, python-ironic-inspector-client,
#                     constrained by OpenStack stable/2025.2
#                     upper-constraints (constraints/).
#   venv-keystone     keystone 28.1.0 (2025.2) + gunicorn to serve it,
#                     constrained by the same upper-constraints.
#   venv-swift        swift 2.38.3 (pyeclib's wheel bundles liberasurecode)
#                     + keystonemiddleware for its proxy's authtoken, and
#                     python-swiftclient, constrained by the same
#                     upper-constraints (swift.sh).
#   venv-openapi      openapi-spec-validator 0.7.2 and schemathesis 4.32.5,
#                     which check the service's OpenAPI document and the
#                     answers against it (tests/api/openapi.rs).
#
# A venv is (re)created when it is missing, when its stamp (hash of Python
# version, package list and constraints file) differs, or when its key
# packages do not import with the expected versions.
#
# --walkthrough installs only what the README's walk-through (scripts/demo.sh)
# needs: venv-ironic and the Debian packages curl and procps; no venv-ironic32,
# no venv-keystone, no IPA collector or PXE test packages.
#
# Env: TESTBED_DIR (default <repo>/target/testbed), TESTBED_PYTHON (default
# python3, >= 3.10), TESTBED_FORCE=1 recreates every venv,
# TESTBED_SKIP_APT=1 skips the Debian package check.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WALKTHROUGH_ONLY=0
case "${1:-}" in
    "") ;;
    --walkthrough) WALKTHROUGH_ONLY=1 ;;
    *) die "usage: $0 [--walkthrough]" ;;
esac

T_TOTAL=$(now_s)
PY="${TESTBED_PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

APT_PACKAGES=(curl procps lshw dmidecode ipmitool pciutils udev usbutils ethtool
              mdadm hdparm smartmontools efibootmgr parted gdisk
              dnsmasq-base busybox iptables iproute2 adduser logrotate openssl
              postgresql postgresql-client mariadb-server mariadb-client
              e2fsprogs mount chromium fonts-liberation nodejs)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)
((WALKTHROUGH_ONLY)) && APT_PACKAGES=(curl procps)

install_apt() {
    local t missing=() p
    t=$(now_s)
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    if ((${#missing[@]} == 0)); then
        log "apt: all ${#APT_PACKAGES[@]} packages present ($(since "$t") s)"
        return 0
    fi
    [[ "$(id -u)" == 0 ]] || die "missing Debian packages (${missing[*]}) and not root: install them with apt-get"
    require_cmd apt-get
    log "apt: installing ${missing[*]}"
    apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        die "apt-get install ${missing[*]} failed"
    log "apt: installed ${missing[*]} in $(since "$t") s"
}

check_python() {
    command -v "$PY" >/dev/null 2>&1 || die "python '$PY' not found (set TESTBED_PYTHON)"
    "$PY" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null ||
        die "$PY must be CPython >= 3.10 with the venv and ensurepip modules"
}

# stamp_of CONSTRAINTS PACKAGES... -> hash identifying what the venv must hold
stamp_of() {
    local constraints="$1"
    shift
    {
        "$PY" -c 'import sys; print(sys.version, sys.base_prefix)'
        echo "$*"
        cat "$constraints"
    } | sha256sum | cut -d' ' -f1
}

# venv_ok VENV STAMP NAME==VERSION... -> 0 when the stamp matches and the key
# distributions are installed with exactly those versions.
venv_ok() {
    local venv="$1" stamp="$2"
    shift 2
    [[ -x "$venv/bin/python" && -f "$venv/.testbed-stamp" ]] || return 1
    [[ "$(cat "$venv/.testbed-stamp")" == "$stamp" ]] || return 1
    "$venv/bin/python" - "$@" <<'EOF' 2>/dev/null
import importlib.metadata as m, sys
for spec in sys.argv[1:]:
    name, version = spec.split("==")
    if m.version(name) != version:
        sys.exit(1)
EOF
}

# make_venv NAME CONSTRAINTS "KEY==VER ..." PACKAGES...
make_venv() {
    local name="$1" constraints="$2" keys="$3"
    shift 3
    local venv="$TESTBED_DIR/$name" stamp t
    t=$(now_s)
    stamp="$(stamp_of "$constraints" "$@")"
    # shellcheck disable=SC2086
    if [[ "${TESTBED_FORCE:-0}" != 1 ]] && venv_ok "$venv" "$stamp" $keys; then
        log "$name: up to date ($(since "$t") s)"
        return 0
    fi
    log "$name: (re)creating"
    rm -rf "$venv"
    mkdir -p "$TESTBED_DIR"
    "$PY" -m venv "$venv"
    local logf="$TESTBED_DIR/$name.install.log"
    if ! "$venv/bin/pip" install --progress-bar off -q -c "$constraints" "$@" >"$logf" 2>&1; then
        tail -n 30 "$logf" >&2
        die "$name: pip install failed (full log: $logf)"
    fi
    "$venv/bin/pip" check >>"$logf" 2>&1 || { tail -n 20 "$logf" >&2; die "$name: pip check failed"; }
    # shellcheck disable=SC2086
    if ! venv_ok_versions "$venv" $keys; then
        die "$name: installed versions differ from $keys"
    fi
    "$venv/bin/pip" freeze > "$venv/freeze.txt"
    echo "$stamp" > "$venv/.testbed-stamp"
    log "$name: installed in $(since "$t") s"
}

venv_ok_versions() {
    local venv="$1"
    shift
    "$venv/bin/python" - "$@" <<'EOF'
import importlib.metadata as m, sys
bad = [s for s in sys.argv[1:] if m.version(s.split("==")[0]) != s.split("==")[1]]
if bad:
    print("version mismatch:", bad, file=sys.stderr)
    sys.exit(1)
EOF
}

if [[ "${TESTBED_SKIP_APT:-0}" != 1 ]]; then
    require_cmd dpkg-query
    install_apt
fi
check_python

PLAYWRIGHT_VERSION=1.57.0
install_playwright() {
    local dir="$TESTBED_DIR/playwright" t have
    t=$(now_s)
    have=$(node -p 'require(process.argv[1]).version' "$dir/node_modules/playwright-core/package.json" 2>/dev/null || true)
    if [[ "$have" == "$PLAYWRIGHT_VERSION" ]]; then
        log "playwright-core $have: up to date ($(since "$t") s)"
        return 0
    fi
    require_cmd npm
    mkdir -p "$dir"
    echo '{"private": true}' > "$dir/package.json"
    if ! npm install --prefix "$dir" --no-audit --no-fund --save-exact \
        "playwright-core@$PLAYWRIGHT_VERSION" >"$dir/install.log" 2>&1; then
        tail -n 20 "$dir/install.log" >&2
        die "playwright-core: npm install failed (full log: $dir/install.log)"
    fi
    log "playwright-core $PLAYWRIGHT_VERSION installed in $(since "$t") s"
}

CONSTRAINTS_39="$TESTBED_SCRIPTS/constraints/venv-ironic.txt"
CONSTRAINTS_32="$TESTBED_SCRIPTS/constraints/upper-constraints-stable-2025.2.txt"

# The venvs install in parallel: pip is mostly waiting on downloads and
# unpacking, which two cores overlap well. Each job logs to its own file.
make_venv venv-ironic "$CONSTRAINTS_39" \
    "ironic==39.0.0 ironic-inspector==12.5.0 ironic-python-agent==13.0.0" \
    ironic==39.0.0 ironic-inspector==12.5.0 ironic-python-agent==13.0.0 \
    python-ironicclient python-ironic-inspector-client openstacksdk python-openstackclient \
    PyMySQL psycopg2-binary &
JOB39=$!
if ((WALKTHROUGH_ONLY)); then
    wait "$JOB39" || die "venv installation failed (see messages above)"
    log "walk-through install complete in $(since "$T_TOTAL") s; venv-ironic in $TESTBED_DIR"
    exit 0
fi
make_venv venv-ironic32 "$CONSTRAINTS_32" "ironic==32.1.0" \
    ironic==32.1.0 python-ironicclient python-ironic-inspector-client python-openstackclient &
JOB32=$!
make_venv venv-keystone "$CONSTRAINTS_32" "keystone==28.1.0 gunicorn==23.0.0" \
    keystone==28.1.0 gunicorn &
JOBKS=$!
make_venv venv-swift "$CONSTRAINTS_32" "swift==2.38.3" \
    swift==2.38.3 keystonemiddleware python-swiftclient &
JOBSW=$!
make_venv venv-openapi "$CONSTRAINTS_32" "openapi-spec-validator==0.7.2 schemathesis==4.32.5" \
    openapi-spec-validator==0.7.2 schemathesis==4.32.5 &
JOBOA=$!
install_playwright
RC=0
wait "$JOB39" || RC=1
wait "$JOB32" || RC=1
wait "$JOBKS" || RC=1
wait "$JOBSW" || RC=1
wait "$JOBOA" || RC=1
((RC == 0)) || die "venv installation failed (see messages above)"

log "install complete in $(since "$T_TOTAL") s; venvs in $TESTBED_DIR"
