//! Crash safety: the server is killed with SIGKILL at seeded random moments while a client keeps
//! writing (appends and MERGEs); after every restart each table is at a committed version with
//! no partial writes, and VACUUM removes what an interrupted write left behind.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::{Client, NoTls};

use crate::support::{free_port, simple_rows};

const KILLS: u64 = 20;
const BATCH: i64 = 100;

// The caller kills and waits for the child; if the server never comes up the test fails anyway.
#[allow(clippy::zombie_processes)]
async fn start(data: &std::path::Path) -> (Child, Client) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_deltagres"))
        .args(["serve", "--data-dir"])
        .arg(data)
        .env("DELTAGRES_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let conn = format!("host=127.0.0.1 port={port} user=crash dbname=deltagres");
    for _ in 0..200 {
        if let Ok((client, connection)) = tokio_postgres::connect(&conn, NoTls).await {
            tokio::spawn(connection);
            return (child, client);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

/// A tiny seeded generator for the kill times.
fn next(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

/// Every batch is whole, and the row count is what the committed appends added.
async fn assert_consistent(client: &Client) -> i64 {
    let partial = simple_rows(
        client,
        &format!("SELECT batch, count(*) FROM t GROUP BY batch HAVING count(*) <> {BATCH}"),
    )
    .await;
    assert!(partial.is_empty(), "partial batches: {partial:?}");
    let rows: i64 = simple_rows(client, "SELECT count(*) FROM t").await[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let appends: i64 = simple_rows(
        client,
        "SELECT count(*) FROM \"t$history\" WHERE operation = 'WRITE'",
    )
    .await[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(rows, appends * BATCH, "rows vs committed appends");
    rows
}

/// Appends whole batches and MERGEs touching every tenth row until the connection breaks.
async fn write_until_killed(client: Arc<Client>, mut batch: i64) {
    loop {
        batch += 1;
        let insert =
            format!("INSERT INTO t SELECT {batch}, i, 0 FROM generate_series(1, {BATCH}) AS s(i)");
        if client.batch_execute(&insert).await.is_err() {
            return;
        }
        let merge = "MERGE INTO t USING (SELECT batch, id FROM t WHERE id % 10 = 0) s \
                     ON t.batch = s.batch AND t.id = s.id \
                     WHEN MATCHED THEN UPDATE SET v = t.v + 1";
        if client.batch_execute(merge).await.is_err() {
            return;
        }
    }
}

fn parquet_files(data: &std::path::Path) -> usize {
    std::fs::read_dir(data.join("public/t"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "parquet")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_leaves_only_committed_versions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut child, client) = start(&data).await;
    client
        .batch_execute("CREATE TABLE t (batch BIGINT, id BIGINT, v BIGINT)")
        .await
        .unwrap();
    let mut client = Arc::new(client);
    let mut seed = 0x5eed_c4a5;
    for round in 0..KILLS {
        let writer = tokio::spawn(write_until_killed(client.clone(), 1_000_000 * round as i64));
        tokio::time::sleep(Duration::from_millis(150 + next(&mut seed) % 600)).await;
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let _ = writer.await;
        let (restarted, fresh) = start(&data).await;
        child = restarted;
        assert_consistent(&fresh).await;
        client = Arc::new(fresh);
    }
    // Files an interrupted write left behind are listed by VACUUM DRY RUN and removed by VACUUM.
    client
        .batch_execute("SET deltagres.retention_duration_check = off")
        .await
        .unwrap();
    // Plus one file certainly left over, as a write killed before its commit leaves it.
    let table_dir = data.join("public/t");
    let some_file = std::fs::read_dir(&table_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "parquet"))
        .expect("a data file");
    std::fs::copy(
        &some_file,
        table_dir.join("part-99999-interrupted-write.parquet"),
    )
    .unwrap();
    let listed = simple_rows(&client, "VACUUM t RETAIN 0 HOURS DRY RUN")
        .await
        .len();
    let before = parquet_files(&data);
    client
        .batch_execute("VACUUM t RETAIN 0 HOURS")
        .await
        .unwrap();
    let after = parquet_files(&data);
    assert!(listed >= 1, "DRY RUN lists the leftover file");
    assert_eq!(before - after, listed, "VACUUM removed what DRY RUN listed");
    let live: usize = simple_rows(&client, "SELECT count(*) FROM \"t$files\"").await[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(after, live, "only the live files are left");
    assert!(
        assert_consistent(&client).await > 0,
        "some writes committed"
    );
    let _ = child.kill();
    let _ = child.wait();
}
