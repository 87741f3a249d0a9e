//! `ALTER TABLE ... RENAME COLUMN` and `DROP COLUMN` through Delta column mapping (`name` mode):
//! metadata-only commits that the deltalake package reads back (protocol, field ids and
//! physical names, rows), writes and rewrites (UPDATE, MERGE, OPTIMIZE, ZORDER, auto-compaction)
//! that keep working afterwards, and a Databricks-written column-mapped table renamed here.

use std::path::{Path, PathBuf};

use crate::support::{TestServer, expect_sqlstate, run_python, simple_rows};

/// Rows of a Delta table read by the deltalake package's DataFusion reader (which applies column
/// mapping), as `a|b|...` lines in `order_by` order, plus the columns' names.
fn deltalake_rows(table: &Path, order_by: &str) -> (Vec<String>, Vec<String>) {
    let out = run_python(&format!(
        r#"
import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder
dt = DeltaTable({table:?})
t = pa.table(QueryBuilder().register('t', dt).execute('SELECT * FROM t ORDER BY {order_by}').read_all())
print('|'.join(t.column_names))
for r in t.to_pylist():
    print('|'.join('None' if v is None else str(v) for v in r.values()))
"#
    ));
    let mut lines = out.lines().map(str::to_string);
    let names = lines
        .next()
        .unwrap_or_default()
        .split('|')
        .map(str::to_string)
        .collect();
    (names, lines.collect())
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

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(parquet_files(&path));
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renamed_and_dropped_columns_are_metadata_commits_that_other_readers_follow() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE items (id BIGINT NOT NULL, name TEXT, qty INT, day DATE) PARTITIONED BY (day);
         INSERT INTO items VALUES (1, 'apple', 5, DATE '2024-01-01'), (2, 'pear', 7, DATE '2024-01-01'),
                                  (3, 'plum', 9, DATE '2024-01-02');",
    )
    .await
    .unwrap();
    let dir = server.data_dir.join("public").join("items");
    let files_before = parquet_files(&dir);

    c.batch_execute(
        "ALTER TABLE items RENAME COLUMN name TO label;
         ALTER TABLE items DROP COLUMN qty;",
    )
    .await
    .unwrap();
    // Neither statement rewrote a data file.
    assert_eq!(parquet_files(&dir), files_before);
    assert_eq!(
        rows(&c, "SELECT * FROM items ORDER BY id").await,
        [
            "1|apple|2024-01-01",
            "2|pear|2024-01-01",
            "3|plum|2024-01-02"
        ]
    );

    // A re-added column of a dropped one's name starts empty (a new physical name).
    c.batch_execute(
        "ALTER TABLE items ADD COLUMN qty TEXT;
         INSERT INTO items VALUES (4, 'fig', DATE '2024-01-02', 'many');
         ALTER TABLE items RENAME COLUMN day TO sold_on;
         UPDATE items SET qty = 'few' WHERE id = 1;
         DELETE FROM items WHERE id = 2;
         MERGE INTO items USING (SELECT 5 AS id) s ON items.id = s.id
           WHEN NOT MATCHED THEN INSERT (id, label, sold_on, qty) VALUES (5, 'kiwi', DATE '2024-01-03', 'one');",
    )
    .await
    .unwrap();
    let expected = [
        "1|apple|2024-01-01|few",
        "3|plum|2024-01-02|None",
        "4|fig|2024-01-02|many",
        "5|kiwi|2024-01-03|one",
    ];
    assert_eq!(rows(&c, "SELECT * FROM items ORDER BY id").await, expected);
    assert_eq!(
        rows(
            &c,
            "SELECT id FROM items WHERE sold_on = DATE '2024-01-02' ORDER BY id"
        )
        .await,
        ["3", "4"]
    );
    let (names, read) = deltalake_rows(&dir, "id");
    assert_eq!(names, ["id", "label", "sold_on", "qty"]);
    assert_eq!(read, expected, "the deltalake package reads the same rows");

    // Time travel before the rename reads the old names and the dropped column's values.
    assert_eq!(
        rows(
            &c,
            "SELECT id, name, qty FROM items VERSION AS OF 1 ORDER BY id"
        )
        .await,
        ["1|apple|5", "2|pear|7", "3|plum|9"]
    );

    // The Delta metadata as the protocol defines it, read by the deltalake package.
    let meta = run_python(&format!(
        r#"
import json
from deltalake import DeltaTable
dt = DeltaTable({dir:?})
p = dt.protocol()
print(p.min_reader_version, p.min_writer_version)
cfg = dt.metadata().configuration
print(cfg['delta.columnMapping.mode'], cfg['delta.columnMapping.maxColumnId'])
print(dt.metadata().partition_columns)
for f in json.loads(dt.schema().to_json())['fields']:
    m = f['metadata']
    print(f['name'], m['delta.columnMapping.id'], m['delta.columnMapping.physicalName'].startswith('col-'))
h = dt.history()
print(sorted(x['operation'] for x in h if x['operation'] in ('RENAME COLUMN', 'DROP COLUMNS', 'ADD COLUMNS')))
"#,
        dir = dir
    ));
    let meta: Vec<&str> = meta.lines().collect();
    assert_eq!(meta[0], "2 5");
    assert_eq!(meta[1], "name 5");
    assert_eq!(meta[2], "['sold_on']");
    // Existing columns keep their names as physical names; the re-added one gets a fresh one.
    assert_eq!(
        &meta[3..7],
        [
            "id 1 False",
            "label 2 False",
            "sold_on 4 False",
            "qty 5 True"
        ]
    );
    assert_eq!(
        meta[7],
        "['ADD COLUMNS', 'DROP COLUMNS', 'RENAME COLUMN', 'RENAME COLUMN']"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_changes_that_would_lose_or_break_something_are_refused() {
    let server = TestServer::start().await;
    let (c, notices) = server.client_with_notices().await;
    c.batch_execute(
        "CREATE TABLE t (id BIGINT, price INT, note TEXT, day DATE) PARTITIONED BY (day);
         INSERT INTO t VALUES (1, 10, 'x', DATE '2024-01-01');
         ALTER TABLE t ADD CONSTRAINT positive CHECK (price > 0);",
    )
    .await
    .unwrap();
    expect_sqlstate(&c, "ALTER TABLE t RENAME COLUMN nope TO other", "42703").await;
    expect_sqlstate(&c, "ALTER TABLE t RENAME COLUMN note TO id", "42701").await;
    expect_sqlstate(&c, "ALTER TABLE t DROP COLUMN nope", "42703").await;
    let message = |e: tokio_postgres::Error| e.as_db_error().unwrap().message().to_string();
    let e = expect_sqlstate(&c, "ALTER TABLE t DROP COLUMN day", "0A000").await;
    assert!(message(e).contains("partition column"));
    let e = expect_sqlstate(&c, "ALTER TABLE t RENAME COLUMN price TO cost", "2BP01").await;
    assert_eq!(
        message(e),
        "cannot rename column \"price\" because CHECK constraint \"positive\" uses it"
    );
    expect_sqlstate(&c, "ALTER TABLE t DROP COLUMN price", "2BP01").await;
    expect_sqlstate(
        &c,
        "ALTER TABLE t DROP COLUMN id, DROP COLUMN note, DROP COLUMN price",
        "2BP01",
    )
    .await;
    c.batch_execute("ALTER TABLE t DROP COLUMN IF EXISTS nope")
        .await
        .unwrap();
    assert!(
        notices
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.contains("\"nope\"") && n.contains("skipping")),
        "{notices:?}"
    );
    // Nothing above changed the table.
    assert_eq!(rows(&c, "SELECT * FROM t").await, ["1|10|x|2024-01-01"]);
    assert_eq!(rows(&c, "SELECT count(*) FROM \"t$history\"").await, ["3"]);
    // Two columns dropped in one statement: one commit.
    c.batch_execute("ALTER TABLE t DROP COLUMN id, DROP COLUMN note")
        .await
        .unwrap();
    assert_eq!(rows(&c, "SELECT * FROM t").await, ["10|2024-01-01"]);
    assert_eq!(rows(&c, "SELECT count(*) FROM \"t$history\"").await, ["4"]);
    // The CHECK constraint still holds after the change.
    expect_sqlstate(&c, "INSERT INTO t VALUES (-1, DATE '2024-01-02')", "23514").await;
    // Replacing the schema of a column-mapped table is not something delta-rs can write yet.
    expect_sqlstate(&c, "CREATE OR REPLACE TABLE t AS SELECT 1 AS a", "0A000").await;
    assert_eq!(rows(&c, "SELECT * FROM t").await, ["10|2024-01-01"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_table_is_still_compacted_and_z_ordered() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE ev (id BIGINT, kind TEXT, day INT) PARTITIONED BY (day) TBLPROPERTIES \
         ('delta.autoOptimize.autoCompact' = 'true', 'deltagres.autoCompact.minNumFiles' = '8');
         ALTER TABLE ev RENAME COLUMN kind TO category;
         ALTER TABLE ev RENAME COLUMN day TO bucket;",
    )
    .await
    .unwrap();
    for i in 0..40 {
        c.simple_query(&format!(
            "INSERT INTO ev VALUES ({i}, 'k{}', {})",
            i % 3,
            i % 2
        ))
        .await
        .unwrap();
    }
    // Auto-compaction runs in the background: wait for it to bring the file count down.
    let mut files = i64::MAX;
    for _ in 0..100 {
        let r = simple_rows(&c, "SELECT \"numFiles\" FROM \"ev$detail\"").await;
        files = r[0][0].as_deref().unwrap().parse().unwrap();
        if files <= 16 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(files <= 16, "auto-compaction kept up: {files} files");
    c.batch_execute("OPTIMIZE ev; OPTIMIZE ev ZORDER BY (id, category)")
        .await
        .unwrap();
    assert_eq!(
        rows(&c, "SELECT \"numFiles\" FROM \"ev$detail\"").await,
        ["2"],
        "one file per partition"
    );
    let expected = rows(
        &c,
        "SELECT count(*), sum(id), count(DISTINCT category), min(bucket), max(bucket) FROM ev",
    )
    .await;
    assert_eq!(expected, ["40|780|3|0|1"]);
    let dir = server.data_dir.join("public").join("ev");
    let (names, read) = deltalake_rows(&dir, "id");
    assert_eq!(names, ["id", "category", "bucket"]);
    assert_eq!(read.len(), 40);
    for (i, line) in read.iter().enumerate() {
        assert_eq!(line, &format!("{i}|k{}|{}", i % 3, i % 2));
    }
    // The rewritten files name their columns physically, as the table's metadata says.
    let live = run_python(&format!(
        r#"
import pyarrow.parquet as pq
from deltalake import DeltaTable
for uri in DeltaTable({dir:?}).file_uris():
    print(','.join(pq.read_schema(uri.removeprefix('file://')).names))
"#
    ));
    assert!(
        live.lines().all(|l| l == "id,kind"),
        "physical names in the data files: {live}"
    );
    server.stop().await;
}

/// A column-mapped table Databricks wrote (physical names `col-<uuid>`, a partition column
/// among them) renamed and written here, then read by the deltalake package.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_databricks_column_mapped_table_takes_renames_and_rewrites() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/delta-golden/table_with_column_mapping");
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("companies");
    copy_dir(&golden, &dir);
    let (_, before) = deltalake_rows(&dir, "\"Super Name\"");
    assert_eq!(before.len(), 5);

    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(&format!(
        "CREATE TABLE companies LOCATION '{}';
         ALTER TABLE companies RENAME COLUMN \"Super Name\" TO person;
         INSERT INTO companies VALUES ('BMS', 'Zoe Zed');
         OPTIMIZE companies;",
        dir.display()
    ))
    .await
    .unwrap();
    let mut expected: Vec<String> = before;
    expected.push("BMS|Zoe Zed".to_string());
    expected.sort_by_key(|l| l.split('|').nth(1).unwrap_or("").to_string());
    let (names, read) = deltalake_rows(&dir, "person");
    assert_eq!(names, ["Company Very Short", "person"]);
    assert_eq!(read, expected);
    assert_eq!(
        rows(
            &c,
            "SELECT \"Company Very Short\", person FROM companies ORDER BY person"
        )
        .await,
        expected
    );
    // OPTIMIZE packed the BMS partition's two files into one.
    assert_eq!(
        rows(&c, "SELECT \"numFiles\" FROM \"companies$detail\"").await,
        ["2"]
    );
    server.stop().await;
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Column mapping switched on by its table property, as Spark enables it on an existing table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_column_mapping_property_upgrades_a_table_in_place() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE p (id INT, v TEXT);
         INSERT INTO p VALUES (1, 'a');
         ALTER TABLE p SET TBLPROPERTIES ('delta.columnMapping.mode' = 'name', 'team' = 'retail');
         ALTER TABLE p SET TBLPROPERTIES ('delta.columnMapping.mode' = 'name');
         INSERT INTO p VALUES (2, 'b');",
    )
    .await
    .unwrap();
    expect_sqlstate(
        &c,
        "ALTER TABLE p SET TBLPROPERTIES ('delta.columnMapping.mode' = 'id')",
        "0A000",
    )
    .await;
    let dir = server.data_dir.join("public").join("p");
    let out = run_python(&format!(
        r#"
from deltalake import DeltaTable
dt = DeltaTable({dir:?})
p = dt.protocol()
cfg = dt.metadata().configuration
print(p.min_reader_version, p.min_writer_version, cfg['delta.columnMapping.mode'], cfg['team'], dt.version())
"#
    ));
    // CREATE, INSERT, the upgrade, the property, INSERT: the repeated mode commits nothing.
    assert_eq!(out, "2 5 name retail 4");
    assert_eq!(deltalake_rows(&dir, "id").1, ["1|a", "2|b"]);
    server.stop().await;
}
