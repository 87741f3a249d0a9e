//! Row comparisons as PostgreSQL defines them: `ROW(a1, a2) = ROW(b1, b2)` is `a1 = b1 AND a2 =
//! b2`, `<>` the OR of the differences, and `<` / `<=` / `>` / `>=` compare left to right up
//! to the first pair that differs, so a NULL in the pair that decides makes the answer NULL.
//! DataFusion compared the two rows as struct values, where NULL fields are equal:
//! `ROW(1, NULL) = ROW(1, NULL)` was true (PostgreSQL: NULL). `(a, b) IN ((1, 2), (3, 4))` is the
//! OR of those equalities (NOT IN the AND of the differences), with the same NULLs.
//! Both sides must be written as rows (`ROW(...)` or `(..., ...)`) of one length; other row
//! comparisons are left to the engine.

use std::ops::ControlFlow;

use sqlparser::ast::{
    self, BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, VisitMut,
    VisitorMut,
};

use super::pg_functions::binary;

/// Rewrites the row comparisons of `statement`.
pub fn rewrite(statement: &mut ast::Statement) {
    let _ = statement.visit(&mut RowComparisons);
}

/// [`rewrite`] for a query (the query of a CREATE TABLE ... AS).
pub fn rewrite_query(query: &mut ast::Query) {
    let _ = query.visit(&mut RowComparisons);
}

struct RowComparisons;

impl VisitorMut for RowComparisons {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Some(compared) = element_wise(expr) {
            *expr = compared;
        }
        ControlFlow::Continue(())
    }
}

/// The element-wise form of a comparison of two written rows; None for anything else.
fn element_wise(expr: &Expr) -> Option<Expr> {
    match expr {
        Expr::BinaryOp { left, op, right } => {
            let (left, right) = (row_values(left)?, row_values(right)?);
            (left.len() == right.len()).then_some(())?;
            compare_rows(&left, op, &right)
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let row = row_values(expr)?;
            let alternatives = list
                .iter()
                .map(|item| {
                    let item = row_values(item).filter(|item| item.len() == row.len())?;
                    let op = if *negated {
                        BinaryOperator::NotEq
                    } else {
                        BinaryOperator::Eq
                    };
                    compare_rows(&row, &op, &item)
                })
                .collect::<Option<Vec<Expr>>>()?;
            let joiner = if *negated {
                BinaryOperator::And
            } else {
                BinaryOperator::Or
            };
            alternatives
                .into_iter()
                .reduce(|all, next| binary(all, joiner.clone(), next))
        }
        _ => None,
    }
}

/// `left op right` over rows of one length, element by element.
fn compare_rows(left: &[Expr], op: &BinaryOperator, right: &[Expr]) -> Option<Expr> {
    let pairs = left.iter().cloned().zip(right.iter().cloned());
    let all = |op: BinaryOperator, joiner: BinaryOperator| {
        pairs
            .clone()
            .map(|(l, r)| binary(l, op.clone(), r))
            .reduce(|all, next| binary(all, joiner.clone(), next))
    };
    match op {
        BinaryOperator::Eq => all(BinaryOperator::Eq, BinaryOperator::And),
        BinaryOperator::NotEq => all(BinaryOperator::NotEq, BinaryOperator::Or),
        BinaryOperator::Lt | BinaryOperator::LtEq | BinaryOperator::Gt | BinaryOperator::GtEq => {
            let strict = match op {
                BinaryOperator::Lt | BinaryOperator::LtEq => BinaryOperator::Lt,
                _ => BinaryOperator::Gt,
            };
            // From the last pair back: `l1 < r1 OR (l1 = r1 AND (rest))`, the last pair with
            // the operator itself.
            let mut pairs: Vec<(Expr, Expr)> = pairs.collect();
            let (last_left, last_right) = pairs.pop()?;
            let mut decided = binary(last_left, op.clone(), last_right);
            while let Some((l, r)) = pairs.pop() {
                let tie = binary(
                    binary(l.clone(), BinaryOperator::Eq, r.clone()),
                    BinaryOperator::And,
                    decided,
                );
                decided = binary(binary(l, strict.clone(), r), BinaryOperator::Or, tie);
            }
            Some(decided)
        }
        _ => None,
    }
}

/// The values of a row written as `ROW(...)` or `(a, b, ...)`.
fn row_values(expr: &Expr) -> Option<Vec<Expr>> {
    let mut expr = expr;
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    match expr {
        Expr::Tuple(values) => Some(values.clone()),
        Expr::Function(function)
            if function.name.to_string().eq_ignore_ascii_case("row")
                && function.over.is_none()
                && function.filter.is_none() =>
        {
            let FunctionArguments::List(list) = &function.args else {
                return None;
            };
            // Only plain arguments (a named or starred one is not a row value).
            list.args
                .iter()
                .map(|arg| match arg {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(value)) => Some(value.clone()),
                    _ => None,
                })
                .collect()
        }
        _ => None,
    }
}
