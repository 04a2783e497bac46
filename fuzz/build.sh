#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer on the stable toolchain: the
# sanitizer-coverage instrumentation cargo-fuzz would ask rustc for, passed
# by hand (no nightly, no sanitizer: a panic is what the targets look for).
# --target keeps the flags off build scripts and proc macros, which run
# without libFuzzer. Prints the directory holding the binaries.
#
#   fuzz/build.sh [TARGET...]     # default: every target
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
triple="$(rustc -vV | sed -n 's/^host: //p')"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
bins=()
for target in "$@"; do bins+=(--bin "$target"); done
[[ ${#bins[@]} -eq 0 ]] && bins=(--bins)
cargo build --quiet --release --target "$triple" "${bins[@]}" >&2
echo "$PWD/target/$triple/release"
