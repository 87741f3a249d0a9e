//! Many clients writing the same table at once: Delta optimistic concurrency, no lost rows.

use crate::support::{TestServer, sqlstate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_clients_append_to_one_table() {
    let server = TestServer::start().await;
    let setup = server.client().await;
    setup
        .batch_execute("CREATE TABLE events (client INT NOT NULL, n INT NOT NULL)")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for c in 0..16i32 {
        let client = server.client().await;
        tasks.push(tokio::spawn(async move {
            let mut written = 0i64;
            // 50 rows per client, in 10 commits of 5 rows.
            for batch in 0..10i32 {
                let values: Vec<String> = (0..5)
                    .map(|i| format!("({c}, {})", batch * 5 + i))
                    .collect();
                let sql = format!("INSERT INTO events VALUES {}", values.join(", "));
                match client.execute(&sql, &[]).await {
                    Ok(n) => written += n as i64,
                    Err(e) => assert_eq!(
                        sqlstate(&e),
                        "40001",
                        "only write conflicts are expected: {e}"
                    ),
                }
            }
            let own: i64 = client
                .query_one("SELECT count(*) FROM events WHERE client = $1", &[&c])
                .await
                .unwrap()
                .get(0);
            assert_eq!(own, written, "client {c} reads back what it wrote");
            written
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(
        total, 800,
        "blind appends retry by themselves, so every row lands"
    );
    let count: i64 = setup
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, total);
    server.stop().await;
}
