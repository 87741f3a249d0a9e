//! The lakehouse dialect over the wire: time travel, history, detail, restore, vacuum,
//! INSERT ... REPLACE WHERE and MERGE. The tests that touch no local file run twice: on a local
//! data directory and on the S3 stand-in (`*_on_s3`, issue 15).

use crate::s3::S3;
use crate::support::{TestServer, expect_sqlstate, run_python, simple_rows, sqlstate};

type Rows = Vec<Vec<Option<String>>>;

fn rows(spec: &[&[&str]]) -> Rows {
    spec.iter()
        .map(|r| {
            r.iter()
                .map(|v| {
                    if *v == "NULL" {
                        None
                    } else {
                        Some(v.to_string())
                    }
                })
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_travel_reads_each_version_exactly() {
    time_travel_reads_each_version_exactly_on(TestServer::start().await).await;
}

/// The same with `data_dir` on the S3 stand-in (issue 15).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_travel_reads_each_version_exactly_on_s3() {
    let s3 = S3::start(&[]);
    time_travel_reads_each_version_exactly_on(s3.server("wh").await).await;
}

async fn time_travel_reads_each_version_exactly_on(server: TestServer) {
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE t (id INT, v TEXT); \
         INSERT INTO t VALUES (1, 'a'), (2, 'b'); \
         UPDATE t SET v = 'c' WHERE id = 2; \
         DELETE FROM t WHERE id = 1",
    )
    .await
    .unwrap();
    let at = |v: i32| format!("SELECT id, v FROM t VERSION AS OF {v} ORDER BY id");
    assert_eq!(simple_rows(&c, &at(0)).await, rows(&[]));
    assert_eq!(
        simple_rows(&c, &at(1)).await,
        rows(&[&["1", "a"], &["2", "b"]])
    );
    assert_eq!(
        simple_rows(&c, &at(2)).await,
        rows(&[&["1", "a"], &["2", "c"]])
    );
    assert_eq!(simple_rows(&c, &at(3)).await, rows(&[&["2", "c"]]));
    assert_eq!(
        simple_rows(&c, "SELECT id, v FROM t@v2 ORDER BY id").await,
        rows(&[&["1", "a"], &["2", "c"]])
    );
    assert_eq!(
        simple_rows(&c, "SELECT id, v FROM t ORDER BY id").await,
        rows(&[&["2", "c"]])
    );
    // Qualified columns, joins of two versions, the extended protocol.
    assert_eq!(
        simple_rows(&c, "SELECT t.v FROM t VERSION AS OF 1 WHERE t.id = 2").await,
        rows(&[&["b"]])
    );
    assert_eq!(
        simple_rows(
            &c,
            "SELECT old.v, new.v FROM t VERSION AS OF 1 AS old JOIN t VERSION AS OF 3 AS new ON old.id = new.id"
        )
        .await,
        rows(&[&["b", "c"]])
    );
    let row = c
        .query_one(
            "SELECT count(*) FROM t VERSION AS OF 1 WHERE id > $1",
            &[&0i32],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 2);
    // CTAS and INSERT from an old version.
    c.batch_execute("CREATE TABLE t_v1 AS SELECT * FROM t VERSION AS OF 1; INSERT INTO t_v1 SELECT * FROM t VERSION AS OF 2 WHERE id = 2")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT id, v FROM t_v1 ORDER BY id, v").await,
        rows(&[&["1", "a"], &["2", "b"], &["2", "c"]])
    );
    // TIMESTAMP AS OF: now is the latest version; before the table existed is an error.
    assert_eq!(
        simple_rows(&c, "SELECT id FROM t TIMESTAMP AS OF now() ORDER BY id").await,
        rows(&[&["2"]])
    );
    expect_sqlstate(&c, "SELECT * FROM t TIMESTAMP AS OF '2000-01-01'", "22023").await;
    let err = expect_sqlstate(&c, "SELECT * FROM t VERSION AS OF 99", "22023").await;
    assert!(
        err.as_db_error().unwrap().message().contains("0 to 3"),
        "{err}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_detail_restore_and_vacuum() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE t (id INT, d DATE) PARTITIONED BY (d); \
         INSERT INTO t VALUES (1, DATE '2024-01-01'); \
         INSERT INTO t VALUES (2, DATE '2024-01-02'); \
         DELETE FROM t WHERE id = 1",
    )
    .await
    .unwrap();
    let history = simple_rows(&c, "DESCRIBE HISTORY t").await;
    let ops: Vec<(String, String)> = history
        .iter()
        .map(|r| (r[0].clone().unwrap(), r[2].clone().unwrap()))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("3".into(), "DELETE".into()),
            ("2".into(), "WRITE".into()),
            ("1".into(), "WRITE".into()),
            ("0".into(), "CREATE TABLE".into())
        ]
    );
    assert_eq!(simple_rows(&c, "DESCRIBE HISTORY t LIMIT 2").await.len(), 2);
    // The extended protocol describes the result columns too.
    let row = c.query_one("DESCRIBE DETAIL t", &[]).await.unwrap();
    assert_eq!(row.get::<_, String>("format"), "delta");
    assert_eq!(row.get::<_, i64>("numFiles"), 1);
    assert_eq!(
        row.get::<_, Vec<String>>("partitionColumns"),
        vec!["d".to_string()]
    );
    assert_eq!(row.get::<_, i64>("version"), 3);

    // The same metadata as tables, for tools that cannot send DESCRIBE.
    assert_eq!(
        simple_rows(&c, "SELECT max(version), count(*) FROM t$history").await,
        rows(&[&["3", "4"]])
    );
    assert_eq!(
        simple_rows(&c, "SELECT \"numFiles\" FROM \"t$detail\"").await,
        rows(&[&["1"]])
    );
    let files = simple_rows(
        &c,
        "SELECT path, num_records, partition_values, min_values FROM t$files",
    )
    .await;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0][1].as_deref(), Some("1"));
    assert!(
        files[0][2].as_deref().unwrap().contains("2024-01-02"),
        "{files:?}"
    );
    assert!(
        files[0][3].as_deref().unwrap().contains("\"id\":2"),
        "{files:?}"
    );

    let restored = simple_rows(&c, "RESTORE TABLE t TO VERSION AS OF 2").await;
    assert_eq!(restored[0][0].as_deref(), Some("4"));
    assert_eq!(
        simple_rows(&c, "SELECT id FROM t ORDER BY id").await,
        rows(&[&["1"], &["2"]])
    );
    assert_eq!(
        simple_rows(&c, "DESCRIBE HISTORY t LIMIT 1").await[0][2].as_deref(),
        Some("RESTORE")
    );
    c.batch_execute("DELETE FROM t WHERE id = 1").await.unwrap();

    // VACUUM below the default retention is refused unless the session allows it.
    let err = c
        .simple_query("VACUUM t RETAIN 0 HOURS DRY RUN")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "22023", "{err}");
    c.batch_execute("SET deltagres.retention_duration_check = off")
        .await
        .unwrap();
    let listed = simple_rows(&c, "VACUUM t RETAIN 0 HOURS DRY RUN").await;
    assert_eq!(
        listed.len(),
        1,
        "the deleted row's file is unreferenced: {listed:?}"
    );
    let file = server
        .data_dir
        .join("public/t")
        .join(listed[0][0].as_deref().unwrap());
    assert!(file.exists(), "DRY RUN deletes nothing: {}", file.display());
    let deleted = simple_rows(&c, "VACUUM t RETAIN 0 HOURS").await;
    assert_eq!(deleted, listed);
    assert!(!file.exists());
    assert_eq!(simple_rows(&c, "SELECT id FROM t").await, rows(&[&["2"]]));
    assert!(
        c.simple_query("SELECT * FROM t VERSION AS OF 1")
            .await
            .is_err(),
        "vacuumed data is gone"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_replace_where_is_an_idempotent_partition_reload() {
    insert_replace_where_is_an_idempotent_partition_reload_on(TestServer::start().await).await;
}

/// The same with `data_dir` on the S3 stand-in (issue 15).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_replace_where_is_an_idempotent_partition_reload_on_s3() {
    let s3 = S3::start(&[]);
    insert_replace_where_is_an_idempotent_partition_reload_on(s3.server("wh").await).await;
}

