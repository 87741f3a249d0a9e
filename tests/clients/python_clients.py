#!/usr/bin/env python3
"""Client compatibility checks for deltagres: Python drivers and libraries.

Each client connects to DG_HOST:DG_PORT (user `deltagres`, database `postgres`, no password),
creates its own table in its own schema (c_<client>), inserts rows with parameters (one row full,
one all NULLs but the key), reads them back checking the Python types, runs a MERGE, reads the
version before the MERGE (VERSION AS OF 1), provokes an undefined-table error (SQLSTATE 42P01) and
checks the connection still works afterwards.

    python3 python_clients.py                 # every client
    python3 python_clients.py psycopg asyncpg # only these

Prints `PASS name` or `FAIL name: [step] reason` per client; exits 1 if any failed.
"""

import asyncio
import os
import sys
import traceback
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

HOST = os.environ.get("DG_HOST", "127.0.0.1")
PORT = int(os.environ.get("DG_PORT", "5433"))
USER = "deltagres"
DB = "postgres"

ROW1 = (1, "alice", Decimal("10.50"), date(2024, 1, 15), datetime(2024, 1, 15, 10, 30, 45))
ROW2 = (2, None, None, None, None)
# After the MERGE: id 2 updated, id 3 inserted (d and ts stay NULL).
AFTER_MERGE = [
    ROW1,
    (2, "bob", Decimal("20.25"), None, None),
    (3, "carol", Decimal("30.00"), None, None),
]
# VERSION AS OF 1 is the table right after the single INSERT (version 0 is CREATE TABLE).
BEFORE_MERGE = [(1, "alice"), (2, None)]

DDL = "CREATE TABLE {s}.t (id BIGINT NOT NULL, name TEXT, amount DECIMAL(12,2), d DATE, ts TIMESTAMP)"
MERGE = (
    "MERGE INTO {s}.t AS t USING (VALUES (2, 'bob', 20.25), (3, 'carol', 30.00)) AS src (id, name, amount) "
    "ON t.id = src.id "
    "WHEN MATCHED THEN UPDATE SET name = src.name, amount = src.amount "
    "WHEN NOT MATCHED THEN INSERT (id, name, amount) VALUES (src.id, src.name, src.amount)"
)
SELECT_ALL = "SELECT id, name, amount, d, ts FROM {s}.t WHERE id >= {p} ORDER BY id"
TIME_TRAVEL = "SELECT id, name FROM {s}.t VERSION AS OF 1 WHERE id >= {p} ORDER BY id"
MISSING = "SELECT * FROM {s}.no_such_table"

# List, struct and map columns of a Delta table (what Spark writes as ARRAY, STRUCT, MAP,
# ARRAY<ARRAY> and ARRAY<STRUCT>), read back through each driver. The oracle is PostgreSQL 15
# (PG_PORT): the same values typed as the server sends them (arrays, records, jsonb) must decode
# to the same native values of the same Python types through the same driver.
PG_PORT = os.environ.get("PG_PORT")
PG_USER = os.environ.get("PG_USER", "tester")
NESTED_TABLE = (
    "CREATE TABLE {s}.nest AS SELECT ['a', 'b c'] AS tags, [1, 2] AS nums, "
    "named_struct('x', 1, 'y', 'p q') AS point, map(['k'], [1]) AS attrs, [[1, 2], [3]] AS grid, "
    "[named_struct('n', 1, 's', 'a'), named_struct('n', 2, 's', 'b')] AS items"
)
NESTED_SELECT = "SELECT tags, nums, point, attrs, grid, items FROM {s}.nest"
NESTED_PG = (
    "SELECT ARRAY['a', 'b c'] AS tags, ARRAY[1, 2]::int8[] AS nums, "
    "ROW(1::int8, 'p q'::text) AS point, '{\"k\": 1}'::jsonb AS attrs, "
    "'[[1, 2], [3]]'::jsonb AS grid, ARRAY[ROW(1::int8, 'a'::text), ROW(2::int8, 'b'::text)] AS items"
)

STEP = ["start"]


def step(name):
    STEP[0] = name


