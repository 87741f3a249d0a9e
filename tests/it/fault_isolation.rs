//! One bad table breaks nothing else (issue 16): a table whose log is corrupt, an external table
//! whose location is gone, and a table that needs a Delta feature nobody here can read, next to
//! healthy ones. Every catalog walk (psql `\dt` and `\d`, information_schema, pg_class) still
//! answers and lists all of them; each bad table's own queries fail with one line naming it and
//! the SQLSTATE of its fault (XX001, 58030, 0A000); the healthy tables read and write as before;
//! the bad ones can be dropped.

use std::process::Command;

use crate::support::{TestServer, expect_sqlstate, require_tool, simple_rows};

fn psql(server: &TestServer, command: &str) -> (bool, String) {
    let out = Command::new(require_tool("psql"))
        .args([
            "-h",
            &server.addr.ip().to_string(),
            "-p",
            &server.addr.port().to_string(),
        ])
        .args(["-U", "tester", "-d", "deltagres", "-X", "-c", command])
        .output()
        .expect("psql runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Makes `public.future`'s protocol require a reader feature that does not exist.
fn require_unknown_feature(commit: &std::path::Path) {
    let text = std::fs::read_to_string(commit).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let mut action: serde_json::Value = serde_json::from_str(line).unwrap();
            if action.get("protocol").is_some() {
                action["protocol"] = serde_json::json!({
                    "minReaderVersion": 3,
                    "minWriterVersion": 7,
                    "readerFeatures": ["futureFeature"],
                    "writerFeatures": ["futureFeature"],
                });
            }
            action.to_string()
        })
        .collect();
    std::fs::write(commit, lines.join("\n") + "\n").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_a_missing_and_a_future_table_break_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let external = dir.path().join("external_t");
    {
        let server = TestServer::start_on(&data).await;
        let c = server.client().await;
        c.batch_execute(&format!(
            "CREATE TABLE good (id int, v text); INSERT INTO good VALUES (1, 'a'); \
             CREATE TABLE corrupt (id int); INSERT INTO corrupt VALUES (1); \
             CREATE TABLE future (id int); \
             CREATE TABLE gone (id int) LOCATION '{}'; INSERT INTO gone VALUES (1); \
             CREATE VIEW good_view AS SELECT id FROM good",
            external.display()
        ))
        .await
        .unwrap();
        server.stop().await;
    }
    let log = |t: &str| data.join("public").join(t).join("_delta_log");
    std::fs::write(
        log("corrupt").join("00000000000000000001.json"),
        "{not json\n",
    )
    .unwrap();
    require_unknown_feature(&log("future").join("00000000000000000000.json"));
    std::fs::remove_dir_all(&external).unwrap();

    let server = TestServer::start_on(&data).await;
    let c = server.client().await;

    // Every catalog walk answers and lists every table.
    let (ok, dt) = psql(&server, "\\dt");
    assert!(ok, "\\dt failed: {dt}");
    for name in ["good", "corrupt", "future", "gone"] {
        assert!(dt.contains(name), "\\dt lacks {name}: {dt}");
    }
    let (ok, d) = psql(&server, "\\d good");
    assert!(ok && d.contains("text"), "\\d good: {d}");
    let (ok, d) = psql(&server, "\\d corrupt");
    assert!(ok, "\\d corrupt: {d}");
    let (ok, dv) = psql(&server, "\\dv");
    assert!(ok && dv.contains("good_view"), "\\dv: {dv}");
    assert_eq!(
        simple_rows(
            &c,
            "SELECT table_name, column_name FROM information_schema.columns \
             WHERE table_schema = 'public' ORDER BY 1, 2"
        )
        .await,
        vec![
            vec![Some("good".into()), Some("id".into())],
            vec![Some("good".into()), Some("v".into())],
            vec![Some("good_view".into()), Some("id".into())],
        ]
    );
    assert_eq!(
        simple_rows(
            &c,
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON c.relnamespace = n.oid \
             WHERE n.nspname = 'public' AND relkind = 'r' ORDER BY 1"
        )
        .await,
        vec![
            vec![Some("corrupt".into())],
            vec![Some("future".into())],
            vec![Some("gone".into())],
            vec![Some("good".into())],
        ]
    );
    assert_eq!(
        simple_rows(
            &c,
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        .await,
        vec![vec![Some("5".into())]]
    );

    // Each bad table fails on its own, in one line that names it, with its fault's SQLSTATE.
    for (table, code) in [("corrupt", "XX001"), ("future", "0A000"), ("gone", "58030")] {
        for sql in [
            format!("SELECT * FROM {table}"),
            format!("SELECT count(*) FROM {table}"),
            format!("INSERT INTO {table} VALUES (2)"),
        ] {
            let err = expect_sqlstate(&c, &sql, code).await;
            let message = err.as_db_error().unwrap().message().to_string();
            assert!(
                message.contains(&format!("public.{table}")) && !message.contains('\n'),
                "{sql}: {message}"
            );
            assert!(
                !message.contains(".rs:") && !message.contains("backtrace"),
                "{sql}: {message}"
            );
        }
    }

    // The healthy table and its view are untouched, and the connection is still usable.
    c.batch_execute("INSERT INTO good VALUES (2, 'b')")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM good_view").await,
        vec![vec![Some("2".into())]]
    );

    // The bad tables can be dropped.
    c.batch_execute("DROP TABLE corrupt; DROP TABLE future; DROP TABLE gone")
        .await
        .unwrap();
    let (ok, dt) = psql(&server, "\\dt");
    assert!(ok && dt.contains("good") && !dt.contains("corrupt"), "{dt}");
    server.stop().await;
}
