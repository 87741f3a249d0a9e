//! Join strategy hints (BROADCAST, SHUFFLE_HASH, MERGE) carried from SQL to the physical plan.
//!
//! DataFusion chooses join modes from statistics alone. A hinted relation is therefore wrapped in
//! a transparent marker: [`JoinHintNode`] in the logical plan (filters and projections pass
//! through it), [`JoinHintExec`] in the physical plan, and [`ApplyJoinHints`], a physical
//! optimizer rule placed right after DataFusion's `JoinSelection`, rebuilds the nearest join above
//! each marker with the hinted strategy and then removes the markers, before distribution and
//! sorting are enforced. Each marker carries a [`HintOutcome`] that the rule fills in, so the
//! session can say which hints were applied and warn about the rest.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::compute::SortOptions;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchemaRef, Result as DfResult};
use datafusion::config::ConfigOptions;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{
    Expr, Extension, LogicalPlan, UserDefinedLogicalNode, UserDefinedLogicalNodeCore,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::execution_plan::{ChildrenPropertiesMode, ReplaceChildrenOptions};
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode, SortMergeJoinExec};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
    Statistics,
};
use datafusion::physical_planner::{ExtensionPlanner, PhysicalPlanner};

use super::parse::JoinStrategy;
use super::repartition::HintedRepartitionExec;
use datafusion::physical_plan::repartition::RepartitionExec;

/// What became of one hint, filled in while the query is planned.
#[derive(Debug)]
pub struct HintOutcome {
    /// The hint as the user wrote it (normalised), e.g. `BROADCAST(c)`.
    pub hint: String,
    result: Mutex<Option<Result<String, String>>>,
}

impl HintOutcome {
    /// A hint whose fate is not known yet.
    pub fn new(hint: impl Into<String>) -> Arc<Self> {
        Arc::new(Self {
            hint: hint.into(),
            result: Mutex::new(None),
        })
    }

    /// Records that the hint changed the plan, and how.
    pub fn applied(&self, how: impl Into<String>) {
        let mut result = self.result.lock().unwrap_or_else(|e| e.into_inner());
        if result.is_none() {
            *result = Some(Ok(how.into()));
        }
    }

    /// Records why the hint could not be used.
    pub fn ignored(&self, why: impl Into<String>) {
        let mut result = self.result.lock().unwrap_or_else(|e| e.into_inner());
        if result.is_none() {
            *result = Some(Err(why.into()));
        }
    }

    /// Ok(how) when applied, Err(why) when not (a marker that met no join says so).
    pub fn result(&self) -> Result<String, String> {
        self.result
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| Err("the relation is not an input of a join".into()))
    }
}

/// Logical marker over a hinted relation; changes nothing but is seen by the physical rule.
/// Without a strategy it marks a hinted repartition, which it keeps in the physical plan
/// (DataFusion would otherwise drop a repartition nothing above it asks for).
#[derive(Debug, Clone)]
pub struct JoinHintNode {
    strategy: Option<JoinStrategy>,
    input: LogicalPlan,
    outcome: Arc<HintOutcome>,
}

impl JoinHintNode {
    /// Wraps `input` (a hinted relation, or a hinted repartition when `strategy` is None) in a
    /// marker.
    pub fn wrap(
        strategy: Option<JoinStrategy>,
        input: LogicalPlan,
        outcome: Arc<HintOutcome>,
    ) -> LogicalPlan {
        LogicalPlan::Extension(Extension {
            node: Arc::new(Self {
                strategy,
                input,
                outcome,
            }),
        })
    }
}

impl JoinHintNode {
    /// The wrapped plan, recording a join strategy hint as not applied because of `why`.
    pub fn release(&self, why: &str) -> LogicalPlan {
        if self.strategy.is_some() {
            self.outcome.ignored(why);
        }
        self.input.clone()
    }
}

impl PartialEq for JoinHintNode {
    fn eq(&self, other: &Self) -> bool {
        self.strategy == other.strategy
            && self.input == other.input
            && Arc::ptr_eq(&self.outcome, &other.outcome)
    }
}
impl Eq for JoinHintNode {}
impl PartialOrd for JoinHintNode {
    fn partial_cmp(&self, _other: &Self) -> Option<std::cmp::Ordering> {
        None
    }
}
impl std::hash::Hash for JoinHintNode {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.outcome.hint.hash(state);
        self.input.hash(state);
    }
}

