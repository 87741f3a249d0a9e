//! Filters DataFusion pushes into a Delta scan never read a float column.
//!
//! DataFusion's `FilterPushdown` rules hand a scan the conditions above it and the dynamic
//! filters of hash joins, TopK and aggregates; delta-rs's `DeltaScanExec` uses them to skip files
//! (the log's statistics) and Parquet row groups. Float statistics leave NaN out, so such a
//! filter on a float column skipped rows holding NaN (see `delta::scan_filters`): `t JOIN u ON
//! t.y = u.y` lost the NaN pairs, and a MERGE on a float key inserted a second row instead of
//! updating the NaN one.
//!
//! [`GuardFloatScans`] runs right before each `FilterPushdown` rule and puts a
//! [`FloatFilterBarrierExec`] above every Delta scan with a float column; the barrier lets through
//! every filter but those reading a float column, which stay where they are and are evaluated row
//! by row. [`DropFloatFilterBarriers`], right after, removes the barriers: no other rule sees them.

use std::fmt;
use std::sync::Arc;

use datafusion::common::Result as DfResult;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::utils::collect_columns;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::filter_pushdown::{FilterDescription, FilterPushdownPhase};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};

use super::leaf_limits::{Rule, surround};
use crate::delta::holds_floats;

/// The name of DataFusion's filter pushdown rules ("FilterPushdown", "FilterPushdown(Post)").
const FILTER_PUSHDOWN_RULE: &str = "FilterPushdown";

/// The name of delta-rs's scan node.
const DELTA_SCAN: &str = "DeltaScanExec";

/// A column no child has: a filter mapped to it is reported unsupported (delta-rs's own way to
/// refuse one filter of several, for want of a public API).
const NO_SUCH_COLUMN: &str = "__deltagres_float_filter_kept_above__";

/// `rules` (DataFusion's physical optimizer rules, in order) with [`GuardFloatScans`] right
/// before each filter pushdown rule and [`DropFloatFilterBarriers`] right after it.
pub fn with_float_filter_barriers(rules: Vec<Rule>) -> Vec<Rule> {
    let (out, placed) = surround(
        rules,
        |name| name.starts_with(FILTER_PUSHDOWN_RULE),
        || Arc::new(GuardFloatScans),
        || Arc::new(DropFloatFilterBarriers),
    );
    if !placed {
        // The unit test below fails first when DataFusion renames the rule.
        tracing::error!(
            "DataFusion has no `{FILTER_PUSHDOWN_RULE}` physical optimizer rule: float columns are not guarded against NaN-blind pruning"
        );
    }
    out
}

/// Puts a [`FloatFilterBarrierExec`] above each Delta scan that has a float column.
#[derive(Debug, Default)]
pub struct GuardFloatScans;

impl PhysicalOptimizerRule for GuardFloatScans {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(plan
            .transform_up(|node| {
                let guard = node.name() == DELTA_SCAN
                    && node
                        .schema()
                        .fields()
                        .iter()
                        .any(|f| holds_floats(f.data_type()));
                Ok(if guard {
                    Transformed::yes(Arc::new(FloatFilterBarrierExec { input: node }) as _)
                } else {
                    Transformed::no(node)
                })
            })?
            .data)
    }

    fn name(&self) -> &str {
        "deltagres_guard_float_scans"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Removes the barriers [`GuardFloatScans`] put in.
#[derive(Debug, Default)]
pub struct DropFloatFilterBarriers;

impl PhysicalOptimizerRule for DropFloatFilterBarriers {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(plan
            .transform_up(|node| {
                Ok(match node.downcast_ref::<FloatFilterBarrierExec>() {
                    Some(barrier) => Transformed::yes(barrier.input.clone()),
                    None => Transformed::no(node),
                })
            })?
            .data)
    }

    fn name(&self) -> &str {
        "deltagres_drop_float_filter_barriers"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// A pass-through node that passes its input every filter but those reading a float column.
/// Lives only around the filter pushdown rules.
#[derive(Debug)]
pub struct FloatFilterBarrierExec {
    input: Arc<dyn ExecutionPlan>,
}

impl FloatFilterBarrierExec {
    fn reads_floats(&self, filter: &Arc<dyn PhysicalExpr>) -> bool {
        let schema = self.input.schema();
        collect_columns(filter).iter().any(|c| {
            schema
                .fields()
                .get(c.index())
                .is_none_or(|f| holds_floats(f.data_type()))
        })
    }
}

impl DisplayAs for FloatFilterBarrierExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "FloatFilterBarrierExec")
    }
}

impl ExecutionPlan for FloatFilterBarrierExec {
    fn name(&self) -> &str {
        "FloatFilterBarrierExec"
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

    fn gather_filters_for_pushdown(
        &self,
        _phase: FilterPushdownPhase,
        parent_filters: Vec<Arc<dyn PhysicalExpr>>,
        _config: &ConfigOptions,
    ) -> DfResult<FilterDescription> {
        let passed = parent_filters
            .into_iter()
            .map(|filter| {
                if self.reads_floats(&filter) {
                    Arc::new(Column::new(NO_SUCH_COLUMN, usize::MAX)) as Arc<dyn PhysicalExpr>
                } else {
                    filter
                }
            })
            .collect();
        FilterDescription::from_children(passed, &self.children())
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
    fn the_barriers_surround_both_filter_pushdown_rules() {
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_default_features()
            .build();
        let rules = with_float_filter_barriers(state.physical_optimizers().to_vec());
        let names: Vec<&str> = rules.iter().map(|r| r.name()).collect();
        for pushdown in ["FilterPushdown", "FilterPushdown(Post)"] {
            let at = names
                .iter()
                .position(|n| *n == pushdown)
                .expect("DataFusion has both filter pushdown rules");
            assert_eq!(names[at - 1], "deltagres_guard_float_scans");
            assert_eq!(names[at + 1], "deltagres_drop_float_filter_barriers");
        }
    }
}
