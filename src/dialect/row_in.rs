//! `(a, b) IN (SELECT x, y FROM ...)`, a row compared with a subquery's rows, which DataFusion
//! refused ("Too many columns!"): as a condition of a WHERE clause (where a NULL answer and
//! false both drop the row) it is `EXISTS (SELECT 1 FROM (subquery) r WHERE r.x = a AND r.y =
//! b)`, which the engine runs as a semi-join. Elsewhere (a select list, under NOT, NOT IN) it
//! stays refused: there PostgreSQL's NULL and false differ.

use std::ops::ControlFlow;

use sqlparser::ast::{self, Expr, Select, VisitMut, VisitorMut};

use super::pg_rewrites::{and_all, conjuncts};

/// Rewrites the row-valued IN conditions of every WHERE clause of `statement`.
pub fn rewrite(statement: &mut ast::Statement) {
    let _ = statement.visit(&mut RowInSubqueries);
}

/// [`rewrite`] for a query.
pub fn rewrite_query(query: &mut ast::Query) {
    let _ = query.visit(&mut RowInSubqueries);
}

struct RowInSubqueries;

impl VisitorMut for RowInSubqueries {
    type Break = ();

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        let Some(selection) = select.selection.take() else {
            return ControlFlow::Continue(());
        };
        let parts: Vec<Expr> = conjuncts(selection)
            .into_iter()
            .map(|condition| as_exists(&condition).unwrap_or(condition))
            .collect();
        select.selection = and_all(parts);
        ControlFlow::Continue(())
    }
}

/// `(a, b) IN (SELECT ...)` as the EXISTS it means in a filter; None for anything else.
fn as_exists(condition: &Expr) -> Option<Expr> {
    let Expr::InSubquery {
        expr,
        subquery,
        negated: false,
    } = condition
    else {
        return None;
    };
    let mut row = expr.as_ref();
    while let Expr::Nested(inner) = row {
        row = inner;
    }
    let Expr::Tuple(values) = row else {
        return None;
    };
    let names: Vec<String> = (1..=values.len())
        .map(|i| format!("__row_in_{i}"))
        .collect();
    let matches: Vec<String> = values
        .iter()
        .zip(&names)
        .map(|(value, name)| format!("__row_in.{name} = ({value})"))
        .collect();
    let sql = format!(
        "EXISTS (SELECT 1 FROM ({subquery}) AS __row_in ({}) WHERE {})",
        names.join(", "),
        matches.join(" AND ")
    );
    let dialect = super::lakehouse::LakehouseDialect::default();
    sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(&sql)
        .and_then(|mut parser| parser.parse_expr())
        .ok()
}
