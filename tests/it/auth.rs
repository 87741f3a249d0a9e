//! Authentication: SCRAM-SHA-256 and cleartext passwords against configured verifiers, the
//! SQLSTATEs of failed logins, psql with PGPASSWORD, and no open `trust` on a network address.

use std::process::Command;

use deltagres::auth::ScramVerifier;
use deltagres::config::{AuthMethod, Config, UserConfig};
use tokio_postgres::NoTls;

use crate::support::{TestServer, require_tool, sqlstate};

async fn server_with(method: AuthMethod) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir.path().join("data"), move |c| {
        c.auth.method = method;
        c.auth.users = vec![UserConfig {
            name: "alice".into(),
            verifier: ScramVerifier::generate("wonderland", 4096).to_string(),
        }];
    })
    .await;
    (server, dir)
}

fn conn(server: &TestServer, user: &str, password: &str) -> String {
    format!(
        "host=127.0.0.1 port={} user={user} password={password} dbname=deltagres",
        server.addr.port()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_and_password_logins() {
    for method in [AuthMethod::ScramSha256, AuthMethod::Password] {
        let (server, _dir) = server_with(method).await;
        let (client, connection) =
            tokio_postgres::connect(&conn(&server, "alice", "wonderland"), NoTls)
                .await
                .unwrap_or_else(|e| panic!("{method:?}: {e}"));
        tokio::spawn(connection);
        let one: i64 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
        assert_eq!(one, 1);
        let wrong = tokio_postgres::connect(&conn(&server, "alice", "guess"), NoTls)
            .await
            .err()
            .expect("wrong password refused");
        assert_eq!(sqlstate(&wrong), "28P01", "{method:?}: {wrong}");
        let unknown = tokio_postgres::connect(&conn(&server, "mallory", "wonderland"), NoTls)
            .await
            .err()
            .expect("unknown user refused");
        assert_eq!(sqlstate(&unknown), "28000", "{method:?}: {unknown}");
        // Neither message says which part was wrong.
        let message = |e: &tokio_postgres::Error| e.as_db_error().unwrap().message().to_string();
        assert!(message(&wrong).starts_with("password authentication failed for user"));
        assert!(message(&unknown).starts_with("password authentication failed for user"));
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_logs_in_with_pgpassword() {
    let psql = require_tool("psql");
    let (server, _dir) = server_with(AuthMethod::ScramSha256).await;
    let port = server.addr.port().to_string();
    let run = |password: &str| {
        Command::new(&psql)
            .args([
                "-X",
                "-A",
                "-t",
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "alice",
                "-d",
                "deltagres",
            ])
            .args(["-c", "SELECT 40 + 2"])
            .env("PGPASSWORD", password)
            .output()
            .unwrap()
    };
    let ok = run("wonderland");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "42");
    let refused = run("nope");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("password authentication failed"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_on_a_network_address_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.server.listen = "0.0.0.0:0".into();
    config.storage.data_dir = dir.path().join("data");
    let err = match deltagres::server::Server::bind(config.clone()).await {
        Ok(_) => panic!("trust on 0.0.0.0 started"),
        Err(e) => e,
    };
    assert!(err.message.contains("trust"), "{}", err.message);
    config.auth.allow_trust_on_network = true;
    assert!(deltagres::server::Server::bind(config).await.is_ok());
    // The verifier printer makes what the config takes.
    let out = Command::new(env!("CARGO_BIN_EXE_deltagres"))
        .args(["passwd", "bob"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"builder\n")?;
            child.wait_with_output()
        })
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        line.starts_with("{ name = \"bob\", verifier = \"SCRAM-SHA-256$4096:"),
        "{line}"
    );
    let verifier = line
        .split("verifier = \"")
        .nth(1)
        .unwrap()
        .trim_end()
        .trim_end_matches(['}', ' ', '"']);
    assert!(
        ScramVerifier::parse(verifier)
            .unwrap()
            .check_password("builder")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_required_with_psql_verify_full_and_plaintext_refused() {
    let psql = require_tool("psql");
    let dir = tempfile::tempdir().unwrap();
    let certs = crate::support::development_certificates(dir.path());
    let server_certs = certs.clone();
    let server = TestServer::start_with(&dir.path().join("data"), move |c| {
        crate::support::require_tls(c, &server_certs)
    })
    .await;
    let port = server.addr.port();
    for mode in [
        "sslmode=require".to_string(),
        format!(
            "sslmode=verify-full sslrootcert={}",
            certs.join("ca.crt").display()
        ),
    ] {
        let out = Command::new(&psql)
            .args(["-X", "-A", "-t", "-c", "SELECT 1"])
            .arg(format!(
                "host=localhost port={port} user=tls dbname=deltagres {mode}"
            ))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");
    }
    // A plaintext client is refused with 28000.
    let plain = tokio_postgres::connect(
        &format!("host=127.0.0.1 port={port} user=tls dbname=deltagres sslmode=disable"),
        NoTls,
    )
    .await
    .err()
    .expect("plaintext refused");
    assert_eq!(sqlstate(&plain), "28000", "{plain}");
    let out = Command::new(&psql)
        .args(["-X", "-c", "SELECT 1"])
        .arg(format!(
            "host=localhost port={port} user=tls dbname=deltagres sslmode=disable"
        ))
        .output()
        .unwrap();
    assert!(!out.status.success());
    server.stop().await;
}
