//! The web console and `/metrics` over HTTP (issue 17): pages list what ran with its SQL,
//! SQLSTATE and client, a running statement is canceled from its page (the client gets 57014),
//! `/metrics` parses with the OpenMetrics parser of the `prometheus-client` Python package and
//! its counters move as statements run, and with `[auth]` on the console asks for the wire's
//! users and hides other users' SQL.

use std::net::SocketAddr;
use std::time::Duration;

use deltagres::auth::ScramVerifier;
use deltagres::config::{AuthMethod, UserConfig};

use crate::support::{TestServer, sqlstate};

/// A server on a temporary directory with its console on a free port.
async fn console_server() -> (tempfile::TempDir, TestServer, SocketAddr) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir.path().join("data"), |c| {
        c.http.listen = "127.0.0.1:0".into();
    })
    .await;
    let console = server.console.expect("console on");
    (dir, server, console)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("http client")
}

async fn get(console: SocketAddr, path: &str, login: Option<(&str, &str)>) -> (u16, String) {
    let mut request = http().get(format!("http://{console}{path}"));
    if let Some((user, password)) = login {
        request = request.basic_auth(user, Some(password));
    }
    let response = request.send().await.expect("console answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// The metric families of an OpenMetrics text, parsed by the Python package; each sample as
/// `name{labels} value` lines.
fn parse_metrics(text: &str) -> Vec<String> {
    let script = r#"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        print(f"{s.name}{{{labels}}} {s.value}")
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("metrics written");
    let out = child.wait_with_output().expect("parser ends");
    assert!(
        out.status.success(),
        "the OpenMetrics parser refused /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_string)
        .collect()
}

fn sample(samples: &[String], prefix: &str) -> f64 {
    samples
        .iter()
        .find(|s| s.starts_with(prefix))
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_lists_statements_cancels_one_and_exports_metrics() {
    let (_dir, server, console) = console_server().await;
    assert_eq!(get(console, "/healthz", None).await, (200, "ok\n".into()));

    let before = parse_metrics(&get(console, "/metrics", None).await.1);
    let client = server.client().await;
    for _ in 0..5 {
        client.simple_query("SELECT 1").await.unwrap();
    }
    client
        .simple_query("CREATE TABLE pets AS SELECT 1 AS id, 'rex <b>' AS name")
        .await
        .unwrap();
    let missing = client.simple_query("SELECT * FROM no_such_table").await;
    assert_eq!(sqlstate(&missing.unwrap_err()), "42P01");
    let rows = client
        .query("SELECT id, name FROM pets", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);

    let (status, page) = get(console, "/queries", None).await;
    assert_eq!(status, 200);
    assert!(page.contains("SELECT * FROM no_such_table"), "{page}");
    assert!(page.contains("42P01"), "{page}");
    // User text is escaped, never markup.
    assert!(page.contains("&#39;rex &lt;b&gt;&#39;"), "{page}");
    assert!(!page.contains("'rex <b>'"), "{page}");
    assert!(page.contains(">tester<") && page.contains(">it<"), "{page}");
    // The extended-protocol query is listed with its text and row count.
    assert!(page.contains("SELECT id, name FROM pets"), "{page}");

    let after = parse_metrics(&get(console, "/metrics", None).await.1);
    let ok_selects = "deltagres_statements_total{kind=SELECT,outcome=ok}";
    assert!(
        sample(&after, ok_selects) >= sample(&before, ok_selects) + 6.0,
        "{after:?}"
    );
    assert_eq!(
        sample(&after, "deltagres_statements_total{kind=SELECT,outcome=42}"),
        1.0
    );
    assert!(
        sample(&after, "deltagres_rows_sent_total") >= 6.0,
        "{after:?}"
    );
    assert!(
        sample(&after, "deltagres_statement_duration_seconds_count") >= 8.0,
        "{after:?}"
    );
    assert_eq!(sample(&after, "deltagres_connections{"), 1.0, "{after:?}");
    assert_eq!(
        sample(
            &after,
            "deltagres_table_writes_total{outcome=committed,table=pets}"
        ),
        1.0,
        "{after:?}"
    );
    assert!(
        after
            .iter()
            .any(|s| s.starts_with("deltagres_spilled_bytes_total")),
        "{after:?}"
    );

    // A statement that runs until canceled from its page.
    let sleeper = server.client().await;
    let running = tokio::spawn(async move { sleeper.simple_query("SELECT pg_sleep(60)").await });
    let id = loop {
        let (_, page) = get(console, "/queries", None).await;
        if let Some(at) = page.find("<tr class=\"running\" data-id=\"") {
            let rest = &page[at + "<tr class=\"running\" data-id=\"".len()..];
            let id: u64 = rest[..rest.find('"').unwrap()].parse().unwrap();
            break id;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (status, detail) = get(console, &format!("/queries/{id}"), None).await;
    assert_eq!(status, 200);
    assert!(
        detail.contains("pg_sleep(60)") && detail.contains(">Cancel<"),
        "{detail}"
    );
    let response = http()
        .post(format!("http://{console}/queries/{id}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    let canceled = tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .expect("the cancel stops the statement")
        .unwrap();
    assert_eq!(sqlstate(&canceled.unwrap_err()), "57014");
    let (_, detail) = get(console, &format!("/queries/{id}"), None).await;
    assert!(detail.contains("57014"), "{detail}");
    assert_eq!(get(console, "/queries/999999", None).await.0, 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auth_on_the_console_asks_for_a_user_and_hides_other_users_sql() {
    let dir = tempfile::tempdir().unwrap();
    let user = |name: &str, password: &str| UserConfig {
        name: name.into(),
        verifier: ScramVerifier::generate(password, 4096).to_string(),
    };
    let server = TestServer::start_with(&dir.path().join("data"), |c| {
        c.http.listen = "127.0.0.1:0".into();
        c.http.admins = vec!["carol".into()];
        c.auth.method = AuthMethod::ScramSha256;
        c.auth.users = vec![
            user("alice", "a-pw"),
            user("bob", "b-pw"),
            user("carol", "c-pw"),
        ];
    })
    .await;
    let console = server.console.expect("console on");
    let (alice, connection) = tokio_postgres::connect(
        &format!(
            "host=127.0.0.1 port={} user=alice password=a-pw dbname=deltagres",
            server.addr.port()
        ),
        tokio_postgres::NoTls,
    )
    .await
    .expect("alice logs in");
    tokio::spawn(connection);
    alice
        .simple_query("SELECT 'alice-secret' AS s")
        .await
        .unwrap();

    assert_eq!(get(console, "/healthz", None).await.0, 200);
    assert_eq!(get(console, "/queries", None).await.0, 401);
    assert_eq!(get(console, "/metrics", None).await.0, 401);
    assert_eq!(
        get(console, "/queries", Some(("alice", "wrong"))).await.0,
        401
    );
    assert_eq!(
        get(console, "/queries", Some(("mallory", "x"))).await.0,
        401
    );

    let (status, own) = get(console, "/queries", Some(("alice", "a-pw"))).await;
    assert_eq!(status, 200);
    assert!(own.contains("alice-secret"), "{own}");
    let (status, other) = get(console, "/queries", Some(("bob", "b-pw"))).await;
    assert_eq!(status, 200);
    assert!(!other.contains("alice-secret"), "{other}");
    assert!(
        other.contains("another user&#39;s statement")
            || other.contains("another user's statement")
    );
    let (_, admin) = get(console, "/queries", Some(("carol", "c-pw"))).await;
    assert!(admin.contains("alice-secret"), "{admin}");
    server.stop().await;
}

/// The id of the newest listed statement whose SQL contains `needle`.
async fn statement_id(console: SocketAddr, needle: &str) -> u64 {
    let (_, page) = get(console, "/queries", None).await;
    let at = page
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} listed: {page}"));
    let row = page[..at].rfind("data-id=\"").expect("a row") + "data-id=\"".len();
    page[row..row + page[row..].find('"').unwrap()]
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_page_marks_the_hot_partition_of_a_skewed_join() {
    let (_dir, server, console) = console_server().await;
    let client = server.client().await;
    crate::hints::setup_retail_join(&client).await;
    crate::hints::partitioned_joins(&client).await;
    let skewed = format!("SELECT o.order_id, c.segment {}", crate::hints::JOIN);
    client.simple_query(&skewed).await.unwrap();
    let id = statement_id(console, "c.segment FROM orders o JOIN").await;
    let (status, page) = get(console, &format!("/queries/{id}"), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("<b>HashJoinExec</b>"), "{page}");
    // The join's busiest partition is marked hot, with the max/mean EXPLAIN ANALYZE prints.
    assert!(page.contains("class=\"bar max hot\""), "{page}");
    assert!(page.contains("SKEW"), "{page}");
    let explain = crate::support::simple_rows(&client, &format!("EXPLAIN ANALYZE {skewed}")).await;
    let flagged = explain
        .iter()
        .filter_map(|r| r[0].clone())
        .any(|l| l.contains("SKEW:"));
    assert!(flagged, "EXPLAIN ANALYZE flags the same join");

    // The hints a statement carried, each with what became of it.
    let hinted = format!(
        "SELECT /*+ BROADCAST(c), BROADCAST(nope) */ o.order_id, c.segment {}",
        crate::hints::JOIN
    );
    client.simple_query(&hinted).await.unwrap();
    let id = statement_id(console, "BROADCAST(nope)").await;
    let (_, page) = get(console, &format!("/queries/{id}"), None).await;
    assert!(page.contains("<h2>Hints</h2>"), "{page}");
    assert!(
        page.contains("<li class=\"applied\"><code>BROADCAST(c)</code> <strong>applied</strong>"),
        "{page}"
    );
    assert!(
        page.contains(
            "<li class=\"ignored\"><code>BROADCAST(nope)</code> <strong>not applied</strong>"
        ),
        "{page}"
    );

    // A balanced query has bars but nothing hot.
    client
        .simple_query("SELECT c.segment, count(*) FROM customers c GROUP BY c.segment")
        .await
        .unwrap();
    let id = statement_id(console, "FROM customers c GROUP BY c.segment").await;
    let (_, page) = get(console, &format!("/queries/{id}"), None).await;
    assert!(page.contains("AggregateExec"), "{page}");
    assert!(!page.contains("bar max hot"), "{page}");
    server.stop().await;
}

/// Headless Chromium (tests/browser/console.py, selenium) loads each page: the running statement
/// is listed, the skewed join's hot partition is marked and drawn tallest, and the Cancel button
/// stops the running statement (the client gets 57014). Screenshots go to a temp dir, or to
/// `CONSOLE_SCREENSHOTS` when set (how docs/console/*.png were made).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_sees_the_hot_partition_and_cancels_a_running_query() {
    let (dir, server, console) = console_server().await;
    let client = server.client().await;
    crate::hints::setup_retail_join(&client).await;
    crate::hints::partitioned_joins(&client).await;
    client
        .simple_query(&format!(
            "SELECT o.order_id, c.segment {}",
            crate::hints::JOIN
        ))
        .await
        .unwrap();
    let skewed = statement_id(console, "c.segment FROM orders o JOIN").await;

    let sleeper = server.client().await;
    let running = tokio::spawn(async move {
        sleeper
            .simple_query("SELECT pg_sleep(120) /* nightly report */")
            .await
    });
    let running_id = loop {
        let (_, page) = get(console, "/queries", None).await;
        if page.contains("<tr class=\"running\"") {
            break statement_id(console, "pg_sleep(120)").await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let shots = match std::env::var_os("CONSOLE_SCREENSHOTS") {
        Some(d) => std::path::PathBuf::from(d),
        None => dir.path().join("screenshots"),
    };
    std::fs::create_dir_all(&shots).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/console.py");
    let url = format!("http://{console}");
    let (skewed_arg, running_arg) = (skewed.to_string(), running_id.to_string());
    let shots_arg = shots.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg(script)
            .args([&url, &skewed_arg, &running_arg])
            .arg(&shots_arg)
            .output()
            .expect("python3 runs")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "the browser script failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let seen: serde_json::Value =
        serde_json::from_slice(out.stdout.trim_ascii()).expect("the script's JSON");
    assert_eq!(seen["running_listed"], true, "{seen}");
    assert!(seen["cancel_buttons"].as_u64() >= Some(1), "{seen}");
    // The join and the repartition feeding it each mark their hot partition.
    assert!(seen["hot_partitions"].as_u64() >= Some(1), "{seen}");
    assert_eq!(seen["skew_label"], true, "{seen}");
    assert_eq!(seen["hot_bar_height"], seen["tallest_bar_height"], "{seen}");
    assert!(
        seen["state_after_cancel"]
            .as_str()
            .is_some_and(|s| s.contains("57014")),
        "{seen}"
    );
    let canceled = tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .expect("the click stops the statement")
        .unwrap();
    assert_eq!(sqlstate(&canceled.unwrap_err()), "57014");
    assert_eq!(seen["tables_listed"], 2, "{seen}");
    assert_eq!(seen["orders_files"], "1", "{seen}");
    assert_eq!(seen["size_bars"], 6, "{seen}");
    assert!(
        seen["pipelines_title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Pipelines")),
        "{seen}"
    );
    for page in [
        "queries",
        "plan",
        "tables",
        "table",
        "pipelines",
        "statement",
        "canceled",
    ] {
        let png = std::fs::read(shots.join(format!("{page}.png"))).expect("screenshot written");
        assert!(png.starts_with(b"\x89PNG"), "{page}.png is a PNG");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_and_pipeline_runs_have_their_pages() {
    let (dir, server, console) = console_server().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE sales (id BIGINT, customer TEXT, day TEXT) PARTITIONED BY (day); \
             INSERT INTO sales VALUES (1, 'ada', 'mon'); \
             INSERT INTO sales VALUES (2, 'bob', 'mon'); \
             INSERT INTO sales VALUES (3, 'cy', 'tue'); \
             OPTIMIZE sales ZORDER BY (customer, id)",
        )
        .await
        .unwrap();

    let (status, list) = get(console, "/tables", None).await;
    assert_eq!(status, 200);
    assert!(list.contains("href=\"/tables/public/sales\""), "{list}");
    let (status, page) = get(console, "/tables/public/sales", None).await;
    assert_eq!(status, 200);
    // Version 4: create, three inserts, then the OPTIMIZE; one file per day remains.
    assert!(page.contains("<td id=\"version\">4</td>"), "{page}");
    assert!(page.contains("<td id=\"files\">2</td>"), "{page}");
    assert!(
        page.contains("<td id=\"zorder\">customer, id</td>"),
        "{page}"
    );
    assert!(
        page.contains("<code>day=mon</code>") && page.contains("<code>day=tue</code>"),
        "{page}"
    );
    assert!(
        page.contains("class=\"bar small\" data-files=\"2\""),
        "{page}"
    );
    assert!(
        page.contains(">OPTIMIZE<") && page.contains(">WRITE<"),
        "{page}"
    );
    assert_eq!(get(console, "/tables/public/nope", None).await.0, 404);

    // A pipeline whose second task fails: its run, tasks, error and timeline.
    let root = dir.path();
    std::fs::write(
        root.join("ok.sql"),
        "CREATE TABLE IF NOT EXISTS marks (n INT);\n",
    )
    .unwrap();
    std::fs::write(root.join("bad.sql"), "SELECT raise_error('boom <b>');\n").unwrap();
    let pipeline = root.join("daily.toml");
    std::fs::write(
        &pipeline,
        "[pipeline]\nname = \"daily\"\n\
         [[task]]\nname = \"load\"\nfile = \"ok.sql\"\n\
         [[task]]\nname = \"check\"\nfile = \"bad.sql\"\ndepends_on = [\"load\"]\n",
    )
    .unwrap();
    let out = crate::pipeline::deltagres(&[
        "pipeline",
        "run",
        pipeline.to_str().unwrap(),
        "--url",
        &server.url(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        crate::pipeline::describe(&out)
    );
    let run_id =
        crate::support::simple_rows(&client, "SELECT DISTINCT run_id FROM system.pipeline_runs")
            .await[0][0]
            .clone()
            .unwrap();
    let (status, runs) = get(console, "/pipelines", None).await;
    assert_eq!(status, 200);
    assert!(
        runs.contains(&format!("href=\"/pipelines/{run_id}\"")),
        "{runs}"
    );
    assert!(runs.contains(">daily<"), "{runs}");
    let (status, run) = get(console, &format!("/pipelines/{run_id}"), None).await;
    assert_eq!(status, 200);
    assert!(run.contains("<tr data-task=\"load\">"), "{run}");
    assert!(run.contains("<tr data-task=\"check\">"), "{run}");
    assert!(run.contains("boom &lt;b&gt;"), "{run}");
    assert!(
        run.contains("class=\"attempt done\"") && run.contains("class=\"attempt failed\""),
        "{run}"
    );
    // The graph: an arrow from load to check, each box in its state.
    assert!(run.contains("data-edge=\"load-&gt;check\""), "{run}");
    assert!(
        run.contains("data-task=\"load\" data-state=\"succeeded\"")
            && run.contains("data-task=\"check\" data-state=\"failed\""),
        "{run}"
    );
    assert_eq!(get(console, "/pipelines/no-such-run", None).await.0, 404);

    // A run in progress is listed while it runs: its running task, the task waiting on it.
    std::fs::write(root.join("slow.sql"), "SELECT pg_sleep(4);\n").unwrap();
    let slow = root.join("slow.toml");
    std::fs::write(
        &slow,
        "[pipeline]\nname = \"slow\"\n\
         [[task]]\nname = \"load\"\nfile = \"ok.sql\"\n\
         [[task]]\nname = \"wait\"\nfile = \"slow.sql\"\ndepends_on = [\"load\"]\n\
         [[task]]\nname = \"after\"\nfile = \"ok.sql\"\ndepends_on = [\"wait\"]\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_deltagres"))
        .args([
            "pipeline",
            "run",
            slow.to_str().unwrap(),
            "--url",
            &server.url(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut seen_running = None;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let rows = crate::support::simple_rows(
            &client,
            "SELECT run_id FROM system.pipeline_runs WHERE pipeline = 'slow' AND task = 'load'",
        )
        .await;
        if let Some(row) = rows.first() {
            seen_running = row[0].clone();
            break;
        }
    }
    let slow_id = seen_running.expect("the slow run's first task is recorded");
    let (_, list) = get(console, "/pipelines", None).await;
    assert!(
        list.contains(&format!("href=\"/pipelines/{slow_id}\"")),
        "{list}"
    );
    let (_, page) = get(console, &format!("/pipelines/{slow_id}"), None).await;
    assert!(
        page.contains("<td id=\"run-status\"><span class=\"state running\">running"),
        "{page}"
    );
    assert!(
        page.contains("data-task=\"load\" data-state=\"succeeded\"")
            && page.contains("data-task=\"wait\" data-state=\"running\"")
            && page.contains("data-task=\"after\" data-state=\"pending\""),
        "{page}"
    );
    assert!(child.wait().unwrap().success());
    let (_, page) = get(console, &format!("/pipelines/{slow_id}"), None).await;
    assert!(
        page.contains("<span class=\"state done\">succeeded"),
        "{page}"
    );
    assert!(
        page.contains("data-task=\"after\" data-state=\"succeeded\""),
        "{page}"
    );
    // One run row per run in the list, not the start row and the final row.
    let (_, list) = get(console, "/pipelines", None).await;
    assert_eq!(
        list.matches(&format!("href=\"/pipelines/{slow_id}\""))
            .count(),
        1,
        "{list}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_refuses_a_console_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = deltagres::config::Config::default();
    config.server.listen = "127.0.0.1:0".into();
    config.http.listen = "0.0.0.0:0".into();
    config.storage.data_dir = dir.path().join("data");
    let refused = deltagres::server::Server::bind(config)
        .await
        .err()
        .expect("a console open to the network under trust is refused");
    assert!(
        refused.message.contains("0.0.0.0:0") && refused.message.contains("SQL"),
        "{}",
        refused.message
    );
}

/// With `[tls]` set the console speaks HTTPS only, with the wire's certificate: a client that
/// trusts the CA logs in with HTTP Basic over TLS; plain HTTP gets no page (the credentials
/// never travel in clear).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_speaks_https_with_the_wires_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let certs = crate::support::development_certificates(dir.path());
    let server_certs = certs.clone();
    let server = TestServer::start_with(&dir.path().join("data"), move |c| {
        c.http.listen = "127.0.0.1:0".into();
        crate::support::require_tls(c, &server_certs);
        c.auth.method = AuthMethod::ScramSha256;
        c.auth.users = vec![UserConfig {
            name: "alice".into(),
            verifier: ScramVerifier::generate("a-pw", 4096).to_string(),
        }];
    })
    .await;
    let port = server.console.expect("console on").port();
    // Python's urllib, verifying the certificate against the development CA by host name.
    let answer = crate::support::run_python(&format!(
        "import base64, ssl, urllib.request, urllib.error\n\
         ctx = ssl.create_default_context(cafile={ca:?})\n\
         def get(path, login=None):\n\
         \x20   req = urllib.request.Request('https://localhost:{port}' + path)\n\
         \x20   if login:\n\
         \x20       req.add_header('Authorization', 'Basic ' + base64.b64encode(login.encode()).decode())\n\
         \x20   try:\n\
         \x20       with urllib.request.urlopen(req, context=ctx, timeout=20) as r:\n\
         \x20           return r.status, r.read().decode()\n\
         \x20   except urllib.error.HTTPError as e:\n\
         \x20       return e.code, ''\n\
         print(get('/healthz')[0], get('/queries')[0], get('/queries', 'alice:a-pw')[0], \
         'Queries' in get('/queries', 'alice:a-pw')[1])\n\
         try:\n\
         \x20   urllib.request.urlopen('http://127.0.0.1:{port}/healthz', timeout=10).read()\n\
         \x20   print('plain http answered')\n\
         except Exception as e:\n\
         \x20   print('plain http refused')\n",
        ca = certs.join("ca.crt").to_str().unwrap(),
    ));
    assert_eq!(
        answer.trim(),
        "200 401 200 True\nplain http refused",
        "{answer}"
    );
    server.stop().await;
}
