//! `json` / `jsonb` held to PostgreSQL 15's own answers (issue 14): casts that check and (for
//! jsonb) rewrite documents, `->`, `->>`, `#>`, `#>>`, `json[b]_extract_path[_text]`,
//! `json[b]_typeof`, `json[b]_array_length`, `to_json[b]`, `json[b]_build_object/array`,
//! `json[b]_agg`, `@>`, `<@`, `?`, `json[b]_array_elements[_text]`, `json[b]_object_keys`,
//! `json[b]_object_agg`, `jsonb_set`, the set-returning ones and `json[b]_each[_text]` in FROM
//! (also over a table's rows), on literals and on a table's text column, errors
//! by SQLSTATE. Documents are stored as text; a column declared json or jsonb reads as
//! PostgreSQL's `json` (text kept as written).

use crate::support::{Postgres, TestServer, script_answers};

const SCRIPT: &[&str] = &[
    // Casts: json keeps the text, jsonb writes its own form; bad documents are 22P02.
    r#"SELECT '{"b":1,  "a":[1, 2.50, 1e2, -0, true, null]}'::json"#,
    r#"SELECT '{"b":1,  "a":[1, 2.50, 1e2, -0, -0.0, true, null], "b":"x"}'::jsonb"#,
    r#"SELECT '{"aa":1,"b":2,"a":3}'::jsonb"#,
    r#"SELECT '"tab\tquote\" é \u00e9 \ud83d\ude00"'::jsonb"#,
    r#"SELECT '[1.5E-3, 12e2, 0.000, 123456789012345678901234567890]'::jsonb"#,
    r#"SELECT CAST('[]' AS jsonb), CAST(' {} ' AS json)"#,
    r#"SELECT '{"a":}'::json"#,
    r#"SELECT '[1,]'::jsonb"#,
    r#"SELECT 'nope'::json"#,
    r#"SELECT '01'::json"#,
    // -> and ->> by key and index.
    r#"SELECT '{"a": {"b":  [10, "x", null]}}'::json -> 'a'"#,
    r#"SELECT '{"a": {"b":  [10, "x", null]}}'::jsonb -> 'a'"#,
    r#"SELECT '{"a": {"b":  [10, "x", null]}}'::json -> 'a' -> 'b' -> 1"#,
    r#"SELECT '{"a": {"b":  [10, "x", null]}}'::json -> 'a' -> 'b' ->> 1"#,
    r#"SELECT '{"a": {"b":  [10, "x", null]}}'::json -> 'a' -> 'b' -> -1"#,
    r#"SELECT ('{"a": {"b":  [10, "x", null]}}'::json -> 'a' -> 'b' ->> 2) IS NULL"#,
    r#"SELECT '{"a": {"b":  [10, "x", null]}}'::json -> 'a' -> 'b' -> 5"#,
    r#"SELECT '{"a": {"b":  [10, "x", null]}}'::json -> 'a' -> 'b' -> -4"#,
    r#"SELECT '{"a": 1}'::json -> 'missing'"#,
    r#"SELECT '{"a": 1, "a": 2}'::json ->> 'a'"#,
    r#"SELECT '{"0": "zero"}'::json -> 0"#,
    r#"SELECT '[1, 2]'::json -> 'a'"#,
    r#"SELECT '"str"'::json -> 'a'"#,
    r#"SELECT '{"s": "line\nnext \"q\""}'::json ->> 's'"#,
    r#"SELECT '{"o": {"k": [1, 2]}}'::json ->> 'o'"#,
    r#"SELECT '{"n": 1.50}'::json ->> 'n', '{"n": 1.50}'::jsonb ->> 'n'"#,
    r#"SELECT '{"t": true}'::json ->> 't'"#,
    // Paths.
    r#"SELECT '{"a": {"b": [10, {"c": "deep"}]}}'::json #> '{a,b,1}'"#,
    r#"SELECT '{"a": {"b": [10, {"c": "deep"}]}}'::json #>> '{a,b,1,c}'"#,
    r#"SELECT '{"a": {"b": [10, {"c": "deep"}]}}'::json #>> '{a,b,-1,c}'"#,
    r#"SELECT '{"a": {"b": [10, {"c": "deep"}]}}'::json #> '{a,x}'"#,
    r#"SELECT '{"a": {"b": [10, {"c": "deep"}]}}'::json #> '{}'"#,
    r#"SELECT '{"a b": {"1": "one"}}'::json #>> '{"a b",1}'"#,
    r#"SELECT json_extract_path('{"a": {"b": [10, 20]}}', 'a', 'b', '1')"#,
    r#"SELECT json_extract_path_text('{"a": {"b": "x"}}', 'a', 'b')"#,
    r#"SELECT jsonb_extract_path_text('{"a": {"b": "x"}}', 'a', 'b')"#,
    // typeof, array_length.
    r#"SELECT json_typeof('{}'), json_typeof('[]'), json_typeof('1'), json_typeof('"s"'), json_typeof('true'), json_typeof('null')"#,
    r#"SELECT jsonb_typeof('{"a":1}'::jsonb -> 'a')"#,
    r#"SELECT json_array_length('[1, [2, 3], {}]'), jsonb_array_length('[]')"#,
    r#"SELECT json_array_length('{"a": 1}')"#,
    // A table's column.
    r#"CREATE TABLE docs (id INT, doc json)"#,
    r#"INSERT INTO docs VALUES (1, '{"name": "ada", "tags": ["x", "y"], "n": 3}'), (2, '{"name": "bob", "tags": []}'), (3, NULL)"#,
    r#"SELECT id, doc ->> 'name', doc -> 'tags' -> 0, doc #>> '{tags,1}', (doc ->> 'n')::int + 1 FROM docs ORDER BY id"#,
    r#"SELECT count(*) FROM docs WHERE doc ->> 'name' = 'ada'"#,
    r#"SELECT id FROM docs WHERE json_array_length(doc -> 'tags') = 0"#,
    r#"SELECT count(*) FROM docs WHERE doc::jsonb @> '{"name": "ada"}'"#,
    r#"SELECT id FROM docs WHERE doc::jsonb ? 'n' ORDER BY id"#,
    r#"SELECT json_build_object('id', id, 'doc', doc::json) FROM docs WHERE id = 1"#,
    r#"DROP TABLE docs"#,
    // Building JSON from values.
    r#"SELECT json_build_object('a', 1, 'b', 'x', 'c', NULL, 'd', true, 'e', 2.50)"#,
    r#"SELECT jsonb_build_object('b', 1, 'a', 'x', 'aa', 1.50, 'a', 2)"#,
    r#"SELECT json_build_object('doc', '{"k": [1, 2]}'::json, 'txt', '{"k": 1}'::text)"#,
    r#"SELECT jsonb_build_object('doc', '{"k":  [1, 2]}'::json -> 'k')"#,
    r#"SELECT json_build_array(1, 'two'::text, NULL, 3.5::float8, '{"x":1}'::jsonb)"#,
    r#"SELECT jsonb_build_array(1, 'two'::text, NULL, 1e20::float8)"#,
    r#"SELECT to_json('say "hi"'::text), to_json(42), to_json(1.5::float8), to_json('NaN'::float8), to_jsonb(2.50)"#,
    r#"SELECT to_json(DATE '2024-02-29'), to_json(TIMESTAMP '2024-02-29 10:11:12.5')"#,
    r#"SELECT json_build_object('a', 1, 'b')"#,
    r#"SELECT json_build_object(NULL::text, 1)"#,
    r#"CREATE TABLE pets (id INT, name TEXT, kind TEXT, weight DOUBLE PRECISION)"#,
    r#"INSERT INTO pets VALUES (1, 'rex', 'dog', 12.5), (2, 'tom', 'cat', 4), (3, 'kit', 'cat', NULL)"#,
    r#"SELECT kind, json_agg(name ORDER BY name) FROM pets GROUP BY kind ORDER BY kind"#,
    r#"SELECT jsonb_agg(weight ORDER BY id) FROM pets"#,
    r#"SELECT json_agg(json_build_object('id', id, 'name', name) ORDER BY id) FROM pets"#,
    r#"SELECT json_agg(name ORDER BY id) FILTER (WHERE kind = 'cat') FROM pets"#,
    r#"SELECT json_agg(name) IS NULL FROM pets WHERE id > 10"#,
    r#"SELECT json_agg(DISTINCT kind ORDER BY kind) FROM pets"#,
    r#"SELECT jsonb_agg(DISTINCT weight ORDER BY weight) FROM pets"#,
    r#"SELECT json_agg(x ORDER BY x) FROM (SELECT ARRAY[id, id * 2] AS x FROM pets) s"#,
    r#"SELECT jsonb_agg(jsonb_build_object('k', kind, 'w', weight)) FROM pets WHERE id = 1"#,
    r#"DROP TABLE pets"#,
    // Containment and existence.
    r#"SELECT '{"a":1,"b":{"c":[1,2,3]}}'::jsonb @> '{"b":{"c":[3]}}'::jsonb"#,
    r#"SELECT '{"a":1}'::jsonb @> '{"a":1.0}'::jsonb, '[1,2,[3]]'::jsonb @> '[[3]]'::jsonb, '["x","y"]'::jsonb @> '"x"'::jsonb, '"x"'::jsonb @> '["x"]'::jsonb"#,
    r#"SELECT '{"b":2}'::jsonb <@ '{"a":1,"b":2}'::jsonb, '{"a":{"b":1}}'::jsonb @> '{"a":{}}'::jsonb, '{"a":1}'::jsonb @> '{"a":"1"}'::jsonb"#,
    r#"SELECT '{"a":1}'::jsonb ? 'a', '["a","b"]'::jsonb ? 'b', '[1]'::jsonb ? '1', '"s"'::jsonb ? 's', '{"a":{"b":1}}'::jsonb ? 'b'"#,
    r#"SELECT '{"a":1,"b":2}'::jsonb ?| ARRAY['a','x'], '{"a":1}'::jsonb ?& ARRAY['a','x'], '{"a":1}'::jsonb ?| ARRAY[]::text[], '{"a":1}'::jsonb ?& ARRAY[]::text[]"#,
    r#"SELECT '["a","b"]'::jsonb ?& ARRAY['a','b'], '{"a":1}'::jsonb ?| ARRAY['a', NULL], '{"a":1}'::jsonb ?& ARRAY['a', NULL], '"a"'::jsonb ?| ARRAY['a'], ('{"a":1}'::jsonb ?| NULL::text[]) IS NULL"#,
    r#"SELECT '1'::jsonb -> 0, '"a"'::jsonb ->> -1, '1'::jsonb -> 1, '1'::json -> 0, 'null'::jsonb -> 0, '1'::jsonb #> '{0}'"#,
    // A document's pieces as rows: elements (json as written, jsonb in its form), as text,
    // keys (json in document order with duplicates, jsonb sorted once each); errors 22023.
    r#"SELECT json_array_elements('[1, {"b" :  2}, "x", null, [true]]')"#,
    r#"SELECT jsonb_array_elements('[1, {"b" :  2}, "x", null, [true]]')"#,
    r#"SELECT json_array_elements_text('[1, {"b" :  2}, "x", null]'), 'k' AS k"#,
    r#"SELECT jsonb_array_elements_text('["a"q", 2.50]')"#,
    r#"SELECT json_object_keys('{"bb":1,"a":2,"a":3}')"#,
    r#"SELECT jsonb_object_keys('{"bb":1,"a":2,"a":3}')"#,
    r#"SELECT json_array_elements('[]'), json_array_elements(NULL)"#,
    r#"SELECT jsonb_array_elements('{"a":1}')"#,
    r#"SELECT json_array_elements_text('1')"#,
    r#"SELECT jsonb_object_keys('[1]')"#,
    r#"CREATE TABLE orders_json (id INT, doc json)"#,
    r#"INSERT INTO orders_json VALUES (1, '{"lines": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}'), (2, '{"lines": [{"sku": "a", "qty": 5}]}'), (3, '{"lines": []}')"#,
    r#"SELECT id, jsonb_array_elements(doc::jsonb -> 'lines') ->> 'sku' AS sku FROM orders_json ORDER BY id, sku"#,
    r#"SELECT line ->> 'sku' AS sku, sum((line ->> 'qty')::int) FROM (SELECT json_array_elements(doc -> 'lines') AS line FROM orders_json) s GROUP BY 1 ORDER BY 1"#,
    r#"SELECT id, jsonb_object_keys(doc::jsonb) FROM orders_json ORDER BY id"#,
    // The same functions in FROM, and json[b]_each[_text]: on constants, and over the rows of
    // the relation before them (PostgreSQL's implicit LATERAL, CROSS JOIN LATERAL, JOIN LATERAL
    // ON true); a row whose document has no elements gives no row.
    r#"SELECT * FROM jsonb_array_elements('[1, "a", null, {"b" : 2}]')"#,
    r#"SELECT value, e.value FROM json_array_elements('[1, {"b" :  2}]') AS e"#,
    r#"SELECT e FROM jsonb_array_elements_text('["a", 1, null]') AS e"#,
    r#"SELECT * FROM jsonb_object_keys('{"bb": 1, "a": 2}')"#,
    r#"SELECT k, upper(k) FROM json_object_keys('{"b": 1, "a": 2, "b": 3}') AS k"#,
    r#"SELECT * FROM jsonb_each('{"bb": 1, "a": [2], "bb": {"x" : 3}}')"#,
    r#"SELECT key, value FROM json_each('{"b": 1, "a": [2 ], "b": 3}')"#,
    r#"SELECT * FROM jsonb_each_text('{"a": "x", "b": null, "c": 1.50}') AS e(k, v)"#,
    r#"SELECT e.* FROM json_each_text('{"a": "x", "b": [1]}') e"#,
    r#"SELECT * FROM jsonb_each('[1]')"#,
    r#"SELECT * FROM json_each('"s"')"#,
    r#"CREATE TABLE jdocs (id INT, doc jsonb)"#,
    r#"INSERT INTO jdocs VALUES (1, '{"items": [1, 2], "tag": "x"}'), (2, '{"items": [], "tag": "y"}'), (3, '{"items": ["z"]}')"#,
    r#"SELECT d.id, i.value FROM jdocs d, jsonb_array_elements(d.doc -> 'items') AS i ORDER BY d.id, i.value::text"#,
    r#"SELECT id, e.key, e.value FROM jdocs CROSS JOIN LATERAL jsonb_each(jdocs.doc) AS e ORDER BY id, key"#,
    r#"SELECT id, k FROM jdocs, jsonb_object_keys(doc) AS k ORDER BY id, k"#,
    r#"SELECT d.*, i.* FROM jdocs d JOIN LATERAL jsonb_array_elements_text(d.doc -> 'items') i ON true ORDER BY 1, 3"#,
    r#"SELECT * FROM jdocs d, jsonb_each_text(d.doc) ORDER BY 1, 3"#,
    r#"SELECT i.value ->> 0, count(*) FROM jdocs d, jsonb_array_elements(d.doc -> 'items') i WHERE d.id < 3 GROUP BY 1 ORDER BY 1"#,
    r#"DROP TABLE jdocs"#,
    // Rows as one object: json in row order with every pair, jsonb sorted, last duplicate kept.
    r#"SELECT json_object_agg(id, doc -> 'lines' -> 0 ORDER BY id) FROM orders_json"#,
    r#"DROP TABLE orders_json"#,
    r#"SELECT json_object_agg(k, v), jsonb_object_agg(k, v) FROM (VALUES ('b', 1), ('a', 2), ('b', 3)) t(k, v)"#,
    r#"SELECT json_object_agg(k, v) FROM (VALUES (1, 'x'::text), (2, NULL)) t(k, v)"#,
    r#"SELECT json_object_agg(k, v ORDER BY k DESC) FILTER (WHERE k <> 'c') FROM (VALUES ('a', 1.5), ('b', 2.0), ('c', 3.0)) t(k, v)"#,
    r#"SELECT json_object_agg(k, v) IS NULL FROM (SELECT 'a', 1 WHERE false) t(k, v)"#,
    r#"SELECT g, jsonb_object_agg(k, v) FROM (VALUES (1, 'a', '{"x":1}'::jsonb), (1, 'b', '[1,2]'::jsonb), (2, 'c', 'null'::jsonb)) t(g, k, v) GROUP BY g ORDER BY g"#,
    r#"SELECT json_object_agg(k, v) FROM (VALUES (NULL::text, 1)) t(k, v)"#,
    // jsonb_set: replace, add a missing last key, negative and out-of-range indexes, no create.
    r#"SELECT jsonb_set('{"a":{"b":1},"c":[1,2]}', '{a,b}', '2.50'), jsonb_set('{"a":1}', '{x}', '"n"'), jsonb_set('{"a":1}', '{x}', '"n"', false)"#,
    r#"SELECT jsonb_set('[1,2,3]', '{-1}', '9'), jsonb_set('[1,2]', '{5}', '9'), jsonb_set('[1,2]', '{-5}', '9'), jsonb_set('{"a":1}', '{x,y}', '1')"#,
    r#"SELECT jsonb_set('{"a":[1,{"k":0}]}', ARRAY['a','1','k'], '{"z": null}'), jsonb_set('{"a":1}', '{a}', NULL) IS NULL"#,
    r#"SELECT jsonb_set('{"a":1,"a":2}', '{a}', '5'), jsonb_set('{"a":{"x":1},"a":{"y":2}}', '{a,z}', '1'), jsonb_set('[]', '{0}', '1'), jsonb_set('{}', '{k}', '[1, {"b":1,"a":0}]')"#,
    r#"SELECT jsonb_set('1', '{a}', '2')"#,
    r#"SELECT jsonb_set('[1]', '{x}', '2')"#,
    // Columns declared json / jsonb: every write checks its values (22P02, nothing written),
    // jsonb stores its form; the catalog names the declared types, CTAS keeps them.
    r#"CREATE TABLE jd (id INT, doc jsonb, j json)"#,
    r#"INSERT INTO jd VALUES (1, '{"b":1, "a":[1, 2.50]}', '{"b" : 1}')"#,
    r#"INSERT INTO jd VALUES (2, 'nope', '{}')"#,
    r#"INSERT INTO jd VALUES (3, '{}', 'bad json')"#,
    r#"INSERT INTO jd VALUES (4, NULL, NULL) RETURNING doc"#,
    r#"INSERT INTO jd VALUES (5, '{"z":1,"a":2}', '[1]') RETURNING doc, j"#,
    r#"INSERT INTO jd SELECT 6, '{"s":  1}', '{"s":  1}'"#,
    r#"UPDATE jd SET doc = 'x' WHERE id = 1"#,
    r#"UPDATE jd SET doc = '{"k":  true, "a": 0}' WHERE id = 1"#,
    r#"MERGE INTO jd USING (VALUES (1, '[3, 2]'), (7, '{"new" :  1}')) s(id, d) ON jd.id = s.id WHEN MATCHED THEN UPDATE SET doc = s.d::jsonb WHEN NOT MATCHED THEN INSERT (id, doc, j) VALUES (s.id, s.d::jsonb, s.d::json)"#,
    r#"MERGE INTO jd USING (VALUES (8, 'broken')) s(id, d) ON jd.id = s.id WHEN NOT MATCHED THEN INSERT (id, doc) VALUES (s.id, s.d::jsonb)"#,
    r#"SELECT id, doc, j, doc -> 'new', doc ->> 0 FROM jd ORDER BY id"#,
    r#"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'jd' ORDER BY ordinal_position"#,
    r#"SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'jd'::regclass AND attnum > 0 ORDER BY attnum"#,
    r#"SELECT id FROM jd WHERE doc = '{"new":1}' OR doc = '[3,2]' ORDER BY id"#,
    r#"SELECT id, doc <> '{ "s" : 1 }', '{"a":2,"z":1}' = doc FROM jd WHERE doc IS NOT NULL ORDER BY id"#,
    r#"SELECT '{"a":1, "b":2}'::jsonb = '{"b":2,"a":1}', jsonb_build_object('x', 1) = '{"x":1}'"#,
    r#"SELECT id FROM jd WHERE doc = 'not json'"#,
    // Ordering documents: PostgreSQL orders jsonb by its own rules, json not at all; here an
    // error rather than an order of texts ('[10]' > '[9]' is true, '2'::jsonb > '10' false).
    r#"SELECT '{"a":1}'::json < '{"b":1}'::json"#,
    r#"SELECT d FROM (VALUES ('2'::json), ('10'::json)) t(d) ORDER BY d"#,
    r#"SELECT max(d) FROM (VALUES ('2'::jsonb), ('10'::jsonb)) t(d)"#,
    r#"SELECT min(j) FROM jd"#,
    r#"CREATE TABLE jd2 AS SELECT id, doc, j FROM jd WHERE id = 1"#,
    r#"SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'jd2' ORDER BY ordinal_position"#,
    r#"DROP TABLE jd2"#,
    r#"DROP TABLE jd"#,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_answers_as_postgres_does() {
    let pg = Postgres::start();
    let server = TestServer::start().await;
    let expected = script_answers(&pg.client().await, SCRIPT).await;
    let got = script_answers(&server.client().await, SCRIPT).await;
    let diffs: Vec<String> = expected
        .iter()
        .zip(&got)
        .filter(|(e, g)| e != g)
        .map(|(e, g)| format!("PostgreSQL: {e}\ndeltagres:  {g}"))
        .collect();
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
    server.stop().await;
}

