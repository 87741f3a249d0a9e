//! `ALTER TABLE/VIEW ... RENAME TO`, the way dbt swaps a model into place: tables (managed,
//! external) and views are renamed, views that read a renamed relation follow it, a qualified
//! name moves the relation to another schema, and everything holds across a restart.

use crate::support::{TestServer, expect_sqlstate, simple_rows};

fn rows(values: &[&str]) -> Vec<Vec<Option<String>>> {
    values.iter().map(|v| vec![Some(v.to_string())]).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_and_views_are_renamed_and_their_readers_follow() {
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(data.path()).await;
    let c = server.client().await;
    c.batch_execute(
        "CREATE TABLE m__dbt_tmp (id bigint, v text); \
         INSERT INTO m__dbt_tmp VALUES (1, 'a'), (2, 'b'); \
         CREATE VIEW m_ids AS SELECT id FROM m__dbt_tmp WHERE id > 1",
    )
    .await
    .unwrap();
    // dbt's own form: quoted, database-qualified.
    c.batch_execute(r#"alter table "deltagres"."public"."m__dbt_tmp" rename to "m""#)
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT v FROM m ORDER BY id").await,
        rows(&["a", "b"])
    );
    expect_sqlstate(&c, "SELECT * FROM m__dbt_tmp", "42P01").await;
    // The view follows the table it reads.
    assert_eq!(simple_rows(&c, "SELECT id FROM m_ids").await, rows(&["2"]));
    // ALTER TABLE renames views too (dbt renames both with it); ALTER VIEW only views.
    c.batch_execute("ALTER TABLE m_ids RENAME TO m_ids_2")
        .await
        .unwrap();
    c.batch_execute("ALTER VIEW m_ids_2 RENAME TO big_ids")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT id FROM big_ids").await,
        rows(&["2"])
    );
    expect_sqlstate(&c, "ALTER VIEW m RENAME TO n", "42809").await;
    // A name in use, a missing relation, IF EXISTS.
    c.batch_execute("CREATE TABLE other (x int)").await.unwrap();
    expect_sqlstate(&c, "ALTER TABLE m RENAME TO other", "42P07").await;
    expect_sqlstate(&c, "ALTER TABLE nothing RENAME TO x", "42P01").await;
    c.batch_execute("ALTER TABLE IF EXISTS nothing RENAME TO x")
        .await
        .unwrap();
    // A qualified name moves the table to that schema.
    c.batch_execute("CREATE SCHEMA mart; ALTER TABLE m RENAME TO mart.orders")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM mart.orders").await,
        rows(&["2"])
    );
    assert_eq!(
        simple_rows(&c, "SELECT id FROM big_ids").await,
        rows(&["2"])
    );
    // An external table changes its catalog entry only.
    let external = tempfile::tempdir().unwrap();
    let location = external.path().join("ext");
    c.batch_execute(&format!(
        "CREATE TABLE ext (id int) LOCATION '{}'; INSERT INTO ext VALUES (7); \
         ALTER TABLE ext RENAME TO ext2",
        location.display()
    ))
    .await
    .unwrap();
    assert_eq!(simple_rows(&c, "SELECT id FROM ext2").await, rows(&["7"]));
    // Writes go to the renamed table.
    c.batch_execute("INSERT INTO mart.orders VALUES (3, 'c')")
        .await
        .unwrap();
    server.stop().await;

    let again = TestServer::start_on(data.path()).await;
    let c = again.client().await;
    assert_eq!(
        simple_rows(&c, "SELECT v FROM mart.orders ORDER BY id").await,
        rows(&["a", "b", "c"])
    );
    assert_eq!(
        simple_rows(&c, "SELECT id FROM big_ids ORDER BY id").await,
        rows(&["2", "3"])
    );
    assert_eq!(simple_rows(&c, "SELECT id FROM ext2").await, rows(&["7"]));
    expect_sqlstate(&c, "SELECT * FROM m", "42P01").await;
    again.stop().await;
}
