//! OPTIMIZE: compaction, and ZORDER BY clustering that makes file skipping work.

use std::path::Path;

use crate::support::{TestServer, expect_sqlstate, simple_rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_leaves_one_file_per_partition_and_the_same_rows() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE events (id INT, d DATE) PARTITIONED BY (d)")
        .await
        .unwrap();
    let inserts: Vec<String> = (0..100)
        .map(|i| {
            format!(
                "INSERT INTO events VALUES ({i}, DATE '2024-01-0{}')",
                1 + i % 2
            )
        })
        .collect();
    c.batch_execute(&inserts.join(";")).await.unwrap();
    async fn detail(c: &tokio_postgres::Client) -> i64 {
        let row = c.query_one("DESCRIBE DETAIL events", &[]).await.unwrap();
        row.get::<_, i64>("numFiles")
    }
    assert_eq!(detail(&c).await, 100);
    let before = simple_rows(&c, "SELECT id, d FROM events ORDER BY id").await;
    let result = simple_rows(&c, "OPTIMIZE events").await;
    assert_eq!(
        result[0][1].as_deref(),
        Some("2"),
        "files added: {result:?}"
    );
    assert_eq!(
        result[0][2].as_deref(),
        Some("100"),
        "files removed: {result:?}"
    );
    assert_eq!(detail(&c).await, 2);
    assert_eq!(
        simple_rows(&c, "SELECT id, d FROM events ORDER BY id").await,
        before
    );
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM events VERSION AS OF 100").await,
        vec![vec![Some("100".into())]]
    );
    // WHERE limits compaction to partitions; other columns are refused.
    c.batch_execute("INSERT INTO events VALUES (200, DATE '2024-01-01'); INSERT INTO events VALUES (201, DATE '2024-01-02')")
        .await
        .unwrap();
    simple_rows(&c, "OPTIMIZE events WHERE d = DATE '2024-01-01'").await;
    assert_eq!(detail(&c).await, 3);
    expect_sqlstate(&c, "OPTIMIZE events WHERE id = 1", "22023").await;
    server.stop().await;
}

