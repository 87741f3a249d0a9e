//! Statements that once lost rows or answered another question than the one asked (issue 18):
//! each test here failed before its fix. OPTIMIZE on every partition type, with a concurrent
//! appender; COPY of a time-travelled query; column options a Delta table cannot keep; LIMIT on
//! a query that reads no column of its table; FLOAT columns that kept 7 digits.

use tokio_postgres::Client;

use crate::support::{TestServer, expect_sqlstate, simple_rows};

/// Every row of `t` as text, in a stable order.
async fn all_rows(c: &Client, table: &str) -> Vec<Vec<Option<String>>> {
    simple_rows(
        c,
        &format!("SELECT x, CAST(p AS TEXT) FROM {table} ORDER BY x"),
    )
    .await
}

/// One partition type: its SQL type, the partition values (SQL literals, NULL included) and
/// predicates on them of each kind OPTIMIZE WHERE takes.
struct PartitionCase {
    sql_type: &'static str,
    values: [&'static str; 4],
    predicates: [&'static str; 5],
}

const CASES: &[PartitionCase] = &[
    PartitionCase {
        sql_type: "INT",
        values: ["9", "10", "11", "NULL"],
        predicates: ["p >= 10", "p = 10", "p IN (9, 11)", "p <> 10", "p < 10"],
    },
    PartitionCase {
        sql_type: "BIGINT",
        values: ["9", "10", "100000000000", "NULL"],
        predicates: [
            "p >= 10",
            "p = 100000000000",
            "p IN (9, 10)",
            "p <> 10",
            "p <= 9",
        ],
    },
    PartitionCase {
        sql_type: "DATE",
        values: [
            "DATE '2024-01-01'",
            "DATE '2024-01-02'",
            "DATE '2024-02-01'",
            "NULL",
        ],
        predicates: [
            "p >= DATE '2024-01-02'",
            "p = DATE '2024-01-02'",
            "p IN (DATE '2024-01-01', DATE '2024-02-01')",
            "p <> DATE '2024-01-02'",
            "p = '2024-02-01'",
        ],
    },
    PartitionCase {
        sql_type: "TIMESTAMP",
        values: [
            "TIMESTAMP '2024-01-01 00:00:00'",
            "TIMESTAMP '2024-01-01 12:30:00'",
            "TIMESTAMP '2024-01-02 00:00:00'",
            "NULL",
        ],
        predicates: [
            "p >= TIMESTAMP '2024-01-01 12:30:00'",
            "p = TIMESTAMP '2024-01-02 00:00:00'",
            "p IN (TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-02 00:00:00')",
            "p <> TIMESTAMP '2024-01-01 12:30:00'",
            "p < TIMESTAMP '2024-01-01 12:30:00'",
        ],
    },
    PartitionCase {
        sql_type: "TEXT",
        values: ["'a'", "'b'", "'c'", "NULL"],
        predicates: [
            "p >= 'b'",
            "p = 'b'",
            "p IN ('a', 'c')",
            "p <> 'b'",
            "p < 'b'",
        ],
    },
    PartitionCase {
        sql_type: "BOOLEAN",
        values: ["true", "false", "true", "NULL"],
        predicates: [
            "p = true",
            "p = false",
            "p IN (false)",
            "p <> true",
            "p >= true",
        ],
    },
    PartitionCase {
        sql_type: "DECIMAL(5,2)",
        values: ["1.50", "2.00", "10.25", "NULL"],
        predicates: [
            "p >= 2.00",
            "p = 1.50",
            "p IN (1.50, 10.25)",
            "p <> 2.00",
            "p < 2",
        ],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optimize_where_keeps_every_row_on_every_partition_type() {
    let server = TestServer::start().await;
    let c = server.client().await;
    for (n, case) in CASES.iter().enumerate() {
        let table = format!("zp{n}");
        c.batch_execute(&format!(
            "CREATE TABLE {table} (x INT, p {}) PARTITIONED BY (p)",
            case.sql_type
        ))
        .await
        .unwrap();
        let mut next_x = 0;
        let mut inserted = 0usize;
        for predicate in case.predicates {
            // Two more small files in every partition before each OPTIMIZE.
            for _ in 0..2 {
                let rows: Vec<String> = case
                    .values
                    .iter()
                    .map(|v| {
                        next_x += 1;
                        format!("({next_x}, {v})")
                    })
                    .collect();
                c.batch_execute(&format!("INSERT INTO {table} VALUES {}", rows.join(", ")))
                    .await
                    .unwrap();
                inserted += rows.len();
            }
            for statement in [
                format!("OPTIMIZE {table} WHERE {predicate} ZORDER BY (x)"),
                format!("OPTIMIZE {table} WHERE {predicate}"),
            ] {
                let before = all_rows(&c, &table).await;
                assert_eq!(
                    before.len(),
                    inserted,
                    "{}: rows before {statement}",
                    case.sql_type
                );
                simple_rows(&c, &statement).await;
                assert_eq!(
                    all_rows(&c, &table).await,
                    before,
                    "{}: {statement} changed the table's rows",
                    case.sql_type
                );
            }
        }
        // Everything once more, without WHERE.
        let before = all_rows(&c, &table).await;
        simple_rows(&c, &format!("OPTIMIZE {table} ZORDER BY (x)")).await;
        assert_eq!(all_rows(&c, &table).await, before, "{}", case.sql_type);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optimize_where_rewrites_only_the_selected_partitions() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE zp (x INT, p INT) PARTITIONED BY (p); \
         INSERT INTO zp VALUES (1, 9), (2, 9), (3, 10), (4, 10), (5, 11); \
         INSERT INTO zp VALUES (6, 9), (7, 10), (8, 11)",
    )
    .await
    .unwrap();
    async fn files(c: &Client) -> Vec<Vec<Option<String>>> {
        simple_rows(
            c,
            "SELECT partition_values, count(*) FROM \"zp$files\" GROUP BY 1 ORDER BY 1",
        )
        .await
    }
    let before = files(&c).await;
    let result = simple_rows(&c, "OPTIMIZE zp WHERE p >= 10 ZORDER BY (x)").await;
    assert_eq!(
        result[0][2].as_deref(),
        Some("4"),
        "files removed: {result:?}"
    );
    assert_eq!(
        result[0][1].as_deref(),
        Some("2"),
        "files added: {result:?}"
    );
    assert_eq!(
        simple_rows(&c, "SELECT p, count(*) FROM zp GROUP BY p ORDER BY p").await,
        vec![
            vec![Some("9".into()), Some("3".into())],
            vec![Some("10".into()), Some("3".into())],
            vec![Some("11".into()), Some("2".into())],
        ]
    );
    let after = files(&c).await;
    // Rows are sorted by the partition text: {"p":"10"}, {"p":"11"}, {"p":"9"}.
    assert_eq!(after.len(), 3);
    assert_eq!(
        after[2], before[2],
        "p = 9 is outside the WHERE: its files stay"
    );
    assert_eq!(before[2][1].as_deref(), Some("2"));
    assert!(
        after[..2].iter().all(|r| r[1].as_deref() == Some("1")),
        "{after:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optimize_zorder_with_a_concurrent_appender_loses_and_duplicates_nothing() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE busy (x BIGINT, y BIGINT, d INT) PARTITIONED BY (d); \
         INSERT INTO busy SELECT v, v % 997, v % 2 FROM generate_series(1, 200000) AS t(v); \
         INSERT INTO busy SELECT v, v % 991, v % 2 FROM generate_series(200001, 300000) AS t(v)",
    )
    .await
    .unwrap();
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let appender = {
        let c = server.client().await;
        tokio::spawn(async move {
            let mut appended = 0i64;
            let stop = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
            for i in 0..10_000i64 {
                if tokio::time::Instant::now() > stop {
                    break;
                }
                let x = 1_000_000 + i;
                c.batch_execute(&format!("INSERT INTO busy VALUES ({x}, 1, {})", i % 2))
                    .await
                    .unwrap();
                appended += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                if DONE.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
            }
            appended
        })
    };
    // Let the appender get going, then z-order while it appends.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let optimized = c
        .simple_query("OPTIMIZE busy ZORDER BY (x, y)")
        .await
        .map(|_| ());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    DONE.store(true, std::sync::atomic::Ordering::SeqCst);
    let appended = appender.await.unwrap();
    assert!(appended > 0, "the appender ran");
    // A conflict (40001) would be a correct outcome too, but appends never conflict with a
    // rewrite of other files.
    optimized.expect("OPTIMIZE commits beside blind appends");
    let rows = simple_rows(&c, "SELECT count(*), count(DISTINCT x), sum(x) FROM busy").await;
    let total = 300_000 + appended;
    let sum: i64 =
        (1..=300_000i64).sum::<i64>() + (0..appended).map(|i| 1_000_000 + i).sum::<i64>();
    assert_eq!(
        rows,
        vec![vec![
            Some(total.to_string()),
            Some(total.to_string()),
            Some(sum.to_string())
        ]],
        "every row once ({appended} appended during the rewrite)"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_to_stdout_reads_the_version_asked_for() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE cv (id INT); INSERT INTO cv VALUES (1); INSERT INTO cv VALUES (2)",
    )
    .await
    .unwrap();
    let psql = crate::support::require_tool("psql");
    let out = std::process::Command::new(psql)
        .arg(server.url())
        .args([
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "COPY (SELECT count(*) FROM cv VERSION AS OF 1) TO STDOUT",
            "-c",
            "COPY (SELECT id FROM cv VERSION AS OF 1 ORDER BY id) TO STDOUT",
            "-c",
            "COPY (SELECT a.id FROM cv VERSION AS OF 2 a JOIN cv VERSION AS OF 1 b ON a.id >= b.id ORDER BY 1) TO STDOUT",
        ])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n1\n1\n2\n");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_options_a_delta_table_cannot_keep_are_refused() {
    let server = TestServer::start().await;
    let c = server.client().await;
    for create in [
        "CREATE TABLE d (a INT, c INT PRIMARY KEY)",
        "CREATE TABLE d (a INT UNIQUE)",
        "CREATE TABLE d (a INT, PRIMARY KEY (a))",
        "CREATE TABLE d (a INT REFERENCES other (id))",
        // Identity columns are Delta's (tests/it/identity.rs): bigint, START and INCREMENT only.
        "CREATE TABLE d (id INT GENERATED ALWAYS AS IDENTITY, x TEXT)",
        "CREATE TABLE d (id BIGINT GENERATED BY DEFAULT AS IDENTITY (MAXVALUE 10), x TEXT)",
    ] {
        let err = expect_sqlstate(&c, create, "0A000").await;
        let message = err.as_db_error().unwrap().message().to_string();
        assert!(message.contains("not supported"), "{create}: {message}");
        // Nothing was created: the refused statement leaves no table behind.
        expect_sqlstate(&c, "SELECT * FROM d", "42P01").await;
    }
    c.batch_execute("CREATE TABLE d (a INT NOT NULL, b TEXT NULL DEFAULT NULL)")
        .await
        .unwrap();
    expect_sqlstate(&c, "ALTER TABLE d ADD COLUMN e INT DEFAULT 5", "0A000").await;
    assert_eq!(
        simple_rows(
            &c,
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'd' ORDER BY ordinal_position"
        )
        .await,
        vec![vec![Some("a".into())], vec![Some("b".into())]]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_rewrites_never_touch_user_tables() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE pg_like (id INT, v TEXT); \
         INSERT INTO pg_like VALUES (1, 'a'), (2, 'b'), (3, 'c')",
    )
    .await
    .unwrap();
    // The text mentions `pg_`, `array_` and `current_schema`: a scalar subquery over a user table
    // that returns several rows is still PostgreSQL's 21000, not its first row.
    let err = c
        .simple_query(
            "SELECT (SELECT v FROM public.pg_like) AS v, current_schema(), 'pg_x', array_length(ARRAY[1], 1)",
        )
        .await
        .expect_err("a scalar subquery of three rows is an error");
    assert!(
        !crate::support::sqlstate(&err).starts_with("not a server"),
        "{err}"
    );
    // A correlated subquery over user rows answers exactly, or fails; it never turns into NULL.
    let sql = "SELECT a.id, (SELECT count(*) FROM public.pg_like b WHERE b.id > a.id) AS later, \
               current_schema() AS s FROM public.pg_like a ORDER BY a.id";
    if let Ok(messages) = c.simple_query(sql).await {
        let rows: Vec<Vec<Option<String>>> = messages
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => {
                    Some((0..2).map(|i| r.get(i).map(str::to_string)).collect())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                vec![Some("1".into()), Some("2".into())],
                vec![Some("2".into()), Some("1".into())],
                vec![Some("3".into()), Some("0".into())],
            ]
        );
    }
    // Catalog queries keep working (psql's \dt sends one of this shape).
    let tables = simple_rows(
        &c,
        "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1",
    )
    .await;
    assert_eq!(tables, vec![vec![Some("pg_like".into())]]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_and_delete_run_in_the_session() {
    let server = TestServer::start().await;
    let c = server.client().await;
    // Our functions resolve inside UPDATE and DELETE (delta-rs's default session lacks them).
    c.batch_execute(
        "CREATE TABLE h (id BIGINT, hash BIGINT, ts TIMESTAMPTZ); \
         INSERT INTO h VALUES (1, NULL, NULL), (2, NULL, NULL), (3, NULL, NULL); \
         UPDATE h SET hash = deltagres_row_hash(id) WHERE id >= 2; \
         DELETE FROM h WHERE deltagres_row_hash(id) >= 0 AND id = 3",
    )
    .await
    .expect("our functions work in UPDATE and DELETE");
    assert_eq!(
        simple_rows(&c, "SELECT id, hash IS NOT NULL FROM h ORDER BY id").await,
        vec![
            vec![Some("1".into()), Some("f".into())],
            vec![Some("2".into()), Some("t".into())],
        ]
    );
    // A local time in UPDATE is read in the session's time zone, as the same text in a query.
    c.batch_execute(
        "SET TIME ZONE 'Asia/Tokyo'; \
         UPDATE h SET ts = CAST(TIMESTAMP '2024-01-01 09:00:00' AS TIMESTAMPTZ)",
    )
    .await
    .unwrap();
    c.batch_execute("SET TIME ZONE 'UTC'").await.unwrap();
    assert_eq!(
        simple_rows(
            &c,
            "SELECT count(*) FROM h WHERE ts = TIMESTAMPTZ '2024-01-01 00:00:00+00'"
        )
        .await,
        vec![vec![Some("2".into())]],
        "09:00 in Tokyo is 00:00 UTC"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_follows_deltas_multiple_match_rule() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE m (id INT, v TEXT); INSERT INTO m VALUES (1, 'a'), (2, 'b'), (3, 'c')",
    )
    .await
    .unwrap();
    // Two source rows deleting the same target row: allowed (Delta and Databricks).
    c.batch_execute(
        "MERGE INTO m USING (VALUES (2), (2)) AS s(id) ON m.id = s.id WHEN MATCHED THEN DELETE",
    )
    .await
    .expect("several matches that all delete are not ambiguous");
    // Two source rows updating the same target row: 21000, and nothing changes.
    let err = expect_sqlstate(
        &c,
        "MERGE INTO m USING (VALUES (3, 'x'), (3, 'y'), (1, 'z')) AS s(id, v) ON m.id = s.id \
         WHEN MATCHED THEN UPDATE SET v = s.v",
        "21000",
    )
    .await;
    let detail = err
        .as_db_error()
        .unwrap()
        .detail()
        .unwrap_or_default()
        .to_string();
    assert!(
        detail.contains("= (3)"),
        "the detail names the key: {detail}"
    );
    assert_eq!(
        simple_rows(&c, "SELECT id, v FROM m ORDER BY id").await,
        vec![
            vec![Some("1".into()), Some("a".into())],
            vec![Some("3".into()), Some("c".into())],
        ]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_that_collide_with_internal_markers() {
    let server = TestServer::start().await;
    let c = server.client().await;
    // A `$` in a table name: the table wins over the `t$history` metadata tables.
    c.batch_execute(
        "CREATE TABLE \"price$usd\" (id INT); INSERT INTO \"price$usd\" VALUES (7); \
         CREATE TABLE \"t$history\" (id INT); INSERT INTO \"t$history\" VALUES (8); \
         CREATE TABLE t (id INT)",
    )
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT id FROM \"price$usd\"").await,
        vec![vec![Some("7".into())]]
    );
    assert_eq!(
        simple_rows(&c, "SELECT id FROM \"t$history\"").await,
        vec![vec![Some("8".into())]]
    );
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM \"price$usd$history\"").await,
        vec![vec![Some("2".into())]],
        "the metadata table of a `$` table"
    );
    // The marker MERGE's `UPDATE SET *` travels as cannot be a user's name.
    expect_sqlstate(&c, "CREATE TABLE s (\"__deltagres_star\" INT)", "42939").await;
    expect_sqlstate(
        &c,
        "MERGE INTO t USING t AS s ON t.id = s.id WHEN MATCHED THEN UPDATE SET \"__deltagres_star\" = 1",
        "42939",
    )
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_from_and_delete_using_as_in_postgresql() {
    // What dbt's snapshots and its delete+insert strategy send, run on PostgreSQL 15 and here:
    // the same command tags and the same rows after every statement.
    let postgres = crate::support::Postgres::start();
    let server = TestServer::start().await;
    let statements = [
        "CREATE TABLE tgt (id INT, v TEXT, valid_to TEXT)",
        "INSERT INTO tgt VALUES (1, 'a', NULL), (2, 'b', NULL), (3, 'c', NULL), (4, 'd', 'x')",
        "CREATE TABLE src (id INT, v TEXT, change TEXT)",
        "INSERT INTO src VALUES (1, 'a2', 'update'), (3, 'c2', 'delete'), (5, 'e', 'insert')",
        "UPDATE tgt SET valid_to = s.v FROM src AS s \
         WHERE s.id = tgt.id AND s.change IN ('update', 'delete') AND tgt.valid_to IS NULL",
        "UPDATE public.tgt SET v = upper(public.src.v) FROM public.src \
         WHERE public.src.id = public.tgt.id AND public.src.change = 'update'",
        "UPDATE tgt AS t SET v = t.v || '!' FROM (SELECT id FROM src WHERE change = 'insert') AS n \
         WHERE n.id = t.id",
        "DELETE FROM tgt USING src WHERE (src.id) = (tgt.id) AND src.change = 'delete'",
        "DELETE FROM tgt AS t USING (SELECT id FROM src UNION ALL SELECT id FROM src) AS d \
         WHERE d.id = t.id",
    ];
    let run = |url: String| {
        let mut command = std::process::Command::new(crate::support::require_tool("psql"));
        command
            .arg(url)
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"]);
        for sql in statements {
            command.args(["-c", sql, "-c", "SELECT * FROM tgt ORDER BY id"]);
        }
        let out = command.output().expect("psql runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let expected = run(postgres.url());
    let ours = run(server.url());
    assert_eq!(ours, expected);
    // Two source rows updating one target row: PostgreSQL picks one; we refuse (21000).
    let c = server.client().await;
    expect_sqlstate(
        &c,
        "UPDATE src SET v = d.v FROM (VALUES (1, 'x'), (1, 'y')) AS d(id, v) WHERE d.id = src.id",
        "21000",
    )
    .await;
    server.stop().await;
}

/// `SELECT 1 FROM t LIMIT 1` returned every row of `t`: delta-rs answers a scan that needs no
/// column from the log's row counts, with an operator that lets DataFusion drop the limit (see
/// plan/leaf_limits.rs). PostgreSQL 15 answers the same statements on the same rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_holds_on_a_query_that_reads_no_column() {
    let postgres = crate::support::Postgres::start();
    let server = TestServer::start().await;
    let setup = [
        "CREATE TABLE probe (id INT, day TEXT)",
        "INSERT INTO probe SELECT i, 'a' FROM generate_series(1, 300) AS t(i)",
        "INSERT INTO probe SELECT i, 'b' FROM generate_series(301, 500) AS t(i)",
    ];
    let script = [
        "SELECT 1 FROM probe LIMIT 1",
        "SELECT 'x' AS x FROM probe LIMIT 3",
        "SELECT 1 FROM probe OFFSET 498 LIMIT 5",
        "SELECT count(*) FROM probe OFFSET 0",
        "SELECT count(*) FROM (SELECT 1 FROM probe LIMIT 7) s",
        "SELECT count(*) FROM (SELECT 1 FROM probe OFFSET 450) s",
        "SELECT EXISTS (SELECT 1 FROM probe)",
        "SELECT 1 FROM probe WHERE day = 'b' LIMIT 2",
        "SELECT count(*) FROM (SELECT 1 FROM probe) s",
    ];
    let (ours, theirs) = (server.client().await, postgres.client().await);
    for sql in setup {
        ours.batch_execute(sql).await.unwrap();
        theirs.batch_execute(sql).await.unwrap();
    }
    let expected = crate::support::script_answers(&theirs, &script).await;
    let got = crate::support::script_answers(&ours, &script).await;
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g, e);
    }
    assert_eq!(got.len(), expected.len());
    // The same through time travel (a catalog of its own) and with the limit as a parameter.
    let rows = simple_rows(&ours, "SELECT 1 FROM probe VERSION AS OF 1 LIMIT 2").await;
    assert_eq!(rows.len(), 2);
    let limited = "SELECT 1 FROM probe LIMIT $1 OFFSET $2";
    let rows = ours.query(limited, &[&3i64, &0i64]).await.unwrap();
    assert_eq!(rows.len(), 3);
    // Described as PostgreSQL describes them (bigint), so drivers bind integers to them.
    let (a, b) = (
        ours.prepare(limited).await.unwrap(),
        theirs.prepare(limited).await.unwrap(),
    );
    assert_eq!(a.params(), b.params());
    server.stop().await;
}

/// A `FLOAT` column stored 4-byte reals (7 significant digits) where PostgreSQL stores double
/// precision; `FETCH FIRST n ROWS ONLY` was refused. PostgreSQL 15 answers the same statements.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn float_columns_are_double_precision_and_fetch_first_is_a_limit() {
    let postgres = crate::support::Postgres::start();
    let server = TestServer::start().await;
    let script = [
        "CREATE TABLE fl (id INT, a FLOAT, b FLOAT(10), c FLOAT(40), d FLOAT[])",
        "INSERT INTO fl VALUES (1, 1.0 / 3, 1.0 / 3, 1.0 / 3, ARRAY[0.1::float8]), \
         (2, 123456789.123, 123456789.123, 123456789.123, NULL), (3, NULL, NULL, NULL, NULL)",
        "SELECT * FROM fl ORDER BY id",
        "ALTER TABLE fl ADD COLUMN e FLOAT",
        "UPDATE fl SET e = a * 3 WHERE id = 1",
        "SELECT id, e FROM fl ORDER BY id",
        "SELECT id FROM fl ORDER BY id FETCH FIRST 2 ROWS ONLY",
        "SELECT id FROM fl ORDER BY id OFFSET 1 ROWS FETCH NEXT 1 ROW ONLY",
        "SELECT (SELECT id FROM fl ORDER BY id DESC FETCH FIRST ROW ONLY)",
    ];
    let expected = crate::support::script_answers(&postgres.client().await, &script).await;
    let got = crate::support::script_answers(&server.client().await, &script).await;
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g, e);
    }
    // psql and drivers see the column type PostgreSQL gives: double precision.
    let types = simple_rows(
        &server.client().await,
        "SELECT column_name, data_type FROM information_schema.columns \
         WHERE table_name = 'fl' ORDER BY ordinal_position",
    )
    .await;
    let types: Vec<String> = types.into_iter().filter_map(|r| r[1].clone()).collect();
    assert_eq!(
        types,
        [
            "integer",
            "double precision",
            "real",
            "double precision",
            "ARRAY",
            "double precision"
        ]
    );
    server.stop().await;
}

