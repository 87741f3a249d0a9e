//! `obj_description(oid [, catalog])` and `col_description(oid, column)` planned as PostgreSQL
//! defines them: a lookup in `pg_description` (where the catalog lists the Delta tables'
//! comments, see `catalog::descriptions`). `shobj_description` is NULL: no shared object has a
//! comment here. An argument that casts an expression to `regclass` (Metabase's
//! `CAST(format('%I.%I', ..) AS regclass)`) cannot be evaluated: that call is NULL, as all of
//! them were before comments were kept.

use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Value};

use super::pg_rewrites::name_is;

/// Rewrites one description call (see the module header); other expressions are left alone.
pub(super) fn descriptions_as_lookups(expr: &mut Expr) {
    let Expr::Function(function) = expr else {
        return;
    };
    let kind = ["col_description", "obj_description", "shobj_description"]
        .into_iter()
        .find(|name| name_is(&function.name, name));
    let Some(kind) = kind else {
        return;
    };
    let FunctionArguments::List(list) = &mut function.args else {
        return;
    };
    let args: Vec<&Expr> = list
        .args
        .iter()
        .filter_map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect();
    let evaluable = args.len() == list.args.len()
        && !args
            .iter()
            .any(|arg| cannot_evaluate(&arg.to_string().to_ascii_lowercase()));
    let subid = match (kind, args.as_slice()) {
        ("obj_description", [_] | [_, _]) => Some("0".to_string()),
        ("col_description", [_, column]) => Some(format!("({column})")),
        _ => None,
    };
    if let (true, Some(subid)) = (evaluable, subid) {
        let lookup = format!(
            "(SELECT max(pg_description_lookup.description) \
             FROM pg_catalog.pg_description AS pg_description_lookup \
             WHERE pg_description_lookup.objoid = ({}) \
             AND pg_description_lookup.objsubid = {subid})",
            args[0]
        );
        let parsed = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
            .try_with_sql(&lookup)
            .and_then(|mut parser| parser.parse_expr());
        if let Ok(parsed) = parsed {
            *expr = parsed;
            return;
        }
    }
    // A call we do not evaluate: NULL, without running arguments we may not be able to.
    for arg in &mut list.args {
        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg {
            *e = Expr::value(Value::Null);
        }
    }
}

/// Whether an argument (its text, lower case) casts an expression to `regclass` (a quoted name
/// is looked up, and checked, by `regclass_names`: that one can be evaluated).
fn cannot_evaluate(argument: &str) -> bool {
    argument.contains("regclass") && !argument.contains(crate::semantics::REG_CHECKED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut expr = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
            .try_with_sql(sql)
            .unwrap()
            .parse_expr()
            .unwrap();
        descriptions_as_lookups(&mut expr);
        expr.to_string()
    }

    #[test]
    fn calls_become_lookups_or_null() {
        assert_eq!(
            rewritten("pg_catalog.col_description(a.attrelid, a.attnum)"),
            "(SELECT max(pg_description_lookup.description) FROM pg_catalog.pg_description AS pg_description_lookup WHERE pg_description_lookup.objoid = (a.attrelid) AND pg_description_lookup.objsubid = (a.attnum))"
        );
        assert!(rewritten("obj_description(c.oid, 'pg_class')").contains("objsubid = 0"));
        assert_eq!(
            rewritten("col_description(CAST(CAST(format('%I.%I', s, t) AS regclass) AS oid), 2)"),
            "col_description(NULL, NULL)"
        );
        assert_eq!(
            rewritten("shobj_description(1, 'pg_database')"),
            "shobj_description(NULL, NULL)"
        );
    }
}
