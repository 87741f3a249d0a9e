//! `EXCEPT ALL` and `INTERSECT ALL` as multiset operations, as in PostgreSQL: a row that appears
//! m times on the left and n times on the right appears max(m - n, 0) times in `EXCEPT ALL` and
//! min(m, n) times in `INTERSECT ALL`. DataFusion plans them as an anti (semi) join of all
//! columns, which removed every copy of a row the right side has once (`{1, 1, 5} EXCEPT ALL {1}`
//! was `{5}`; PostgreSQL: `{1, 5}`) and kept every copy the right side has one of.
//!
//! This analyzer rule numbers the copies of each row on both sides (`row_number() OVER
//! (PARTITION BY every column)`) and joins on the rows and their copy numbers: the k-th copy on
//! the left is removed (kept) when the right has at least k copies.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, NullEquality, Result};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{
    Expr, ExprFunctionExt, Join, JoinType, LogicalPlan, LogicalPlanBuilder,
};
use datafusion::optimizer::AnalyzerRule;

/// The column numbering each row's copies.
const COPY: &str = "__deltagres_copy";

/// The right side's name inside the rewritten join.
const RIGHT: &str = "__deltagres_set_right";

/// The analyzer rule; see the module documentation.
#[derive(Debug, Default)]
pub struct MultisetExceptIntersect;

impl AnalyzerRule for MultisetExceptIntersect {
    fn name(&self) -> &str {
        "deltagres_multiset_except_intersect"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| match node {
            LogicalPlan::Join(join) if is_set_all(&join) => Ok(Transformed::yes(numbered(join)?)),
            other => Ok(Transformed::no(other)),
        })
        .map(|t| t.data)
    }
}

/// Whether `join` is the one DataFusion builds for `EXCEPT ALL` / `INTERSECT ALL`: an anti
/// (semi) join of every column pairwise, NULLs equal, no other condition, and a left side that
/// is not made distinct (the `EXCEPT` / `INTERSECT` form, whose answer is right as it is).
fn is_set_all(join: &Join) -> bool {
    matches!(join.join_type, JoinType::LeftAnti | JoinType::LeftSemi)
        && join.null_equality == NullEquality::NullEqualsNull
        && join.filter.is_none()
        && join.on.len() == join.left.schema().fields().len()
        && join.on.len() == join.right.schema().fields().len()
        && !matches!(join.left.as_ref(), LogicalPlan::Distinct(_))
}

/// `plan` with each row's copies numbered 1, 2, ... in [`COPY`].
fn with_copy_numbers(plan: LogicalPlan) -> Result<LogicalPlan> {
    let columns: Vec<Expr> = plan
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let copy = row_number().partition_by(columns).build()?.alias(COPY);
    LogicalPlanBuilder::from(plan).window(vec![copy])?.build()
}

/// The join on the rows and their copy numbers, with the left side's columns.
fn numbered(join: Join) -> Result<LogicalPlan> {
    let left_columns: Vec<Column> = join.left.schema().columns();
    let left = with_copy_numbers(Arc::unwrap_or_clone(join.left))?;
    let right = LogicalPlanBuilder::from(with_copy_numbers(Arc::unwrap_or_clone(join.right))?)
        .alias(RIGHT)?
        .build()?;
    let mut left_keys: Vec<Column> = left_columns.clone();
    left_keys.push(Column::from_name(COPY));
    let right_keys: Vec<Column> = right.schema().columns();
    LogicalPlanBuilder::from(left)
        .join_detailed(
            right,
            join.join_type,
            (left_keys, right_keys),
            None,
            NullEquality::NullEqualsNull,
        )?
        .project(left_columns.into_iter().map(Expr::Column))?
        .build()
}