def setup_sql(schema):
    return [
        f"CREATE SCHEMA IF NOT EXISTS {schema}",
        f"DROP TABLE IF EXISTS {schema}.t",
        DDL.format(s=schema),
    ]


def check_value(got, exp, where):
    if exp is None:
        assert got is None, f"{where}: expected None, got {got!r}"
        return
    assert type(got) is type(exp), f"{where}: expected {type(exp).__name__} {exp!r}, got {type(got).__name__} {got!r}"
    assert got == exp, f"{where}: expected {exp!r}, got {got!r}"
    if isinstance(exp, Decimal):
        assert str(got) == str(exp), f"{where}: expected scale of {exp!r}, got {got!r}"


def check_rows(rows, expected, what):
    rows = [tuple(r) for r in rows]
    assert len(rows) == len(expected), f"{what}: expected {len(expected)} rows, got {len(rows)}: {rows!r}"
    for i, (r, e) in enumerate(zip(rows, expected)):
        assert len(r) == len(e), f"{what}: row {i} has {len(r)} columns, expected {len(e)}"
        for j, (g, x) in enumerate(zip(r, e)):
            check_value(g, x, f"{what} row {i} col {j}")


def describe(e, sql_chars=160):
    """One line for an exception; SQLAlchemy errors shortened to driver error, SQLSTATE, start of SQL."""
    orig = getattr(e, "orig", None)
    if orig is not None and getattr(e, "statement", None):
        sql = " ".join(e.statement.split())
        sql = sql if len(sql) <= sql_chars else sql[:sql_chars] + "..."
        code = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
        msg = f"{type(e).__name__}/{type(orig).__name__} (SQLSTATE {code}): {orig} [SQL: {sql}]"
    else:
        msg = f"{type(e).__name__}: {e}"
    return " ".join(msg.split())


def nested_setup(schema):
    return [f"DROP TABLE IF EXISTS {schema}.nest", NESTED_TABLE.format(s=schema)]


def check_nested(ours, theirs, what, native=None):
    """ours: the nested row read from deltagres; theirs: NESTED_PG's row from PostgreSQL through
    the same driver. native: the Python types the driver is known to give, checked as well."""
    assert PG_PORT, "PG_PORT is not set: the nested check compares with PostgreSQL 15"
    ours, theirs = tuple(ours), tuple(theirs)
    for i, (g, x) in enumerate(zip(ours, theirs)):
        where = f"{what} col {i}"
        assert type(g) is type(x), f"{where}: PostgreSQL gives {type(x).__name__} {x!r}, got {type(g).__name__} {g!r}"
        assert g == x, f"{where}: PostgreSQL gives {x!r}, got {g!r}"
    assert len(ours) == len(theirs) == 6, f"{what}: {ours!r} vs {theirs!r}"
    if native:
        got = tuple(type(v) for v in ours)
        assert got == native, f"{what}: types {got} != {native}"


def check_sqlstate(code, what="missing table"):
    assert code == "42P01", f"{what}: expected SQLSTATE 42P01, got {code!r}"


# --------------------------------------------------------------------------------------------
# psycopg 3


