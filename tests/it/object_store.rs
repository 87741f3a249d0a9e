//! Tables on object storage (issue 15): a real S3 stand-in on loopback (moto's S3 server, from
//! tests/requirements.txt, serialised by tests/s3_standin.py so its conditional writes are
//! atomic), servers whose data directory is an `s3://` URL, and the deltalake package reading
//! what they wrote, as the independent oracle.

use deltagres::config::Config;
use futures::future::join_all;

use crate::s3::S3;
use crate::support::{expect_sqlstate, simple_rows};

/// The stand-in itself must refuse a second put-if-absent of one key (S3's `If-None-Match: *`):
/// every other test here relies on it, so this one fails if it does not.
#[tokio::test(flavor = "multi_thread")]
async fn the_s3_stand_in_refuses_a_second_put_if_absent() {
    let s3 = S3::start(&[]);
    let out = s3.python(
        r#"
s3.put_object(Bucket="lake", Key="probe", Body=b"1", IfNoneMatch="*")
try:
    s3.put_object(Bucket="lake", Key="probe", Body=b"2", IfNoneMatch="*")
    print("accepted")
except s3.exceptions.ClientError as e:
    print(e.response["Error"]["Code"])
print(s3.get_object(Bucket="lake", Key="probe")["Body"].read().decode())
"#,
    );
    assert_eq!(out, "PreconditionFailed\n1", "{out}");
}

/// A store that accepts a second put-if-absent cannot keep Delta commits atomic: the server
/// refuses to start on it, with a message that says why and what to do.
#[tokio::test(flavor = "multi_thread")]
async fn a_store_without_conditional_writes_is_refused_at_start() {
    let s3 = S3::start(&["--ignore-conditional-writes"]);
    let mut config = Config::default();
    s3.configure(&mut config, "unsafe");
    let err = deltagres::engine::Engine::open(config)
        .await
        .expect_err("the server must not start on a store without atomic commits");
    assert_eq!(err.sqlstate(), "0A000", "{}", err.message);
    assert!(err.message.contains("put-if-absent"), "{}", err.message);
    assert!(!err.message.contains("s3cr3t"), "{}", err.message);
}

