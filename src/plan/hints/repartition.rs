//! A repartition asked for by a hint (REPARTITION, REPARTITION_BY_RANGE, COALESCE), kept in the plan.
//!
//! DataFusion's distribution pass removes every repartition that nothing above it requires, so
//! a plain `RepartitionExec` from a hint would vanish. [`HintedRepartitionExec`] owns its
//! `RepartitionExec` and shows the optimizer only the input below it: the optimizer can rework
//! that input but not drop the repartition.

use std::fmt;
use std::sync::Arc;

use datafusion::common::Result as DfResult;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};

/// The hinted repartition: runs its inner `RepartitionExec`, whose input is this node's child.
#[derive(Debug)]
pub struct HintedRepartitionExec {
    hint: String,
    inner: Arc<RepartitionExec>,
}

impl HintedRepartitionExec {
    /// Keeps `inner` (planned from the hint's logical repartition) for the hint `hint`.
    pub fn new(hint: String, inner: Arc<RepartitionExec>) -> Self {
        Self { hint, inner }
    }
}

impl DisplayAs for HintedRepartitionExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "RepartitionExec: partitioning={}, input_partitions={}, hint={}",
            self.inner.partitioning(),
            self.inner
                .input()
                .properties()
                .output_partitioning()
                .partition_count(),
            self.hint
        )
    }
}

impl ExecutionPlan for HintedRepartitionExec {
    fn name(&self) -> &str {
        "HintedRepartitionExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        self.inner.maintains_input_order()
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.inner.input()]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        self.inner.apply_expressions(f)
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let mut inner =
            RepartitionExec::try_new(children.swap_remove(0), self.inner.partitioning().clone())?;
        if self.inner.preserve_order() {
            inner = inner.with_preserve_order();
        }
        Ok(Arc::new(Self {
            hint: self.hint.clone(),
            inner: Arc::new(inner),
        }))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        self.inner.execute(partition, context)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        self.inner.metrics()
    }
}
