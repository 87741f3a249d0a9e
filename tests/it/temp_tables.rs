//! `CREATE TEMP TABLE` (what dbt's incremental models and snapshots stage their rows in):
//! private to the session, resolved before `search_path`, read anywhere a table can be, gone at
//! disconnect; and the dbt statements that read them (MERGE with bare VALUES columns, DELETE
//! and UPDATE ... WHERE (key) IN (SELECT ...)). Expected rows are PostgreSQL 15's own answers.

use crate::support::{Postgres, TestServer, expect_sqlstate, script_answers, simple_rows};

/// The statements both servers run, in order; each one's rows (or command) are compared.
const SCRIPT: &[&str] = &[
    "CREATE TABLE target (id BIGINT, day DATE, v TEXT)",
    "INSERT INTO target VALUES (1, DATE '2024-01-01', 'a'), (2, DATE '2024-01-01', 'b'), \
     (3, DATE '2024-01-02', 'c'), (4, DATE '2024-01-03', 'd')",
    "CREATE TEMP TABLE stage AS (SELECT * FROM target WHERE id >= 3)",
    "INSERT INTO stage VALUES (5, DATE '2024-01-03', 'e')",
    "UPDATE target SET v = 'old' WHERE id = 4",
    "SELECT * FROM stage ORDER BY id",
    "SELECT t.id, s.v FROM target t JOIN stage s ON s.id = t.id ORDER BY 1",
    "SELECT column_name, data_type FROM information_schema.columns \
     WHERE table_name = 'stage' ORDER BY ordinal_position",
    // dbt's merge strategy: the INSERT values name the source's columns bare.
    "MERGE INTO target AS dest USING stage AS src ON (src.id = dest.id) \
     WHEN MATCHED THEN UPDATE SET \"v\" = src.\"v\" \
     WHEN NOT MATCHED THEN INSERT (\"id\", \"day\", \"v\") VALUES (\"id\", \"day\", \"v\")",
    "SELECT * FROM target ORDER BY id",
    // dbt's delete+insert strategy.
    "CREATE TEMP TABLE days (day DATE, extra INT)",
    "INSERT INTO days VALUES (DATE '2024-01-03', 1), (DATE '2024-01-03', 2)",
    "DELETE FROM target AS dest WHERE (day) IN (SELECT DISTINCT day FROM days AS src)",
    "DELETE FROM target WHERE (id, day) IN (SELECT id, day FROM stage) AND v <> 'zzz'",
    "SELECT * FROM target ORDER BY id",
    // UPDATE ... WHERE key IN (SELECT ...): a key the subquery returns twice updates its row
    // once; NULLs in the subquery match nothing.
    "INSERT INTO target VALUES (6, DATE '2024-01-04', 'f'), (7, NULL, 'g')",
    "INSERT INTO days VALUES (DATE '2024-01-04', 3), (NULL, 4)",
    "UPDATE target SET v = v || '!' WHERE day IN (SELECT day FROM days) AND id > 1",
    "UPDATE target AS t SET v = upper(t.v) WHERE (t.id, t.day) IN (SELECT id, day FROM stage) AND t.v IS NOT NULL",
    "UPDATE target SET v = v || v WHERE id IN (SELECT id - 1 FROM target)",
    "UPDATE target SET v = 'none' WHERE id IN (SELECT extra FROM days WHERE extra > 100)",
    "SELECT * FROM target ORDER BY id",
    // A temporary table hides a table of its name until dropped; a CTE hides both.
    "CREATE TABLE shadow (x INT)",
    "INSERT INTO shadow VALUES (1)",
    "CREATE TEMP TABLE shadow (x INT)",
    "INSERT INTO shadow VALUES (2)",
    "SELECT x FROM shadow",
    "SELECT x FROM public.shadow",
    "WITH shadow AS (SELECT 3 AS x) SELECT x FROM shadow",
    "DROP TABLE shadow",
    "SELECT x FROM shadow",
];

#[tokio::test]
async fn temp_tables_answer_as_in_postgres() {
    let pg = Postgres::start();
    let server = TestServer::start().await;
    let expected = script_answers(&pg.client().await, SCRIPT).await;
    let got = script_answers(&server.client().await, SCRIPT).await;
    // Every statement of the script runs on PostgreSQL (it answers, not only refuses).
    assert!(
        expected.iter().all(|answer| !answer.contains("\n  ERROR")),
        "{expected:#?}"
    );
    for (e, g) in expected.iter().zip(&got) {
        assert_eq!(g, e);
    }
}