impl UserDefinedLogicalNodeCore for JoinHintNode {
    fn name(&self) -> &str {
        "JoinHint"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        self.input.schema()
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    fn prevent_predicate_push_down_columns(&self) -> HashSet<String> {
        HashSet::new()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.strategy {
            Some(_) => write!(f, "JoinHint: {}", self.outcome.hint),
            None => write!(f, "RepartitionHint: {}", self.outcome.hint),
        }
    }

    fn with_exprs_and_inputs(
        &self,
        _exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> DfResult<Self> {
        Ok(Self {
            strategy: self.strategy,
            input: inputs.swap_remove(0),
            outcome: self.outcome.clone(),
        })
    }

    fn necessary_children_exprs(&self, output_columns: &[usize]) -> Option<Vec<Vec<usize>>> {
        Some(vec![output_columns.to_vec()])
    }

    fn supports_limit_pushdown(&self) -> bool {
        true
    }
}

/// Physical marker: passes its input through unchanged until [`ApplyJoinHints`] removes it.
#[derive(Debug)]
pub struct JoinHintExec {
    strategy: Option<JoinStrategy>,
    input: Arc<dyn ExecutionPlan>,
    outcome: Arc<HintOutcome>,
}

impl DisplayAs for JoinHintExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match self.strategy {
            Some(_) => write!(f, "JoinHintExec: {}", self.outcome.hint),
            None => write!(f, "RepartitionHintExec: {}", self.outcome.hint),
        }
    }
}

impl ExecutionPlan for JoinHintExec {
    fn name(&self) -> &str {
        if self.strategy.is_some() {
            "JoinHintExec"
        } else {
            "RepartitionHintExec"
        }
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
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

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(Self {
            strategy: self.strategy,
            input: children.swap_remove(0),
            outcome: self.outcome.clone(),
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
        self.input.execute(partition, context)
    }

    #[allow(deprecated)]
    fn partition_statistics(&self, partition: Option<usize>) -> DfResult<Arc<Statistics>> {
        self.input.partition_statistics(partition)
    }

    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        vec![ChildStats::At(partition)]
    }

    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> DfResult<Arc<Statistics>> {
        Ok(Arc::clone(&input_stats[0]))
    }
}

/// Plans [`JoinHintNode`] as [`JoinHintExec`].
#[derive(Debug, Default)]
pub struct JoinHintPlanner;

#[async_trait]
impl ExtensionPlanner for JoinHintPlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> DfResult<Option<Arc<dyn ExecutionPlan>>> {
        let Some(hint) = node.as_any().downcast_ref::<JoinHintNode>() else {
            return Ok(None);
        };
        if hint.strategy.is_none()
            && let Some(repartition) = physical_inputs[0].downcast_ref::<RepartitionExec>()
        {
            let mut inner = RepartitionExec::try_new(
                repartition.input().clone(),
                repartition.partitioning().clone(),
            )?;
            if repartition.preserve_order() {
                inner = inner.with_preserve_order();
            }
            return Ok(Some(Arc::new(HintedRepartitionExec::new(
                hint.outcome.hint.clone(),
                Arc::new(inner),
            ))));
        }
        Ok(Some(Arc::new(JoinHintExec {
            strategy: hint.strategy,
            input: physical_inputs[0].clone(),
            outcome: hint.outcome.clone(),
        })))
    }
}

/// Rebuilds hinted joins with the hinted strategy, then removes the markers.
#[derive(Debug, Default)]
pub struct ApplyJoinHints;

