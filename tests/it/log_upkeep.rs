//! Checkpoints and log cleanup as Delta defines them, on every write path: a checkpoint every
//! `delta.checkpointInterval` commits, expired log files removed after `delta.logRetentionDuration`,
//! the table reading the same before and after, and the deltalake package still reading it.

use std::path::Path;

use crate::support::{TestServer, run_python as python, simple_rows, sqlstate};

/// The checkpoint versions in a table's `_delta_log`, ascending.
fn checkpoints(table: &Path) -> Vec<u64> {
    let mut versions: Vec<u64> = std::fs::read_dir(table.join("_delta_log"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            name.strip_suffix(".checkpoint.parquet")
                .and_then(|v| v.parse().ok())
        })
        .collect();
    versions.sort();
    versions
}

/// The JSON commits still in a table's `_delta_log`.
fn commit_files(table: &Path) -> usize {
    std::fs::read_dir(table.join("_delta_log"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".json")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_path_checkpoints_at_the_tables_interval() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE ck (id BIGINT, v TEXT) TBLPROPERTIES ('delta.checkpointInterval' = '5')",
    )
    .await
    .unwrap();
    let table = server.data_dir.join("public/ck");
    // Versions 1.. through every kind of write; the checkpoint follows the version count.
    let statements = [
        "INSERT INTO ck VALUES (1, 'a'), (2, 'b')",
        "INSERT INTO ck VALUES (3, 'c')",
        "UPDATE ck SET v = 'B' WHERE id = 2",
        "DELETE FROM ck WHERE id = 3",
        "MERGE INTO ck t USING (SELECT 4 AS id, 'd' AS v) s ON t.id = s.id \
         WHEN NOT MATCHED THEN INSERT *",
        "INSERT INTO ck VALUES (5, 'e') RETURNING id",
        "OPTIMIZE ck",
        "INSERT INTO ck REPLACE WHERE id >= 5 SELECT 5 AS id, 'E' AS v",
        "ALTER TABLE ck ADD COLUMN w INT",
        "TRUNCATE ck",
        "RESTORE ck TO VERSION AS OF 9",
    ];
    for sql in statements {
        c.simple_query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    // Version 11 now; checkpoints at 4 and 9 (every 5 commits), whatever path committed.
    assert_eq!(checkpoints(&table), vec![4, 9]);
    let expected = simple_rows(&c, "SELECT id, v FROM ck ORDER BY id").await;
    assert_eq!(expected.len(), 4, "{expected:?}");
    // A fresh server starts from the checkpoint and reads the same rows and history.
    let data = server.data_dir.clone();
    drop(c);
    let _keep = server;
    let again = TestServer::start_on(&data).await;
    let c = again.client().await;
    assert_eq!(
        simple_rows(&c, "SELECT id, v FROM ck ORDER BY id").await,
        expected
    );
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM ck VERSION AS OF 1").await,
        vec![vec![Some("2".to_string())]]
    );
    // The deltalake package reads the checkpointed table (it starts from _last_checkpoint).
    let out = python(&format!(
        "from deltalake import DeltaTable\n\
         t = DeltaTable({path:?})\n\
         print(t.version(), sorted(r['id'] for r in t.to_pyarrow_table().to_pylist()))",
        path = table.to_str().unwrap()
    ));
    assert_eq!(out, "11 [1, 2, 4, 5]");
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_interval_is_100_and_expired_logs_go_with_a_checkpoint() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE lg (id BIGINT) TBLPROPERTIES ('delta.logRetentionDuration' = 'interval 1 second')",
    )
    .await
    .unwrap();
    let table = server.data_dir.join("public/lg");
    for i in 1..=98 {
        c.simple_query(&format!("INSERT INTO lg VALUES ({i})"))
            .await
            .unwrap();
    }
    assert_eq!(
        checkpoints(&table),
        Vec::<u64>::new(),
        "no checkpoint before version 99"
    );
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM lg VERSION AS OF 50").await,
        vec![vec![Some("50".to_string())]],
        "time travel inside the retention"
    );
    // Past the retention, the 100th commit checkpoints and removes the expired commits.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    c.simple_query("INSERT INTO lg VALUES (99)").await.unwrap();
    assert_eq!(checkpoints(&table), vec![99]);
    assert!(
        commit_files(&table) < 5,
        "expired commits removed: {}",
        commit_files(&table)
    );
    assert_eq!(
        simple_rows(&c, "SELECT count(*), sum(id) FROM lg").await,
        vec![vec![Some("99".to_string()), Some("4950".to_string())]],
        "the table reads the same after the cleanup"
    );
    let e = c
        .simple_query("SELECT count(*) FROM lg VERSION AS OF 50")
        .await
        .expect_err("version 50 is past the log retention");
    let message = e
        .as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_default();
    assert_eq!(sqlstate(&e), "22023");
    assert!(message.contains("can no longer be read"), "{message}");
    // The connection stays usable.
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM lg VERSION AS OF 99").await,
        vec![vec![Some("99".to_string())]]
    );
    server.stop().await;
}

