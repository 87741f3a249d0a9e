//! The `deltagres serve` binary: flags, environment overrides, clean stop on SIGTERM.

use std::process::{Command, Stdio};
use std::time::Duration;

use tokio_postgres::NoTls;

use crate::support::free_port;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_uses_flags_and_env_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_deltagres"))
        .args(["serve", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("DELTAGRES_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("DELTAGRES_HTTP_LISTEN", "")
        .env("DELTAGRES_LOG_LEVEL", "debug")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let conn = format!("host=127.0.0.1 port={port} user=cli dbname=deltagres");
    let mut connected = None;
    for _ in 0..100 {
        if let Ok((client, connection)) = tokio_postgres::connect(&conn, NoTls).await {
            tokio::spawn(connection);
            connected = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let client = connected.expect("server accepts connections");
    client
        .batch_execute("CREATE TABLE t (id INT); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    assert!(dir.path().join("data/public/t/_delta_log").is_dir());
    // SIGTERM: the server stops cleanly with exit code 0.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut waited = 0;
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(waited < 100, "server did not stop within 10 s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    };
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(exit.success(), "exit status {exit}: {log}");
    assert!(
        log.contains("shutdown requested") && log.contains("deltagres stopped"),
        "{log}"
    );
    assert!(
        log.contains("execute"),
        "statements are logged at debug level: {log}"
    );
}