def _psycopg(binary):
    import psycopg

    schema = "c_psycopg_bin" if binary else "c_psycopg_text"
    ph = "%b" if binary else "%t"  # force the parameter format too
    step("connect")
    with psycopg.connect(host=HOST, port=PORT, user=USER, dbname=DB, autocommit=True) as conn:
        cur = conn.cursor(binary=binary)
        step("setup")
        for sql in setup_sql(schema):
            cur.execute(sql)
        step("insert with parameters")
        cur.execute(
            f"INSERT INTO {schema}.t (id, name, amount, d, ts) VALUES "
            f"({ph}, {ph}, {ph}, {ph}, {ph}), ({ph}, {ph}, {ph}, {ph}, {ph})",
            ROW1 + ROW2,
        )
        assert cur.rowcount == 2, f"insert rowcount {cur.rowcount}"
        step("select")
        cur.execute(SELECT_ALL.format(s=schema, p=ph), (0,))
        if binary:
            assert cur.pgresult.fformat(0) == 1, "results not in binary format"
        check_rows(cur.fetchall(), [ROW1, ROW2], "select")
        step("merge")
        cur.execute(MERGE.format(s=schema))
        assert cur.rowcount == 2, f"merge rowcount {cur.rowcount} (status {cur.statusmessage!r})"
        cur.execute(SELECT_ALL.format(s=schema, p=ph), (0,))
        check_rows(cur.fetchall(), AFTER_MERGE, "after merge")
        step("time travel")
        cur.execute(TIME_TRAVEL.format(s=schema, p=ph), (0,))
        check_rows(cur.fetchall(), BEFORE_MERGE, "version as of 1")
        step("error")
        try:
            cur.execute(MISSING.format(s=schema))
            raise AssertionError("missing table did not raise")
        except psycopg.errors.UndefinedTable as e:
            check_sqlstate(e.sqlstate)
        except psycopg.Error as e:
            check_sqlstate(e.sqlstate)
        step("after error")
        cur.execute(f"SELECT count(*) FROM {schema}.t WHERE id > {ph}", (1,))
        check_rows(cur.fetchall(), [(2,)], "after error")
        step("nested columns")
        for sql in nested_setup(schema):
            cur.execute(sql)
        ours = cur.execute(NESTED_SELECT.format(s=schema)).fetchone()
        step("typed parameters")
        ours_typed = typed_parameter_answers(conn, binary, schema)
    with psycopg.connect(host="127.0.0.1", port=PG_PORT, user=PG_USER, dbname=DB, autocommit=True) as pg:
        theirs = pg.cursor(binary=binary).execute(NESTED_PG).fetchone()
        pg.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        theirs_typed = typed_parameter_answers(pg, binary, schema)
    check_typed_parameters(ours_typed, theirs_typed, "typed parameters")
    # Lists, records as tuples (typed fields in binary, texts in text format), jsonb as dict/list.
    check_nested(ours, theirs, "nested", (list, list, tuple, dict, list, list))


# Parameters psycopg declares with their PostgreSQL types (numeric, timestamptz, timestamp,
# interval, time, bytea, arrays), used where nothing else types them: each statement's answer
# (values and result type OIDs) must be PostgreSQL's. A numeric was read as the type inferred
# from the other operand (`1.25 * 2` was 2), a timestamptz lost its zone, and the binary forms
# of an interval, time, bytea or array came back as their raw bytes in a text.
TYPED_PARAMETERS = [
    ("SELECT {p} * 2", (Decimal("1.25"),)),
    ("SELECT {p} + 1", (Decimal("0.5"),)),
    ("SELECT {p}", (datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=9))),)),
    ("SELECT {p}::text", (datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=9))),)),
    ("SELECT {p}, {p}::text", (datetime(2024, 1, 2, 3, 4, 5, 250000), datetime(2024, 1, 2))),
    ("SELECT {p} + interval '1 hour'", (datetime(2024, 1, 2, 3, 4, 5),)),
    ("SELECT {p}", (timedelta(days=1, seconds=5),)),
    ("SELECT {p}", (time(10, 30, 15),)),
    ("SELECT {p}", (b"\x00\xff",)),
    ("SELECT {p}, {p}", ([1, 2, 3], ["a", None])),
    ("INSERT INTO {s}.pt VALUES ({p}, {p}, {p}, {p}, {p})",
     (1, Decimal("12.345"), datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc), datetime(2024, 5, 6, 7, 8, 9), b"\x01")),
    ("UPDATE {s}.pt SET n = n + {p} WHERE tz = {p}", (Decimal("0.5"), datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc))),
    ("SELECT id, n, tz, ts, b FROM {s}.pt WHERE n > {p} AND ts >= {p}", (Decimal("12.5"), datetime(2024, 5, 6))),
]
TYPED_TABLE = "CREATE TABLE {s}.pt (id INT, n NUMERIC(10, 2), tz TIMESTAMPTZ, ts TIMESTAMP, b BYTEA)"


def typed_parameter_answers(conn, binary, schema):
    ph = "%b" if binary else "%t"
    cur = conn.cursor(binary=binary)
    cur.execute(f"DROP TABLE IF EXISTS {schema}.pt")
    cur.execute(TYPED_TABLE.format(s=schema))
    answers = []
    for sql, params in TYPED_PARAMETERS:
        cur.execute(sql.format(p=ph, s=schema), params)
        if cur.description is None:
            answers.append((sql, cur.rowcount))
        else:
            answers.append((sql, [d.type_code for d in cur.description], cur.fetchall()))
    return answers


