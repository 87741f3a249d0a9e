//! A session reuses the plans of statements that read nothing (`SELECT 1`, constants, VALUES):
//! the answers are PostgreSQL 15's, the same as with `deltagres.plan_cache = off`, and nothing
//! such a plan could depend on goes stale (settings, set_config, views, other sessions, time).

use crate::support::{Postgres, TestServer, simple_rows};

/// Statements whose plans are kept, each run three times in a row against both servers.
const CONSTANT: &[&str] = &[
    "SELECT 1",
    "SELECT 1 + 2 AS x, 'a' || 'b' AS y",
    "SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) v(i, s) WHERE i > 1 ORDER BY i",
    "SELECT upper('abc') AS u, abs(-3) AS a, 10 / 4 AS d, length('hello') AS n",
    "SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3",
    "SELECT CASE WHEN 1 > 2 THEN 'x' ELSE 'y' END AS c, NULL::int IS NULL AS isnull",
];

fn sorted(mut rows: Vec<Vec<Option<String>>>) -> Vec<Vec<Option<String>>> {
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_plans_answer_as_postgres_does_every_time() {
    let pg = Postgres::start();
    let p = pg.client().await;
    let server = TestServer::start().await;
    let c = server.client().await;
    for sql in CONSTANT {
        // Rows compared as sets: UNION ALL's branches may arrive in either order (without
        // ORDER BY, in PostgreSQL too).
        let expected = sorted(simple_rows(&p, sql).await);
        for run in 0..3 {
            assert_eq!(
                sorted(simple_rows(&c, sql).await),
                expected,
                "{sql} (run {run})"
            );
            // The extended protocol (a prepared statement per call) takes the same path.
            let rows = c.query(*sql, &[]).await.unwrap();
            assert_eq!(rows.len(), expected.len(), "{sql} extended (run {run})");
        }
    }
    // A Parse of the same text (kept with its description) with other parameter values.
    for v in [1i32, 41, -5] {
        for client in [&c, &p] {
            let typed = [tokio_postgres::types::Type::INT4];
            let statement = client
                .prepare_typed("SELECT $1::int AS n", &typed)
                .await
                .unwrap();
            let rows = client.query(&statement, &[&v]).await.unwrap();
            assert_eq!(rows[0].get::<_, i32>(0), v);
        }
    }
    c.batch_execute("SET deltagres.plan_cache = off")
        .await
        .unwrap();
    for sql in CONSTANT {
        assert_eq!(
            sorted(simple_rows(&c, sql).await),
            sorted(simple_rows(&p, sql).await),
            "{sql} without reuse"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_a_reused_plan_depends_on_goes_stale() {
    let pg = Postgres::start();
    let p = pg.client().await;
    let server = TestServer::start().await;
    let c = server.client().await;
    let other = server.client().await;

    // The session's time zone: by SET, by set_config (in its own statement), by RESET.
    let in_zone = "SELECT extract(hour FROM TIMESTAMPTZ '2024-01-01 00:00:00+00') AS h";
    for change in [
        "SET TimeZone = 'Asia/Tokyo'",
        "SELECT set_config('TimeZone', 'America/New_York', false)",
        "RESET TimeZone",
    ] {
        assert_eq!(
            simple_rows(&c, in_zone).await,
            simple_rows(&p, in_zone).await
        );
        c.simple_query(change).await.unwrap();
        p.simple_query(change).await.unwrap();
        assert_eq!(
            simple_rows(&c, in_zone).await,
            simple_rows(&p, in_zone).await,
            "after {change}"
        );
        // Over the extended protocol too, whose repeats without parameters are found by text.
        let extended = "SELECT extract(hour FROM TIMESTAMPTZ '2024-01-01 00:00:00+00')::text AS h";
        for _ in 0..3 {
            let ours: String = c.query(extended, &[]).await.unwrap()[0].get(0);
            let theirs: String = p.query(extended, &[]).await.unwrap()[0].get(0);
            assert_eq!(ours, theirs, "{extended} after {change}");
        }
    }

    // A view another session replaces: its new query is what runs.
    other
        .batch_execute("CREATE VIEW answer AS SELECT 41 AS n")
        .await
        .unwrap();
    let read = "SELECT n + 1 AS n FROM answer";
    assert_eq!(simple_rows(&c, read).await, [[Some("42".to_string())]]);
    assert_eq!(simple_rows(&c, read).await, [[Some("42".to_string())]]);
    other
        .batch_execute("CREATE OR REPLACE VIEW answer AS SELECT 99 AS n")
        .await
        .unwrap();
    assert_eq!(simple_rows(&c, read).await, [[Some("100".to_string())]]);

    // Time and randomness are never frozen into a kept plan.
    let clock = "SELECT now() AS n, random() AS r";
    let first = simple_rows(&c, clock).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let second = simple_rows(&c, clock).await;
    assert_ne!(first[0][0], second[0][0], "now() is the statement's time");
    assert_ne!(first[0][1], second[0][1], "random() is drawn again");

    // A table created by another session after a statement that named it failed.
    let count = "SELECT count(*) FROM fresh";
    assert!(c.simple_query(count).await.is_err());
    other
        .batch_execute("CREATE TABLE fresh (id INT); INSERT INTO fresh VALUES (1), (2)")
        .await
        .unwrap();
    assert_eq!(simple_rows(&c, count).await, [[Some("2".to_string())]]);
    other
        .batch_execute("INSERT INTO fresh VALUES (3)")
        .await
        .unwrap();
    assert_eq!(simple_rows(&c, count).await, [[Some("3".to_string())]]);

    // A schema first on search_path that another session creates later: from then on names
    // resolve there (the session's copy of its state follows).
    let whereami = "SELECT s FROM whereami";
    for (client, peer) in [(&c, &other), (&p, &p)] {
        client
            .batch_execute("SET search_path = later, public")
            .await
            .unwrap();
        peer.batch_execute(
            "CREATE TABLE public.whereami (s TEXT); INSERT INTO public.whereami VALUES ('public')",
        )
        .await
        .unwrap();
    }
    for _ in 0..3 {
        assert_eq!(
            simple_rows(&c, whereami).await,
            simple_rows(&p, whereami).await
        );
    }
    for peer in [&other, &p] {
        peer.batch_execute(
            "CREATE SCHEMA later; CREATE TABLE later.whereami (s TEXT); \
             INSERT INTO later.whereami VALUES ('later')",
        )
        .await
        .unwrap();
    }
    assert_eq!(
        simple_rows(&p, whereami).await,
        [[Some("later".to_string())]]
    );
    assert_eq!(
        simple_rows(&c, whereami).await,
        [[Some("later".to_string())]]
    );
    c.batch_execute("RESET search_path").await.unwrap();

    // Time travel plans in a catalog of its own statement: the first query after a SET (which
    // starts the session's state over) reads one version, the next another.
    other
        .batch_execute("CREATE TABLE travel (id INT); INSERT INTO travel VALUES (1); INSERT INTO travel VALUES (2)")
        .await
        .unwrap();
    c.batch_execute("SET application_name = 'travel'")
        .await
        .unwrap();
    for (version, rows) in [(1, "1"), (2, "2"), (1, "1")] {
        let sql = format!("SELECT count(*) FROM travel VERSION AS OF {version}");
        assert_eq!(simple_rows(&c, &sql).await, [[Some(rows.to_string())]]);
    }

    // A repeated text (found without parsing) still follows the session: in a failed block it
    // is refused as PostgreSQL refuses it, setting functions are read again.
    for _ in 0..3 {
        assert_eq!(simple_rows(&c, "SELECT 1").await, [[Some("1".to_string())]]);
    }
    c.batch_execute("BEGIN").await.unwrap();
    crate::support::expect_sqlstate(&c, "SELECT 1 / 0", "22012").await;
    crate::support::expect_sqlstate(&c, "SELECT 1", "25P02").await;
    let extended = c.query("SELECT 1", &[]).await.unwrap_err();
    assert_eq!(
        extended.code(),
        Some(&tokio_postgres::error::SqlState::IN_FAILED_SQL_TRANSACTION)
    );
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(simple_rows(&c, "SELECT 1").await, [[Some("1".to_string())]]);
    let setting = "SELECT current_setting('application_name') AS a";
    c.batch_execute("SET application_name = 'one'")
        .await
        .unwrap();
    assert_eq!(simple_rows(&c, setting).await, [[Some("one".to_string())]]);
    assert_eq!(simple_rows(&c, setting).await, [[Some("one".to_string())]]);
    c.simple_query("SELECT set_config('application_name', 'two', false)")
        .await
        .unwrap();
    assert_eq!(simple_rows(&c, setting).await, [[Some("two".to_string())]]);

    server.stop().await;
}
