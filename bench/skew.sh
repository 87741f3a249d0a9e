#!/usr/bin/env bash
# Skewed-join benchmark: orders (60% on customer_1) joined with customers on a partitioned hash
# join at 8 target partitions, with and without /*+ SKEW(...) */. Reports wall time (median of
# RUNS) and the largest partition's rows at the join, read from EXPLAIN ANALYZE.
#
#   bench/skew.sh [ORDERS] [RUNS] [BINARY]
set -euo pipefail
orders="${1:-1e7}"
runs="${2:-3}"
bin="${3:-${CARGO_TARGET_DIR:-$HOME/.cache/deltagres-target}/release/deltagres}"
port=54331
dir="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
orders_n=$(python3 -c "print(int(float('$orders')))")

"$bin" serve --listen "127.0.0.1:$port" --data-dir "$dir/data" 2>"$dir/server.log" &
pid=$!
for _ in $(seq 100); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done
sql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U bench -d deltagres "$@"; }

sql -c "CREATE TABLE customers AS SELECT 'customer_' || i AS customer_id,
          CASE i % 4 WHEN 0 THEN 'consumer' WHEN 1 THEN 'corporate' WHEN 2 THEN 'home_office' ELSE 'small_business' END AS segment
        FROM generate_series(1, 100000) t(i)"
sql -c "CREATE TABLE orders AS SELECT i AS order_id,
          CASE WHEN i % 10 < 6 THEN 'customer_1' ELSE 'customer_' || (2 + (i * 7919) % 99999) END AS customer_id,
          CAST(i % 1000 AS DOUBLE) AS amount
        FROM generate_series(1, $orders_n) t(i)"

settings="SET datafusion.execution.target_partitions = 8;
SET datafusion.optimizer.hash_join_single_partition_threshold = 0;
SET datafusion.optimizer.hash_join_single_partition_threshold_rows = 0;"
query() {
  echo "SELECT $1 c.segment, count(*) AS orders, sum(o.amount) AS revenue
        FROM orders o JOIN customers c ON o.customer_id = c.customer_id GROUP BY c.segment ORDER BY 1"
}

measure() { # $1: hint; prints "median_seconds max_partition_rows max/mean"
  local hint="$1" times=() line
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s.%N)
    sql -c "$settings" -c "$(query "$hint")" >/dev/null
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  line=$(sql -A -t -c "$settings" -c "EXPLAIN ANALYZE $(query "$hint")" | grep -A1 '^ *HashJoinExec' | grep 'rows per partition' | head -1)
  printf '%s %s %s\n' \
    "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")" \
    "$(echo "$line" | grep -o 'max=[0-9]*' | cut -d= -f2)" \
    "$(echo "$line" | grep -o 'max/mean [0-9.]*' | cut -d' ' -f2)"
}

read -r plain_s plain_max plain_ratio < <(measure "")
read -r skew_s skew_max skew_ratio < <(measure "/*+ SKEW('o', 'customer_id', ('customer_1')) */")
printf 'Skewed join: %s orders (60%% on customer_1) x 100000 customers, 8 partitions, partitioned hash join\n' "$orders_n"
printf '%-22s %12s %22s %10s\n' "variant" "median (s)" "max partition rows" "max/mean"
printf '%-22s %12.2f %22s %10s\n' "plain join" "$plain_s" "$plain_max" "$plain_ratio"
printf '%-22s %12.2f %22s %10s\n' "SKEW hint" "$skew_s" "$skew_max" "$skew_ratio"