/// Every kind of statement on a data directory in a bucket, the rows read back by the deltalake
/// package from the bucket, and everything (tables, schemas, views, an external table) still
/// there after a restart.
#[tokio::test(flavor = "multi_thread")]
async fn tables_in_a_bucket_take_every_statement_and_survive_a_restart() {
    let s3 = S3::start(&[]);
    let server = s3.server("wh").await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE SCHEMA sales;
             CREATE TABLE sales.orders (id BIGINT NOT NULL, customer TEXT, amount DOUBLE) PARTITIONED BY (customer);
             INSERT INTO sales.orders VALUES (1, 'a', 10), (2, 'b', 20), (3, 'a', 30), (4, 'c', 40);
             UPDATE sales.orders SET amount = amount + 1 WHERE id = 2;
             DELETE FROM sales.orders WHERE id = 4;
             CREATE TABLE sales.changes AS SELECT * FROM (VALUES (3, 'a', 300.0), (5, 'd', 50.0)) AS c(id, customer, amount);
             MERGE INTO sales.orders t USING sales.changes s ON t.id = s.id
               WHEN MATCHED THEN UPDATE SET amount = s.amount
               WHEN NOT MATCHED THEN INSERT (id, customer, amount) VALUES (s.id, s.customer, s.amount);
             CREATE VIEW sales.big AS SELECT id, amount FROM sales.orders WHERE amount > 25;
             CREATE TABLE sales.tmp (x INT);
             INSERT INTO sales.tmp VALUES (7);
             ALTER TABLE sales.tmp RENAME TO kept;
             CREATE TABLE gone (x INT);
             DROP TABLE gone;
             CREATE TABLE ext (x INT) LOCATION 's3://lake/external/ext';
             INSERT INTO ext VALUES (42);
             OPTIMIZE sales.orders;",
        )
        .await
        .expect("statements on an s3:// data directory");
    let expected = vec![
        vec![Some("1".into()), Some("a".into()), Some("10".into())],
        vec![Some("2".into()), Some("b".into()), Some("21".into())],
        vec![Some("3".into()), Some("a".into()), Some("300".into())],
        vec![Some("5".into()), Some("d".into()), Some("50".into())],
    ];
    let sql = "SELECT id, customer, amount FROM sales.orders ORDER BY id";
    assert_eq!(simple_rows(&client, sql).await, expected);
    assert_eq!(
        simple_rows(&client, "SELECT id FROM sales.big ORDER BY id").await,
        vec![vec![Some("3".into())], vec![Some("5".into())]]
    );
    // Written where it should be, readable by another Delta reader.
    let oracle = s3.python(&format!(
        r#"
import deltalake
opts = {opts}
t = deltalake.DeltaTable("s3://lake/wh/sales/orders", storage_options=opts).to_pyarrow_table()
rows = sorted(zip(t["id"].to_pylist(), t["customer"].to_pylist(), t["amount"].to_pylist()))
print(rows)
k = deltalake.DeltaTable("s3://lake/wh/sales/kept", storage_options=opts).to_pyarrow_table()
print(k["x"].to_pylist())
e = deltalake.DeltaTable("s3://lake/external/ext", storage_options=opts).to_pyarrow_table()
print(e["x"].to_pylist())
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix="wh/")["Contents"]]
print(any(k.startswith("wh/sales/tmp/") for k in keys), any(k.startswith("wh/public/gone/") for k in keys))
"#,
        opts = s3.python_storage_options()
    ));
    assert_eq!(
        oracle,
        "[(1, 'a', 10.0), (2, 'b', 21.0), (3, 'a', 300.0), (5, 'd', 50.0)]\n[7]\n[42]\nFalse False",
        "{oracle}"
    );
    // Parquet files in the bucket: read in place, then made a Delta table in place.
    s3.python(
        r#"
import io, pyarrow as pa, pyarrow.parquet as pq
for part, xs in (("a", [1, 2, 3]), ("b", [10, 20])):
    buf = io.BytesIO()
    pq.write_table(pa.table({"x": pa.array(xs, pa.int64())}), buf)
    s3.put_object(Bucket="lake", Key=f"external/landing/{part}.parquet", Body=buf.getvalue())
"#,
    );
    assert_eq!(
        simple_rows(
            &client,
            "SELECT count(*), sum(x) FROM read_parquet('s3://lake/external/landing/*.parquet')"
        )
        .await,
        vec![vec![Some("5".into()), Some("36".into())]]
    );
    client
        .batch_execute(
            "CONVERT TO DELTA parquet.`s3://lake/external/landing`;
             CREATE TABLE landed LOCATION 's3://lake/external/landing'",
        )
        .await
        .expect("CONVERT TO DELTA and LOCATION on a bucket");
    assert_eq!(
        simple_rows(&client, "SELECT count(*), sum(x) FROM landed").await,
        vec![vec![Some("5".into()), Some("36".into())]]
    );
    expect_sqlstate(
        &client,
        "SELECT * FROM read_parquet('s3://lake/private/*.parquet')",
        "42501",
    )
    .await;
    // A rename keeps partition folders whose names delta-rs percent-encodes.
    client
        .batch_execute(
            "CREATE TABLE sales.parts (x INT, k TEXT) PARTITIONED BY (k);
             INSERT INTO sales.parts VALUES (1, 'a b:c/d%'), (2, 'plain');
             ALTER TABLE sales.parts RENAME TO parts2",
        )
        .await
        .expect("rename of a partitioned table on a store");
    assert_eq!(
        simple_rows(&client, "SELECT x, k FROM sales.parts2 ORDER BY x").await,
        vec![
            vec![Some("1".into()), Some("a b:c/d%".into())],
            vec![Some("2".into()), Some("plain".into())],
        ]
    );
    // Names an object key or URL would misread are refused on a store.
    expect_sqlstate(&client, "CREATE TABLE \"a~b\" (x INT)", "42601").await;
    expect_sqlstate(&client, "CREATE SCHEMA \"%2e%2e\"", "42601").await;
    // LOCATION outside allowed_paths is refused like a local path would be.
    expect_sqlstate(
        &client,
        "CREATE TABLE elsewhere (x INT) LOCATION 's3://lake/private/x'",
        "42501",
    )
    .await;
    drop(client);
    server.stop().await;

    let restarted = s3.server("wh").await;
    let client = restarted.client().await;
    assert_eq!(simple_rows(&client, sql).await, expected);
    assert_eq!(
        simple_rows(&client, "SELECT id FROM sales.big ORDER BY id").await,
        vec![vec![Some("3".into())], vec![Some("5".into())]]
    );
    assert_eq!(
        simple_rows(
            &client,
            "SELECT x FROM sales.kept UNION ALL SELECT x FROM ext ORDER BY x"
        )
        .await,
        vec![vec![Some("7".into())], vec![Some("42".into())]]
    );
    expect_sqlstate(&client, "SELECT * FROM gone", "42P01").await;
    assert_eq!(
        simple_rows(&client, "SELECT count(*) FROM sales.orders VERSION AS OF 1").await,
        vec![vec![Some("4".into())]]
    );
    restarted.stop().await;
}

