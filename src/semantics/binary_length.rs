//! `length(bytea)` counts bytes, as in PostgreSQL. DataFusion cast the bytea to text first, which
//! writes `\x6162`, and counted its characters: `length('ab'::bytea)` was 6 (PostgreSQL: 2).
//! This analyzer rule runs before type coercion and plans it as the length of the value's hex
//! text, halved. (`octet_length(bytea)` is still refused, by DataFusion's planner.)

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, cast, lit};
use datafusion::optimizer::AnalyzerRule;

/// The analyzer rule; see the module documentation.
#[derive(Debug, Default)]
pub struct BinaryLength;

impl AnalyzerRule for BinaryLength {
    fn name(&self) -> &str {
        "deltagres_binary_length"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(rewrite_node)
            .map(|t| t.data)
    }
}

/// Whether `expr` is `length(x)` (DataFusion's `character_length`).
fn is_length(expr: &Expr) -> bool {
    matches!(expr, Expr::ScalarFunction(f)
        if f.args.len() == 1 && matches!(f.name(), "length" | "character_length"))
}

fn rewrite_node(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    if matches!(plan, LogicalPlan::Dml(_)) || !super::node_rewrite::mentions(&plan, is_length)? {
        return Ok(Transformed::no(plan));
    }
    let schema = super::node_rewrite::input_schema(&plan);
    super::node_rewrite::rewrite_expressions(plan, &schema, rewrite_expr)
}

fn rewrite_expr(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    if !is_length(&expr) {
        return Ok(Transformed::no(expr));
    }
    let Expr::ScalarFunction(ScalarFunction { args, .. }) = &expr else {
        return Ok(Transformed::no(expr));
    };
    let binary = args[0].get_type(schema).is_ok_and(|t| {
        matches!(
            t,
            DataType::Binary
                | DataType::LargeBinary
                | DataType::BinaryView
                | DataType::FixedSizeBinary(_)
        )
    });
    if !binary {
        return Ok(Transformed::no(expr));
    }
    let hex = datafusion::functions::encoding::expr_fn::encode(args[0].clone(), lit("hex"));
    let digits = datafusion::functions::unicode::expr_fn::character_length(hex);
    Ok(Transformed::yes(cast(digits / lit(2), DataType::Int32)))
}
