//! The catalog queries BI and SQL tools send when they connect and browse a schema (DBeaver,
//! Metabase, Grafana, pgAdmin, pgcli, Tableau/psqlODBC, psql), replayed from
//! `tests/fixtures/bi/` (each file names where its queries come from). Every statement runs over
//! the simple protocol and, as JDBC tools send it, the extended one; the statements listed in
//! `known_gaps.toml` are the exceptions, each with its reason. Each returns as many rows as
//! PostgreSQL 15 does (`expected_rows.toml`), or, where our catalog legitimately differs (its
//! `[differs]` table says why), at least one row when PostgreSQL returns any; where we return
//! PostgreSQL's very rows (`expected_values.json`), the test keeps it that way.
//!
//! A statement that returns no row is still held to PostgreSQL's answer (`expected_shapes.json`):
//! a query's columns (names, and types up to PostgreSQL's text and integer families), and for a
//! SET the value `SHOW` gives afterwards. `shape_differs.toml` lists the known exceptions.

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

/// What PostgreSQL returned: row counts, and the statements whose counts may differ.
#[derive(serde::Deserialize)]
struct Expected {
    rows: BTreeMap<String, u64>,
    differs: BTreeMap<String, String>,
}

/// What PostgreSQL described for a statement: its columns (name, type oid), or for a SET the
/// parameter and the value SHOW gives after it.
#[derive(serde::Deserialize)]
struct Shape {
    columns: Option<Vec<(String, u32)>>,
    setting: Option<(String, String)>,
}

/// Groups type oids whose difference a client does not see: `name`, `char`, `varchar` and
/// `text` all arrive as strings, `int2`..`int8` and `oid` as integers, and so for their arrays.
fn type_family(oid: u32) -> u32 {
    match oid {
        18 | 19 | 25 | 705 | 1042 | 1043 => 25,
        20 | 21 | 23 | 26 => 20,
        1002 | 1003 | 1009 | 1014 | 1015 => 1009,
        1005 | 1007 | 1016 | 1028 => 1016,
        other => other,
    }
}

/// How a statement's shape differs from PostgreSQL's, if it does.
async fn shape_difference(
    client: &tokio_postgres::Client,
    sql: &str,
    shape: &Shape,
) -> Option<String> {
    if let Some((name, value)) = &shape.setting {
        let ours = first_value(client, &format!("SHOW {name}")).await;
        return (&ours != value)
            .then(|| format!("SHOW {name} is {ours:?}, PostgreSQL's {value:?}"));
    }
    let want = shape.columns.as_ref()?;
    let statement = match client.prepare(sql).await {
        Ok(statement) => statement,
        Err(e) => return Some(format!("cannot describe: {}", describe(&e))),
    };
    let got: Vec<(String, u32)> = statement
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.type_().oid()))
        .collect();
    let same = got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(g, w)| g.0 == w.0 && type_family(g.1) == type_family(w.1));
    (!same).then(|| format!("columns {got:?}, PostgreSQL's {want:?}"))
}