/// Two servers on one data directory: what one creates the other sees, 8 sessions on each
/// append to one table at once without losing or duplicating a commit, concurrent updates either apply or
/// fail with 40001 (never both lost), and a DROP on one is seen by the other.
#[tokio::test(flavor = "multi_thread")]
async fn two_servers_share_one_bucket() {
    let s3 = S3::start(&[]);
    let a = s3.server("shared").await;
    let b = s3.server("shared").await;
    let (ca, cb) = (a.client().await, b.client().await);
    ca.batch_execute(
        "CREATE TABLE events (server TEXT, n INT);
         CREATE TABLE counter (id INT, n INT);
         INSERT INTO counter VALUES (1, 0);
         CREATE VIEW recent AS SELECT * FROM events WHERE n >= 0",
    )
    .await
    .unwrap();
    // B has never heard of them: a miss re-reads the catalog.
    assert_eq!(
        simple_rows(&cb, "SELECT count(*) FROM events").await,
        vec![vec![Some("0".into())]]
    );
    assert_eq!(
        simple_rows(&cb, "SELECT count(*) FROM recent").await,
        vec![vec![Some("0".into())]]
    );

    // Blind appends from both servers, 8 sessions each.
    let mut appends = Vec::new();
    for (name, server) in [("a", &a), ("b", &b)] {
        for conn in 0..8 {
            let client = server.client().await;
            appends.push(async move {
                for i in 0..5 {
                    client
                        .simple_query(&format!(
                            "INSERT INTO events VALUES ('{name}', {})",
                            conn * 100 + i
                        ))
                        .await
                        .expect("blind appends retry by themselves");
                }
            });
        }
    }
    join_all(appends).await;
    for client in [&ca, &cb] {
        assert_eq!(
            simple_rows(
                client,
                "SELECT server, count(*), count(DISTINCT n) FROM events GROUP BY server ORDER BY server"
            )
            .await,
            vec![
                vec![Some("a".into()), Some("40".into()), Some("40".into())],
                vec![Some("b".into()), Some("40".into()), Some("40".into())],
            ]
        );
    }

    // Read-modify-write from both servers: each applies once or fails with 40001.
    let mut updates = Vec::new();
    for server in [&a, &b] {
        for _ in 0..2 {
            let client = server.client().await;
            updates.push(async move {
                let mut applied = 0;
                for _ in 0..5 {
                    match client
                        .simple_query("UPDATE counter SET n = n + 1 WHERE id = 1")
                        .await
                    {
                        Ok(_) => applied += 1,
                        Err(e) => assert_eq!(crate::support::sqlstate(&e), "40001", "{e}"),
                    }
                }
                applied
            });
        }
    }
    let applied: i32 = join_all(updates).await.into_iter().sum();
    assert!(applied > 0);
    for client in [&ca, &cb] {
        assert_eq!(
            simple_rows(client, "SELECT n FROM counter").await,
            vec![vec![Some(applied.to_string())]],
            "every applied update counted once, on both servers"
        );
    }

    // One history: 80 appends are versions 1..=80 and every version is whole (version v holds
    // exactly v rows), read from the bucket by the deltalake package.
    let versions = s3.python(&format!(
        r#"
import deltalake
opts = {}
t = deltalake.DeltaTable("s3://lake/shared/public/events", storage_options=opts)
broken = [v for v in range(t.version() + 1)
          if deltalake.DeltaTable("s3://lake/shared/public/events", version=v, storage_options=opts).to_pyarrow_table().num_rows != v]
print(t.version(), len(t.history()), broken)
"#,
        s3.python_storage_options()
    ));
    assert_eq!(versions, "80 81 []", "{versions}");

    ca.batch_execute("DROP VIEW recent; DROP TABLE events")
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        match cb.simple_query("SELECT count(*) FROM events").await {
            Err(e) if crate::support::sqlstate(&e) == "42P01" => break,
            other => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "server B still reads a table server A dropped: {other:?}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        }
    }
    expect_sqlstate(&cb, "SELECT * FROM recent", "42P01").await;
    a.stop().await;
    b.stop().await;
}

