// Client compatibility checks for deltagres: node-postgres (`pg`) and postgres.js (`postgres`).
//
// Same checks as ../python_clients.py: own schema and table, parameterized INSERT with NULLs,
// read back (values and the type OIDs the server reports), MERGE, VERSION AS OF, undefined table
// error (42P01) and the connection still usable afterwards.
//
//   DG_HOST=127.0.0.1 DG_PORT=5433 node clients.mjs [pg|postgres ...]
//
// Prints `PASS name` / `FAIL name: [step] reason`; exits 1 if any failed.

process.env.TZ = 'UTC' // date/timestamp values come back as JS Dates in local time

import assert from 'node:assert/strict'
import pg from 'pg'
import postgres from 'postgres'

const HOST = process.env.DG_HOST || '127.0.0.1'
const PORT = Number(process.env.DG_PORT || 5433)
const USER = 'deltagres'
const DB = 'postgres'

// Type OIDs the server must report for (id, name, amount, d, ts).
const OIDS = [20, 25, 1700, 1082, 1114]
const TS = new Date(Date.UTC(2024, 0, 15, 10, 30, 45))
const D = new Date(Date.UTC(2024, 0, 15))
// Both drivers return int8 and numeric as strings, date/timestamp as Dates by default.
const ROW1 = ['1', 'alice', '10.50', D, TS]
const ROW2 = ['2', null, null, null, null]
const AFTER_MERGE = [ROW1, ['2', 'bob', '20.25', null, null], ['3', 'carol', '30.00', null, null]]
const BEFORE_MERGE = [['1', 'alice'], ['2', null]]

const ddl = (s) => [
  `CREATE SCHEMA IF NOT EXISTS ${s}`,
  `DROP TABLE IF EXISTS ${s}.t`,
  `CREATE TABLE ${s}.t (id BIGINT NOT NULL, name TEXT, amount DECIMAL(12,2), d DATE, ts TIMESTAMP)`,
]
const merge = (s) =>
  `MERGE INTO ${s}.t AS t USING (VALUES (2, 'bob', 20.25), (3, 'carol', 30.00)) AS src (id, name, amount) ` +
  'ON t.id = src.id ' +
  'WHEN MATCHED THEN UPDATE SET name = src.name, amount = src.amount ' +
  'WHEN NOT MATCHED THEN INSERT (id, name, amount) VALUES (src.id, src.name, src.amount)'
// Insert parameters: strings for int8/numeric (exact), Dates for date/timestamp.
const PARAMS = [1, 'alice', '10.50', '2024-01-15', TS, 2, null, null, null, null]

// List, struct and map columns of a Delta table (Spark's ARRAY, STRUCT, MAP, ARRAY<ARRAY>,
// ARRAY<STRUCT>), and the same values typed as the server sends them, asked of PostgreSQL 15
// (PG_PORT, the oracle): each driver must make the same JS values of both.
const PG_PORT = process.env.PG_PORT ? Number(process.env.PG_PORT) : null
const PG_USER = process.env.PG_USER || 'tester'
const nestedDdl = (s) => [
  `DROP TABLE IF EXISTS ${s}.nest`,
  `CREATE TABLE ${s}.nest AS SELECT ['a', 'b c'] AS tags, [1, 2] AS nums, ` +
    "named_struct('x', 1, 'y', 'p q') AS point, map(['k'], [1]) AS attrs, [[1, 2], [3]] AS grid, " +
    "[named_struct('n', 1, 's', 'a'), named_struct('n', 2, 's', 'b')] AS items",
]
const nestedSelect = (s) => `SELECT tags, nums, point, attrs, grid, items FROM ${s}.nest`
const NESTED_PG =
  "SELECT ARRAY['a', 'b c'] AS tags, ARRAY[1, 2]::int8[] AS nums, ROW(1::int8, 'p q'::text) AS point, " +
  `'{"k": 1}'::jsonb AS attrs, '[[1, 2], [3]]'::jsonb AS grid, ` +
  "ARRAY[ROW(1::int8, 'a'::text), ROW(2::int8, 'b'::text)] AS items"

