//! Views (issue 14): CREATE [OR REPLACE] VIEW, DROP VIEW [CASCADE], the dependency rules of DROP,
//! and views in the catalog (pg_class, pg_views, information_schema, psql `\dv`), each answer held
//! to PostgreSQL 15's on the same statements; then what is ours alone: views survive a restart,
//! time travel inside a view, writes to a view refused.

use tokio_postgres::Client;

use crate::support::{Postgres, TestServer, require_tool, simple_rows, sqlstate};

const SETUP: &[&str] = &[
    "CREATE TABLE orders (id BIGINT, customer TEXT, amount BIGINT, day DATE)",
    "INSERT INTO orders VALUES (1, 'ann', 10, '2024-01-01'), (2, 'bob', 20, '2024-01-01'), \
     (3, 'ann', 5, '2024-01-02'), (4, 'cy', 7, '2024-01-03')",
    "CREATE VIEW big_orders AS SELECT id, customer, amount FROM orders WHERE amount >= 7",
    "CREATE VIEW per_customer (who, n) AS SELECT customer, count(*) FROM big_orders GROUP BY customer",
    "CREATE SCHEMA mart",
    "CREATE VIEW mart.daily AS SELECT day, count(*) AS orders FROM orders GROUP BY day",
];

/// Statements run in order on both servers; each answer (rows as text, or the SQLSTATE) must
/// match PostgreSQL's.
const STEPS: &[&str] = &[
    "SELECT * FROM big_orders ORDER BY id",
    "SELECT * FROM per_customer ORDER BY who",
    "SELECT b.id, p.n FROM big_orders b JOIN per_customer p ON b.customer = p.who ORDER BY b.id",
    "SELECT count(*) FROM big_orders WHERE customer = 'ann'",
    "SELECT x.a FROM big_orders AS x(a) ORDER BY 1",
    "WITH big_orders AS (SELECT 42 AS id) SELECT * FROM big_orders",
    "SELECT * FROM mart.daily ORDER BY day",
    "SELECT * FROM (SELECT who FROM per_customer) s ORDER BY who",
    "INSERT INTO orders VALUES (5, 'bob', 30, '2024-01-03')",
    "SELECT * FROM per_customer ORDER BY who",
    "SELECT table_schema, table_name, table_type FROM information_schema.tables \
     WHERE table_schema IN ('public', 'mart') ORDER BY 2",
    "SELECT relname, relkind FROM pg_catalog.pg_class \
     WHERE relname IN ('orders', 'big_orders', 'per_customer', 'daily') ORDER BY 1",
    "SELECT schemaname, viewname FROM pg_catalog.pg_views \
     WHERE schemaname IN ('public', 'mart') ORDER BY 2",
    "SELECT table_schema, table_name FROM information_schema.views \
     WHERE table_schema IN ('public', 'mart') ORDER BY 2",
    "SELECT column_name, data_type FROM information_schema.columns \
     WHERE table_name = 'per_customer' ORDER BY ordinal_position",
    // Errors.
    "CREATE VIEW big_orders AS SELECT 1 AS one",
    "CREATE TABLE big_orders (x INT)",
    "DROP TABLE big_orders",
    "DROP VIEW orders",
    "DROP TABLE orders",
    "DROP VIEW big_orders",
    "CREATE VIEW broken AS SELECT * FROM no_such_table",
    "CREATE OR REPLACE VIEW per_customer AS SELECT customer FROM orders",
    "CREATE OR REPLACE VIEW per_customer (total, who) AS SELECT count(*), customer FROM orders GROUP BY customer",
    "CREATE VIEW two AS SELECT 1 AS a, 2 AS a",
    // OR REPLACE may add columns at the end.
    "CREATE OR REPLACE VIEW big_orders AS SELECT id, customer, amount, day FROM orders WHERE amount >= 20",
    "SELECT * FROM big_orders ORDER BY id",
    "SELECT * FROM per_customer ORDER BY who",
    "DROP VIEW IF EXISTS no_such_view",
    "DROP VIEW big_orders CASCADE",
    "SELECT * FROM per_customer",
    "SELECT table_name FROM information_schema.views WHERE table_schema = 'public'",
    "DROP SCHEMA mart",
    "DROP SCHEMA mart CASCADE",
    "SELECT count(*) FROM orders",
];

async fn answer(client: &Client, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    match client.simple_query(sql).await {
        Ok(messages) => Ok(messages
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                ),
                _ => None,
            })
            .collect()),
        Err(e) => Err(sqlstate(&e)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_answer_as_postgresql() {
    let postgres = Postgres::start();
    let pg = postgres.client().await;
    let server = TestServer::start().await;
    let ours = server.client().await;
    for sql in SETUP {
        pg.batch_execute(sql).await.unwrap();
        ours.batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let mut differences = Vec::new();
    for sql in STEPS {
        let expected = answer(&pg, sql).await;
        let got = answer(&ours, sql).await;
        if expected != got {
            differences.push(format!(
                "{sql}\n  postgres:  {expected:?}\n  deltagres: {got:?}"
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} answers differ from PostgreSQL 15's:\n{}",
        differences.len(),
        STEPS.len(),
        differences.join("\n")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_persist_read_old_versions_and_refuse_writes() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE t (id BIGINT, v TEXT); \
         INSERT INTO t VALUES (1, 'a'), (2, 'b'); \
         INSERT INTO t VALUES (3, 'c'); \
         CREATE VIEW first_load AS SELECT count(*) AS n FROM t VERSION AS OF 1; \
         CREATE VIEW everything AS SELECT * FROM t",
    )
    .await
    .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT n FROM first_load").await,
        vec![vec![Some("2".into())]],
        "time travel inside a view"
    );
    for (sql, code) in [
        ("INSERT INTO everything VALUES (4, 'd')", "0A000"),
        ("UPDATE everything SET v = 'x'", "0A000"),
        ("DELETE FROM everything", "0A000"),
        ("SELECT * FROM everything VERSION AS OF 1", "0A000"),
    ] {
        let e = c.simple_query(sql).await.expect_err(sql);
        assert_eq!(sqlstate(&e), code, "{sql}: {e}");
    }
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM t").await,
        vec![vec![Some("3".into())]],
        "refused writes changed nothing"
    );
    // An extended-protocol statement over a view, with a parameter.
    let rows = c
        .query("SELECT v FROM everything WHERE id = $1", &[&2i64])
        .await
        .unwrap();
    assert_eq!(rows[0].get::<_, String>(0), "b");
    // psql's \dv lists the views.
    let psql = require_tool("psql");
    let out = std::process::Command::new(psql)
        .args([&server.url(), "-X", "-A", "-t", "-c", "\\dv"])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listing.contains("public|everything|view") && listing.contains("public|first_load|view"),
        "\\dv: {listing} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Views are kept with the data directory: a fresh server on it has them.
    let data = server.data_dir.clone();
    let _keep = server;
    let again = TestServer::start_on(&data).await;
    let c = again.client().await;
    assert_eq!(
        simple_rows(&c, "SELECT id FROM everything ORDER BY id").await,
        vec![
            vec![Some("1".into())],
            vec![Some("2".into())],
            vec![Some("3".into())]
        ]
    );
    again.stop().await;
}