def check_typed_parameters(ours, theirs, what):
    for o, t in zip(ours, theirs):
        assert o == t, f"{what}: {t[0]}: PostgreSQL answers {t[1:]!r}, got {o[1:]!r}"
    assert len(ours) == len(theirs) == len(TYPED_PARAMETERS)


def psycopg_binary():
    _psycopg(True)


def psycopg_text():
    _psycopg(False)


# --------------------------------------------------------------------------------------------
# psycopg2 (client-side parameter interpolation, simple protocol, implicit transactions)


def psycopg2_client():
    import psycopg2
    import psycopg2.errors

    schema = "c_psycopg2"
    step("connect")
    conn = psycopg2.connect(host=HOST, port=PORT, user=USER, dbname=DB)
    try:
        cur = conn.cursor()
        step("setup")
        for sql in setup_sql(schema):
            cur.execute(sql)
        conn.commit()
        step("insert with parameters")
        cur.execute(
            f"INSERT INTO {schema}.t (id, name, amount, d, ts) VALUES (%s, %s, %s, %s, %s), (%s, %s, %s, %s, %s)",
            ROW1 + ROW2,
        )
        assert cur.rowcount == 2, f"insert rowcount {cur.rowcount}"
        conn.commit()
        step("select")
        cur.execute(SELECT_ALL.format(s=schema, p="%s"), (0,))
        check_rows(cur.fetchall(), [ROW1, ROW2], "select")
        step("merge")
        cur.execute(MERGE.format(s=schema))
        assert cur.rowcount == 2, f"merge rowcount {cur.rowcount} (status {cur.statusmessage!r})"
        conn.commit()
        cur.execute(SELECT_ALL.format(s=schema, p="%s"), (0,))
        check_rows(cur.fetchall(), AFTER_MERGE, "after merge")
        step("time travel")
        cur.execute(TIME_TRAVEL.format(s=schema, p="%s"), (0,))
        check_rows(cur.fetchall(), BEFORE_MERGE, "version as of 1")
        conn.commit()
        step("error")
        try:
            cur.execute(MISSING.format(s=schema))
            raise AssertionError("missing table did not raise")
        except psycopg2.Error as e:
            check_sqlstate(e.pgcode)
        conn.rollback()
        step("after error")
        cur.execute(f"SELECT count(*) FROM {schema}.t WHERE id > %s", (1,))
        check_rows(cur.fetchall(), [(2,)], "after error")
        conn.commit()
        step("nested columns")
        for sql in nested_setup(schema):
            cur.execute(sql)
        conn.commit()
        cur.execute(NESTED_SELECT.format(s=schema))
        ours = cur.fetchone()
        conn.commit()
    finally:
        conn.close()
    pg = psycopg2.connect(host="127.0.0.1", port=PG_PORT, user=PG_USER, dbname=DB)
    try:
        cur = pg.cursor()
        cur.execute(NESTED_PG)
        theirs = cur.fetchone()
    finally:
        pg.close()
    # psycopg2 has no parser for anonymous records: their text, as PostgreSQL gives it.
    check_nested(ours, theirs, "nested", (list, list, str, dict, list, str))


# --------------------------------------------------------------------------------------------
# asyncpg (extended protocol, prepared statements, binary everywhere, typed parameters)


