//! Query shapes the engine cannot plan as written (subqueries it cannot decorrelate, names it
//! finds ambiguous), planned in forms it can, with PostgreSQL 15's answers as the expected ones.

/// The top rows per outer row through `LATERAL (... ORDER BY ... LIMIT n)`: CROSS, inner with a
/// condition, LEFT, the comma form, OFFSET, a LIMIT read from the outer row, ORDER BY a
/// select-list name or position, NULL keys (no match), `t.*` (the rewrite's columns stay
/// hidden); a lateral subquery it does not take (correlated by `<`) is still a clear 0A000.
#[tokio::test]
async fn lateral_top_rows_per_group_as_postgresql() {
    let script = [
        "CREATE TABLE lt_emp (id INT, dept TEXT, sal INT)",
        "INSERT INTO lt_emp VALUES (1, 'a', 10), (2, 'a', 20), (3, 'b', 30), (4, 'b', 5), (5, 'c', NULL), (6, NULL, 7)",
        "CREATE TABLE lt_dep (name TEXT, top INT)",
        "INSERT INTO lt_dep VALUES ('a', 1), ('b', 2), ('c', 1), ('d', 1), (NULL, 1)",
        "SELECT d.name, t.id FROM lt_dep d CROSS JOIN LATERAL \
         (SELECT id FROM lt_emp e WHERE e.dept = d.name ORDER BY sal DESC LIMIT 1) t ORDER BY 1, 2",
        "SELECT d.name, t.id, t.s FROM lt_dep d LEFT JOIN LATERAL \
         (SELECT id, sal AS s FROM lt_emp e WHERE e.dept = d.name AND e.sal > 6 ORDER BY s LIMIT 5) t ON true ORDER BY 1, 2",
        "SELECT d.name, t.id FROM lt_dep d, LATERAL \
         (SELECT id FROM lt_emp e WHERE d.name = e.dept ORDER BY 1 DESC LIMIT 1 OFFSET 1) t ORDER BY 1, 2",
        "SELECT * FROM lt_dep d JOIN LATERAL \
         (SELECT id, sal FROM lt_emp e WHERE e.dept = d.name ORDER BY sal NULLS FIRST, id LIMIT 2) t ON t.sal > 5 ORDER BY 1, 3",
        "SELECT t.* FROM lt_dep d CROSS JOIN LATERAL \
         (SELECT * FROM lt_emp e WHERE e.dept = d.name ORDER BY id LIMIT 1) t ORDER BY 1",
        "SELECT d.name, t.id FROM lt_dep d CROSS JOIN LATERAL \
         (SELECT id FROM lt_emp e WHERE e.dept = d.name ORDER BY sal DESC LIMIT d.top) t ORDER BY 1, 2",
    ];
    crate::support::assert_same_as_postgres(&script).await;
    let server = crate::support::TestServer::start().await;
    let client = server.client().await;
    client
        .batch_execute(&script[..4].join(";"))
        .await
        .expect("the tables");
    crate::support::expect_sqlstate(
        &client,
        "SELECT d.name, t.id FROM lt_dep d LEFT JOIN LATERAL \
         (SELECT id FROM lt_emp e WHERE e.sal < d.top ORDER BY id LIMIT 1) t ON true",
        "0A000",
    )
    .await;
    // A window function over the rows of each outer row is not taken (it would see them all).
    crate::support::expect_sqlstate(
        &client,
        "SELECT d.name, t.n FROM lt_dep d CROSS JOIN LATERAL \
         (SELECT row_number() OVER (ORDER BY id) AS n FROM lt_emp e WHERE e.dept = d.name ORDER BY id LIMIT 1) t",
        "0A000",
    )
    .await;
}