/// `delta.autoOptimize.autoCompact`: a table fed one row at a time keeps a few files (each
/// compaction is its own OPTIMIZE commit, in the background) and the same rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_compaction_keeps_a_trickle_fed_table_at_few_files() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE trickle (id BIGINT, day INT) PARTITIONED BY (day) TBLPROPERTIES \
         ('delta.autoOptimize.autoCompact' = 'true', 'deltagres.autoCompact.minNumFiles' = '20')",
    )
    .await
    .unwrap();
    for i in 0..500 {
        c.simple_query(&format!("INSERT INTO trickle VALUES ({i}, {})", i % 2))
            .await
            .unwrap();
    }
    // The last compaction may still be running: wait for the file count to settle.
    let mut files = i64::MAX;
    for _ in 0..100 {
        let rows = simple_rows(&c, "SELECT \"numFiles\" FROM \"trickle$detail\"").await;
        files = rows[0][0].as_deref().unwrap().parse().unwrap();
        if files <= 2 * 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        files <= 40,
        "at most minNumFiles small files per partition remain: {files}"
    );
    assert_eq!(
        simple_rows(
            &c,
            "SELECT count(*), sum(id), count(DISTINCT id) FROM trickle"
        )
        .await,
        vec![vec![
            Some("500".to_string()),
            Some("124750".to_string()),
            Some("500".to_string())
        ]]
    );
    let history = simple_rows(
        &c,
        "SELECT count(*) FROM \"trickle$history\" WHERE operation = 'OPTIMIZE'",
    )
    .await;
    let compactions: i64 = history[0][0].as_deref().unwrap().parse().unwrap();
    assert!(
        compactions >= 10,
        "one compaction per 20 small files a partition collects: {compactions}"
    );
    server.stop().await;
}

/// The server keeps each table's loaded state between statements (its own commits kept, not
/// reloaded; reopened from a newer checkpoint once an interval of commits piled up on it). It
/// must still see every commit: its own, another process's and another server's, before and
/// after each reopening, with time travel still right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_table_state_follows_every_commit_across_checkpoints() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE kept (id BIGINT) TBLPROPERTIES ('delta.checkpointInterval' = '5')",
    )
    .await
    .unwrap();
    let table = server.data_dir.join("public/kept");
    let count_sum = |n: i64, sum: i64| vec![vec![Some(n.to_string()), Some(sum.to_string())]];
    let (mut n, mut sum) = (0i64, 0i64);
    for i in 1..=23i64 {
        c.simple_query(&format!("INSERT INTO kept VALUES ({i})"))
            .await
            .unwrap();
        (n, sum) = (n + 1, sum + i);
        if i % 3 == 0 {
            assert_eq!(
                simple_rows(&c, "SELECT count(*), sum(id) FROM kept").await,
                count_sum(n, sum),
                "after insert {i}"
            );
        }
    }
    assert_eq!(checkpoints(&table), vec![4, 9, 14, 19]);
    c.simple_query("UPDATE kept SET id = id + 1000 WHERE id = 1")
        .await
        .unwrap();
    sum += 1000;
    c.simple_query("DELETE FROM kept WHERE id = 2")
        .await
        .unwrap();
    (n, sum) = (n - 1, sum - 2);
    assert_eq!(
        simple_rows(&c, "SELECT count(*), sum(id) FROM kept").await,
        count_sum(n, sum)
    );
    // Another process appends (the deltalake package).
    python(&format!(
        "import pyarrow as pa\nfrom deltalake import write_deltalake\n\
         write_deltalake({p:?}, pa.table({{'id': pa.array([500], pa.int64())}}), mode='append')",
        p = table.to_str().unwrap()
    ));
    (n, sum) = (n + 1, sum + 500);
    assert_eq!(
        simple_rows(&c, "SELECT count(*), sum(id) FROM kept").await,
        count_sum(n, sum),
        "a commit from another process"
    );
    // Another server on the same directory writes; this one sees it, and the reverse.
    let other = TestServer::start_on(&server.data_dir).await;
    let o = other.client().await;
    for i in 0..7i64 {
        o.simple_query(&format!("INSERT INTO kept VALUES ({})", 600 + i))
            .await
            .unwrap();
        (n, sum) = (n + 1, sum + 600 + i);
    }
    assert_eq!(
        simple_rows(&c, "SELECT count(*), sum(id) FROM kept").await,
        count_sum(n, sum),
        "commits from another server"
    );
    c.simple_query("INSERT INTO kept VALUES (700)")
        .await
        .unwrap();
    (n, sum) = (n + 1, sum + 700);
    assert_eq!(
        simple_rows(&o, "SELECT count(*), sum(id) FROM kept").await,
        count_sum(n, sum)
    );
    assert_eq!(
        simple_rows(&c, "SELECT count(*), sum(id) FROM kept VERSION AS OF 7").await,
        count_sum(7, 28),
        "time travel to a version before the checkpoints"
    );
    other.stop().await;
    server.stop().await;
}
