//! The wire protocol: simple and extended query, parameters, prepared statements, portals, tags.

use tokio_postgres::SimpleQueryMessage;

use crate::support::{Postgres, TestServer, simple_rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_protocol_runs_several_statements_with_correct_tags() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let messages = client
        .simple_query(
            "CREATE TABLE t (id BIGINT NOT NULL, v TEXT); \
             INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, NULL); \
             UPDATE t SET v = 'z' WHERE id >= 2; \
             DELETE FROM t WHERE id = 1; \
             SELECT id, v FROM t ORDER BY id",
        )
        .await
        .unwrap();
    let tags: Vec<u64> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect();
    // CREATE TABLE (0), INSERT 0 3, UPDATE 2, DELETE 1, SELECT 2
    assert_eq!(tags, vec![0, 3, 2, 1, 2]);
    let rows = simple_rows(&client, "SELECT id, v FROM t ORDER BY id").await;
    assert_eq!(
        rows,
        vec![
            vec![Some("2".into()), Some("z".into())],
            vec![Some("3".into()), Some("z".into())]
        ]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extended_protocol_with_parameters_and_reused_prepared_statements() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute("CREATE TABLE kv (k INT NOT NULL, v TEXT, amount DOUBLE PRECISION)")
        .await
        .unwrap();
    let insert = client
        .prepare("INSERT INTO kv (k, v, amount) VALUES ($1, $2, $3)")
        .await
        .unwrap();
    assert_eq!(insert.params().len(), 3);
    for k in 0..20i32 {
        let v = if k % 5 == 0 {
            None
        } else {
            Some(format!("v{k}"))
        };
        let n = client
            .execute(&insert, &[&k, &v, &(k as f64 * 1.5)])
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
    let select = client
        .prepare("SELECT v, amount FROM kv WHERE k = $1")
        .await
        .unwrap();
    for i in 0..1000i32 {
        let k = i % 20;
        let row = client.query_one(&select, &[&k]).await.unwrap();
        let v: Option<String> = row.get(0);
        let amount: f64 = row.get(1);
        assert_eq!(
            v,
            if k % 5 == 0 {
                None
            } else {
                Some(format!("v{k}"))
            }
        );
        assert_eq!(amount, k as f64 * 1.5);
    }
    let n = client
        .execute("UPDATE kv SET v = $1 WHERE k < $2", &[&"low", &5i32])
        .await
        .unwrap();
    assert_eq!(n, 5);
    let n = client
        .execute("DELETE FROM kv WHERE k >= $1", &[&15i32])
        .await
        .unwrap();
    assert_eq!(n, 5);
    let count: i64 = client
        .query_one("SELECT count(*) FROM kv WHERE v = $1", &[&"low"])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 5);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portals_return_rows_in_max_rows_chunks() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let tx = client.transaction().await.unwrap();
    let statement = tx
        .prepare("SELECT value FROM generate_series(1, 25) AS g(value) ORDER BY value")
        .await
        .unwrap();
    let portal = tx.bind(&statement, &[]).await.unwrap();
    let mut seen = Vec::new();
    loop {
        let chunk = tx.query_portal(&portal, 10).await.unwrap();
        if chunk.is_empty() {
            break;
        }
        assert!(chunk.len() <= 10);
        seen.extend(chunk.iter().map(|r| r.get::<_, i64>(0)));
    }
    assert_eq!(seen, (1..=25).collect::<Vec<i64>>());
    tx.commit().await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_queries_and_comments() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let messages = client.simple_query(";;").await.unwrap();
    assert!(
        messages
            .iter()
            .all(|m| !matches!(m, SimpleQueryMessage::Row(_)))
    );
    let rows = simple_rows(&client, "-- a comment\nSELECT 1 /* inline */ + 1").await;
    assert_eq!(rows, vec![vec![Some("2".into())]]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlimited_execute_streams_large_results() {
    use futures::TryStreamExt;
    let server = TestServer::start().await;
    let client = server.client().await;
    let stream = client
        .query_raw(
            "SELECT value FROM generate_series(1, 200000) AS g(value)",
            std::iter::empty::<i64>(),
        )
        .await
        .unwrap();
    let mut stream = std::pin::pin!(stream);
    let (mut n, mut sum) = (0i64, 0i64);
    while let Some(row) = stream.try_next().await.unwrap() {
        n += 1;
        sum += row.get::<_, i64>(0);
    }
    assert_eq!(n, 200_000);
    assert_eq!(sum, 200_000 * 200_001 / 2);
    assert_eq!(stream.rows_affected(), Some(200_000));
    server.stop().await;
}

/// psycopg sends `DEALLOCATE ALL` after a DDL statement once it has prepared statements: it
/// succeeds, and a statement prepared before it still runs when prepared again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deallocate_all_succeeds_as_psycopg_sends_it() {
    let server = TestServer::start().await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE d (id int); INSERT INTO d VALUES (1)")
        .await
        .unwrap();
    let before = c.prepare("SELECT id FROM d").await.unwrap();
    assert_eq!(c.query(&before, &[]).await.unwrap().len(), 1);
    let messages = c.simple_query("DEALLOCATE ALL").await.unwrap();
    assert!(
        messages
            .iter()
            .any(|m| matches!(m, SimpleQueryMessage::CommandComplete(_))),
        "{messages:?}"
    );
    let again = c.prepare("SELECT id FROM d").await.unwrap();
    assert_eq!(c.query(&again, &[]).await.unwrap().len(), 1);
    server.stop().await;
}

/// A parameter type the client declares in its Parse message is the parameter's type, as in
/// PostgreSQL: `SELECT $1` with an int2 parameter is described and answered as an int2 (psycopg
/// declares int2/int4/int8, float8, bool and date for Python values); an undeclared one stays
/// unknown and comes back as text. Compared with PostgreSQL 15: the result column types and values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_parameter_types_type_the_result_as_in_postgres() {
    use tokio_postgres::types::{ToSql, Type};
    let pg = Postgres::start();
    let p = pg.client().await;
    let server = TestServer::start().await;
    let c = server.client().await;
    let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
    type Values = Vec<Box<dyn ToSql + Sync + Send>>;
    let cases: Vec<(&str, Vec<Type>, Values)> = vec![
        ("SELECT $1", vec![Type::INT2], vec![Box::new(5i16)]),
        ("SELECT $1", vec![Type::INT4], vec![Box::new(7i32)]),
        ("SELECT $1", vec![Type::INT8], vec![Box::new(1i64 << 40)]),
        ("SELECT $1", vec![Type::FLOAT8], vec![Box::new(1.5f64)]),
        ("SELECT $1", vec![Type::FLOAT4], vec![Box::new(0.25f32)]),
        ("SELECT $1", vec![Type::BOOL], vec![Box::new(true)]),
        ("SELECT $1", vec![Type::DATE], vec![Box::new(date)]),
        (
            "SELECT $1 AS a, $2 AS b",
            vec![Type::INT4, Type::FLOAT8],
            vec![Box::new(3i32), Box::new(2.5f64)],
        ),
        (
            "SELECT $1 + 1 AS n",
            vec![Type::INT8],
            vec![Box::new(41i64)],
        ),
        // Undeclared: unknown, and an unknown output column is text.
        ("SELECT $1", vec![], vec![Box::new("x")]),
        ("SELECT NULL AS n", vec![], vec![]),
        (
            "SELECT count(*) FROM (VALUES (1), (2), (3)) v(x) WHERE x > $1",
            vec![Type::INT4],
            vec![Box::new(1i32)],
        ),
        (
            "SELECT count(*) FROM (SELECT x FROM (VALUES (1), (2), (3)) v(x) LIMIT $1) s",
            vec![Type::INT8],
            vec![Box::new(2i64)],
        ),
    ];
    let render = |row: &tokio_postgres::Row, i: usize| -> (Type, String) {
        let t = row.columns()[i].type_().clone();
        let text = match t {
            Type::INT2 => format!("{:?}", row.get::<_, Option<i16>>(i)),
            Type::INT4 => format!("{:?}", row.get::<_, Option<i32>>(i)),
            Type::INT8 => format!("{:?}", row.get::<_, Option<i64>>(i)),
            Type::FLOAT4 => format!("{:?}", row.get::<_, Option<f32>>(i)),
            Type::FLOAT8 => format!("{:?}", row.get::<_, Option<f64>>(i)),
            Type::BOOL => format!("{:?}", row.get::<_, Option<bool>>(i)),
            Type::DATE => format!("{:?}", row.get::<_, Option<chrono::NaiveDate>>(i)),
            Type::TEXT => format!("{:?}", row.get::<_, Option<String>>(i)),
            ref other => format!("<{other}>"),
        };
        (t, text)
    };
    for (sql, types, values) in &cases {
        let params: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|v| v.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let mut answers = Vec::new();
        for client in [&p, &c] {
            let statement = client.prepare_typed(sql, types).await.unwrap();
            let rows = client.query(&statement, &params).await.unwrap();
            let rendered: Vec<Vec<(Type, String)>> = rows
                .iter()
                .map(|row| (0..row.len()).map(|i| render(row, i)).collect())
                .collect();
            answers.push(rendered);
        }
        assert_eq!(
            answers[1], answers[0],
            "{sql} {types:?} (deltagres, PostgreSQL)"
        );
    }
    server.stop().await;
}

/// One frontend message: its type byte, then its length and body.
fn frontend_message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut message = vec![kind];
    message.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    message.extend_from_slice(body);
    message
}