/// Per-file (min, max) of a column in the table's current version, from the Delta log's stats.
fn file_ranges(table_dir: &Path, column: &str) -> Vec<(String, String)> {
    let mut log_files: Vec<_> = std::fs::read_dir(table_dir.join("_delta_log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    log_files.sort();
    let mut live: std::collections::BTreeMap<String, (String, String)> = Default::default();
    for file in log_files {
        for line in std::fs::read_to_string(file).unwrap().lines() {
            let action: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(add) = action.get("add") {
                let stats: serde_json::Value =
                    serde_json::from_str(add["stats"].as_str().unwrap()).unwrap();
                let text = |v: &serde_json::Value| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                };
                live.insert(
                    add["path"].as_str().unwrap().to_string(),
                    (
                        text(&stats["minValues"][column]),
                        text(&stats["maxValues"][column]),
                    ),
                );
            }
            if let Some(remove) = action.get("remove") {
                live.remove(remove["path"].as_str().unwrap());
            }
        }
    }
    live.into_values().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zorder_makes_filters_on_either_column_skip_most_files() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE orders (order_id BIGINT, customer_id TEXT, order_date DATE, amount DOUBLE)",
    )
    .await
    .unwrap();
    // 1e6 orders in 50 commits (50 files), customers and dates scattered over every file.
    for batch in 0..50i64 {
        let (lo, hi) = (batch * 20_000 + 1, (batch + 1) * 20_000);
        c.batch_execute(&format!(
            "INSERT INTO orders SELECT g, 'customer_' || ((g * 7919) % 100000 + 1), \
             DATE '2024-01-01' + CAST((g * 104729) % 30 AS INT), CAST(g % 1000 AS DOUBLE) / 10 \
             FROM generate_series({lo}, {hi}) AS t(g)"
        ))
        .await
        .unwrap();
    }
    let table_dir = server.data_dir.join("public/orders");
    assert_eq!(file_ranges(&table_dir, "customer_id").len(), 50);
    let count = |sql: &'static str| {
        let c = &c;
        async move { simple_rows(c, sql).await[0][0].clone().unwrap() }
    };
    let customer_rows =
        count("SELECT count(*) FROM orders WHERE customer_id = 'customer_42'").await;
    let day_rows = count("SELECT count(*) FROM orders WHERE order_date = DATE '2024-01-15'").await;

    c.batch_execute("SET deltagres.optimize.target_file_size = '32KiB'")
        .await
        .unwrap();
    let result = simple_rows(&c, "OPTIMIZE orders ZORDER BY (customer_id, order_date)").await;
    assert_eq!(result[0][6].as_deref(), Some("customer_id, order_date"));

    let customers = file_ranges(&table_dir, "customer_id");
    let days = file_ranges(&table_dir, "order_date");
    let files = customers.len();
    assert!(
        files >= 25,
        "z-order wrote {files} files; the test needs enough files to measure skipping"
    );
    let hit_customer = customers
        .iter()
        .filter(|(min, max)| min.as_str() <= "customer_42" && "customer_42" <= max.as_str())
        .count();
    let hit_day = days
        .iter()
        .filter(|(min, max)| min.as_str() <= "2024-01-15" && "2024-01-15" <= max.as_str())
        .count();
    println!(
        "z-order file skipping: customer_42 in {hit_customer}/{files} files, 2024-01-15 in {hit_day}/{files}"
    );
    assert!(
        hit_customer * 5 <= files && hit_day * 5 <= files,
        "a filter must read at most 20% of the files: customer_42 in {hit_customer}/{files}, 2024-01-15 in {hit_day}/{files}"
    );
    // An OPTIMIZE commit (files rewritten, data unchanged), and the same rows as before.
    let mut logs: Vec<_> = std::fs::read_dir(table_dir.join("_delta_log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    logs.sort();
    let last = std::fs::read_to_string(logs.last().unwrap()).unwrap();
    assert!(
        last.contains("\"dataChange\":false") && !last.contains("\"dataChange\":true"),
        "{}",
        &last[..last.len().min(2000)]
    );
    assert_eq!(
        count("SELECT operation FROM orders$history ORDER BY version DESC LIMIT 1").await,
        "OPTIMIZE"
    );
    assert_eq!(count("SELECT count(*) FROM orders").await, "1000000");
    assert_eq!(
        count("SELECT count(*) FROM orders WHERE customer_id = 'customer_42'").await,
        customer_rows
    );
    assert_eq!(
        count("SELECT count(*) FROM orders WHERE order_date = DATE '2024-01-15'").await,
        day_rows
    );
    server.stop().await;
}

/// OPTIMIZE ZORDER of more rows than the engine's memory pool holds: the sorts spill instead of
/// failing, and every row is kept once, partitioned or not. A 64 MiB pool has room for one sort
/// stream (plan/zorder_rewrite.rs: sort_streams): two side by side, or one sort in two parts
/// whose SortPreservingMerge cannot spill, sometimes failed with 53200 under such a pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zorder_larger_than_the_memory_pool_spills_and_keeps_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir.path().join("data"), |config| {
        config.engine.memory_limit = "64MiB".into();
    })
    .await;
    let c = server.client().await;
    for (table, partitioning) in [("wide", "PARTITIONED BY (d)"), ("flat", "")] {
        c.batch_execute(&format!(
            "CREATE TABLE {table} (id BIGINT, customer TEXT, note TEXT, d INT) {partitioning}"
        ))
        .await
        .unwrap();
        // 1,200,000 rows of ~80 bytes each: more than the pool.
        for part in 0..4i64 {
            let (lo, hi) = (part * 300_000 + 1, (part + 1) * 300_000);
            c.batch_execute(&format!(
                "INSERT INTO {table} SELECT g, 'customer_' || ((g * 7919) % 50000), \
                 repeat('x', 40) || CAST(g AS TEXT), CAST(g % 3 AS INT) \
                 FROM generate_series({lo}, {hi}) AS t(g)"
            ))
            .await
            .unwrap();
        }
        let totals = format!("SELECT count(*), count(DISTINCT id), sum(id) FROM {table}");
        let before = simple_rows(&c, &totals).await;
        assert_eq!(before[0][0].as_deref(), Some("1200000"));
        let result = simple_rows(&c, &format!("OPTIMIZE {table} ZORDER BY (customer, id)")).await;
        assert_eq!(result[0][6].as_deref(), Some("customer, id"), "{table}");
        assert_eq!(simple_rows(&c, &totals).await, before, "{table}");
    }
    server.stop().await;
}
