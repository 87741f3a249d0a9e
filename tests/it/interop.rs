//! Delta interoperability: tables we write open in the `deltalake` Python package and DuckDB's
//! delta extension, and tables other writers made (Spark, Databricks, older delta-rs: the
//! `tests/fixtures/delta-golden` set) attach here and read the same rows as an independent reader.

use std::process::Command;

use crate::support::{TestServer, require_tool, run_check, run_python as python, simple_rows};

fn interop_script(name: &str) -> Command {
    let mut command = Command::new(require_tool("python3"));
    command.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/").to_string() + name);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tables_from_other_writers_read_the_same_rows() {
    let server = TestServer::start().await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let mut command = interop_script("golden.py");
    command.arg(scratch.path());
    let server_ref = &server;
    tokio::task::block_in_place(|| run_check(server_ref, command, "tests/interop/golden.py"));
    server.stop().await;
}

/// The same golden tables attached from the S3 stand-in's bucket (issue 15): Spark's and
/// delta-rs's files read through the object store, the oracles reading the same bytes locally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tables_from_other_writers_read_the_same_rows_from_a_bucket() {
    let s3 = crate::s3::S3::start(&[]);
    let server = s3.server("wh").await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let mut command = interop_script("golden.py");
    command
        .arg(scratch.path())
        .env("GOLDEN_S3_ENDPOINT", s3.endpoint());
    let server_ref = &server;
    tokio::task::block_in_place(|| run_check(server_ref, command, "tests/interop/golden.py on S3"));
    server.stop().await;
}

/// The 89 Spark-written tables delta-kernel-rs publishes (`../shared/delta-kernel-golden`, or
/// `KERNEL_GOLDEN_DIR`): every one with an expected snapshot reads the same rows over the wire,
/// every one without fails alone with one clear line; the script's KNOWN list names the gaps left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spark_written_kernel_golden_tables_read_their_expected_rows() {
    let archives = std::env::var("KERNEL_GOLDEN_DIR").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/delta-kernel-golden").to_string()
    });
    assert!(
        std::path::Path::new(&archives).is_dir(),
        "the kernel golden tables are missing at {archives} (set KERNEL_GOLDEN_DIR)"
    );
    let server = TestServer::start().await;
    let scratch = tempfile::tempdir().expect("scratch dir");
    let mut command = interop_script("kernel_golden.py");
    command
        .env("KERNEL_GOLDEN_DIR", &archives)
        .arg(scratch.path());
    let server_ref = &server;
    tokio::task::block_in_place(|| {
        run_check(server_ref, command, "tests/interop/kernel_golden.py")
    });
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_and_deltalake_read_our_writes_after_every_operation() {
    let server = TestServer::start().await;
    let server_ref = &server;
    tokio::task::block_in_place(|| {
        run_check(
            server_ref,
            interop_script("duckdb_reads.py"),
            "tests/interop/duckdb_reads.py",
        )
    });
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_written_here_open_in_python_deltalake() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE t (id BIGINT NOT NULL, name TEXT, amount DECIMAL(10,2), d DATE) PARTITIONED BY (d); \
             INSERT INTO t VALUES (1, 'a', 1.50, DATE '2024-01-01'), (2, NULL, 2.00, DATE '2024-01-02'); \
             UPDATE t SET name = 'b' WHERE id = 2; DELETE FROM t WHERE id = 1; \
             INSERT INTO t VALUES (3, 'c', 3.25, DATE '2024-01-01')",
        )
        .await
        .unwrap();
    let path = server.data_dir.join("public/t");
    let out = python(&format!(
        "from deltalake import DeltaTable\n\
         t = DeltaTable({path:?})\n\
         rows = sorted((r['id'], r['name'], str(r['amount']), str(r['d'])) for r in t.to_pyarrow_table().to_pylist())\n\
         print(t.version(), rows)",
        path = path.to_str().unwrap()
    ));
    assert_eq!(
        out,
        "4 [(2, 'b', '2.00', '2024-01-02'), (3, 'c', '3.25', '2024-01-01')]"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_written_by_python_deltalake_attach_here() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("py_table");
    python(&format!(
        "import pyarrow as pa\nfrom deltalake import write_deltalake\n\
         write_deltalake({p:?}, pa.table({{'id': pa.array([1, 2, 3], pa.int64()), 'city': ['Oslo', None, 'Lima']}}))\n\
         write_deltalake({p:?}, pa.table({{'id': pa.array([4], pa.int64()), 'city': ['Pune']}}), mode='append')",
        p = path.to_str().unwrap()
    ));
    let client = server.client().await;
    client
        .batch_execute(&format!(
            "CREATE TABLE cities LOCATION '{}'",
            path.display()
        ))
        .await
        .unwrap();
    let rows = simple_rows(&client, "SELECT id, city FROM cities ORDER BY id").await;
    assert_eq!(
        rows,
        vec![
            vec![Some("1".into()), Some("Oslo".into())],
            vec![Some("2".into()), None],
            vec![Some("3".into()), Some("Lima".into())],
            vec![Some("4".into()), Some("Pune".into())],
        ]
    );
    server.stop().await;
}