/// UPDATE and DELETE whose WHERE or SET holds an uncorrelated scalar subquery (it was 0A000) run
/// with the subquery's value, as PostgreSQL computes it once; more than one row is 21000 and
/// writes nothing; a correlated one stays refused. Compared with PostgreSQL 15.
#[tokio::test]
async fn update_and_delete_take_uncorrelated_scalar_subqueries() {
    let postgres = crate::support::Postgres::start();
    let server = TestServer::start().await;
    let script = [
        "CREATE TABLE sq (id INT, v TEXT, n NUMERIC(10, 2), d DATE)",
        "CREATE TABLE limits (k TEXT, n NUMERIC(10, 2), d DATE)",
        "INSERT INTO sq VALUES (1, 'a', 10.50, '2024-01-01'), (2, 'b', 20, '2024-02-01'), \
         (3, 'c', NULL, NULL), (4, 'd', 40.25, '2024-03-01')",
        "INSERT INTO limits VALUES ('max', 30, '2024-01-15'), ('min', 5, NULL)",
        "UPDATE sq SET n = n + 1 WHERE n > (SELECT avg(n) FROM sq)",
        "SELECT * FROM sq ORDER BY id",
        "UPDATE sq SET n = (SELECT n FROM limits WHERE k = 'min') WHERE n IS NULL",
        "UPDATE sq SET v = (SELECT max(v) FROM sq) || '!' WHERE d < (SELECT d FROM limits WHERE k = 'max')",
        "SELECT * FROM sq ORDER BY id",
        "DELETE FROM sq WHERE n >= (SELECT n FROM limits WHERE k = 'max')",
        "SELECT * FROM sq ORDER BY id",
        "DELETE FROM sq WHERE d = (SELECT d FROM limits WHERE k = 'min')",
        "UPDATE sq SET n = 0 WHERE n = (SELECT n FROM limits)",
        "DELETE FROM sq WHERE id = (SELECT max(id) FROM sq WHERE id > 100)",
        "SELECT * FROM sq ORDER BY id",
    ];
    let expected = crate::support::script_answers(&postgres.client().await, &script).await;
    let got = crate::support::script_answers(&server.client().await, &script).await;
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g, e);
    }
    // A subquery that reads the updated row is still refused, with nothing written.
    let client = server.client().await;
    let error = client
        .simple_query(
            "UPDATE sq SET n = 1 WHERE n < (SELECT max(l.n) FROM limits l WHERE l.k = sq.v)",
        )
        .await
        .unwrap_err();
    assert_eq!(error.code().unwrap().code(), "0A000");
    server.stop().await;
}