function checkNested(ours, theirs, native) {
  assert.ok(PG_PORT, 'PG_PORT is not set: the nested check compares with PostgreSQL 15')
  assert.deepStrictEqual(ours, theirs, `nested: PostgreSQL gives ${JSON.stringify(theirs)}, got ${JSON.stringify(ours)}`)
  // The native JS values: arrays as arrays, jsonb as objects (records stay text in both drivers).
  assert.deepStrictEqual(ours, native, `nested: ${JSON.stringify(ours)}`)
}
const NESTED_NATIVE = [['a', 'b c'], ['1', '2'], '(1,"p q")', { k: 1 }, [[1, 2], [3]], '{"(1,a)","(2,b)"}']

let STEP = 'start'
const step = (s) => { STEP = s }

function checkRows(rows, expected, what) {
  assert.equal(rows.length, expected.length, `${what}: expected ${expected.length} rows, got ${JSON.stringify(rows)}`)
  rows.forEach((row, i) => {
    expected[i].forEach((exp, j) => {
      const got = row[j]
      const where = `${what} row ${i} col ${j}`
      if (exp === null) assert.equal(got, null, `${where}: expected null, got ${JSON.stringify(got)}`)
      else if (exp instanceof Date) {
        assert.ok(got instanceof Date, `${where}: expected a Date, got ${typeof got} ${JSON.stringify(got)}`)
        assert.equal(got.getTime(), exp.getTime(), `${where}: expected ${exp.toISOString()}, got ${got.toISOString()}`)
      } else {
        assert.equal(typeof got, typeof exp, `${where}: expected ${typeof exp} ${JSON.stringify(exp)}, got ${typeof got} ${JSON.stringify(got)}`)
        assert.equal(got, exp, `${where}`)
      }
    })
  })
}

// ------------------------------------------------------------------------------------------------
// node-postgres: unnamed extended-protocol statements, parameters untyped (OID 0) in text format.

async function pgClient() {
  const s = 'c_node_pg'
  step('connect')
  const client = new pg.Client({ host: HOST, port: PORT, user: USER, database: DB })
  await client.connect()
  try {
    step('setup')
    for (const q of ddl(s)) await client.query(q)
    step('insert with parameters')
    let r = await client.query(
      `INSERT INTO ${s}.t (id, name, amount, d, ts) VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10)`, PARAMS)
    assert.equal(r.rowCount, 2, `insert rowCount ${r.rowCount}`)
    step('select')
    r = await client.query({ text: `SELECT id, name, amount, d, ts FROM ${s}.t WHERE id >= $1 ORDER BY id`, values: [0], rowMode: 'array' })
    assert.deepEqual(r.fields.map((f) => f.dataTypeID), OIDS, 'column type OIDs')
    checkRows(r.rows, [ROW1, ROW2], 'select')
    step('merge')
    r = await client.query(merge(s))
    assert.equal(r.command, 'MERGE', `merge command ${r.command}`)
    assert.equal(r.rowCount, 2, `merge rowCount ${r.rowCount}`)
    r = await client.query({ text: `SELECT id, name, amount, d, ts FROM ${s}.t WHERE id >= $1 ORDER BY id`, values: [0], rowMode: 'array' })
    checkRows(r.rows, AFTER_MERGE, 'after merge')
    step('time travel')
    r = await client.query({ text: `SELECT id, name FROM ${s}.t VERSION AS OF 1 WHERE id >= $1 ORDER BY id`, values: [0], rowMode: 'array' })
    checkRows(r.rows, BEFORE_MERGE, 'version as of 1')
    step('error')
    let err = null
    try { await client.query(`SELECT * FROM ${s}.no_such_table`) } catch (e) { err = e }
    assert.ok(err, 'missing table did not raise')
    assert.equal(err.code, '42P01', `SQLSTATE ${err.code}: ${err.message}`)
    step('after error')
    r = await client.query({ text: `SELECT count(*) FROM ${s}.t WHERE id > $1`, values: [1], rowMode: 'array' })
    checkRows(r.rows, [['2']], 'after error')
    step('nested columns')
    for (const q of nestedDdl(s)) await client.query(q)
    const ours = (await client.query({ text: nestedSelect(s), rowMode: 'array' })).rows[0]
    const oracle = new pg.Client({ host: '127.0.0.1', port: PG_PORT, user: PG_USER, database: DB })
    await oracle.connect()
    const theirs = (await oracle.query({ text: NESTED_PG, rowMode: 'array' })).rows[0]
    await oracle.end()
    checkNested(ours, theirs, NESTED_NATIVE)
  } finally {
    await client.end()
  }
}