/// The server binary on `s3://lake/<prefix>`, configured the way an operator would: the AWS_*
/// variables.
async fn spawn_server(s3: &S3, prefix: &str) -> (std::process::Child, tokio_postgres::Client) {
    let envs = [
        ("AWS_ENDPOINT_URL", s3.endpoint()),
        ("AWS_ALLOW_HTTP", "true".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
    ];
    crate::support::spawn_server_process(
        std::ffi::OsStr::new(&format!("s3://lake/{prefix}")),
        &envs,
        "victim",
        std::time::Duration::from_secs(20),
    )
    .await
}

/// kill -9 of one of two servers on one bucket while both write the same table: the other keeps
/// serving and writing, every insert it acknowledged is there, and the table is at a committed
/// version made of whole statements (every batch has all its rows; rows = 100 x appends).
#[tokio::test(flavor = "multi_thread")]
async fn killing_one_server_mid_write_leaves_the_other_serving_a_whole_table() {
    let s3 = S3::start(&[]);
    let survivor = s3.server("crash").await;
    let client = survivor.client().await;
    client
        .batch_execute("CREATE TABLE t (batch BIGINT, i BIGINT)")
        .await
        .unwrap();
    let (mut victim, victim_client) = spawn_server(&s3, "crash").await;
    let victim_writes = tokio::spawn(async move {
        for batch in 1_000_000i64.. {
            let insert =
                format!("INSERT INTO t SELECT {batch}, i FROM generate_series(1, 100) AS s(i)");
            if victim_client.simple_query(&insert).await.is_err() {
                return;
            }
        }
    });
    let mut sessions = Vec::new();
    for session in 0..4i64 {
        let client = survivor.client().await;
        sessions.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for k in 0..8i64 {
                let batch = session * 100 + k;
                client
                    .simple_query(&format!(
                        "INSERT INTO t SELECT {batch}, i FROM generate_series(1, 100) AS s(i)"
                    ))
                    .await
                    .expect("the surviving server keeps writing");
                acknowledged.push(batch);
            }
            acknowledged
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    victim.kill().expect("kill -9");
    victim.wait().unwrap();
    let _ = victim_writes.await;
    let mut acknowledged = Vec::new();
    for session in sessions {
        acknowledged.extend(session.await.unwrap());
    }
    assert_eq!(acknowledged.len(), 32);
    let partial = simple_rows(
        &client,
        "SELECT batch, count(*) FROM t GROUP BY batch HAVING count(*) <> 100",
    )
    .await;
    assert!(partial.is_empty(), "partial batches: {partial:?}");
    let ours = simple_rows(
        &client,
        "SELECT count(DISTINCT batch) FROM t WHERE batch < 1000000",
    )
    .await;
    assert_eq!(
        ours,
        vec![vec![Some("32".into())]],
        "every acknowledged insert is there"
    );
    let rows: i64 = simple_rows(&client, "SELECT count(*) FROM t").await[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let appends: i64 = simple_rows(
        &client,
        "SELECT count(*) FROM \"t$history\" WHERE operation = 'WRITE'",
    )
    .await[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(rows, appends * 100, "rows vs committed appends");
    // And the survivor still takes statements.
    client
        .batch_execute("INSERT INTO t VALUES (-1, 1)")
        .await
        .unwrap();
    survivor.stop().await;
}
