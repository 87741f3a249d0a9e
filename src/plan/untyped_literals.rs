//! PostgreSQL's untyped string literals: in `indisprimary = 't'` or `active = 'false'` the
//! literal takes the boolean type of the other side (Tableau's psqlODBC and hand-written SQL
//! compare that way); DataFusion refuses to compare Boolean with Utf8. This analyzer rule runs
//! before type coercion and turns such literals into booleans. Likewise a literal compared with
//! a timestamp (`ts >= '2024-01-01 10:00'`, also in BETWEEN) in a form PostgreSQL reads and
//! Arrow's cast does not (a clock without seconds) gets the seconds (see
//! `semantics::timestamp_text_with_seconds`); type coercion would cast it before any later rule.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator};
use datafusion::optimizer::AnalyzerRule;

/// The analyzer rule; see the module documentation.
#[derive(Debug, Default)]
pub struct BooleanStringLiterals;

impl AnalyzerRule for BooleanStringLiterals {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            // Most nodes compare no string literal: skip them before building a schema (this
            // runs for every node of every statement).
            let mut candidate = false;
            plan.apply_expressions(|expr| {
                candidate = expr.exists(|e| {
                    Ok(comparison_with_boolean_literal(e) || comparison_with_clock_text(e))
                })?;
                Ok(if candidate {
                    TreeNodeRecursion::Stop
                } else {
                    TreeNodeRecursion::Continue
                })
            })?;
            if !candidate {
                return Ok(Transformed::no(plan));
            }
            let inputs = plan.inputs();
            let schema = match inputs.as_slice() {
                [input] => Arc::clone(input.schema()),
                _ => {
                    let mut schema = DFSchema::empty();
                    for input in &inputs {
                        schema.merge(input.schema());
                    }
                    Arc::new(schema)
                }
            };
            plan.map_expressions(|expr| expr.transform_up(|e| coerce(e, &schema)))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "deltagres_boolean_string_literals"
    }
}

/// Whether `expr` compares something with a string literal that reads as a boolean.
fn comparison_with_boolean_literal(expr: &Expr) -> bool {
    matches!(expr, Expr::BinaryExpr(BinaryExpr { left, op, right })
        if matches!(
            op,
            Operator::Eq | Operator::NotEq | Operator::IsDistinctFrom | Operator::IsNotDistinctFrom
        ) && (boolean_literal(left).is_some() || boolean_literal(right).is_some()))
}

/// Whether `expr` compares something with a string literal that is a timestamp without seconds.
fn comparison_with_clock_text(expr: &Expr) -> bool {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            crate::semantics::is_comparison(*op)
                && (clock_text(left).is_some() || clock_text(right).is_some())
        }
        Expr::Between(between) => {
            clock_text(&between.low).is_some() || clock_text(&between.high).is_some()
        }
        _ => false,
    }
}

/// The literal's text with the seconds added, when it is a timestamp text without them.
fn clock_text(expr: &Expr) -> Option<String> {
    let Expr::Literal(ScalarValue::Utf8(Some(text)) | ScalarValue::Utf8View(Some(text)), _) = expr
    else {
        return None;
    };
    crate::semantics::timestamp_text_with_seconds(text)
}

/// `expr` with the seconds added to its text, when it is such a literal.
fn with_seconds(expr: Expr) -> Expr {
    match clock_text(&expr) {
        Some(text) => Expr::Literal(ScalarValue::Utf8(Some(text)), None),
        None => expr,
    }
}

/// A comparison of a timestamp with such a literal, the literal with its seconds.
fn coerce_clock_text(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let is_timestamp = |e: &Expr| {
        e.get_type(schema)
            .is_ok_and(|t| matches!(t, datafusion::arrow::datatypes::DataType::Timestamp(..)))
    };
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if is_timestamp(&left) || is_timestamp(&right) =>
        {
            Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(with_seconds(*left)),
                op,
                Box::new(with_seconds(*right)),
            ))))
        }
        Expr::Between(mut between) if is_timestamp(&between.expr) => {
            between.low = Box::new(with_seconds(*between.low));
            between.high = Box::new(with_seconds(*between.high));
            Ok(Transformed::yes(Expr::Between(between)))
        }
        other => Ok(Transformed::no(other)),
    }
}

fn coerce(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    if comparison_with_clock_text(&expr) {
        return coerce_clock_text(expr, schema);
    }
    if !comparison_with_boolean_literal(&expr) {
        return Ok(Transformed::no(expr));
    }
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = &expr else {
        return Ok(Transformed::no(expr));
    };
    let is_boolean = |e: &Expr| {
        e.get_type(schema)
            .is_ok_and(|t| t == datafusion::arrow::datatypes::DataType::Boolean)
    };
    let (new_left, new_right) = match (boolean_literal(left), boolean_literal(right)) {
        (Some(value), None) if is_boolean(right) => {
            (Expr::Literal(value, None), right.as_ref().clone())
        }
        (None, Some(value)) if is_boolean(left) => {
            (left.as_ref().clone(), Expr::Literal(value, None))
        }
        _ => return Ok(Transformed::no(expr)),
    };
    Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
        Box::new(new_left),
        *op,
        Box::new(new_right),
    ))))
}

/// A string literal PostgreSQL reads as a boolean (`t`, `true`, `yes`, `on`, `1` and opposites).
fn boolean_literal(expr: &Expr) -> Option<ScalarValue> {
    let Expr::Literal(ScalarValue::Utf8(Some(text)) | ScalarValue::Utf8View(Some(text)), _) = expr
    else {
        return None;
    };
    let value = match text.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "on" | "1" => true,
        "f" | "false" | "n" | "no" | "off" | "0" => false,
        _ => return None,
    };
    Some(ScalarValue::Boolean(Some(value)))
}
