//! Session statements: SET / SHOW / RESET, DataFusion options, transaction blocks, search_path.

use crate::support::{TestServer, expect_sqlstate, simple_rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_show_reset_client_and_datafusion_parameters() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let show = |name: &'static str| {
        let client = &client;
        async move {
            simple_rows(client, &format!("SHOW {name}")).await[0][0]
                .clone()
                .unwrap()
        }
    };
    assert_eq!(show("application_name").await, "it");
    assert!(show("server_version").await.starts_with("16.0 (deltagres"));
    client
        .batch_execute("SET application_name = 'pipeline'")
        .await
        .unwrap();
    assert_eq!(show("application_name").await, "pipeline");
    client
        .batch_execute("SET statement_timeout TO '5s'")
        .await
        .unwrap();
    assert_eq!(show("statement_timeout").await, "5000");
    client
        .batch_execute("SET TIME ZONE 'Europe/Paris'")
        .await
        .unwrap();
    assert_eq!(show("timezone").await, "Europe/Paris");
    client
        .batch_execute("SET extra_float_digits = 3")
        .await
        .unwrap();
    assert_eq!(show("extra_float_digits").await, "3");
    client
        .batch_execute("SET datafusion.execution.target_partitions = 8")
        .await
        .unwrap();
    assert_eq!(show("datafusion.execution.target_partitions").await, "8");
    client
        .batch_execute("RESET application_name")
        .await
        .unwrap();
    assert_eq!(show("application_name").await, "");
    client.batch_execute("RESET ALL").await.unwrap();
    assert_eq!(show("timezone").await, "UTC");
    assert_ne!(show("datafusion.execution.target_partitions").await, "8");
    // Another session never sees this session's settings.
    let other = server.client().await;
    assert_eq!(
        simple_rows(&other, "SHOW extra_float_digits").await[0][0].as_deref(),
        Some("1")
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_blocks_are_accepted_and_rollback_warns_about_committed_writes() {
    let server = TestServer::start().await;
    let (client, notices) = server.client_with_notices().await;
    client
        .batch_execute("CREATE TABLE t (id INT)")
        .await
        .unwrap();
    let warned = |notices: &std::sync::Arc<std::sync::Mutex<Vec<String>>>| {
        let all = std::mem::take(&mut *notices.lock().unwrap());
        all.iter()
            .any(|n| n.starts_with("WARNING") && n.contains("ROLLBACK cannot undo"))
    };
    client
        .batch_execute("BEGIN; INSERT INTO t VALUES (1); COMMIT")
        .await
        .unwrap();
    assert!(!warned(&notices), "COMMIT does not warn");
    // Reads only: nothing to warn about.
    client
        .batch_execute("BEGIN; SELECT count(*) FROM t; DESCRIBE HISTORY t; ROLLBACK")
        .await
        .unwrap();
    assert!(!warned(&notices), "a read-only block does not warn");
    // The warning arrives as a notice; the statement itself succeeds. Writes that answer with
    // rows (OPTIMIZE, RESTORE, VACUUM) are writes too.
    for write in [
        "INSERT INTO t VALUES (2)",
        "OPTIMIZE t",
        "RESTORE TABLE t TO VERSION AS OF 1",
        "VACUUM t",
        "UPDATE t SET id = id",
    ] {
        client
            .batch_execute(&format!("BEGIN; {write}; ROLLBACK"))
            .await
            .unwrap();
        assert!(
            warned(&notices),
            "ROLLBACK after {write} warns that it cannot undo it"
        );
    }
    let count: i64 = client
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 1, "each statement commits on its own (DESIGN.md)");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_and_search_path() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE SCHEMA retail; CREATE SCHEMA IF NOT EXISTS retail; \
             CREATE TABLE retail.orders (id BIGINT, customer TEXT); \
             INSERT INTO retail.orders VALUES (1, 'c1'); \
             CREATE TABLE public.orders (id BIGINT)",
        )
        .await
        .unwrap();
    let rows = simple_rows(&client, "SELECT customer FROM retail.orders").await;
    assert_eq!(rows, vec![vec![Some("c1".into())]]);
    client
        .batch_execute("SET search_path = retail, public")
        .await
        .unwrap();
    let rows = simple_rows(&client, "SELECT customer FROM orders").await;
    assert_eq!(rows, vec![vec![Some("c1".into())]]);
    let tables = simple_rows(
        &client,
        "SELECT table_schema, table_name FROM information_schema.tables \
         WHERE table_schema IN ('public', 'retail') ORDER BY 1, 2",
    )
    .await;
    assert_eq!(
        tables,
        vec![
            vec![Some("public".into()), Some("orders".into())],
            vec![Some("retail".into()), Some("orders".into())]
        ]
    );
    expect_sqlstate(&client, "DROP SCHEMA retail", "2BP01").await;
    client
        .batch_execute("DROP SCHEMA retail CASCADE")
        .await
        .unwrap();
    assert!(!server.data_dir.join("retail").exists());
    server.stop().await;
}

