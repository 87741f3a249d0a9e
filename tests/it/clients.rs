//! Real client libraries against a running server (issue: client compatibility): the Python
//! drivers and SQLAlchemy/pandas, node `pg` and `postgres`, and pgjdbc with its metadata calls.
//! The checks themselves live in `tests/clients/` (see its README); each connects, creates a
//! table, inserts with parameters, reads typed values back, runs a MERGE and a time-travel read,
//! and gets 42P01 on a missing table; then reads list, struct and map columns and compares what
//! the driver made of them with what it makes of the same values from PostgreSQL 15 (the
//! oracle, started here; PG_PORT). `.ci/run` installs the clients.

use std::path::Path;
use std::process::Command;

use crate::support::{Postgres, TestServer, require_tool, run_check};

fn clients_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_drivers_sqlalchemy_and_pandas() {
    let pg = Postgres::start();
    let server = TestServer::start().await;
    let mut command = Command::new(require_tool("python3"));
    command
        .arg(clients_dir().join("python_clients.py"))
        .env("PG_PORT", pg.port.to_string());
    let server_ref = &server;
    tokio::task::block_in_place(|| run_check(server_ref, command, "python_clients.py"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_pg_and_postgres_js() {
    let node_dir = clients_dir().join("node");
    assert!(
        node_dir.join("node_modules").is_dir(),
        "run `npm ci` in tests/clients/node (.ci/run does)"
    );
    let pg = Postgres::start();
    let server = TestServer::start().await;
    let mut command = Command::new(require_tool("node"));
    command
        .arg(node_dir.join("clients.mjs"))
        .current_dir(&node_dir)
        .env("PG_PORT", pg.port.to_string());
    let server_ref = &server;
    tokio::task::block_in_place(|| run_check(server_ref, command, "node clients.mjs"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jdbc_statements_and_database_metadata() {
    let jar = Path::new("/usr/share/java/postgresql.jar");
    assert!(
        jar.exists(),
        "pgjdbc is missing: apt-get install libpostgresql-jdbc-java (.ci/run does)"
    );
    let classes = tempfile::tempdir().expect("temp dir");
    let javac = Command::new(require_tool("javac"))
        .arg("-cp")
        .arg(jar)
        .arg("-d")
        .arg(classes.path())
        .arg(clients_dir().join("java/ClientCheck.java"))
        .output()
        .expect("javac runs");
    assert!(
        javac.status.success(),
        "javac failed: {}",
        String::from_utf8_lossy(&javac.stderr)
    );
    let pg = Postgres::start();
    let server = TestServer::start().await;
    let mut command = Command::new(require_tool("java"));
    command
        .arg("-cp")
        .arg(format!("{}:{}", classes.path().display(), jar.display()))
        .arg("ClientCheck")
        .env("PG_PORT", pg.port.to_string());
    let server_ref = &server;
    tokio::task::block_in_place(|| run_check(server_ref, command, "java ClientCheck"));
    server.stop().await;
}
