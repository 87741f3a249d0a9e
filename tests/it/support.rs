//! Test harness: an in-process server on a temporary data directory, and clients for it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use deltagres::config::Config;
use deltagres::server::Server;
use tokio::sync::oneshot;
use tokio_postgres::{Client, NoTls};

/// A running server; dropped or `stop`ped, it shuts down. It runs on its own runtime (threads
/// with the server's stack size), as `deltagres serve` does, not on the test's runtime.
pub struct TestServer {
    pub addr: SocketAddr,
    /// The web console's address, when the test turned it on (`http.listen`).
    pub console: Option<SocketAddr>,
    pub data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// A server on a fresh temporary data directory.
    pub async fn start() -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("data");
        let mut server = Self::start_on(&dir).await;
        server._temp = Some(temp);
        server
    }

    /// A server on the given data directory (kept after the server stops).
    pub async fn start_on(data_dir: &Path) -> Self {
        Self::start_with(data_dir, |_| {}).await
    }

    /// A server on `data_dir` with the test defaults changed by `adjust`.
    pub async fn start_with(data_dir: &Path, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::default();
        config.server.listen = "127.0.0.1:0".into();
        config.server.shutdown_grace_secs = 5;
        config.storage.data_dir = data_dir.to_path_buf();
        config.engine.memory_limit = "1GiB".into();
        config.engine.target_partitions = 2;
        config.storage.allowed_paths = vec![std::env::temp_dir()];
        // Tests run in parallel: no shared console port (a test that wants it sets one).
        config.http.listen = String::new();
        adjust(&mut config);
        let (tx, rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = oneshot::channel::<(SocketAddr, Option<SocketAddr>)>();
        let thread = std::thread::spawn(move || {
            let runtime = deltagres::server::build_runtime().expect("server runtime");
            runtime.block_on(async move {
                let server = Server::bind(config).await.expect("server binds");
                let _ = ready_tx.send((server.local_addr(), server.console_addr()));
                server
                    .run(async {
                        let _ = rx.await;
                    })
                    .await
                    .expect("server runs");
            });
        });
        let (addr, console) = ready_rx.await.expect("server started");
        Self {
            addr,
            console,
            data_dir: data_dir.to_path_buf(),
            _temp: None,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    /// Stops the server and waits until it has shut down.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            tokio::task::spawn_blocking(move || thread.join())
                .await
                .expect("join")
                .expect("server thread");
        }
    }

    /// A libpq-style connection string.
    pub fn conn_str(&self) -> String {
        format!(
            "host={} port={} user=tester dbname=deltagres application_name=it",
            self.addr.ip(),
            self.addr.port()
        )
    }

    /// A connected tokio-postgres client.
    pub async fn client(&self) -> Client {
        let (client, connection) = tokio_postgres::connect(&self.conn_str(), NoTls)
            .await
            .expect("connects");
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }
}

/// The SQLSTATE of a failed statement.
pub fn sqlstate(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.code().code().to_string())
        .unwrap_or_else(|| format!("not a server error: {e}"))
}

/// Runs `sql` with the simple protocol and returns all rows as text (NULL as None).
pub async fn simple_rows(client: &Client, sql: &str) -> Vec<Vec<Option<String>>> {
    let messages = client.simple_query(sql).await.expect("simple query");
    messages
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// Fails the test with a readable message when a command-line tool is missing.
pub fn require_tool(name: &str) -> PathBuf {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .expect("sh runs");
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        !path.is_empty(),
        "{name} is not installed; .ci/run installs it (see README)"
    );
    PathBuf::from(path)
}

