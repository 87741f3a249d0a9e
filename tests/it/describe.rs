//! Spark's introspection statements: SHOW TABLES [IN s] [LIKE], SHOW COLUMNS, DESCRIBE [TABLE]
//! [EXTENDED] and SHOW CREATE TABLE, whose DDL recreates the table (columns, NOT NULL,
//! partitioning, CHECK constraints, properties, comment), as the deltalake package confirms.

use crate::support::{TestServer, expect_sqlstate, run_python, simple_rows};

fn rows(values: &[&[&str]]) -> Vec<Vec<Option<String>>> {
    values
        .iter()
        .map(|r| r.iter().map(|v| Some(v.to_string())).collect())
        .collect()
}

#[tokio::test]
async fn show_and_describe_answer_from_the_catalog() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE SCHEMA s; \
         CREATE TABLE s.orders (id BIGINT NOT NULL, amount DECIMAL(12,2), note TEXT, day DATE, \
           CONSTRAINT positive CHECK (amount > 0)) \
           PARTITIONED BY (day) TBLPROPERTIES ('team' = 'retail') COMMENT 'all orders'; \
         CREATE VIEW s.big AS SELECT id FROM s.orders WHERE amount > 100; \
         CREATE TABLE s.other (x INT); \
         CREATE TEMP TABLE scratch (y INT)",
    )
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&c, "SHOW TABLES IN s").await,
        rows(&[
            &["s", "big", "f"],
            &["s", "orders", "f"],
            &["s", "other", "f"],
            &["", "scratch", "t"]
        ])
    );
    assert_eq!(
        simple_rows(&c, "SHOW TABLES FROM s LIKE 'ord*|b*'").await,
        rows(&[&["s", "big", "f"], &["s", "orders", "f"]])
    );
    expect_sqlstate(&c, "SHOW TABLES IN nope", "3F000").await;
    for sql in ["SHOW COLUMNS IN s.orders", "SHOW COLUMNS FROM orders IN s"] {
        assert_eq!(
            simple_rows(&c, sql).await,
            rows(&[&["id"], &["amount"], &["note"], &["day"]]),
            "{sql}"
        );
    }
    assert_eq!(
        simple_rows(&c, "DESCRIBE TABLE s.orders").await,
        rows(&[
            &["id", "bigint not null", ""],
            &["amount", "numeric(12,2)", ""],
            &["note", "text", ""],
            &["day", "date", ""],
            &["", "", ""],
            &["# Partition Information", "", ""],
            &["# col_name", "data_type", "comment"],
            &["day", "date", ""],
        ])
    );
    assert_eq!(
        simple_rows(&c, "DESCRIBE s.big").await,
        rows(&[&["id", "bigint not null", ""]])
    );
    let extended = simple_rows(&c, "DESCRIBE TABLE EXTENDED s.orders").await;
    let fact = |name: &str| {
        extended
            .iter()
            .find(|r| r[0].as_deref() == Some(name))
            .and_then(|r| r[1].clone())
            .unwrap_or_else(|| panic!("no {name} in {extended:?}"))
    };
    assert_eq!(fact("Provider"), "delta");
    assert_eq!(fact("Type"), "MANAGED");
    assert_eq!(fact("Comment"), "all orders");
    assert!(
        fact("Table Properties").contains("team=retail"),
        "{extended:?}"
    );
    assert!(
        fact("Table Properties").contains("delta.constraints.positive="),
        "{extended:?}"
    );
    expect_sqlstate(&c, "DESCRIBE TABLE s.nope", "42P01").await;

    // SHOW CREATE TABLE's DDL makes the same table again.
    let ddl = simple_rows(&c, "SHOW CREATE TABLE s.orders").await[0][0]
        .clone()
        .unwrap();
    assert!(ddl.contains("CONSTRAINT \"positive\" CHECK"), "{ddl}");
    c.batch_execute(&ddl.replace("\"s\".\"orders\"", "\"s\".\"orders_copy\""))
        .await
        .unwrap_or_else(|e| panic!("{ddl}: {e}"));
    let again = simple_rows(&c, "SHOW CREATE TABLE s.orders_copy").await[0][0]
        .clone()
        .unwrap();
    assert_eq!(
        again,
        ddl.replace("\"s\".\"orders\"", "\"s\".\"orders_copy\"")
    );
    expect_sqlstate(
        &c,
        "INSERT INTO s.orders_copy VALUES (1, -1, 'x', DATE '2024-01-01')",
        "23514",
    )
    .await;
    let path = server.data_dir.join("s").join("orders_copy");
    let seen = run_python(&format!(
        "from deltalake import DeltaTable\n\
         t = DeltaTable({path:?})\n\
         m = t.metadata()\n\
         print(m.partition_columns, m.description, m.configuration.get('team'), \
               m.configuration.get('delta.constraints.positive'), \
               [(f.name, f.nullable) for f in t.schema().fields][0])",
        path = path.to_str().unwrap()
    ));
    assert!(
        seen.starts_with("['day'] all orders retail amount > ") && seen.ends_with(" ('id', False)"),
        "{seen}"
    );
    let view_ddl = simple_rows(&c, "SHOW CREATE TABLE s.big").await[0][0]
        .clone()
        .unwrap();
    assert!(
        view_ddl.starts_with("CREATE VIEW \"s\".\"big\" AS SELECT"),
        "{view_ddl}"
    );
}
