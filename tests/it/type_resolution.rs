//! PostgreSQL's type resolution and spellings DataFusion had no form for, compared with
//! PostgreSQL 15's own answers (`support::assert_same_as_postgres`): a text beside numbers in
//! `CASE`, `COALESCE`, `IN` and `UNION` (DataFusion made everything text), quoted literals typed
//! by the values beside them, `max(boolean)`, and `BETWEEN SYMMETRIC`, `OVERLAPS`, `~`, `^@`,
//! `U&''`, `LIKE ANY (ARRAY[...])`, `date()`, `isfinite`, `timezone()`, `date_trunc` in a zone,
//! `make_timestamptz` and `generate_series` with quoted steps.

/// A text column beside a number is 42804 in `CASE` / `COALESCE` / `GREATEST` / `UNION` and
/// 42883 in `IN` or a simple `CASE` (DataFusion answered with texts: `COALESCE(name, 5)` was
/// `'5'`); a quoted literal beside numbers, booleans or dates is read as one (`int IN ('01')`
/// matched 1, `UNION SELECT '5'` sorted as numbers). `max` / `min` of a boolean are 42883.
#[tokio::test]
async fn text_beside_numbers_resolves_as_in_postgresql() {
    let script = [
        "CREATE TABLE tr (id INT, name TEXT, amt NUMERIC(10, 2), ts TIMESTAMP, ok BOOLEAN, d DATE)",
        "INSERT INTO tr VALUES (1, 'a', 1.50, '2024-01-01 10:00', true, '2024-01-01'), \
         (2, 'b', NULL, '2024-02-03 11:30', false, '2024-02-03'), (3, NULL, 3.25, NULL, NULL, NULL)",
        "SELECT id FROM tr WHERE name IN (9, 10)",
        "SELECT id FROM tr WHERE name NOT IN ('a', 'x') ORDER BY id",
        "SELECT id FROM tr WHERE id IN ('1', '03') ORDER BY id",
        "SELECT id FROM tr WHERE id IN ('x')",
        "SELECT id FROM tr WHERE ok IN ('t') ORDER BY id",
        "SELECT id FROM tr WHERE d IN ('2024-01-01') ORDER BY id",
        "SELECT id FROM tr WHERE d IN (1)",
        "SELECT id FROM tr WHERE amt IN (1.5, 2) ORDER BY id",
        "SELECT CASE WHEN id > 1 THEN name ELSE 5 END FROM tr ORDER BY id",
        "SELECT CASE WHEN id > 1 THEN '7' ELSE 5 END FROM tr ORDER BY id",
        "SELECT CASE WHEN id > 1 THEN 'x' ELSE 5 END FROM tr ORDER BY id",
        "SELECT CASE WHEN id > 1 THEN 'x' ELSE name END FROM tr ORDER BY id",
        "SELECT CASE id WHEN '1' THEN 'one' ELSE 'other' END FROM tr ORDER BY id",
        "SELECT CASE name WHEN 1 THEN 'one' ELSE 'other' END FROM tr ORDER BY id",
        "SELECT CASE WHEN ok THEN d ELSE ts END FROM tr ORDER BY id",
        "SELECT CASE WHEN ok THEN d ELSE 1 END FROM tr ORDER BY id",
        "SELECT COALESCE(name, 5) FROM tr ORDER BY id",
        "SELECT COALESCE(amt, 1.25), COALESCE(amt, '1.25'), COALESCE(name, 'none') FROM tr ORDER BY id",
        "SELECT COALESCE(ok, 'f'), COALESCE(d, '2020-01-01') FROM tr ORDER BY id",
        "SELECT COALESCE(ts, d), COALESCE(NULL, id, '7') FROM tr ORDER BY id",
        "SELECT COALESCE(d, name) FROM tr",
        "SELECT COALESCE(amt, 'x') FROM tr",
        "SELECT greatest(id, name) FROM tr",
        "SELECT greatest(id, '2'), least(amt, 2.75) FROM tr ORDER BY id",
        "SELECT name FROM tr UNION SELECT 5",
        "SELECT id FROM tr UNION SELECT '10' ORDER BY 1",
        "SELECT id FROM tr UNION ALL SELECT NULL ORDER BY 1",
        "(SELECT DISTINCT id FROM tr) UNION ALL SELECT '10' ORDER BY 1",
        "SELECT name FROM tr GROUP BY name UNION SELECT 'z' ORDER BY 1",
        "SELECT name FROM tr UNION SELECT 'z' ORDER BY 1",
        "SELECT id, name FROM tr UNION ALL SELECT 9, ok::text ORDER BY 1",
        "SELECT ok FROM tr UNION SELECT 1",
        "SELECT max(ok) FROM tr",
        "SELECT min(ok) FROM tr",
        "SELECT bool_or(ok), bool_and(ok), max(name), min(d) FROM tr",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// PostgreSQL spellings DataFusion refused, now answered as PostgreSQL answers them.
#[tokio::test]
async fn postgresql_spellings_of_operators_and_time_functions_answer_as_postgresql() {
    let script = [
        "SET TIME ZONE 'America/New_York'",
        "CREATE TABLE sp (id INT, name TEXT, ts TIMESTAMP, d DATE)",
        "INSERT INTO sp VALUES (1, 'a', '2024-01-01 10:00', '2024-01-01'), \
         (2, 'b', '2024-02-03 11:30', '2024-02-03'), (3, NULL, NULL, NULL)",
        "SELECT id FROM sp WHERE id BETWEEN SYMMETRIC 3 AND 2 ORDER BY id",
        "SELECT id FROM sp WHERE id NOT BETWEEN SYMMETRIC 3 AND 2 ORDER BY id",
        "SELECT id FROM sp WHERE id BETWEEN ASYMMETRIC 3 AND 2 ORDER BY id",
        "SELECT id, id BETWEEN SYMMETRIC 2 AND NULL, id BETWEEN SYMMETRIC 3 AND 1 AND true FROM sp ORDER BY id",
        "SELECT (DATE '2024-01-01', DATE '2024-02-01') OVERLAPS (DATE '2024-01-15', DATE '2024-03-01')",
        "SELECT (DATE '2024-02-01', DATE '2024-01-01') OVERLAPS (DATE '2024-01-15', DATE '2024-03-01')",
        "SELECT (DATE '2024-01-01', DATE '2024-02-01') OVERLAPS (DATE '2024-02-01', DATE '2024-03-01')",
        "SELECT (TIMESTAMP '2024-01-01', interval '1 day') OVERLAPS (TIMESTAMP '2024-01-01 12:00', interval '1 hour')",
        "SELECT (TIMESTAMP '2024-01-01', NULL::timestamp) OVERLAPS (TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02')",
        "SELECT (TIMESTAMP '2024-01-03', NULL::timestamp) OVERLAPS (TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02')",
        "SELECT (TIMESTAMP '2024-01-01', NULL::timestamp) OVERLAPS (TIMESTAMP '2023-01-01', TIMESTAMP '2024-01-02')",
        "SELECT id, (ts, ts + interval '1 day') OVERLAPS (d, d + 1) FROM sp ORDER BY id",
        "SELECT 5 # 3, ~5, ~(-1), 5 & ~1",
        "SELECT id, 'abc' ^@ 'ab', name ^@ 'a' FROM sp ORDER BY id",
        "SELECT U&'d\\0061t\\+000061'",
        "SELECT id, name LIKE ANY (ARRAY['a%', 'z%']), name NOT LIKE ANY (ARRAY['a%', 'b%']), \
         name ILIKE ANY (ARRAY['A%']) FROM sp ORDER BY id",
        "SELECT id FROM sp WHERE name LIKE ANY (ARRAY['a%', 'b%']) ORDER BY id",
        "SELECT id, date(ts), isfinite(ts), isfinite(d) FROM sp ORDER BY id",
        "SELECT date('2024-05-06'), isfinite(interval '1 day')",
        "SELECT isfinite(5)",
        "SELECT make_timestamptz(2024, 1, 2, 3, 4, 5.5)",
        "SELECT make_timestamptz(2024, 7, 2, 3, 4, 5, 'Europe/Paris')",
        "SELECT timezone('UTC', TIMESTAMP '2024-01-01 00:00')",
        "SELECT timezone('Asia/Tokyo', TIMESTAMPTZ '2024-01-01 00:00+00')",
        "SELECT date_trunc('day', TIMESTAMPTZ '2024-01-01 05:00+00', 'Asia/Tokyo')",
        "SELECT date_trunc('month', TIMESTAMPTZ '2024-03-01 02:00+00', 'UTC')",
        "SELECT d::date FROM generate_series('2024-01-01'::date, '2024-01-03'::date, '1 day') d",
        "SELECT * FROM generate_series('2024-01-01'::timestamp, '2024-01-01 02:00', '1 hour') AS g",
        "SELECT generate_series(TIMESTAMP '2024-01-01', '2024-01-01 02:00', '1 hour')",
        "SELECT * FROM generate_series(1, 10, '3') g",
        "SELECT count(*) FROM generate_series(DATE '2024-01-01', DATE '2024-12-31', '1 week') w",
        "SELECT * FROM generate_series(TIMESTAMPTZ '2024-03-09 00:00+00', \
         TIMESTAMPTZ '2024-03-12 00:00+00', '1 day 12:00:00') g",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// `(a, b) IN (SELECT x, y ...)` as a WHERE condition (DataFusion: "Too many columns!"), and
/// the planner's errors PostgreSQL words itself: a column neither grouped nor aggregated
/// (42803), ORDER BY outside a DISTINCT's list or past the last column (42P10). A row IN under
/// NOT or in a select list, and correlated forms the engine cannot join, stay 0A000.
#[tokio::test]
async fn row_in_subqueries_and_grouping_errors_as_in_postgresql() {
    let script = [
        "CREATE TABLE rw (id INT, g TEXT, v INT)",
        "INSERT INTO rw VALUES (1, 'a', 10), (2, 'a', 20), (3, 'b', 5), (4, 'b', NULL), (5, 'c', 7)",
        "SELECT * FROM rw WHERE (g, v) IN (SELECT g, max(v) FROM rw GROUP BY g) ORDER BY id",
        "SELECT * FROM rw r WHERE id > 1 AND (g, v) IN (SELECT g, max(v) FROM rw GROUP BY g) ORDER BY id",
        "SELECT id FROM rw WHERE (g, v + 0) IN (VALUES ('a', 20), ('b', NULL), ('c', 7)) ORDER BY id",
        "SELECT DISTINCT g FROM rw ORDER BY v",
        "SELECT g, v FROM rw GROUP BY g",
        "SELECT g, sum(v), id FROM rw GROUP BY g",
        "SELECT * FROM rw ORDER BY 4",
    ];
    crate::support::assert_same_as_postgres(&script).await;
    let server = crate::support::TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute("CREATE TABLE rw (id INT, g TEXT, v INT); INSERT INTO rw VALUES (1, 'a', 1)")
        .await
        .unwrap();
    for sql in [
        "SELECT * FROM rw WHERE (g, v) NOT IN (SELECT g, max(v) FROM rw GROUP BY g)",
        "SELECT (g, v) IN (SELECT g, v FROM rw) FROM rw",
        "SELECT id, (SELECT count(*) FROM rw r2 WHERE r2.id < rw.id) FROM rw",
        "SELECT * FROM rw, LATERAL (SELECT rw.id * 2 AS dbl) l",
    ] {
        let error = client.simple_query(sql).await.unwrap_err();
        let db = error.as_db_error().expect("an ErrorResponse");
        assert_eq!(db.code().code(), "0A000", "{sql}: {}", db.message());
        assert!(
            !db.message().contains("Physical plan"),
            "{sql}: {}",
            db.message()
        );
    }
}

/// A relation's name used as a value is its row as a record (`to_json(t)`, `row_to_json(t)`,
/// `json_agg(t)`, `SELECT t FROM t`, `count(t)`), as in PostgreSQL (it was 42703 `column "t" does
/// not exist`); a name that is no column and no relation is still 42703. `gen_random_uuid()` is
/// a version 4 UUID (as text: Delta has no uuid type).
#[tokio::test]
async fn whole_row_references_as_postgresql() {
    let script = [
        "CREATE TABLE wr (id INT, g TEXT, v INT)",
        "INSERT INTO wr VALUES (1, 'a', 10), (2, 'b', NULL), (3, NULL, 7)",
        "SELECT to_json(wr) FROM wr ORDER BY id",
        "SELECT row_to_json(t) FROM (SELECT id, g FROM wr WHERE id < 3) t ORDER BY t.id",
        "SELECT json_agg(t ORDER BY t.id) FROM (SELECT id, v FROM wr) t",
        "SELECT jsonb_agg(t ORDER BY a) FROM (VALUES (2, 'y'), (1, 'x')) t(a, b)",
        "SELECT wr FROM wr ORDER BY id",
        "SELECT count(wr), count(*) FROM wr",
        "WITH c AS (SELECT id, g FROM wr) SELECT json_agg(c ORDER BY id) FROM c",
        "SELECT w2.id, to_json(w2) FROM wr w2 WHERE w2.id = 2",
        "SELECT nosuch FROM wr",
        "SELECT length(gen_random_uuid()::text), \
         gen_random_uuid()::text ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$', \
         gen_random_uuid() <> gen_random_uuid()",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}
