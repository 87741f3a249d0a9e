#!/usr/bin/env bash
# MERGE benchmark: 1e5 changes (half updates, half inserts) merged into 1e6 orders, by deltagres over
# the wire and by the `deltalake` Python package on the same data. Reports time and peak memory.
#
#   bench/merge.sh [ROWS] [CHANGES] [BINARY]
set -euo pipefail
rows="${1:-1e6}"
changes="${2:-1e5}"
bin="${3:-${CARGO_TARGET_DIR:-$HOME/.cache/deltagres-target}/release/deltagres}"
here="$(cd "$(dirname "$0")" && pwd)"
port=54330
dir="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT

python3 "$here/merge.py" gen "$dir/input" "$rows" "$changes"

DELTAGRES_STORAGE_ALLOWED_PATHS="$dir/input" "$bin" serve --listen "127.0.0.1:$port" --data-dir "$dir/data" 2>"$dir/server.log" &
pid=$!
for _ in $(seq 100); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done
sql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U bench -d deltagres "$@"; }
sql -c "CREATE TABLE orders AS SELECT * FROM read_parquet('$dir/input/orders')"
rss_before=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
start=$(date +%s.%N)
sql -c "MERGE INTO orders t USING read_parquet('$dir/input/updates') AS s ON t.order_id = s.order_id
        WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *" 2>"$dir/merge.notice"
end=$(date +%s.%N)
peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
total=$(sql -A -t -c "SELECT count(*) FROM orders")
shipped=$(sql -A -t -c "SELECT count(*) FROM orders WHERE status = 'shipped'")
read -r py_secs py_mb py_updated py_inserted < <(python3 "$here/merge.py" deltalake "$dir/input")

printf 'MERGE of %s changes into %s rows\n' "$changes" "$rows"
printf '%-28s %10s %14s\n' "engine" "seconds" "peak RSS (MB)"
printf '%-28s %10.2f %14s\n' "deltagres (over the wire)" "$(echo "$end - $start" | bc)" "$((peak_kb / 1024)) (before: $((rss_before / 1024)))"
printf '%-28s %10.2f %14s\n' "deltalake (Python)" "$py_secs" "$py_mb"
printf 'deltagres: %s rows after, %s shipped; %s\n' "$total" "$shipped" "$(grep -o 'num_affected_rows=[0-9]*' "$dir/merge.notice" || true)"
printf 'deltalake: %s updated, %s inserted\n' "$py_updated" "$py_inserted"