def asyncpg_client():
    import asyncpg

    schema = "c_asyncpg"

    async def run():
        step("connect")
        conn = await asyncpg.connect(host=HOST, port=PORT, user=USER, database=DB)
        try:
            step("setup")
            for sql in setup_sql(schema):
                await conn.execute(sql)
            step("insert with parameters")
            status = await conn.execute(
                f"INSERT INTO {schema}.t (id, name, amount, d, ts) VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10)",
                *(ROW1 + ROW2),
            )
            assert status == "INSERT 0 2", f"insert status {status!r}"
            step("select")
            rows = await conn.fetch(SELECT_ALL.format(s=schema, p="$1"), 0)
            check_rows(rows, [ROW1, ROW2], "select")
            step("merge")
            status = await conn.execute(MERGE.format(s=schema))
            assert status == "MERGE 2", f"merge status {status!r}"
            rows = await conn.fetch(SELECT_ALL.format(s=schema, p="$1"), 0)
            check_rows(rows, AFTER_MERGE, "after merge")
            step("time travel")
            rows = await conn.fetch(TIME_TRAVEL.format(s=schema, p="$1"), 0)
            check_rows(rows, BEFORE_MERGE, "version as of 1")
            step("error")
            try:
                await conn.fetch(MISSING.format(s=schema))
                raise AssertionError("missing table did not raise")
            except asyncpg.PostgresError as e:
                check_sqlstate(e.sqlstate)
            step("after error")
            n = await conn.fetchval(f"SELECT count(*) FROM {schema}.t WHERE id > $1", 1)
            check_value(n, 2, "after error")
            step("nested columns")
            for sql in nested_setup(schema):
                await conn.execute(sql)
            # A bigint[] column makes asyncpg look the type up in pg_type (its introspection).
            ours = await conn.fetchrow(NESTED_SELECT.format(s=schema))
        finally:
            await conn.close()
        pg = await asyncpg.connect(host="127.0.0.1", port=PG_PORT, user=PG_USER, database=DB)
        try:
            theirs = await pg.fetchrow(NESTED_PG)
        finally:
            await pg.close()
        plain = lambda v: [plain(x) for x in v] if isinstance(v, list) else (  # noqa: E731
            tuple(v) if isinstance(v, asyncpg.Record) else v
        )
        # Records as asyncpg.Record (typed fields), jsonb as its text (asyncpg's default).
        check_nested([plain(v) for v in ours], [plain(v) for v in theirs], "nested", (list, list, tuple, str, str, list))

    asyncio.run(run())


# --------------------------------------------------------------------------------------------
# pg8000 (pure Python, extended protocol with text parameters)


def pg8000_client():
    import pg8000.dbapi

    schema = "c_pg8000"
    step("connect")
    conn = pg8000.dbapi.connect(user=USER, host=HOST, port=PORT, database=DB)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        step("setup")
        for sql in setup_sql(schema):
            cur.execute(sql)
        step("insert with parameters")
        cur.execute(
            f"INSERT INTO {schema}.t (id, name, amount, d, ts) VALUES (%s, %s, %s, %s, %s), (%s, %s, %s, %s, %s)",
            ROW1 + ROW2,
        )
        assert cur.rowcount == 2, f"insert rowcount {cur.rowcount}"
        step("select")
        cur.execute(SELECT_ALL.format(s=schema, p="%s"), (0,))
        check_rows(cur.fetchall(), [ROW1, ROW2], "select")
        step("merge")
        cur.execute(MERGE.format(s=schema))
        assert cur.rowcount == 2, f"merge rowcount {cur.rowcount}"
        cur.execute(SELECT_ALL.format(s=schema, p="%s"), (0,))
        check_rows(cur.fetchall(), AFTER_MERGE, "after merge")
        step("time travel")
        cur.execute(TIME_TRAVEL.format(s=schema, p="%s"), (0,))
        check_rows(cur.fetchall(), BEFORE_MERGE, "version as of 1")
        step("error")
        try:
            cur.execute(MISSING.format(s=schema))
            raise AssertionError("missing table did not raise")
        except pg8000.dbapi.DatabaseError as e:
            info = e.args[0] if e.args and isinstance(e.args[0], dict) else {}
            check_sqlstate(info.get("C"))
        step("after error")
        cur.execute(f"SELECT count(*) FROM {schema}.t WHERE id > %s", (1,))
        check_rows(cur.fetchall(), [(2,)], "after error")
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------
# SQLAlchemy (psycopg2 dialect) and its inspector


def _engine():
    import sqlalchemy

    return sqlalchemy.create_engine(f"postgresql+psycopg2://{USER}@{HOST}:{PORT}/{DB}")


