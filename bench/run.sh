#!/usr/bin/env bash
# deltagres against DuckDB, the deltalake Python package, PostgreSQL 15 and PySpark on the retail
# data set. Installs what it needs, then runs bench/harness.py, which starts every server itself on
# loopback and writes bench/results/<date>-<scale>.md (+ .json, .png).
#
#   bench/run.sh [--scale 1e5|1e6|1e7] [--only report,merge,zorder,wire,pipeline,skew] [--runs N] [--keep]
#
# The deltagres binary: $DELTAGRES_BIN, else $CARGO_TARGET_DIR (default ~/.cache/deltagres-target)
# /release/deltagres (`cargo build --release`). Estimated from 1e5 timings on 2 cores: 1e5 ~4 min,
# 1e6 ~8-12 min, 1e7 ~25 min (fewer repetitions of the slow cases at 1e7).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

python3 -c 'import duckdb, deltalake, psycopg, matplotlib, pyarrow, moto, boto3' 2>/dev/null \
  || python3 -m pip install -q duckdb deltalake 'psycopg[binary]' matplotlib pyarrow 'moto[server]'
# PySpark (the pipeline case's comparison; needs Java 17). Without it that comparison is skipped.
python3 -c 'import pyspark' 2>/dev/null || python3 -m pip install -q pyspark \
  || echo "pyspark did not install: the pipeline case runs deltagres alone" >&2

# A PostgreSQL 15 server (initdb, pg_ctl) and pgbench, psql, pg_isready.
if ! { [ -x /usr/lib/postgresql/15/bin/pg_ctl ] || [ -x /usr/local/bin/pg_ctl ]; } \
   || ! command -v pgbench >/dev/null || ! command -v psql >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 postgresql-client-15 >/dev/null
fi

# The server under test, built from this checkout unless DELTAGRES_BIN names one.
if [ -z "${DELTAGRES_BIN:-}" ]; then
  (cd "$here/.." && CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deltagres-target}" cargo build --release --quiet)
fi

exec python3 "$here/harness.py" "$@"
