//! Hints that change the physical plan but never the rows, EXPLAIN in its forms, the skew report
//! and plan snapshots, on a small copy of the retail join (60% of orders on customer_1).

use std::process::Command;

use tokio_postgres::Client;

use crate::support::{TestServer, expect_sqlstate, simple_rows};

const ORDERS: i64 = 40_000;

/// orders (skewed on customer_1, some orphan customer ids) and customers, deterministic.
pub(crate) async fn setup_retail_join(client: &Client) {
    client
        .batch_execute(&format!(
            "CREATE TABLE customers AS SELECT 'customer_' || i AS customer_id, \
               CASE i % 4 WHEN 0 THEN 'consumer' WHEN 1 THEN 'corporate' WHEN 2 THEN 'home_office' ELSE 'small_business' END AS segment \
             FROM generate_series(1, 2000) t(i); \
             CREATE TABLE orders AS SELECT i AS order_id, \
               CASE WHEN i % 10 < 6 THEN 'customer_1' ELSE 'customer_' || (2 + (i * 7919) % 2100) END AS customer_id, \
               CAST(i % 100 AS DOUBLE) AS amount \
             FROM generate_series(1, {ORDERS}) t(i)"
        ))
        .await
        .unwrap();
}

/// Session settings that make joins partitioned (no automatic broadcast) over 8 partitions.
pub(crate) async fn partitioned_joins(client: &Client) {
    client
        .batch_execute(
            "SET datafusion.optimizer.hash_join_single_partition_threshold = 0; \
             SET datafusion.optimizer.hash_join_single_partition_threshold_rows = 0; \
             SET datafusion.execution.target_partitions = 8",
        )
        .await
        .unwrap();
}

async fn explain(client: &Client, sql: &str) -> Vec<String> {
    simple_rows(client, &format!("EXPLAIN {sql}"))
        .await
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect()
}

pub(crate) const JOIN: &str = "FROM orders o JOIN customers c ON o.customer_id = c.customer_id";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hints_change_plans_but_never_rows() {
    let server = TestServer::start().await;
    let client = server.client().await;
    setup_retail_join(&client).await;
    partitioned_joins(&client).await;
    let query = |hint: &str, join: &str| {
        format!(
            "SELECT /*+ {hint} */ o.order_id, o.customer_id, c.segment, o.amount \
             FROM orders o {join} customers c ON o.customer_id = c.customer_id ORDER BY o.order_id"
        )
    };
    for join in ["JOIN", "LEFT JOIN"] {
        let plain = simple_rows(&client, &query("", join)).await;
        let expected = if join == "JOIN" {
            36_000
        } else {
            ORDERS as usize
        };
        assert!(
            plain.len() >= expected - 2_000 && plain.len() <= ORDERS as usize,
            "{join}: {}",
            plain.len()
        );
        for hint in [
            "BROADCAST(c)",
            "BROADCAST(o)",
            "SHUFFLE_HASH(c)",
            "MERGE(c)",
            "SKEW('o', 'customer_id', ('customer_1'))",
            "SKEW('o', 'customer_id')",
            "SKEW('orders')",
            "REPARTITION(3)",
            "REPARTITION(4, customer_id)",
            "REPARTITION_BY_RANGE(4, order_id)",
            "COALESCE(1)",
        ] {
            let hinted = simple_rows(&client, &query(hint, join)).await;
            assert!(hinted == plain, "{join} with {hint}: rows differ");
        }
    }
    // Hints inside CTAS and INSERT ... SELECT give the same rows too.
    client
        .batch_execute(&format!(
            "CREATE TABLE t1 AS SELECT /*+ SKEW('o', 'customer_id', ('customer_1')) */ o.order_id, c.segment {JOIN}; \
             CREATE TABLE t2 (order_id BIGINT, segment TEXT); \
             INSERT INTO t2 SELECT /*+ BROADCAST(c) */ o.order_id, c.segment {JOIN}; \
             CREATE TABLE t3 (order_id BIGINT, segment TEXT); \
             MERGE INTO t3 t USING (SELECT /*+ SHUFFLE_HASH(c) */ o.order_id, c.segment {JOIN}) s \
               ON t.order_id = s.order_id WHEN NOT MATCHED THEN INSERT *"
        ))
        .await
        .unwrap();
    let plain = simple_rows(
        &client,
        &format!("SELECT o.order_id, c.segment {JOIN} ORDER BY 1"),
    )
    .await;
    assert_eq!(
        simple_rows(&client, "SELECT * FROM t1 ORDER BY 1").await,
        plain
    );
    assert_eq!(
        simple_rows(&client, "SELECT * FROM t2 ORDER BY 1").await,
        plain
    );
    server.stop().await;
}

