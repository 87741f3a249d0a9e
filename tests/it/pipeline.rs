//! The retail pipeline end to end (generator, sql/retail, the runner over the wire), checked
//! against values computed from the generated parquet by tests/retail_expected.py; reruns,
//! concurrent runs, retries, hooks, --from and the run history.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tokio_postgres::Client;

use crate::support::{TestServer, run_python, simple_rows};

pub(crate) const DAYS: [&str; 3] = ["2024-01-01", "2024-01-02", "2024-01-03"];

pub(crate) fn deltagres(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deltagres"))
        .args(args)
        .output()
        .expect("deltagres runs")
}

pub(crate) fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the retail pipeline for one day through the server; returns the process output.
pub(crate) fn run_day(url: &str, input: &Path, day: &str) -> Output {
    let pipeline = repo().join("sql/retail/pipeline.toml");
    deltagres(&[
        "pipeline",
        "run",
        pipeline.to_str().unwrap(),
        "--url",
        url,
        "--param",
        &format!("run_date={day}"),
        "--param",
        &format!("input_dir={}", input.display()),
    ])
}

type Rows = Vec<Vec<Option<String>>>;

/// Every table of the pipeline, fully, in a fixed order.
async fn tables(client: &Client) -> Vec<Rows> {
    let mut all = Vec::new();
    for sql in [
        "SELECT * FROM retail.orders ORDER BY order_id",
        "SELECT * FROM retail.orders_enriched ORDER BY order_id",
        "SELECT * FROM retail.daily_revenue ORDER BY order_date, segment",
        "SELECT * FROM retail.customer_orders ORDER BY order_date, customer_id",
    ] {
        all.push(simple_rows(client, sql).await);
    }
    all
}

fn json_rows(value: &serde_json::Value) -> Rows {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Null => None,
                    other => Some(other.to_string()),
                })
                .collect()
        })
        .collect()
}

