//! Generated columns (`GENERATED ALWAYS AS (expr) STORED`) kept as Delta generated columns
//! (`delta.generationExpression`): computed on INSERT and MERGE by delta-rs, recomputed on UPDATE,
//! never given a value (428C9). Rows and errors are PostgreSQL 15's own answers.

use crate::support::{Postgres, TestServer, run_python, script_answers};

const SCRIPT: &[&str] = &[
    "CREATE TABLE g (id BIGINT, price NUMERIC(10,2), qty INT, \
     total NUMERIC(20,2) GENERATED ALWAYS AS (price * qty) STORED, \
     twice BIGINT GENERATED ALWAYS AS (id * 2) STORED)",
    "INSERT INTO g (id, price, qty) VALUES (1, 2.50, 4)",
    "INSERT INTO g VALUES (2, 1.00, 3)",
    "INSERT INTO g SELECT 3, 2.00, 2",
    "INSERT INTO g (qty, id) VALUES (5, 4)",
    "INSERT INTO g (id, total) VALUES (9, 1)",
    "INSERT INTO g VALUES (9, 1, 1, 99)",
    "UPDATE g SET qty = 10, price = price + 1 WHERE id = 1",
    "UPDATE g SET total = 1",
    "MERGE INTO g USING (SELECT 6 AS id, 1.50 AS price, 7 AS qty) s ON g.id = s.id \
     WHEN NOT MATCHED THEN INSERT (id, price, qty) VALUES (s.id, s.price, s.qty)",
    "MERGE INTO g USING (SELECT 2 AS id) s ON g.id = s.id \
     WHEN MATCHED THEN UPDATE SET qty = 30",
    "SELECT * FROM g ORDER BY id",
    // A column whose name needs quotes (a keyword) in a generated column.
    "CREATE TABLE kw (\"select\" INT, n INT, \
     total INT GENERATED ALWAYS AS (\"select\" + n * 2) STORED)",
    "INSERT INTO kw VALUES (1, 2), (10, NULL)",
    "SELECT * FROM kw ORDER BY 1",
    // Without generated columns too, fewer values than columns fill the rest with NULL.
    "CREATE TABLE plain2 (a INT, b TEXT, c INT)",
    "INSERT INTO plain2 VALUES (1)",
    "INSERT INTO plain2 VALUES (2, 'x'), (3, 'y')",
    "INSERT INTO plain2 VALUES (4, 'z', 5)",
    "SELECT * FROM plain2 ORDER BY a",
];

#[tokio::test]
async fn generated_columns_answer_as_in_postgres_and_are_delta_generated_columns() {
    let pg = Postgres::start();
    let server = TestServer::start().await;
    let expected = script_answers(&pg.client().await, SCRIPT).await;
    let got = script_answers(&server.client().await, SCRIPT).await;
    for (e, g) in expected.iter().zip(&got) {
        assert_eq!(g, e);
    }
    let path = server.data_dir.join("public").join("g");
    let seen = run_python(&format!(
        "from deltalake import DeltaTable\n\
         t = DeltaTable({path:?})\n\
         meta = {{f.name: f.metadata.get('delta.generationExpression') for f in t.schema().fields}}\n\
         p = t.protocol()\n\
         print(meta['total'], meta['twice'], p.min_writer_version >= 4 or 'generatedColumns' in (p.writer_features or []))",
        path = path.to_str().unwrap()
    ));
    // Spark SQL text: PostgreSQL's double quotes would be string literals to Spark.
    assert_eq!(seen, "price * qty id * 2 True");
    for table in ["g", "kw"] {
        assert_eq!(
            spark_disagreements(&server.data_dir.join("public").join(table)),
            "[]",
            "{table}"
        );
    }
}

/// The rows of the Delta table at `path` whose generated columns hold another value than
/// Spark SQL computes from the stored expression (`delta.generationExpression`) over the
/// row's other columns: Spark is the oracle of how Spark writers read that text.
fn spark_disagreements(path: &std::path::Path) -> String {
    run_python(&format!(
        "from deltalake import DeltaTable\n\
         from pyspark.sql import SparkSession\n\
         t = DeltaTable({path:?})\n\
         exprs = {{f.name: f.metadata['delta.generationExpression'] for f in t.schema().fields\n\
                  if 'delta.generationExpression' in f.metadata}}\n\
         assert exprs\n\
         spark = SparkSession.builder.master('local[1]').config('spark.ui.enabled', 'false').getOrCreate()\n\
         spark.sparkContext.setLogLevel('OFF')\n\
         df = spark.createDataFrame(t.to_pyarrow_table())\n\
         bad = []\n\
         for column, expr in exprs.items():\n\
         \x20   for row in df.selectExpr('`' + column + '` AS stored', expr + ' AS spark').collect():\n\
         \x20       if not (row['stored'] == row['spark'] or (row['stored'] is None and row['spark'] is None)):\n\
         \x20           bad.append((column, expr, row['stored'], row['spark']))\n\
         print(bad)",
        path = path.to_str().unwrap()
    ))
}

#[tokio::test]
async fn copy_computes_generated_columns_and_refuses_values_for_them() {
    use futures::SinkExt;
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE g (id BIGINT, qty INT, twice BIGINT GENERATED ALWAYS AS (qty * 2) STORED)",
        )
        .await
        .unwrap();
    let sink = client.copy_in("COPY g FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"1\t5\n2\t7\n"))
        .await
        .unwrap();
    assert_eq!(sink.finish().await.unwrap(), 2);
    assert_eq!(
        crate::support::simple_rows(&client, "SELECT id, twice FROM g ORDER BY id").await,
        vec![
            vec![Some("1".into()), Some("10".into())],
            vec![Some("2".into()), Some("14".into())]
        ]
    );
    crate::support::expect_sqlstate(&client, "COPY g (id, twice) FROM STDIN", "428C9").await;
}