async fn insert_replace_where_is_an_idempotent_partition_reload_on(server: TestServer) {
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE orders (id INT, amount INT, d DATE) PARTITIONED BY (d); \
         INSERT INTO orders VALUES (1, 10, DATE '2024-01-01'), (2, 20, DATE '2024-01-02')",
    )
    .await
    .unwrap();
    for _ in 0..2 {
        let messages = c
            .simple_query(
                "INSERT INTO orders REPLACE WHERE d = DATE '2024-01-01' \
                 SELECT * FROM (VALUES (1, 11, DATE '2024-01-01'), (3, 30, DATE '2024-01-01')) AS v(id, amount, d)",
            )
            .await
            .unwrap();
        assert!(
            messages
                .iter()
                .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::CommandComplete(2)))
        );
        assert_eq!(
            simple_rows(&c, "SELECT id, amount FROM orders ORDER BY id").await,
            rows(&[&["1", "11"], &["2", "20"], &["3", "30"]])
        );
    }
    server.stop().await;
}

async fn merge_fixture(c: &tokio_postgres::Client) {
    c.batch_execute(
        "CREATE TABLE target (id INT, v TEXT, n INT); \
         INSERT INTO target VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3); \
         CREATE TABLE src (id INT, v TEXT, n INT, op TEXT); \
         INSERT INTO src VALUES (2, 'B', 20, 'upsert'), (3, NULL, NULL, 'delete'), (4, 'd', 40, 'upsert')",
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_clauses_match_the_same_change_done_by_hand() {
    merge_clauses_match_the_same_change_done_by_hand_on(TestServer::start().await).await;
}

/// The same with `data_dir` on the S3 stand-in (issue 15).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_clauses_match_the_same_change_done_by_hand_on_s3() {
    let s3 = S3::start(&[]);
    merge_clauses_match_the_same_change_done_by_hand_on(s3.server("wh").await).await;
}

async fn merge_clauses_match_the_same_change_done_by_hand_on(server: TestServer) {
    let c = server.client().await;
    merge_fixture(&c).await;
    let messages = c
        .simple_query(
            "MERGE INTO target t USING src s ON t.id = s.id \
             WHEN MATCHED AND s.op = 'delete' THEN DELETE \
             WHEN MATCHED THEN UPDATE SET v = s.v, n = s.n \
             WHEN NOT MATCHED THEN INSERT (id, v, n) VALUES (s.id, s.v, s.n)",
        )
        .await
        .unwrap();
    assert!(
        messages
            .iter()
            .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::CommandComplete(3)))
    );
    let merged = simple_rows(&c, "SELECT id, v, n FROM target ORDER BY id").await;
    // The same change by hand on a copy.
    c.batch_execute(
        "CREATE TABLE by_hand AS SELECT * FROM target VERSION AS OF 1; \
         DELETE FROM by_hand WHERE id = 3; \
         UPDATE by_hand SET v = 'B', n = 20 WHERE id = 2; \
         INSERT INTO by_hand VALUES (4, 'd', 40)",
    )
    .await
    .unwrap();
    assert_eq!(
        merged,
        simple_rows(&c, "SELECT id, v, n FROM by_hand ORDER BY id").await
    );
    assert_eq!(
        merged,
        rows(&[&["1", "a", "1"], &["2", "B", "20"], &["4", "d", "40"]])
    );
    assert_eq!(
        simple_rows(&c, "DESCRIBE HISTORY target LIMIT 1").await[0][2].as_deref(),
        Some("MERGE")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_star_by_source_values_and_time_travelled_sources() {
    merge_star_by_source_values_and_time_travelled_sources_on(TestServer::start().await).await;
}

/// The same with `data_dir` on the S3 stand-in (issue 15).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_star_by_source_values_and_time_travelled_sources_on_s3() {
    let s3 = S3::start(&[]);
    merge_star_by_source_values_and_time_travelled_sources_on(s3.server("wh").await).await;
}