def sqlalchemy_client():
    import sqlalchemy
    from sqlalchemy import inspect, text
    from sqlalchemy.dialects import postgresql as pgt

    schema = "c_sqlalchemy"
    step("connect")
    engine = _engine()
    try:
        with engine.begin() as conn:
            step("setup")
            for sql in setup_sql(schema):
                conn.execute(text(sql))
        cols5 = ["id", "name", "amount", "d", "ts"]
        with engine.begin() as conn:
            step("insert with parameters")
            res = conn.execute(
                text(
                    f"INSERT INTO {schema}.t (id, name, amount, d, ts) "
                    "VALUES (:a_id, :a_name, :a_amount, :a_d, :a_ts), (:b_id, :b_name, :b_amount, :b_d, :b_ts)"
                ),
                {**{f"a_{k}": v for k, v in zip(cols5, ROW1)}, **{f"b_{k}": v for k, v in zip(cols5, ROW2)}},
            )
            assert res.rowcount == 2, f"insert rowcount {res.rowcount}"
        with engine.connect() as conn:
            step("select")
            rows = conn.execute(text(SELECT_ALL.format(s=schema, p=":m")), {"m": 0}).all()
            check_rows(rows, [ROW1, ROW2], "select")
        with engine.begin() as conn:
            step("merge")
            res = conn.execute(text(MERGE.format(s=schema)))
            assert res.rowcount == 2, f"merge rowcount {res.rowcount}"
        with engine.connect() as conn:
            rows = conn.execute(text(SELECT_ALL.format(s=schema, p=":m")), {"m": 0}).all()
            check_rows(rows, AFTER_MERGE, "after merge")
            step("time travel")
            rows = conn.execute(text(TIME_TRAVEL.format(s=schema, p=":m")), {"m": 0}).all()
            check_rows(rows, BEFORE_MERGE, "version as of 1")
            step("error")
            try:
                conn.execute(text(MISSING.format(s=schema)))
                raise AssertionError("missing table did not raise")
            except sqlalchemy.exc.DBAPIError as e:
                check_sqlstate(getattr(e.orig, "pgcode", None))
            conn.rollback()
            step("after error")
            n = conn.execute(text(f"SELECT count(*) FROM {schema}.t WHERE id > :m"), {"m": 1}).scalar_one()
            check_value(n, 2, "after error")
        # The inspector last, each method on its own so one failure does not hide the others.
        insp = inspect(engine)
        problems = []

        def inspector_check(name, fn):
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                problems.append(f"[inspector.{name}] {describe(e)}")

        def schemas():
            got = insp.get_schema_names()
            assert schema in got, f"{schema} not in get_schema_names(): {got!r}"

        def tables():
            got = insp.get_table_names(schema=schema)
            assert got == ["t"], f"get_table_names({schema}) = {got!r}"

        def columns():
            cols = insp.get_columns("t", schema=schema)
            names = [c["name"] for c in cols]
            assert names == ["id", "name", "amount", "d", "ts"], f"column names {names!r}"
            want = [pgt.BIGINT, pgt.TEXT, pgt.NUMERIC, pgt.DATE, pgt.TIMESTAMP]
            for c, w in zip(cols, want):
                assert isinstance(c["type"], w), f"column {c['name']}: type {c['type']!r}, expected {w.__name__}"
            amount = cols[2]["type"]
            assert (amount.precision, amount.scale) == (12, 2), f"amount type {amount!r}"
            assert cols[0]["nullable"] is False, f"id nullable {cols[0]['nullable']!r}"
            assert cols[1]["nullable"] is True, f"name nullable {cols[1]['nullable']!r}"

        inspector_check("get_schema_names", schemas)
        inspector_check("get_table_names", tables)
        inspector_check("get_columns", columns)
        step("inspector")
        assert not problems, "; ".join(problems)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------
# pandas: to_sql (append, one multi-row INSERT) and read_sql through SQLAlchemy