/// Reads backend messages until one of type `last`, returning their type bytes.
async fn backend_types_until(socket: &mut tokio::net::TcpStream, last: u8) -> String {
    use tokio::io::AsyncReadExt;
    let mut types = String::new();
    loop {
        let kind = socket.read_u8().await.expect("a backend message");
        let length = socket.read_i32().await.expect("its length") as usize;
        let mut body = vec![0; length - 4];
        socket.read_exact(&mut body).await.expect("its body");
        types.push(kind as char);
        if kind == last {
            return types;
        }
    }
}

/// The replies to Parse, Bind, Describe and Execute wait for Sync or Flush, as PostgreSQL's do
/// (one write per round instead of one per message), and then come in the same order.
#[tokio::test]
async fn extended_replies_wait_for_flush_or_sync_as_in_postgres() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    async fn exchange(port: u16, database: &str) -> Vec<String> {
        let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let mut startup = 196608i32.to_be_bytes().to_vec();
        for part in ["user", "tester", "database", database] {
            startup.extend_from_slice(part.as_bytes());
            startup.push(0);
        }
        startup.push(0);
        let mut message = (startup.len() as i32 + 4).to_be_bytes().to_vec();
        message.extend_from_slice(&startup);
        socket.write_all(&message).await.unwrap();
        backend_types_until(&mut socket, b'Z').await;
        let mut round = Vec::new();
        round.extend(frontend_message(b'P', b"\0SELECT 1 AS one\0\0\0"));
        round.extend(frontend_message(b'B', b"\0\0\0\0\0\0\0\0"));
        round.extend(frontend_message(b'D', b"P\0"));
        round.extend(frontend_message(b'E', b"\0\0\0\0\0"));
        socket.write_all(&round).await.unwrap();
        let mut seen = Vec::new();
        let mut byte = [0u8; 1];
        let early = tokio::time::timeout(
            std::time::Duration::from_millis(300),
            socket.read(&mut byte),
        )
        .await;
        seen.push(format!(
            "before Flush: {}",
            if early.is_ok() { "replies" } else { "nothing" }
        ));
        socket
            .write_all(&frontend_message(b'H', b""))
            .await
            .unwrap();
        seen.push(format!(
            "at Flush: {}",
            backend_types_until(&mut socket, b'C').await
        ));
        socket
            .write_all(&frontend_message(b'S', b""))
            .await
            .unwrap();
        seen.push(format!(
            "at Sync: {}",
            backend_types_until(&mut socket, b'Z').await
        ));
        socket
            .write_all(&frontend_message(b'X', b""))
            .await
            .unwrap();
        seen
    }
    let pg = crate::support::Postgres::start();
    let server = TestServer::start().await;
    let expected = exchange(pg.port, "postgres").await;
    assert_eq!(expected[0], "before Flush: nothing");
    assert_eq!(exchange(server.addr.port(), "deltagres").await, expected);
}