async fn merge_star_by_source_values_and_time_travelled_sources_on(server: TestServer) {
    let c = server.client().await;
    merge_fixture(&c).await;
    // UPDATE SET * / INSERT * with a subquery source; NOT MATCHED BY SOURCE deletes the rest.
    c.batch_execute(
        "MERGE INTO target t USING (SELECT id, v, n FROM src WHERE op = 'upsert') s ON t.id = s.id \
         WHEN MATCHED THEN UPDATE SET * \
         WHEN NOT MATCHED THEN INSERT * \
         WHEN NOT MATCHED BY SOURCE AND t.id = 1 THEN DELETE",
    )
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT id, v, n FROM target ORDER BY id").await,
        rows(&[&["2", "B", "20"], &["3", "c", "3"], &["4", "d", "40"]])
    );
    // VALUES as the source, and NOT MATCHED BY SOURCE with an UPDATE.
    c.batch_execute(
        "MERGE INTO target t USING (VALUES (3, 'C')) AS s(id, v) ON t.id = s.id \
         WHEN MATCHED THEN UPDATE SET v = s.v \
         WHEN NOT MATCHED BY SOURCE THEN UPDATE SET n = t.n + 1",
    )
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT id, v, n FROM target ORDER BY id").await,
        rows(&[&["2", "B", "21"], &["3", "C", "3"], &["4", "d", "41"]])
    );
    // A time-travelled source: the version of target before any MERGE restores the old values.
    c.batch_execute(
        "MERGE INTO target t USING target VERSION AS OF 1 AS old ON t.id = old.id \
         WHEN MATCHED THEN UPDATE SET v = old.v, n = old.n",
    )
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT id, v, n FROM target ORDER BY id").await,
        rows(&[&["2", "b", "2"], &["3", "c", "3"], &["4", "d", "41"]])
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_errors_on_multiple_matches_and_evolves_schema() {
    merge_errors_on_multiple_matches_and_evolves_schema_on(TestServer::start().await).await;
}