/// DELETE removes only the rows its condition is true for. A condition that is NULL for every
/// row (`d = NULL`, `n > NULL`) removed every row: delta-rs judged the simplified, column-less
/// predicate with the kernel's file skipping, which keeps (here: removes) a file it cannot rule
/// out. Partitioned and plain tables, compared with PostgreSQL 15 (which has no partitioning
/// clause: the same rows, the same answers).
#[tokio::test]
async fn delete_removes_only_rows_its_condition_is_true_for() {
    let postgres = crate::support::Postgres::start();
    let server = TestServer::start().await;
    let conditions = [
        "d = NULL",
        "n > NULL",
        "n = CAST(NULL AS INT)",
        "n + NULL > 0",
        "NULL::boolean",
        "p <> 'x'",
        "NOT (p = 'x')",
        "p = NULL",
        "d <> '2024-01-01' OR n = NULL",
        "p IS NULL",
        "n > 15",
    ];
    for (table, partitioning) in [("dz", ""), ("dzp", " PARTITIONED BY (p)")] {
        for condition in conditions {
            let create = format!("CREATE TABLE {table} (id INT, n INT, d DATE, p TEXT)");
            let script = [
                format!("DROP TABLE IF EXISTS {table}"),
                create.clone(),
                format!(
                    "INSERT INTO {table} VALUES (1, 10, '2024-01-01', 'x'), (2, NULL, NULL, NULL), \
                     (3, 30, '2024-02-01', 'y'), (4, 40, '2024-02-01', 'x')"
                ),
                format!("DELETE FROM {table} WHERE {condition}"),
                format!("SELECT id FROM {table} ORDER BY id"),
            ];
            let ours: Vec<String> = script
                .iter()
                .map(|s| {
                    if s.starts_with("CREATE") {
                        format!("{s}{partitioning}")
                    } else {
                        s.clone()
                    }
                })
                .collect();
            let script: Vec<&str> = script.iter().map(String::as_str).collect();
            let ours: Vec<&str> = ours.iter().map(String::as_str).collect();
            let expected = crate::support::script_answers(&postgres.client().await, &script).await;
            let got = crate::support::script_answers(&server.client().await, &ours).await;
            assert_eq!(got[3..], expected[3..], "{table}: {condition}");
        }
    }
    server.stop().await;
}

