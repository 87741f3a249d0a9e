//! Casts inside function arguments made distinguishable to DataFusion's planner.
//!
//! DataFusion names a cast after its operand, so `sum(x::float8)` and `sum(x)` are both
//! `sum(t.x)` and the aggregate's schema refuses the second ("duplicate unqualified field
//! name"), where PostgreSQL answers both (apache/datafusion#18975). When planning fails so,
//! the statement is planned again with each such cast's operand written as
//! `CASE WHEN TRUE THEN operand END`: the same value and type under a different name, which
//! the optimizer folds back to the operand. Statements that plan are never rewritten.

use std::ops::ControlFlow;

use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use sqlparser::ast::{
    self, CaseWhen, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Value,
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

/// Rewrites the casts of non-literal operands that are function arguments; true when any was.
pub fn rewrite(statement: &mut ast::Statement) -> bool {
    let mut changed = false;
    let _ = ast::visit_expressions_mut(statement, |expr| {
        if let Expr::Function(function) = expr
            && let FunctionArguments::List(list) = &mut function.args
        {
            for arg in &mut list.args {
                let value = match arg {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(value))
                    | FunctionArg::Named {
                        arg: FunctionArgExpr::Expr(value),
                        ..
                    }
                    | FunctionArg::ExprNamed {
                        arg: FunctionArgExpr::Expr(value),
                        ..
                    } => value,
                    _ => continue,
                };
                changed |= rename_cast(value);
            }
        }
        ControlFlow::<()>::Continue(())
    });
    changed
}

/// Wraps a cast's operand, unless it is a literal (whose casts are typed input, read as such).
fn rename_cast(expr: &mut Expr) -> bool {
    let Expr::Cast { expr: operand, .. } = expr else {
        return false;
    };
    if matches!(operand.as_ref(), Expr::Value(_) | Expr::TypedString { .. }) {
        return false;
    }
    let inner = std::mem::replace(operand.as_mut(), Expr::Value(Value::Null.with_empty_span()));
    **operand = Expr::Case {
        case_token: ast::helpers::attached_token::AttachedToken::empty(),
        end_token: ast::helpers::attached_token::AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen {
            condition: Expr::Value(Value::Boolean(true).with_empty_span()),
            result: inner,
        }],
        else_result: None,
    };
    true
}
