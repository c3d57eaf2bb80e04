#!/usr/bin/env bash
# `verror load` against `verror serve` (ours) and against benchmarks/src/bin/reference_echo.rs
# (tokio-util's LengthDelimitedCodec + Framed), same machine, same run: 16 B and
# 4 KiB frames, 1 and 64 connections, the two servers alternating (which goes
# first swaps every round), ROUNDS rounds. Prints a markdown table of frames/s and
# p99 latency, with the ratios ours/reference of each round.
#
#   scripts/bench_load.sh                 # 2 rounds
#   ROUNDS=3 WINDOW=32 scripts/bench_load.sh
#
# Both servers listen on 127.0.0.1 ephemeral ports and are stopped at the end (ours
# with SIGTERM, its graceful shutdown). Every load run is bounded by its frame count
# and `verror load`'s timeout.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-2}
WINDOW=${WINDOW:-32}
# size:connections:frames-per-connection, about 1-3 s a run on a 2-core machine.
CONFIGS=${CONFIGS:-"16:1:2000000 16:64:30000 4096:1:600000 4096:64:8000"}

echo "building (release)..." >&2
cargo build --release --quiet --features cli --bin verror
cargo build --release --quiet -p verror-benchmarks --bin reference_echo
BIN=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# The first line of file $1 matching $2, waiting 5 s at most.
first_line() {
    local line
    for _ in $(seq 50); do
        if line=$(grep -m1 -- "$2" "$1"); then
            echo "$line"
            return 0
        fi
        sleep 0.1
    done
    echo "no line matching '$2' in $1:" >&2
    cat "$1" >&2
    return 1
}

# Our server: its first log line, "server listening", gives the address.
"$BIN/verror" serve --listen 127.0.0.1:0 2>"$WORK/ours.log" &
pids+=($!)
OURS=$(first_line "$WORK/ours.log" '"server listening"' | grep -o '"addr":"[^"]*"' | cut -d'"' -f4)
"$BIN/reference_echo" 127.0.0.1:0 >"$WORK/ref.log" 2>&1 &
pids+=($!)
REF=$(first_line "$WORK/ref.log" 'listening on' | sed 's/listening on //')
echo "ours: verror serve on $OURS; reference: reference_echo on $REF" >&2

# One load run; prints "frames_per_sec p99_us".
load() {
    local addr=$1 size=$2 conns=$3 frames=$4 json
    json=$("$BIN/verror" load "$addr" --connections "$conns" --frames "$frames" \
        --size "$size" --window "$WINDOW" --json)
    local fps p99
    fps=$(grep -o '"frames_per_sec":[0-9.e+]*' <<<"$json" | cut -d: -f2)
    p99=$(grep -o '"p99_us":[0-9.e+]*' <<<"$json" | cut -d: -f2)
    echo "$fps $p99"
}

# results[config,server,round] = "fps p99"
declare -A results
for round in $(seq "$ROUNDS"); do
    if ((round % 2)); then order="ours ref"; else order="ref ours"; fi
    for config in $CONFIGS; do
        IFS=: read -r size conns frames <<<"$config"
        for server in $order; do
            if [[ $server == ours ]]; then addr=$OURS; else addr=$REF; fi
            results[$config,$server,$round]=$(load "$addr" "$size" "$conns" "$frames")
            echo "round $round, $size B x $conns conn, $server: ${results[$config,$server,$round]} (frames/s, p99 us)" >&2
        done
    done
done

# The table: per configuration, the mean of the rounds and each round's ratio.
echo "| frame | conns | ours frames/s | reference frames/s | frames/s ratio (per round) | ours p99 | reference p99 | p99 ratio (per round) |"
echo "|---:|---:|---:|---:|---|---:|---:|---|"
for config in $CONFIGS; do
    IFS=: read -r size conns frames <<<"$config"
    rows=""
    for round in $(seq "$ROUNDS"); do
        rows+="${results[$config,ours,$round]} ${results[$config,ref,$round]}"$'\n'
    done
    awk -v size="$size" -v conns="$conns" '
        NF == 4 {
            n++; of += $1; op += $2; rf += $3; rp += $4
            fr = fr sep sprintf("%.2f", $1 / $3); pr = pr sep sprintf("%.2f", $2 / $4); sep = ", "
        }
        END {
            printf "| %s B | %s | %.0f | %.0f | %s | %.0f µs | %.0f µs | %s |\n",
                size, conns, of / n, rf / n, fr, op / n, rp / n, pr
        }' <<<"$rows"
done
echo
echo "Window $WINDOW requests per connection; $ROUNDS rounds; ratios are ours/reference (frames/s: higher is better; p99: lower is better)."