/// Parquet's min/max statistics leave NaN out, and comparisons put NaN above every number: a file
/// whose statistics said 1.5..=2.5 was skipped for `y > 3` although it held a NaN. Reads, joins,
/// top-N, UPDATE, DELETE, MERGE, UPDATE ... FROM and DELETE ... USING must all see the NaN rows,
/// as PostgreSQL does, in plain and partitioned tables.
#[tokio::test]
async fn rows_holding_nan_are_never_skipped() {
    let postgres = crate::support::Postgres::start();
    let server = TestServer::start().await;
    let pg = postgres.client().await;
    let dg = server.client().await;
    // Several files: one with only numbers, one with a NaN beside a number.
    let setup = [
        "DROP TABLE IF EXISTS fk",
        "CREATE TABLE fk (k DOUBLE PRECISION)",
        "INSERT INTO fk VALUES ('NaN')",
        "DROP TABLE IF EXISTS fl",
        "CREATE TABLE fl (id INT, y DOUBLE PRECISION, r REAL, n INT, p TEXT)",
        "INSERT INTO fl VALUES (1, 5.0, 5.0, 0, 'a')",
        "INSERT INTO fl VALUES (2, 'NaN', 'NaN', 0, 'a'), (3, 1.5, 1.5, 0, 'b')",
        "INSERT INTO fl VALUES (4, 2.5, 2.5, 0, 'b'), (5, NULL, NULL, 0, 'a')",
    ];
    let checks = [
        "SELECT id FROM fl WHERE y > 6 ORDER BY id",
        "SELECT id FROM fl WHERE y <> '1.5' ORDER BY id",
        "SELECT id FROM fl WHERE y = 'NaN' ORDER BY id",
        "SELECT id FROM fl WHERE y >= 'NaN' ORDER BY id",
        "SELECT id FROM fl WHERE y IS NOT DISTINCT FROM 'NaN' ORDER BY id",
        "SELECT id FROM fl WHERE y IN ('NaN', 7) ORDER BY id",
        "SELECT id FROM fl WHERE NOT (y <= 6) ORDER BY id",
        "SELECT id FROM fl WHERE r > 6 ORDER BY id",
        "SELECT id FROM fl WHERE y > 6 AND p = 'a' ORDER BY id",
        "SELECT fl.id FROM fl JOIN fk ON fl.y = fk.k ORDER BY 1",
        "SELECT fl.id FROM fk JOIN fl ON fl.y = fk.k ORDER BY 1",
        "SELECT id FROM fl WHERE y IN (SELECT k FROM fk) ORDER BY id",
        "SELECT id, y FROM fl WHERE y IS NOT NULL ORDER BY y DESC LIMIT 1",
        "SELECT max(y), count(*) FILTER (WHERE y > 6) FROM fl",
        "UPDATE fl SET n = n + 1 WHERE y > 6",
        "UPDATE fl SET n = n + 10 WHERE y <> '1.5' AND p = 'a'",
        "SELECT id, n FROM fl ORDER BY id",
        "MERGE INTO fl t USING fk s ON t.y = s.k \
         WHEN MATCHED THEN UPDATE SET n = 100 \
         WHEN NOT MATCHED THEN INSERT (id, y, n, p) VALUES (9, s.k, -1, 'c')",
        "SELECT id, n FROM fl ORDER BY id",
        "UPDATE fl SET n = 7 FROM fk WHERE fl.y = fk.k",
        "SELECT id, n FROM fl ORDER BY id",
        "DELETE FROM fl USING fk WHERE fl.y = fk.k AND fl.id = 2",
        "SELECT id FROM fl ORDER BY id",
        "INSERT INTO fl VALUES (6, 'NaN', 'NaN', 0, 'b')",
        "DELETE FROM fl WHERE y > 6",
        "SELECT id FROM fl ORDER BY id",
    ];
    for partitioning in ["", " PARTITIONED BY (p)"] {
        let script: Vec<&str> = setup.iter().chain(checks.iter()).copied().collect();
        crate::support::assert_same_answers(&pg, &dg, &script, |s| {
            if s.starts_with("CREATE TABLE fl") {
                format!("{s}{partitioning}")
            } else {
                s.to_string()
            }
        })
        .await;
    }
    server.stop().await;
}