/// The final tables equal what tests/retail_expected.py computes from the parquet files.
async fn assert_matches_expected(client: &Client, input: &Path) {
    let script = std::fs::read_to_string(repo().join("tests/retail_expected.py")).unwrap();
    let code = format!(
        "import sys\nsys.argv = ['retail_expected.py', {input:?}, {days}]\n{script}",
        input = input.to_str().unwrap(),
        days = DAYS.map(|d| format!("{d:?}")).join(", ")
    );
    let expected: serde_json::Value = serde_json::from_str(&run_python(&code)).unwrap();
    let orders = simple_rows(
        client,
        "SELECT order_id, status, amount, quantity FROM retail.orders ORDER BY order_id",
    )
    .await;
    assert_eq!(orders.len(), expected["orders"].as_array().unwrap().len());
    assert!(
        orders == json_rows(&expected["orders"]),
        "retail.orders differs"
    );
    let enriched = simple_rows(
        client,
        "SELECT order_id, segment, category, amount, status FROM retail.orders_enriched ORDER BY order_id",
    )
    .await;
    assert!(
        enriched == json_rows(&expected["enriched"]),
        "retail.orders_enriched differs"
    );
    let revenue = simple_rows(
        client,
        "SELECT order_date, segment, orders, revenue FROM retail.daily_revenue ORDER BY order_date, segment",
    )
    .await;
    assert_eq!(revenue, json_rows(&expected["revenue"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retail_pipeline_runs_reruns_and_runs_concurrently() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let input_dir = tempfile::tempdir().unwrap();
    let input = input_dir.path().join("retail");
    let out = deltagres(&[
        "gen",
        "retail",
        "--out",
        input.to_str().unwrap(),
        "--orders",
        "1e5",
        "--customers",
        "2000",
        "--days",
        "3",
        "--seed",
        "7",
    ]);
    assert!(out.status.success(), "{}", describe(&out));

    let url = server.url();
    for day in DAYS {
        let out = run_day(&url, &input, day);
        assert!(out.status.success(), "{day}: {}", describe(&out));
    }
    assert_matches_expected(&client, &input).await;
    // Schema evolution added the feed's updated_on column.
    let updated = simple_rows(&client, "SELECT count(updated_on) > 0 FROM retail.orders").await;
    assert_eq!(updated, vec![vec![Some("t".into())]]);

    // Running a day again leaves every table identical.
    let before = tables(&client).await;
    let out = run_day(&url, &input, DAYS[1]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        tables(&client).await == before,
        "rerunning a day changed a table"
    );

    // Two runs for different days at the same time both commit (conflicts are retried).
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run_day(&url, &input, DAYS[1]));
        let b = s.spawn(|| run_day(&url, &input, DAYS[2]));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a.status.success(), "{}", describe(&a));
    assert!(b.status.success(), "{}", describe(&b));
    assert_matches_expected(&client, &input).await;
    assert!(
        tables(&client).await == before,
        "concurrent reruns changed a table"
    );

    // Every run is in the history, each one succeeded.
    let runs = simple_rows(
        &client,
        "SELECT count(DISTINCT run_id), count(*) FILTER (WHERE status = 'succeeded'), \
         count(*) FILTER (WHERE status = 'running' AND finished IS NULL) \
         FROM system.pipeline_runs WHERE task = '*'",
    )
    .await;
    // Each run wrote a row when it started (running) and one when it ended.
    assert_eq!(
        runs,
        vec![vec![Some("6".into()), Some("6".into()), Some("6".into())]]
    );

    // The committed plan snapshots of sql/retail still hold.
    let mut args: Vec<String> = ["plan-check".to_string()].into();
    for f in [
        "02_load_raw.sql",
        "03_skew_join.sql",
        "04_enrich.sql",
        "05_merge_updates.sql",
        "07_report.sql",
    ] {
        args.push(repo().join("sql/retail").join(f).display().to_string());
    }
    let snapshots = repo().join("sql/retail/plans").display().to_string();
    args.extend([
        "--snapshots".into(),
        snapshots,
        "--url".into(),
        url.clone(),
        "--param".into(),
        format!("run_date={}", DAYS[2]),
        "--param".into(),
        format!("input_dir={}", input.display()),
    ]);
    if std::env::var_os("UPDATE_PLAN_SNAPSHOTS").is_some() {
        args.push("--update".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = deltagres(&args);
    assert!(out.status.success(), "{}", describe(&out));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_tasks_retry_fire_hooks_and_resume_with_from() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A parquet file to land later (the customers of a tiny generated data set).
    let source = root.join("source");
    let out = deltagres(&[
        "gen",
        "retail",
        "--out",
        source.to_str().unwrap(),
        "--orders",
        "100",
        "--customers",
        "10",
        "--days",
        "1",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    std::fs::write(
        root.join("late.sql"),
        "CREATE TABLE IF NOT EXISTS landed (customer_id TEXT, segment TEXT);\n\
         CREATE TABLE IF NOT EXISTS late_marks (n INT);\n\
         SET search_path = public;\n\
         INSERT INTO late_marks VALUES (1);\n\
         INSERT INTO landed SELECT customer_id, segment FROM read_parquet('${dir}/late/*.parquet');\n",
    )
    .unwrap();
    std::fs::write(
        root.join("check.sql"),
        "SELECT raise_error('boom: the check failed');\n",
    )
    .unwrap();
    std::fs::write(
        root.join("after.sql"),
        "CREATE TABLE after_check AS SELECT 1 AS done;\n",
    )
    .unwrap();
    let pipeline = root.join("flaky.toml");
    std::fs::write(
        &pipeline,
        format!(
            "[pipeline]\nname = \"flaky\"\n[params]\ndir = '{dir}'\n\
             [defaults]\nretries = 2\nretry_backoff_secs = 1.5\n\
             [hooks]\non_failure = {{ command = 'cat > {fail}' }}\non_success = {{ command = 'cat > {ok}' }}\n\
             [[task]]\nname = \"late\"\nfile = \"late.sql\"\n\
             [[task]]\nname = \"check\"\nfile = \"check.sql\"\ndepends_on = [\"late\"]\n\
             [[task]]\nname = \"after\"\nfile = \"after.sql\"\ndepends_on = [\"check\"]\n",
            dir = root.to_str().unwrap(),
            fail = root.join("failure.json").to_str().unwrap(),
            ok = root.join("success.json").to_str().unwrap(),
        ),
    )
    .unwrap();
    // The folder appears while the first attempt's back-off runs.
    let late = root.join("late");
    let customers = source.join("customers/part-00000.parquet");
    let lander = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(700));
        std::fs::create_dir_all(&late).unwrap();
        std::fs::copy(customers, late.join("part-0.parquet")).unwrap();
    });
    let url = server.url();
    let pipeline_arg = pipeline.to_str().unwrap();
    let out = deltagres(&["pipeline", "run", pipeline_arg, "--url", &url]);
    lander.join().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let failure = std::fs::read_to_string(root.join("failure.json")).expect("on_failure ran");
    let report: serde_json::Value = serde_json::from_str(&failure).unwrap();
    assert_eq!(report["status"], "failed");
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(tasks[0]["status"], "succeeded");
    assert_eq!(tasks[0]["attempts"], 2);
    assert_eq!(tasks[1]["status"], "failed");
    assert!(
        tasks[1]["error"].as_str().unwrap().contains("boom"),
        "{failure}"
    );
    assert!(
        tasks[1]["error"].as_str().unwrap().contains("P0001"),
        "{failure}"
    );
    assert_eq!(tasks[2]["status"], "skipped");
    let attempts = simple_rows(
        &client,
        "SELECT task, attempt, status FROM system.pipeline_runs WHERE task <> '*' ORDER BY started",
    )
    .await;
    let seen: Vec<(String, String)> = attempts
        .iter()
        .map(|r| (r[0].clone().unwrap(), r[2].clone().unwrap()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("late".into(), "failed".into()),
            ("late".into(), "succeeded".into()),
            // P0001 fails the same way every time: not retried.
            ("check".into(), "failed".into()),
            // Its dependent is recorded as skipped, with the graph.
            ("after".into(), "skipped".into()),
        ]
    );
    let graph = simple_rows(
        &client,
        "SELECT depends_on FROM system.pipeline_runs WHERE task IN ('*', 'after') ORDER BY task",
    )
    .await;
    assert_eq!(
        graph,
        vec![
            vec![Some(
                r#"{"after":["check"],"check":["late"],"late":[]}"#.into()
            )],
            vec![Some(
                r#"{"after":["check"],"check":["late"],"late":[]}"#.into()
            )],
            vec![Some(r#"["check"]"#.into())],
        ]
    );
    assert_eq!(tasks[1]["attempts"], 1);
    // The retry of `late` resumed at the statement that failed: the INSERT before it, which
    // had committed, did not run twice.
    assert_eq!(
        simple_rows(&client, "SELECT count(*) FROM late_marks").await,
        vec![vec![Some("1".into())]]
    );

    // Fixed, the run resumes from the failed task; the landed rows are not loaded twice.
    std::fs::write(
        root.join("check.sql"),
        "SELECT assert_true(count(*) = 10) FROM landed;\n",
    )
    .unwrap();
    let out = deltagres(&[
        "pipeline",
        "run",
        pipeline_arg,
        "--url",
        &url,
        "--from",
        "check",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(root.join("success.json").exists());
    assert_eq!(
        simple_rows(&client, "SELECT count(*) FROM landed").await,
        vec![vec![Some("10".into())]]
    );
    assert_eq!(
        simple_rows(&client, "SELECT done FROM after_check").await,
        vec![vec![Some("1".into())]]
    );

    // validate and show explain what is wrong before anything runs.
    std::fs::write(root.join("after.sql"), "SELECT ${missing};\n").unwrap();
    let out = deltagres(&["pipeline", "validate", pipeline_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(describe(&out).contains("${missing}"), "{}", describe(&out));
    let out = deltagres(&["pipeline", "show", pipeline_arg]);
    assert!(describe(&out).contains("after check"), "{}", describe(&out));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_task_is_canceled_and_the_failure_is_posted_to_a_url() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let client = server.client().await;
    // A tiny HTTP endpoint that takes one POST and keeps its body.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/alerts", listener.local_addr().unwrap());
    let received = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = socket.read(&mut chunk).await.unwrap();
            request.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length || n == 0 {
                    socket
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await
                        .unwrap();
                    return text;
                }
            }
            if n == 0 {
                return text;
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("slow.sql"),
        "SELECT count(*) FROM generate_series(1, 5000000000) AS t(i);\n",
    )
    .unwrap();
    let pipeline = dir.path().join("slow.toml");
    std::fs::write(
        &pipeline,
        format!(
            "[hooks]\non_failure = {{ url = '{hook_url}' }}\n\
             [[task]]\nname = \"slow\"\nfile = \"slow.sql\"\ntimeout_secs = 1\n"
        ),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = deltagres(&[
        "pipeline",
        "run",
        pipeline.to_str().unwrap(),
        "--url",
        &server.url(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        describe(&out).contains("timed out after 1s"),
        "{}",
        describe(&out)
    );
    assert!(started.elapsed().as_secs() < 30);
    let request = received.await.unwrap();
    assert!(request.starts_with("POST /alerts"), "{request}");
    assert!(request.contains("\"status\": \"failed\""), "{request}");
    assert!(request.contains("57014"), "{request}");
    // The statement was canceled on the server, which answers at once.
    let clock = std::time::Instant::now();
    assert_eq!(
        simple_rows(&client, "SELECT 1").await,
        vec![vec![Some("1".into())]]
    );
    assert!(clock.elapsed().as_secs() < 5);
    server.stop().await;
}