/// Runs a Python script (pyarrow / deltalake from tests/requirements.txt) and returns its stdout.
pub fn run_python(code: &str) -> String {
    let python = require_tool("python3");
    // pyarrow/deltalake worker threads can abort the interpreter at exit ("terminate called
    // without an active exception", delta-rs#2184, arrow#34314): flush and leave without the
    // interpreter's teardown once the script has done its work.
    let script =
        format!("{code}\nimport os, sys\nsys.stdout.flush()\nsys.stderr.flush()\nos._exit(0)\n");
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python failed (are tests/requirements.txt installed? .ci/run installs them): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs `sql` (simple protocol), expects it to fail with `code`, and returns the error.
pub async fn expect_sqlstate(client: &Client, sql: &str, code: &str) -> tokio_postgres::Error {
    let err = client
        .simple_query(sql)
        .await
        .expect_err(&format!("{sql} should fail with {code}"));
    assert_eq!(sqlstate(&err), code, "{sql}: {err}");
    err
}

impl TestServer {
    /// A client whose notices (WARNING, NOTICE) are collected as "SEVERITY: message".
    pub async fn client_with_notices(
        &self,
    ) -> (Client, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use futures::StreamExt;
        let (client, mut connection) = tokio_postgres::connect(&self.conn_str(), NoTls)
            .await
            .expect("connects");
        let notices = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = notices.clone();
        tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                if let tokio_postgres::AsyncMessage::Notice(n) = message {
                    sink.lock()
                        .unwrap()
                        .push(format!("{}: {}", n.severity(), n.message()));
                }
            }
        });
        (client, notices)
    }

    /// A `postgres://` URL for command-line tools.
    pub fn url(&self) -> String {
        format!(
            "postgres://tester@{}:{}/deltagres",
            self.addr.ip(),
            self.addr.port()
        )
    }
}

