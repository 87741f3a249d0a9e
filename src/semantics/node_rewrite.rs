//! What each of our analyzer rules does at one plan node: look whether any expression is of a
//! kind the rule rewrites (cheap, before any schema is built: the rules run for every node of
//! every statement), type expressions against the node's inputs, and rewrite every expression
//! keeping the output names the client sees.

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{Expr, LogicalPlan};

/// Whether an expression of `plan` (or a part of one) is one `wanted` picks.
pub(crate) fn mentions(plan: &LogicalPlan, wanted: impl Fn(&Expr) -> bool) -> Result<bool> {
    let mut found = false;
    plan.apply_expressions(|expr| {
        found = expr.exists(|e| Ok(wanted(e)))?;
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    })?;
    Ok(found)
}

/// The schema `plan`'s expressions are typed against: its inputs', merged (empty for a leaf).
pub(crate) fn input_schema(plan: &LogicalPlan) -> DFSchema {
    let inputs = plan.inputs();
    if inputs.is_empty() {
        DFSchema::empty()
    } else {
        merge_schema(&inputs)
    }
}

/// One node of a rule that rewrites expressions: untouched unless an expression of it is one
/// `wanted` picks, else [`rewrite_expressions`] typed against the node's inputs.
pub(crate) fn rewrite_wanted(
    plan: LogicalPlan,
    wanted: impl Fn(&Expr) -> bool,
    rewrite: impl Fn(Expr, &DFSchema) -> Result<Transformed<Expr>>,
) -> Result<Transformed<LogicalPlan>> {
    if !mentions(&plan, wanted)? {
        return Ok(Transformed::no(plan));
    }
    let schema = input_schema(&plan);
    rewrite_expressions(plan, &schema, rewrite)
}

/// `plan` with `rewrite` applied bottom-up to every part of every expression, each expression
/// keeping its output name; the node's schema is recomputed when anything changed.
pub(crate) fn rewrite_expressions(
    plan: LogicalPlan,
    schema: &DFSchema,
    rewrite: impl Fn(Expr, &DFSchema) -> Result<Transformed<Expr>>,
) -> Result<Transformed<LogicalPlan>> {
    let preserver = NamePreserver::new(&plan);
    let rewritten = plan.map_expressions(|expr| {
        let name = preserver.save(&expr);
        expr.transform_up(|e| rewrite(e, schema))?
            .map_data(|e| Ok(name.restore(e)))
    })?;
    if rewritten.transformed {
        rewritten.map_data(|p| p.recompute_schema())
    } else {
        Ok(rewritten)
    }
}
