//! Name resolution: identifiers fold to lower case unless quoted, as in PostgreSQL.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Ident, ObjectName, visit_expressions_mut};

use crate::catalog::{CATALOG_NAME, TableRef};
use crate::error::{Error, ErrorKind, Result};

/// The catalog name of an identifier: quoted keeps its case, unquoted folds to lower case.
pub fn normalize_ident(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// The identifier quoted with its catalog name, so case-sensitive parsers (delta-rs) read it as
/// PostgreSQL would.
pub fn quoted_ident(ident: &Ident) -> Ident {
    Ident::with_quote('"', normalize_ident(ident))
}

/// Quotes every identifier of `expr` (plain and qualified) with its catalog name, for expressions
/// handed to delta-rs as SQL text.
pub fn quote_identifiers(expr: &mut Expr) {
    let _ = visit_expressions_mut(expr, |e| {
        match e {
            Expr::Identifier(ident) => *ident = quoted_ident(ident),
            Expr::CompoundIdentifier(parts) => {
                for p in parts.iter_mut() {
                    *p = quoted_ident(p);
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `expr` as Spark SQL text, the form Delta stores generation expressions and CHECK constraints
/// in (Spark, delta-rs and the deltalake package all parse it): each identifier by its catalog
/// name, plain when it is a lower-case word that is no keyword, else in backticks. PostgreSQL's
/// double quotes would be string literals to Spark: `"price" > 0` compares the text 'price',
/// and every Spark write to the table fails the check.
pub fn spark_sql_text(expr: &Expr) -> String {
    let spark = |ident: &Ident| {
        let name = normalize_ident(ident);
        if plain_spark_word(&name) {
            Ident::new(name)
        } else {
            Ident::with_quote('`', name)
        }
    };
    let mut expr = expr.clone();
    let _ = visit_expressions_mut(&mut expr, |e| {
        match e {
            Expr::Identifier(ident) => *ident = spark(ident),
            Expr::CompoundIdentifier(parts) => {
                for p in parts.iter_mut() {
                    *p = spark(p);
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    expr.to_string()
}

/// Spark SQL's reserved words in ANSI mode (Spark's "ANSI compliance" reference), and words
/// that start a typed literal or an operator in an expression: quoted when a column has one of
/// these names.
const SPARK_RESERVED: &[&str] = &[
    "all",
    "and",
    "anti",
    "any",
    "array",
    "as",
    "authorization",
    "between",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "date",
    "distinct",
    "div",
    "else",
    "end",
    "escape",
    "except",
    "exists",
    "false",
    "fetch",
    "filter",
    "for",
    "foreign",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "inner",
    "intersect",
    "interval",
    "into",
    "is",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "map",
    "minus",
    "natural",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "overlaps",
    "primary",
    "references",
    "regexp",
    "right",
    "rlike",
    "select",
    "semi",
    "session_user",
    "some",
    "struct",
    "table",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "unknown",
    "user",
    "using",
    "when",
    "where",
    "with",
];

/// Whether `name` reads as itself unquoted in Spark SQL (and in delta-rs's parser): a
/// lower-case word that is not reserved.
fn plain_spark_word(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !SPARK_RESERVED.contains(&name)
}

/// A stored Delta expression (Spark SQL: backticks quote, see [`spark_sql_text`]) parsed, its
/// identifiers quoted as PostgreSQL quotes them, for the statements we plan with it.
pub fn parse_stored_expression(text: &str) -> Result<Expr> {
    let mut expr = sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect {})
        .try_with_sql(text)?
        .parse_expr()?;
    quote_identifiers(&mut expr);
    Ok(expr)
}

/// Resolves `t`, `s.t` or `deltagres.s.t` against the default schema.
pub fn resolve_table(name: &ObjectName, default_schema: &str) -> Result<TableRef> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| {
            p.as_ident()
                .map(normalize_ident)
                .ok_or_else(|| Error::syntax(format!("invalid table name {name}")))
        })
        .collect::<Result<_>>()?;
    let (schema, table) = match parts.as_slice() {
        [t] => (default_schema.to_string(), t.clone()),
        [s, t] => (s.clone(), t.clone()),
        [c, s, t] if c == CATALOG_NAME => (s.clone(), t.clone()),
        [c, _, _] => {
            return Err(Error::new(
                ErrorKind::FeatureNotSupported,
                format!("cross-database references are not implemented: {c}"),
            ));
        }
        _ => {
            return Err(Error::syntax(format!(
                "improper qualified name (too many dotted names): {name}"
            )));
        }
    };
    Ok(TableRef { schema, table })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(sql: &str) -> Expr {
        sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
            .try_with_sql(sql)
            .unwrap()
            .parse_expr()
            .unwrap()
    }

    #[test]
    fn stored_expressions_are_spark_sql_and_read_back_as_postgresql() {
        let text = spark_sql_text(&parsed(
            r#"PRICE * qty + "Tax" + "select" + "we`ird" + t.id + upper(name)"#,
        ));
        assert_eq!(
            text,
            "price * qty + `Tax` + `select` + `we``ird` + t.id + upper(name)"
        );
        let back = parse_stored_expression(&text).unwrap();
        assert_eq!(
            back.to_string(),
            r#""price" * "qty" + "Tax" + "select" + "we`ird" + "t"."id" + upper("name")"#
        );
    }
}
