//! ALTER TABLE actions kept in the Delta protocol's own form: CHECK constraints
//! (`delta.constraints.<name>`, enforced on every write path with 23514 and nothing written),
//! SET/UNSET TBLPROPERTIES, ALTER COLUMN SET/DROP NOT NULL; read back by the deltalake package.

use crate::support::{TestServer, expect_sqlstate, run_python, simple_rows};

fn one(value: &str) -> Vec<Vec<Option<String>>> {
    vec![vec![Some(value.to_string())]]
}

/// The table's configuration and (name, nullable) fields as the deltalake package reads them.
fn delta_metadata(server: &TestServer, table: &str) -> String {
    let path = server.data_dir.join("public").join(table);
    run_python(&format!(
        "from deltalake import DeltaTable\n\
         t = DeltaTable({path:?})\n\
         config = dict(sorted(t.metadata().configuration.items()))\n\
         fields = [(f.name, f.nullable) for f in t.schema().fields]\n\
         print(config, fields)",
        path = path.to_str().unwrap()
    ))
}

#[tokio::test]
async fn check_constraints_are_delta_constraints_enforced_on_every_write() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE acct (id BIGINT, amount DECIMAL(10,2)); \
         INSERT INTO acct VALUES (1, 10.00), (2, -5.00)",
    )
    .await
    .unwrap();
    // A row already there violates it: refused, nothing added.
    expect_sqlstate(
        &c,
        "ALTER TABLE acct ADD CONSTRAINT positive CHECK (amount > 0)",
        "23514",
    )
    .await;
    c.batch_execute("DELETE FROM acct WHERE id = 2; ALTER TABLE acct ADD CONSTRAINT positive CHECK (amount > 0)")
        .await
        .unwrap();
    expect_sqlstate(
        &c,
        "ALTER TABLE acct ADD CONSTRAINT positive CHECK (id > 0)",
        "42710",
    )
    .await;
    c.batch_execute("ALTER TABLE acct ADD CHECK (id < 1000)")
        .await
        .unwrap();

    let version = simple_rows(&c, "SELECT max(version) FROM acct$history").await;
    for sql in [
        "INSERT INTO acct VALUES (3, 1.00), (4, -1.00)",
        "INSERT INTO acct SELECT 5, -2.00",
        "UPDATE acct SET amount = -1 WHERE id = 1",
        "MERGE INTO acct t USING (SELECT 1 AS id) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET amount = 0",
        "INSERT INTO acct VALUES (1000, 1.00)",
    ] {
        let err = expect_sqlstate(&c, sql, "23514").await;
        let message = err.as_db_error().map(|e| e.message().to_string());
        assert!(
            message
                .as_deref()
                .unwrap_or("")
                .contains("check constraint"),
            "{sql}: {message:?}"
        );
    }
    // Nothing was written by the refused statements.
    assert_eq!(
        simple_rows(&c, "SELECT max(version) FROM acct$history").await,
        version
    );
    assert_eq!(
        simple_rows(&c, "SELECT id, amount FROM acct ORDER BY id").await,
        vec![vec![Some("1".into()), Some("10.00".into())]]
    );
    c.batch_execute("INSERT INTO acct VALUES (6, 0.50)")
        .await
        .unwrap();

    let meta = delta_metadata(&server, "acct");
    // delta-rs stores the expression as it planned it (`amount > '0.00'::decimal(10, 2)`).
    assert!(
        meta.contains("'delta.constraints.positive': \"amount > '0.00'")
            && meta.contains("'delta.constraints.acct_check': 'id < 1000'"),
        "{meta}"
    );

    // DROP CONSTRAINT lifts it; a missing one is 42704 unless IF EXISTS.
    c.batch_execute("ALTER TABLE acct DROP CONSTRAINT positive")
        .await
        .unwrap();
    c.batch_execute("INSERT INTO acct VALUES (7, -3.00)")
        .await
        .unwrap();
    expect_sqlstate(&c, "ALTER TABLE acct DROP CONSTRAINT positive", "42704").await;
    c.batch_execute("ALTER TABLE acct DROP CONSTRAINT IF EXISTS positive")
        .await
        .unwrap();
    assert!(!delta_metadata(&server, "acct").contains("positive"));
    // A column CHECK in CREATE TABLE is the same kind of constraint, named as PostgreSQL does.
    c.batch_execute(
        "CREATE TABLE qty (n INT CHECK (n >= 0), m INT CONSTRAINT small CHECK (m < 10))",
    )
    .await
    .unwrap();
    expect_sqlstate(&c, "INSERT INTO qty VALUES (-1, 1)", "23514").await;
    expect_sqlstate(&c, "INSERT INTO qty VALUES (1, 10)", "23514").await;
    c.batch_execute("INSERT INTO qty VALUES (0, 9)")
        .await
        .unwrap();
    let meta = delta_metadata(&server, "qty");
    assert!(
        meta.contains("delta.constraints.qty_n_check") && meta.contains("delta.constraints.small"),
        "{meta}"
    );
    // Keys cannot be enforced by Delta: refused, not ignored.
    expect_sqlstate(&c, "ALTER TABLE acct ADD PRIMARY KEY (id)", "0A000").await;
}

#[tokio::test]
async fn table_properties_and_not_null_change_the_delta_metadata() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE t (id BIGINT, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, NULL)")
        .await
        .unwrap();
    c.batch_execute(
        "ALTER TABLE t SET TBLPROPERTIES ('team' = 'retail', 'delta.logRetentionDuration' = 'interval 60 days')",
    )
    .await
    .unwrap();
    let properties = simple_rows(&c, "SELECT properties FROM t$detail").await;
    let text = properties[0][0].clone().unwrap();
    assert!(
        text.contains("team") && text.contains("interval 60 days"),
        "{text}"
    );
    c.batch_execute("ALTER TABLE t UNSET TBLPROPERTIES ('team')")
        .await
        .unwrap();
    expect_sqlstate(&c, "ALTER TABLE t UNSET TBLPROPERTIES ('team')", "42704").await;
    c.batch_execute("ALTER TABLE t UNSET TBLPROPERTIES IF EXISTS ('team')")
        .await
        .unwrap();

    // SET NOT NULL checks the rows first.
    expect_sqlstate(&c, "ALTER TABLE t ALTER COLUMN v SET NOT NULL", "23502").await;
    c.batch_execute(
        "UPDATE t SET v = 'b' WHERE v IS NULL; ALTER TABLE t ALTER COLUMN v SET NOT NULL",
    )
    .await
    .unwrap();
    expect_sqlstate(&c, "INSERT INTO t VALUES (3, NULL)", "23502").await;
    let meta = delta_metadata(&server, "t");
    assert!(
        meta.contains("('v', False)")
            && meta.contains("'delta.logRetentionDuration': 'interval 60 days'")
            && !meta.contains("team"),
        "{meta}"
    );
    c.batch_execute("ALTER TABLE t ALTER COLUMN v DROP NOT NULL; INSERT INTO t VALUES (3, NULL)")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM t WHERE v IS NULL").await,
        one("1")
    );
    assert!(delta_metadata(&server, "t").contains("('v', True)"));

    expect_sqlstate(&c, "ALTER TABLE t ALTER COLUMN nope SET NOT NULL", "42703").await;
    expect_sqlstate(
        &c,
        "ALTER TABLE t SET TBLPROPERTIES ('delta.appendonlyy' = 'true')",
        "22023",
    )
    .await;
    expect_sqlstate(
        &c,
        "ALTER TABLE t ALTER COLUMN v DROP NOT NULL, ALTER COLUMN id SET NOT NULL",
        "0A000",
    )
    .await;
}
