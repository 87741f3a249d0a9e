//! Casts inside function arguments made distinguishable to DataFusion's planner.
//!
//! DataFusion names a cast after its operand, so `sum(x::float8)` and `sum(x)` are both
//! `sum(t.x)` and the aggregate's schema refuses the second ("duplicate unqualified field
//! name"), where PostgreSQL answers both (apache/datafusion#18975). When planning fails so,
//! the statement is planned again with each such cast's operand written as
//! `CASE WHEN TRUE THEN operand END`: the same value and type under a different name, which
//! the optimizer folds back to the operand. Statements that plan are never rewritten, and only
//! a statement holding such a cast is copied for the second attempt.

use std::ops::ControlFlow;

use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use sqlparser::ast::{
    self, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Value,
};

/// Whether DataFusion refused a plan because two of its expressions got one name.
pub fn is_name_collision(error: &DataFusionError) -> bool {
    match error.find_root() {
        DataFusionError::SchemaError(schema_error, _) => matches!(
            schema_error.as_ref(),
            SchemaError::DuplicateUnqualifiedField { .. }
                | SchemaError::DuplicateQualifiedField { .. }
        ),
        _ => false,
    }
}

/// The statement to plan if `statement`'s plan fails with a name collision: a copy with its
/// casts of non-literal function arguments renamed; None when it has no such cast (a second
/// attempt would fail alike).
pub fn retry_copy(statement: &ast::Statement) -> Option<ast::Statement> {
    let found = ast::visit_expressions(statement, |expr| match expr {
        Expr::Function(function) if argument_values(function).any(renamable) => {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    });
    if !found.is_break() {
        return None;
    }
    let mut copy = statement.clone();
    let _ = ast::visit_expressions_mut(&mut copy, |expr| {
        if let Expr::Function(function) = expr
            && let FunctionArguments::List(list) = &mut function.args
        {
            for arg in &mut list.args {
                if let Some(value) = argument_value_mut(arg)
                    && renamable(value)
                    && let Expr::Cast { expr: operand, .. } = value
                {
                    let inner =
                        std::mem::replace(operand.as_mut(), Expr::Value(Value::Null.into()));
                    **operand = crate::dialect::case_when(
                        Expr::Value(Value::Boolean(true).into()),
                        inner,
                        None,
                    );
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
    Some(copy)
}

/// A cast of a non-literal operand (a literal's cast is typed input, read as such).
fn renamable(expr: &Expr) -> bool {
    matches!(expr, Expr::Cast { expr: operand, .. }
        if !matches!(operand.as_ref(), Expr::Value(_) | Expr::TypedString { .. }))
}

/// The expressions a function is called with (named or not).
fn argument_values(function: &Function) -> impl Iterator<Item = &Expr> {
    let args = match &function.args {
        FunctionArguments::List(list) => list.args.as_slice(),
        _ => &[],
    };
    args.iter().filter_map(|arg| match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(value))
        | FunctionArg::Named {
            arg: FunctionArgExpr::Expr(value),
            ..
        }
        | FunctionArg::ExprNamed {
            arg: FunctionArgExpr::Expr(value),
            ..
        } => Some(value),
        _ => None,
    })
}

fn argument_value_mut(arg: &mut FunctionArg) -> Option<&mut Expr> {
    match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(value))
        | FunctionArg::Named {
            arg: FunctionArgExpr::Expr(value),
            ..
        }
        | FunctionArg::ExprNamed {
            arg: FunctionArgExpr::Expr(value),
            ..
        } => Some(value),
        _ => None,
    }
}