/// A result column named like an input column the ORDER BY names qualified: PostgreSQL sorts by
/// the input column (`ORDER BY c.name`) or the result column (`ORDER BY name`); DataFusion
/// refused both as ambiguous (psql's `\d` partition query sorts so).
#[tokio::test]
async fn order_by_a_qualified_column_shadowed_by_a_result_name_as_postgresql() {
    let script = [
        "CREATE TABLE ob_t (id INT, name TEXT)",
        "INSERT INTO ob_t VALUES (1, 'b'), (2, 'a'), (3, 'C')",
        "SELECT upper(t.name) AS name FROM ob_t t ORDER BY t.name",
        "SELECT upper(t.name) AS name FROM ob_t t ORDER BY name DESC",
        "SELECT t.name AS id FROM ob_t t ORDER BY t.id DESC",
        "SELECT upper(t.name) AS name, t.id FROM ob_t t ORDER BY t.name, t.id",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// `ARRAY(SELECT ... ORDER BY ... [LIMIT n])` lists the rows in the subquery's order (it was
/// 42803, or the rows in any order), with sort keys by expression, result name or position.
#[tokio::test]
async fn array_of_a_sorted_subquery_as_postgresql() {
    let script = [
        "CREATE TABLE arr_t (id INT, v TEXT)",
        "INSERT INTO arr_t VALUES (1, 'a'), (2, 'b'), (3, NULL)",
        "SELECT ARRAY(SELECT id FROM arr_t ORDER BY id DESC)",
        "SELECT ARRAY(SELECT v FROM arr_t ORDER BY id DESC LIMIT 2)",
        "SELECT ARRAY(SELECT v FROM arr_t ORDER BY id DESC LIMIT 2 OFFSET 1)",
        "SELECT ARRAY(SELECT upper(v) AS u FROM arr_t ORDER BY u NULLS FIRST)",
        "SELECT ARRAY(SELECT v FROM arr_t ORDER BY v DESC NULLS LAST, id LIMIT 5)",
        "SELECT ARRAY(SELECT id * 10 FROM arr_t ORDER BY 1 DESC)",
        "SELECT ARRAY(SELECT id FROM arr_t WHERE id > 5 ORDER BY id)",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// `WITH ORDINALITY` numbers the rows of `unnest(array)` and of the JSON set-returning functions,
/// on constants and over the relation before them (it was 0A000 for unnest, and silently left
/// out for the JSON functions); NULL and empty arrays give no rows.
#[tokio::test]
async fn with_ordinality_as_postgresql() {
    let script = [
        "CREATE TABLE ord_t (id INT, tags TEXT[])",
        "INSERT INTO ord_t VALUES (1, ARRAY['a', 'b']), (2, ARRAY[]::text[]), (3, NULL), (4, ARRAY['x', NULL, 'z'])",
        "SELECT * FROM unnest(ARRAY['a', 'b']) WITH ORDINALITY",
        "SELECT * FROM unnest(ARRAY['a', 'b']) WITH ORDINALITY AS t(x, n)",
        "SELECT o.id, t.tag, t.pos FROM ord_t o, unnest(o.tags) WITH ORDINALITY AS t(tag, pos) ORDER BY 1, 3",
        "SELECT o.id, t.* FROM ord_t o CROSS JOIN LATERAL unnest(o.tags) WITH ORDINALITY t ORDER BY 1, 3",
        "SELECT * FROM json_array_elements('[1, 2]') WITH ORDINALITY",
        "SELECT * FROM jsonb_each('{\"a\": 1, \"b\": 2}') WITH ORDINALITY ORDER BY ordinality",
        "SELECT o.id, e.* FROM ord_t o, jsonb_array_elements(to_jsonb(o.tags)) WITH ORDINALITY e ORDER BY 1, 3",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// `x > ALL (SELECT ...)` / `x < ANY (...)` / `SOME` in a select list (0A000 before), with
/// PostgreSQL's NULLs: no rows, a NULL `x`, a NULL among the subquery's values; a correlated
/// one stays 0A000.
#[tokio::test]
async fn quantified_comparisons_with_a_subquery_in_a_select_list_as_postgresql() {
    let script = [
        "CREATE TABLE q_emp (id INT, dept TEXT, sal INT)",
        "INSERT INTO q_emp VALUES (1, 'a', 10), (2, 'a', 20), (3, 'b', 30), (4, 'b', 5), (5, 'c', NULL)",
        "SELECT id, sal > ALL (SELECT sal FROM q_emp WHERE dept = 'a') FROM q_emp ORDER BY id",
        "SELECT id, sal >= ALL (SELECT sal FROM q_emp WHERE dept = 'c') FROM q_emp ORDER BY id",
        "SELECT id, sal < ANY (SELECT sal FROM q_emp WHERE dept <> 'c') FROM q_emp ORDER BY id",
        "SELECT id, sal <= SOME (SELECT sal FROM q_emp) FROM q_emp ORDER BY id",
        "SELECT id, sal > ALL (SELECT sal FROM q_emp WHERE false), sal > ANY (SELECT sal FROM q_emp WHERE false) \
         FROM q_emp ORDER BY id",
        "SELECT id FROM q_emp WHERE sal > ALL (SELECT sal FROM q_emp WHERE dept = 'a') ORDER BY id",
    ];
    crate::support::assert_same_as_postgres(&script).await;
    let server = crate::support::TestServer::start().await;
    let client = server.client().await;
    client.batch_execute(&script[..2].join(";")).await.unwrap();
    crate::support::expect_sqlstate(
        &client,
        "SELECT id, sal > ALL (SELECT sal FROM q_emp e2 WHERE e2.dept = q_emp.dept) FROM q_emp",
        "0A000",
    )
    .await;
}
