//! Every supported type round-trips through a Delta table in text (simple protocol) and binary
//! (extended protocol) format, NULLs included.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use tokio_postgres::types::{FromSql, Type};

use crate::support::{TestServer, simple_rows};

const CREATE: &str = "CREATE TABLE all_types (
    id INT NOT NULL, b BOOLEAN, i2 SMALLINT, i4 INTEGER, i8 BIGINT, f4 REAL, f8 DOUBLE PRECISION,
    n NUMERIC(12,2), s TEXT, vc VARCHAR(20), d DATE, ts TIMESTAMP, tstz TIMESTAMPTZ, by BYTEA,
    arr BIGINT[])";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_types_round_trip_in_binary_and_text() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client.batch_execute(CREATE).await.unwrap();

    let ts = NaiveDate::from_ymd_opt(2024, 3, 9)
        .unwrap()
        .and_hms_micro_opt(13, 14, 15, 123_456)
        .unwrap();
    let tstz: DateTime<Utc> = DateTime::from_naive_utc_and_offset(ts, Utc);
    let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let n = Decimal::new(1234567, 2); // 12345.67
    let bytes: Vec<u8> = vec![0, 1, 2, 254, 255];
    let arr: Vec<Option<i64>> = vec![Some(1), None, Some(-3)];
    client
        .execute(
            "INSERT INTO all_types VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
            &[
                &1i32,
                &true,
                &-7i16,
                &123_456i32,
                &9_000_000_000i64,
                &1.5f32,
                &-2.25f64,
                &n,
                &"héllo 'quoted'",
                &"short",
                &d,
                &ts,
                &tstz,
                &bytes,
                &arr,
            ],
        )
        .await
        .unwrap();
    client
        .execute("INSERT INTO all_types (id) VALUES ($1)", &[&2i32])
        .await
        .unwrap();

    // Binary (extended protocol results are binary in tokio-postgres).
    let row = client
        .query_one("SELECT * FROM all_types WHERE id = 1", &[])
        .await
        .unwrap();
    assert!(row.get::<_, bool>("b"));
    assert_eq!(row.get::<_, i16>("i2"), -7);
    assert_eq!(row.get::<_, i32>("i4"), 123_456);
    assert_eq!(row.get::<_, i64>("i8"), 9_000_000_000);
    assert_eq!(row.get::<_, f32>("f4"), 1.5);
    assert_eq!(row.get::<_, f64>("f8"), -2.25);
    assert_eq!(row.get::<_, Decimal>("n"), n);
    assert_eq!(row.get::<_, String>("s"), "héllo 'quoted'");
    assert_eq!(row.get::<_, String>("vc"), "short");
    assert_eq!(row.get::<_, NaiveDate>("d"), d);
    assert_eq!(row.get::<_, NaiveDateTime>("ts"), ts);
    assert_eq!(row.get::<_, DateTime<Utc>>("tstz"), tstz);
    assert_eq!(row.get::<_, Vec<u8>>("by"), bytes);
    assert_eq!(row.get::<_, Vec<Option<i64>>>("arr"), arr);

    let nulls = client
        .query_one("SELECT * FROM all_types WHERE id = 2", &[])
        .await
        .unwrap();
    for column in 1..nulls.len() {
        let is_null = match nulls.columns()[column].type_() {
            t if *t == Type::BOOL => nulls.get::<_, Option<bool>>(column).is_none(),
            t if *t == Type::INT2 => nulls.get::<_, Option<i16>>(column).is_none(),
            t if *t == Type::INT4 => nulls.get::<_, Option<i32>>(column).is_none(),
            t if *t == Type::INT8 => nulls.get::<_, Option<i64>>(column).is_none(),
            t if *t == Type::FLOAT4 => nulls.get::<_, Option<f32>>(column).is_none(),
            t if *t == Type::FLOAT8 => nulls.get::<_, Option<f64>>(column).is_none(),
            t if *t == Type::NUMERIC => nulls.get::<_, Option<Decimal>>(column).is_none(),
            t if *t == Type::TEXT || *t == Type::VARCHAR => {
                nulls.get::<_, Option<String>>(column).is_none()
            }
            t if *t == Type::DATE => nulls.get::<_, Option<NaiveDate>>(column).is_none(),
            t if *t == Type::TIMESTAMP => nulls.get::<_, Option<NaiveDateTime>>(column).is_none(),
            t if *t == Type::TIMESTAMPTZ => nulls.get::<_, Option<DateTime<Utc>>>(column).is_none(),
            t if *t == Type::BYTEA => nulls.get::<_, Option<Vec<u8>>>(column).is_none(),
            t if *t == Type::INT8_ARRAY => {
                nulls.get::<_, Option<Vec<Option<i64>>>>(column).is_none()
            }
            other => panic!("unexpected column type {other}"),
        };
        assert!(is_null, "column {column} should be NULL");
    }

    // Text (simple protocol).
    let rows = simple_rows(
        &client,
        "SELECT b, i2, i4, i8, f4, f8, n, s, vc, d, ts, tstz, by, arr FROM all_types ORDER BY id",
    )
    .await;
    let text: Vec<&str> = rows[0].iter().map(|v| v.as_deref().unwrap()).collect();
    assert_eq!(
        &text[..10],
        &[
            "t",
            "-7",
            "123456",
            "9000000000",
            "1.5",
            "-2.25",
            "12345.67",
            "héllo 'quoted'",
            "short",
            "2024-02-29"
        ]
    );
    assert!(
        text[10].starts_with("2024-03-09 13:14:15.123456"),
        "{}",
        text[10]
    );
    assert!(
        text[11].starts_with("2024-03-09 13:14:15.123456"),
        "{}",
        text[11]
    );
    assert_eq!(text[12], "\\x000102feff");
    assert_eq!(text[13], "{1,NULL,-3}");
    assert!(rows[1].iter().all(Option::is_none));
    server.stop().await;
}

