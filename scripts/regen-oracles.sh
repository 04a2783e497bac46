#!/usr/bin/env bash
# Regenerates the oracle fixtures of crates/inspector-core/tests/oracle/ (and
# the Unicode tables crates/inspector-core/src/py/tables.rs) by running every
# gen_*.py with the test bed's venv-ironic, which holds the real upstream
# packages the generators import (ironic-inspector 12.5.0, oslo.config,
# oslo.policy, jsonpath-rw, netaddr, keystonemiddleware ...) on CPython 3.11.
# The generators read only files inside this repository (the payloads of
# scripts/testbed/data/). Then shows whether anything changed:
#
#   scripts/regen-oracles.sh           # regenerate, print `git diff --stat`
#   scripts/regen-oracles.sh --check   # also exit 1 when a fixture changed
#
# Installs venv-ironic first when it is missing (scripts/testbed/install.sh
# --walkthrough). Env: TESTBED_DIR (default <repo>/target/testbed).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
TESTBED_DIR="${TESTBED_DIR:-$REPO/target/testbed}"
PYTHON="$TESTBED_DIR/venv-ironic/bin/python"
ORACLE=crates/inspector-core/tests/oracle
OUTPUTS=("$ORACLE"/*.json crates/inspector-core/src/py/tables.rs)

check=0
[[ "${1:-}" == --check ]] && check=1

if [[ ! -x "$PYTHON" ]]; then
    echo "regen-oracles: $PYTHON is missing; installing venv-ironic" >&2
    TESTBED_DIR="$TESTBED_DIR" scripts/testbed/install.sh --walkthrough
fi
version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# gen_py.py and gen_py_tables.py record what this CPython computes.
if [[ "$version" != 3.11 ]]; then
    echo "regen-oracles: $PYTHON is CPython $version; the fixtures were made with 3.11" >&2
    exit 1
fi

for generator in "$ORACLE"/gen_*.py; do
    echo "== $generator"
    # PYTHONHASHSEED: set iteration order must not depend on the run.
    PYTHONHASHSEED=0 "$PYTHON" "$generator"
done

echo
if git diff --quiet -- "${OUTPUTS[@]}"; then
    echo "regen-oracles: the fixtures are identical to the committed ones"
else
    git diff --stat -- "${OUTPUTS[@]}"
    echo "regen-oracles: the fixtures above changed (git diff shows how)"
    [[ $check == 1 ]] && exit 1
fi
exit 0