/// Documents a query makes (casts, builders, aggregates, `->`, elements) reach the client typed
/// json / jsonb as PostgreSQL types them, so drivers parse them (psycopg into dicts and lists);
/// binary format here (tokio-postgres), values read as JSON and compared with PostgreSQL 15's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_are_typed_json_and_jsonb_on_the_wire() {
    let pg = Postgres::start();
    let server = TestServer::start().await;
    let (theirs, ours) = (pg.client().await, server.client().await);
    const QUERIES: &[&str] = &[
        r#"SELECT '{"a":1}'::jsonb, '{"a" : 1}'::json, jsonb_build_object('k', 1), json_build_array(1, 'x'::text)"#,
        r#"SELECT json_agg(x ORDER BY x), jsonb_agg(x ORDER BY x) FROM (VALUES (1), (2)) t(x)"#,
        r#"SELECT '{"a":{"b":[1, 2]}}'::jsonb -> 'a', '{"a":{"b":[1, 2]}}'::json #> '{a,b}', '{"a":{"b":1}}'::jsonb ->> 'a'"#,
        r#"SELECT jsonb_array_elements('[{"a":1}, 2, "s"]')"#,
        r#"SELECT json_object_agg(k, v), jsonb_object_agg(k, v) FROM (VALUES ('b', 1), ('a', 2)) t(k, v)"#,
        r#"SELECT to_json('x'::text), to_jsonb(2.50)"#,
    ];
    for sql in QUERIES {
        let mut answers = Vec::new();
        for client in [&theirs, &ours] {
            let statement = client.prepare(sql).await.unwrap();
            let types: Vec<tokio_postgres::types::Type> = statement
                .columns()
                .iter()
                .map(|c| c.type_().clone())
                .collect();
            let rows = client.query(&statement, &[]).await.unwrap();
            let values: Vec<Vec<String>> = rows
                .iter()
                .map(|row| {
                    (0..types.len())
                        .map(|i| match types[i] {
                            tokio_postgres::types::Type::JSON
                            | tokio_postgres::types::Type::JSONB => {
                                row.get::<_, serde_json::Value>(i).to_string()
                            }
                            _ => row.get::<_, String>(i),
                        })
                        .collect()
                })
                .collect();
            answers.push((types, values));
        }
        assert_eq!(answers[1], answers[0], "{sql}: deltagres vs PostgreSQL");
    }
    server.stop().await;
}

