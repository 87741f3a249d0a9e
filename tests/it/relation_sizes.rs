//! `pg_relation_size` and its siblings answer a Delta table's size: the bytes of the data files
//! its current version reads, as the deltalake package counts them (the oracle); views are 0
//! bytes, an unknown OID is NULL and an unknown name 42P01, as in PostgreSQL.

use crate::support::{TestServer, expect_sqlstate, run_python, simple_rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sizes_are_the_data_files_of_the_current_version() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(dir.path()).await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE sz (id INT, note TEXT); \
             INSERT INTO sz SELECT g, 'note ' || g FROM generate_series(1, 2000) g; \
             INSERT INTO sz VALUES (0, 'one more file'); \
             DELETE FROM sz WHERE id < 10; \
             CREATE TABLE empty_one (x INT); \
             CREATE VIEW szv AS SELECT id FROM sz",
        )
        .await
        .unwrap();
    let path = dir.path().join("public").join("sz");
    let expected = run_python(&format!(
        "from deltalake import DeltaTable\n\
         import pyarrow as pa\n\
         print(sum(pa.table(DeltaTable({path:?}).get_add_actions(flatten=True)).column('size_bytes').to_pylist()))"
    ));
    let expected = expected.trim().to_string();
    let rows = simple_rows(
        &client,
        "SELECT pg_relation_size('sz'), pg_table_size('sz'::regclass), \
         pg_total_relation_size('public.sz'), pg_indexes_size('sz'), \
         pg_total_relation_size('empty_one'), pg_relation_size('szv'), pg_relation_size(0)",
    )
    .await;
    let text = |s: &str| Some(s.to_string());
    assert_eq!(
        rows,
        vec![vec![
            text(&expected),
            text(&expected),
            text(&expected),
            text("0"),
            text("0"),
            text("0"),
            None
        ]]
    );
    // By OID, as psql `\dt+` and DBeaver ask, next to the catalog's own relations.
    let rows = simple_rows(
        &client,
        "SELECT c.relname, pg_total_relation_size(c.oid), \
         pg_size_pretty(pg_table_size(c.oid)) IS NOT NULL FROM pg_class c \
         WHERE c.relname IN ('sz', 'szv', 'pg_class') ORDER BY 1",
    )
    .await;
    assert_eq!(
        rows,
        vec![
            vec![text("pg_class"), text("0"), text("t")],
            vec![text("sz"), text(&expected), text("t")],
            vec![text("szv"), text("0"), text("t")],
        ]
    );
    expect_sqlstate(&client, "SELECT pg_relation_size('nope')", "42P01").await;
    // The connection stays usable.
    assert_eq!(
        simple_rows(&client, "SELECT 1").await,
        vec![vec![text("1")]]
    );
}
