//! Errors reach the client with the right SQLSTATE, and the connection stays usable afterwards.

use crate::support::{TestServer, expect_sqlstate, simple_rows, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlstates_and_connection_stays_usable() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute("CREATE TABLE t (id BIGINT NOT NULL, v TEXT)")
        .await
        .unwrap();
    let cases = [
        ("SELEC 1", "42601"),
        ("SELECT * FROM no_such_table", "42P01"),
        ("SELECT no_such_column FROM t", "42703"),
        ("SELECT \"ID\" FROM t", "42703"),
        ("CREATE TABLE t (x INT)", "42P07"),
        ("INSERT INTO t (id, v) VALUES (NULL, 'x')", "23502"),
        ("SELECT 1 / 0", "22012"),
        ("SELECT CAST('abc' AS INT)", "22P02"),
        ("SET no_such_parameter = 1", "42704"),
        ("DROP TABLE no_such_table", "42P01"),
        ("CREATE TABLE nowhere.t (x INT)", "3F000"),
        ("CREATE MATERIALIZED VIEW v AS SELECT 1", "0A000"),
        (
            "INSERT INTO t VALUES (1, 'x') ON CONFLICT DO NOTHING",
            "0A000",
        ),
        (
            "SELECT * FROM generate_series(1, 2) WITH ORDINALITY",
            "0A000",
        ),
        ("SELECT '\\x6'::bytea", "22023"),
        ("SELECT '{1,2'::int[]", "22P02"),
        ("SELECT ln(0)", "2201E"),
    ];
    for (sql, expected) in cases {
        let simple = client.simple_query(sql).await.expect_err(sql);
        assert_eq!(
            sqlstate(&simple),
            expected,
            "simple protocol: {sql}: {simple}"
        );
        let extended = client.query(sql, &[]).await.expect_err(sql);
        assert_eq!(
            sqlstate(&extended),
            expected,
            "extended protocol: {sql}: {extended}"
        );
        // One line, as PostgreSQL's messages: what a library adds goes to DETAIL.
        let message = simple.as_db_error().map(|e| e.message().to_string());
        assert!(
            message.as_deref().is_some_and(|m| !m.contains('\n')),
            "{sql}: {message:?}"
        );
        let ok: i64 = client.query_one("SELECT 41 + 1", &[]).await.unwrap().get(0);
        assert_eq!(ok, 42, "connection usable after {sql}");
    }
    let db = client
        .simple_query("SELECT no_such_column FROM t")
        .await
        .unwrap_err();
    let message = db.as_db_error().unwrap().message().to_string();
    assert_eq!(message, "column \"no_such_column\" does not exist");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_in_a_multi_statement_query_stops_the_rest() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute("CREATE TABLE t (id INT)")
        .await
        .unwrap();
    let err = client
        .batch_execute("INSERT INTO t VALUES (1); SELECT * FROM missing; INSERT INTO t VALUES (2)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "42P01");
    let count: i64 = client
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1, "statements after the error did not run");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_transaction_block_rejects_until_rollback() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client.batch_execute("BEGIN").await.unwrap();
    expect_sqlstate(&client, "SELECT * FROM missing", "42P01").await;
    expect_sqlstate(&client, "SELECT 1", "25P02").await;
    client.batch_execute("ROLLBACK").await.unwrap();
    let one: i64 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_of_any_shape_gets_an_error_not_a_crash() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let deep = 2_000;
    let nested_parens = format!("SELECT {}1{}", "(".repeat(deep), ")".repeat(deep));
    let nested_subqueries = format!(
        "SELECT * FROM {}(SELECT 1 AS x){}",
        "(SELECT * FROM ".repeat(300),
        " s)".repeat(300)
    );
    let long_expression = format!("SELECT {}", vec!["1"; 20_000].join(" + "));
    let long_but_fine = format!("SELECT {}", vec!["1"; 2_000].join(" + "));
    let megabyte = format!("SELECT length('{}')", "x".repeat(1 << 20));
    for sql in [&nested_parens, &nested_subqueries, &long_expression] {
        // Deep SQL may plan or be refused, but as an error with a SQLSTATE, never a crash.
        if let Err(e) = client.simple_query(sql).await {
            assert!(e.as_db_error().is_some(), "{e}");
        }
        assert_eq!(
            simple_rows(&client, "SELECT 1").await,
            vec![vec![Some("1".into())]]
        );
    }
    expect_sqlstate(&client, &long_expression, "54001").await;
    assert_eq!(
        simple_rows(&client, &long_but_fine).await,
        vec![vec![Some("2000".into())]]
    );
    assert_eq!(
        simple_rows(&client, &megabyte).await,
        vec![vec![Some((1 << 20).to_string())]]
    );
    expect_sqlstate(&client, "SELECT no_such_function(1)", "42883").await;
    let wrong_type = client.simple_query("SELECT 'a' + 1").await.unwrap_err();
    let code = sqlstate(&wrong_type);
    assert!(
        code.starts_with("42") || code.starts_with("22"),
        "{code}: {wrong_type}"
    );
    assert_eq!(
        simple_rows(&client, "SELECT 2").await,
        vec![vec![Some("2".into())]]
    );
    server.stop().await;
}

/// A bad value in an INSERT gets PostgreSQL's SQLSTATE and message, naming the value (or the
/// NOT NULL column a NULL was written into): the
/// context DataFusion wraps around it ("Optimizer rule 'simplify_expressions' failed") was read
/// as the value (`invalid input syntax for type date: "simplify_expressions"`), and a numeric
/// overflow was XX000. PostgreSQL 15 is the oracle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_values_in_writes_are_named_as_postgresql_names_them() {
    let postgres = crate::support::Postgres::start();
    let server = TestServer::start().await;
    let (ours, theirs) = (server.client().await, postgres.client().await);
    let ddl = "CREATE TABLE bad (n NUMERIC(5,2), d DATE, s SMALLINT); \
               CREATE TABLE nn (id BIGINT NOT NULL, v TEXT)";
    ours.batch_execute(ddl).await.unwrap();
    theirs.batch_execute(ddl).await.unwrap();
    for sql in [
        "INSERT INTO bad (n) VALUES (1234.5)",
        "SELECT 1234.5::numeric(5,2)",
        "INSERT INTO bad (d) VALUES ('x')",
        "INSERT INTO bad (d) VALUES ('2024-02-30')",
        "INSERT INTO bad (s) VALUES (40000)",
        // A NULL into a NOT NULL column: 23502 naming the column (it was 23514 "violates a
        // check constraint" for a column left out or a SELECT's NULL, and DataFusion's name of
        // the VALUES column, `column1`, for a NULL in VALUES).
        "INSERT INTO nn VALUES (NULL, 'a')",
        "INSERT INTO nn (v, id) VALUES ('a', 1), ('b', NULL)",
        "INSERT INTO nn (v) VALUES ('e')",
        "INSERT INTO nn SELECT NULL, 'x'",
        "INSERT INTO nn (v) VALUES ('e') RETURNING id",
    ] {
        let answer = |e: tokio_postgres::Error| {
            let db = e.as_db_error().expect("a database error");
            (db.code().code().to_string(), db.message().to_string())
        };
        let got = answer(ours.simple_query(sql).await.expect_err(sql));
        let expected = answer(theirs.simple_query(sql).await.expect_err(sql));
        assert_eq!(got, expected, "{sql}");
    }
    server.stop().await;
}
