//! Spark/Databricks query hints (`/*+ BROADCAST(c) */`, `SKEW`, `REPARTITION`, ...) made real.
//!
//! DataFusion parses hint comments but ignores them. [`collect`] reads them from every SELECT of a
//! statement; [`apply`] rewrites the optimized logical plan: join strategy hints become markers
//! that the physical rule in [`join`] acts on, SKEW salts the join ([`skew`]), and the
//! repartitioning hints add a repartition on top of the query. A hint never changes the result
//! rows; one that cannot be used is reported (a WARNING) and the query runs without it.

mod join;
mod parse;
mod repartition;
mod row_hash;
mod skew;

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::execution::SessionState;
use datafusion::logical_expr::{
    Expr, LogicalPlan, Partitioning, RangePartitioning, Repartition, SortExpr, col,
};
use datafusion::prelude::DataFrame;
use sqlparser::ast::{self, SetExpr, Visit, Visitor};

pub use join::{HintOutcome, LakehouseQueryPlanner, physical_optimizer_rules};
pub use parse::{Hint, JoinStrategy};
pub use row_hash::RowHash;

/// Session setting: salts per hot value for SKEW (default: the target partitions).
pub const SALT_BUCKETS_SETTING: &str = "deltagres.skew.salt_buckets";

/// Rows sampled to place range boundaries for REPARTITION_BY_RANGE.
const RANGE_SAMPLE_ROWS: usize = 100_000;

/// The hints of one statement and the warnings met while reading them.
#[derive(Debug, Default)]
pub struct Hints {
    /// The hints, in the order written.
    pub hints: Vec<Hint>,
    /// Hints that did not parse or are unknown.
    pub warnings: Vec<String>,
}

/// Reads the hint comments of every SELECT in `statement`.
pub fn collect<N: Visit>(statement: &N) -> Hints {
    struct Collect(Hints);
    impl Collect {
        fn body(&mut self, body: &SetExpr) {
            match body {
                SetExpr::Select(select) => {
                    for hint in &select.optimizer_hints {
                        if !hint.prefix.is_empty() {
                            continue;
                        }
                        let (mut hints, mut warnings) = parse::parse_hints(&hint.text);
                        self.0.hints.append(&mut hints);
                        self.0.warnings.append(&mut warnings);
                    }
                }
                SetExpr::SetOperation { left, right, .. } => {
                    self.body(left);
                    self.body(right);
                }
                _ => {}
            }
        }
    }
    impl Visitor for Collect {
        type Break = ();
        fn pre_visit_query(&mut self, query: &ast::Query) -> ControlFlow<()> {
            self.body(&query.body);
            ControlFlow::Continue(())
        }
    }
    let mut c = Collect(Hints::default());
    let _ = statement.visit(&mut c);
    c.0
}

/// What applying hints needs from the session.
pub struct HintEnv<'a> {
    /// The session state (runs the small queries SKEW and REPARTITION_BY_RANGE need).
    pub state: &'a SessionState,
    /// `deltagres.skew.salt_buckets`, when set.
    pub salt_buckets: Option<usize>,
}

/// Rewrites an optimized logical plan for `hints`; returns it and one outcome per hint.
pub async fn apply(
    env: &HintEnv<'_>,
    mut plan: LogicalPlan,
    hints: &Hints,
) -> datafusion::error::Result<(LogicalPlan, Vec<Arc<HintOutcome>>)> {
    let mut outcomes = Vec::new();
    let partitions = env.state.config().target_partitions().max(1);
    for hint in &hints.hints {
        let outcome = HintOutcome::new(hint.to_string());
        outcomes.push(outcome.clone());
        match hint {
            Hint::Join { strategy, relation } => {
                let (wrapped, found) = mark_relation(plan, relation, *strategy, &outcome)?;
                plan = wrapped;
                if !found {
                    outcome.ignored(format!("the query has no table or alias named {relation}"));
                }
            }
            Hint::Skew {
                relation,
                columns,
                values,
            } => {
                let settings = skew::SaltSettings {
                    buckets: env.salt_buckets.unwrap_or(partitions).max(1),
                    partitions,
                };
                let request = skew::SkewRequest {
                    relation,
                    columns,
                    values,
                };
                match skew::salt_join(env.state, plan.clone(), &request, &settings, &outcome).await
                {
                    Ok((salted, how)) => {
                        plan = salted;
                        outcome.applied(how);
                    }
                    Err(why) => outcome.ignored(why),
                }
            }
            Hint::Repartition {
                partitions: n,
                columns,
            } => {
                let n = n.unwrap_or(partitions);
                let scheme = if columns.is_empty() {
                    Partitioning::RoundRobinBatch(n)
                } else {
                    Partitioning::Hash(columns.iter().map(|c| col(c.as_str())).collect(), n)
                };
                plan = repartition_top(plan, scheme, &outcome)?;
            }
            Hint::RepartitionByRange {
                partitions: n,
                columns,
            } => {
                let n = n.unwrap_or(partitions);
                match range_partitioning(env.state, &plan, columns, n).await {
                    Ok(scheme) => plan = repartition_top(plan, scheme, &outcome)?,
                    Err(why) => outcome.ignored(why),
                }
            }
            Hint::Coalesce { partitions: n } => {
                plan = repartition_top(plan, Partitioning::RoundRobinBatch(*n), &outcome)?;
            }
        }
    }
    Ok((plan, outcomes))
}