impl PhysicalOptimizerRule for ApplyJoinHints {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if !contains_marker(&plan) {
            return Ok(plan);
        }
        let hinted = plan.transform_up(rewrite_join)?.data;
        Ok(hinted
            .transform_up(|node| {
                Ok(match node.downcast_ref::<JoinHintExec>() {
                    Some(marker) if marker.strategy.is_some() => {
                        Transformed::yes(marker.input.clone())
                    }
                    _ => Transformed::no(node),
                })
            })?
            .data)
    }

    fn name(&self) -> &str {
        "deltagres_join_hints"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn contains_marker(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.downcast_ref::<JoinHintExec>()
        .is_some_and(|m| m.strategy.is_some())
        || plan.children().into_iter().any(contains_marker)
}

fn is_join(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.is::<HashJoinExec>() || plan.is::<SortMergeJoinExec>() || plan.name().contains("Join")
}

/// The markers in `plan` that belong to the join above it (not crossing another join).
fn side_markers(plan: &Arc<dyn ExecutionPlan>) -> Vec<(JoinStrategy, Arc<HintOutcome>)> {
    if let Some(marker) = plan.downcast_ref::<JoinHintExec>() {
        let mut found: Vec<_> = marker
            .strategy
            .map(|s| (s, marker.outcome.clone()))
            .into_iter()
            .collect();
        found.extend(side_markers(&marker.input));
        return found;
    }
    if is_join(plan) {
        return Vec::new();
    }
    plan.children().into_iter().flat_map(side_markers).collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Left,
    Right,
}

fn rewrite_join(node: Arc<dyn ExecutionPlan>) -> DfResult<Transformed<Arc<dyn ExecutionPlan>>> {
    if !is_join(&node) || node.children().len() != 2 {
        return Ok(Transformed::no(node));
    }
    let children = node.children();
    let mut candidates: Vec<(Side, JoinStrategy, Arc<HintOutcome>)> = side_markers(children[0])
        .into_iter()
        .map(|(s, o)| (Side::Left, s, o))
        .collect();
    candidates.extend(
        side_markers(children[1])
            .into_iter()
            .map(|(s, o)| (Side::Right, s, o)),
    );
    let Some((side, strategy, outcome)) = candidates.first().cloned() else {
        return Ok(Transformed::no(node));
    };
    for (_, _, other) in candidates.iter().skip(1) {
        other.ignored(format!(
            "{} already decides this join's strategy",
            outcome.hint
        ));
    }
    let relation = relation_of(&outcome.hint);
    let rebuilt = if let Some(join) = node.downcast_ref::<HashJoinExec>() {
        rebuild_hash_join(join, side, strategy, &relation)
    } else if let Some(join) = node.downcast_ref::<SortMergeJoinExec>() {
        rebuild_sort_merge_join(join, side, strategy, &relation)
    } else {
        Err(format!(
            "the join with {relation} has no equality condition ({}), so it has no hash or merge strategy",
            node.name()
        ))
    };
    match rebuilt {
        Ok((plan, how)) => {
            outcome.applied(how);
            Ok(Transformed::yes(plan))
        }
        Err(why) => {
            outcome.ignored(why);
            Ok(Transformed::no(node))
        }
    }
}

/// `BROADCAST(c)` -> `c`, for messages.
fn relation_of(hint: &str) -> String {
    hint.split_once('(')
        .map(|(_, rest)| rest.trim_end_matches(')').to_string())
        .unwrap_or_else(|| hint.to_string())
}

type Rebuilt = Result<(Arc<dyn ExecutionPlan>, String), String>;

fn rebuild_hash_join(
    join: &HashJoinExec,
    side: Side,
    strategy: JoinStrategy,
    relation: &str,
) -> Rebuilt {
    let err = |e: datafusion::error::DataFusionError| e.to_string();
    match strategy {
        JoinStrategy::Broadcast | JoinStrategy::ShuffleHash => {
            let mode = if strategy == JoinStrategy::Broadcast {
                PartitionMode::CollectLeft
            } else {
                PartitionMode::Partitioned
            };
            let plan: Arc<dyn ExecutionPlan> = match side {
                Side::Left => Arc::new(
                    join.builder()
                        .with_partition_mode(mode)
                        .build()
                        .map_err(err)?,
                ),
                Side::Right => join.swap_inputs(mode).map_err(err)?,
            };
            let how = if mode == PartitionMode::CollectLeft {
                format!(
                    "hash join with {relation} collected once as the build side (mode=CollectLeft)"
                )
            } else {
                format!(
                    "partitioned hash join with {relation} as the build side (mode=Partitioned)"
                )
            };
            Ok((plan, how))
        }
        JoinStrategy::SortMerge => {
            let sort_options = vec![SortOptions::default(); join.on().len()];
            let merge = SortMergeJoinExec::try_new(
                join.left().clone(),
                join.right().clone(),
                join.on().to_vec(),
                join.filter().cloned(),
                *join.join_type(),
                sort_options,
                join.null_equality(),
            )
            .map_err(err)?;
            let merge: Arc<dyn ExecutionPlan> = Arc::new(merge);
            let plan = match join.projection.as_deref() {
                Some(columns) => {
                    let schema = merge.schema();
                    let exprs: Vec<(Arc<dyn PhysicalExpr>, String)> = columns
                        .iter()
                        .map(|&i| {
                            let field = schema.field(i);
                            (
                                Arc::new(datafusion::physical_expr::expressions::Column::new(
                                    field.name(),
                                    i,
                                )) as Arc<dyn PhysicalExpr>,
                                field.name().clone(),
                            )
                        })
                        .collect();
                    Arc::new(ProjectionExec::try_new(exprs, merge).map_err(err)?)
                }
                None => merge,
            };
            Ok((plan, format!("sort-merge join with {relation}")))
        }
    }
}

fn rebuild_sort_merge_join(
    join: &SortMergeJoinExec,
    side: Side,
    strategy: JoinStrategy,
    relation: &str,
) -> Rebuilt {
    let filter = join.filter().clone();
    if strategy == JoinStrategy::SortMerge {
        return Ok((
            Arc::new(join.clone()) as Arc<dyn ExecutionPlan>,
            format!("sort-merge join with {relation}"),
        ));
    }
    let hash = HashJoinExec::try_new(
        join.left().clone(),
        join.right().clone(),
        join.on().to_vec(),
        filter,
        &join.join_type(),
        None,
        PartitionMode::Partitioned,
        join.null_equality(),
        false,
    )
    .map_err(|e| e.to_string())?;
    rebuild_hash_join(&hash, side, strategy, relation)
}

/// The physical planner of every session: DataFusion's, knowing our hint markers and delta-rs's
/// own nodes (MERGE, UPDATE and DELETE plans), so any statement can carry hints.
#[derive(Debug, Default)]
pub struct LakehouseQueryPlanner;

#[async_trait]
impl datafusion::execution::context::QueryPlanner for LakehouseQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let planner =
            datafusion::physical_planner::DefaultPhysicalPlanner::with_extension_planners(vec![
                Arc::new(JoinHintPlanner),
                deltalake::delta_datafusion::planner::DeltaExtensionPlanner::new(),
            ]);
        planner.create_physical_plan(logical_plan, session).await
    }
}

