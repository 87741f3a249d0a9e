//! `COMMENT ON TABLE / COLUMN`: what PostgreSQL's catalog functions and `pg_description` answer
//! (PostgreSQL 15 is the oracle), what psql `\d+` shows, and the Delta form (the table's
//! description, a column's `comment` metadata) read and written by the deltalake package.

use crate::support::{TestServer, assert_same_as_postgres, run_python, simple_rows};

/// Comments set, replaced and removed read back through `obj_description`, `col_description`
/// and a join on `pg_description` as on PostgreSQL; the refusals have PostgreSQL's SQLSTATEs.
#[tokio::test]
async fn comments_read_back_as_postgresql() {
    let script = [
        "CREATE TABLE cm (id INT, name TEXT, city TEXT)",
        "COMMENT ON TABLE cm IS 'Customers of the shop'",
        "COMMENT ON COLUMN cm.name IS 'Full name, as typed'",
        "COMMENT ON COLUMN public.cm.city IS 'It''s where they live'",
        "SELECT obj_description('cm'::regclass, 'pg_class'), obj_description('cm'::regclass)",
        "SELECT col_description('cm'::regclass, 1), col_description('cm'::regclass, 2), \
         col_description('cm'::regclass, 3)",
        "SELECT c.relname, d.objsubid, d.description FROM pg_class c \
         JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass \
         WHERE c.relname = 'cm' ORDER BY d.objsubid",
        "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = 'cm' AND a.attnum > 0 \
         ORDER BY a.attnum",
        "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relname IN ('cm', 'plain') ORDER BY 1",
        "COMMENT ON TABLE cm IS 'Customers'",
        "COMMENT ON COLUMN cm.name IS NULL",
        "COMMENT ON COLUMN cm.city IS ''",
        "SELECT obj_description('cm'::regclass), col_description('cm'::regclass, 2), \
         col_description('cm'::regclass, 3)",
        "COMMENT ON TABLE cm IS NULL",
        "SELECT obj_description('cm'::regclass)",
        "SELECT count(*) FROM cm",
        "COMMENT ON COLUMN cm.nope IS 'x'",
        "COMMENT ON TABLE nope IS 'x'",
        "COMMENT ON COLUMN nope.x IS 'x'",
        "COMMENT ON COLUMN cm IS 'x'",
    ];
    let setup = "CREATE TABLE plain (x INT)";
    let mut with_setup = vec![setup];
    with_setup.extend(script);
    assert_same_as_postgres(&with_setup).await;
}

/// psql `\d+` shows a column's comment in its Description column, and `\dt+` the table's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_shows_comments() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE cp (id INT, note TEXT); \
             COMMENT ON TABLE cp IS 'Table of notes'; \
             COMMENT ON COLUMN cp.note IS 'The note itself'",
        )
        .await
        .unwrap();
    let psql = crate::support::require_tool("psql");
    let out = std::process::Command::new(psql)
        .arg(server.url())
        .args(["-X", "-q", "-c", "\\d+ cp", "-c", "\\dt+ cp"])
        .output()
        .expect("psql runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let note_line = stdout
        .lines()
        .find(|line| line.trim_start().starts_with("note"))
        .unwrap_or_else(|| panic!("no note column in:\n{stdout}"));
    assert!(note_line.contains("The note itself"), "{stdout}");
    let table_line = stdout
        .lines()
        .find(|line| line.contains("| cp ") && line.contains("table"))
        .unwrap_or_else(|| panic!("no table row in:\n{stdout}"));
    assert!(table_line.contains("Table of notes"), "{stdout}");
}

/// The comments are the Delta table's description and its fields' `comment` metadata, as Spark
/// keeps them: the deltalake package reads ours, and we read one it wrote, across a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_are_kept_in_the_delta_form() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(dir.path()).await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE cd (id INT, name TEXT); \
             INSERT INTO cd VALUES (1, 'a'); \
             COMMENT ON TABLE cd IS 'Written by deltagres'; \
             COMMENT ON COLUMN cd.name IS 'A name'",
        )
        .await
        .unwrap();
    let path = dir.path().join("public").join("cd");
    let seen = run_python(&format!(
        "from deltalake import DeltaTable\n\
         t = DeltaTable({path:?})\n\
         print(t.metadata().description)\n\
         print({{f.name: f.metadata.get('comment') for f in t.schema().fields}})\n\
         print(t.to_pyarrow_table().num_rows)"
    ));
    assert_eq!(
        seen.lines().collect::<Vec<_>>(),
        [
            "Written by deltagres",
            "{'id': None, 'name': 'A name'}",
            "1"
        ],
        "{seen}"
    );
    // A table the deltalake package creates with a description and a column comment.
    let external = dir.path().join("external_commented");
    run_python(&format!(
        "import pyarrow as pa\n\
         from deltalake import write_deltalake\n\
         schema = pa.schema([pa.field('k', pa.int64()), \
                             pa.field('v', pa.string(), metadata={{'comment': 'From Python'}})])\n\
         write_deltalake({external:?}, pa.table({{'k': [1], 'v': ['x']}}, schema=schema), \
                         description='Made by the deltalake package')"
    ));
    client
        .batch_execute(&format!(
            "CREATE TABLE ext LOCATION '{}'",
            external.display()
        ))
        .await
        .unwrap();
    drop(client);
    server.stop().await;
    let server = TestServer::start_on(dir.path()).await;
    let client = server.client().await;
    assert_eq!(
        simple_rows(
            &client,
            "SELECT obj_description('cd'::regclass), col_description('cd'::regclass, 2), \
             obj_description('ext'::regclass), col_description('ext'::regclass, 2)"
        )
        .await,
        vec![vec![
            Some("Written by deltagres".to_string()),
            Some("A name".to_string()),
            Some("Made by the deltalake package".to_string()),
            Some("From Python".to_string()),
        ]]
    );
    let described = simple_rows(&client, "DESCRIBE TABLE ext").await;
    assert!(
        described.contains(&vec![
            Some("v".to_string()),
            Some("text".to_string()),
            Some("From Python".to_string())
        ]),
        "{described:?}"
    );
}
