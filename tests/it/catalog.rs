//! The catalog on Delta: DDL, CTAS, partitions, properties, ALTER, attach, restart.

use crate::support::{TestServer, expect_sqlstate, simple_rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_survive_a_restart() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("data");
    let server = TestServer::start_on(&dir).await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE SCHEMA s; CREATE TABLE s.t (id BIGINT NOT NULL, v TEXT); \
             INSERT INTO s.t VALUES (1, 'one'), (2, 'two')",
        )
        .await
        .unwrap();
    drop(client);
    server.stop().await;

    let server = TestServer::start_on(&dir).await;
    let client = server.client().await;
    let rows = simple_rows(&client, "SELECT id, v FROM s.t ORDER BY id").await;
    assert_eq!(
        rows,
        vec![
            vec![Some("1".into()), Some("one".into())],
            vec![Some("2".into()), Some("two".into())]
        ]
    );
    // NOT NULL survives too.
    expect_sqlstate(&client, "INSERT INTO s.t VALUES (NULL, 'x')", "23502").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lakehouse_create_table_forms() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE orders (id BIGINT NOT NULL, customer_id TEXT, amount DECIMAL(12,2), order_date DATE) \
             USING DELTA PARTITIONED BY (order_date) \
             TBLPROPERTIES ('delta.appendOnly' = 'false', 'owner' = 'retail-team') COMMENT 'raw orders'; \
             INSERT INTO orders VALUES (1, 'customer_1', 10.50, DATE '2024-01-01'), \
                                      (2, 'customer_2', 20.00, DATE '2024-01-02'), \
                                      (3, 'customer_1', 5.25, DATE '2024-01-02')",
        )
        .await
        .unwrap();
    let table_dir = server.data_dir.join("public/orders");
    assert!(
        table_dir.join("order_date=2024-01-02").is_dir(),
        "partition folders are written"
    );
    let log =
        std::fs::read_to_string(table_dir.join("_delta_log/00000000000000000000.json")).unwrap();
    assert!(
        log.contains("retail-team") && log.contains("raw orders"),
        "{log}"
    );

    // CTAS counts its rows; OR REPLACE makes a new version with the new schema.
    let messages = client
        .simple_query("CREATE TABLE totals AS SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id")
        .await
        .unwrap();
    assert!(
        messages
            .iter()
            .any(|m| matches!(m, tokio_postgres::SimpleQueryMessage::CommandComplete(2)))
    );
    let rows = simple_rows(&client, "SELECT customer_id, total FROM totals ORDER BY 1").await;
    assert_eq!(
        rows[0],
        vec![Some("customer_1".into()), Some("15.75".into())]
    );
    client
        .batch_execute("CREATE OR REPLACE TABLE totals AS SELECT count(*) AS n FROM orders")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&client, "SELECT n FROM totals").await,
        vec![vec![Some("3".into())]]
    );
    expect_sqlstate(&client, "CREATE TABLE totals AS SELECT 1 AS x", "42P07").await;
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS totals AS SELECT 1 AS x")
        .await
        .unwrap();

    // ALTER TABLE ADD COLUMN: old rows read NULL.
    client
        .batch_execute("ALTER TABLE orders ADD COLUMN channel TEXT; INSERT INTO orders VALUES (4, 'customer_3', 1.00, DATE '2024-01-03', 'web')")
        .await
        .unwrap();
    let rows = simple_rows(
        &client,
        "SELECT id, channel FROM orders WHERE id IN (1, 4) ORDER BY id",
    )
    .await;
    assert_eq!(
        rows,
        vec![
            vec![Some("1".into()), None],
            vec![Some("4".into()), Some("web".into())]
        ]
    );

    // JSON columns store their documents as text.
    client
        .batch_execute(
            "CREATE TABLE docs (id INT, body JSONB); INSERT INTO docs VALUES (1, '{\"a\": 1}')",
        )
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&client, "SELECT body FROM docs").await,
        vec![vec![Some("{\"a\": 1}".into())]]
    );

    // SHOW TABLES and DROP TABLE.
    let tables = simple_rows(&client, "SHOW TABLES").await;
    assert!(tables.iter().any(|r| r.contains(&Some("orders".into()))));
    client
        .batch_execute("DROP TABLE totals; DROP TABLE IF EXISTS totals")
        .await
        .unwrap();
    assert!(!server.data_dir.join("public/totals").exists());
    expect_sqlstate(&client, "SELECT * FROM totals", "42P01").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_existing_delta_table_by_location() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let external = tempfile::tempdir().unwrap();
    let location = external.path().join("events");
    client
        .batch_execute(&format!(
            "CREATE TABLE events (id INT, kind TEXT) LOCATION '{}'; INSERT INTO events VALUES (1, 'click'), (2, 'view')",
            location.display()
        ))
        .await
        .unwrap();
    assert!(location.join("_delta_log").is_dir());
    client.batch_execute("DROP TABLE events").await.unwrap();
    assert!(
        location.join("_delta_log").is_dir(),
        "dropping an external table keeps its data"
    );
    client
        .batch_execute(&format!(
            "CREATE TABLE events_again LOCATION '{}'",
            location.display()
        ))
        .await
        .unwrap();
    let rows = simple_rows(&client, "SELECT kind FROM events_again ORDER BY id").await;
    assert_eq!(
        rows,
        vec![vec![Some("click".into())], vec![Some("view".into())]]
    );
    expect_sqlstate(
        &client,
        &format!(
            "CREATE TABLE nothing LOCATION '{}'",
            external.path().join("empty").display()
        ),
        "42P01",
    )
    .await;
    server.stop().await;
}