/// COPY into a jsonb column checks each document as INSERT does: a bad one fails the COPY with
/// 22P02 and writes nothing; good ones are stored in jsonb's form. The table's schema marks the
/// column, and the deltalake package reads the table with that mark.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_into_a_jsonb_column_checks_every_document() {
    use futures::SinkExt;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&dir.path().join("data"), |_| {}).await;
    let c = server.client().await;
    c.batch_execute("CREATE TABLE docs (id INT, doc jsonb)")
        .await
        .unwrap();
    let copy = |rows: &'static str| {
        let c = &c;
        async move {
            let sink = c.copy_in("COPY docs FROM STDIN").await?;
            futures::pin_mut!(sink);
            sink.send(bytes::Bytes::from(rows)).await?;
            sink.finish().await
        }
    };
    let err = copy("1\t{\"b\":1,\"a\":2}\n2\tnot json\n")
        .await
        .expect_err("a row that is not JSON fails the COPY");
    assert_eq!(crate::support::sqlstate(&err), "22P02", "{err}");
    assert_eq!(
        crate::support::simple_rows(&c, "SELECT count(*) FROM docs").await,
        vec![vec![Some("0".into())]]
    );
    assert_eq!(copy("1\t{\"b\":1,\"a\":2}\n").await.unwrap(), 1);
    assert_eq!(
        crate::support::simple_rows(&c, "SELECT doc FROM docs").await,
        vec![vec![Some(r#"{"a": 2, "b": 1}"#.into())]]
    );
    let location = dir.path().join("data/public/docs");
    let metadata = crate::support::run_python(&format!(
        "import deltalake\n\
         f = [f for f in deltalake.DeltaTable({:?}).schema().fields if f.name == 'doc'][0]\n\
         print(f.metadata)\n",
        location.to_str().unwrap()
    ));
    assert_eq!(metadata.trim(), "{'deltagres.json': 'jsonb'}", "{metadata}");
    server.stop().await;
}

/// Ordering jsonb values, which PostgreSQL defines and this server does not yet: a clear 0A000
/// rather than an order of their texts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordering_jsonb_and_left_lateral_elements_are_refused_not_wrong() {
    let server = TestServer::start().await;
    let c = server.client().await;
    for sql in [
        "SELECT '[10]'::jsonb > '[9]'::jsonb",
        "SELECT '2'::jsonb <= '10'::jsonb",
        "SELECT d FROM (VALUES ('2'::jsonb), ('10'::jsonb)) t(d) ORDER BY d",
        "SELECT row_number() OVER (ORDER BY d) FROM (VALUES ('2'::jsonb)) t(d)",
        "SELECT json_agg(d ORDER BY d) FROM (VALUES ('2'::jsonb)) t(d)",
        // A LEFT JOIN LATERAL keeps rows without elements: refused, not planned as a join
        // that would drop them.
        "SELECT * FROM (VALUES (1, '[]'::jsonb)) d(id, doc) LEFT JOIN LATERAL jsonb_array_elements(d.doc) e ON true",
    ] {
        crate::support::expect_sqlstate(&c, sql, "0A000").await;
    }
    // Equality is right: texts compared after both are in jsonb's form.
    assert_eq!(
        crate::support::simple_rows(&c, "SELECT '[10, {\"a\":1}]'::jsonb = '[10,{\"a\" : 1}]'")
            .await,
        vec![vec![Some("t".into())]]
    );
    server.stop().await;
}

/// A one-column JSON set-returning function's alias alone in the select list names its column
/// (`SELECT e FROM jsonb_array_elements(...) e` is `e`, was `value`), and `e, e.value` are two
/// columns (the second failed with a duplicate name), as in PostgreSQL.
#[tokio::test]
async fn json_function_alias_names_its_column_as_postgresql() {
    let postgres = crate::support::Postgres::start();
    let server = crate::support::TestServer::start().await;
    let (theirs, ours) = (postgres.client().await, server.client().await);
    let setup = "CREATE TABLE jal (id INT, doc JSONB); \
                 INSERT INTO jal VALUES (1, '{\"a\": [1, 2]}'), (2, '{\"a\": [3]}')";
    theirs.batch_execute(setup).await.unwrap();
    ours.batch_execute(setup).await.unwrap();
    for statement in [
        "SELECT e FROM jsonb_array_elements('[1, 2]') e",
        "SELECT e, e.value FROM jsonb_array_elements_text('[\"x\"]') e",
        "SELECT id, e FROM jal, jsonb_array_elements(doc -> 'a') e ORDER BY id, e::text",
        "SELECT k FROM jal CROSS JOIN LATERAL jsonb_object_keys(doc) AS k ORDER BY k",
    ] {
        assert_eq!(
            crate::pg_semantics::column_names(&ours, statement).await,
            crate::pg_semantics::column_names(&theirs, statement).await,
            "{statement}"
        );
    }
    let script = [
        "CREATE TABLE jal (id INT, doc JSONB)",
        "INSERT INTO jal VALUES (1, '{\"a\": [1, 2]}'), (2, '{\"a\": [3]}')",
        "SELECT e, e.value FROM jsonb_array_elements_text('[\"x\", \"y\"]') e ORDER BY 1",
        "SELECT id, e FROM jal, jsonb_array_elements(doc -> 'a') e ORDER BY id, e::text",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// UPDATE, DELETE and MERGE read json operators as a SELECT does (`WHERE doc ->> 'a' = '1'`
/// was XX000 "type_coercion", `SET s = doc ->> 't'` "Operator ->> is not yet supported": the
/// write planned its text without the dialect), `doc::text` is text (it was still described as
/// jsonb, so drivers parsed it), and a number, boolean or other non-text value assigned to a
/// jsonb column is 42804 (it was stored as the document `5`).
#[tokio::test]
async fn json_operators_in_writes_as_postgresql() {
    let script = [
        "CREATE TABLE jw (id INT, doc JSONB, s TEXT)",
        "CREATE TABLE jws (id INT, doc JSONB)",
        "INSERT INTO jw VALUES (1, '{\"a\": 1, \"t\": \"x\"}', 'p'), \
         (2, '{\"a\": 2, \"t\": \"y\"}', 'q'), (3, '{\"a\": 3}', 'r')",
        "INSERT INTO jws VALUES (1, '{\"a\": 10}'), (4, '{\"a\": 40}')",
        "UPDATE jw SET s = doc ->> 't' WHERE doc ->> 'a' = '1'",
        "UPDATE jw SET doc = doc -> 'missing' WHERE (doc ->> 'a')::int = 3",
        "DELETE FROM jw WHERE doc ->> 't' = 'y'",
        "MERGE INTO jw t USING jws s ON t.id = s.id AND t.doc ->> 'a' = '1' \
         WHEN MATCHED THEN UPDATE SET s = s.doc ->> 'a' \
         WHEN NOT MATCHED THEN INSERT (id, doc, s) VALUES (s.id, s.doc, s.doc ->> 'a')",
        "SELECT id, doc::text, s FROM jw ORDER BY id",
        "SELECT doc::text AS d FROM jw ORDER BY d",
        "SELECT pg_typeof(doc::text)::text, doc::text || '!' FROM jw WHERE id = 1",
        "UPDATE jw SET doc = 5",
        "UPDATE jw SET doc = id",
        "INSERT INTO jw (doc) SELECT 5",
        "INSERT INTO jw (doc) VALUES (true)",
        "INSERT INTO jw (doc) SELECT DATE '2024-01-01'",
        "SELECT count(*), count(doc) FROM jw",
    ];
    crate::support::assert_same_as_postgres(&script).await;
    let server = crate::support::TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute("CREATE TABLE jt (doc JSONB); INSERT INTO jt VALUES ('{\"a\": 1}')")
        .await
        .unwrap();
    // A jsonb column's `->` is jsonb too (it was described as json: the column's mark was lost
    // in a cast to the function's argument type).
    let statement = client
        .prepare("SELECT doc::text, doc, doc -> 'a', doc ->> 'a', doc -> 'a' -> 0 FROM jt")
        .await
        .unwrap();
    let types: Vec<_> = statement
        .columns()
        .iter()
        .map(|c| c.type_().clone())
        .collect();
    assert_eq!(
        types,
        [
            tokio_postgres::types::Type::TEXT,
            tokio_postgres::types::Type::JSONB,
            tokio_postgres::types::Type::JSONB,
            tokio_postgres::types::Type::TEXT,
            tokio_postgres::types::Type::JSONB,
        ]
    );
    server.stop().await;
}

/// jsonb's `||` merges objects and joins arrays, and `-` removes keys and elements, as in
/// PostgreSQL 15 (`||` was text concatenation, `{"a": 1}{"b": 2}`, a silent wrong answer, and
/// `-` an error); a jsonb `||` a typed text stays text concatenation, json has neither operator
/// (42883). In a column and in an UPDATE too.
#[tokio::test]
async fn jsonb_concatenation_and_deletion_as_postgresql() {
    let script = [
        r#"SELECT '{"a":1}'::jsonb || '{"b":2}'::jsonb, '{"a":1}'::jsonb || '{"b":2}', '{"b":2}' || '{"a":1}'::jsonb"#,
        r#"SELECT '{"a":1}'::jsonb || 'x'::text, '{"a":1}'::json || '{"b":2}'"#,
        r#"SELECT '{"a":1}'::json || '{"b":2}'::json"#,
        r#"SELECT '{"a":1}'::jsonb || '{"b":2}'::json"#,
        r#"SELECT '[1,2]'::jsonb || '3'::jsonb, '1'::jsonb || '{"a":1}'::jsonb, '{"a":1}'::jsonb || '[2]'::jsonb"#,
        r#"SELECT '{"a":{"x":1},"b":2}'::jsonb || '{"a":{"y":2}}'::jsonb || '{"b":3}'::jsonb"#,
        r#"SELECT '"s"'::jsonb || '"t"'::jsonb, '[]'::jsonb || '[]'::jsonb, null::jsonb || '[1]'::jsonb"#,
        r#"SELECT '{"a":1,"b":2}'::jsonb - 'a', '{"a":1,"b":2,"c":3}'::jsonb - '{a,c}'::text[]"#,
        r#"SELECT '["a","b","a",1]'::jsonb - 'a', '[1,2,3]'::jsonb - 1, '[1,2,3]'::jsonb - -1, '[1,2,3]'::jsonb - 5"#,
        r#"SELECT '{"a":1}'::jsonb - 0"#,
        r#"SELECT '1'::jsonb - 'a'"#,
        r#"SELECT '{"a":1}'::json - 'a'"#,
        r#"SELECT ('{"a":1}'::jsonb || '{"b":2}') -> 'b'"#,
        "CREATE TABLE jc (id INT, doc JSONB)",
        r#"INSERT INTO jc VALUES (1, '{"k": 1}'), (2, '[1, 2]'), (3, NULL)"#,
        r#"SELECT id, (doc || '{"m": true}')::text, (doc - 'k')::text FROM jc ORDER BY id"#,
        r#"UPDATE jc SET doc = doc || jsonb_build_object('id', id) WHERE id = 1"#,
        r#"UPDATE jc SET doc = doc - 0 WHERE id = 2"#,
        "SELECT id, doc::text FROM jc ORDER BY id",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// `json[b]_strip_nulls`, `jsonb_pretty` and the builders without arguments, as PostgreSQL 15
/// answers them (they were 42883).
#[tokio::test]
async fn json_shapes_and_empty_builders_as_postgresql() {
    let script = [
        r#"SELECT jsonb_strip_nulls('{"a":1,"b":null,"c":{"d":null,"e":[null,1]}}'::jsonb)"#,
        r#"SELECT json_strip_nulls('{"a": 1, "b": null, "c": [null, {"d":null, "e": "\u00e9"}]}')"#,
        r#"SELECT jsonb_pretty('{"a":1,"b":[1,2,{"c":[]}],"d":{}}'::jsonb), jsonb_pretty('1'), jsonb_pretty('[[]]')"#,
        r#"SELECT jsonb_pretty('{"b":"x\ny","a":1.50,"aa":{"k":[true,null]}}')"#,
        "SELECT jsonb_pretty(NULL), jsonb_strip_nulls(NULL), json_strip_nulls(NULL)",
        "SELECT jsonb_pretty('{')",
        "SELECT jsonb_build_array(), json_build_array(), json_build_object(), jsonb_build_object()",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}
