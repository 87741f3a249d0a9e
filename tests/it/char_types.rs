//! `varchar(n)` and `char(n)` columns and casts answer as PostgreSQL 15's (the oracle: the same
//! script on a PostgreSQL started by the test), and the declared type is Spark's own column
//! metadata, which Spark (the other oracle) reads back as the type and enforces.

use crate::support::{Postgres, TestServer, run_python, script_answers};

const SCRIPT: &[&str] = &[
    "CREATE TABLE vc (id INT, v VARCHAR(3), c CHAR(3), w CHARACTER VARYING(4), t TEXT)",
    "INSERT INTO vc VALUES (1, 'abc', 'ab', 'wxyz', 'x')",
    // Too long: refused, nothing written (22001).
    "INSERT INTO vc VALUES (2, 'abcd', 'a', 'w', 'x')",
    "INSERT INTO vc VALUES (3, 'abc', 'abcd', 'w', 'x'), (4, 'a', 'a', 'w', 'x')",
    // Past the length only spaces: cut.
    "INSERT INTO vc VALUES (5, 'ab  ', 'a    ', 'w', 'x')",
    "INSERT INTO vc (id, v) SELECT 6, 'long value'",
    "INSERT INTO vc (id, v) VALUES (7, 12345)",
    "INSERT INTO vc (id, v) VALUES (8, 123)",
    "SELECT id, v, c, w, length(v), length(c), c || '|', upper(c) FROM vc ORDER BY id",
    "SELECT id FROM vc WHERE c = 'a' ORDER BY id",
    "UPDATE vc SET v = 'toolong' WHERE id = 1",
    "UPDATE vc SET c = 'xy', v = v || 'z' WHERE id = 5",
    "UPDATE vc SET v = v || 'zz' WHERE id = 5",
    "MERGE INTO vc t USING (SELECT 1 AS id, 'way too long' AS v) s ON t.id = s.id \
     WHEN MATCHED THEN UPDATE SET v = s.v",
    "MERGE INTO vc t USING (SELECT 9 AS id, 'nine!' AS v) s ON t.id = s.id \
     WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)",
    "MERGE INTO vc t USING (SELECT 9 AS id, 'nin' AS v) s ON t.id = s.id \
     WHEN NOT MATCHED THEN INSERT (id, v, c) VALUES (s.id, s.v, 'n')",
    "SELECT id, v, c FROM vc ORDER BY id",
    // Explicit casts cut without an error; char without a length is char(1).
    "SELECT 'abcd'::varchar(3), 'abcd'::char(3), 'a'::char(3), CAST('abcdef' AS VARCHAR(2)), \
     'ab'::character varying(5), 'xyz'::char, 12345::varchar(3), 3.14159::char(4), \
     NULL::varchar(1), 'ab'::char(4) || '|'",
    // CTAS keeps the declared types, and they hold afterwards.
    "CREATE TABLE vc2 AS SELECT id, v::varchar(2) AS short, c FROM vc",
    "SELECT * FROM vc2 ORDER BY id",
    "INSERT INTO vc2 VALUES (10, 'abc', 'q')",
    "INSERT INTO vc2 VALUES (10, 'ab', 'q')",
    // ADD COLUMN and ALTER COLUMN TYPE between text types.
    "ALTER TABLE vc ADD COLUMN code CHAR(2)",
    "UPDATE vc SET code = 'abc' WHERE id = 1",
    "UPDATE vc SET code = 'a' WHERE id = 1",
    "ALTER TABLE vc ALTER COLUMN w TYPE VARCHAR(2)",
    "ALTER TABLE vc ALTER COLUMN w TYPE VARCHAR(10)",
    "INSERT INTO vc (id, w) VALUES (11, 'abcdefghij')",
    "ALTER TABLE vc ALTER COLUMN v TYPE TEXT",
    "INSERT INTO vc (id, v) VALUES (12, 'now any length')",
    "SELECT id, v, w, code FROM vc ORDER BY id",
    "SELECT column_name, data_type, character_maximum_length, character_octet_length \
     FROM information_schema.columns WHERE table_name IN ('vc', 'vc2') \
     ORDER BY table_name, ordinal_position",
    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute \
     WHERE attrelid = 'vc'::regclass AND attnum > 0 ORDER BY attnum",
];

#[tokio::test]
async fn varchar_and_char_lengths_hold_as_in_postgresql() {
    let pg = Postgres::start();
    let server = TestServer::start().await;
    let expected = script_answers(&pg.client().await, SCRIPT).await;
    let got = script_answers(&server.client().await, SCRIPT).await;
    for (e, g) in expected.iter().zip(&got) {
        assert_eq!(g, e);
    }

    // The message and the types a driver is told (VARCHAR / BPCHAR with the length as the type
    // modifier), as PostgreSQL says them.
    for client in [pg.client().await, server.client().await] {
        let error = client
            .execute("INSERT INTO vc2 (id, short) VALUES (1, 'xyz')", &[])
            .await
            .unwrap_err();
        let db = error.as_db_error().unwrap();
        assert_eq!(db.code().code(), "22001");
        assert_eq!(db.message(), "value too long for type character varying(2)");
        let statement = client
            .prepare("SELECT short, c, 'a'::char(5) AS k FROM vc2")
            .await
            .unwrap();
        let types: Vec<String> = statement
            .columns()
            .iter()
            .map(|c| c.type_().name().to_string())
            .collect();
        assert_eq!(types, ["varchar", "bpchar", "bpchar"]);
        let row = client
            .query_one("SELECT c, 'a'::char(5) FROM vc2 WHERE id = 1", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "ab ");
        assert_eq!(row.get::<_, String>(1), "a    ");
    }

    // Spark reads the declared types from the Delta log and enforces them on its own writes.
    let path = server.data_dir.join("public").join("vc2");
    let seen = run_python(&format!(
        "import json, tempfile\n\
         from deltalake import DeltaTable\n\
         from pyspark.sql import SparkSession\n\
         from pyspark.sql.types import StructType\n\
         schema = StructType.fromJson(json.loads(DeltaTable({path:?}).schema().to_json()))\n\
         spark = SparkSession.builder.master('local[1]').config('spark.ui.enabled', 'false')\
         .config('spark.sql.warehouse.dir', tempfile.mkdtemp()).getOrCreate()\n\
         spark.sparkContext.setLogLevel('OFF')\n\
         spark.catalog.createTable('vc2', schema=schema, source='parquet')\n\
         types = [r[1] for r in spark.sql('DESCRIBE vc2').collect()]\n\
         try:\n\
         \x20   spark.sql(\"INSERT INTO vc2 VALUES (1, 'abc', 'q')\")\n\
         \x20   refused = 'no'\n\
         except Exception as e:\n\
         \x20   refused = 'EXCEED_LIMIT_LENGTH' in str(e)\n\
         print(types, refused)",
        path = path.to_str().unwrap()
    ));
    assert_eq!(seen, "['int', 'varchar(2)', 'char(3)'] True");
    server.stop().await;
}