/// The line of the first operator named `name`, and the first line of its first child.
fn operator_and_build_side<'a>(plan: &'a [String], name: &str) -> (&'a str, &'a str) {
    let at = plan
        .iter()
        .position(|l| l.trim_start().starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in plan:\n{}", plan.join("\n")));
    let depth = plan[at].len() - plan[at].trim_start().len();
    let build = plan[at + 1..]
        .iter()
        .find(|l| l.contains("DataSourceExec"))
        .map(String::as_str)
        .unwrap_or("");
    let _ = depth;
    (plan[at].as_str(), build)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_shows_each_join_strategy() {
    let server = TestServer::start().await;
    let (client, notices) = server.client_with_notices().await;
    setup_retail_join(&client).await;
    partitioned_joins(&client).await;
    let select = format!("SELECT o.order_id, c.segment {JOIN}");

    let plain = explain(&client, &select).await;
    let (join, _) = operator_and_build_side(&plain, "HashJoinExec");
    assert!(join.contains("mode=Partitioned"), "{}", plain.join("\n"));

    let hinted = select.replacen("SELECT", "SELECT /*+ BROADCAST(c) */", 1);
    let plan = explain(&client, &hinted).await;
    let (join, build) = operator_and_build_side(&plan, "HashJoinExec");
    assert!(join.contains("mode=CollectLeft"), "{}", plan.join("\n"));
    assert!(build.contains("/customers/"), "build side: {build}");

    let hinted = select.replacen("SELECT", "SELECT /*+ SHUFFLE_HASH(c) */", 1);
    let plan = explain(&client, &hinted).await;
    let (join, build) = operator_and_build_side(&plan, "HashJoinExec");
    assert!(join.contains("mode=Partitioned"), "{}", plan.join("\n"));
    assert!(build.contains("/customers/"), "build side: {build}");

    let hinted = select.replacen("SELECT", "SELECT /*+ MERGE(c) */", 1);
    let plan = explain(&client, &hinted).await;
    assert!(
        plan.iter().any(|l| l.contains("SortMergeJoinExec")),
        "{}",
        plan.join("\n")
    );
    assert!(!plan.iter().any(|l| l.contains("HashJoinExec")));

    // VERBOSE: the logical plan, the physical plan and what each hint did.
    let hinted = select.replacen("SELECT", "SELECT /*+ BROADCAST(c) */", 1);
    let verbose = explain(&client, &format!("VERBOSE {hinted}")).await;
    assert_eq!(verbose[0], "Logical plan:");
    assert!(verbose.iter().any(|l| l == "Physical plan:"));
    assert!(
        verbose.iter().any(|l| l.contains("BROADCAST(c): applied")),
        "{}",
        verbose.join("\n")
    );

    // An unknown hint and a hint naming no relation: warnings, and the rows are right.
    notices.lock().unwrap().clear();
    let rows = simple_rows(
        &client,
        &format!("SELECT /*+ NOT_A_HINT(c) BROADCAST(nope) */ count(*) {JOIN}"),
    )
    .await;
    let expected = simple_rows(&client, &format!("SELECT count(*) {JOIN}")).await;
    assert_eq!(rows, expected);
    let warnings = notices.lock().unwrap().clone();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("WARNING") && w.contains("NOT_A_HINT")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("BROADCAST(nope) was not applied")),
        "{warnings:?}"
    );
    expect_sqlstate(&client, "EXPLAIN (FORMAT YAML) SELECT 1", "0A000").await;
    expect_sqlstate(&client, "EXPLAIN (BOGUS) SELECT 1", "42601").await;
    server.stop().await;
}

