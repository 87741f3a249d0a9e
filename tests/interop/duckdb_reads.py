#!/usr/bin/env python3
"""Delta tables written by deltagres, read by other Delta readers.

Usage: DG_HOST=127.0.0.1 DG_PORT=5433 python3 tests/interop/duckdb_reads.py

Creates a table through the server, then runs INSERT, MERGE, OPTIMIZE ZORDER BY and RESTORE; after
each step the table's folder (DESCRIBE DETAIL's location, so this must run on the server's host) is
read by the `deltalake` Python package and by DuckDB's delta extension (the `duckdb-extension-delta`
package, loaded from its installed file, no network), and both must return the same rows (as
multisets) as `SELECT *` through the server, and deltalake must see the version DESCRIBE DETAIL
reports. Exits 1 on any mismatch.
"""

import os
import sys
import traceback

from deltalake import DeltaTable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (  # noqa: E402
    arrow_rows,
    compare,
    connect,
    duckdb_connect,
    duckdb_read,
    nested_columns,
    norm_rows,
)

SCHEMA = "interop"
TABLE = f"{SCHEMA}.duck_orders_{os.getpid()}"

CREATE = f"""
CREATE TABLE {TABLE} (
    id BIGINT NOT NULL,
    customer TEXT,
    amount DECIMAL(12, 2),
    qty INT,
    price DOUBLE PRECISION,
    active BOOLEAN,
    day DATE,
    ts TIMESTAMP,
    tstz TIMESTAMPTZ,
    payload BYTEA,
    tags BIGINT[]
) PARTITIONED BY (day)
"""

INSERT = f"""
INSERT INTO {TABLE}
SELECT id,
       'customer_' || CAST(id % 17 AS TEXT),
       CAST(id * 1.25 - 50 AS DECIMAL(12, 2)),
       CAST(id % 7 AS INT),
       id / 3.0,
       id % 2 = 0,
       CAST('2024-01-01' AS DATE) + CAST(id % 4 AS INT),
       CAST('2024-03-10 12:00:00' AS TIMESTAMP) + CAST(CAST(id AS TEXT) || ' minutes' AS INTERVAL),
       CAST(to_timestamp_micros(1710072000000000 + id * 1000001) AS TIMESTAMPTZ),
       CAST('bin' || CAST(id AS TEXT) AS BYTEA),
       make_array(id, id + 1)
FROM generate_series(1, 300) AS g(id)
"""

INSERT_EDGE = f"""
INSERT INTO {TABLE} VALUES
  (1000, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (1001, 'üñíçødé ✓', -0.01, -2147483648, -1.5e300, false, DATE '1970-01-01',
   TIMESTAMP '1900-01-01 00:00:00.000001', TIMESTAMPTZ '2262-04-11 23:47:16.854775+00',
   CAST('' AS BYTEA), make_array(-9223372036854775808, 9223372036854775807))
"""

MERGE = f"""
MERGE INTO {TABLE} AS t
USING (VALUES (5, 'merged_5', 99.99), (6, 'merged_6', 0.50), (7, NULL, NULL),
              (2000, 'new_2000', 12.34), (2001, 'new_2001', -12.34)) AS s(id, customer, amount)
ON t.id = s.id
WHEN MATCHED AND s.customer IS NULL THEN DELETE
WHEN MATCHED THEN UPDATE SET customer = s.customer, amount = s.amount
WHEN NOT MATCHED THEN INSERT (id, customer, amount, day)
  VALUES (s.id, s.customer, s.amount, DATE '2024-02-01')
"""


def table_path(con):
    cur = con.execute(f"DESCRIBE DETAIL {TABLE}")
    row = dict(zip([d.name for d in cur.description], cur.fetchone()))
    loc = row["location"]
    if loc.startswith("file://"):
        loc = loc[len("file://"):]
    return loc.rstrip("/"), row["version"]


def check(con, step):
    """Compares server, deltalake and DuckDB after one step; returns a list of problems."""
    path, version = table_path(con)
    cur = con.execute(f"SELECT * FROM {TABLE}")
    names = [d.name for d in cur.description]
    raw = cur.fetchall()
    problems = []

    readers = {}
    try:
        dt = DeltaTable(path)
        if dt.version() != version:
            problems.append(f"deltalake sees version {dt.version()}, DESCRIBE DETAIL says {version}")
        readers["deltalake"] = dt.to_pyarrow_table()
    except Exception as e:
        problems.append(f"deltalake cannot read {path}: {type(e).__name__}: {e}")
    try:
        duck = duckdb_connect()  # a fresh connection per step: no cached snapshot
        if duck is None:
            problems.append("duckdb / duckdb-extension-delta not installed")
        else:
            readers["duckdb"] = duckdb_read(duck, path)
            duck.close()
    except Exception as e:
        problems.append(f"DuckDB cannot read {path}: {type(e).__name__}: {e}")

    for reader, table in readers.items():
        exp_names, exp = arrow_rows(table)
        nested = nested_columns(table.schema)
        if sorted(exp_names) != sorted(names):
            problems.append(f"{reader}: columns {exp_names} != server {names}")
            continue
        # reorder the reader's columns to the server's order (partition columns may move)
        order = [exp_names.index(n) for n in names]
        exp = [tuple(r[i] for i in order) for r in exp]
        nested_srv = {names.index(exp_names[i]) for i in nested}
        diff = compare(norm_rows(exp, nested_srv), norm_rows(raw, nested_srv))
        if diff:
            problems.append(f"{reader} (expected) vs server (got): {diff}")
    status = "FAIL" if problems else "PASS"
    print(f"{status} after {step}: version {version}, {len(raw)} rows, readers: {', '.join(readers)}")
    for p in problems:
        for line in p.splitlines():
            print(f"     {line}")
    return problems


def main():
    con = connect()
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    failures = 0
    try:
        con.execute(CREATE)
        failures += bool(check(con, "CREATE TABLE"))
        con.execute(INSERT)
        con.execute(INSERT_EDGE)
        failures += bool(check(con, "INSERT"))
        _, insert_version = table_path(con)
        con.execute(MERGE)
        failures += bool(check(con, "MERGE"))
        con.execute(f"UPDATE {TABLE} SET qty = qty + 1 WHERE id % 5 = 0")
        con.execute(f"DELETE FROM {TABLE} WHERE id % 11 = 0")
        failures += bool(check(con, "UPDATE + DELETE"))
        con.execute("SET deltagres.optimize.target_file_size = '4KiB'")
        con.execute(f"OPTIMIZE {TABLE} ZORDER BY (customer, id)")
        failures += bool(check(con, "OPTIMIZE ZORDER BY (customer, id)"))
        con.execute(f"RESTORE TABLE {TABLE} TO VERSION AS OF {insert_version}")
        failures += bool(check(con, f"RESTORE TO VERSION AS OF {insert_version}"))
    except Exception as e:
        failures += 1
        print(f"FAIL: {getattr(e, 'sqlstate', '')} {e}" if getattr(e, "sqlstate", None) else traceback.format_exc())
    finally:
        try:
            con.execute(f"DROP TABLE IF EXISTS {TABLE}")
        except Exception:
            pass
    print("all readers agree" if not failures else f"{failures} step(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    code = main()
    # pyarrow/deltalake threads can abort the interpreter's teardown (delta-rs#2184): leave
    # directly once the result is printed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
