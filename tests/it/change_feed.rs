//! The change data feed: `delta.enableChangeDataFeed` makes every write record its changes as
//! Delta defines them, and `table_changes('t', start [, end])` reads them back as Databricks
//! answers. The expected rows come from the deltalake package's `load_cdf` reading the same
//! table, never from deltagres itself.

use crate::support::{TestServer, expect_sqlstate, run_python, simple_rows};

/// The feed as the deltalake package reads it: `id|v|change_type|version` lines, sorted.
fn deltalake_changes(table: &std::path::Path, start: u64, end: Option<u64>) -> Vec<String> {
    let end = end.map_or("None".to_string(), |e| e.to_string());
    let out = run_python(&format!(
        r#"
import pyarrow as pa
from deltalake import DeltaTable
dt = DeltaTable({table:?})
t = pa.table(dt.load_cdf(starting_version={start}, ending_version={end}).read_all()).to_pylist()
for r in sorted(t, key=lambda r: (r["_commit_version"], r["id"], r["_change_type"])):
    print(f'{{r["id"]}}|{{r["v"]}}|{{r["_change_type"]}}|{{r["_commit_version"]}}')
"#
    ));
    out.lines().map(str::to_string).collect()
}

async fn feed(c: &tokio_postgres::Client, call: &str) -> Vec<String> {
    simple_rows(
        c,
        &format!(
            "SELECT id, v, _change_type, _commit_version FROM {call} \
             ORDER BY _commit_version, id, _change_type"
        ),
    )
    .await
    .into_iter()
    .map(|r| text(&r).join("|"))
    .collect()
}

/// A row's values as text, NULL as `None`'s spelling in the deltalake output.
fn text(row: &[Option<String>]) -> Vec<String> {
    row.iter()
        .map(|v| v.clone().unwrap_or_else(|| "None".into()))
        .collect()
}

async fn rows(c: &tokio_postgres::Client, sql: &str) -> Vec<Vec<String>> {
    simple_rows(c, sql).await.iter().map(|r| text(r)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_records_its_changes_and_table_changes_reads_them_as_deltalake_does() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE cf (id BIGINT, v TEXT) TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true');
         INSERT INTO cf VALUES (1, 'a'), (2, 'b'), (3, 'c');
         UPDATE cf SET v = 'B' WHERE id = 2;
         DELETE FROM cf WHERE id = 3;
         MERGE INTO cf t USING (SELECT 1 AS id, 'A' AS v UNION ALL SELECT 4, 'd') s ON t.id = s.id
           WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT *;",
    )
    .await
    .unwrap();
    let table = server.data_dir.join("public/cf");
    // Spark's layout: the changes of UPDATE, DELETE and MERGE in _change_data/.
    assert!(
        std::fs::read_dir(table.join("_change_data"))
            .map(|d| d.count() > 0)
            .unwrap_or(false),
        "no _change_data files were written"
    );

    let all = feed(&c, "table_changes('cf', 0)").await;
    assert_eq!(all, deltalake_changes(&table, 0, None));
    // What the statements did, spelled out once so the oracle cannot agree with an empty feed.
    assert_eq!(
        all,
        [
            "1|a|insert|1",
            "2|b|insert|1",
            "3|c|insert|1",
            "2|B|update_postimage|2",
            "2|b|update_preimage|2",
            "3|c|delete|3",
            "1|A|update_postimage|4",
            "1|a|update_preimage|4",
            "4|d|insert|4",
        ]
    );
    // A closed range, a qualified name, and the function under an alias in a larger query.
    assert_eq!(
        feed(&c, "table_changes('public.cf', 2, 3)").await,
        deltalake_changes(&table, 2, Some(3))
    );
    assert_eq!(
        rows(
            &c,
            "SELECT ch.id, cf.v FROM table_changes('cf', 2, 4) AS ch JOIN cf ON cf.id = ch.id \
             WHERE ch._change_type = 'update_postimage' ORDER BY 1"
        )
        .await,
        vec![vec!["1", "A"], vec!["2", "B"]]
    );
    // A start time before the first commit reads from version 0.
    assert_eq!(
        feed(&c, "table_changes('cf', '2000-01-01 00:00:00+00')").await,
        all
    );
    // The change columns in the types clients read: bigint and timestamptz (the commit's time).
    let statement = c
        .prepare("SELECT _commit_version, _commit_timestamp FROM table_changes('cf', 4, 4) LIMIT 1")
        .await
        .unwrap();
    assert_eq!(
        statement.columns()[0].type_(),
        &tokio_postgres::types::Type::INT8
    );
    assert_eq!(
        statement.columns()[1].type_(),
        &tokio_postgres::types::Type::TIMESTAMPTZ
    );
    let at = rows(
        &c,
        "SELECT extract(epoch FROM _commit_timestamp) * 1000 FROM table_changes('cf', 4, 4) LIMIT 1",
    )
    .await;
    let oracle = run_python(&format!(
        "from deltalake import DeltaTable\n\
         h = [x for x in DeltaTable({:?}).history() if x['version'] == 4]\n\
         print(h[0]['timestamp'])",
        table
    ));
    let ours: f64 = at[0][0].parse().unwrap();
    assert_eq!(ours.round() as i64, oracle.parse::<i64>().unwrap());

    // REPLACE WHERE and TRUNCATE record theirs too.
    c.batch_execute(
        "INSERT INTO cf REPLACE WHERE id = 4 SELECT 4 AS id, 'D' AS v;
         TRUNCATE cf;",
    )
    .await
    .unwrap();
    let later = feed(&c, "table_changes('cf', 5)").await;
    assert_eq!(later, deltalake_changes(&table, 5, None));
    assert_eq!(
        later,
        [
            "4|d|delete|5",
            "4|D|insert|5",
            "1|A|delete|6",
            "2|B|delete|6",
            "4|D|delete|6",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_turned_on_later_and_the_errors_a_person_can_act_on() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE plain (id BIGINT, v TEXT);
         INSERT INTO plain VALUES (1, 'a'), (2, 'b');",
    )
    .await
    .unwrap();
    let err = expect_sqlstate(&c, "SELECT * FROM table_changes('plain', 0)", "55000").await;
    assert!(
        format!("{err:?}").contains("delta.enableChangeDataFeed"),
        "{err:?}"
    );
    // Turned on by ALTER TABLE: the changes of later commits are recorded.
    c.batch_execute(
        "ALTER TABLE plain SET TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true');
         UPDATE plain SET v = 'A' WHERE id = 1;",
    )
    .await
    .unwrap();
    let table = server.data_dir.join("public/plain");
    assert_eq!(
        feed(&c, "table_changes('plain', 3)").await,
        deltalake_changes(&table, 3, None)
    );
    assert_eq!(
        feed(&c, "table_changes('plain', 3)").await,
        ["1|A|update_postimage|3", "1|a|update_preimage|3"]
    );
    // Out of range, reversed, malformed, unknown: each its own SQLSTATE, the session goes on.
    expect_sqlstate(&c, "SELECT * FROM table_changes('plain', 9)", "22023").await;
    expect_sqlstate(&c, "SELECT * FROM table_changes('plain', 3, 2)", "22023").await;
    expect_sqlstate(&c, "SELECT * FROM table_changes('plain')", "22023").await;
    expect_sqlstate(&c, "SELECT * FROM table_changes('nope', 0)", "42P01").await;
    assert_eq!(
        rows(&c, "SELECT count(*) FROM plain").await,
        vec![vec!["2"]]
    );
}
