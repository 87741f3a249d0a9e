//! DataFusion's `eliminate_group_by_constant` rule, kept from aggregates whose keys share a
//! name.
//!
//! The rule drops a GROUP BY key that is a function of other keys (`GROUP BY x, x::float8`
//! groups by `x` alone) and projects the dropped key back above the aggregate. DataFusion
//! names a cast after its operand (apache/datafusion#18975), so that projection held two
//! columns named `t.x` and the statement failed ("Projections require unique expression
//! names"), where PostgreSQL answers it. Such an aggregate keeps its keys; every other one is
//! simplified as before.

use std::collections::HashSet;

use datafusion::common::tree_node::Transformed;
use datafusion::error::Result;
use datafusion::logical_expr::LogicalPlan;
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

/// `eliminate_group_by_constant`, skipped where its projection would repeat a name.
#[derive(Debug)]
pub struct RedundantGroupKeys {
    inner: std::sync::Arc<dyn OptimizerRule + Send + Sync>,
}

impl RedundantGroupKeys {
    /// The rule's name, as DataFusion's optimizer lists it.
    pub const NAME: &'static str = "eliminate_group_by_constant";

    /// Wraps DataFusion's rule.
    pub fn new(inner: std::sync::Arc<dyn OptimizerRule + Send + Sync>) -> Self {
        Self { inner }
    }
}

/// Whether two of the aggregate's output expressions have one name, as a projection compares
/// them (`t.x` for the column `x` of `t` and for a cast of it alike).
fn repeats_a_name(plan: &LogicalPlan) -> bool {
    let LogicalPlan::Aggregate(aggregate) = plan else {
        return false;
    };
    let mut seen = HashSet::new();
    aggregate
        .group_expr
        .iter()
        .chain(&aggregate.aggr_expr)
        .any(|expr| {
            let name = match expr.qualified_name() {
                (Some(qualifier), name) => format!("{qualifier}.{name}"),
                (None, name) => name,
            };
            !seen.insert(name)
        })
}

impl OptimizerRule for RedundantGroupKeys {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        self.inner.apply_order()
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        if repeats_a_name(&plan) {
            return Ok(Transformed::no(plan));
        }
        self.inner.rewrite(plan, config)
    }
}