/// The raw binary form of an INTERVAL: microseconds, days, months.
struct RawInterval(i64, i32, i32);

impl<'a> FromSql<'a> for RawInterval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let micros = i64::from_be_bytes(raw[0..8].try_into()?);
        let days = i32::from_be_bytes(raw[8..12].try_into()?);
        let months = i32::from_be_bytes(raw[12..16].try_into()?);
        Ok(RawInterval(micros, days, months))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn computed_types_intervals_arrays_and_nulls() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let row = client
        .query_one(
            "SELECT INTERVAL '1 month 2 days 3 hours' AS iv, ARRAY['a', NULL, 'c'] AS texts, \
             CAST(NULL AS INT) AS nothing, CAST(2.5 AS DECIMAL(5,1)) AS dec",
            &[],
        )
        .await
        .unwrap();
    let iv: RawInterval = row.get("iv");
    assert_eq!((iv.0, iv.1, iv.2), (3 * 3600 * 1_000_000, 2, 1));
    assert_eq!(
        row.get::<_, Vec<Option<String>>>("texts"),
        vec![Some("a".to_string()), None, Some("c".to_string())]
    );
    assert_eq!(row.get::<_, Option<i32>>("nothing"), None);
    assert_eq!(row.get::<_, Decimal>("dec"), Decimal::new(25, 1));
    let text = simple_rows(
        &client,
        "SELECT INTERVAL '1 month 2 days 3 hours', ARRAY[1,2]",
    )
    .await;
    assert_eq!(text[0][0].as_deref(), Some("1 mon 2 days 03:00:00"));
    assert_eq!(text[0][1].as_deref(), Some("{1,2}"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untyped_string_literals_compare_with_booleans() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE flags (a INT, f BOOLEAN); \
             INSERT INTO flags VALUES (1, true), (2, false), (3, NULL);",
        )
        .await
        .unwrap();
    for (sql, expected) in [
        ("SELECT a FROM flags WHERE f = 't'", "1"),
        ("SELECT a FROM flags WHERE 'false' = f", "2"),
        ("SELECT a FROM flags WHERE f <> 'yes'", "2"),
    ] {
        assert_eq!(
            simple_rows(&client, sql).await,
            vec![vec![Some(expected.to_string())]],
            "{sql}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_columns_have_postgres_names() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let statement = client
        .prepare("SELECT count(*), NULL, NULL, 1::int, 'x'::text FROM (VALUES (1)) v(a)")
        .await
        .unwrap();
    let names: Vec<&str> = statement.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["count", "?column?", "?column?", "int4", "text"]);
    let plan = simple_rows(&client, "EXPLAIN SELECT NULL, NULL").await;
    let text: Vec<String> = plan.into_iter().flatten().flatten().collect();
    assert!(text.iter().all(|line| !line.contains('\u{1}')), "{text:?}");
    // Subscripts and field selections are named as PostgreSQL 15 names them (FigureColname):
    // by the last field selected, else by what is indexed.
    let pg = crate::support::Postgres::start();
    let pg_client = pg.client().await;
    pg_client
        .batch_execute("CREATE TYPE pair AS (a int, b text)")
        .await
        .unwrap();
    let ours = server.client().await;
    assert_eq!(
        column_names(
            &ours,
            "SELECT arr[1], arr[2], (rec).a, rec FROM \
             (SELECT [1, 2] AS arr, named_struct('a', 1, 'b', 'x') AS rec) s"
        )
        .await,
        column_names(
            &pg_client,
            "SELECT arr[1], arr[2], (rec).a, rec FROM \
             (SELECT ARRAY[1, 2] AS arr, ROW(1, 'x')::pair AS rec) s"
        )
        .await
    );
    // A cast names its column by its type unless what it casts has a name; an outer cast's type
    // wins over an inner one's, a CASE takes its ELSE branch's name when that is a column's.
    let names = "SELECT '1'::int::text, 1.5::float8::numeric, a::text, (a + 1)::text, \
                 CASE WHEN a > 0 THEN 1 ELSE a END, CASE WHEN a > 0 THEN 1 END, \
                 CASE WHEN a > 0 THEN 1 ELSE 2::bigint END FROM (VALUES (1)) v(a)";
    assert_eq!(
        column_names(&ours, names).await,
        column_names(&pg_client, names).await
    );
    server.stop().await;
}

/// The result column names a prepared statement describes.
async fn column_names(client: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    client
        .prepare(sql)
        .await
        .unwrap()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect()
}

/// Maps, lists of lists and structs holding them (what Spark writes as MAP and ARRAY<ARRAY>)
/// reach the client as `jsonb`, in text (PostgreSQL's jsonb form, `{"a": 1}`) and in binary
/// format; plain lists stay arrays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maps_and_nested_lists_are_sent_as_jsonb() {
    let server = TestServer::start().await;
    let c = server.client().await;
    let sql = "SELECT map(['a', 'b'], [1, 2]) AS m, [[1, 2], [3]] AS l, \
               named_struct('x', 1, 'm', map([1], ['one'])) AS s, [1, 2] AS plain, \
               CAST(NULL AS int) AS n";
    // Text format (simple protocol), as psql and psycopg read it.
    assert_eq!(
        simple_rows(&c, sql).await,
        vec![vec![
            Some(r#"{"a": 1, "b": 2}"#.to_string()),
            Some("[[1, 2], [3]]".to_string()),
            Some(r#"{"m": {"1": "one"}, "x": 1}"#.to_string()),
            Some("{1,2}".to_string()),
            None,
        ]]
    );
    // Binary format (tokio-postgres's typed rows): jsonb values.
    let statement = c.prepare(sql).await.unwrap();
    let types: Vec<Type> = statement
        .columns()
        .iter()
        .map(|col| col.type_().clone())
        .collect();
    assert_eq!(
        &types[..4],
        &[Type::JSONB, Type::JSONB, Type::JSONB, Type::INT8_ARRAY]
    );
    let row = c.query_one(&statement, &[]).await.unwrap();
    let m: serde_json::Value = row.get(0);
    let l: serde_json::Value = row.get(1);
    let s: serde_json::Value = row.get(2);
    assert_eq!(m, serde_json::json!({"a": 1, "b": 2}));
    assert_eq!(l, serde_json::json!([[1, 2], [3]]));
    assert_eq!(s, serde_json::json!({"x": 1, "m": {"1": "one"}}));
    server.stop().await;
}

/// Casts to text (`::text`, `CAST(... AS varchar)`, `||`, `concat`) write what PostgreSQL 15's
/// output functions write: Arrow's cast had its own forms (`2024-01-01T10:00:00`, `1e20`,
/// `1 days 2 hours`, `[1, 2]`), wrong answers a client could not tell from right ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn casts_to_text_write_what_postgres_writes() {
    let pg = crate::support::Postgres::start();
    let p = pg.client().await;
    let server = TestServer::start().await;
    let c = server.client().await;
    const CASTS: &[&str] = &[
        "SELECT 1.0::float8::text, 1e20::float8::text, 0.00001::float8::text, \
         2.5::real::text, (0.1::float8 + 0.2::float8)::text, (-0.0)::float8::text",
        "SELECT TIMESTAMP '2024-01-01 10:00:00'::text, TIMESTAMP '2024-01-01 10:00:00.25'::text, \
         TIMESTAMPTZ '2024-06-01 10:00:00+00'::text, TIMESTAMPTZ '2024-06-01 10:00:00.5+02'::text",
        "SELECT TIME '10:00:01.5'::text, INTERVAL '1 day 2 hours'::text, \
         INTERVAL '14 months 3 days'::text, INTERVAL '90 minutes'::text, INTERVAL '0 days'::text",
        "SELECT ARRAY[1, 2, 3]::text, ARRAY['a b', 'c', '', NULL, 'x\"y', 'null']::text, \
         ARRAY[[1, 2], [3, 4]]::text, ARRAY[true, false]::text, ARRAY[1.5::float8, 1e20::float8]::text",
        "SELECT ARRAY[TIMESTAMP '2024-01-01 00:00:00']::text, ARRAY[]::int[]::text",
        "SELECT 'x' || 1.5::float8 AS a, concat('t=', TIMESTAMP '2024-01-01 00:00:00') AS b, \
         CAST(1e20::float8 AS varchar) AS c, decode('6869', 'hex')::text AS d",
        "SELECT true::text, 1::text, 1.50::numeric::text, DATE '2024-01-01'::text, 'a'::text",
    ];
    for sql in CASTS {
        assert_eq!(
            simple_rows(&c, sql).await,
            simple_rows(&p, sql).await,
            "{sql}"
        );
    }
    // A timestamptz is written in the session's time zone, also after set_config.
    // (Sent as a value too: the wire's text format had dropped the offset's minutes.)
    let zoned = "SELECT TIMESTAMPTZ '2024-06-01 10:00:00+00'::text, \
                 TIMESTAMPTZ '2024-06-01 10:00:00+00' AS v";
    for change in [
        "SET TimeZone = 'Asia/Kolkata'",
        "SELECT set_config('TimeZone', 'America/New_York', false)",
    ] {
        c.simple_query(change).await.unwrap();
        p.simple_query(change).await.unwrap();
        assert_eq!(
            simple_rows(&c, zoned).await,
            simple_rows(&p, zoned).await,
            "{change}"
        );
    }
    // Columns of a table, not only constants.
    let create = "CREATE TABLE casts (ts TIMESTAMPTZ, f DOUBLE PRECISION, a BIGINT[], b BYTEA)";
    let insert = "INSERT INTO casts VALUES \
                  ('2024-01-01 00:00:00+00', 1e20, ARRAY[1, NULL, 3], decode('00ff', 'hex')), \
                  (NULL, 0.5, NULL, NULL)";
    let select = "SELECT ts::text, f::text, a::text, b::text FROM casts ORDER BY f";
    for client in [&c, &p] {
        client.batch_execute(create).await.unwrap();
        client.batch_execute(insert).await.unwrap();
    }
    assert_eq!(simple_rows(&c, select).await, simple_rows(&p, select).await);
    server.stop().await;
}