/// The same with `data_dir` on the S3 stand-in (issue 15).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_errors_on_multiple_matches_and_evolves_schema_on_s3() {
    let s3 = S3::start(&[]);
    merge_errors_on_multiple_matches_and_evolves_schema_on(s3.server("wh").await).await;
}

async fn merge_errors_on_multiple_matches_and_evolves_schema_on(server: TestServer) {
    let c = server.client().await;
    merge_fixture(&c).await;
    let err = expect_sqlstate(
        &c,
        "MERGE INTO target t USING (VALUES (2, 'x'), (2, 'y')) AS s(id, v) ON t.id = s.id \
             WHEN MATCHED THEN UPDATE SET v = s.v",
        "21000",
    )
    .await;
    let db = err.as_db_error().unwrap();
    assert!(db.detail().unwrap_or_default().contains('2'), "{db:?}");
    assert_eq!(
        simple_rows(&c, "SELECT v FROM target WHERE id = 2").await,
        rows(&[&["b"]]),
        "a failed MERGE changes nothing"
    );
    c.batch_execute(
        "MERGE WITH SCHEMA EVOLUTION INTO target t \
         USING (SELECT 1 AS id, 'a2' AS v, 10 AS n, 'web' AS channel) s ON t.id = s.id \
         WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *",
    )
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT id, v, channel FROM target ORDER BY id").await,
        rows(&[
            &["1", "a2", "web"],
            &["2", "b", "NULL"],
            &["3", "c", "NULL"]
        ])
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_parquet_loads_files_and_paths_are_confined() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("orders");
    std::fs::create_dir_all(&files).unwrap();
    let script = format!(
        "import pyarrow as pa, pyarrow.parquet as pq\n\
         pq.write_table(pa.table({{'id': [1, 2], 'c': ['x', 'y']}}), {a:?})\n\
         pq.write_table(pa.table({{'id': [3], 'c': ['z']}}), {b:?})",
        a = files.join("part-1.parquet").to_str().unwrap(),
        b = files.join("part-2.parquet").to_str().unwrap()
    );
    run_python(&script);
    c.batch_execute(&format!(
        "CREATE TABLE raw AS SELECT * FROM read_parquet('{}/*.parquet')",
        files.display()
    ))
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT id, c FROM raw ORDER BY id").await,
        rows(&[&["1", "x"], &["2", "y"], &["3", "z"]])
    );
    expect_sqlstate(&c, "SELECT * FROM read_parquet('/etc/*.parquet')", "42501").await;
    expect_sqlstate(
        &c,
        "CREATE TABLE escape (id INT) LOCATION '/root/escape'",
        "42501",
    )
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_tables_and_convert_to_delta() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("events");
    let script = format!(
        "import os, pyarrow as pa, pyarrow.parquet as pq\n\
         for day, ids in (('2024-01-01', [1, 2]), ('2024-01-02', [3])):\n\
         \x20   d = os.path.join({root:?}, 'day=' + day)\n\
         \x20   os.makedirs(d)\n\
         \x20   pq.write_table(pa.table({{'id': ids}}), os.path.join(d, 'part-0.parquet'))",
        root = folder.to_str().unwrap()
    );
    run_python(&script);
    let rows_sql = format!(
        "SELECT count(*) FROM parquet.`{}/day=2024-01-01/*.parquet`",
        folder.display()
    );
    assert_eq!(simple_rows(&c, &rows_sql).await, rows(&[&["2"]]));
    c.batch_execute(&format!(
        "CONVERT TO DELTA parquet.`{}` PARTITIONED BY (day DATE)",
        folder.display()
    ))
    .await
    .unwrap();
    assert!(folder.join("_delta_log").is_dir());
    c.batch_execute(&format!(
        "CREATE TABLE events LOCATION '{}'",
        folder.display()
    ))
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT id, day FROM events ORDER BY id").await,
        rows(&[
            &["1", "2024-01-01"],
            &["2", "2024-01-01"],
            &["3", "2024-01-02"]
        ])
    );
    expect_sqlstate(&c, "SELECT * FROM parquet.`/etc`", "42501").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_to_the_current_version_and_optimize_file_counts() {
    restore_to_the_current_version_and_optimize_file_counts_on(TestServer::start().await).await;
}

