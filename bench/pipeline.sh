#!/usr/bin/env bash
# Retail pipeline benchmark: `deltagres gen retail` writes ORDERS orders over DAYS days (timed
# separately), then every stage of sql/retail runs for each day against a release server over the
# wire, in the pipeline's order. Reports per stage the wall time summed over the days and the
# server's peak RSS during the stage (VmHWM, reset before each stage).
#
#   bench/pipeline.sh [ORDERS] [DAYS] [BINARY]
set -euo pipefail
orders="${1:-1e7}"
days="${2:-3}"
bin="${3:-${CARGO_TARGET_DIR:-$HOME/.cache/deltagres-target}/release/deltagres}"
here="$(cd "$(dirname "$0")" && pwd)"
sql_dir="$here/../sql/retail"
port=54332
dir="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT

start=$(date +%s.%N)
"$bin" gen retail --out "$dir/input" --orders "$orders" --days "$days" >/dev/null
gen_s=$(echo "$(date +%s.%N) - $start" | bc)

DELTAGRES_STORAGE_ALLOWED_PATHS="$dir/input" "$bin" serve --listen "127.0.0.1:$port" --data-dir "$dir/data" 2>"$dir/server.log" &
pid=$!
for _ in $(seq 100); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done

declare -A secs peak
stages=(01_setup 02_load_raw 05_merge_updates 03_skew_join 04_enrich 07_report 06_optimize)
total_start=$(date +%s.%N)
for day in $(seq 0 $((days - 1))); do
  run_date=$(date -d "2024-01-01 + $day day" +%F)
  for stage in "${stages[@]}"; do
    echo 5 > "/proc/$pid/clear_refs"
    sed -e "s/\${run_date}/$run_date/g" -e "s#\${input_dir}#$dir/input#g" -e "s/\${vacuum_retain_hours}/168/g" \
      "$sql_dir/$stage.sql" > "$dir/stage.sql"
    s=$(date +%s.%N)
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U bench -d deltagres -f "$dir/stage.sql" >/dev/null 2>"$dir/stage.err" \
      || { cat "$dir/stage.err"; exit 1; }
    e=$(date +%s.%N)
    secs[$stage]=$(echo "${secs[$stage]:-0} + $e - $s" | bc)
    kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    (( kb > ${peak[$stage]:-0} )) && peak[$stage]=$kb
  done
done
total_s=$(echo "$(date +%s.%N) - $total_start" | bc)
rows=$(psql -X -A -t -h 127.0.0.1 -p "$port" -U bench -d deltagres -c "SELECT count(*) FROM retail.orders")

printf 'Retail pipeline: %s orders over %s days (retail.orders ends with %s rows)\n' "$orders" "$days" "$rows"
printf 'gen retail: %.1f s\n' "$gen_s"
printf '%-18s %14s %16s\n' "stage" "seconds (sum)" "peak RSS (MB)"
for stage in "${stages[@]}"; do
  printf '%-18s %14.2f %16d\n' "$stage" "${secs[$stage]}" "$(( ${peak[$stage]} / 1024 ))"
done
printf '%-18s %14.2f\n' "all stages" "$total_s"
