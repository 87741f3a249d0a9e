//! `examples/dbt_retail` built by dbt-core + dbt-postgres (the versions in
//! tests/requirements.txt) against a server holding the retail pipeline's tables: `dbt build`
//! twice with a new day of orders in between (the second run incremental: merge and
//! delete+insert models, an SCD2 snapshot that closes a changed customer), `dbt docs generate`,
//! and every mart's rows equal to its SQL run directly on the pipeline's tables.

use std::path::Path;
use std::process::Command;

use crate::pipeline::{DAYS, deltagres, describe, repo, run_day};
use crate::support::{TestServer, require_tool, simple_rows};

/// Runs `dbt <args>` on the project copy at `project` against `server`; panics with dbt's
/// output unless it succeeded.
fn dbt(server: &TestServer, project: &Path, args: &[&str]) -> String {
    let out = Command::new(require_tool("dbt"))
        .args(args)
        .args(["--profiles-dir", ".", "--no-use-colors"])
        .current_dir(project)
        .env("DBT_DELTAGRES_HOST", server.addr.ip().to_string())
        .env("DBT_DELTAGRES_PORT", server.addr.port().to_string())
        .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        .output()
        .expect("dbt runs");
    let text = describe(&out);
    assert!(out.status.success(), "dbt {args:?} failed:\n{text}");
    text
}

/// Copies the example project (dbt writes target/ and logs/ beside it).
fn copy_project(to: &Path) {
    let from = repo().join("examples/dbt_retail");
    let status = Command::new("cp")
        .arg("-r")
        .arg(&from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
    for generated in ["target", "logs"] {
        let _ = std::fs::remove_dir_all(to.join(generated));
    }
}

type Rows = Vec<Vec<Option<String>>>;

/// Each mart next to the SQL that computes it from the pipeline's tables, both ordered.
const MARTS: &[(&str, &str)] = &[
    (
        "SELECT customer_id, customer_name, segment, orders, revenue, first_order_date, last_order_date \
         FROM analytics.customer_revenue ORDER BY customer_id",
        "SELECT c.customer_id, c.name, c.segment, count(o.order_id), coalesce(sum(o.amount), 0), \
         min(o.order_date), max(o.order_date) FROM retail.customers c \
         LEFT JOIN retail.orders o ON o.customer_id = c.customer_id AND o.status <> 'returned' \
         GROUP BY c.customer_id, c.name, c.segment ORDER BY c.customer_id",
    ),
    (
        "SELECT order_date, segment, orders, revenue FROM analytics.daily_segment_revenue \
         ORDER BY order_date, segment",
        "SELECT o.order_date, s.label, count(*), sum(o.amount) FROM retail.orders o \
         JOIN retail.customers c ON c.customer_id = o.customer_id \
         JOIN analytics.segments s ON s.segment = c.segment WHERE o.status <> 'returned' \
         GROUP BY o.order_date, s.label ORDER BY 1, 2",
    ),
    (
        "SELECT order_id, order_date, customer_id, segment, status, quantity, amount \
         FROM analytics.fct_orders ORDER BY order_id",
        "SELECT o.order_id, o.order_date, o.customer_id, c.segment, o.status, o.quantity, o.amount \
         FROM retail.orders o LEFT JOIN retail.customers c ON c.customer_id = o.customer_id \
         ORDER BY o.order_id",
    ),
    (
        "SELECT order_date, orders, amount FROM analytics.fct_order_days ORDER BY order_date",
        "SELECT order_date, count(*), sum(amount) FROM retail.orders GROUP BY order_date \
         ORDER BY order_date",
    ),
];

async fn assert_marts_match(client: &tokio_postgres::Client, when: &str) {
    for (mart, direct) in MARTS {
        let built: Rows = simple_rows(client, mart).await;
        let expected: Rows = simple_rows(client, direct).await;
        assert!(!expected.is_empty(), "{when}: {direct} returned no rows");
        assert_eq!(built.len(), expected.len(), "{when}: {mart}");
        assert!(built == expected, "{when}: {mart} differs from {direct}");
    }
}

#[tokio::test]
async fn dbt_builds_the_retail_project_twice_and_generates_docs() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("retail");
    let out = deltagres(&[
        "gen",
        "retail",
        "--out",
        input.to_str().unwrap(),
        "--orders",
        "2e4",
        "--customers",
        "300",
        "--days",
        "3",
        "--seed",
        "11",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let project = work.path().join("dbt_retail");
    copy_project(&project);

    let out = run_day(&server.url(), &input, DAYS[0]);
    assert!(out.status.success(), "{}", describe(&out));
    let first = dbt(&server, &project, &["build"]);
    assert!(first.contains("ERROR=0"), "{first}");
    assert_marts_match(&client, "first build").await;

    // A new day of orders (and changed statuses), then a customer changes segment: the second
    // build merges and replaces incrementally and the snapshot closes the customer's row.
    let out = run_day(&server.url(), &input, DAYS[1]);
    assert!(out.status.success(), "{}", describe(&out));
    client
        .batch_execute(
            "UPDATE retail.customers SET segment = CASE segment WHEN 'corporate' THEN 'consumer' \
             ELSE 'corporate' END WHERE customer_id = 'customer_1'",
        )
        .await
        .unwrap();
    let second = dbt(&server, &project, &["build"]);
    assert!(second.contains("ERROR=0"), "{second}");
    assert!(
        second.contains("MERGE"),
        "the incremental model did not merge:\n{second}"
    );
    assert_marts_match(&client, "second build").await;
    let history = simple_rows(
        &client,
        "SELECT segment, dbt_valid_to IS NULL FROM analytics_snapshots.customers_snapshot \
         WHERE customer_id = 'customer_1' ORDER BY dbt_valid_from",
    )
    .await;
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0][1].as_deref(), Some("f"), "{history:?}");
    assert_ne!(history[0][0], history[1][0], "{history:?}");
    assert_eq!(history[1][1].as_deref(), Some("t"), "{history:?}");

    let docs = dbt(&server, &project, &["docs", "generate"]);
    assert!(docs.contains("Catalog written"), "{docs}");
    let catalog: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project.join("target/catalog.json")).unwrap())
            .unwrap();
    let columns = &catalog["nodes"]["model.dbt_retail.fct_orders"]["columns"];
    assert!(
        columns["order_id"]["type"].as_str() == Some("bigint"),
        "catalog.json: {columns}"
    );
    assert_eq!(
        catalog["nodes"]["model.dbt_retail.stg_orders"]["metadata"]["type"],
        "VIEW"
    );
}