/// (max/mean, skew flagged) from the partition line under the first HashJoinExec.
fn join_partition_balance(plan: &[String]) -> (f64, bool, u64) {
    let at = plan
        .iter()
        .position(|l| l.trim_start().starts_with("HashJoinExec"))
        .expect("a hash join");
    let line = &plan[at + 1];
    assert!(line.contains("rows per partition: 8 partitions"), "{line}");
    let ratio: f64 = line
        .split("(max/mean ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|r| r.parse().ok())
        .expect("a max/mean ratio");
    let max: u64 = line
        .split(" max=")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|r| r.parse().ok())
        .expect("a max");
    (ratio, line.contains("SKEW:"), max)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_analyze_shows_skew_and_the_skew_hint_removes_it() {
    let server = TestServer::start().await;
    let client = server.client().await;
    setup_retail_join(&client).await;
    partitioned_joins(&client).await;
    let select = format!("SELECT o.order_id, c.segment {JOIN}");

    let plain = explain(&client, &format!("ANALYZE {select}")).await;
    let (ratio, flagged, max) = join_partition_balance(&plain);
    assert!(flagged, "{}", plain.join("\n"));
    assert!(
        max as f64 >= 0.55 * 36_000.0,
        "hot partition holds {max} rows"
    );
    assert!(ratio > 4.0, "{ratio}");
    assert!(
        plain
            .iter()
            .any(|l| l.contains("files=1 of=1 pruned=0 table=public.orders")),
        "{}",
        plain.join("\n")
    );
    assert!(plain.last().unwrap().starts_with("Execution Time:"));

    let hinted = select.replacen(
        "SELECT",
        "SELECT /*+ SKEW('o', 'customer_id', ('customer_1')) */",
        1,
    );
    let salted = explain(&client, &format!("ANALYZE {hinted}")).await;
    let (ratio, flagged, _) = join_partition_balance(&salted);
    assert!(
        !flagged && ratio <= 1.5,
        "max/mean {ratio}:\n{}",
        salted.join("\n")
    );

    // The same facts as JSON for tools.
    let json = explain(&client, &format!("(ANALYZE, FORMAT JSON) {select}")).await;
    assert_eq!(json.len(), 1);
    let doc: serde_json::Value = serde_json::from_str(&json[0]).unwrap();
    let plan = &doc[0]["Plan"];
    assert!(
        plan["Node Type"]
            .as_str()
            .is_some_and(|t| t.ends_with("Exec")),
        "{plan}"
    );
    let text = json[0].as_str();
    assert!(text.contains("\"Skewed\": true"), "{text}");
    assert!(text.contains("\"Partition Rows\""));
    assert!(doc[0]["Execution Time"].as_f64().is_some());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skew_report_finds_the_hot_keys() {
    let server = TestServer::start().await;
    let client = server.client().await;
    setup_retail_join(&client).await;
    let rows = simple_rows(
        &client,
        "SELECT value, row_count, share, source FROM deltagres_skew('public.orders', 'customer_id', 2)",
    )
    .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0].as_deref(), Some("customer_1"));
    assert_eq!(rows[0][1].as_deref(), Some("24000"));
    assert_eq!(rows[0][2].as_deref(), Some("0.6"));
    assert_eq!(rows[0][3].as_deref(), Some("scan"));
    // A partition column is answered from the Delta log alone.
    client
        .batch_execute(
            "CREATE TABLE daily (id BIGINT, day DATE) PARTITIONED BY (day); \
             INSERT INTO daily VALUES (1, DATE '2024-01-01'), (2, DATE '2024-01-01'), (3, DATE '2024-01-02')",
        )
        .await
        .unwrap();
    let rows = simple_rows(
        &client,
        "SELECT value, row_count, source FROM deltagres_skew('daily', 'day')",
    )
    .await;
    assert_eq!(
        rows,
        vec![
            vec![
                Some("2024-01-01".into()),
                Some("2".into()),
                Some("stats".into())
            ],
            vec![
                Some("2024-01-02".into()),
                Some("1".into()),
                Some("stats".into())
            ],
        ]
    );
    expect_sqlstate(
        &client,
        "SELECT * FROM deltagres_skew('daily', 'nope')",
        "42703",
    )
    .await;
    expect_sqlstate(
        &client,
        "SELECT * FROM deltagres_skew('missing', 'day')",
        "42P01",
    )
    .await;
    server.stop().await;
}

fn plan_check(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_deltagres"))
        .arg("plan-check")
        .args(args)
        .output()
        .expect("deltagres runs");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_check_catches_a_changed_hint() {
    let server = TestServer::start().await;
    let client = server.client().await;
    setup_retail_join(&client).await;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plans");
    let script = fixtures.join("joins.sql");
    let snapshots = fixtures.join("snapshots");
    let url = server.url();
    let common = ["--url", url.as_str(), "--param", "min_amount=10"];
    let script_arg = script.to_str().unwrap();
    let snapshots_arg = snapshots.to_str().unwrap();
    if std::env::var_os("UPDATE_PLAN_SNAPSHOTS").is_some() {
        let (code, out) = plan_check(
            &[
                &[script_arg, "--snapshots", snapshots_arg, "--update"][..],
                &common[..],
            ]
            .concat(),
        );
        assert_eq!(code, 0, "{out}");
    }
    // The committed snapshots match.
    let (code, out) =
        plan_check(&[&[script_arg, "--snapshots", snapshots_arg][..], &common[..]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok "), "{out}");

    // A copy with a changed hint fails with a diff; --update accepts it.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("joins.sql");
    std::fs::write(
        &copy,
        std::fs::read_to_string(&script)
            .unwrap()
            .replace("BROADCAST(c)", "SHUFFLE_HASH(c)"),
    )
    .unwrap();
    let copy_arg = copy.to_str().unwrap();
    let (code, out) =
        plan_check(&[&[copy_arg, "--snapshots", snapshots_arg][..], &common[..]].concat());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("-        HashJoinExec: mode=CollectLeft")
            || out.contains("-  HashJoinExec: mode=CollectLeft")
            || out.contains("mode=CollectLeft"),
        "{out}"
    );
    assert!(
        out.contains("+") && out.contains("mode=Partitioned"),
        "{out}"
    );
    let updated = dir.path().join("snapshots");
    std::fs::create_dir_all(&updated).unwrap();
    std::fs::copy(
        snapshots.join("joins.sql.plan"),
        updated.join("joins.sql.plan"),
    )
    .unwrap();
    let updated_arg = updated.to_str().unwrap();
    let (code, out) = plan_check(
        &[
            &[copy_arg, "--snapshots", updated_arg, "--update"][..],
            &common[..],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) =
        plan_check(&[&[copy_arg, "--snapshots", updated_arg][..], &common[..]].concat());
    assert_eq!(code, 0, "{out}");
    // A missing parameter is an error that names it.
    let (code, out) = plan_check(&[
        script_arg,
        "--snapshots",
        snapshots_arg,
        "--url",
        url.as_str(),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("min_amount"), "{out}");
    server.stop().await;
}
