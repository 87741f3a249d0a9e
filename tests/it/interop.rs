//! Delta interoperability with the `deltalake` Python package: tables we write open there, and
//! tables it writes attach here.

use crate::support::{TestServer, run_python as python, simple_rows};

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