#[tokio::test]
async fn temp_tables_are_private_to_their_session_and_end_with_it() {
    let server = TestServer::start().await;
    let a = server.client().await;
    let b = server.client().await;
    a.batch_execute(
        "CREATE TEMP TABLE scratch (id INT, v TEXT); INSERT INTO scratch VALUES (1, 'a')",
    )
    .await
    .unwrap();
    // Invisible to another session, which may have its own of the same name.
    expect_sqlstate(&b, "SELECT * FROM scratch", "42P01").await;
    let listed = simple_rows(
        &b,
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'scratch'",
    )
    .await;
    assert_eq!(listed, vec![vec![Some("0".into())]]);
    b.batch_execute("CREATE TEMP TABLE scratch (other BIGINT); INSERT INTO scratch VALUES (7)")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&a, "SELECT * FROM scratch").await,
        vec![vec![Some("1".into()), Some("a".into())]]
    );
    assert_eq!(
        simple_rows(&b, "SELECT * FROM pg_temp.scratch").await,
        vec![vec![Some("7".into())]]
    );
    // Nothing reaches the data directory.
    let public = server.data_dir.join("public");
    let entries: Vec<_> = std::fs::read_dir(&public)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(entries.is_empty(), "temporary tables wrote {entries:?}");

    // Delta operations on a temporary table are refused, not half done.
    for sql in [
        "MERGE INTO scratch USING scratch AS s ON false WHEN NOT MATCHED THEN INSERT VALUES (2, 'x')",
        "ALTER TABLE scratch ADD COLUMN w INT",
    ] {
        expect_sqlstate(&a, sql, "0A000").await;
    }
    expect_sqlstate(&a, "CREATE TEMP TABLE public.x (a INT)", "42P16").await;
    expect_sqlstate(&a, "CREATE VIEW v AS SELECT * FROM scratch", "0A000").await;
    expect_sqlstate(&a, "CREATE TEMP TABLE scratch (a INT)", "42P07").await;
    // DISCARD ALL drops them, as in PostgreSQL.
    b.batch_execute("DISCARD ALL").await.unwrap();
    expect_sqlstate(&b, "SELECT * FROM scratch", "42P01").await;

    // Gone at disconnect.
    drop(a);
    let again = server.client().await;
    expect_sqlstate(&again, "SELECT * FROM scratch", "42P01").await;
}

#[tokio::test]
async fn pg_tables_lists_tables_and_pg_views_lists_views() {
    // dbt decides how to drop a relation by which of the two lists it.
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE t (a INT); CREATE VIEW v AS SELECT a FROM t; \
             CREATE TEMP TABLE tmp (a INT)",
        )
        .await
        .unwrap();
    let tables = simple_rows(
        &client,
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .await;
    assert_eq!(tables, vec![vec![Some("t".into())]]);
    let views = simple_rows(
        &client,
        "SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
    )
    .await;
    assert_eq!(views, vec![vec![Some("v".into())]]);
}

/// UPDATE, DELETE and TRUNCATE of a temporary table change its rows as PostgreSQL does (they
/// were 0A000), with PostgreSQL's counts; another session's table of the same name is untouched.
#[tokio::test]
async fn temporary_tables_take_update_delete_and_truncate_as_postgresql() {
    let script = [
        "CREATE TEMP TABLE fix_up (id INT, v TEXT, n BIGINT)",
        "INSERT INTO fix_up VALUES (1, 'a', 10), (2, 'b', NULL), (3, NULL, 30)",
        "UPDATE fix_up SET v = upper(v), n = n + 1 WHERE id < 3",
        "SELECT * FROM fix_up ORDER BY id",
        "UPDATE fix_up SET v = 'none' WHERE v IS NULL",
        "UPDATE fix_up SET n = 0 WHERE id > 100",
        "DELETE FROM fix_up WHERE n IS NULL",
        "SELECT * FROM fix_up ORDER BY id",
        "DELETE FROM fix_up WHERE id = 3",
        "SELECT * FROM fix_up ORDER BY id",
        "TRUNCATE fix_up",
        "SELECT count(*) FROM fix_up",
        "INSERT INTO fix_up VALUES (4, 'd', 40)",
        "DELETE FROM fix_up",
        "SELECT count(*) FROM fix_up",
    ];
    crate::support::assert_same_as_postgres(&script).await;

    let server = TestServer::start().await;
    let (a, b) = (server.client().await, server.client().await);
    for client in [&a, &b] {
        client
            .batch_execute("CREATE TEMP TABLE mine (id INT); INSERT INTO mine VALUES (1), (2)")
            .await
            .unwrap();
    }
    let deleted = a
        .execute("DELETE FROM mine WHERE id = 1", &[])
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    let updated = a
        .execute("UPDATE mine SET id = id * 10", &[])
        .await
        .unwrap();
    assert_eq!(updated, 1);
    // A condition the table cannot evaluate row by row is refused, nothing changed.
    for sql in [
        "DELETE FROM mine WHERE id IN (SELECT max(id) FROM mine)",
        "UPDATE mine SET id = (SELECT 5)",
        "DELETE FROM mine WHERE EXISTS (SELECT 1)",
    ] {
        expect_sqlstate(&a, sql, "0A000").await;
    }
    assert_eq!(
        simple_rows(&a, "SELECT id FROM mine").await,
        vec![vec![Some("20".into())]]
    );
    a.batch_execute("TRUNCATE mine").await.unwrap();
    assert_eq!(
        simple_rows(&a, "SELECT count(*) FROM mine").await,
        vec![vec![Some("0".into())]]
    );
    assert_eq!(
        simple_rows(&b, "SELECT id FROM mine ORDER BY id").await,
        vec![vec![Some("1".into())], vec![Some("2".into())]]
    );
}
