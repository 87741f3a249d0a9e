//! Column defaults (`c type DEFAULT expr`) kept as Delta column defaults (`CURRENT_DEFAULT`
//! metadata, the `allowColumnDefaults` writer feature): written where INSERT, MERGE, UPDATE and
//! COPY leave a value out or say `DEFAULT`, checked when declared as PostgreSQL checks them, and
//! shown by the catalog. Rows and errors are PostgreSQL 15's own answers; the Delta form is read
//! back by the deltalake package and the stored text evaluated by Spark SQL.

use futures::SinkExt;

use crate::support::{TestServer, assert_same_as_postgres, run_python, simple_rows};

/// Omitted columns, `DEFAULT` in VALUES rows (all or some), `DEFAULT VALUES`, INSERT ... SELECT,
/// RETURNING, UPDATE / MERGE `= DEFAULT`, ALTER COLUMN SET / DROP DEFAULT, the checks made when
/// a default is declared, and what the catalog says of them.
#[tokio::test]
async fn column_defaults_answer_as_postgresql() {
    let script = [
        "CREATE TABLE d (id int, s text DEFAULT 'new', t timestamptz DEFAULT now(), \
         n numeric(10,2) DEFAULT 1.5, b boolean DEFAULT true, u uuid DEFAULT gen_random_uuid(), \
         j jsonb DEFAULT '{\"a\": 1}', v varchar(3) DEFAULT 'abc', dt date DEFAULT '2024-01-02', \
         k text DEFAULT 'k' || 'x', neg int DEFAULT -5, c int DEFAULT 1 + 1)",
        "INSERT INTO d (id) VALUES (1)",
        "INSERT INTO d VALUES (2, DEFAULT, DEFAULT, DEFAULT, DEFAULT, DEFAULT, DEFAULT, DEFAULT, \
         DEFAULT, DEFAULT, DEFAULT, DEFAULT)",
        "INSERT INTO d (id, s) VALUES (3, NULL), (4, DEFAULT), (5, 'given')",
        "INSERT INTO d DEFAULT VALUES",
        "INSERT INTO d (id) SELECT g FROM generate_series(10, 12) g",
        "INSERT INTO d (id, v) VALUES (20, 'zz') RETURNING id, s, n, b, v, dt, k, neg, c",
        "SELECT id, s, t IS NOT NULL AND t <= now(), n, b, length(u::text), j, v, dt, k, neg, c \
         FROM d ORDER BY id",
        "SELECT count(DISTINCT u) = count(*) FROM d",
        "UPDATE d SET s = DEFAULT, neg = 7 WHERE id = 3",
        "SELECT id, s, neg FROM d WHERE id = 3",
        "CREATE TABLE src (id int, s text)",
        "INSERT INTO src VALUES (1, 'merged'), (30, 'inserted')",
        "MERGE INTO d USING src ON d.id = src.id \
         WHEN MATCHED THEN UPDATE SET s = src.s, neg = DEFAULT \
         WHEN NOT MATCHED THEN INSERT (id) VALUES (src.id)",
        "SELECT id, s, n, neg, c FROM d WHERE id IN (1, 30) ORDER BY id",
        // Array values in MERGE: a default and a typed literal.
        "CREATE TABLE arr (id int, a int[] DEFAULT '{1,2}', b int[])",
        "MERGE INTO arr USING src ON arr.id = src.id \
         WHEN NOT MATCHED THEN INSERT (id, b) VALUES (src.id, '{3,4}'::int[])",
        "MERGE INTO arr USING src ON arr.id = src.id \
         WHEN MATCHED THEN UPDATE SET b = ARRAY[5], a = DEFAULT",
        "SELECT * FROM arr ORDER BY id",
        "ALTER TABLE d ALTER COLUMN id SET DEFAULT 42",
        "INSERT INTO d (s) VALUES ('z')",
        "SELECT id, s FROM d WHERE s = 'z'",
        "ALTER TABLE d ALTER COLUMN id DROP DEFAULT",
        "ALTER TABLE d ALTER COLUMN s SET DEFAULT NULL",
        "INSERT INTO d (neg) VALUES (100)",
        "SELECT id, s, neg FROM d WHERE neg = 100",
        "ALTER TABLE d ALTER COLUMN n SET DEFAULT 'x'",
        "ALTER TABLE d ALTER COLUMN n SET DEFAULT true",
        // What the catalog says (quoted literals with their type, as PostgreSQL shows them).
        "SELECT column_name, column_default FROM information_schema.columns \
         WHERE table_name = 'd' AND column_name IN ('id', 's', 't', 'n', 'b', 'neg', 'v') \
         ORDER BY ordinal_position",
        "SELECT a.attname, a.atthasdef, pg_get_expr(ad.adbin, ad.adrelid) FROM pg_attribute a \
         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
         WHERE a.attrelid = 'd'::regclass AND a.attname IN ('id', 's', 't', 'n', 'b', 'v') \
         ORDER BY a.attnum",
        // Checked when declared.
        "CREATE TABLE bad (a int DEFAULT 'abc')",
        "CREATE TABLE bad (a int DEFAULT true)",
        "CREATE TABLE bad (a timestamptz DEFAULT 5)",
        "CREATE TABLE bad (a int DEFAULT a)",
        "CREATE TABLE bad (a int DEFAULT (SELECT 1))",
        "CREATE TABLE bad (a int DEFAULT max(1))",
        "CREATE TABLE bad (a bigint GENERATED ALWAYS AS IDENTITY DEFAULT 5)",
        "CREATE TABLE bad (a int, b int GENERATED ALWAYS AS (a * 2) STORED DEFAULT 5)",
        "CREATE TABLE bad (a uuid DEFAULT 'nope')",
        // Computed by the writes that use them, as PostgreSQL computes them.
        "CREATE TABLE late (id int, a varchar(2) DEFAULT 'abc', b int DEFAULT 2147483648)",
        "INSERT INTO late (id, b) VALUES (1, 1)",
        "INSERT INTO late (id, a) VALUES (2, 'x')",
        "INSERT INTO late (id, a, b) VALUES (3, 'y', 3)",
        "SELECT * FROM late",
        // With an identity column beside them.
        "CREATE TABLE ident (a bigint GENERATED ALWAYS AS IDENTITY, b text DEFAULT 'x', c int)",
        "INSERT INTO ident (c) VALUES (1), (2)",
        "INSERT INTO ident DEFAULT VALUES",
        "SELECT * FROM ident ORDER BY a",
        // CREATE TABLE ... AS and LIKE make plain columns: no default, identity or generation
        // expression (they were copied without their table features); AS drops NOT NULL too.
        "CREATE TABLE copied AS SELECT * FROM d",
        "INSERT INTO copied (id) VALUES (99)",
        "SELECT id, s, n, b, neg FROM copied WHERE id = 99",
        "CREATE TABLE liked (LIKE d)",
        "INSERT INTO liked (id) VALUES (98)",
        "SELECT id, s, n, b, neg FROM liked",
        "CREATE TABLE ident_copy AS SELECT * FROM ident",
        "INSERT INTO ident_copy (c) VALUES (5)",
        "SELECT * FROM ident_copy ORDER BY c",
        "CREATE TABLE nn (x int NOT NULL)",
        "CREATE TABLE nn_as AS SELECT * FROM nn",
        "INSERT INTO nn_as VALUES (NULL)",
        "CREATE TABLE nn_like (LIKE nn)",
        "INSERT INTO nn_like VALUES (NULL)",
        "SELECT count(*) FROM nn_as",
        // Column lists that do not fit, and DEFAULT for a column without a default.
        "CREATE TABLE plain (a timestamptz, b int)",
        "INSERT INTO plain VALUES (DEFAULT, 5)",
        "INSERT INTO plain (b, b) VALUES (1, 2)",
        "INSERT INTO plain (a, b) VALUES (now(), 1, 2)",
        "INSERT INTO plain (a, b) VALUES (now())",
        "SELECT * FROM plain",
    ];
    assert_same_as_postgres(&script).await;
}