/// The same with `data_dir` on the S3 stand-in (issue 15).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_to_the_current_version_and_optimize_file_counts_on_s3() {
    let s3 = S3::start(&[]);
    restore_to_the_current_version_and_optimize_file_counts_on(s3.server("wh").await).await;
}

async fn restore_to_the_current_version_and_optimize_file_counts_on(server: TestServer) {
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE r (a BIGINT, b TEXT); \
             INSERT INTO r SELECT i, 'x' || i FROM generate_series(1, 100) t(i); \
             INSERT INTO r SELECT i, 'y' || i FROM generate_series(1, 100) t(i);",
        )
        .await
        .unwrap();
    // Z-ordering two files into one: one added, two removed (our z-order commit has no
    // operation metrics, so the counts come from the file lists).
    let optimized = simple_rows(&client, "OPTIMIZE r ZORDER BY (a, b)").await;
    assert_eq!(optimized[0][1].as_deref(), Some("1"), "{optimized:?}");
    assert_eq!(optimized[0][2].as_deref(), Some("2"), "{optimized:?}");
    // RESTORE to the version the table is at commits nothing and says so.
    let restored = simple_rows(&client, "RESTORE TABLE r TO VERSION AS OF 3").await;
    assert_eq!(restored[0][0].as_deref(), Some("3"));
    let versions = simple_rows(&client, "DESCRIBE HISTORY r").await.len();
    assert_eq!(versions, 4, "no version was added by the RESTORE");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_where_takes_the_query_columns_by_position() {
    replace_where_takes_the_query_columns_by_position_on(TestServer::start().await).await;
}

/// The same with `data_dir` on the S3 stand-in (issue 15).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_where_takes_the_query_columns_by_position_on_s3() {
    let s3 = S3::start(&[]);
    replace_where_takes_the_query_columns_by_position_on(s3.server("wh").await).await;
}

async fn replace_where_takes_the_query_columns_by_position_on(server: TestServer) {
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE r (id BIGINT, v TEXT); INSERT INTO r VALUES (1, 'a'), (3, 'c'), (4, 'd')",
    )
    .await
    .unwrap();
    // Unnamed expressions fill the table's columns in order, as in any INSERT ... SELECT.
    c.batch_execute("INSERT INTO r REPLACE WHERE id >= 3 SELECT id * 10, v FROM r WHERE id >= 3")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT id, v FROM r ORDER BY id").await,
        rows(&[&["1", "a"], &["30", "c"], &["40", "d"]])
    );
    // Names do not matter, positions do: `v` and `id` swapped by name still land by position.
    c.batch_execute("INSERT INTO r REPLACE WHERE id = 1 SELECT 1 AS v, 'A' AS id")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT id, v FROM r ORDER BY id").await,
        rows(&[&["1", "A"], &["30", "c"], &["40", "d"]])
    );
    expect_sqlstate(
        &c,
        "INSERT INTO r REPLACE WHERE id = 1 SELECT 1, 'a', 'extra'",
        "42601",
    )
    .await;
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM r").await,
        rows(&[&["3"]])
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_refuses_a_clause_after_an_unconditional_one() {
    let server = TestServer::start().await;
    let c = server.client().await;
    merge_fixture(&c).await;
    // PostgreSQL 15 refuses both with 42601 "unreachable WHEN clause specified after
    // unconditional WHEN clause".
    for merge in [
        "MERGE INTO target t USING src s ON t.id = s.id \
         WHEN MATCHED THEN UPDATE SET n = s.n WHEN MATCHED THEN DELETE",
        "MERGE INTO target t USING src s ON t.id = s.id \
         WHEN NOT MATCHED THEN INSERT (id, v, n) VALUES (s.id, s.v, s.n) \
         WHEN NOT MATCHED AND s.id > 3 THEN INSERT (id, v, n) VALUES (s.id, 'x', 0)",
    ] {
        let e = expect_sqlstate(&c, merge, "42601").await;
        let message = e.as_db_error().map(|d| d.message().to_string());
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("unreachable WHEN clause")),
            "{message:?}"
        );
    }
    assert_eq!(
        simple_rows(&c, "SELECT id, v, n FROM target ORDER BY id").await,
        rows(&[&["1", "a", "1"], &["2", "b", "2"], &["3", "c", "3"]])
    );
    server.stop().await;
}
