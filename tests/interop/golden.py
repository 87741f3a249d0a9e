#!/usr/bin/env python3
"""Golden Delta tables written by other writers, read through deltagres.

Usage: DG_HOST=127.0.0.1 DG_PORT=5433 [GOLDEN_DIR=...] python3 tests/interop/golden.py [SCRATCH_DIR]

For every table in GOLDEN_DIR (default: tests/fixtures/delta-golden, Spark/Databricks/delta-rs
tables from the delta-rs repository): copy it into a fresh temp dir under SCRATCH_DIR (default
/tmp; the fixtures are never written), attach the copy with `CREATE TABLE ... LOCATION`, read it with
`SELECT *` and compare the rows, as multisets, with an independent reader: the `deltalake` Python
package (`DeltaTable(path, version=n).to_pyarrow_table()`), or DuckDB's delta extension for the
tables listed in DUCKDB_ORACLE (which to_pyarrow_table cannot read). Also checks the column names
and DESCRIBE DETAIL's version, numFiles and protocol against deltalake's view of the log.

The server must allow SCRATCH_DIR: DELTAGRES_STORAGE_ALLOWED_PATHS=/tmp (or storage.allowed_paths).
With GOLDEN_S3_ENDPOINT=http://127.0.0.1:PORT (the S3 stand-in of tests/s3_standin.py, bucket
`lake`), each copy is also uploaded to s3://lake/external/golden/<table> and attached from there.
Prints PASS/FAIL/SKIP per table; exits 1 on any FAIL.
"""

import os
import re
import shutil
import sys
import tempfile
import traceback

import pyarrow as pa
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

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_GOLDEN = os.path.normpath(os.path.join(HERE, "..", "fixtures", "delta-golden"))

# Tables whose rows cannot be compared at all, with the reason.
SKIP = {
    "checkpoints": "the fixture holds only _delta_log (delta-rs's checkpoint-writing test); its data "
    "files are not in the delta-rs repository, so no reader can return rows (log metadata is "
    "still checked)",
}

# Tables `to_pyarrow_table()` of deltalake 1.6 cannot read: expected rows come from DuckDB's
# delta extension (delta-kernel-rs + DuckDB's own parquet reader) instead.
DUCKDB_ORACLE = {
    "checkpoint-v2-table": "deltalake to_pyarrow_table: reader feature v2Checkpoint not supported",
    "table-with-dv-small": "deltalake to_pyarrow_table: reader feature deletionVectors not supported",
    "table_with_deletion_logs": "deltalake to_pyarrow_table: reader feature deletionVectors not supported",
    "table_with_liquid_clustering": "deltalake to_pyarrow_table: reader feature deletionVectors not supported",
    "table_with_column_mapping": "deltalake to_pyarrow_table ignores column mapping (physical names "
    "col-...) and returns NULL for every value of 'Super Name'",
    "table_with_edge_timestamps": "deltalake to_pyarrow_table: INT96 9999-12-31 overflows timestamp[ns] "
    "(ArrowInvalid); the log stats say BIG_DATE is 9999-12-31/9999-12-30",
}

# Versions read with VERSION AS OF (besides the latest version, always read).
VERSIONS = {
    "simple_table": range(0, 5),
    "simple_table_with_checkpoint": range(0, 11),
}


def sql_name(table):
    return "golden." + re.sub(r"[^a-z0-9_]", "_", table.lower())


def server_rows(con, name, version=None, nested=()):
    q = f"SELECT * FROM {name}" + (f" VERSION AS OF {version}" if version is not None else "")
    cur = con.execute(q)
    names = [d.name for d in cur.description]
    return names, norm_rows(cur.fetchall(), nested)


def check_rows(con, name, expected_table, version=None):
    """'' when the server's rows at `version` equal expected_table's, else the differences."""
    exp_names, exp = arrow_rows(expected_table)
    nested = nested_columns(expected_table.schema)
    names, got = server_rows(con, name, version, nested)
    where = f"VERSION AS OF {version}: " if version is not None else ""
    if names != exp_names:
        return f"{where}columns {names} != expected {exp_names}"
    diff = compare(norm_rows(exp, nested), got)
    return f"{where}{diff}" if diff else ""


