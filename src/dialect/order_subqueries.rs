//! Subqueries in ORDER BY, which DataFusion refuses ("In/Exist subquery can only be used in
//! Projection, Filter, ..."), and which Grafana's table list sends (tables on the search path
//! first). The sort keys become hidden columns of the query, sorted on from outside:
//!
//! `SELECT a, b AS c FROM t ORDER BY x IN (SELECT ..), 1` ->
//! `SELECT a, c FROM (SELECT a, b AS c, x IN (SELECT ..) AS "?sort?1" FROM t) AS sorted
//!  ORDER BY "?sort?1", a`
//!
//! Runs after the result columns are named (`output_names`), so every column has a name to
//! select from outside.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Ident, OrderByKind, Query, SelectItem, SetExpr, Statement, Value, visit_expressions,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// The prefix of the hidden sort columns' names.
const HIDDEN_PREFIX: &str = "?sort?";

/// Rewrites a query statement whose ORDER BY holds a subquery.
pub fn rewrite(statement: &mut Statement) {
    if let Statement::Query(query) = statement {
        rewrite_query(query);
    }
}

fn rewrite_query(query: &mut Box<Query>) {
    let Some(order_by) = query.order_by.as_ref() else {
        return;
    };
    let OrderByKind::Expressions(items) = &order_by.kind else {
        return;
    };
    if !items.iter().any(|item| has_subquery(&item.expr)) {
        return;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return;
    };
    if select.distinct.is_some() {
        return;
    }
    let Some(names) = select
        .projection
        .iter()
        .map(output_name)
        .collect::<Option<Vec<Ident>>>()
    else {
        return;
    };
    let Some(mut outer) = outer_query(&names) else {
        return;
    };
    let mut inner = std::mem::replace(query, outer.clone());
    let mut order_by = inner.order_by.take().expect("checked above");
    let OrderByKind::Expressions(items) = &mut order_by.kind else {
        return;
    };
    let SetExpr::Select(select) = inner.body.as_mut() else {
        return;
    };
    for (i, item) in items.iter_mut().enumerate() {
        let by_position = match &item.expr {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => n
                    .parse::<usize>()
                    .ok()
                    .filter(|p| (1..=names.len()).contains(p)),
                _ => None,
            },
            _ => None,
        };
        let by_name = match &item.expr {
            Expr::Identifier(ident) => names.iter().find(|n| n.value == ident.value).cloned(),
            _ => None,
        };
        item.expr = match (by_position, by_name) {
            (Some(position), _) => Expr::Identifier(names[position - 1].clone()),
            (None, Some(name)) => Expr::Identifier(name),
            (None, None) => {
                let hidden = Ident::with_quote('"', format!("{HIDDEN_PREFIX}{}", i + 1));
                let expr = std::mem::replace(&mut item.expr, Expr::Identifier(hidden.clone()));
                select.projection.push(SelectItem::ExprWithAlias {
                    expr,
                    alias: hidden,
                });
                continue;
            }
        };
    }
    outer.order_by = Some(order_by);
    outer.limit_clause = inner.limit_clause.take();
    outer.fetch = inner.fetch.take();
    if let SetExpr::Select(outer_select) = outer.body.as_mut()
        && let Some(sqlparser::ast::TableFactor::Derived { subquery, .. }) =
            outer_select.from.first_mut().map(|t| &mut t.relation)
    {
        *subquery = inner;
    }
    *query = outer;
}

/// `SELECT names.. FROM (SELECT 1) AS sorted`, whose subquery is then replaced.
fn outer_query(names: &[Ident]) -> Option<Box<Query>> {
    let columns: Vec<String> = names.iter().map(ToString::to_string).collect();
    let sql = format!("SELECT {} FROM (SELECT 1) AS sorted", columns.join(", "));
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_query())
        .ok()
}

/// The name a projected item has in the result (set for every expression by `output_names`).
fn output_name(item: &SelectItem) -> Option<Ident> {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => Some(alias.clone()),
        SelectItem::UnnamedExpr(Expr::Identifier(ident)) => Some(ident.clone()),
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => parts.last().cloned(),
        _ => None,
    }
}

fn has_subquery(expr: &Expr) -> bool {
    visit_expressions(expr, |e: &Expr| {
        if matches!(
            e,
            Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. }
        ) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .is_break()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_subqueries_sort_on_hidden_columns() {
        let mut statement = Parser::parse_sql(
            &PostgreSqlDialect {},
            "SELECT a, b AS c FROM t ORDER BY CASE WHEN x IN (SELECT y FROM u) THEN 0 ELSE 1 END, 1 LIMIT 5",
        )
        .unwrap()
        .pop()
        .unwrap();
        rewrite(&mut statement);
        assert_eq!(
            statement.to_string(),
            "SELECT a, c FROM (SELECT a, b AS c, CASE WHEN x IN (SELECT y FROM u) THEN 0 ELSE 1 END \
             AS \"?sort?1\" FROM t) AS sorted ORDER BY \"?sort?1\", a LIMIT 5"
        );
    }
}