// ------------------------------------------------------------------------------------------------
// postgres.js: fetches array types at connect, named prepared statements, parameters typed from
// the server's ParameterDescription.

async function postgresClient() {
  const s = 'c_node_postgres'
  step('connect')
  const sql = postgres({ host: HOST, port: PORT, username: USER, database: DB, max: 1, onnotice: () => {}, connect_timeout: 10 })
  try {
    step('setup')
    for (const q of ddl(s)) await sql.unsafe(q)
    const t = sql(`${s}.t`)
    step('insert with parameters')
    const [a1, a2, a3, a4, a5, b1, b2, b3, b4, b5] = PARAMS
    let r = await sql`INSERT INTO ${t} (id, name, amount, d, ts) VALUES (${a1}, ${a2}, ${a3}, ${a4}, ${a5}), (${b1}, ${b2}, ${b3}, ${b4}, ${b5})`
    assert.equal(r.count, 2, `insert count ${r.count}`)
    step('select')
    r = await sql`SELECT id, name, amount, d, ts FROM ${t} WHERE id >= ${0} ORDER BY id`.values()
    assert.deepEqual(r.columns.map((c) => c.type), OIDS, 'column type OIDs')
    checkRows(r, [ROW1, ROW2], 'select')
    step('merge')
    r = await sql.unsafe(merge(s))
    assert.equal(r.command, 'MERGE', `merge command ${r.command}`)
    assert.equal(r.count, 2, `merge count ${r.count}`)
    r = await sql`SELECT id, name, amount, d, ts FROM ${t} WHERE id >= ${0} ORDER BY id`.values()
    checkRows(r, AFTER_MERGE, 'after merge')
    step('time travel')
    r = await sql`SELECT id, name FROM ${t} VERSION AS OF 1 WHERE id >= ${0} ORDER BY id`.values()
    checkRows(r, BEFORE_MERGE, 'version as of 1')
    step('error')
    let err = null
    try { await sql`SELECT * FROM ${sql(`${s}.no_such_table`)}` } catch (e) { err = e }
    assert.ok(err, 'missing table did not raise')
    assert.equal(err.code, '42P01', `SQLSTATE ${err.code}: ${err.message}`)
    step('after error')
    r = await sql`SELECT count(*) FROM ${t} WHERE id > ${1}`.values()
    checkRows(r, [['2']], 'after error')
    step('nested columns')
    for (const q of nestedDdl(s)) await sql.unsafe(q)
    const ours = [...(await sql.unsafe(nestedSelect(s)).values())[0]]
    const oracle = postgres({ host: '127.0.0.1', port: PG_PORT, username: PG_USER, database: DB, max: 1, onnotice: () => {} })
    const theirs = [...(await oracle.unsafe(NESTED_PG).values())[0]]
    await oracle.end({ timeout: 5 })
    // postgres.js parses int8[] elements as strings too, and records stay text.
    checkNested(ours, theirs, NESTED_NATIVE)
  } finally {
    await sql.end({ timeout: 5 })
  }
}

const CLIENTS = { pg: pgClient, postgres: postgresClient }

const names = process.argv.slice(2).filter((a) => a !== '-v')
const verbose = process.argv.includes('-v')
const unknown = names.filter((n) => !(n in CLIENTS))
if (unknown.length) {
  console.error(`unknown client(s): ${unknown.join(', ')}; choose from ${Object.keys(CLIENTS).join(', ')}`)
  process.exit(2)
}
let failed = 0
for (const name of names.length ? names : Object.keys(CLIENTS)) {
  step('start')
  try {
    // A hung protocol exchange must not hang the suite.
    let timer
    const timeout = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('timed out after 60s')), 60000) })
    await Promise.race([CLIENTS[name](), timeout]).finally(() => clearTimeout(timer))
    console.log(`PASS ${name}`)
  } catch (e) {
    failed++
    const msg = `${e.name || 'Error'}: ${e.message}`.replace(/\s+/g, ' ')
    console.log(`FAIL ${name}: [${STEP}] ${msg}${e.code ? ` (SQLSTATE ${e.code})` : ''}`)
    if (verbose) console.error(e)
  }
}
process.exit(failed ? 1 : 0)
