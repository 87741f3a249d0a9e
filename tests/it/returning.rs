//! `INSERT/UPDATE/DELETE ... RETURNING`, held to PostgreSQL 15: the same rows, column names and
//! command tags over psql (simple protocol) and over the extended protocol with parameters.

use crate::support::{Postgres, TestServer, expect_sqlstate, require_tool};

/// Statements run on both servers, each followed by the table's rows.
const STATEMENTS: &[&str] = &[
    "CREATE TABLE r (id BIGINT, name TEXT, qty INT)",
    "INSERT INTO r VALUES (1, 'a', 10), (2, 'b', 20) RETURNING id, name",
    "INSERT INTO r (id, name) VALUES (3, 'c') RETURNING *",
    "INSERT INTO r AS x SELECT id + 10, upper(name), qty FROM r WHERE id < 3 \
     RETURNING x.id, qty * 2 AS double, name || '!', qty IS NULL",
    "UPDATE r SET qty = qty + 1, name = name || '+' WHERE id >= 11 RETURNING id, name, qty",
    "UPDATE r AS t SET name = 'z' WHERE t.id = 999 RETURNING *",
    "UPDATE r SET qty = 0 WHERE id = 1 RETURNING qty, r.qty + 1",
    "DELETE FROM r WHERE qty IS NULL RETURNING *",
    "DELETE FROM r AS d WHERE d.id > 10 RETURNING d.id, upper(d.name)",
];

fn run_psql(url: String) -> String {
    let mut command = std::process::Command::new(require_tool("psql"));
    command.arg(url).args(["-X", "-A", "-v", "ON_ERROR_STOP=1"]);
    for sql in STATEMENTS {
        command.args(["-c", sql, "-c", "SELECT * FROM r ORDER BY id"]);
    }
    let out = command.output().expect("psql runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The rows and column names of a RETURNING statement with a parameter, as the extended
/// protocol describes and returns them.
async fn extended(client: &tokio_postgres::Client) -> Vec<String> {
    let statement = client
        .prepare("INSERT INTO r (id, name, qty) VALUES ($1, 'p', 5) RETURNING id, qty + $1 AS s")
        .await
        .expect("prepares");
    let mut seen: Vec<String> = statement
        .columns()
        .iter()
        .map(|c| format!("{}:{}", c.name(), c.type_()))
        .collect();
    for row in client.query(&statement, &[&7i64]).await.expect("runs") {
        let id: i64 = row.get(0);
        let s: i64 = if *row.columns()[1].type_() == tokio_postgres::types::Type::INT4 {
            row.get::<_, i32>(1).into()
        } else {
            row.get(1)
        };
        seen.push(format!("{id},{s}"));
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returning_answers_as_postgresql() {
    let postgres = Postgres::start();
    let server = TestServer::start().await;
    let expected = run_psql(postgres.url());
    assert!(expected.contains("INSERT 0 2"), "{expected}");
    assert_eq!(run_psql(server.url()), expected);

    let (oracle, connection) = tokio_postgres::connect(&postgres.url(), tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL connects");
    tokio::spawn(connection);
    let client = server.client().await;
    assert_eq!(extended(&client).await, extended(&oracle).await);

    // RETURNING over a join stays an error a person can act on, and nothing is written.
    client
        .batch_execute("CREATE TABLE s (id BIGINT)")
        .await
        .unwrap();
    expect_sqlstate(
        &client,
        "UPDATE r SET qty = 1 FROM s WHERE s.id = r.id RETURNING r.id",
        "0A000",
    )
    .await;
    server.stop().await;
}
