//! Limits a server shared by many clients needs: connections, statement time, cancel, memory.

use std::time::{Duration, Instant};

use tokio_postgres::NoTls;

use crate::support::{TestServer, expect_sqlstate, simple_rows, sqlstate};

const LONG_QUERY: &str = "SELECT count(*) FROM generate_series(1, 5000000000) AS t(i)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_over_max_connections_gets_53300() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        TestServer::start_with(&dir.path().join("data"), |c| c.server.max_connections = 2).await;
    let a = server.client().await;
    let b = server.client().await;
    let err = match tokio_postgres::connect(&server.conn_str(), NoTls).await {
        Ok(_) => panic!("a third connection was accepted"),
        Err(e) => e,
    };
    assert_eq!(sqlstate(&err), "53300", "{err}");
    assert_eq!(
        simple_rows(&a, "SELECT 1").await,
        vec![vec![Some("1".into())]]
    );
    drop(b);
    // Once a connection closes, a new one is served.
    let mut connected = None;
    for _ in 0..50 {
        if let Ok((client, connection)) = tokio_postgres::connect(&server.conn_str(), NoTls).await {
            tokio::spawn(connection);
            connected = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let c = connected.expect("a slot frees up");
    assert_eq!(
        simple_rows(&c, "SELECT 2").await,
        vec![vec![Some("2".into())]]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_and_cancel_requests_stop_long_queries() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute("SET statement_timeout = '300ms'")
        .await
        .unwrap();
    let started = Instant::now();
    expect_sqlstate(&client, LONG_QUERY, "57014").await;
    assert!(started.elapsed() < Duration::from_secs(10));
    client
        .batch_execute("RESET statement_timeout")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&client, "SELECT 1").await,
        vec![vec![Some("1".into())]]
    );

    // A CancelRequest (what psql sends on Ctrl-C) from outside the session.
    let cancel = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        cancel.cancel_query(NoTls).await
    });
    let started = Instant::now();
    expect_sqlstate(&client, LONG_QUERY, "57014").await;
    canceller.await.unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        simple_rows(&client, "SELECT 2").await,
        vec![vec![Some("2".into())]]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_limited_server_spills_or_refuses_and_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir.path().join("data"), |c| {
        c.engine.memory_limit = "256MiB".into()
    })
    .await;
    let client = server.client().await;
    // A sort of ~400 MB of rows: more than the pool holds. It must spill (EXPLAIN ANALYZE shows
    // the bytes) or be refused with 53200; succeeding in memory would mean no limit applied.
    // (The sort is the result's order, so the optimizer cannot drop it.)
    let sql = "EXPLAIN ANALYZE SELECT i, repeat('x', 150) || i AS pad \
               FROM generate_series(1, 2500000) AS t(i) ORDER BY pad DESC, i";
    match client.simple_query(sql).await {
        Ok(messages) => {
            let plan: String = messages
                .iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n");
            assert!(plan.contains("spilled"), "no spill and no 53200:\n{plan}");
        }
        Err(e) => assert_eq!(sqlstate(&e), "53200", "{e}"),
    }
    assert_eq!(
        simple_rows(&client, "SELECT 1").await,
        vec![vec![Some("1".into())]]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_cannot_escape_the_allowed_directories() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("etc-link");
    std::os::unix::fs::symlink("/etc", &link).unwrap();
    let tmp = std::env::temp_dir();
    for sql in [
        format!("SELECT * FROM read_parquet('{}/*.parquet')", link.display()),
        format!(
            "SELECT * FROM read_parquet('{}/../etc/x.parquet')",
            tmp.display()
        ),
        "SELECT * FROM read_parquet('/etc/*.parquet')".to_string(),
        format!(
            "CREATE TABLE escape (id INT) LOCATION '{}/t'",
            link.display()
        ),
        "CREATE TABLE escape2 (id INT) LOCATION '/root/escape'".to_string(),
        "CONVERT TO DELTA parquet.`/etc`".to_string(),
        format!("SELECT * FROM parquet.`{}/x.parquet`", link.display()),
        "COPY (SELECT 1) TO '/tmp/out.csv'".to_string(),
    ] {
        expect_sqlstate(&client, &sql, "42501").await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_are_closed_and_busy_ones_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir.path().join("data"), |c| {
        c.server.idle_session_timeout_secs = 1
    })
    .await;
    let active = server.client().await;
    let idle = server.client().await;
    assert_eq!(
        simple_rows(&idle, "SELECT 1").await,
        vec![vec![Some("1".into())]]
    );
    // One session keeps working for 3 s; the other says nothing.
    for _ in 0..12 {
        assert_eq!(
            simple_rows(&active, "SELECT 2").await,
            vec![vec![Some("2".into())]]
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        idle.simple_query("SELECT 1").await.is_err(),
        "the idle session was closed"
    );
    assert!(idle.is_closed());
    assert_eq!(
        simple_rows(&active, "SELECT 3").await,
        vec![vec![Some("3".into())]]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_over_max_message_size_close_only_their_connection() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir.path().join("data"), |c| {
        c.server.max_message_size = "64KiB".into()
    })
    .await;
    let bystander = server.client().await;
    let client = server.client().await;
    let fits = format!("SELECT length('{}')", "x".repeat(60_000));
    assert_eq!(
        simple_rows(&client, &fits).await,
        vec![vec![Some("60000".into())]]
    );
    let too_long = format!("SELECT length('{}')", "x".repeat(70_000));
    let err = client.simple_query(&too_long).await.unwrap_err();
    assert_eq!(sqlstate(&err), "54000", "{err}");
    let message = err.as_db_error().expect("an ErrorResponse").message();
    assert!(message.contains("server.max_message_size"), "{message}");
    let after = client.simple_query("SELECT 1").await;
    assert!(after.is_err(), "the connection was closed: {after:?}");
    // The same limit holds for a Bind with a long parameter.
    let other = server.client().await;
    let long_param = "y".repeat(70_000);
    let err = other
        .query_one("SELECT length($1::text)", &[&long_param])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "54000", "{err}");
    assert_eq!(
        simple_rows(&bystander, "SELECT 1").await,
        vec![vec![Some("1".into())]]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_sleep_waits_and_a_timeout_or_cancel_ends_it() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let started = Instant::now();
    let rows = simple_rows(&client, "SELECT pg_sleep(0.3)").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(rows, vec![vec![Some(String::new())]]);

    client
        .batch_execute("SET statement_timeout = '200ms'")
        .await
        .unwrap();
    let started = Instant::now();
    expect_sqlstate(&client, "SELECT pg_sleep(30)", "57014").await;
    assert!(started.elapsed() < Duration::from_secs(5));
    client
        .batch_execute("RESET statement_timeout")
        .await
        .unwrap();

    let cancel = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel_query(NoTls).await.unwrap();
    });
    let started = Instant::now();
    let err = client
        .simple_query("SELECT pg_sleep(30)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&err), "57014");
    assert!(started.elapsed() < Duration::from_secs(5));
    canceller.await.unwrap();
    assert_eq!(
        simple_rows(&client, "SELECT 1").await,
        vec![vec![Some("1".into())]]
    );
}