/// The table keeps Delta's form: the deltalake package sees the `allowColumnDefaults` writer
/// feature and each default as Spark SQL text in `CURRENT_DEFAULT`; Spark SQL computes from that
/// text the values our writes stored; COPY fills the columns its list leaves out; a restart
/// keeps the defaults.
#[tokio::test]
async fn defaults_are_delta_column_defaults_that_spark_computes_alike() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on(dir.path()).await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE dd (id int, s text DEFAULT 'new', n bigint DEFAULT 40 + 2, \
             x double precision DEFAULT 1.5, flag boolean DEFAULT false, \
             day date DEFAULT '2024-03-01', \"Odd\" text DEFAULT upper('odd'))",
        )
        .await
        .unwrap();
    let sink = client.copy_in("COPY dd (id) FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"1\n2\n"))
        .await
        .unwrap();
    assert_eq!(sink.finish().await.unwrap(), 2);
    let sink = client
        .copy_in("COPY dd (id, s) FROM STDIN WITH (FORMAT csv)")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"3,given\n4,\n"))
        .await
        .unwrap();
    assert_eq!(sink.finish().await.unwrap(), 2);
    let expected = |rows: &[(&str, Option<&str>)]| -> Vec<Vec<Option<String>>> {
        rows.iter()
            .map(|(id, s)| {
                vec![
                    Some(id.to_string()),
                    s.map(str::to_string),
                    Some("42".into()),
                    Some("1.5".into()),
                    Some("f".into()),
                    Some("2024-03-01".into()),
                    Some("ODD".into()),
                ]
            })
            .collect()
    };
    let rows = [
        ("1", Some("new")),
        ("2", Some("new")),
        ("3", Some("given")),
        ("4", None),
    ];
    assert_eq!(
        simple_rows(&client, "SELECT * FROM dd ORDER BY id").await,
        expected(&rows)
    );
    drop(client);
    server.stop().await;
    let server = TestServer::start_on(dir.path()).await;
    let client = server.client().await;
    client
        .batch_execute("INSERT INTO dd (id) VALUES (5)")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&client, "SELECT * FROM dd WHERE id = 5").await,
        expected(&[("5", Some("new"))])
    );
    // SHOW CREATE TABLE's DDL keeps the defaults: the table it makes fills the same values.
    let ddl = simple_rows(&client, "SHOW CREATE TABLE dd").await[0][0]
        .clone()
        .unwrap();
    assert!(ddl.contains("\"s\" text DEFAULT 'new'"), "{ddl}");
    client
        .batch_execute(&ddl.replace("\"public\".\"dd\"", "\"public\".\"dd2\""))
        .await
        .unwrap_or_else(|e| panic!("{ddl}: {e}"));
    client
        .batch_execute("INSERT INTO dd2 (id) VALUES (5)")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&client, "SELECT * FROM dd2").await,
        expected(&[("5", Some("new"))])
    );
    let path = dir.path().join("public").join("dd");
    let seen = run_python(&format!(
        "from deltalake import DeltaTable\n\
         from pyspark.sql import SparkSession\n\
         t = DeltaTable({path:?})\n\
         p = t.protocol()\n\
         defaults = {{f.name: f.metadata['CURRENT_DEFAULT'] for f in t.schema().fields\n\
                     if 'CURRENT_DEFAULT' in f.metadata}}\n\
         print(p.min_writer_version, 'allowColumnDefaults' in (p.writer_features or []))\n\
         print(sorted(defaults.items()))\n\
         spark = SparkSession.builder.master('local[1]').config('spark.ui.enabled', 'false').getOrCreate()\n\
         spark.sparkContext.setLogLevel('OFF')\n\
         row = t.to_pyarrow_table().filter(__import__('pyarrow.compute', fromlist=['x']).field('id') == 5).to_pylist()[0]\n\
         bad = []\n\
         for column, text in defaults.items():\n\
         \x20   value = spark.sql('SELECT ' + text + ' AS v').collect()[0]['v']\n\
         \x20   if str(value) != str(row[column]):\n\
         \x20       bad.append((column, text, row[column], value))\n\
         print(bad)",
        path = path.to_str().unwrap()
    ));
    assert_eq!(
        seen,
        "7 True\n\
         [('Odd', \"upper('odd')\"), ('day', \"'2024-03-01'\"), ('flag', 'false'), \
         ('n', '40 + 2'), ('s', \"'new'\"), ('x', '1.5')]\n\
         []"
    );
}

