//! `pg_get_viewdef(oid [, pretty])` and `pg_get_viewdef('name')` (psql `\d+ view`, DBeaver's
//! view editor): rewritten into a scalar subquery over `pg_views` and `pg_class`, since the
//! catalog library assigns the OIDs while it lists `pg_class` and only that listing knows them.

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Value};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// Replaces a `pg_get_viewdef(...)` call by the subquery that answers it; other expressions are
/// left alone.
pub fn viewdef_to_subquery(expr: &mut Expr) {
    let Expr::Function(function) = expr else {
        return;
    };
    let is_viewdef = function
        .name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .is_some_and(|i| i.value.eq_ignore_ascii_case("pg_get_viewdef"));
    if !is_viewdef {
        return;
    }
    let FunctionArguments::List(list) = &function.args else {
        return;
    };
    let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(target))) = list.args.first() else {
        return;
    };
    // The aliases are unusual so that an argument naming an outer table (`c.oid`) still does.
    let condition = match target {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(name) => {
                let (schema, view) = match name.rsplit_once('.') {
                    Some((s, v)) => (Some(s), v),
                    None => (None, name.as_str()),
                };
                let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
                match schema {
                    Some(s) => format!(
                        "__vd_v.viewname = {} AND __vd_v.schemaname = {}",
                        quote(view),
                        quote(s)
                    ),
                    None => format!("__vd_v.viewname = {}", quote(view)),
                }
            }
            _ => format!("__vd_c.oid = {target}"),
        },
        other => format!("__vd_c.oid = {other}"),
    };
    let sql = format!(
        "(SELECT max(__vd_v.definition) FROM pg_catalog.pg_views __vd_v \
         JOIN pg_catalog.pg_namespace __vd_n ON __vd_n.nspname = __vd_v.schemaname \
         JOIN pg_catalog.pg_class __vd_c ON __vd_c.relname = __vd_v.viewname \
           AND __vd_c.relnamespace = __vd_n.oid \
         WHERE {condition})"
    );
    if let Ok(subquery) = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_expr())
    {
        *expr = subquery;
    }
}
