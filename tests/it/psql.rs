//! psql 15 as users run it: meta-commands and scripts with ON_ERROR_STOP.

use std::process::Command;

use crate::support::{Postgres, TestServer, require_tool};

fn psql(server: &TestServer, args: &[&str]) -> std::process::Output {
    psql_at(&server.url(), args)
}

/// psql connected to `url` (deltagres or the PostgreSQL oracle), without ~/.psqlrc.
fn psql_at(url: &str, args: &[&str]) -> std::process::Output {
    let psql = require_tool("psql");
    Command::new(psql)
        .arg(url)
        .args(["-X", "-q"])
        .args(args)
        .output()
        .expect("psql runs")
}

/// psql's output, failing the test on an error.
fn psql_output(url: &str, args: &[&str]) -> String {
    let out = psql_at(url, args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "psql at {url} failed: {stderr}\n{stdout}"
    );
    stdout
}

/// psql `\d` shows identity and generated columns as it does on PostgreSQL 15 (the oracle), and
/// a session's temporary table is listed by `\dt` and described by `\d` in that session, and in
/// no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_shows_generated_columns_and_temporary_tables_as_postgresql() {
    let server = TestServer::start().await;
    let postgres = Postgres::start();
    let ddl = "CREATE TABLE gen (id BIGINT GENERATED ALWAYS AS IDENTITY, a INT NOT NULL, \
               b INT GENERATED ALWAYS AS (a * 2) STORED, c TEXT)";
    server.client().await.batch_execute(ddl).await.unwrap();
    postgres.client().await.batch_execute(ddl).await.unwrap();
    let script = [
        "-c",
        "CREATE TEMP TABLE tt (x INT NOT NULL, y TEXT)",
        "-c",
        "\\d tt",
        "-c",
        "\\d gen",
        "-A",
        "-c",
        "SELECT n.nspname LIKE 'pg_temp%', c.relname, c.relkind, c.relpersistence \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relname IN ('tt', 'gen') ORDER BY 2",
    ];
    // PostgreSQL names the session's temporary schema pg_temp_N; ours is pg_temp.
    let normalize = |text: String| {
        regex::Regex::new("pg_temp_[0-9]+")
            .unwrap()
            .replace_all(&text, "pg_temp")
            .to_string()
    };
    let ours = normalize(psql_output(&server.url(), &script));
    let theirs = normalize(psql_output(&postgres.url(), &script));
    assert_eq!(ours, theirs);
    assert!(
        ours.contains("generated always as (a * 2) stored")
            && ours.contains("generated always as identity")
            && ours.contains("Table \"pg_temp.tt\"")
            && ours.contains("t|tt|r|t"),
        "{ours}"
    );
    // `\dt` in the session lists the temporary table with the shared one.
    let listed = psql_output(
        &server.url(),
        &[
            "-c",
            "CREATE TEMP TABLE tt (x INT)",
            "-A",
            "-t",
            "-c",
            "\\dt",
        ],
    );
    assert!(
        listed.contains("pg_temp|tt|table") && listed.contains("public|gen|table"),
        "{listed}"
    );
    // Another session sees neither the table nor its schema.
    let other = psql_output(&server.url(), &["-A", "-t", "-c", "\\dt"]);
    assert!(
        !other.contains("tt") && other.contains("public|gen|table"),
        "{other}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_commands_list_tables_and_columns() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute("CREATE SCHEMA retail; CREATE TABLE retail.customers (customer_id TEXT NOT NULL, segment TEXT, signup_date DATE)")
        .await
        .unwrap();
    let out = psql(
        &server,
        &[
            "-c",
            "\\dt retail.*",
            "-c",
            "\\d retail.customers",
            "-c",
            "\\dn",
            "-c",
            "\\l",
            "-c",
            "\\d+ retail.customers",
            "-c",
            "\\df",
            "-c",
            "\\dt+ retail.*",
            "-c",
            "\\dn+",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "psql failed: {stderr}\n{stdout}"
    );
    assert!(stdout.contains("retail | customers | table"), "{stdout}");
    assert!(stdout.contains("Table \"retail.customers\""), "{stdout}");
    assert!(
        stdout.contains("customer_id | text") && stdout.contains("not null"),
        "{stdout}"
    );
    assert!(stdout.contains("signup_date | date"), "{stdout}");
    assert!(
        stdout.contains("List of schemas") && stdout.contains("retail"),
        "{stdout}"
    );
    assert!(stdout.contains("deltagres"), "{stdout}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_run_with_on_error_stop() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.sql");
    std::fs::write(
        &script,
        "-- a pipeline stage\nCREATE TABLE t (id INT, v TEXT);\nINSERT INTO t VALUES (1, 'a'), (2, 'b');\n\
         UPDATE t SET v = 'c' WHERE id = 2;\nSELECT id, v FROM t ORDER BY id;\n",
    )
    .unwrap();
    let out = psql(
        &server,
        &[
            "-v",
            "ON_ERROR_STOP=1",
            "-A",
            "-t",
            "-f",
            script.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "1|a\n2|c");

    let failing = dir.path().join("failing.sql");
    std::fs::write(
        &failing,
        "INSERT INTO t VALUES (3, 'x');\nSELECT * FROM missing;\nINSERT INTO t VALUES (4, 'y');\n",
    )
    .unwrap();
    let out = psql(
        &server,
        &["-v", "ON_ERROR_STOP=1", "-f", failing.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(3), "psql exits 3 on a script error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("relation \"missing\" does not exist"),
        "{stderr}"
    );
    let out = psql(&server, &["-A", "-t", "-c", "SELECT count(*) FROM t"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "3",
        "the script stopped at the error"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_loads_csv_in_one_version_and_exports() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE orders (id BIGINT NOT NULL, customer TEXT, amount DECIMAL(10,2), d DATE)",
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("orders.csv");
    let mut text = String::from("id,customer,amount,d\n");
    for i in 0..100_000 {
        let customer = if i % 10 == 0 {
            String::new()
        } else {
            format!("customer_{}", i % 997)
        };
        text.push_str(&format!(
            "{i},{customer},{}.{:02},2024-01-{:02}\n",
            i % 500,
            i % 100,
            1 + i % 28
        ));
    }
    std::fs::write(&csv, &text).unwrap();
    let out = psql(
        &server,
        &[
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            &format!("\\copy orders FROM '{}' CSV HEADER", csv.display()),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = client
        .query_one(
            "SELECT count(*), count(customer), sum(amount) FROM orders",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 100_000);
    assert_eq!(row.get::<_, i64>(1), 90_000, "empty CSV fields are NULL");
    let versions = client
        .query_one("SELECT max(version) FROM orders$history", &[])
        .await
        .unwrap();
    assert_eq!(
        versions.get::<_, i64>(0),
        1,
        "the whole COPY is one Delta version"
    );

    // A bad row fails the whole COPY with its line, and nothing is written.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "1,a,1.00,2024-01-01\n2,b,not-a-number,2024-01-02\n").unwrap();
    let out = psql(
        &server,
        &[
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            &format!("\\copy orders FROM '{}' CSV", bad.display()),
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("22P02") || stderr.contains("not-a-number"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 2"),
        "the error names the line: {stderr}"
    );
    let count: i64 = client
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 100_000);

    // Export: text format with \N for NULL, and CSV with a header.
    let out = psql(
        &server,
        &[
            "-c",
            "COPY (SELECT id, customer FROM orders WHERE id < 2 ORDER BY id) TO STDOUT",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "0\t\\N\n1\tcustomer_1\n"
    );
    let out = psql(
        &server,
        &[
            "-c",
            "COPY (SELECT id, d FROM orders WHERE id = 5) TO STDOUT WITH (FORMAT csv, HEADER)",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "id,d\n5,2024-01-06\n");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_operations_report_progress_notices() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute("CREATE TABLE t (id INT, c TEXT); INSERT INTO t VALUES (1, 'a'); INSERT INTO t VALUES (2, 'b')")
        .await
        .unwrap();
    let out = psql(
        &server,
        &[
            "-c",
            "OPTIMIZE t ZORDER BY (c)",
            "-c",
            "MERGE INTO t USING (VALUES (1)) AS s(id) ON t.id = s.id WHEN MATCHED THEN DELETE",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let optimizing = stderr.find("NOTICE:  optimizing public.t").expect(&stderr);
    let optimized = stderr.find("NOTICE:  optimized public.t").expect(&stderr);
    assert!(optimizing < optimized);
    assert!(
        stderr.contains("NOTICE:  merging into public.t"),
        "{stderr}"
    );
    assert!(stderr.contains("num_deleted_rows=1"), "{stderr}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_plus_shows_a_views_definition() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE t (a INT, b TEXT); CREATE VIEW big_a AS SELECT a, b FROM t WHERE a > 10",
        )
        .await
        .unwrap();
    let out = psql(&server, &["-c", "\\d+ big_a"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("View \"public.big_a\""), "{text}");
    assert!(text.contains("View definition:"), "{text}");
    assert!(text.contains("> 10"), "{text}");
    // By OID (what psql sends), by name, and NULL for a table.
    for sql in [
        "SELECT pg_get_viewdef(c.oid, true) FROM pg_class c WHERE c.relname = 'big_a'",
        "SELECT pg_get_viewdef('big_a')",
        "SELECT pg_get_viewdef('public.big_a')",
    ] {
        let rows = crate::support::simple_rows(&client, sql).await;
        let definition = rows[0][0].clone().unwrap_or_default();
        assert!(definition.contains("> 10"), "{sql}: {rows:?}");
    }
    let rows = crate::support::simple_rows(&client, "SELECT pg_get_viewdef('t')").await;
    assert_eq!(rows, vec![vec![None]]);
}

/// `\d` of a table of nested columns names, for each, the type the column is sent as (a
/// driver's RowDescription and psql's `\d` agree): arrays as `T[]`, structs of scalars as
/// `record`, lists of them as `record[]`, maps and lists of lists as `jsonb`. The names are
/// PostgreSQL's own for those types.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_names_the_type_of_each_nested_column() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE nested AS SELECT [1, 2] AS ints, ['a'] AS texts, \
             named_struct('x', 1, 'y', 'b') AS rec, [named_struct('x', 1)] AS recs, \
             map(['k'], [1]) AS m, [[1, 2], [3]] AS grid",
        )
        .await
        .unwrap();
    let out = psql(&server, &["-A", "-t", "-c", "\\d nested"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let described: Vec<(&str, &str)> = stdout
        .lines()
        .filter_map(|l| {
            let mut parts = l.split('|');
            Some((parts.next()?, parts.next()?))
        })
        .collect();
    assert_eq!(
        described,
        [
            ("ints", "bigint[]"),
            ("texts", "text[]"),
            ("rec", "record"),
            ("recs", "record[]"),
            ("m", "jsonb"),
            ("grid", "jsonb"),
        ],
        "{stdout}"
    );
    // The same types a driver is told the columns have.
    let statement = client.prepare("SELECT * FROM nested").await.unwrap();
    let sent: Vec<u32> = statement
        .columns()
        .iter()
        .map(|c| c.type_().oid())
        .collect();
    let listed: Vec<u32> = crate::support::simple_rows(
        &client,
        "SELECT a.atttypid FROM pg_catalog.pg_attribute a \
         JOIN pg_catalog.pg_class c ON a.attrelid = c.oid \
         WHERE c.relname = 'nested' AND a.attnum > 0 ORDER BY a.attnum",
    )
    .await
    .iter()
    .map(|r| r[0].as_deref().unwrap().parse().unwrap())
    .collect();
    assert_eq!(listed, sent);
}