def pandas_client():
    import pandas as pd
    import sqlalchemy
    from sqlalchemy import text

    schema = "c_pandas"
    step("connect")
    engine = _engine()
    try:
        with engine.begin() as conn:
            step("setup")
            for sql in setup_sql(schema):
                conn.execute(text(sql))
        step("to_sql")
        df = pd.DataFrame(
            {
                "id": [ROW1[0], ROW2[0]],
                "name": [ROW1[1], ROW2[1]],
                "amount": [ROW1[2], ROW2[2]],
                "d": [ROW1[3], ROW2[3]],
                "ts": pd.to_datetime([ROW1[4], ROW2[4]]),
            }
        )
        n = df.to_sql("t", engine, schema=schema, if_exists="append", index=False, method="multi")
        assert n in (2, None), f"to_sql returned {n!r}"

        def read(sql, **params):
            with engine.connect() as conn:
                return pd.read_sql(text(sql), conn, params=params or None)

        step("read_sql")
        out = read(f"SELECT id, name, amount, d, ts FROM {schema}.t WHERE id >= :m ORDER BY id", m=0)
        dt = {k: str(v) for k, v in out.dtypes.items()}
        assert dt["id"] == "int64", f"id dtype {dt['id']}"
        assert dt["name"] == "object", f"name dtype {dt['name']}"
        assert dt["amount"] in ("object", "float64"), f"amount dtype {dt['amount']}"
        assert dt["ts"].startswith("datetime64"), f"ts dtype {dt['ts']}"
        assert out["id"].tolist() == [1, 2], f"ids {out['id'].tolist()}"
        assert out["name"][0] == "alice" and out["name"][1] is None, f"names {out['name'].tolist()}"
        assert Decimal(str(out["amount"][0])) == ROW1[2] and pd.isna(out["amount"][1]), f"amounts {out['amount'].tolist()}"
        assert out["d"][0] == ROW1[3] and pd.isna(out["d"][1]), f"dates {out['d'].tolist()}"
        assert out["ts"][0] == pd.Timestamp(ROW1[4]) and pd.isna(out["ts"][1]), f"timestamps {out['ts'].tolist()}"
        step("merge")
        with engine.begin() as conn:
            conn.execute(text(MERGE.format(s=schema)))
        out = read(f"SELECT id, name, amount FROM {schema}.t ORDER BY id")
        assert out["id"].tolist() == [1, 2, 3], f"ids after merge {out['id'].tolist()}"
        assert out["name"].tolist() == ["alice", "bob", "carol"], f"names after merge {out['name'].tolist()}"
        assert [Decimal(str(a)) for a in out["amount"]] == [r[2] for r in AFTER_MERGE], f"amounts {out['amount'].tolist()}"
        step("time travel")
        out = read(f"SELECT id, name FROM {schema}.t VERSION AS OF 1 WHERE id >= :m ORDER BY id", m=0)
        assert out["id"].tolist() == [1, 2] and out["name"][0] == "alice" and out["name"][1] is None, f"version 1: {out.to_dict('list')}"
        step("error")
        try:
            read(MISSING.format(s=schema))
            raise AssertionError("missing table did not raise")
        except (sqlalchemy.exc.DBAPIError, pd.errors.DatabaseError) as e:
            orig = getattr(e, "orig", None) or e.__cause__
            check_sqlstate(getattr(orig, "pgcode", None))
        step("after error")
        out = read(f"SELECT count(*) AS n FROM {schema}.t WHERE id > :m", m=1)
        assert out["n"].tolist() == [2], f"after error {out.to_dict('list')}"
    finally:
        engine.dispose()


CLIENTS = {
    "psycopg": psycopg_text,  # psycopg 3, text parameters and results
    "psycopg-binary": psycopg_binary,  # psycopg 3, binary parameters and results
    "psycopg2": psycopg2_client,
    "asyncpg": asyncpg_client,
    "pg8000": pg8000_client,
    "sqlalchemy": sqlalchemy_client,
    "pandas": pandas_client,
}


def main(argv):
    verbose = "-v" in argv
    names = [a for a in argv if a != "-v"] or list(CLIENTS)
    unknown = [n for n in names if n not in CLIENTS]
    if unknown:
        print(f"unknown client(s): {', '.join(unknown)}; choose from {', '.join(CLIENTS)}", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        step("start")
        try:
            CLIENTS[name]()
            print(f"PASS {name}", flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure the same way
            failed += 1
            print(f"FAIL {name}: [{STEP[0]}] {describe(e)}", flush=True)
            if verbose:
                traceback.print_exc()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
