#!/usr/bin/env bash
# Peak server memory while streaming a large result to a client.
#
# Starts deltagres on a temporary data directory, runs a SELECT of N generated rows (default 1e7)
# through psql, and reports the server's peak resident set size (VmHWM) and the elapsed time.
# The claim it checks: results stream; the server never holds the whole result in memory.
#
#   bench/stream_memory.sh [ROWS] [BINARY]
set -euo pipefail
rows="${1:-10000000}"
bin="${2:-${CARGO_TARGET_DIR:-$HOME/.cache/deltagres-target}/release/deltagres}"
port=54329
dir="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT

"$bin" serve --listen "127.0.0.1:$port" --data-dir "$dir/data" 2>"$dir/server.log" &
pid=$!
for _ in $(seq 100); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")

query="SELECT g AS id, g * 2 AS twice, 'row ' || g AS label FROM generate_series(1, $rows) AS t(g)"
start=$(date +%s.%N)
received=$(psql -X -q -A -t -h 127.0.0.1 -p "$port" -U bench -d deltagres \
  -v FETCH_COUNT=0 -c "$query" | wc -l)
end=$(date +%s.%N)
peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")

printf 'rows requested      %s\n' "$rows"
printf 'rows received       %s\n' "$received"
printf 'elapsed             %.1f s\n' "$(echo "$end - $start" | bc)"
printf 'server RSS at start %s MB\n' "$((rss_before / 1024))"
printf 'server peak RSS     %s MB\n' "$((peak_kb / 1024))"
[ "$received" -eq "$rows" ]