/// A condition with a part that reads no column and is NULL (`id NOT IN (2, NULL)` is `id <> 2
/// AND NULL`, never true) was handed to delta-rs's scan as a partition condition it answers
/// exactly; its kernel keeps every file where the condition is NULL, so the part was dropped and
/// such a SELECT returned every row but 2. Reads and writes must filter as PostgreSQL does, in
/// plain and partitioned tables.
#[tokio::test]
async fn conditions_with_a_null_part_filter_as_in_postgresql() {
    let postgres = crate::support::Postgres::start();
    let server = TestServer::start().await;
    let pg = postgres.client().await;
    let dg = server.client().await;
    let conditions = [
        "id NOT IN (2, NULL)",
        "c NOT IN ('x', NULL)",
        "id > 1 AND NULL::boolean",
        "id > 1 AND 1 = NULL",
        "id <> ALL (ARRAY[2, NULL])",
        "NOT (c IN ('x', NULL))",
        "id IN (2, NULL)",
        "p NOT IN ('a', NULL)",
        "id = ANY (ARRAY[2, 3])",
        "c = ANY (ARRAY['x', NULL])",
        "id > ANY (ARRAY[3, NULL])",
        "id >= ALL (ARRAY[1, 2])",
        "id = ANY (ARRAY[]::int[])",
        "NOT (id = ANY (ARRAY[2, NULL]))",
    ];
    for partitioning in ["", " PARTITIONED BY (p)"] {
        for condition in conditions {
            let script = [
                "DROP TABLE IF EXISTS nc".to_string(),
                "CREATE TABLE nc (id INT, c TEXT, p TEXT)".to_string(),
                "INSERT INTO nc VALUES (1, 'x', 'a'), (2, 'y', 'b'), (3, NULL, NULL), (4, 'z', 'b')"
                    .to_string(),
                format!("SELECT id FROM nc WHERE {condition} ORDER BY id"),
                format!("SELECT count(*) FROM nc WHERE {condition}"),
                format!("UPDATE nc SET c = 'u' WHERE {condition}"),
                format!("DELETE FROM nc WHERE {condition}"),
                "SELECT id, c FROM nc ORDER BY id".to_string(),
            ];
            let script: Vec<&str> = script.iter().map(String::as_str).collect();
            crate::support::assert_same_answers(&pg, &dg, &script, |s| {
                if s.starts_with("CREATE TABLE") {
                    format!("{s}{partitioning}")
                } else {
                    s.to_string()
                }
            })
            .await;
        }
    }
    server.stop().await;
}

