#!/usr/bin/env python3
"""delta-kernel-rs's Spark-written golden tables, read through deltagres (issue 16).

Usage: DG_HOST=127.0.0.1 DG_PORT=5433 [KERNEL_GOLDEN_DIR=...] python3 tests/interop/kernel_golden.py SCRATCH_DIR

KERNEL_GOLDEN_DIR (default ../shared/delta-kernel-golden beside the repository) holds one
`NAME.tar.zst` per table: `NAME/delta/` (the table) and, for most, `NAME/expected/` (parquet files
with the rows a correct reader returns at the latest version). Each archive is unpacked under
SCRATCH_DIR (the archives are never written), attached with `CREATE TABLE ... LOCATION` and read
with `SELECT *`; the rows are compared, as multisets and value by value, with the expected parquet
read by pyarrow (normalising representation only: see common.norm).

Tables without `expected/` are meant to be unreadable (corrupt logs, unsupported features): each
must fail with one line and a SQLSTATE, and a healthy table must still read after it.

KNOWN lists the tables that do not match yet, each with the reason; a listed table that starts to
pass is reported so the list shrinks. Prints PASS/KNOWN/FAIL per table; exits 1 on any FAIL.
"""

import glob
import os
import re
import subprocess
import sys
import tempfile
import traceback

import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import arrow_rows, compare, connect, nested_columns, norm_rows  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "delta-kernel-golden"))

# Not equal to the expected rows yet, with the reason and the upstream issue (issue 16).
KNOWN = {
    "data-reader-partition-values": "a timestamp partition value Spark wrote without a zone "
    "(`2021-09-08 11:11:11`, the writer's session zone, here America/Los_Angeles) is read as "
    "UTC, as delta-kernel-rs and delta-rs read it: the log does not say the zone, and Delta "
    "writers since 2024 write UTC values with a `Z`. Upstream: delta-io/delta-kernel-rs#3119 "
    "(a reader option for the zone of offset-less values), not in the kernel delta-rs 1.1.3 uses",
}


def as_sent(value, arrow_type, in_json=False):
    """An expected value in the form the server sends it (representation only): a map as an
    object with text keys (jsonb), an array of structs as lists of their fields (record[]; in a
    map's jsonb they stay objects), a float4 as its shortest text (PostgreSQL's float4out)."""
    import pyarrow as pa
    import pyarrow.types as pt

    if value is None:
        return None
    if pt.is_map(arrow_type):
        return {
            key_text(k, arrow_type.key_type): as_sent(v, arrow_type.item_type, True)
            for k, v in value
        }
    if pt.is_struct(arrow_type):
        return {f.name: as_sent(value.get(f.name), f.type, in_json) for f in arrow_type}
    if pt.is_list(arrow_type) or pt.is_large_list(arrow_type) or pt.is_fixed_size_list(arrow_type):
        element = arrow_type.value_type
        if pt.is_struct(element) and not in_json:
            # An array of structs arrives as record[] (inside a map's jsonb, as objects):
            # psycopg gives each element as a tuple of its fields' texts, in field order.
            return [
                None if v is None else [as_sent(v.get(f.name), f.type) for f in element]
                for v in value
            ]
        return [as_sent(v, element, in_json) for v in value]
    if pt.is_float32(arrow_type):
        return float(pa.array([value], pa.float32()).cast(pa.string())[0].as_py())
    return value


def key_text(key, arrow_type):
    """A map key as Arrow casts it to text (the JSON object key the server sends)."""
    import pyarrow as pa
    import pyarrow.types as pt

    if pt.is_floating(arrow_type):
        return repr(float(key))  # Rust's float text keeps the `.0`
    return pa.array([key], type=arrow_type).cast(pa.string())[0].as_py()


def sql_name(table):
    return 'kernel_golden."' + re.sub(r"[^a-z0-9_]", "_", table.lower()) + '"'


def unpack(archive, scratch):
    subprocess.run(["tar", "--zstd", "-xf", archive, "-C", scratch], check=True)


def expected_table(folder):
    files = sorted(glob.glob(os.path.join(folder, "*.parquet")))
    return pq.read_table(files) if len(files) != 1 else pq.read_table(files[0])


