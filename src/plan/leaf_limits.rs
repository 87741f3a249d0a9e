//! `LIMIT` kept above scans that cannot apply one.
//!
//! delta-rs answers a scan that needs no column (`SELECT 1 FROM t LIMIT 1`, `SELECT 'x' FROM t
//! LIMIT 5`, an `EXISTS` probe) from the log's row counts, with a leaf operator
//! (`DeltaScanMetaExec`) that tells DataFusion a limit may be pushed through it, takes no fetch
//! and has no input to pass it to. DataFusion's `LimitPushdown` then drops the limit: such a
//! query returned every row of the table (100,000 rows for `LIMIT 1`).
//!
//! [`GuardLeafLimits`] runs right before `LimitPushdown` and puts a [`LimitBarrierExec`] above
//! every leaf that claims to pass limits on without taking one; the barrier takes no limit
//! either, so `LimitPushdown` places the limit above it. [`DropLimitBarriers`], right after,
//! removes the barriers: the plan is the one DataFusion would build for a scan that does not
//! claim to pass limits on.

use std::fmt;
use std::sync::Arc;

use datafusion::common::Result as DfResult;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};

/// DataFusion's rule that pushes limits down (and drops them at a leaf that claims to pass them).
const LIMIT_PUSHDOWN_RULE: &str = "LimitPushdown";

/// An optimizer rule, as the session holds them.
pub type Rule = Arc<dyn PhysicalOptimizerRule + Send + Sync>;

/// `rules` with a fresh `before` right before and `after` right after each rule `target` picks
/// (a barrier and the rule that removes it, living only around that rule), and whether any was
/// picked.
pub fn surround(
    rules: Vec<Rule>,
    target: impl Fn(&str) -> bool,
    before: impl Fn() -> Rule,
    after: impl Fn() -> Rule,
) -> (Vec<Rule>, bool) {
    let mut out = Vec::with_capacity(rules.len() + 2);
    let mut placed = false;
    for rule in rules {
        let picked = target(rule.name());
        if picked {
            out.push(before());
        }
        out.push(rule);
        if picked {
            out.push(after());
            placed = true;
        }
    }
    (out, placed)
}

/// `rules` (DataFusion's physical optimizer rules, in order) with [`GuardLeafLimits`] right
/// before `LimitPushdown` and [`DropLimitBarriers`] right after it.
pub fn with_leaf_limit_guards(rules: Vec<Rule>) -> Vec<Rule> {
    let (out, placed) = surround(
        rules,
        |name| name == LIMIT_PUSHDOWN_RULE,
        || Arc::new(GuardLeafLimits),
        || Arc::new(DropLimitBarriers),
    );
    if !placed {
        // The unit test below fails first when DataFusion renames the rule.
        tracing::error!(
            "DataFusion has no `{LIMIT_PUSHDOWN_RULE}` physical optimizer rule: limits above metadata-only scans are not guarded"
        );
    }
    out
}

/// Whether `plan` is a leaf that lets a limit through without taking it (see the module header).
fn swallows_limits(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.children().is_empty()
        && plan.supports_limit_pushdown()
        && plan.fetch().is_none()
        && plan.with_fetch(Some(1)).is_none()
}

/// Puts a [`LimitBarrierExec`] above each leaf that would swallow a limit.
#[derive(Debug, Default)]
pub struct GuardLeafLimits;

impl PhysicalOptimizerRule for GuardLeafLimits {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(plan
            .transform_up(|node| {
                Ok(if swallows_limits(&node) {
                    Transformed::yes(Arc::new(LimitBarrierExec { input: node }) as _)
                } else {
                    Transformed::no(node)
                })
            })?
            .data)
    }

    fn name(&self) -> &str {
        "deltagres_guard_leaf_limits"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Removes the barriers [`GuardLeafLimits`] put in.
#[derive(Debug, Default)]
pub struct DropLimitBarriers;

impl PhysicalOptimizerRule for DropLimitBarriers {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(plan
            .transform_up(|node| {
                Ok(match node.downcast_ref::<LimitBarrierExec>() {
                    Some(barrier) => Transformed::yes(barrier.input.clone()),
                    None => Transformed::no(node),
                })
            })?
            .data)
    }

    fn name(&self) -> &str {
        "deltagres_drop_limit_barriers"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// A pass-through node that takes no limit and lets none through: `LimitPushdown` puts the
/// limit above it. Lives only between the two rules.
#[derive(Debug)]
pub struct LimitBarrierExec {
    input: Arc<dyn ExecutionPlan>,
}

impl DisplayAs for LimitBarrierExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "LimitBarrierExec")
    }
}

impl ExecutionPlan for LimitBarrierExec {
    fn name(&self) -> &str {
        "LimitBarrierExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(Self {
            input: children.swap_remove(0),
        }))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        self.input.execute(partition, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guards_surround_datafusions_limit_pushdown() {
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_default_features()
            .build();
        let rules = with_leaf_limit_guards(state.physical_optimizers().to_vec());
        let names: Vec<&str> = rules.iter().map(|r| r.name()).collect();
        let at = names
            .iter()
            .position(|n| *n == LIMIT_PUSHDOWN_RULE)
            .expect("DataFusion has a LimitPushdown rule");
        assert_eq!(names[at - 1], "deltagres_guard_leaf_limits");
        assert_eq!(names[at + 1], "deltagres_drop_limit_barriers");
    }
}
