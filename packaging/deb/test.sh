#!/usr/bin/env bash
# Builds the Debian package, installs it on this machine with dpkg -i, checks
# what it installed, runs the packaged service as the packaged user with the
# packaged configuration and checks its sd_notify messages, log rotation and
# shutdown (check_service.py), then removes and purges it and checks that
# only a purge takes the configuration, the state and the user away.
#
# Needs root (dpkg -i) and a machine where no other "inspector" package or
# user exists. systemd need not run: the maintainer scripts only call
# systemctl when it does.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$REPO/packaging/deb"
cd "$REPO"
started=$(date +%s.%N)

die() { echo "packaging/deb/test.sh: FAILED: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
[[ "$(id -u)" == 0 ]] || die "needs root (dpkg -i)"
for cmd in dpkg dpkg-deb dpkg-query python3 setpriv logrotate getent stat; do
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found (scripts/testbed/install.sh installs it)"
done

status() { dpkg-query -W -f='${db:Status-Status}' inspector 2>/dev/null || true; }
if [[ -n "$(status)" && "$(status)" != not-installed ]]; then
    echo "purging an inspector package left by an earlier run"
    dpkg --purge inspector >/dev/null
fi
getent passwd inspector >/dev/null && die "a user 'inspector' exists without the package; refusing to touch it"

DEB=$("$HERE/build.sh")
[[ -f "$DEB" ]] || die "build.sh made no package"
built=$(date +%s.%N)
ok "built $(basename "$DEB"): $(stat -c %s "$DEB") bytes, installed size $(dpkg-deb -f "$DEB" Installed-Size) KiB"
echo "   Depends: $(dpkg-deb -f "$DEB" Depends)"

cleanup() {
    if [[ -n "$(status)" && "$(status)" != not-installed ]]; then
        dpkg --purge inspector >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

dpkg -i "$DEB"
[[ "$(status)" == installed ]] || die "dpkg-query says '$(status)' after dpkg -i"
VERSION=$(dpkg-deb -f "$DEB" Version)
[[ "$(/usr/bin/inspector --version)" == "inspector $VERSION" ]] ||
    die "/usr/bin/inspector --version: $(/usr/bin/inspector --version)"
ok "installed; /usr/bin/inspector is version $VERSION"

UNIT=/usr/lib/systemd/system/inspector.service
[[ -f "$UNIT" ]] || die "no $UNIT"
for line in 'Type=notify' 'NotifyAccess=main' 'WatchdogSec=30s' 'User=inspector' \
    'StateDirectory=inspector' 'ExecReload=/bin/kill -HUP $MAINPID' \
    'ExecStart=/usr/bin/inspector serve --config-file /etc/inspector/inspector.conf'; do
    grep -qxF "$line" "$UNIT" || die "$UNIT lacks '$line'"
done
if command -v systemd-analyze >/dev/null 2>&1; then
    systemd-analyze verify "$UNIT" || die "systemd-analyze verify $UNIT"
fi
[[ -L /etc/systemd/system/multi-user.target.wants/inspector.service ]] ||
    die "the unit was not enabled (deb-systemd-helper)"
ok "systemd unit $UNIT, enabled"

conffiles=$(dpkg-query --control-show inspector conffiles)
for f in /etc/inspector/inspector.conf /etc/logrotate.d/inspector; do
    grep -qxF "$f" <<<"$conffiles" || die "$f is not a conffile: $conffiles"
    [[ -f "$f" ]] || die "no $f"
done
[[ "$(stat -c %U:%G:%a /etc/inspector/inspector.conf)" == root:inspector:640 ]] ||
    die "/etc/inspector/inspector.conf is $(stat -c %U:%G:%a /etc/inspector/inspector.conf)"
check_out=$(/usr/bin/inspector config check --config-file /etc/inspector/inspector.conf 2>&1) ||
    die "config check: $check_out"
grep -q WARNING <<<"$check_out" && die "the packaged configuration warns: $check_out"
logrotate -d /etc/logrotate.d/inspector >/dev/null 2>&1 || die "logrotate -d rejects /etc/logrotate.d/inspector"
ok "conffiles $(tr '\n' ' ' <<<"$conffiles")(config check clean, logrotate accepts its file)"

IFS=: read -r _ _ uid _ _ home shell < <(getent passwd inspector) || die "no user inspector"
((uid < 1000)) || die "inspector is not a system user (uid $uid)"
[[ "$home" == /var/lib/inspector && "$shell" == /usr/sbin/nologin ]] || die "user inspector: home $home, shell $shell"
for dir in /var/lib/inspector /var/log/inspector; do
    [[ "$(stat -c %U:%G:%a "$dir")" == inspector:inspector:750 ]] || die "$dir is $(stat -c %U:%G:%a "$dir")"
done
ok "system user inspector (uid $uid) owns /var/lib/inspector and /var/log/inspector"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$HERE/check_service.py" "$PORT" || die "the packaged service (check_service.py)"
ok "the packaged service ran as inspector with the packaged configuration"

dpkg -r inspector >/dev/null
[[ "$(status)" == config-files ]] || die "dpkg-query says '$(status)' after dpkg -r"
[[ ! -e /usr/bin/inspector && ! -e "$UNIT" ]] || die "dpkg -r left the binary or the unit"
[[ -f /etc/inspector/inspector.conf && -f /var/lib/inspector/inspector.sqlite ]] ||
    die "dpkg -r removed the configuration or the database"
getent passwd inspector >/dev/null || die "dpkg -r removed the user"
ok "dpkg -r keeps the configuration, the database and the user"

dpkg --purge inspector >/dev/null
[[ -z "$(status)" || "$(status)" == not-installed ]] || die "dpkg-query says '$(status)' after purge"
for path in /usr/bin/inspector "$UNIT" /etc/inspector /etc/logrotate.d/inspector /var/lib/inspector \
    /var/log/inspector /etc/systemd/system/multi-user.target.wants/inspector.service \
    /var/lib/systemd/deb-systemd-helper-enabled/inspector.service.dsh-also; do
    [[ ! -e "$path" && ! -L "$path" ]] || die "$path is still there after purge"
done
getent passwd inspector >/dev/null && die "the user inspector is still there after purge"
getent group inspector >/dev/null && die "the group inspector is still there after purge"
ok "dpkg --purge removed the files, the state, the logs, the user and the group"

echo "packaging check passed in $(python3 -c "print(f'{$(date +%s.%N) - $started:.1f}')") s" \
    "(package build $(python3 -c "print(f'{$built - $started:.1f}')") s)"
