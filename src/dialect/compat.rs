//! Catalog queries from PostgreSQL clients (psql `\d`, JDBC metadata, BI tools) in a form DataFusion
//! can plan, using `datafusion-pg-catalog`'s rewrite rules (`OPERATOR(pg_catalog.~)`, `COLLATE`,
//! `'t'::regclass`, `pg_catalog.` function prefixes, and whole-query substitutions for a few client
//! queries DataFusion cannot run).
//!
//! The rules are applied only to queries that touch the PostgreSQL catalog: some of them trade
//! exactness for compatibility (e.g. unsupported correlated subqueries become NULL), which is right
//! for a client's catalog probe and wrong for user data.

use std::sync::{Arc, OnceLock};

use datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use datafusion_pg_catalog::sql::rules::{
    AliasDuplicatedProjectionRewrite, CurrentUserVariableToSessionUserFunctionCall,
    FixVersionColumnName, PrependUnqualifiedPgTableName, ResolveUnqualifiedIdentifier,
    RewritePgCatalogOperator, RewriteRegCastToSubquery, SqlStatementRewriteRule,
    StripCallableQualifier, StripCollate,
};

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
        "to_reg",
        "information_schema",
        "operator(",
        "collate",
        "current_schema",
        "array_",
    ]
    .iter()
    .any(|marker| lower.contains(marker))
}

/// Whether no statement reads a user relation: every table it names is a `pg_catalog` or
/// `information_schema` relation (qualified, or an unqualified `pg_*` name, as PostgreSQL's
/// implicit `pg_catalog` resolves it), a CTE of the statement, or a table function. The catalog
/// rewrites trade exactness for compatibility (a scalar subquery keeps its first row, an
/// undecorrelatable one becomes NULL); they must never touch user data, whatever the text of the
/// query looks like.
pub(super) fn reads_only_catalog(statements: &[Statement]) -> bool {
    use sqlparser::ast::{Query, TableFactor, Visit, Visitor};
    use std::ops::ControlFlow;
    #[derive(Default)]
    struct Relations {
        ctes: Vec<String>,
        tables: Vec<sqlparser::ast::ObjectName>,
    }
    impl Visitor for Relations {
        type Break = ();
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
            if let Some(with) = &query.with {
                for cte in &with.cte_tables {
                    self.ctes.push(cte.alias.name.value.to_ascii_lowercase());
                }
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table {
                name, args: None, ..
            } = factor
            {
                self.tables.push(name.clone());
            }
            ControlFlow::Continue(())
        }
    }
    let mut relations = Relations::default();
    for statement in statements {
        match statement {
            Statement::Sql(sql) => {
                let _ = sql.visit(&mut relations);
            }
            // Our own statements never read the catalog.
            _ => return false,
        }
    }
    let part = |p: &sqlparser::ast::ObjectNamePart| {
        p.as_ident()
            .map(|i| i.value.to_ascii_lowercase())
            .unwrap_or_default()
    };
    relations.tables.iter().all(|name| {
        let parts: Vec<String> = name.0.iter().map(part).collect();
        match parts.as_slice() {
            [table] => table.starts_with("pg_") || relations.ctes.contains(table),
            [.., schema, _] => schema == "pg_catalog" || schema == "information_schema",
            [] => false,
        }
    })
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

/// asyncpg's type introspection (asked of every array, composite, domain or range type it does
/// not know, e.g. `bigint[]`): a domain's base type through a recursive CTE correlated with the
/// outer row, which DataFusion cannot plan. This catalog has no domains (no `typtype = 'd'`, the
/// only rows that read it), so the subquery stands for its first step, `t.typbasetype`.
fn asyncpg_domain_base() -> &'static regex::Regex {
    static PATTERN: OnceLock<regex::Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        regex::Regex::new(
            r"(?s)\(\s*WITH RECURSIVE typebases\(oid, depth\) AS \(.*?\)\s*SELECT oid FROM typebases ORDER BY depth DESC LIMIT 1\s*\)",
        )
        .expect("valid pattern")
    })
}

/// asyncpg's introspection again: a composite type's field types and names (`CASE WHEN t.typtype
/// = 'c' THEN (SELECT array_agg(...)) ELSE NULL END`), and the recursive step that follows the
/// field types. Their arrays would be described as `integer[]`, which asyncpg does not know
/// without introspecting it, with this same query: it recursed without end. The types we send
/// are never composites of the catalog (a struct column is an anonymous `record`), so both are
/// NULL, described as text, and the step never applies.
fn asyncpg_composite_fields() -> &'static [(regex::Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(regex::Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        vec![
            (
                regex::Regex::new(
                    r"(?s)\(\s*CASE WHEN t\.typtype = 'c' THEN\s*\(\s*SELECT\s+array_agg\(ia\.att(?:typid|name::text) ORDER BY ia\.attnum\).*?ELSE NULL\s*END\s*\)",
                )
                .expect("valid pattern"),
                "CAST(NULL AS TEXT)",
            ),
            (
                regex::Regex::new(
                    r"OR\s*\(\s*tt\.attrtypoids IS NOT NULL AND ti\.oid = any\(tt\.attrtypoids\)\s*\)",
                )
                .expect("valid pattern"),
                "",
            ),
        ]
    })
}