/// Columns added with a default would need every existing row rewritten: refused with a way
/// forward, and the table is unchanged; a temporary table's default is refused too.
#[tokio::test]
async fn defaults_that_are_not_kept_are_refused() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute("CREATE TABLE a (id int); INSERT INTO a VALUES (1)")
        .await
        .unwrap();
    crate::support::expect_sqlstate(&client, "ALTER TABLE a ADD COLUMN e int DEFAULT 7", "0A000")
        .await;
    crate::support::expect_sqlstate(&client, "CREATE TEMP TABLE tt (a int DEFAULT 1)", "0A000")
        .await;
    assert_eq!(
        simple_rows(&client, "SELECT * FROM a").await,
        vec![vec![Some("1".into())]]
    );
}

/// SHOW CREATE TABLE writes each made column's clause (default, generated expression, identity),
/// and its DDL makes a table that fills the same values.
#[tokio::test]
async fn show_create_table_keeps_made_columns() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE made (id bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 10 INCREMENT BY 5), \
             \"select\" numeric(10,2), qty int DEFAULT 1, \
             total numeric(20,2) GENERATED ALWAYS AS (\"select\" * qty) STORED)",
        )
        .await
        .unwrap();
    let ddl = simple_rows(&client, "SHOW CREATE TABLE made").await[0][0]
        .clone()
        .unwrap();
    for clause in [
        "\"id\" bigint NOT NULL GENERATED BY DEFAULT AS IDENTITY (START WITH 10 INCREMENT BY 5)",
        "\"qty\" integer DEFAULT 1",
        "\"total\" numeric(20,2) GENERATED ALWAYS AS (\"select\" * \"qty\") STORED",
    ] {
        assert!(ddl.contains(clause), "{clause} in {ddl}");
    }
    client
        .batch_execute(&ddl.replace("\"public\".\"made\"", "\"public\".\"again\""))
        .await
        .unwrap_or_else(|e| panic!("{ddl}: {e}"));
    for table in ["made", "again"] {
        client
            .batch_execute(&format!(
                "INSERT INTO {table} (\"select\") VALUES (2.50); \
                 INSERT INTO {table} (\"select\", qty) VALUES (1.00, 3)"
            ))
            .await
            .unwrap();
    }
    let rows = |table: &str| format!("SELECT * FROM {table} ORDER BY id");
    assert_eq!(
        simple_rows(&client, &rows("again")).await,
        simple_rows(&client, &rows("made")).await
    );
    assert_eq!(
        simple_rows(&client, &rows("made")).await,
        vec![
            vec![
                Some("10".into()),
                Some("2.50".into()),
                Some("1".into()),
                Some("2.50".into())
            ],
            vec![
                Some("15".into()),
                Some("1.00".into()),
                Some("3".into()),
                Some("3.00".into())
            ],
        ]
    );
}

