//! Operands of type bytea, typed and answered as PostgreSQL does. An analyzer rule that runs
//! before DataFusion's type coercion, which would turn a bytea into its `\x...` text first:
//! - `length` / `octet_length` of a bytea count its bytes (DataFusion counted the characters of
//!   its text: `length('ab'::bytea)` was 6, PostgreSQL 2; `octet_length` was refused);
//! - an untyped string literal beside a bytea is a bytea (`b || 'x'`, `sha256('\x6162')`), read
//!   by bytea's input function as PostgreSQL reads it (DataFusion: a text);
//! - `LIKE` / `SIMILAR TO` on a bytea is refused with 0A000 (DataFusion matched the pattern
//!   against the hex text and answered false).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::{BinaryExpr, Like, ScalarFunction};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, Operator, cast, lit};
use datafusion::optimizer::AnalyzerRule;

use crate::error::ErrorKind;

/// The analyzer rule; see the module documentation.
#[derive(Debug, Default)]
pub struct BinaryOperands;

impl AnalyzerRule for BinaryOperands {
    fn name(&self) -> &str {
        "deltagres_binary_operands"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(rewrite_node)
            .map(|t| t.data)
    }
}

/// The functions whose bytea arguments this rule looks at.
fn function_kind(name: &str) -> Option<Function> {
    Some(match name {
        "length" | "character_length" | "octet_length" => Function::Length,
        "sha224" | "sha256" | "sha384" | "sha512" => Function::Digest,
        _ => return None,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Function {
    Length,
    Digest,
}

/// Whether `expr` is an expression this rule may change.
fn is_candidate(expr: &Expr) -> bool {
    match expr {
        Expr::ScalarFunction(f) => function_kind(f.name()).is_some(),
        Expr::BinaryExpr(b) => b.op == Operator::StringConcat,
        Expr::Like(_) | Expr::SimilarTo(_) => true,
        _ => false,
    }
}

fn rewrite_node(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    if matches!(plan, LogicalPlan::Dml(_)) || !super::node_rewrite::mentions(&plan, is_candidate)? {
        return Ok(Transformed::no(plan));
    }
    let schema = super::node_rewrite::input_schema(&plan);
    super::node_rewrite::rewrite_expressions(plan, &schema, rewrite_expr)
}

fn is_binary(expr: &Expr, schema: &DFSchema) -> bool {
    expr.get_type(schema).is_ok_and(|t| t.is_binary())
}

/// A string literal as written, with no type given: PostgreSQL's `unknown`.
fn is_untyped_string(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Literal(
            ScalarValue::Utf8(_) | ScalarValue::LargeUtf8(_) | ScalarValue::Utf8View(_),
            _
        )
    )
}

/// An untyped string literal made a bytea (read by bytea's input function once the semantics
/// rule sees the cast); any other expression as it is.
fn as_bytea_if_untyped(expr: Expr) -> Expr {
    if is_untyped_string(&expr) {
        cast(expr, DataType::Binary)
    } else {
        expr
    }
}

fn rewrite_expr(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    match expr {
        Expr::ScalarFunction(ScalarFunction { func, args }) => {
            let Some(kind) = function_kind(func.name()) else {
                return Ok(Transformed::no(Expr::ScalarFunction(ScalarFunction {
                    func,
                    args,
                })));
            };
            match kind {
                Function::Length if args.len() == 1 && is_binary(&args[0], schema) => {
                    let hex = datafusion::functions::encoding::expr_fn::encode(
                        args[0].clone(),
                        lit("hex"),
                    );
                    let digits = datafusion::functions::unicode::expr_fn::character_length(hex);
                    Ok(Transformed::yes(cast(digits / lit(2), DataType::Int32)))
                }
                Function::Digest if args.len() == 1 && is_untyped_string(&args[0]) => {
                    let args = args.into_iter().map(as_bytea_if_untyped).collect();
                    Ok(Transformed::yes(func.call(args)))
                }
                _ => Ok(Transformed::no(Expr::ScalarFunction(ScalarFunction {
                    func,
                    args,
                }))),
            }
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if op == Operator::StringConcat
                && ((is_binary(&left, schema) && is_untyped_string(&right))
                    || (is_binary(&right, schema) && is_untyped_string(&left))) =>
        {
            Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(as_bytea_if_untyped(*left)),
                op,
                Box::new(as_bytea_if_untyped(*right)),
            ))))
        }
        Expr::Like(Like { expr, pattern, .. }) | Expr::SimilarTo(Like { expr, pattern, .. })
            if is_binary(&expr, schema) || is_binary(&pattern, schema) =>
        {
            Err(super::pg_error(
                ErrorKind::FeatureNotSupported,
                "LIKE and SIMILAR TO on bytea are not supported; match its text instead, \
                 e.g. convert_from(b, 'UTF8') LIKE 'a%' or encode(b, 'hex') LIKE '61%'",
            ))
        }
        other => Ok(Transformed::no(other)),
    }
}