/// The first column of the first row of `sql`.
async fn first_value(client: &tokio_postgres::Client, sql: &str) -> String {
    client
        .simple_query(sql)
        .await
        .expect(sql)
        .into_iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{sql} returned no row"))
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
    let expected: Expected = toml::from_str(
        &std::fs::read_to_string(fixtures().join("expected_rows.toml"))
            .expect("expected_rows.toml"),
    )
    .expect("expected_rows.toml parses");
    let exact: BTreeMap<String, Vec<Vec<Option<String>>>> = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("expected_values.json"))
            .expect("expected_values.json"),
    )
    .expect("expected_values.json parses");
    let shapes: BTreeMap<String, Shape> = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("expected_shapes.json"))
            .expect("expected_shapes.json"),
    )
    .expect("expected_shapes.json parses");
    let shape_differs: BTreeMap<String, String> = toml::from_str(
        &std::fs::read_to_string(fixtures().join("shape_differs.toml"))
            .expect("shape_differs.toml"),
    )
    .expect("shape_differs.toml parses");
    let mut wrong_shapes = Vec::new();
    let setup = std::fs::read_to_string(fixtures().join("setup.sql")).expect("setup.sql");
    client.batch_execute(&setup).await.expect("setup.sql runs");
    // The oids a tool would have read from an earlier answer.
    let public_oid = first_value(
        &client,
        "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'public'",
    )
    .await;
    let table_oid = first_value(
        &client,
        "SELECT oid FROM pg_catalog.pg_class WHERE relname = 'bi_orders'",
    )
    .await;

    let mut files: Vec<_> = std::fs::read_dir(fixtures())
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql") && !p.ends_with("setup.sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "one fixture per tool");
    let mut failures = Vec::new();
    let mut wrong_counts = Vec::new();
    let mut passed = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(file)
            .expect("fixture")
            .replace("{{public_oid}}", &public_oid)
            .replace("{{bi_orders_oid}}", &table_oid);
        let mut output = String::new();
        for (i, sql) in statements(&text).iter().enumerate() {
            let id = format!("{name}#{}", i + 1);
            if gaps.contains_key(&id) {
                continue;
            }
            match client.simple_query(sql).await {
                Ok(messages) => {
                    let rows = messages
                        .iter()
                        .filter(|m| matches!(m, SimpleQueryMessage::Row(_)))
                        .count() as u64;
                    let postgres = expected.rows.get(&id).copied();
                    let count_ok = match (postgres, expected.differs.contains_key(&id)) {
                        (Some(n), false) => rows == n,
                        (Some(n), true) => n == 0 || rows > 0,
                        (None, differs) => differs,
                    };
                    if !count_ok {
                        wrong_counts.push(format!(
                            "{id}: {rows} rows, PostgreSQL returns {postgres:?}"
                        ));
                    }
                    if let Some(expected_rows) = exact.get(&id) {
                        let mut got: Vec<Vec<Option<String>>> = messages
                            .iter()
                            .filter_map(|m| match m {
                                SimpleQueryMessage::Row(row) => Some(
                                    (0..row.len())
                                        .map(|i| row.get(i).map(str::to_string))
                                        .collect(),
                                ),
                                _ => None,
                            })
                            .collect();
                        let mut want = expected_rows.clone();
                        got.sort();
                        want.sort();
                        if got != want {
                            wrong_counts
                                .push(format!("{id}: rows {got:?}, PostgreSQL returns {want:?}"));
                        }
                    }
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
            if let Some(shape) = shapes.get(&id) {
                let difference = shape_difference(&client, sql, shape).await;
                match (difference, shape_differs.contains_key(&id)) {
                    (Some(d), false) => wrong_shapes.push(format!("{id}: {d}")),
                    (None, true) => wrong_shapes.push(format!(
                        "{id}: now as PostgreSQL's; remove it from shape_differs.toml"
                    )),
                    _ => {}
                }
            }
            passed += 1;
        }
        if LISTS_TABLES.contains(&name.as_str()) {
            assert!(
                output.contains("bi_orders"),
                "{name} never saw the table bi_orders:\n{output}"
            );
        }
        // Grafana's query builder shows information_schema's data_type; Metabase syncs udt_name.
        if name == "grafana.sql" {
            assert!(
                output.contains("id|bigint|") && output.contains("amount|numeric|"),
                "Grafana sees PostgreSQL type names:\n{output}"
            );
        }
        if name == "metabase.sql" {
            assert!(
                output.contains("id|int8|0|public|bi_orders|f|"),
                "Metabase sees the column's udt_name and position:\n{output}"
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
    assert!(
        wrong_counts.is_empty(),
        "statements whose rows differ from PostgreSQL's:\n{}",
        wrong_counts.join("\n")
    );
    assert!(
        wrong_shapes.is_empty(),
        "statements whose columns or settings differ from PostgreSQL's:\n{}",
        wrong_shapes.join("\n")
    );
    server.stop().await;
}

fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}
