//! How values meet types, compared with PostgreSQL 15: which values a column takes (PostgreSQL's
//! assignment casts; 42804 for the rest) and expressions that differ only by a cast.

/// A value is assigned to a column only where PostgreSQL has an assignment cast: a typed text,
/// a boolean for an integer, an integer for a timestamp, a date for an integer are 42804 and
/// write nothing (DataFusion cast them: an integer became a timestamp of 1970, a date its day
/// number). Quoted literals and NULLs take the column's type; numbers go to any number, dates
/// and timestamps to each other, anything to text.
#[tokio::test]
async fn assigned_values_follow_postgresql_assignment_casts() {
    let script = [
        "CREATE TABLE asg (i INT, s TEXT, d DATE, f FLOAT8, n NUMERIC(10, 2), bo BOOLEAN, \
         ts TIMESTAMP, tz TIMESTAMPTZ, b BYTEA)",
        "INSERT INTO asg (i, s) VALUES (7, 'seven')",
        // Refused: typed text, boolean <-> integer, integer -> date / timestamp, date -> integer,
        // interval and arrays -> integer, integer -> bytea.
        "INSERT INTO asg (i) SELECT '5'::text",
        "INSERT INTO asg (d) SELECT s FROM asg",
        "INSERT INTO asg (f) SELECT '1.5'::text",
        "INSERT INTO asg (bo) SELECT 1",
        "INSERT INTO asg (i) SELECT true",
        "INSERT INTO asg (d) SELECT 19000",
        "INSERT INTO asg (tz) SELECT 1700000000",
        "INSERT INTO asg (i) SELECT current_date",
        "INSERT INTO asg (i) SELECT '1 day'::interval",
        "INSERT INTO asg (i) SELECT ARRAY[1, 2]",
        "INSERT INTO asg (b) SELECT 12",
        "INSERT INTO asg (b) SELECT s FROM asg",
        "INSERT INTO asg (ts) VALUES (5)",
        "INSERT INTO asg (i) VALUES (true)",
        "INSERT INTO asg (i) VALUES ('5'::text)",
        "INSERT INTO asg (b) VALUES ('abc'::text)",
        "INSERT INTO asg (d) VALUES (-3)",
        "INSERT INTO asg (i, ts) VALUES (1, '2024-01-01'), (2, 7)",
        "INSERT INTO asg VALUES (1, 'x', DATE '2024-01-01', 1.5, 2, 1)",
        "UPDATE asg SET i = s WHERE i = 7",
        "UPDATE asg SET bo = i WHERE i = 7",
        // Taken: literals, NULL, numbers to numbers, dates and timestamps, anything to text.
        "INSERT INTO asg (i, d, ts, bo, b) VALUES ('8', '2024-01-02', '2024-01-02 10:00', 'yes', '\\x01')",
        "INSERT INTO asg (i, d) SELECT NULL, NULL",
        "INSERT INTO asg (i, n) SELECT 3.7::float8, 1.234::float8",
        "INSERT INTO asg (ts, d) SELECT DATE '2024-03-01', TIMESTAMP '2024-03-02 23:00'",
        "INSERT INTO asg (n, f, s, ts) VALUES (1, 2, 3, DATE '2024-01-05'), (1.5, -2.5, true, NULL)",
        "INSERT INTO asg (s) SELECT 42",
        "INSERT INTO asg (s) SELECT DATE '2024-03-01'",
        "INSERT INTO asg (s) SELECT ARRAY[1, 2]",
        "UPDATE asg SET i = '9' WHERE i = 7",
        "UPDATE asg SET f = i WHERE i = 9",
        "SELECT i, s, d, f, n, bo, ts, b FROM asg ORDER BY i, s, d, n",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// An UPDATE's or MERGE's value that is an expression is typed as a SELECT types it and
/// follows the same assignment casts: `SET ts = i + 1` stored a timestamp of 1970, `SET i =
/// coalesce(s, 'a')` read the text as a number; both are 42804 as in PostgreSQL and change
/// nothing.
#[tokio::test]
async fn expressions_assigned_follow_postgresql_assignment_casts() {
    let script = [
        "CREATE TABLE uex (id INT, i INT, s TEXT, d DATE, ts TIMESTAMP, b BOOLEAN, n NUMERIC(10, 2))",
        "INSERT INTO uex VALUES (1, 1, '4', '2020-01-01', '2020-01-01 00:00', true, 1.5)",
        "CREATE TABLE uexs (id INT, v BIGINT)",
        "INSERT INTO uexs VALUES (1, 5)",
        // Refused.
        "UPDATE uex SET i = s || ''",
        "UPDATE uex SET i = upper(s)",
        "UPDATE uex SET ts = i + 1",
        "UPDATE uex SET d = i + 1",
        "UPDATE uex SET i = coalesce(s, 'a')",
        "UPDATE uex SET i = CASE WHEN b THEN 'a' ELSE 'b' END",
        "UPDATE uex SET b = i * 2",
        "MERGE INTO uex t USING uexs s ON t.id = s.id WHEN MATCHED THEN UPDATE SET ts = s.v + 1",
        "MERGE INTO uex t USING uexs s ON t.id = s.id + 1 \
         WHEN NOT MATCHED THEN INSERT (id, d) VALUES (s.id, s.v * 2)",
        "SELECT id, i, s, d, ts, b, n FROM uex ORDER BY id",
        // Taken.
        "UPDATE uex SET i = i + 1, n = n * 2",
        "UPDATE uex SET ts = d + 1",
        "UPDATE uex SET s = i * 10",
        "UPDATE uex SET d = ts - interval '2 days'",
        "UPDATE uex SET b = i > 0",
        "UPDATE uex SET i = length(s) + i",
        "MERGE INTO uex t USING uexs s ON t.id = s.id WHEN MATCHED THEN UPDATE SET n = s.v / 2, s = s.v + 1",
        "SELECT id, i, s, d, ts, b, n FROM uex ORDER BY id",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// MERGE's SET and INSERT values follow the same assignment casts (an integer for a timestamp,
/// a boolean for an integer, a date for an integer are 42804 and change nothing).
#[tokio::test]
async fn merge_values_follow_postgresql_assignment_casts() {
    let script = [
        "CREATE TABLE mtg (id INT, ts TIMESTAMP, n INT, s TEXT)",
        "CREATE TABLE msrc (id INT, v BIGINT, d DATE, b BOOLEAN)",
        "INSERT INTO mtg VALUES (1, '2024-01-01 10:00', 1, 'one')",
        "INSERT INTO msrc VALUES (1, 1700000000, '2024-02-01', true), (2, 5, '2024-02-02', false)",
        "MERGE INTO mtg USING msrc ON mtg.id = msrc.id WHEN MATCHED THEN UPDATE SET ts = msrc.v",
        "MERGE INTO mtg USING msrc ON mtg.id = msrc.id WHEN MATCHED THEN UPDATE SET n = msrc.b",
        "MERGE INTO mtg USING msrc ON mtg.id = msrc.id \
         WHEN NOT MATCHED THEN INSERT (id, n) VALUES (msrc.id, msrc.d)",
        "MERGE INTO mtg USING msrc ON mtg.id = msrc.id \
         WHEN NOT MATCHED THEN INSERT (id, ts) VALUES (msrc.id, 17)",
        "SELECT * FROM mtg ORDER BY id",
        "MERGE INTO mtg USING msrc ON mtg.id = msrc.id \
         WHEN MATCHED THEN UPDATE SET ts = msrc.d, n = msrc.v, s = msrc.b \
         WHEN NOT MATCHED THEN INSERT (id, ts, n, s) VALUES (msrc.id, msrc.d, msrc.v, msrc.d)",
        "SELECT * FROM mtg ORDER BY id",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// INSERT ... REPLACE WHERE (Databricks' form, which PostgreSQL has not) checks its query's
/// columns as an INSERT does: an integer for a timestamp column is 42804 and the table keeps
/// its rows.
#[tokio::test]
async fn replace_where_values_follow_assignment_casts() {
    let server = crate::support::TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE rw (id INT, ts TIMESTAMP); \
             INSERT INTO rw VALUES (1, '2024-01-01 10:00'), (2, '2024-01-02 10:00')",
        )
        .await
        .unwrap();
    let error = client
        .simple_query(
            "INSERT INTO rw REPLACE WHERE id >= 2 SELECT id, 1700000000 FROM rw WHERE id >= 2",
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.code(),
        Some(&tokio_postgres::error::SqlState::DATATYPE_MISMATCH)
    );
    client
        .simple_query("INSERT INTO rw REPLACE WHERE id >= 2 SELECT id, DATE '2024-03-01' FROM rw WHERE id >= 2")
        .await
        .unwrap();
    let rows = client
        .query("SELECT id, ts::text FROM rw ORDER BY id", &[])
        .await
        .unwrap();
    let rows: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        rows,
        [
            (1, "2024-01-01 10:00:00".to_string()),
            (2, "2024-03-01 00:00:00".to_string())
        ]
    );
}

/// Aggregates of one column with and without a cast in one select list (`sum(x::float8),
/// sum(x)`): DataFusion names a cast after its operand, so the two had one name and the query
/// failed ("duplicate unqualified field name"); PostgreSQL answers both. The same for GROUP BY
/// keys differing by a cast (`GROUP BY x, x::text` failed in DataFusion's optimizer).
#[tokio::test]
async fn aggregates_differing_by_a_cast_are_both_answered() {
    let script = [
        "CREATE TABLE agc (x INT, y TEXT)",
        "INSERT INTO agc VALUES (1, 'a'), (2, 'b'), (3, NULL)",
        "SELECT sum(x::float8), sum(x) FROM agc",
        "SELECT sum(x::float8) AS a, sum(x) AS b FROM agc",
        "SELECT count(x::text), count(x), max(x::bigint), max(x) FROM agc",
        "SELECT y, min(x::numeric), min(x) FROM agc GROUP BY y ORDER BY y",
        "SELECT cast(x AS float8), sum(x) FROM agc GROUP BY x, cast(x AS float8) ORDER BY 1",
        "SELECT x, x::text, count(*) FROM agc GROUP BY x, x::text ORDER BY 1",
        "SELECT x, x + 1, count(*) FROM agc GROUP BY x, x + 1 ORDER BY 1",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// A typed literal (`DATE '...'`, `numeric '1.5'`, `INTERVAL '1 day'`) is a cast of a constant,
/// as in PostgreSQL: named by its type (it was `?column?`), and read by the same input rules
/// as `'...'::type` (`numeric '1.5'` had ten fractional digits); `make_date` of a day the month
/// has not is 22008.
#[tokio::test]
async fn typed_literals_are_casts_of_constants() {
    let postgres = crate::support::Postgres::start();
    let server = crate::support::TestServer::start().await;
    let (theirs, ours) = (postgres.client().await, server.client().await);
    for statement in [
        "SELECT date '2024-01-01', timestamp '2024-01-01 10:00', timestamptz '2024-01-01 10:00+00', \
         interval '1 day', time '10:00'",
        "SELECT int '1', text 'x', numeric '1.5', bool 't'",
    ] {
        assert_eq!(
            crate::pg_semantics::column_names(&ours, statement).await,
            crate::pg_semantics::column_names(&theirs, statement).await,
            "{statement}"
        );
    }
    server.stop().await;
    let script = [
        "SELECT int '1', text 'x', numeric '1.5', bool 't', numeric '1e3', decimal '2.50'",
        "SELECT date '2024-01-01' + 1, timestamp '2024-03-07 10:00' + interval '1 hour', \
         date 'March 7, 2024', interval '1 day 03:04:05'",
        "SELECT jsonb '{\"b\": 1, \"a\": 2}', bytea '\\x0102'",
        "SELECT make_date(2024, 2, 30)",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// `UPDATE ... SET (a, b) = (x, y)`, `= ROW(...)` and `= (SELECT x, y ...)` (one row, NULLs for
/// none, 21000 for more), in MERGE too, assign column by column as PostgreSQL does (it was
/// 0A000); lists of another length are 42601, a single value 0A000, as there.
#[tokio::test]
async fn multiple_column_assignments_as_postgresql() {
    let script = [
        "CREATE TABLE mca (id INT, v TEXT, n INT)",
        "CREATE TABLE mcb (id INT, v TEXT, n INT)",
        "INSERT INTO mca VALUES (1, 'a', 10), (2, 'b', 20)",
        "INSERT INTO mcb VALUES (1, 's', 7), (2, 't', 8)",
        "UPDATE mca SET (v, n) = ('r', 5) WHERE id = 1",
        "UPDATE mca SET (v, n) = ROW(v || 'x', n + 1), id = id * 10 WHERE id = 2",
        "SELECT * FROM mca ORDER BY id",
        "UPDATE mca SET (v, n) = (1, 2, 3)",
        "UPDATE mca SET (v, n) = ('q')",
        "UPDATE mca SET (v) = ROW('z') WHERE id = 1",
        "SELECT * FROM mca ORDER BY id",
        "MERGE INTO mca t USING (SELECT 1 AS id) s ON t.id = s.id \
         WHEN MATCHED THEN UPDATE SET (v, n) = ('m', 99)",
        "SELECT * FROM mca ORDER BY id",
        "UPDATE mca SET (v, n) = (SELECT v, n FROM mcb WHERE id = 2) WHERE id = 1",
        "SELECT * FROM mca ORDER BY id",
        "UPDATE mca SET (v, n) = (SELECT v, n FROM mcb WHERE id = 5) WHERE id = 20",
        "SELECT * FROM mca ORDER BY id",
        "UPDATE mca SET (v, n) = (SELECT v, n FROM mcb)",
        "UPDATE mca SET (v, n) = (SELECT v FROM mcb)",
        "SELECT * FROM mca ORDER BY id",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// An UPDATE ... FROM whose join gives a target row several source rows with different values
/// is refused (PostgreSQL updates from an arbitrary one) with 21000 and words about the UPDATE
/// (it spoke of the MERGE it runs as); nothing is written.
#[tokio::test]
async fn update_from_with_several_matches_names_the_update() {
    let server = crate::support::TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE ufa (id INT, n INT); CREATE TABLE ufb (id INT, n INT); \
             INSERT INTO ufa VALUES (1, 0); INSERT INTO ufb VALUES (1, 5), (1, 6)",
        )
        .await
        .unwrap();
    let err = client
        .batch_execute("UPDATE ufa SET n = ufb.n FROM ufb WHERE ufa.id = ufb.id")
        .await
        .unwrap_err();
    let db = err.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "21000");
    assert_eq!(
        db.message(),
        "UPDATE ... FROM matched a target row with more than one row of FROM"
    );
    let n: i32 = client
        .query_one("SELECT n FROM ufa", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    server.stop().await;
}