/// A TCP port free right now on loopback (for servers started as separate processes).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs a check program (tests/clients, tests/interop) against `server` (DG_HOST/DG_PORT);
/// panics with its output unless it passed.
pub fn run_check(server: &TestServer, mut command: std::process::Command, what: &str) {
    let out = command
        .env("DG_HOST", server.addr.ip().to_string())
        .env("DG_PORT", server.addr.port().to_string())
        .output()
        .unwrap_or_else(|e| panic!("{what} does not start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{what} failed (.ci/run installs the clients):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("PASS"), "{what} ran no check:\n{stdout}");
}

/// A PostgreSQL 15 server of our own on a free loopback port (the oracle for PostgreSQL
/// semantics), in a temporary cluster that is removed when it is dropped. Runs as the
/// `postgres` user, since PostgreSQL refuses to run as root.
pub struct Postgres {
    pub port: u16,
    dir: tempfile::TempDir,
}

/// Where apt's `postgresql-15` puts its programs.
const POSTGRES_BIN: &str = "/usr/lib/postgresql/15/bin";

/// Runs a PostgreSQL program as the `postgres` user; `check` names it in the panic when it fails.
fn as_postgres(program: &str, args: &[&str], check: bool) {
    let out = std::process::Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(Path::new(POSTGRES_BIN).join(program))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} does not start: {e}"));
    assert!(
        !check || out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Postgres {
    /// Initializes and starts the cluster; panics with what to install when PostgreSQL 15 is
    /// missing (.ci/run installs it).
    pub fn start() -> Self {
        assert!(
            Path::new(POSTGRES_BIN).join("postgres").exists(),
            "PostgreSQL 15 is not installed (apt-get install postgresql-15; .ci/run does it)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("cluster");
        std::process::Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir.path())
            .status()
            .expect("chown runs");
        let data = data.to_str().unwrap();
        as_postgres(
            "initdb",
            &[
                "-D",
                data,
                "-U",
                "tester",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            true,
        );
        let port = free_port();
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            dir.path().display()
        );
        let log = dir.path().join("log");
        as_postgres(
            "pg_ctl",
            &[
                "-D",
                data,
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
            true,
        );
        Self { port, dir }
    }

    /// A `postgres://` URL for command-line tools.
    pub fn url(&self) -> String {
        format!("postgres://tester@127.0.0.1:{}/postgres", self.port)
    }

    /// A tokio-postgres client of the cluster (the oracle side of a differential test).
    pub async fn client(&self) -> Client {
        let (client, connection) = tokio_postgres::connect(
            &format!(
                "host=127.0.0.1 port={} user=tester dbname=postgres",
                self.port
            ),
            NoTls,
        )
        .await
        .expect("PostgreSQL accepts the connection");
        tokio::spawn(connection);
        client
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("cluster");
        as_postgres(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"],
            false,
        );
    }
}

/// Runs each statement of `script` (simple protocol) and describes what came back, one string
/// per statement: its rows (`|`-separated values, NULL as `NULL`) and command tags, or
/// `ERROR <sqlstate>`. Two servers given the same script answer alike when these are equal.
pub async fn script_answers(client: &Client, script: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for sql in script {
        let line = match client.simple_query(sql).await {
            Ok(messages) => messages
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                        (0..row.len())
                            .map(|i| row.get(i).unwrap_or("NULL").to_string())
                            .collect::<Vec<_>>()
                            .join("|"),
                    ),
                    tokio_postgres::SimpleQueryMessage::CommandComplete(n) => {
                        Some(format!("({n})"))
                    }
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(" "),
            Err(e) => format!("ERROR {}", sqlstate(&e)),
        };
        out.push(format!("{sql}\n  {line}"));
    }
    out
}

/// Runs `script` on PostgreSQL and on deltagres (with `ours` applied to each statement first,
/// for what only our dialect spells, like `PARTITIONED BY`) and fails, naming the statement,
/// where the answers differ (see [`script_answers`]).
pub async fn assert_same_answers(
    postgres: &Client,
    deltagres: &Client,
    script: &[&str],
    ours: impl Fn(&str) -> String,
) {
    let expected = script_answers(postgres, script).await;
    let ours: Vec<String> = script.iter().map(|s| ours(s)).collect();
    let ours: Vec<&str> = ours.iter().map(String::as_str).collect();
    let got = script_answers(deltagres, &ours).await;
    for (got, expected) in got.iter().zip(&expected) {
        let statement = expected.lines().next().unwrap_or_default();
        let answer = |a: &str| a.lines().nth(1).unwrap_or_default().to_string();
        assert_eq!(answer(got), answer(expected), "{statement}");
    }
}

/// [`assert_same_answers`] for a script deltagres runs as written, each on a fresh PostgreSQL 15
/// and a fresh server.
pub async fn assert_same_as_postgres(script: &[&str]) {
    let postgres = Postgres::start();
    let server = TestServer::start().await;
    assert_same_answers(
        &postgres.client().await,
        &server.client().await,
        script,
        str::to_string,
    )
    .await;
    server.stop().await;
}

/// The server binary as its own process (`deltagres serve --data-dir DATA_DIR`, listening on a
/// free port, with `envs` added), and a client of it as `user` once it answers within `wait`.
/// The caller kills and waits for the child; if the server never comes up the test fails.
#[allow(clippy::zombie_processes)]
pub async fn spawn_server_process(
    data_dir: &std::ffi::OsStr,
    envs: &[(&str, String)],
    user: &str,
    wait: std::time::Duration,
) -> (std::process::Child, Client) {
    let port = free_port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_deltagres"))
        .args(["serve", "--data-dir"])
        .arg(data_dir)
        .env("DELTAGRES_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("DELTAGRES_HTTP_LISTEN", "")
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("binary starts");
    let conn = format!("host=127.0.0.1 port={port} user={user} dbname=deltagres");
    let started = std::time::Instant::now();
    while started.elapsed() < wait {
        if let Ok((client, connection)) = tokio_postgres::connect(&conn, NoTls).await {
            tokio::spawn(connection);
            return (child, client);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "the server on {} did not come up",
        data_dir.to_string_lossy()
    );
}

/// A development CA and a server certificate for `localhost` made by `deltagres cert` in
/// `dir/certs` (ca.crt, server.crt, server.key); returns that folder.
pub fn development_certificates(dir: &Path) -> PathBuf {
    let certs = dir.join("certs");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deltagres"))
        .args([
            "cert",
            "--out",
            certs.to_str().unwrap(),
            "--host",
            "localhost",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    certs
}

/// `[tls]` required, with the certificate and key of [`development_certificates`]'s folder.
pub fn require_tls(config: &mut Config, certs: &Path) {
    config.tls.mode = deltagres::config::TlsMode::Require;
    config.tls.cert = Some(certs.join("server.crt"));
    config.tls.key = Some(certs.join("server.key"));
}
