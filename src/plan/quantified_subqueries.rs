//! `x op ANY / ALL (SELECT ...)` in an UPDATE's or DELETE's condition: delta-rs cannot run a
//! subquery in a condition, and the statement planner runs `IN (SELECT ...)` as a join (see
//! `dml_join`); the quantified forms that mean an IN become one.

use sqlparser::ast::Expr;

use crate::error::{Error, Result};

/// `x = ANY (SELECT ...)` as `x IN (SELECT ...)` and `x <> ALL (SELECT ...)` as `x NOT IN
/// (SELECT ...)`, which PostgreSQL defines them to be (NULLs alike), so a write's condition runs
/// as an IN does; another comparison with a subquery's rows (`> ALL`) is 0A000 (its subquery
/// was read as a scalar one: 21000 for more than one row).
pub(super) fn as_in(expr: &mut Expr) -> Result<()> {
    use sqlparser::ast::BinaryOperator;
    let mut refused = None;
    let _ = sqlparser::ast::visit_expressions_mut(expr, |e: &mut Expr| {
        let (negated, left, query) = match e {
            Expr::AnyOp {
                left,
                compare_op: BinaryOperator::Eq,
                right,
                ..
            } if matches!(right.as_ref(), Expr::Subquery(_)) => (false, left, right),
            Expr::AllOp {
                left,
                compare_op: BinaryOperator::NotEq,
                right,
            } if matches!(right.as_ref(), Expr::Subquery(_)) => (true, left, right),
            Expr::AnyOp { right, .. } | Expr::AllOp { right, .. }
                if matches!(right.as_ref(), Expr::Subquery(_)) =>
            {
                refused = Some(e.to_string());
                return std::ops::ControlFlow::Break(());
            }
            _ => return std::ops::ControlFlow::Continue(()),
        };
        let Expr::Subquery(subquery) = query.as_ref() else {
            return std::ops::ControlFlow::Continue(());
        };
        *e = Expr::InSubquery {
            expr: left.clone(),
            subquery: subquery.clone(),
            negated,
        };
        std::ops::ControlFlow::Continue(())
    });
    match refused {
        Some(comparison) => Err(Error::unsupported(format!(
            "a comparison with every row of a subquery ({comparison}) is not supported in UPDATE or DELETE"
        ))
        .with_hint("compare with the subquery's min() or max() instead (`x > (SELECT max(y) ...)`), or use = ANY / IN")),
        None => Ok(()),
    }
}
