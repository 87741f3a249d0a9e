//! PostgreSQL functions people reach for in ad-hoc SQL and dynamic SQL, answered as PostgreSQL
//! 15 answers them (each script runs on both; the expected values are PostgreSQL's).

/// `regexp_split_to_array` / `regexp_split_to_table` and `regexp_matches`, with PostgreSQL's
/// flags, groups, zero-length matches and NULLs; a `g` flag for a split and an unknown flag are
/// 22023, a pattern that does not compile 2201B.
#[tokio::test]
async fn regular_expression_sets_as_postgresql() {
    let script = [
        "CREATE TABLE rx (id INT, s TEXT)",
        "INSERT INTO rx VALUES (1, 'a,b,,c'), (2, 'x'), (3, NULL), (4, ',lead')",
        "SELECT regexp_split_to_array('a,b,,c', ',')",
        "SELECT regexp_split_to_array('hello world', '\\s*')",
        "SELECT regexp_split_to_array('abc', '')",
        "SELECT regexp_split_to_array('aXbxc', 'x', 'i')",
        "SELECT id, regexp_split_to_array(s, ',') FROM rx ORDER BY id",
        "SELECT regexp_split_to_table('a b  c', '\\s+')",
        "SELECT id, regexp_split_to_table(s, ',') AS piece FROM rx ORDER BY id, piece",
        "SELECT regexp_matches('foo123bar45', '\\d+', 'g')",
        "SELECT regexp_matches('foo123bar45', '\\d+')",
        "SELECT regexp_matches('k1=v1;k2=v2', '(\\w+)=(\\w+)', 'g')",
        "SELECT regexp_matches('ab', '(a)(x)?')",
        "SELECT regexp_matches('ABC', 'b', 'i')",
        "SELECT count(*) FROM (SELECT regexp_matches('none', '\\d', 'g')) m",
        "SELECT regexp_split_to_array('a,b', ',', 'g')",
        "SELECT regexp_split_to_array('a,b', ',', 'z')",
        "SELECT regexp_matches('a', '(')",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// Quoting for dynamic SQL (`quote_literal`, `quote_nullable`, `quote_ident`, `format`'s `%L`:
/// a backslash makes an `E'...'` string), counting NULLs, and `pg_typeof`.
#[tokio::test]
async fn quoting_null_counts_and_pg_typeof_as_postgresql() {
    let script = [
        "SELECT quote_literal('it''s'), quote_literal(E'a\\\\b'), quote_literal(NULL::text)",
        "SELECT quote_nullable(NULL::text), quote_nullable('x'), quote_ident('Foo bar'), quote_ident('plain')",
        "SELECT format('%L and %L', E'a\\\\b', NULL)",
        "SELECT num_nulls(1, NULL, 'a', NULL), num_nonnulls(1, NULL, 'a', NULL)",
        "CREATE TABLE ty (i INT, b BIGINT, s TEXT, v VARCHAR(10), n NUMERIC(10, 2), d DATE, \
         ts TIMESTAMP, tz TIMESTAMPTZ, f FLOAT8, bo BOOLEAN, by BYTEA, j JSONB, a TEXT[])",
        "INSERT INTO ty VALUES (1, 2, 's', 'v', 1.5, '2024-01-01', '2024-01-01', '2024-01-01', \
         1.5, true, '\\x00', '{}', '{a}')",
        "SELECT pg_typeof(i), pg_typeof(b), pg_typeof(s), pg_typeof(v), pg_typeof(n), pg_typeof(d), \
         pg_typeof(ts), pg_typeof(tz), pg_typeof(f), pg_typeof(bo), pg_typeof(by), pg_typeof(j), \
         pg_typeof(a) FROM ty",
        "SELECT pg_typeof(NULL), pg_typeof(now()), pg_typeof(1::int), pg_typeof(i + 1.5) FROM ty",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}

/// `trunc(numeric, k)` has `k` fractional digits as in PostgreSQL (`trunc(2.567, 2)` was 2.560:
/// DataFusion kept the argument's scale), none for `k <= 0`, more than the argument's when asked.
#[tokio::test]
async fn trunc_of_a_numeric_has_the_digits_asked_for() {
    let script = [
        "SELECT trunc(2.567, 2), trunc(2.567, 0), trunc(2.567), trunc(-2.567, 1), trunc(1234.5, -2), trunc(2.5, 3)",
        "SELECT trunc(x, 1), round(x, 1) FROM (VALUES (1.25::numeric(10, 3)), (-1.25)) v(x)",
    ];
    crate::support::assert_same_as_postgres(&script).await;
}
