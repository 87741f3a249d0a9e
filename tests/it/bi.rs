//! The catalog queries BI and SQL tools send when they connect and browse a schema (DBeaver,
//! Metabase, Grafana, pgAdmin, pgcli, Tableau/psqlODBC, psql), replayed from
//! `tests/fixtures/bi/` (each file names where its queries come from). Every statement runs over
//! the simple protocol and, as JDBC tools send it, the extended one; the statements listed in
//! `known_gaps.toml` are the exceptions, each with its reason.

use std::collections::BTreeMap;
use std::path::Path;

use tokio_postgres::SimpleQueryMessage;

use crate::support::TestServer;

/// The tools whose browsing must find the fixture table by name.
const LISTS_TABLES: &[&str] = &[
    "grafana.sql",
    "metabase.sql",
    "pgcli.sql",
    "psql.sql",
    "tableau.sql",
];

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bi"))
}

/// A fixture's statements, split on the `-- next` lines.
fn statements(text: &str) -> Vec<String> {
    text.split("\n-- next\n")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bi_tool_startup_queries_run() {
    let gaps: BTreeMap<String, String> = toml::from_str(
        &std::fs::read_to_string(fixtures().join("known_gaps.toml")).expect("known_gaps.toml"),
    )
    .expect("known_gaps.toml parses");
    let server = TestServer::start().await;
    let client = server.client().await;
    let setup = std::fs::read_to_string(fixtures().join("setup.sql")).expect("setup.sql");
    client.batch_execute(&setup).await.expect("setup.sql runs");

    let mut files: Vec<_> = std::fs::read_dir(fixtures())
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql") && !p.ends_with("setup.sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "one fixture per tool");
    let mut failures = Vec::new();
    let mut passed = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(file).expect("fixture");
        let mut output = String::new();
        for (i, sql) in statements(&text).iter().enumerate() {
            let id = format!("{name}#{}", i + 1);
            if gaps.contains_key(&id) {
                continue;
            }
            match client.simple_query(sql).await {
                Ok(messages) => {
                    for m in messages {
                        if let SimpleQueryMessage::Row(row) = m {
                            for i in 0..row.len() {
                                output.push_str(row.get(i).unwrap_or(""));
                                output.push('|');
                            }
                            output.push('\n');
                        }
                    }
                }
                Err(e) => {
                    failures.push(format!("{id} (simple): {}", describe(&e)));
                    continue;
                }
            }
            // JDBC tools prepare and bind; one statement per message.
            if !sql.trim_end_matches(';').contains(';')
                && let Err(e) = client.query(sql.as_str(), &[]).await
            {
                failures.push(format!("{id} (extended): {}", describe(&e)));
                continue;
            }
            passed += 1;
        }
        if LISTS_TABLES.contains(&name.as_str()) {
            assert!(
                output.contains("bi_orders"),
                "{name} never saw the table bi_orders:\n{output}"
            );
        }
        if name == "psql.sql" {
            assert!(
                output.contains("numeric(10,2)"),
                "psql \\d shows the decimal's precision:\n{output}"
            );
        }
    }
    println!(
        "{passed} BI start-up statements ran; {} known gaps",
        gaps.len()
    );
    assert!(
        failures.is_empty(),
        "failing statements:\n{}",
        failures.join("\n")
    );
    server.stop().await;
}

fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}
