//! PostgreSQL's functions in FROM and set-returning functions in a select list, in the forms
//! DataFusion plans.
//!
//! - `FROM generate_series(1, 3) AS i`: PostgreSQL names the one column after the alias (`i`),
//!   DataFusion calls it `value`; the alias gets the column name.
//! - `FROM string_to_array(x, ',') AS s`: any scalar function is a one-row relation in
//!   PostgreSQL; DataFusion knows only table functions there, so it becomes `(SELECT f(..) AS s) s`.
//! - `SELECT generate_series(1, 3)`: a set-returning function yields rows in PostgreSQL; in
//!   DataFusion it yields one list, which `unnest` turns into the rows (also where the call is
//!   an argument, as in pgjdbc's `get_field(_pg_expandarray(indkey), 'n')`).
//!
//! Grafana's column query and psqlODBC's foreign-key query (Tableau) use all three. This runs at
//! planning time because only the session state knows which names are table functions.

use std::ops::ControlFlow;

use sqlparser::ast::{
    self, Expr, FunctionArg, FunctionArguments, Ident, ObjectName, ObjectNamePart, SelectItem,
    SetExpr, TableAlias, TableAliasColumnDef, TableFactor, VisitMut, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::dialect::function_call;

/// Set-returning functions that DataFusion evaluates to a list in a select list (the second is
/// `catalog::expand_array`).
const LIST_VALUED_SET_FUNCTIONS: &[&str] = &["generate_series", "_pg_expandarray"];

/// Rewrites `statement`; `is_table_function` says whether a name is a registered table function.
pub fn rewrite(statement: &mut ast::Statement, is_table_function: &dyn Fn(&str) -> bool) {
    let mut visitor = Rewriter { is_table_function };
    let _ = statement.visit(&mut visitor);
}

struct Rewriter<'a> {
    is_table_function: &'a dyn Fn(&str) -> bool,
}

impl VisitorMut for Rewriter<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name,
            alias,
            args: Some(args),
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let function = last_part(name);
        if (self.is_table_function)(&function) {
            if LIST_VALUED_SET_FUNCTIONS.contains(&function.as_str())
                && let Some(alias) = alias.as_mut()
                && alias.columns.is_empty()
            {
                alias.columns = vec![TableAliasColumnDef::from_name(alias.name.value.clone())];
            }
            return ControlFlow::Continue(());
        }
        let relation = alias
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_else(|| Ident::new(function.clone()));
        let column = alias
            .as_ref()
            .and_then(|a| a.columns.first().map(|c| c.name.clone()))
            .unwrap_or_else(|| relation.clone());
        let call = format!(
            "SELECT {}({}) AS {column}",
            name,
            args.args
                .iter()
                .map(FunctionArg::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let Ok(subquery) = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(&call)
            .and_then(|mut p| p.parse_query())
        else {
            return ControlFlow::Continue(());
        };
        let lateral = args.args.iter().any(crate::dialect::mentions_column);
        *factor = TableFactor::Derived {
            lateral,
            subquery,
            alias: Some(TableAlias {
                explicit: true,
                name: relation,
                columns: Vec::new(),
                at: None,
            }),
            sample: None,
        };
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &mut ast::Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = query.body.as_mut() {
            for item in &mut select.projection {
                let (SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. }) = item
                else {
                    continue;
                };
                unnest_set_functions(expr);
            }
        }
        ControlFlow::Continue(())
    }
}

fn last_part(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(ident)) => ident.value.to_lowercase(),
        _ => String::new(),
    }
}

/// Wraps the set-returning calls in `expr` (outside subqueries) in `unnest`; several in one
/// select list are unnested side by side, as PostgreSQL runs them.
fn unnest_set_functions(expr: &mut Expr) {
    if is_list_valued_set_function(expr) {
        let call = std::mem::replace(expr, Expr::value(ast::Value::Null));
        *expr = function_call("unnest", vec![call]);
        return;
    }
    match expr {
        Expr::Function(function) => {
            if let FunctionArguments::List(list) = &mut function.args {
                for arg in &mut list.args {
                    if let FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = arg {
                        unnest_set_functions(e);
                    }
                }
            }
        }
        Expr::Nested(inner) | Expr::Cast { expr: inner, .. } => unnest_set_functions(inner),
        Expr::BinaryOp { left, right, .. } => {
            unnest_set_functions(left);
            unnest_set_functions(right);
        }
        _ => {}
    }
}

fn is_list_valued_set_function(expr: &Expr) -> bool {
    matches!(expr, Expr::Function(f)
        if LIST_VALUED_SET_FUNCTIONS.contains(&last_part(&f.name).as_str())
            && matches!(f.args, FunctionArguments::List(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .pop()
            .unwrap();
        rewrite(&mut statement, &|name| {
            ["generate_series", "range"].contains(&name)
        });
        statement.to_string()
    }

    #[test]
    fn functions_in_from_and_set_functions_in_select_lists_take_postgres_meaning() {
        assert_eq!(
            rewritten("SELECT s[i] FROM generate_series(1, 2) AS i, string_to_array('a,b', ',') s"),
            "SELECT s[i] FROM generate_series(1, 2) AS i (i), \
             (SELECT string_to_array('a,b', ',') AS s) AS s"
        );
        assert_eq!(
            rewritten("SELECT x FROM generate_series(1, 2) AS t(x)"),
            "SELECT x FROM generate_series(1, 2) AS t (x)"
        );
        assert_eq!(
            rewritten("SELECT generate_series(1, 3) AS i, k FROM t"),
            "SELECT unnest(generate_series(1, 3)) AS i, k FROM t"
        );
        assert_eq!(
            rewritten("SELECT * FROM t, upper(t.name)"),
            "SELECT * FROM t, LATERAL (SELECT upper(t.name) AS upper) AS upper"
        );
    }
}
