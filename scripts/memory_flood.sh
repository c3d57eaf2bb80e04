#!/usr/bin/env bash
# The resident memory a header-only connection costs the release `verror serve`
# process, whatever length the header declares.
#
#   scripts/memory_flood.sh [N]      (N connections per case, default 1000)
#
# For each case, a fresh server (`--oversized discard`, so that a header over the
# limit is answered and its connection kept) is flooded by this shell with N
# loopback connections that each send one 4-byte header and nothing more. The
# server's VmRSS is read (from /proc/PID/status) once settled before the flood,
# with the flood held, and after it closed; the script prints the KiB per
# connection and the high-water mark (VmHWM). The connections are this shell's own
# (bash's /dev/tcp), so the server process holds nothing of the clients'.
#
# Needs Linux (/proc), bash, and 2 x N + some file descriptors (the soft limit is
# raised to the hard one if needed; N is lowered to fit if it cannot be).
# Everything stops by itself: the server is stopped with SIGTERM at the end of
# each case, or killed on any exit of the script.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-1000}
WARM_UP=16

need=$((2 * N + 64))
if [ "$(ulimit -n)" -lt "$need" ]; then
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
limit=$(ulimit -n)
if [ "$limit" != unlimited ] && [ "$limit" -lt "$need" ]; then
    N=$(((limit - 64) / 2))
    echo "file-descriptor limit $limit: flooding with N=$N connections"
fi

echo "== building the release verror"
cargo build --release --features cli --bin verror --quiet
VERROR=${CARGO_TARGET_DIR:-target}/release/verror

LOG=$(mktemp)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    rm -f "$LOG"
}
trap cleanup EXIT

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status"; }
open_fds() { ls "/proc/$SERVER_PID/fd" | wc -l; }

# VmRSS once it reads the same five times in a row, 100 ms apart (at most 30 s).
settled_rss() {
    local last now same=0 tries=0
    last=$(rss_kib)
    while [ "$same" -lt 5 ] && [ "$tries" -lt 300 ]; do
        sleep 0.1
        now=$(rss_kib)
        if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; fi
        last=$now
        tries=$((tries + 1))
    done
    echo "$last"
}

# Waits (at most 30 s) until the server holds at least $1 descriptors.
wait_for_fds() {
    local tries=0
    while [ "$(open_fds)" -lt "$1" ]; do
        tries=$((tries + 1))
        if [ "$tries" -gt 3000 ]; then
            echo "the server never accepted the flood ($(open_fds) descriptors)" >&2
            exit 1
        fi
        sleep 0.01
    done
}

FDS=()
# Opens $1 connections that each send the 4-byte header $2 (as printf escapes).
flood() {
    local i fd
    for ((i = 0; i < $1; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
        printf "$2" >&"$fd"
        FDS+=("$fd")
    done
}
close_flood() {
    local fd
    for fd in "${FDS[@]}"; do
        exec {fd}>&-
    done
    FDS=()
}

# One case: a fresh server with limit $2, flooded with headers $3.
measure() {
    local name=$1 max=$2 header=$3
    : >"$LOG"
    "$VERROR" serve --listen 127.0.0.1:0 --oversized discard --max-frame-len "$max" \
        --max-connections $((N + WARM_UP + 16)) --idle-timeout 10m --frame-timeout 10m \
        --log-level info --log-rate 1 2>"$LOG" &
    SERVER_PID=$!
    local tries=0
    while ! grep -q '"addr"' "$LOG"; do
        tries=$((tries + 1))
        if [ "$tries" -gt 1000 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "the server did not start:" >&2
            cat "$LOG" >&2
            exit 1
        fi
        sleep 0.01
    done
    PORT=$(grep -o '"addr":"127.0.0.1:[0-9]*"' "$LOG" | head -1 | grep -o '[0-9]*"$' | tr -d '"')

    # A small flood first, so one-time allocations are in the baseline.
    local base_fds
    base_fds=$(open_fds)
    flood "$WARM_UP" "$header"
    wait_for_fds $((base_fds + WARM_UP))
    close_flood
    sleep 0.5

    local before with after hwm
    before=$(settled_rss)
    flood "$N" "$header"
    wait_for_fds $((base_fds + N))
    with=$(settled_rss)
    hwm=$(hwm_kib)
    close_flood
    sleep 0.5
    after=$(settled_rss)

    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
    SERVER_PID=

    awk -v name="$name" -v n="$N" -v before="$before" -v with="$with" -v after="$after" -v hwm="$hwm" 'BEGIN {
        printf "%s\n  VmRSS %d KiB before, %d KiB with %d connections (VmHWM %d KiB), %d KiB after they closed\n  %.2f KiB per connection\n",
            name, before, with, n, hwm, after, (with - before) / n
    }'
}

echo "== $N header-only connections per case"
measure "header declaring the default limit (1 MiB)" 1048576 '\x00\x10\x00\x00'
measure "header declaring 0xFFFFFFFF (over the 1 MiB limit: answered, then discarded)" 1048576 '\xff\xff\xff\xff'
measure "header declaring the largest limit there is (4 GiB - 2)" 4294967294 '\xff\xff\xff\xfe'
