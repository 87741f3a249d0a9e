#!/bin/bash
# Profiles the server under one pgbench script with perf (DWARF call graphs) and writes the
# flat self-time profile. Usage: bench/profile.sh <deltagres binary> <pgbench script> <out prefix>
# (MODE=simple|extended, default extended). Needs perf, pgbench and psql; uses port 55460 and
# /tmp/profdata. Example script for a new statement each time:
#   printf '\\set r random(1, 1000000000)\nSELECT :r;\n' > fresh.sql
set -euo pipefail
bin=$1; script=$2; out=$3
data=/tmp/profdata
rm -rf "$data"
"$bin" serve --data-dir "$data" --listen 127.0.0.1:55460 --http "" > "$out.server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
sleep 3
psql -h 127.0.0.1 -p 55460 -q -c "create schema retail" \
  -c "create table retail.orders (id bigint, customer_id text, amount numeric(12,2), status text, day date)" \
  -c "create table retail.customers (customer_id text, segment text)" \
  -c "create view retail.v1 as select * from retail.orders" \
  -c "insert into retail.orders select g, 'c' || (g % 100), g * 1.5, 'new', date '2024-01-01' + (g % 3) from generate_series(1, 100000) g"
pgbench -h 127.0.0.1 -p 55460 -n -T 3 -M "${MODE:-extended}" -f "$script" deltagres | grep -E "latency average|tps"
perf record -F 499 -g --call-graph dwarf,32768 -p "$pid" -o "$out.data" -- sleep 6 > /dev/null 2>&1 &
pgbench -h 127.0.0.1 -p 55460 -n -T 7 -M "${MODE:-extended}" -f "$script" deltagres | grep -E "latency average|tps"
wait %2 2>/dev/null || true
perf report -i "$out.data" --no-children --sort symbol --stdio 2>/dev/null | grep -v "^#" | grep "%" | head -60 > "$out.flat.txt"
echo "flat profile: $out.flat.txt"
