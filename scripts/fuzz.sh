#!/usr/bin/env bash
# Runs each cargo-fuzz target for a bounded time on stable Rust (no sanitizer),
# grows and minimizes its corpus under fuzz/corpus/<target>/ (starting also from the
# hand-made inputs in fuzz/seeds/<target>/, which it leaves alone, with the
# dictionary fuzz/dicts/<target>.dict where there is one), and prints per
# target the corpus size, the executions, executions per second and the crashes found.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     SECONDS per target, default 60
#
# Targets: decode_stream, verror_json, verror_chain (default: all three, one after
# the other, one process each). A crash leaves its input in fuzz/artifacts/<target>/;
# copy it to fuzz/regressions/<target>/ so that `cargo test` (tests/errors/fuzz_corpus.rs)
# replays it. The harnesses are in tests/errors/fuzz_harness/mod.rs.
#
# Environment: FUZZ_MAX_LEN (largest input, default per target), FUZZ_NO_CMIN=1 to
# keep the corpus as the run left it, FUZZ_CMIN_FLAGS (libFuzzer flags for the
# minimization; by default hit counts count for decode_stream, whose corpus is small
# anyway, and not for the others: one input per covered edge keeps theirs to a few
# hundred files).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(decode_stream verror_json verror_chain)
fi

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# verror reads RUST_LIB_BACKTRACE first: no backtrace captures in the harnesses,
# while a panic still prints its backtrace.
export RUST_LIB_BACKTRACE=0 RUST_BACKTRACE=1

# `-s none`: no sanitizer, so stable rustc builds it (safe Rust needs no ASan);
# `-a`: debug assertions and overflow checks on.
flags=(-s none -a)

echo "== building the fuzz targets"
cargo fuzz build "${flags[@]}"

max_len_of() {
    case $1 in
        # Frames past 256 bytes under a u16 limit.
        decode_stream) echo "${FUZZ_MAX_LEN:-4096}" ;;
        # Wide MultiErrors (thousands of children), long strings (tens of KB), thousands
        # of info keys, chains as deep as serde_json reads (128).
        verror_json) echo "${FUZZ_MAX_LEN:-65536}" ;;
        # The generated chains grow to thousands of levels and tens of KB from a few
        # bytes (the harness's `GrowSpec`); the rest feeds the names, messages and info.
        *) echo "${FUZZ_MAX_LEN:-4096}" ;;
    esac
}

cmin_flags_of() {
    case $1 in
        decode_stream) echo "${FUZZ_CMIN_FLAGS:-}" ;;
        *) echo "${FUZZ_CMIN_FLAGS:--use_counters=0}" ;;
    esac
}

corpus_size() {
    local dir=$1
    local files bytes
    files=$(find "$dir" -type f | wc -l)
    bytes=$(find "$dir" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    echo "$files files, $bytes bytes"
}

logs=target/fuzz-logs
mkdir -p "$logs"
summary=()
crashed=0
for target in "${targets[@]}"; do
    corpus=corpus/$target
    mkdir -p "$corpus" "artifacts/$target"
    before=$(find "$corpus" -type f | wc -l)
    crashes_before=$(find "artifacts/$target" -type f | wc -l)
    log=$logs/$target.log
    echo "== fuzzing $target for ${seconds}s (corpus: $before files; log: fuzz/$log)"
    status=0
    seeds=()
    if [ -d "seeds/$target" ]; then
        seeds=("seeds/$target")
    fi
    extra=()
    if [ -f "dicts/$target.dict" ]; then
        extra=(-dict="dicts/$target.dict")
    fi
    cargo fuzz run "${flags[@]}" "$target" "$corpus" "${seeds[@]}" -- \
        -max_total_time="$seconds" -max_len="$(max_len_of "$target")" \
        -timeout=10 -print_final_stats=1 "${extra[@]}" >"$log" 2>&1 || status=$?
    grep -E '^#[0-9]+[[:space:]]+(pulse|DONE)' "$log" | tail -n 2 || true
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    crashes=$(($(find "artifacts/$target" -type f | wc -l) - crashes_before))
    if [ "$status" -ne 0 ]; then
        crashed=1
        echo "!! $target stopped with status $status:"
        grep -E -A 12 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | head -n 40 || true
        echo "inputs saved in fuzz/artifacts/$target/:"
        ls -t "artifacts/$target" | head -n 5
    fi
    if [ "${FUZZ_NO_CMIN:-0}" != 1 ]; then
        echo "== minimizing the $target corpus"
        # shellcheck disable=SC2086
        cargo fuzz cmin "${flags[@]}" "$target" "$corpus" -- $(cmin_flags_of "$target") \
            >"$logs/$target.cmin.log" 2>&1 || echo "!! cmin failed: see fuzz/$logs/$target.cmin.log"
    fi
    rate=0
    if [ -n "$execs" ] && [ -n "$took" ] && [ "$took" -gt 0 ]; then
        rate=$((execs / took))
    fi
    summary+=("$(printf '%-14s %-28s %12s execs %8s exec/s  %4ss  %s crash(es)' \
        "$target" "$(corpus_size "$corpus")" "${execs:-?}" "$rate" "${took:-?}" "$crashes")")
done

echo
echo "== summary (corpus after minimization)"
printf '%s\n' "${summary[@]}"
exit "$crashed"
