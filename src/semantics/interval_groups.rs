//! Intervals grouped as PostgreSQL groups them: by their comparison value (see
//! [`super::interval_order`]), so `interval '1 day'` and `interval '24 hours'` are one group of
//! GROUP BY, one row of DISTINCT and UNION, and match in INTERSECT / EXCEPT. DataFusion hashed
//! the (months, days, nanoseconds) fields, which made them two: a silent wrong answer.
//!
//! An analyzer rule (after the rewrites that plan INTERSECT / EXCEPT ALL with windows and joins)
//! rewrites the plan nodes that group: an aggregate grouped by an interval is
//! grouped by its key instead and returns, for the interval, one value of its group (the first
//! it meets, as PostgreSQL's hash aggregate returns the first of a group); a DISTINCT over
//! interval columns becomes that aggregate; a join whose keys are intervals (how INTERSECT and
//! EXCEPT are planned) joins on their keys; a window partitions by the keys of interval
//! PARTITION BY values. A projection on top of a rewritten aggregate gives the plan its former
//! columns and names. GROUPING SETS / ROLLUP / CUBE of intervals are refused (0A000).

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema, Result};
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{Aggregate, Distinct, Expr, LogicalPlan, Projection};
use datafusion::optimizer::AnalyzerRule;

use super::interval_order::{is_interval, key};

/// The analyzer rule; see the module documentation.
#[derive(Debug, Default)]
pub struct IntervalGroups;

impl AnalyzerRule for IntervalGroups {
    fn name(&self) -> &str {
        "deltagres_interval_groups"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| match plan {
            LogicalPlan::Distinct(Distinct::All(input)) if any_interval(input.schema()) => {
                let columns = input.schema().columns().into_iter().map(Expr::Column);
                let grouped = Aggregate::try_new(input, columns.collect(), Vec::new())?;
                Ok(Transformed::yes(keyed_aggregate(grouped)?))
            }
            LogicalPlan::Aggregate(aggregate) if grouping_sets_of_intervals(&aggregate) => {
                datafusion::common::not_impl_err!(
                    "GROUPING SETS, ROLLUP and CUBE of interval values are not supported (they would not group equal intervals written differently, such as '1 day' and '24 hours')"
                )
            }
            LogicalPlan::Aggregate(aggregate) if groups_intervals(&aggregate) => {
                Ok(Transformed::yes(keyed_aggregate(aggregate)?))
            }
            LogicalPlan::Join(mut join)
                if join
                    .on
                    .iter()
                    .any(|(left, _)| is_interval(left, join.left.schema())) =>
            {
                let left = join.left.schema().clone();
                join.on = std::mem::take(&mut join.on)
                    .into_iter()
                    .map(|(l, r)| {
                        if is_interval(&l, &left) {
                            (key(l), key(r))
                        } else {
                            (l, r)
                        }
                    })
                    .collect();
                Ok(Transformed::yes(LogicalPlan::Join(join)))
            }
            other => super::node_rewrite::rewrite_wanted(other, partitions, keyed_partitions),
        })
        .map(|t| t.data)
    }
}

/// A window function with a PARTITION BY (which may hold intervals).
fn partitions(expr: &Expr) -> bool {
    matches!(expr, Expr::WindowFunction(w) if !w.params.partition_by.is_empty())
}

/// A window function partitioned by the keys of its interval PARTITION BY values.
fn keyed_partitions(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::WindowFunction(mut window) = expr else {
        return Ok(Transformed::no(expr));
    };
    let mut changed = false;
    for partition in &mut window.params.partition_by {
        if is_interval(partition, schema) {
            *partition = key(partition.clone());
            changed = true;
        }
    }
    Ok(Transformed::new_transformed(
        Expr::WindowFunction(window),
        changed,
    ))
}

fn any_interval(schema: &DFSchema) -> bool {
    schema.fields().iter().any(|f| {
        matches!(
            f.data_type(),
            datafusion::arrow::datatypes::DataType::Interval(_)
        )
    })
}

/// Whether `aggregate` groups by an interval (plain GROUP BY: grouping sets are left as they are).
fn groups_intervals(aggregate: &Aggregate) -> bool {
    let input = aggregate.input.schema();
    !aggregate
        .group_expr
        .iter()
        .any(|g| matches!(g, Expr::GroupingSet(_)))
        && aggregate.group_expr.iter().any(|g| is_interval(g, input))
}

/// Whether `aggregate` has grouping sets with an interval in them.
fn grouping_sets_of_intervals(aggregate: &Aggregate) -> bool {
    let input = aggregate.input.schema();
    aggregate.group_expr.iter().any(|g| match g {
        Expr::GroupingSet(set) => set
            .distinct_expr()
            .into_iter()
            .any(|e| is_interval(e, input)),
        _ => false,
    })
}

/// `aggregate` grouped by the keys of its interval groups, each returning the first value of
/// its group, under a projection that gives the former columns, in order, by their names.
fn keyed_aggregate(aggregate: Aggregate) -> Result<LogicalPlan> {
    let input_schema = aggregate.input.schema().clone();
    let mut groups = Vec::with_capacity(aggregate.group_expr.len());
    let mut aggregates = aggregate.aggr_expr.clone();
    let mut picked: Vec<Option<String>> = Vec::with_capacity(aggregate.group_expr.len());
    for (i, group) in aggregate.group_expr.iter().enumerate() {
        if is_interval(group, &input_schema) {
            groups.push(key(group.clone()).alias(format!("__deltagres_interval_key{i}")));
            let name = format!("__deltagres_interval_value{i}");
            aggregates.push(
                Expr::AggregateFunction(AggregateFunction::new_udf(
                    datafusion::functions_aggregate::first_last::first_value_udaf(),
                    vec![group.clone()],
                    false,
                    None,
                    Vec::new(),
                    None,
                ))
                .alias(&name),
            );
            picked.push(Some(name));
        } else {
            groups.push(group.clone());
            picked.push(None);
        }
    }
    let keyed = Aggregate::try_new(aggregate.input.clone(), groups, aggregates)?;
    let keyed_schema = keyed.schema.clone();
    let columns = aggregate
        .schema
        .iter()
        .enumerate()
        .map(|(i, (qualifier, field))| {
            let value = match picked.get(i) {
                Some(Some(name)) => Expr::Column(Column::from_name(name)),
                _ => Expr::Column(Column::from(keyed_schema.qualified_field(i))),
            };
            value.alias_qualified(qualifier.cloned(), field.name())
        })
        .collect();
    Ok(LogicalPlan::Projection(Projection::try_new(
        columns,
        Arc::new(LogicalPlan::Aggregate(keyed)),
    )?))
}