/// Removes every hint marker from `plan` (keeping what it wraps), for a planner that does not know
/// them; join strategy hints are recorded as not applied because of `why`.
pub fn strip_markers(plan: LogicalPlan, why: &str) -> LogicalPlan {
    let stripped = plan.clone().transform_up(|node| {
        if let LogicalPlan::Extension(ext) = &node
            && let Some(marker) = ext.node.as_any().downcast_ref::<join::JoinHintNode>()
        {
            return Ok(Transformed::yes(marker.release(why)));
        }
        Ok(Transformed::no(node))
    });
    match stripped {
        Ok(t) => t.data,
        Err(_) => plan,
    }
}

/// Wraps the relation called `relation` (an alias, or an unaliased table) in a join-hint marker.
fn mark_relation(
    plan: LogicalPlan,
    relation: &str,
    strategy: JoinStrategy,
    outcome: &Arc<HintOutcome>,
) -> datafusion::error::Result<(LogicalPlan, bool)> {
    let mut has_alias = false;
    plan.apply(|node| {
        if let LogicalPlan::SubqueryAlias(a) = node
            && a.alias.table().eq_ignore_ascii_case(relation)
        {
            has_alias = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    let mut found = false;
    let plan = plan
        .transform_down(|node| {
            let matches = match &node {
                LogicalPlan::SubqueryAlias(a) => {
                    has_alias && a.alias.table().eq_ignore_ascii_case(relation)
                }
                LogicalPlan::TableScan(scan) => {
                    !has_alias && scan.table_name.table().eq_ignore_ascii_case(relation)
                }
                _ => false,
            };
            if !matches {
                return Ok(Transformed::no(node));
            }
            found = true;
            Ok(Transformed::new(
                join::JoinHintNode::wrap(Some(strategy), node, outcome.clone()),
                true,
                TreeNodeRecursion::Jump,
            ))
        })?
        .data;
    Ok((plan, found))
}

/// Puts a repartition over the query's rows, below any ORDER BY / LIMIT (which it would undo)
/// and below an INSERT's write.
fn repartition_top(
    plan: LogicalPlan,
    scheme: Partitioning,
    outcome: &Arc<HintOutcome>,
) -> datafusion::error::Result<LogicalPlan> {
    match plan {
        LogicalPlan::Sort(_) | LogicalPlan::Limit(_) | LogicalPlan::Dml(_) => {
            let mut children: Vec<LogicalPlan> = plan.inputs().into_iter().cloned().collect();
            if children.len() != 1 {
                outcome.ignored("the query's top has no single input to repartition");
                return Ok(plan);
            }
            let child = repartition_top(children.remove(0), scheme, outcome)?;
            plan.with_new_exprs(plan.expressions(), vec![child])
        }
        other => {
            outcome.applied(format!(
                "rows repartitioned by {}",
                describe_scheme(&scheme)
            ));
            let repartition = LogicalPlan::Repartition(Repartition {
                input: Arc::new(other),
                partitioning_scheme: scheme,
            });
            Ok(join::JoinHintNode::wrap(None, repartition, outcome.clone()))
        }
    }
}

fn describe_scheme(scheme: &Partitioning) -> String {
    match scheme {
        Partitioning::RoundRobinBatch(n) => format!("round robin into {n} partitions"),
        Partitioning::Hash(exprs, n) => format!(
            "hash of ({}) into {n} partitions",
            exprs
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Partitioning::Range(range) => format!(
            "ranges of ({}) into {} partitions",
            range
                .ordering()
                .iter()
                .map(|s| s.expr.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            range.partition_count()
        ),
        Partitioning::DistributeBy(exprs) => format!(
            "distribute by ({})",
            exprs
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Range boundaries for `columns` from a sample of the query's rows.
async fn range_partitioning(
    state: &SessionState,
    plan: &LogicalPlan,
    columns: &[String],
    partitions: usize,
) -> Result<Partitioning, String> {
    let err = |e: datafusion::error::DataFusionError| e.to_string();
    let exprs: Vec<Expr> = columns.iter().map(|c| col(c.as_str())).collect();
    let sort: Vec<SortExpr> = exprs
        .iter()
        .map(|e| SortExpr::new(e.clone(), true, false))
        .collect();
    let sample = DataFrame::new(state.clone(), plan.clone())
        .select(exprs.clone())
        .map_err(err)?
        .limit(0, Some(RANGE_SAMPLE_ROWS))
        .map_err(err)?
        .sort(sort.clone())
        .map_err(err)?
        .collect()
        .await
        .map_err(err)?;
    let rows: Vec<(usize, usize)> = sample
        .iter()
        .enumerate()
        .flat_map(|(b, batch)| (0..batch.num_rows()).map(move |r| (b, r)))
        .collect();
    let mut split_points: Vec<datafusion::common::SplitPoint> = Vec::new();
    for i in 1..partitions {
        let Some(&(b, r)) = rows.get(i * rows.len() / partitions) else {
            break;
        };
        let values = (0..columns.len())
            .map(|c| ScalarValue::try_from_array(sample[b].column(c), r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        let point = datafusion::common::SplitPoint::new(values);
        if split_points.last() != Some(&point) && point.values().iter().all(|v| !v.is_null()) {
            split_points.push(point);
        }
    }
    RangePartitioning::try_new(sort, split_points)
        .map(Partitioning::Range)
        .map_err(err)
}
