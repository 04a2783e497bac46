#!/usr/bin/env bash
# Runs the fuzz targets (built by fuzz/build.sh) from their seed corpora in
# fuzz/corpus/<target>/. Any crash, panic, timeout (an input taking longer
# than TIMEOUT seconds) or out-of-memory fails the run; the input is saved
# under fuzz/artifacts/<target>/ and libFuzzer prints how to reproduce it.
#
#   fuzz/run.sh smoke [SECONDS]            # each target in turn, SECONDS each
#                                          # (default 20), new inputs thrown away
#   fuzz/run.sh campaign SECONDS [TARGET...]
#                                          # all targets at once, niced, for
#                                          # SECONDS each; new inputs kept in
#                                          # fuzz/campaign/<target>/, logs in
#                                          # fuzz/campaign/<target>.log
#
# Env: RUNS (campaign: stop each target after this many inputs, e.g.
# 10000000, instead of at SECONDS), MAX_LEN (libFuzzer's -max_len: the
# longest input tried; by default 4096 bytes or the corpus's longest), TIMEOUT (per input, default 30 s: far
# above what any input takes with the work limits the fuzzing build lowers,
# as the machine may be shared), RSS_LIMIT_MB (default 2048).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ALL=(continue_body rules oslo_config policy py_re py_format jsonpath)
mode="${1:?usage: fuzz/run.sh smoke|campaign [SECONDS] [TARGET...]}"
seconds="${2:-20}"
shift $(($# < 2 ? $# : 2))
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${ALL[@]}")
bin="$(./build.sh "${targets[@]}")"
# libFuzzer's timeout handler can deadlock when the alarm lands inside the
# allocator (seen once: the process sleeps forever without writing the
# input), so each run is also bounded from outside; that counts as a hang.
guard=(timeout --kill-after=10 $((seconds + 2 * ${TIMEOUT:-30} + 120)))
flags=(-timeout="${TIMEOUT:-30}" -rss_limit_mb="${RSS_LIMIT_MB:-2048}" -print_final_stats=1
    -max_total_time="$seconds")
[[ -n "${RUNS:-}" ]] && flags+=(-runs="$RUNS")
[[ -n "${MAX_LEN:-}" ]] && flags+=(-max_len="$MAX_LEN")

case "$mode" in
smoke)
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    for target in "${targets[@]}"; do
        mkdir -p "$work/$target" "artifacts/$target"
        echo "fuzz smoke: $target for ${seconds}s"
        if ! "${guard[@]}" "$bin/$target" "${flags[@]}" -artifact_prefix="artifacts/$target/" \
            "$work/$target" "corpus/$target" >"$work/$target.log" 2>&1; then
            tail -40 "$work/$target.log"
            echo "fuzz smoke: $target FAILED (input saved in fuzz/artifacts/$target/)" >&2
            exit 1
        fi
        grep -E '^(stat::number_of_executed_units|#[0-9]+[[:space:]]+DONE)' "$work/$target.log" || true
    done
    ;;
campaign)
    mkdir -p campaign
    pids=()
    for target in "${targets[@]}"; do
        mkdir -p "campaign/$target" "artifacts/$target"
        nice -n 10 "${guard[@]}" "$bin/$target" "${flags[@]}" -artifact_prefix="artifacts/$target/" \
            "campaign/$target" "corpus/$target" >"campaign/$target.log" 2>&1 &
        pids+=($!)
    done
    status=0
    for i in "${!pids[@]}"; do
        if ! wait "${pids[$i]}"; then
            echo "fuzz campaign: ${targets[$i]} FAILED, see fuzz/campaign/${targets[$i]}.log" >&2
            status=1
        fi
    done
    for target in "${targets[@]}"; do
        echo "$target: $(grep -E '^stat::number_of_executed_units' "campaign/$target.log" || echo '?') \
$(grep -E '^#[0-9]+[[:space:]]+DONE' "campaign/$target.log" || true)"
    done
    exit $status
    ;;
*)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
