//! Many clients writing the same table at once: Delta optimistic concurrency, no lost rows.

use crate::support::{TestServer, simple_rows, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_clients_append_to_one_table() {
    let server = TestServer::start().await;
    let setup = server.client().await;
    setup
        .batch_execute("CREATE TABLE events (client INT NOT NULL, n INT NOT NULL)")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for c in 0..16i32 {
        let client = server.client().await;
        tasks.push(tokio::spawn(async move {
            let mut written = 0i64;
            // 50 rows per client, in 10 commits of 5 rows.
            for batch in 0..10i32 {
                let values: Vec<String> = (0..5)
                    .map(|i| format!("({c}, {})", batch * 5 + i))
                    .collect();
                let sql = format!("INSERT INTO events VALUES {}", values.join(", "));
                match client.execute(&sql, &[]).await {
                    Ok(n) => written += n as i64,
                    Err(e) => assert_eq!(
                        sqlstate(&e),
                        "40001",
                        "only write conflicts are expected: {e}"
                    ),
                }
            }
            let own: i64 = client
                .query_one("SELECT count(*) FROM events WHERE client = $1", &[&c])
                .await
                .unwrap()
                .get(0);
            assert_eq!(own, written, "client {c} reads back what it wrote");
            written
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(
        total, 800,
        "blind appends retry by themselves, so every row lands"
    );
    let count: i64 = setup
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, total);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_merges_into_disjoint_partitions_and_on_the_same_rows() {
    let server = TestServer::start().await;
    let setup = server.client().await;
    let mut values = Vec::new();
    for d in 1..=8 {
        for id in 0..10 {
            values.push(format!("({}, 'v0', DATE '2024-01-0{d}')", d * 100 + id));
        }
    }
    setup
        .batch_execute(&format!(
            "CREATE TABLE t (id INT, v TEXT, d DATE) PARTITIONED BY (d); INSERT INTO t VALUES {}",
            values.join(", ")
        ))
        .await
        .unwrap();
    // Eight MERGEs, each confined to its own partition by the ON condition.
    let mut tasks = Vec::new();
    for d in 1..=8 {
        let client = server.client().await;
        tasks.push(tokio::spawn(async move {
            let sql = format!(
                "MERGE INTO t USING (SELECT id, DATE '2024-01-0{d}' AS d FROM t WHERE d = DATE '2024-01-0{d}') s \
                 ON t.d = DATE '2024-01-0{d}' AND t.d = s.d AND t.id = s.id \
                 WHEN MATCHED THEN UPDATE SET v = 'v{d}'"
            );
            client.batch_execute(&sql).await
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let result = t.await.unwrap();
        assert!(
            result.is_ok(),
            "MERGE into partition {} failed: {:?}",
            i + 1,
            result.err()
        );
    }
    for d in 1..=8 {
        let rows = simple_rows(
            &setup,
            &format!("SELECT DISTINCT v FROM t WHERE d = DATE '2024-01-0{d}'"),
        )
        .await;
        assert_eq!(rows, vec![vec![Some(format!("v{d}"))]]);
    }

    // Two MERGEs on the same rows: any failure is a write conflict (40001), and a retry succeeds.
    let mut tasks = Vec::new();
    for writer in 0..2 {
        let client = server.client().await;
        tasks.push(tokio::spawn(async move {
            let sql = format!(
                "MERGE INTO t USING (SELECT id FROM t WHERE d = DATE '2024-01-01') s ON t.id = s.id \
                 WHEN MATCHED THEN UPDATE SET v = 'w{writer}'"
            );
            match client.batch_execute(&sql).await {
                Ok(()) => true,
                Err(e) => {
                    assert_eq!(sqlstate(&e), "40001", "only a write conflict is acceptable: {e}");
                    client.batch_execute(&sql).await.expect("the retry of a conflicting MERGE succeeds");
                    false
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rows = simple_rows(
        &setup,
        "SELECT count(*), count(DISTINCT v) FROM t WHERE d = DATE '2024-01-01'",
    )
    .await;
    assert_eq!(
        rows,
        vec![vec![Some("10".into()), Some("1".into())]],
        "no row lost or duplicated"
    );
    let total = simple_rows(&setup, "SELECT count(*) FROM t").await;
    assert_eq!(total, vec![vec![Some("80".into())]]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_updating_one_row_conflict_with_40001_and_lose_nothing() {
    // Two servers on one data directory: nothing but Delta's optimistic concurrency orders their
    // commits, so updates of the same file at the same moment must conflict (40001), and every
    // update reported as done must be in the table.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let a = TestServer::start_on(&data).await;
    let ca = a.client().await;
    ca.batch_execute("CREATE TABLE ctr (id INT, n BIGINT); INSERT INTO ctr VALUES (1, 0)")
        .await
        .unwrap();
    let b = TestServer::start_on(&data).await;
    let cb = b.client().await;
    let (mut applied, mut conflicts) = (0i64, 0);
    for _ in 0..200 {
        let update = "UPDATE ctr SET n = n + 1 WHERE id = 1";
        let (ra, rb) = tokio::join!(ca.execute(update, &[]), cb.execute(update, &[]));
        for result in [ra, rb] {
            match result {
                Ok(_) => applied += 1,
                Err(e) => {
                    assert_eq!(sqlstate(&e), "40001", "only write conflicts: {e}");
                    conflicts += 1;
                }
            }
        }
        if conflicts >= 3 && applied >= 10 {
            break;
        }
    }
    assert!(conflicts > 0, "two writers of one file never conflicted");
    assert_eq!(
        simple_rows(&ca, "SELECT n FROM ctr").await,
        vec![vec![Some(applied.to_string())]],
        "{applied} updates applied, {conflicts} refused"
    );
    a.stop().await;
    b.stop().await;
}

/// Statements of one server that rewrite the same table wait for each other (as PostgreSQL's
/// row locks make them wait) instead of failing with 40001: every increment applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_of_one_server_queue_and_all_apply() {
    let server = TestServer::start().await;
    let setup = server.client().await;
    setup
        .batch_execute("CREATE TABLE ctr (id INT, n BIGINT); INSERT INTO ctr VALUES (1, 0), (2, 0)")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let client = server.client().await;
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let sql = match i % 3 {
                    0 => "UPDATE ctr SET n = n + 1 WHERE id = 1",
                    1 => {
                        "MERGE INTO ctr t USING (SELECT 1 AS id) s ON t.id = s.id \
                         WHEN MATCHED THEN UPDATE SET n = t.n + 1"
                    }
                    _ => "UPDATE ctr SET n = n + 1 WHERE id = 1 RETURNING n",
                };
                client.simple_query(sql).await.expect("no statement fails");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        simple_rows(&setup, "SELECT id, n FROM ctr ORDER BY id").await,
        vec![
            vec![Some("1".to_string()), Some("100".to_string())],
            vec![Some("2".to_string()), Some("0".to_string())]
        ]
    );
    server.stop().await;
}

/// A statement waiting for a table's write turn gives up after `lock_timeout` with 55P03 (and
/// after `statement_timeout` with 57014), writes nothing, and the connection stays usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_write_turn_honours_lock_and_statement_timeouts() {
    let server = TestServer::start().await;
    let setup = server.client().await;
    setup
        .batch_execute("CREATE TABLE slow (id BIGINT, n BIGINT); INSERT INTO slow VALUES (1, 0)")
        .await
        .unwrap();
    // A MERGE whose source takes a while to compute holds the turn meanwhile.
    let holder = server.client().await;
    let long = tokio::spawn(async move {
        holder
            .simple_query(
                "MERGE INTO slow t USING (SELECT 1 AS id, count(*) AS c \
                 FROM generate_series(1, 60000000)) s ON t.id = s.id \
                 WHEN MATCHED THEN UPDATE SET n = s.c",
            )
            .await
            .expect("the long MERGE commits")
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let waiter = server.client().await;
    waiter
        .batch_execute("SET lock_timeout = '100ms'")
        .await
        .unwrap();
    let e = waiter
        .simple_query("UPDATE slow SET n = -1")
        .await
        .expect_err("the turn is taken");
    assert_eq!(sqlstate(&e), "55P03", "{e}");
    waiter
        .batch_execute("SET lock_timeout = 0; SET statement_timeout = 100")
        .await
        .unwrap();
    let e = waiter
        .simple_query("DELETE FROM slow")
        .await
        .expect_err("the turn is still taken");
    assert_eq!(sqlstate(&e), "57014", "{e}");
    assert!(
        !long.is_finished(),
        "the MERGE ended before the waiters gave up: make its source larger"
    );
    long.await.unwrap();
    waiter
        .batch_execute("SET statement_timeout = 0")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&waiter, "SELECT n FROM slow").await,
        vec![vec![Some("60000000".to_string())]],
        "the waiters wrote nothing"
    );
    server.stop().await;
}