/// A table with Databricks' `vacuumProtocolCheck` reader-writer feature (on by default for new
/// Databricks tables; the kernel golden table `basic-with-vacuum-protocol-check-feature`) reads,
/// also at an older version; writing to it is a clear 0A000 that adds nothing to its log, and the
/// table next to it is unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vacuum_protocol_check_table_reads_and_refuses_writes() {
    let archives = std::env::var("KERNEL_GOLDEN_DIR").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/delta-kernel-golden").to_string()
    });
    let archive =
        std::path::Path::new(&archives).join("basic-with-vacuum-protocol-check-feature.tar.zst");
    let scratch = tempfile::tempdir().unwrap();
    let unpacked = Command::new(require_tool("tar"))
        .arg("--zstd")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(scratch.path())
        .status()
        .unwrap();
    assert!(unpacked.success(), "unpacking {}", archive.display());
    let table = scratch
        .path()
        .join("basic-with-vacuum-protocol-check-feature/delta");
    let log_files = || std::fs::read_dir(table.join("_delta_log")).unwrap().count();
    let before = log_files();
    // The oracle: the rows Spark wrote beside the table as its expected snapshot (the deltalake
    // package refuses the table too: it is delta-rs).
    let oracle = python(&format!(
        "import glob, pyarrow.parquet as pq\n\
         ids = pq.read_table(sorted(glob.glob({expected:?} + '/*.parquet'))).column('id').to_pylist()\n\
         print(len(ids), sum(ids))\n",
        expected = scratch
            .path()
            .join("basic-with-vacuum-protocol-check-feature/expected")
            .to_str()
            .unwrap()
    ));
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(&format!(
        "CREATE TABLE vpc LOCATION '{}'; CREATE TABLE beside (n INT); INSERT INTO beside VALUES (1)",
        table.to_str().unwrap()
    ))
    .await
    .unwrap();
    let ours = simple_rows(&c, "SELECT count(*), sum(id) FROM vpc").await;
    let mut theirs = oracle.split_whitespace();
    assert_eq!(ours[0][0].as_deref(), theirs.next(), "{oracle}");
    assert_eq!(ours[0][1].as_deref(), theirs.next(), "{oracle}");
    // Its last version (1) and the one before, read through time travel.
    let at_version = simple_rows(&c, "SELECT count(*) FROM vpc VERSION AS OF 1").await;
    assert_eq!(at_version, vec![vec![ours[0][0].clone()]]);
    let first = simple_rows(&c, "SELECT count(*) FROM vpc VERSION AS OF 0").await;
    assert!(first[0][0].is_some(), "{first:?}");
    for write in [
        "INSERT INTO vpc SELECT * FROM vpc LIMIT 1",
        "DELETE FROM vpc WHERE id = 1",
        "OPTIMIZE vpc",
    ] {
        let err = crate::support::expect_sqlstate(&c, write, "0A000").await;
        let message = err.as_db_error().unwrap().message().to_string();
        assert!(
            message.contains("vacuumProtocolCheck"),
            "{write}: {message}"
        );
    }
    assert_eq!(
        log_files(),
        before,
        "a refused write left something in the log"
    );
    assert_eq!(
        simple_rows(&c, "SELECT count(*), sum(id) FROM vpc").await,
        ours
    );
    assert_eq!(
        simple_rows(&c, "SELECT n FROM beside").await,
        vec![vec![Some("1".into())]]
    );
    server.stop().await;
}