/// `CREATE TABLE t (LIKE s)` (PostgreSQL) and `CREATE TABLE t LIKE s` (Spark): an empty table
/// with the source's columns, types and NOT NULL; INCLUDING options are refused, not ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_table_like_copies_columns_types_and_not_null() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE src (id bigint NOT NULL, v text, d date); INSERT INTO src VALUES (1, 'a', DATE '2024-01-01'); \
         CREATE TABLE copy1 (LIKE src); CREATE TABLE copy2 LIKE src",
    )
    .await
    .unwrap();
    // The command tag is PostgreSQL's (psql prints it; tokio-postgres keeps only the count).
    let out = std::process::Command::new(crate::support::require_tool("psql"))
        .args([
            "-X",
            "-h",
            &server.addr.ip().to_string(),
            "-p",
            &server.addr.port().to_string(),
            "-U",
            "tester",
            "-d",
            "deltagres",
            "-c",
            "CREATE TABLE copy3 (LIKE src)",
        ])
        .output()
        .expect("psql runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "CREATE TABLE");
    for table in ["copy1", "copy2"] {
        assert_eq!(
            simple_rows(
                &c,
                &format!(
                    "SELECT column_name, data_type, is_nullable FROM information_schema.columns \
                     WHERE table_name = '{table}' ORDER BY ordinal_position"
                )
            )
            .await,
            vec![
                vec![Some("id".into()), Some("bigint".into()), Some("NO".into())],
                vec![Some("v".into()), Some("text".into()), Some("YES".into())],
                vec![Some("d".into()), Some("date".into()), Some("YES".into())],
            ]
        );
        assert_eq!(
            simple_rows(&c, &format!("SELECT count(*) FROM {table}")).await,
            vec![vec![Some("0".into())]]
        );
    }
    expect_sqlstate(
        &c,
        "CREATE TABLE copy3 (LIKE src INCLUDING DEFAULTS)",
        "0A000",
    )
    .await;
    expect_sqlstate(&c, "CREATE TABLE copy4 (LIKE nosuch)", "42P01").await;
    server.stop().await;
}

/// A BI tool's "list tables" query, repeated over the extended protocol (its parse is kept per
/// text, and the catalog's own tables are walked by their kept shapes): each repeat sees the
/// tables and views as they are then, and the catalog's own tables keep their kinds and
/// columns.
#[tokio::test]
async fn repeated_catalog_queries_follow_ddl() {
    let server = crate::support::TestServer::start().await;
    let client = server.client().await;
    let list = "SELECT n.nspname, c.relname, c.relkind FROM pg_catalog.pg_class c \
                JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                WHERE c.relkind IN ('r', 'v', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
                ORDER BY 1, 2";
    let listed = |rows: Vec<tokio_postgres::Row>| -> Vec<(String, String, String)> {
        rows.iter()
            .map(|r| (r.get(0), r.get(1), r.get::<_, String>(2)))
            .collect()
    };
    assert!(listed(client.query(list, &[]).await.unwrap()).is_empty());
    client
        .batch_execute(
            "CREATE TABLE listed_a (id INT); CREATE VIEW listed_v AS SELECT id FROM listed_a",
        )
        .await
        .unwrap();
    let row = |name: &str, kind: &str| ("public".to_string(), name.to_string(), kind.to_string());
    assert_eq!(
        listed(client.query(list, &[]).await.unwrap()),
        [row("listed_a", "r"), row("listed_v", "v")]
    );
    client
        .batch_execute("DROP VIEW listed_v; ALTER TABLE listed_a ADD COLUMN note TEXT")
        .await
        .unwrap();
    assert_eq!(
        listed(client.query(list, &[]).await.unwrap()),
        [row("listed_a", "r")]
    );
    let columns = client
        .query(
            "SELECT c.relnatts, (SELECT count(*) FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid) \
             FROM pg_catalog.pg_class c WHERE c.relname = $1",
            &[&"listed_a"],
        )
        .await
        .unwrap();
    assert_eq!(columns[0].get::<_, i16>(0), 2);
    assert_eq!(columns[0].get::<_, i64>(1), 2);
    // The catalog's own tables: pg_class is listed with its columns, information_schema's
    // tables as views.
    let own = client
        .query(
            "SELECT c.relnatts FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'pg_catalog' AND c.relname = 'pg_class'",
            &[],
        )
        .await
        .unwrap();
    assert!(own[0].get::<_, i16>(0) >= 30);
    let kinds = client
        .query(
            "SELECT DISTINCT table_type FROM information_schema.tables WHERE table_schema = 'information_schema'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(kinds.len(), 1);
    assert_eq!(kinds[0].get::<_, String>(0), "VIEW");
}