/// A list sent as a parameter (`WHERE id = ANY($1)`, how drivers send a Python or Java list)
/// selects the same rows in UPDATE and DELETE as in SELECT: the parameter is described as an
/// array of the column's type (it was unknown, and tokio-postgres refused to send a list), and
/// the write's condition holds an array constant, which delta-rs could not write into the
/// commit (XX000).
#[tokio::test]
async fn list_parameters_select_the_rows_a_write_changes() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE lp (id INT, s TEXT); \
             INSERT INTO lp VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')",
        )
        .await
        .unwrap();
    let ids: Vec<i32> = vec![2, 3];
    let selected: i64 = client
        .query_one("SELECT count(*) FROM lp WHERE id = ANY($1)", &[&ids])
        .await
        .unwrap()
        .get(0);
    assert_eq!(selected, 2);
    let updated = client
        .execute("UPDATE lp SET s = 'x' WHERE id = ANY($1)", &[&ids])
        .await
        .unwrap();
    assert_eq!(updated, 2);
    let names: Vec<String> = vec!["x".into(), "a".into()];
    let deleted = client
        .execute("DELETE FROM lp WHERE s = ANY($1)", &[&names])
        .await
        .unwrap();
    assert_eq!(deleted, 3);
    let left: Vec<(i32, String)> = client
        .query("SELECT id, s FROM lp ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(left, [(4, "d".to_string())]);
    server.stop().await;
}
