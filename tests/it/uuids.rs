//! PostgreSQL's `uuid` type on Delta tables (stored as canonical text, marked in the schema):
//! input forms and errors, comparisons with quoted literals, `::text`, `max` refused, and `TABLE
//! t` / `date - date` beside them, compared with PostgreSQL 15's answers; then what drivers see:
//! the column typed uuid, values in binary format, uuid parameters bound in binary and text.

use tokio_postgres::types::Type;
use uuid::Uuid;

use crate::support::{TestServer, assert_same_as_postgres};

/// Every form PostgreSQL's uuid input accepts is stored as one canonical uuid; a quoted literal
/// compared with a uuid column is read as a uuid (an upper-case one matched nothing as text);
/// texts that are no uuid are 22P02 on the way in and in a comparison.
#[tokio::test]
async fn uuid_values_answer_as_postgresql() {
    let script = [
        "CREATE TABLE uu (id uuid, v text)",
        "INSERT INTO uu VALUES ('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a'), \
         ('{b0eebc999c0b4ef8bb6d6bb9bd380a11}', 'b'), \
         ('c0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11', 'c'), (NULL, 'n')",
        "INSERT INTO uu VALUES ('nope', 'x')",
        "INSERT INTO uu VALUES (' a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'x')",
        "SELECT * FROM uu ORDER BY id",
        "SELECT v FROM uu WHERE id = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
        "SELECT v FROM uu WHERE id <> 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' ORDER BY v",
        "SELECT v FROM uu WHERE id IN ('B0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', \
         '{c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}') ORDER BY v",
        "SELECT v FROM uu WHERE id > 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' ORDER BY v",
        "SELECT v FROM uu WHERE id = 'zz'",
        "SELECT id::text, upper(id::text), length(CAST(id AS varchar)) FROM uu ORDER BY v",
        "SELECT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid, \
         uuid 'a0eebc999c0b4ef8bb6d6bb9bd380a11'",
        "SELECT 'x'::uuid",
        "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid = \
         'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
        "SELECT coalesce(id, 'D0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11') FROM uu ORDER BY v",
        "SELECT count(DISTINCT id), count(id) FROM uu",
        "SELECT max(id) FROM uu",
        "SELECT a.v FROM uu a JOIN uu b ON a.id = b.id ORDER BY 1",
        "UPDATE uu SET id = 'D0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11' WHERE v = 'n'",
        "UPDATE uu SET id = 'bad' WHERE v = 'a'",
        "SELECT * FROM uu ORDER BY id",
        "SELECT length(gen_random_uuid()::text), gen_random_uuid() = gen_random_uuid()",
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'uu' \
         ORDER BY ordinal_position",
        "ALTER TABLE uu ADD COLUMN other uuid",
        "UPDATE uu SET other = '{E0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}' WHERE v = 'b'",
        "SELECT v, other FROM uu WHERE other IS NOT NULL",
        // Beside it: `TABLE t` is `SELECT * FROM t`; `date - date` an integer.
        "TABLE uu ORDER BY v LIMIT 2",
        "SELECT v FROM uu WHERE v < 'c' UNION ALL TABLE uu",
        "SELECT pg_typeof(date '2024-03-01' - date '2024-01-01')::text, \
         date '2024-03-01' - date '2024-01-01'",
    ];
    assert_same_as_postgres(&script).await;
}

/// Drivers see a uuid column typed uuid, read it in binary format (16 bytes), and bind uuid
/// parameters: the statement describes `$1` as uuid, so tokio-postgres sends a `Uuid` in
/// binary; a text parameter in any accepted form reads as the same uuid.
#[tokio::test]
async fn uuid_columns_reach_drivers_as_uuid() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute("CREATE TABLE ud (id uuid, v text)")
        .await
        .unwrap();
    let a = Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
    let insert = client
        .prepare("INSERT INTO ud VALUES ($1, $2)")
        .await
        .unwrap();
    assert_eq!(insert.params()[0], Type::UUID);
    client.execute(&insert, &[&a, &"a"]).await.unwrap();
    client
        .execute(
            "INSERT INTO ud VALUES ($1::text::uuid, 'b')",
            &[&"{B0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}"],
        )
        .await
        .unwrap();

    let select = client
        .prepare("SELECT id, v FROM ud WHERE id = $1")
        .await
        .unwrap();
    assert_eq!(select.params()[0], Type::UUID);
    assert_eq!(select.columns()[0].type_(), &Type::UUID);
    let rows = client.query(&select, &[&a]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, Uuid>(0), a);
    assert_eq!(rows[0].get::<_, &str>(1), "a");

    let all = client
        .query("SELECT id FROM ud ORDER BY id", &[])
        .await
        .unwrap();
    let ids: Vec<Uuid> = all.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        ids,
        [
            a,
            Uuid::parse_str("b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap()
        ]
    );
    // A uuid value made by a query is typed uuid too; its text is a text.
    let made = client
        .query_one("SELECT gen_random_uuid(), $1::uuid::text", &[&a])
        .await
        .unwrap();
    assert_eq!(made.columns()[0].type_(), &Type::UUID);
    assert_eq!(made.get::<_, Uuid>(0).get_version_num(), 4);
    assert_eq!(made.get::<_, &str>(1), a.to_string());
    // A bad uuid as a text parameter fails with PostgreSQL's words; the session goes on.
    let err = client
        .query("SELECT v FROM ud WHERE id = $1::text::uuid", &[&"zz"])
        .await
        .unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("22P02"), "{err:?}");
    assert_eq!(
        client
            .query_one("SELECT count(*) FROM ud", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        2
    );
    server.stop().await;
}
