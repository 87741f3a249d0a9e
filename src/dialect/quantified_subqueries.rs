//! `x > ALL (SELECT ...)` (and `>=`, `<`, `<=`, with ANY / SOME too) in a select list, which
//! DataFusion plans only as a filter: the answer follows from the subquery's count of rows, count
//! of non-NULL values and minimum or maximum, each a scalar subquery, with PostgreSQL's NULLs:
//!
//! `x > ALL (s)` is true for no rows, NULL for a NULL `x`, false when `x <= max(s)`, NULL when
//! `s` holds a NULL, else true; `x > ANY (s)` is false for no rows, NULL for a NULL `x`, true when
//! `x > min(s)`, NULL when `s` holds a NULL, else false (`<` mirrors with the other extreme).
//! WHERE conditions are left to the engine, which already answers them, and so is a subquery
//! that reads the outer row (`outer.column`), which stays 0A000.

use std::ops::ControlFlow;

use sqlparser::ast::{
    self, BinaryOperator, Expr, Query, SelectItem, SetExpr, VisitMut, VisitorMut,
    visit_expressions_mut,
};

/// Rewrites the quantified comparisons with a subquery in every select list of `statement`.
pub fn rewrite(statement: &mut ast::Statement) {
    let _ = statement.visit(&mut SelectLists);
}

struct SelectLists;

impl VisitorMut for SelectLists {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = query.body.as_mut() {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item
                {
                    let _ = visit_expressions_mut(e, |expr: &mut Expr| {
                        if let Some(answer) = quantified(expr) {
                            *expr = answer;
                        }
                        ControlFlow::<()>::Continue(())
                    });
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// The CASE that answers `x op ALL / ANY (subquery)` for an ordering `op`; None for others.
fn quantified(expr: &Expr) -> Option<Expr> {
    let (left, op, right, all) = match expr {
        Expr::AllOp {
            left,
            compare_op,
            right,
        } => (left, compare_op, right, true),
        Expr::AnyOp {
            left,
            compare_op,
            right,
            ..
        } => (left, compare_op, right, false),
        _ => return None,
    };
    let Expr::Subquery(subquery) = right.as_ref() else {
        return None;
    };
    if reads_outer_row(subquery) {
        return None;
    }
    let op_text = match op {
        BinaryOperator::Gt => ">",
        BinaryOperator::GtEq => ">=",
        BinaryOperator::Lt => "<",
        BinaryOperator::LtEq => "<=",
        _ => return None,
    };
    let greater = matches!(op, BinaryOperator::Gt | BinaryOperator::GtEq);
    // ALL compares with the extreme on the far side, ANY with the near one.
    let extreme = if greater == all { "max" } else { "min" };
    let of_rows = |aggregate: &str| {
        format!("(SELECT {aggregate} FROM ({subquery}) AS quantified_rows(quantified_value))")
    };
    let (count, non_null, bound) = (
        of_rows("count(*)"),
        of_rows("count(quantified_value)"),
        of_rows(&format!("{extreme}(quantified_value)")),
    );
    let x = format!("({left})");
    let sql = if all {
        format!(
            "CASE WHEN {count} = 0 THEN true WHEN {x} IS NULL THEN NULL \
             WHEN NOT ({x} {op_text} {bound}) THEN false \
             WHEN {non_null} < {count} THEN NULL ELSE true END"
        )
    } else {
        format!(
            "CASE WHEN {count} = 0 THEN false WHEN {x} IS NULL THEN NULL \
             WHEN {x} {op_text} {bound} THEN true \
             WHEN {non_null} < {count} THEN NULL ELSE false END"
        )
    };
    sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(&sql)
        .and_then(|mut parser| parser.parse_expr())
        .ok()
}

/// Whether the subquery names a column of a relation it does not read itself (`outer.c`).
fn reads_outer_row(subquery: &Query) -> bool {
    use sqlparser::ast::{TableFactor, Visit, Visitor};
    use std::collections::HashSet;
    struct Names(HashSet<String>);
    impl Visitor for Names {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            let name = match factor {
                TableFactor::Table {
                    alias: Some(alias), ..
                }
                | TableFactor::Derived {
                    alias: Some(alias), ..
                }
                | TableFactor::Function {
                    alias: Some(alias), ..
                }
                | TableFactor::UNNEST {
                    alias: Some(alias), ..
                } => Some(alias.name.value.clone()),
                TableFactor::Table { name, .. } => name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(|i| i.value.clone()),
                _ => None,
            };
            if let Some(name) = name {
                self.0.insert(name.to_ascii_lowercase());
            }
            ControlFlow::Continue(())
        }
    }
    let mut names = Names(HashSet::new());
    let _ = subquery.visit(&mut names);
    let mut outer = false;
    let _ = ast::visit_expressions(subquery, |expr: &Expr| {
        if let Expr::CompoundIdentifier(parts) = expr
            && parts.len() >= 2
            && !names
                .0
                .contains(&parts[parts.len() - 2].value.to_ascii_lowercase())
        {
            outer = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    outer
}
