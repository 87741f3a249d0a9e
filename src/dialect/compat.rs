//! Catalog queries from PostgreSQL clients (psql `\d`, JDBC metadata, BI tools) in a form DataFusion
//! can plan, using `datafusion-pg-catalog`'s rewrite rules (`OPERATOR(pg_catalog.~)`, `COLLATE`,
//! `'t'::regclass`, `pg_catalog.` function prefixes, and whole-query substitutions for a few client
//! queries DataFusion cannot run).
//!
//! The rules are applied only to queries that touch the PostgreSQL catalog: some of them trade
//! exactness for compatibility (e.g. unsupported correlated subqueries become NULL), which is right
//! for a client's catalog probe and wrong for user data.

use std::sync::OnceLock;

use datafusion_pg_catalog::sql::PostgresCompatibilityParser;

use super::Statement;

fn compat_parser() -> &'static PostgresCompatibilityParser {
    static PARSER: OnceLock<PostgresCompatibilityParser> = OnceLock::new();
    PARSER.get_or_init(PostgresCompatibilityParser::new)
}

/// Whether the text looks like a client's catalog query.
pub(super) fn is_catalog_query(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    [
        "pg_catalog",
        "pg_",
        "::reg",
        "information_schema",
        "operator(",
        "collate",
        "current_schema",
        "array_",
    ]
    .iter()
    .any(|marker| lower.contains(marker))
}

/// Fragments of client catalog queries that DataFusion cannot plan, with equivalents it can.
/// Each names the client that sends it.
const TEXT_SUBSTITUTIONS: &[(&str, &str)] = &[
    // psql 15 `\d+ t`: table options including the TOAST table's (we have neither).
    (
        "pg_catalog.array_to_string(c.reloptions || array(select 'toast.' || x from pg_catalog.unnest(tc.reloptions) x), ', ')",
        "''",
    ),
];

/// `'pg_catalog.array_in'::regproc` (DBeaver's type query): the function columns of this catalog
/// (`pg_type.typinput`, ...) hold names, so a regproc literal stands for its bare name.
fn regproc_literal() -> &'static regex::Regex {
    static PATTERN: OnceLock<regex::Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        regex::Regex::new(r"'(?:pg_catalog\.)?([A-Za-z_][A-Za-z0-9_]*)'::regproc\b")
            .expect("valid pattern")
    })
}

/// Replaces known unplannable fragments of a client catalog query before parsing.
pub fn substitute_client_fragments(sql: &str) -> Option<String> {
    let mut out = regproc_literal()
        .is_match(sql)
        .then(|| regproc_literal().replace_all(sql, "'$1'").into_owned());
    for (from, to) in TEXT_SUBSTITUTIONS {
        let current = out.as_deref().unwrap_or(sql);
        if current.contains(from) {
            out = Some(current.replace(from, to));
        }
    }
    out
}

/// Fragments of client queries that the library replaces by stand-ins although we run them as
/// they are: Grafana's search path lookup (set-returning and scalar functions in FROM, see
/// `plan::set_functions`), which the library turns into `''` so that Grafana finds no columns.
const RUN_AS_SENT: &[&str] = &["string_to_array(current_setting('search_path'),',') s"];

/// Rewrites the statements of a catalog query (`sql`) when they are all queries.
pub fn rewrite_client_catalog_queries(sql: &str, statements: Vec<Statement>) -> Vec<Statement> {
    let all_queries = statements
        .iter()
        .all(|s| matches!(s, Statement::Sql(s) if matches!(s.as_ref(), sqlparser::ast::Statement::Query(_))));
    if !all_queries {
        return statements;
    }
    let parser = compat_parser();
    let substituted = if RUN_AS_SENT.iter().any(|fragment| sql.contains(fragment)) {
        Err(())
    } else {
        parser.parse(sql).map_err(|_| ())
    };
    match substituted {
        Ok(rewritten) if rewritten.len() == statements.len() => rewritten
            .into_iter()
            .map(|s| Statement::Sql(Box::new(s)))
            .collect(),
        _ => statements
            .into_iter()
            .map(|s| match s {
                Statement::Sql(s) => Statement::Sql(Box::new(parser.rewrite(*s))),
                other => other,
            })
            .collect(),
    }
}
