#!/usr/bin/env bash
# Builds the Debian package of inspector from this repository with dpkg-deb
# (no cargo-deb: nothing to compile besides inspector itself).
#
#   packaging/deb/build.sh        -> target/debian/inspector_<version>_<arch>.deb
#
# Builds the release binary first (`cargo build --release --bin inspector`,
# a no-op when it is up to date). Version from Cargo.toml, architecture from
# `dpkg --print-architecture`, library dependencies from the packages that
# own the shared libraries the binary links (ldd, dpkg -S) and the newest
# glibc symbol version it uses. Prints the path of the package.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$REPO/packaging/deb"
cd "$REPO"

die() { echo "build.sh: $*" >&2; exit 1; }
for cmd in cargo dpkg dpkg-deb ldd gzip; do
    command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found"
done

cargo build --release --bin inspector >&2
BINARY="$REPO/target/release/inspector"
[[ -x "$BINARY" ]] || die "no $BINARY after cargo build"

# The [package] version: the first `version =` line after `[package]`.
VERSION=$(awk '/^\[package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{gsub(/[" ]/, ""); sub(/version=/, ""); print; exit}' Cargo.toml)
[[ -n "$VERSION" ]] || die "no [package] version in Cargo.toml"
ARCH=$(dpkg --print-architecture)

# Shared libraries -> the packages that ship them; libc6 at the newest
# GLIBC_x.y symbol version the binary needs.
depends=()
while read -r lib; do
    owner=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -n1 | cut -d: -f1) ||
        owner=""
    if [[ -z "$owner" ]]; then
        owner=$(dpkg -S "$lib" 2>/dev/null | head -n1 | cut -d: -f1) || owner=""
    fi
    [[ -n "$owner" ]] || die "no package owns $lib (linked by $BINARY)"
    [[ " ${depends[*]} " == *" $owner "* ]] || depends+=("$owner")
done < <(ldd "$BINARY" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}')
GLIBC=$(grep -aoE 'GLIBC_[0-9]+\.[0-9]+(\.[0-9]+)?' "$BINARY" | sed 's/GLIBC_//' | sort -uV | tail -n1)
DEPENDS=""
for package in "${depends[@]}"; do
    if [[ "$package" == libc6 && -n "$GLIBC" ]]; then
        package="libc6 (>= $GLIBC)"
    fi
    DEPENDS="${DEPENDS:+$DEPENDS, }$package"
done
[[ -n "$DEPENDS" ]] || die "found no library dependencies of $BINARY"

OUT="$REPO/target/debian"
ROOT="$OUT/inspector_${VERSION}_${ARCH}"
rm -rf "$ROOT"
install -d "$ROOT/DEBIAN"
install -D -m 0755 -s "$BINARY" "$ROOT/usr/bin/inspector"
install -D -m 0644 "$HERE/inspector.service" "$ROOT/usr/lib/systemd/system/inspector.service"
install -D -m 0640 "$HERE/inspector.conf" "$ROOT/etc/inspector/inspector.conf"
install -D -m 0644 "$HERE/inspector.logrotate" "$ROOT/etc/logrotate.d/inspector"
install -D -m 0644 README.md "$ROOT/usr/share/doc/inspector/README.md"
install -D -m 0644 examples/inspector.conf "$ROOT/usr/share/doc/inspector/examples/inspector.conf"
cat >"$ROOT/usr/share/doc/inspector/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: inspector

Files: *
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
COPYRIGHT
for script in postinst prerm postrm; do
    install -m 0755 "$HERE/$script" "$ROOT/DEBIAN/$script"
done
install -m 0644 "$HERE/conffiles" "$ROOT/DEBIAN/conffiles"
INSTALLED_SIZE=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" \
    -e "s/@INSTALLED_SIZE@/$INSTALLED_SIZE/" -e "s/@DEPENDS@/$DEPENDS/" \
    "$HERE/control" >"$ROOT/DEBIAN/control"

DEB="$OUT/inspector_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$DEB" >&2
echo "$DEB"
