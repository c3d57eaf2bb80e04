#!/usr/bin/env bash
# The full load with faults, with the release `verror` program: GOOD connections
# pipelining FRAMES echo requests each (`verror load`) while BAD_EACH connections
# of every fault (`verror load --fault F`, each after one good request) hit the
# same `verror serve`. Then the server is stopped (SIGTERM) and its error log
# lines are counted by kind and compared with the faults injected.
#
#   scripts/load_faults.sh [GOOD] [FRAMES] [BAD_EACH]      (default 200 1000 30)
#
# Exits non-zero if a load run failed (a request not echoed, a fault not answered
# with its error) or if the log's counts by kind differ from the faults'.
# The in-process version, which also checks every response by content:
#   cargo test --release --all-features --test reliability load -- --ignored --nocapture
set -euo pipefail
cd "$(dirname "$0")/.."

GOOD=${1:-200}
FRAMES=${2:-1000}
BAD_EACH=${3:-30}
FAULTS=(oversized garbage truncated-header truncated-payload slow-header slow-payload reset)

# Sockets on both ends, in this script's processes and the server's.
need=$((2 * (GOOD + ${#FAULTS[@]} * BAD_EACH) + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
        echo "need $need file descriptors, the limit is $(ulimit -n)" >&2
        exit 1
    fi
fi

echo "== building the release verror"
cargo build --release --features cli --bin verror --quiet
VERROR=${CARGO_TARGET_DIR:-target}/release/verror

OUT=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$OUT"
}
trap cleanup EXIT

# No log rate limit: every error line is written, to be counted.
"$VERROR" serve --listen 127.0.0.1:0 --frame-timeout 2s --log-rate 0 \
    --max-connections 4096 --shutdown-deadline 10s 2>"$OUT/server.log" &
SERVER_PID=$!
tries=0
while ! grep -q '"addr"' "$OUT/server.log"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 1000 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "the server did not start:" >&2
        cat "$OUT/server.log" >&2
        exit 1
    fi
    sleep 0.01
done
ADDR=$(grep -o '"addr":"[^"]*"' "$OUT/server.log" | head -1 | cut -d'"' -f4)

echo "== $GOOD good connections x $FRAMES frames, and $BAD_EACH connections of each of ${#FAULTS[@]} faults, at once, against $ADDR"
pids=()
"$VERROR" load "$ADDR" --connections "$GOOD" --frames "$FRAMES" --size 64 --timeout 60s \
    --json >"$OUT/good.json" &
pids+=($!)
for fault in "${FAULTS[@]}"; do
    "$VERROR" load "$ADDR" --connections "$BAD_EACH" --frames 1 --fault "$fault" --timeout 30s \
        --json >"$OUT/$fault.json" &
    pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
done

kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
SERVER_PID=

num() { grep -o "\"$2\":[0-9.]*" "$1" | head -1 | cut -d: -f2; }
echo "good: $(num "$OUT/good.json" requests) requests, $(num "$OUT/good.json" ok) echoed," \
    "$(num "$OUT/good.json" frames_per_sec) frames/s, p99 $(num "$OUT/good.json" p99_us) us"
for fault in "${FAULTS[@]}"; do
    echo "$fault: $(num "$OUT/$fault.json" faults_sent) sent," \
        "answered $(grep -o '"fault_responses":{[^}]*}' "$OUT/$fault.json" | cut -d: -f2-)"
done
grep '"server stopped' "$OUT/server.log" | grep -o '"message":"[^"]*"'

logged() { grep -c "\"kind\":\"$1\"" "$OUT/server.log" || true; }
declare -A expected=(
    [oversized]=$((2 * BAD_EACH))
    [truncated_header]=$BAD_EACH
    [truncated_payload]=$BAD_EACH
    [frame_timeout]=$((2 * BAD_EACH))
    [reset]=$BAD_EACH
)
for kind in oversized truncated_header truncated_payload frame_timeout reset \
    handler_error handler_panic handler_timeout response_too_large server_busy \
    write_timeout io accept shutdown_deadline; do
    got=$(logged "$kind")
    want=${expected[$kind]:-0}
    if [ "$got" != "$want" ]; then
        echo "log lines of kind $kind: $got, expected $want" >&2
        failed=1
    elif [ "$want" != 0 ]; then
        echo "log lines of kind $kind: $got (as injected)"
    fi
done

if [ "$failed" != 0 ]; then
    echo "FAILED" >&2
    exit 1
fi
echo "OK: every good request echoed, every fault answered and logged by its kind, the server up to the end"