/// The session as PostgreSQL functions and catalog views report it, and the PostgreSQL query
/// forms that BI tools send around them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_functions_catalog_views_and_postgres_query_forms() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let s = |v: &str| Some(v.to_string());
    // The user the client connected as (support.rs connects as `tester`).
    let rows = simple_rows(
        &client,
        "SELECT user, current_user, session_user, current_role",
    )
    .await;
    assert_eq!(rows, vec![vec![s("tester"); 4]]);
    let roles = simple_rows(&client, "SELECT rolname, rolsuper FROM pg_roles").await;
    assert_eq!(roles, vec![vec![s("tester"), s("t")]]);
    // RESET ALL and DISCARD ALL start a fresh engine context; the session stays who it is.
    client
        .batch_execute("RESET ALL; DISCARD ALL")
        .await
        .unwrap();
    let after_reset = simple_rows(&client, "SELECT current_user").await;
    assert_eq!(after_reset, vec![vec![s("tester")]]);
    // pg_settings shows this session's values.
    client
        .batch_execute("SET application_name = 'probe'")
        .await
        .unwrap();
    let setting = simple_rows(
        &client,
        "SELECT setting FROM pg_settings WHERE name = 'application_name'",
    )
    .await;
    assert_eq!(setting, vec![vec![s("probe")]]);
    // information_schema.columns in PostgreSQL's terms.
    client
        .batch_execute("CREATE TABLE t (id BIGINT NOT NULL, amount DECIMAL(10,2), name TEXT)")
        .await
        .unwrap();
    let columns = simple_rows(
        &client,
        "SELECT column_name, ordinal_position, is_nullable, data_type, udt_name, \
         numeric_precision, numeric_scale, is_identity FROM information_schema.columns \
         WHERE table_name = 't' ORDER BY ordinal_position",
    )
    .await;
    assert_eq!(
        columns,
        vec![
            vec![
                s("id"),
                s("1"),
                s("NO"),
                s("bigint"),
                s("int8"),
                s("64"),
                s("0"),
                s("NO")
            ],
            vec![
                s("amount"),
                s("2"),
                s("YES"),
                s("numeric"),
                s("numeric"),
                s("10"),
                s("2"),
                s("NO")
            ],
            vec![
                s("name"),
                s("3"),
                s("YES"),
                s("text"),
                s("text"),
                None,
                None,
                s("NO")
            ],
        ]
    );
    let keys = simple_rows(
        &client,
        "SELECT count(*) FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage k USING (constraint_name)",
    )
    .await;
    assert_eq!(keys, vec![vec![s("0")]]);
    // Set-returning and scalar functions in FROM and select lists.
    let series = simple_rows(
        &client,
        "SELECT generate_series(1, 3) AS n, 'x' AS tag ORDER BY n",
    )
    .await;
    assert_eq!(
        series,
        vec![
            vec![s("1"), s("x")],
            vec![s("2"), s("x")],
            vec![s("3"), s("x")]
        ]
    );
    let elements = simple_rows(
        &client,
        "SELECT i, p[i] FROM generate_series(1, 2) AS i, string_to_array('a,b', ',') AS p \
         ORDER BY i",
    )
    .await;
    assert_eq!(elements, vec![vec![s("1"), s("a")], vec![s("2"), s("b")]]);
    // IN and EXISTS subqueries outside WHERE, and a subquery in ORDER BY.
    client
        .batch_execute("INSERT INTO t VALUES (1, 1.50, 'a'), (2, 2.50, 'b')")
        .await
        .unwrap();
    let flags = simple_rows(
        &client,
        "SELECT id, id IN (SELECT 2) AS two, NOT EXISTS (SELECT 1 FROM t u WHERE u.id = t.id + 1) \
         AS last FROM t ORDER BY id IN (SELECT 2) DESC, id",
    )
    .await;
    assert_eq!(
        flags,
        vec![vec![s("2"), s("t"), s("t")], vec![s("1"), s("f"), s("f")]]
    );
    server.stop().await;
}

/// What one script of SET/SHOW/writes answers: each statement's first value or SQLSTATE.
async fn settings_script_answers(client: &tokio_postgres::Client) -> Vec<String> {
    let script = [
        "CREATE TABLE ro_t (x INT)",
        "SET TIME ZONE \"Asia/Shanghai\"",
        "SHOW TimeZone",
        "SELECT extract(hour FROM TIMESTAMPTZ '2024-01-01 00:00:00+00')",
        "SET TIME ZONE 'Mars/Olympus'",
        "SHOW TimeZone",
        "SET DateStyle = 'ISO'",
        "SHOW DateStyle",
        "SET DateStyle = 'DMY'",
        "SHOW DateStyle",
        "SET DateStyle = 'Sideways'",
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "SHOW default_transaction_isolation",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        "SHOW default_transaction_read_only",
        "INSERT INTO ro_t VALUES (1)",
        "SELECT count(*) FROM ro_t",
        "SET default_transaction_read_only = off",
        "INSERT INTO ro_t VALUES (2)",
        "SET default_transaction_read_only = on",
        "DROP TABLE ro_t",
        "RESET default_transaction_read_only",
        "SELECT count(*) FROM ro_t",
    ];
    let mut answers = Vec::new();
    for sql in script {
        let answer = match client.simple_query(sql).await {
            Ok(messages) => messages
                .into_iter()
                .find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                    _ => None,
                })
                .unwrap_or_else(|| "ok".into()),
            Err(e) => crate::support::sqlstate(&e),
        };
        answers.push(format!("{sql} -> {answer}"));
    }
    answers
}

/// SET TIME ZONE with a quoted name, an unknown zone, DateStyle's partial forms, SET SESSION
/// CHARACTERISTICS and a read-only session answer as PostgreSQL 15 does: the zone applies, bad
/// values are 22023, SHOW reports what was set, and writes in a read-only session are 25006.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_settings_answer_as_postgres_does() {
    let postgres = crate::support::Postgres::start();
    let (oracle, connection) = tokio_postgres::connect(&postgres.url(), tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL connects");
    tokio::spawn(connection);
    let expected = settings_script_answers(&oracle).await;
    let server = TestServer::start().await;
    let client = server.client().await;
    let got = settings_script_answers(&client).await;
    assert_eq!(got, expected);
    server.stop().await;
}