/// DataFusion's physical optimizer rules with [`ApplyJoinHints`] right after `JoinSelection`.
pub fn physical_optimizer_rules(
    defaults: Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>>,
) -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = Vec::with_capacity(defaults.len() + 1);
    let mut placed = false;
    for rule in defaults {
        let after = rule.name() == JOIN_SELECTION_RULE;
        rules.push(rule);
        if after {
            rules.push(Arc::new(ApplyJoinHints) as Arc<dyn PhysicalOptimizerRule + Send + Sync>);
            placed = true;
        }
    }
    if !placed {
        // DataFusion renamed or dropped the rule: hints would then be applied before join
        // selection, which may undo them. The unit test below fails first; say so here too.
        tracing::error!(
            "DataFusion has no `{JOIN_SELECTION_RULE}` physical optimizer rule: join hints are applied first and may be overridden"
        );
        rules.insert(0, Arc::new(ApplyJoinHints));
    }
    rules
}

/// The DataFusion rule join hints must run right after.
const JOIN_SELECTION_RULE: &str = "join_selection";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_hints_are_placed_right_after_datafusions_join_selection() {
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_default_features()
            .build();
        let rules = physical_optimizer_rules(state.physical_optimizers().to_vec());
        let names: Vec<&str> = rules.iter().map(|r| r.name()).collect();
        let at = names
            .iter()
            .position(|n| *n == JOIN_SELECTION_RULE)
            .unwrap_or_else(|| panic!("no {JOIN_SELECTION_RULE} among {names:?}"));
        assert_eq!(names.get(at + 1), Some(&ApplyJoinHints.name()), "{names:?}");
    }
}