def one_line_error(e):
    """'' when the exception is a server error of one line with a SQLSTATE, else what is wrong."""
    sqlstate = getattr(e, "sqlstate", None)
    text = str(e).strip()
    if not sqlstate:
        return f"not a server error: {type(e).__name__}: {text}"
    message = getattr(getattr(e, "diag", None), "message_primary", None) or text
    if "\n" in message or ".rs:" in message:
        return f"SQLSTATE {sqlstate}, message of several lines: {message[:300]}"
    return ""


def run_table(con, table, root):
    """(status, detail) for one unpacked golden table."""
    name = sql_name(table)
    delta = os.path.join(root, table, "delta")
    expected_dir = os.path.join(root, table, "expected")
    has_expected = bool(glob.glob(os.path.join(expected_dir, "*.parquet")))
    con.execute(f"DROP TABLE IF EXISTS {name}")
    try:
        con.execute(f"CREATE TABLE {name} LOCATION '{delta}'")
        cur = con.execute(f"SELECT * FROM {name}")
        names = [d.name for d in cur.description]
        rows = cur.fetchall()
    except Exception as e:
        if has_expected:
            return "FAIL", f"SQLSTATE {getattr(e, 'sqlstate', None)}: {str(e).strip()[:500]}"
        bad = one_line_error(e)
        if bad:
            return "FAIL", "unreadable as expected, but " + bad
        # The failure stays with this table: another one still answers.
        con.execute("SELECT count(*) FROM kernel_golden.healthy").fetchone()
        return "PASS", f"unreadable as expected: SQLSTATE {e.sqlstate}: {str(e).strip()}"
    if not has_expected:
        return "PASS", f"readable ({len(rows)} rows; no expected snapshot to compare)"
    expected = expected_table(expected_dir)
    exp_names, exp = arrow_rows(expected)
    if sorted(names) != sorted(exp_names):
        return "FAIL", f"columns {names} != expected {exp_names}"
    # Expected files may order the columns differently: compare by name.
    order = [exp_names.index(n) for n in names]
    types = [expected.schema.field(i).type for i in order]
    exp = [tuple(as_sent(r[i], t) for i, t in zip(order, types)) for r in exp]
    nested = nested_columns(expected.schema)
    diff = compare(norm_rows(exp, nested), norm_rows(rows, nested))
    if diff:
        return "FAIL", diff
    return "PASS", f"{len(rows)} rows equal"


def main():
    source = os.path.abspath(os.environ.get("KERNEL_GOLDEN_DIR", DEFAULT_DIR))
    scratch = tempfile.mkdtemp(prefix="kernel-golden-", dir=os.path.abspath(sys.argv[1]))
    archives = sorted(glob.glob(os.path.join(source, "*.tar.zst")))
    if not archives:
        print(f"no archives in {source}")
        return 1
    con = connect()
    con.execute("CREATE SCHEMA IF NOT EXISTS kernel_golden")
    con.execute("CREATE TABLE IF NOT EXISTS kernel_golden.healthy (id int)")
    counts = {"PASS": 0, "FAIL": 0, "KNOWN": 0}
    for archive in archives:
        table = os.path.basename(archive)[: -len(".tar.zst")]
        try:
            unpack(archive, scratch)
            status, detail = run_table(con, table, scratch)
        except Exception:
            status, detail = "FAIL", traceback.format_exc().strip()
        if table in KNOWN:
            if status == "PASS":
                detail = "listed in KNOWN but passes now: remove it from the list\n" + detail
                status = "FAIL"
            else:
                status, detail = "KNOWN", KNOWN[table] + "\n" + detail
        counts[status] += 1
        print(f"{status} {table}")
        for line in detail.splitlines()[:6]:
            print(f"     {line}")
        try:
            con.execute(f"DROP TABLE IF EXISTS {sql_name(table)}")
        except Exception:
            pass
    print(
        f"{counts['PASS']} passed, {counts['KNOWN']} known gaps, {counts['FAIL']} failed "
        f"of {len(archives)} tables"
    )
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
