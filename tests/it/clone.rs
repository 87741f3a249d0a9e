//! `CREATE TABLE ... SHALLOW | DEEP CLONE source [VERSION AS OF n]`: a new table at the source's
//! version, read back by the deltalake package; the source and the clone change independently.

use crate::support::{TestServer, expect_sqlstate, run_python, simple_rows};

/// The rows of a Delta table as the deltalake package reads them through its DataFusion reader
/// (which resolves a shallow clone's absolute file URLs): `id|v` lines, sorted.
fn deltalake_rows(table: &std::path::Path) -> Vec<String> {
    let out = run_python(&format!(
        r#"
import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder
dt = DeltaTable({table:?})
t = pa.table(QueryBuilder().register('t', dt).execute('SELECT id, v FROM t ORDER BY id').read_all())
for r in t.to_pylist():
    print(f'{{r["id"]}}|{{r["v"]}}')
"#
    ));
    out.lines().map(str::to_string).collect()
}

async fn rows(c: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    simple_rows(c, sql)
        .await
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| v.unwrap_or_else(|| "None".into()))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shallow_and_deep_clones_hold_the_sources_version_and_go_their_own_way() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE src (id BIGINT NOT NULL, v TEXT, day DATE) PARTITIONED BY (day)
           TBLPROPERTIES ('delta.checkpointInterval' = '7') COMMENT 'the source';
         INSERT INTO src VALUES (1, 'a', DATE '2024-01-01'), (2, 'b', DATE '2024-01-02');
         INSERT INTO src VALUES (3, 'c', DATE '2024-01-02');
         DELETE FROM src WHERE id = 1;",
    )
    .await
    .unwrap();
    let c2 = "SELECT id, v FROM {} ORDER BY id";
    let source_now = rows(&c, &c2.replace("{}", "src")).await;
    assert_eq!(source_now, ["2|b", "3|c"]);

    c.batch_execute(
        "CREATE TABLE deep_now DEEP CLONE src;
         CREATE TABLE shallow_now SHALLOW CLONE src;
         CREATE TABLE deep_v2 DEEP CLONE src VERSION AS OF 2;
         CREATE TABLE shallow_v1 SHALLOW CLONE src VERSION AS OF 1
           TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true');
         CREATE TABLE plain_clone CLONE src;",
    )
    .await
    .unwrap();
    for (table, expected) in [
        ("deep_now", vec!["2|b", "3|c"]),
        ("shallow_now", vec!["2|b", "3|c"]),
        ("deep_v2", vec!["1|a", "2|b", "3|c"]),
        ("shallow_v1", vec!["1|a", "2|b"]),
        ("plain_clone", vec!["2|b", "3|c"]),
    ] {
        assert_eq!(
            rows(&c, &c2.replace("{}", table)).await,
            expected,
            "{table}"
        );
        let dir = server.data_dir.join("public").join(table);
        assert_eq!(deltalake_rows(&dir), expected, "{table} read by deltalake");
    }
    // A deep clone holds its own files, a shallow one none; both keep the source's partitioning,
    // properties and NOT NULL, and a clone's own TBLPROPERTIES are added.
    let parquet_files = |table: &str| {
        walk(&server.data_dir.join("public").join(table))
            .into_iter()
            .filter(|p| {
                p.extension().is_some_and(|e| e == "parquet")
                    && !p.to_string_lossy().contains("_delta_log")
            })
            .count()
    };
    assert!(parquet_files("deep_now") >= 2);
    assert_eq!(parquet_files("shallow_now"), 0);
    let facts = run_python(&format!(
        "from deltalake import DeltaTable\n\
         for t in ('deep_now', 'shallow_v1'):\n\
         \x20   m = DeltaTable({:?} + '/' + t).metadata()\n\
         \x20   print(t, m.partition_columns, m.configuration.get('delta.checkpointInterval'), \
         m.configuration.get('delta.enableChangeDataFeed'), m.description)",
        server.data_dir.join("public").to_string_lossy()
    ));
    assert_eq!(
        facts,
        "deep_now ['day'] 7 None the source\nshallow_v1 ['day'] 7 true the source"
    );
    expect_sqlstate(
        &c,
        "INSERT INTO deep_now VALUES (NULL, 'x', DATE '2024-01-03')",
        "23502",
    )
    .await;

    // The source and its clones change independently.
    c.batch_execute(
        "INSERT INTO src VALUES (9, 'z', DATE '2024-01-09');
         INSERT INTO deep_now VALUES (4, 'd', DATE '2024-01-03');
         INSERT INTO shallow_now VALUES (5, 'e', DATE '2024-01-03');
         UPDATE deep_now SET v = 'B' WHERE id = 2;",
    )
    .await
    .unwrap();
    assert_eq!(
        rows(&c, &c2.replace("{}", "src")).await,
        ["2|b", "3|c", "9|z"]
    );
    assert_eq!(
        rows(&c, &c2.replace("{}", "deep_now")).await,
        ["2|B", "3|c", "4|d"]
    );
    assert_eq!(
        rows(&c, &c2.replace("{}", "shallow_now")).await,
        ["2|b", "3|c", "5|e"]
    );
    assert_eq!(
        deltalake_rows(&server.data_dir.join("public/shallow_now")),
        ["2|b", "3|c", "5|e"]
    );
    // Rewriting a source file from a shallow clone is refused with a way out, and changes nothing.
    let err = expect_sqlstate(&c, "DELETE FROM shallow_now WHERE id = 2", "0A000").await;
    assert!(format!("{err:?}").contains("DEEP CLONE"), "{err:?}");
    assert_eq!(
        rows(&c, &c2.replace("{}", "shallow_now")).await,
        ["2|b", "3|c", "5|e"]
    );
    assert_eq!(
        rows(&c, &c2.replace("{}", "src")).await,
        ["2|b", "3|c", "9|z"]
    );

    // Errors: an existing name, an unknown source, a version the source does not have.
    expect_sqlstate(&c, "CREATE TABLE deep_now DEEP CLONE src", "42P07").await;
    expect_sqlstate(&c, "CREATE TABLE x SHALLOW CLONE nope", "42P01").await;
    expect_sqlstate(
        &c,
        "CREATE TABLE x DEEP CLONE src VERSION AS OF 99",
        "22023",
    )
    .await;
    assert_eq!(
        rows(&c, "SELECT count(*) FROM pg_class WHERE relname = 'x'").await,
        ["0"]
    );
    // IF NOT EXISTS skips an existing clone.
    c.batch_execute("CREATE TABLE IF NOT EXISTS deep_now DEEP CLONE src")
        .await
        .unwrap();
    assert_eq!(
        rows(&c, &c2.replace("{}", "deep_now")).await,
        ["2|B", "3|c", "4|d"]
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}