/// Replaces known unplannable fragments of a client catalog query before parsing.
pub fn substitute_client_fragments(sql: &str) -> Option<String> {
    let mut out = regproc_literal()
        .is_match(sql)
        .then(|| regproc_literal().replace_all(sql, "'$1'").into_owned());
    if sql.contains("typebases") {
        let current = out.as_deref().unwrap_or(sql);
        if asyncpg_domain_base().is_match(current) {
            let mut text = asyncpg_domain_base()
                .replace_all(current, "t.typbasetype")
                .into_owned();
            for (pattern, with) in asyncpg_composite_fields() {
                text = pattern.replace_all(&text, *with).into_owned();
            }
            out = Some(text);
        }
    }
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
        None
    } else {
        parser.parse(sql).ok()
    };
    let queries: Vec<sqlparser::ast::Statement> = statements
        .into_iter()
        .filter_map(|s| match s {
            Statement::Sql(s) => Some(*s),
            _ => None,
        })
        .collect();
    // Whether the library replaced a fragment: its rules alone would give something else.
    let library_substituted = substituted.filter(|library| {
        library.len() == queries.len()
            && *library
                != queries
                    .iter()
                    .map(|s| parser.rewrite(s.clone()))
                    .collect::<Vec<_>>()
    });
    let rewritten = match library_substituted {
        Some(library) => library,
        None => queries
            .into_iter()
            .map(|mut s| {
                super::regclass_names::qualify_catalog_relations(&mut s);
                // Named as written first (the checks wrap the casts the names come from).
                if super::regclass_names::has_object_names(&s) {
                    super::output_names::name_result_columns(&mut s);
                    super::regclass_names::check_object_names(&mut s);
                }
                // `output_names` cannot name around a wildcard (`SELECT n.oid, n.*`): there the
                // library's renaming keeps the names unique.
                let s = if has_wildcard(&s) {
                    AliasDuplicatedProjectionRewrite.rewrite(s)
                } else {
                    s
                };
                exact_rules().iter().fold(s, |s, rule| rule.rewrite(s))
            })
            .collect(),
    };
    rewritten
        .into_iter()
        .map(|s| Statement::Sql(Box::new(s)))
        .collect()
}

/// Whether a query's top-level select list holds a wildcard.
fn has_wildcard(statement: &sqlparser::ast::Statement) -> bool {
    use sqlparser::ast::{SelectItem, SetExpr, Statement as S};
    let S::Query(query) = statement else {
        return false;
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return false;
    };
    select.projection.iter().any(|item| {
        matches!(
            item,
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
        )
    })
}

/// The library's rewrite rules, in its order, except four: `RewriteArrayAnyAllOperation` makes
/// `x = ANY(arr)` an `array_contains` (false where PostgreSQL says NULL) and splits an array
/// text on commas (the dialect plans ANY / ALL itself, see `pg_functions`); `FixArrayLiteral`
/// splits an array
/// text on commas (`'{a,"b c",NULL}'::text[]` became `ARRAY['a', '"b c"', 'NULL']`, and a
/// non-text element a number token: `'{"\\x41"}'::bytea[]` failed to parse), where the
/// semantics rule reads it as PostgreSQL's `array_in` does (`semantics::array_in`);
/// `RemoveSubqueryFromProjection` turns
/// every correlated subquery of a select list into NULL (pgAdmin's trigger counts came back
/// NULL instead of 0; `pg_rewrites` does so only for those DataFusion cannot plan), and
/// `AliasDuplicatedProjectionRewrite` renames duplicate result columns (`output_names` keeps
/// PostgreSQL's duplicate names; the rule runs only where it cannot, see above).
fn exact_rules() -> &'static [Arc<dyn SqlStatementRewriteRule>] {
    static RULES: OnceLock<Vec<Arc<dyn SqlStatementRewriteRule>>> = OnceLock::new();
    RULES.get_or_init(|| {
        vec![
            Arc::new(ResolveUnqualifiedIdentifier),
            Arc::new(PrependUnqualifiedPgTableName),
            Arc::new(StripCallableQualifier),
            Arc::new(CurrentUserVariableToSessionUserFunctionCall),
            Arc::new(StripCollate),
            Arc::new(RewritePgCatalogOperator),
            Arc::new(RewriteRegCastToSubquery::new()),
            Arc::new(FixVersionColumnName),
        ]
    })
}