def check_detail(con, name, dt):
    cur = con.execute(f"DESCRIBE DETAIL {name}")
    cols = [d.name for d in cur.description]
    row = dict(zip(cols, cur.fetchone()))
    proto = dt.protocol()
    want = {
        "version": dt.version(),
        "minReaderVersion": proto.min_reader_version,
        "minWriterVersion": proto.min_writer_version,
        "partitionColumns": list(dt.metadata().partition_columns),
    }
    try:
        want["numFiles"] = len(dt.file_uris())
    except Exception:  # deltalake refuses to list files of tables with reader features it lacks
        pass
    bad = [f"{k}: got {row.get(k)!r}, expected {v!r}" for k, v in want.items() if row.get(k) != v]
    return "DESCRIBE DETAIL " + "; ".join(bad) if bad else ""


def s3_client():
    """With GOLDEN_S3_ENDPOINT set, the tables are attached from the S3 stand-in's bucket `lake`
    (issue 15); the oracles read the local copy, the same bytes."""
    endpoint = os.environ.get("GOLDEN_S3_ENDPOINT")
    if not endpoint:
        return None
    import boto3
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test",
                        aws_secret_access_key="test", region_name="us-east-1")


S3 = s3_client()


def upload(path, prefix):
    for root, _, files in os.walk(path):
        for f in files:
            local = os.path.join(root, f)
            key = prefix + "/" + os.path.relpath(local, path).replace(os.sep, "/")
            S3.upload_file(local, "lake", key)


def run_table(con, duck, table, src, scratch):
    """(status, detail) for one golden table."""
    path = os.path.join(scratch, table)
    shutil.copytree(src, path)
    name = sql_name(table)
    location = path
    if S3 is not None:
        upload(path, f"external/golden/{table}")
        location = f"s3://lake/external/golden/{table}"
    con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(f"CREATE TABLE {name} LOCATION '{location}'")
    problems, notes = [], []

    dt = DeltaTable(path)
    d = check_detail(con, name, dt)
    if d:
        problems.append(d)

    if table in SKIP:
        return ("FAIL" if problems else "SKIP"), "\n".join(problems + [SKIP[table]])

    if table in DUCKDB_ORACLE:
        if duck is None:
            # A missing reader is a failure, never a skip: CI installs it, and a check that
            # cannot run has not passed.
            return "FAIL", (
                DUCKDB_ORACLE[table] + "; duckdb / duckdb-extension-delta is not installed "
                "(pip install -r tests/interop/requirements.txt)"
            )
        expected = duckdb_read(duck, path)
        notes.append("oracle: DuckDB delta_scan (" + DUCKDB_ORACLE[table] + ")")
    else:
        expected = dt.to_pyarrow_table()
        notes.append("oracle: deltalake")
    d = check_rows(con, name, expected)
    if d:
        problems.append(d)

    for v in VERSIONS.get(table, ()):
        d = check_rows(con, name, DeltaTable(path, version=v).to_pyarrow_table(), version=v)
        if d:
            problems.append(d)
    if table in VERSIONS:
        notes.append(f"versions {min(VERSIONS[table])}-{max(VERSIONS[table])} via VERSION AS OF")
    notes.append(f"{expected.num_rows} rows")
    return ("FAIL" if problems else "PASS"), "\n".join(problems + ["; ".join(notes)])


def main():
    golden = os.path.abspath(os.environ.get("GOLDEN_DIR", DEFAULT_GOLDEN))
    scratch_root = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "/tmp"
    os.makedirs(scratch_root, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="deltagres-golden-", dir=scratch_root)
    tables = sorted(
        t for t in os.listdir(golden) if os.path.isdir(os.path.join(golden, t, "_delta_log"))
    )
    if not tables:
        print(f"no Delta tables in {golden}")
        return 1
    con = connect()
    con.execute("CREATE SCHEMA IF NOT EXISTS golden")
    duck = duckdb_connect()
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    try:
        for table in tables:
            try:
                status, detail = run_table(con, duck, table, os.path.join(golden, table), scratch)
            except Exception as e:  # an error from the server or a reader is a failure
                sqlstate = getattr(e, "sqlstate", None)
                status = "FAIL"
                detail = (f"SQLSTATE {sqlstate}: " if sqlstate else "") + (
                    str(e).strip() if sqlstate else traceback.format_exc().strip()
                )
            counts[status] += 1
            print(f"{status} {table}")
            for line in detail.splitlines():
                print(f"     {line}")
    finally:
        for table in tables:
            try:
                con.execute(f"DROP TABLE IF EXISTS {sql_name(table)}")  # forgets; keeps files
            except Exception:
                pass
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    code = main()
    # pyarrow/deltalake threads can abort the interpreter's teardown (delta-rs#2184): leave
    # directly once the result is printed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