/// A default set by ALTER COLUMN is stored as written (Spark writers read the text), not in the
/// forms the dialect gives a query (`'{}'::jsonb` was stored as an internal `pg_jsonb(...)`),
/// and still fills the values as PostgreSQL does.
#[tokio::test]
async fn a_default_set_by_alter_is_kept_as_written() {
    let server = TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(
            "CREATE TABLE ad (id int, j jsonb, a int[]); \
             ALTER TABLE ad ALTER COLUMN j SET DEFAULT '{\"a\": 1}'::jsonb; \
             ALTER TABLE ad ALTER COLUMN a SET DEFAULT '{1,2}'::int[]; \
             INSERT INTO ad (id) VALUES (1)",
        )
        .await
        .unwrap();
    assert_eq!(
        simple_rows(
            &client,
            "SELECT column_default FROM information_schema.columns \
             WHERE table_name = 'ad' AND column_name IN ('j', 'a') ORDER BY ordinal_position"
        )
        .await,
        vec![
            vec![Some("'{\"a\": 1}'::JSONB".into())],
            vec![Some("'{1,2}'::INT[]".into())]
        ]
    );
    assert_eq!(
        simple_rows(&client, "SELECT id, j, a FROM ad").await,
        vec![vec![
            Some("1".into()),
            Some("{\"a\": 1}".into()),
            Some("{1,2}".into())
        ]]
    );
}
