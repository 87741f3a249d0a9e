"""Shared helpers of the Delta interop checks (golden.py, duckdb_reads.py).

Rows are compared as multisets after normalising every value to a plain, hashable form, so the
result of `SELECT *` over the wire (psycopg types) can be compared with what an independent reader
returns (pyarrow's `to_pylist()` from the `deltalake` package or from DuckDB).
"""

import collections
import datetime
import decimal
import glob
import json
import math
import os

import psycopg

FLOAT_DIGITS = 12  # floats are compared after rounding to this many significant digits


def connect():
    """A connection to the deltagres server named by DG_HOST / DG_PORT (autocommit)."""
    return psycopg.connect(
        host=os.environ.get("DG_HOST", "127.0.0.1"),
        port=int(os.environ.get("DG_PORT", "5433")),
        user=os.environ.get("DG_USER", "deltagres"),
        dbname=os.environ.get("DG_DBNAME", "postgres"),
        autocommit=True,
    )


def norm(v):
    """A hashable canonical form of one value."""
    if v is None:
        return None
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int):
        return ("num", decimal.Decimal(v).normalize())
    if isinstance(v, decimal.Decimal):
        if v.is_nan():
            return ("float", "nan")
        return ("num", v.normalize())
    if isinstance(v, float):
        if math.isnan(v):
            return ("float", "nan")
        if math.isinf(v):
            return ("float", "inf" if v > 0 else "-inf")
        if v == int(v) and abs(v) < 2**53:
            # 3.0 from one reader and 3 from another is the same number
            return ("num", decimal.Decimal(int(v)).normalize())
        return ("float", float(f"{v:.{FLOAT_DIGITS}g}"))
    if isinstance(v, datetime.datetime):
        # tz-aware values compare in UTC; naive values are taken as UTC already
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return ("ts", v.isoformat())
    if isinstance(v, datetime.date):
        return ("date", v.isoformat())
    if isinstance(v, datetime.time):
        return ("time", v.replace(tzinfo=None).isoformat())
    if isinstance(v, datetime.timedelta):
        return ("interval", v.total_seconds())
    if isinstance(v, (bytes, bytearray, memoryview)):
        return ("bytes", bytes(v).hex())
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple, dict)):
        return ("nested", nested_json(v))
    return ("other", str(v))


def _plain(v):
    """A JSON-able form of a nested value (maps from pyarrow arrive as lists of pairs)."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    n = norm(v)
    if isinstance(n, tuple):
        return str(n[1])
    return n


def nested_json(v):
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            return v
    return json.dumps(_plain(v), sort_keys=True)


def norm_rows(rows, nested_cols=()):
    """rows: iterable of tuples. Columns in nested_cols are compared as canonical JSON (the server
    may send a nested value as text)."""
    out = []
    for r in rows:
        out.append(
            tuple(
                ("nested", nested_json(v)) if i in nested_cols and v is not None else norm(v)
                for i, v in enumerate(r)
            )
        )
    return out


def arrow_rows(table):
    """(column names, list of row tuples) of a pyarrow table."""
    names = table.column_names
    cols = [table.column(n).to_pylist() for n in names]
    return names, list(zip(*cols)) if cols else []


def nested_columns(arrow_schema):
    import pyarrow.types as pt

    return {
        i
        for i, f in enumerate(arrow_schema)
        if pt.is_nested(f.type)
    }


def compare(expected, got, limit=5):
    """Multiset difference of two lists of normalised rows: '' when equal, else a description."""
    e, g = collections.Counter(expected), collections.Counter(got)
    if e == g:
        return ""
    missing = list((e - g).elements())
    extra = list((g - e).elements())
    msg = [f"expected {len(expected)} rows, got {len(got)}"]
    if missing:
        msg.append(f"  missing ({len(missing)}): " + "; ".join(map(repr, missing[:limit])))
    if extra:
        msg.append(f"  unexpected ({len(extra)}): " + "; ".join(map(repr, extra[:limit])))
    return "\n".join(msg)


def duckdb_connect():
    """A DuckDB connection with the delta extension loaded from the duckdb-extension-delta package
    (no network). None when duckdb or the package is missing."""
    try:
        import duckdb
        import duckdb_extension_delta
    except ImportError:
        return None
    base = os.path.dirname(duckdb_extension_delta.__file__)
    found = sorted(glob.glob(os.path.join(base, "extensions", "*", "delta.duckdb_extension")))
    if not found:
        raise RuntimeError(f"no delta.duckdb_extension under {base}")
    con = duckdb.connect(config={"allow_unsigned_extensions": "true", "autoinstall_known_extensions": "false"})
    con.execute(f"LOAD '{found[-1]}'")
    return con


def duckdb_read(con, path):
    """pyarrow table of delta_scan(path)."""
    rel = con.execute("SELECT * FROM delta_scan(?)", [path])
    return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.fetch_arrow_table()
