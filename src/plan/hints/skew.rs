//! `SKEW('t', 'col', (values))`: salting a join whose keys pile up on a few hot values.
//!
//! In a partitioned hash join every row of one key lands in one partition, so a key that holds 60%
//! of the rows makes one task do 60% of the work. The rewrite spreads it: rows of `t` with a hot
//! key get a salt derived from a hash of the row (deterministic, so results are reproducible), the
//! other side's rows for those keys are replicated once per salt, and the salt joins as an extra
//! key. Other keys keep salt 0 and join as before, so the result rows are exactly the unsalted
//! join's. The salts of a hot key are chosen so that its buckets hash to distinct partitions of the
//! repartition in front of the join, which is what makes the partitions even rather than merely
//! "probably spread".

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::hash_utils::create_hashes;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, ExprSchema, ScalarValue};
use datafusion::execution::SessionState;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::functions_nested::expr_fn::make_array;
use datafusion::logical_expr::conditional_expressions::CaseBuilder;
use datafusion::logical_expr::{
    Expr, Join, JoinType, LogicalPlan, LogicalPlanBuilder, ScalarUDF, SortExpr, case, col, lit,
    when,
};
use datafusion::physical_plan::repartition::REPARTITION_RANDOM_STATE;
use datafusion::prelude::DataFrame;

use super::join::{HintOutcome, JoinHintNode};
use super::parse::{JoinStrategy, Literal};
use super::row_hash::RowHash;

/// The salt column added to the skewed side.
const SALT: &str = "__deltagres_skew_salt";
/// The salt column of the replicated side.
const SALT_COPY: &str = "__deltagres_skew_salt_copy";
/// Candidate salts tried per hot value when looking for distinct partitions.
const SALT_SEARCH: i64 = 4096;
/// At most this many hot values are found automatically.
const AUTO_HOT_VALUES: usize = 16;

/// What salting needs to know besides the hint.
pub struct SaltSettings {
    /// Salts per hot value (`deltagres.skew.salt_buckets`).
    pub buckets: usize,
    /// Partitions of the repartition in front of the join (`target_partitions`).
    pub partitions: usize,
}

/// One SKEW hint, resolved against the plan.
pub struct SkewRequest<'a> {
    pub relation: &'a str,
    pub columns: &'a [String],
    pub values: &'a [Vec<Literal>],
}

/// Salts the first join of `plan` that joins `relation` on the hinted columns; Ok(None) when
/// there is none (the reason in the error string).
pub async fn salt_join(
    state: &SessionState,
    plan: LogicalPlan,
    request: &SkewRequest<'_>,
    settings: &SaltSettings,
    outcome: &Arc<HintOutcome>,
) -> Result<(LogicalPlan, String), String> {
    let target = find_join(&plan, request)?;
    let hot = match request.values.is_empty() {
        false => request
            .values
            .iter()
            .map(|tuple| {
                tuple
                    .iter()
                    .zip(&target.key_types)
                    .map(|(l, t)| literal_value(l, t))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?,
        true => find_hot_values(state, &target, settings.partitions).await?,
    };
    if hot.is_empty() {
        return Err(format!(
            "no value of {} holds more than 1/{} of the rows of {}, so there is nothing to salt",
            target.key_names.join(", "),
            settings.partitions,
            request.relation
        ));
    }
    let salts: Vec<Vec<i64>> = hot
        .iter()
        .map(|values| choose_salts(values, &target, settings))
        .collect();
    let described = format!(
        "{} hot value(s) of {}.{} salted into {} buckets; the other side's rows for them are replicated {} times",
        hot.len(),
        request.relation,
        target.key_names.join(", "),
        settings.buckets,
        settings.buckets
    );
    let rewritten = plan
        .transform_down(|node| {
            let LogicalPlan::Join(join) = &node else {
                return Ok(Transformed::no(node));
            };
            if *join != target.join {
                return Ok(Transformed::no(node));
            }
            let salted = build_salted_join(join, &target, &hot, &salts, settings.buckets, outcome)?;
            Ok(Transformed::new(
                salted,
                true,
                datafusion::common::tree_node::TreeNodeRecursion::Jump,
            ))
        })
        .map_err(|e| e.to_string())?
        .data;
    Ok((rewritten, described))
}

/// The join to salt and its hinted keys.
struct Target {
    join: Join,
    /// True when the skewed relation is the join's left input.
    skewed_left: bool,
    /// Indices into `join.on` of the hinted keys.
    key_pairs: Vec<usize>,
    key_names: Vec<String>,
    key_types: Vec<DataType>,
}

fn find_join(plan: &LogicalPlan, request: &SkewRequest<'_>) -> Result<Target, String> {
    let mut found: Option<Target> = None;
    let mut reason = format!("{} is not joined on equality keys here", request.relation);
    plan.apply(|node| {
        if found.is_some() {
            return Ok(datafusion::common::tree_node::TreeNodeRecursion::Stop);
        }
        if let LogicalPlan::Join(join) = node {
            let mentions = |p: &LogicalPlan| {
                p.schema().iter().any(|(q, _)| {
                    q.is_some_and(|q| q.table().eq_ignore_ascii_case(request.relation))
                })
            };
            let skewed_left = mentions(&join.left);
            if !skewed_left && !mentions(&join.right) {
                return Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue);
            }
            let preserved_ok = match join.join_type {
                JoinType::Inner => true,
                JoinType::Left | JoinType::LeftSemi | JoinType::LeftAnti => skewed_left,
                JoinType::Right | JoinType::RightSemi | JoinType::RightAnti => !skewed_left,
                _ => false,
            };
            let mut key_pairs = Vec::new();
            let mut key_names = Vec::new();
            let mut key_types = Vec::new();
            for (i, (l, r)) in join.on.iter().enumerate() {
                let (skewed, schema) = if skewed_left {
                    (l, join.left.schema())
                } else {
                    (r, join.right.schema())
                };
                let Expr::Column(c) = skewed else { continue };
                if !request.columns.is_empty()
                    && !request
                        .columns
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(&c.name))
                {
                    continue;
                }
                let Ok(field) = schema.field_from_column(c) else {
                    continue;
                };
                key_pairs.push(i);
                key_names.push(c.name.clone());
                key_types.push(field.data_type().clone());
            }
            if key_pairs.is_empty() {
                return Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue);
            }
            if !preserved_ok {
                reason = format!(
                    "salting a {} join on the side of {} would duplicate unmatched rows",
                    join.join_type, request.relation
                );
                return Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue);
            }
            if !request.columns.is_empty() && key_names.len() != request.columns.len() {
                reason = format!(
                    "{} is not joined on all of {}",
                    request.relation,
                    request.columns.join(", ")
                );
                return Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue);
            }
            found = Some(Target {
                join: join.clone(),
                skewed_left,
                key_pairs,
                key_names,
                key_types,
            });
            return Ok(datafusion::common::tree_node::TreeNodeRecursion::Stop);
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    })
    .map_err(|e| e.to_string())?;
    found.ok_or(reason)
}

fn literal_value(literal: &Literal, data_type: &DataType) -> Result<ScalarValue, String> {
    let raw = match literal {
        Literal::Text(t) => ScalarValue::Utf8(Some(t.clone())),
        Literal::Number(n) => match n.parse::<i64>() {
            Ok(i) => ScalarValue::Int64(Some(i)),
            Err(_) => ScalarValue::Float64(n.parse::<f64>().ok()),
        },
    };
    raw.cast_to(data_type).map_err(|e| {
        format!(
            "skewed value {} does not fit the key type {data_type}: {e}",
            literal.to_sql()
        )
    })
}

/// The key values holding more than a partition's fair share of the skewed side's rows.
async fn find_hot_values(
    state: &SessionState,
    target: &Target,
    partitions: usize,
) -> Result<Vec<Vec<ScalarValue>>, String> {
    let side = if target.skewed_left {
        target.join.left.as_ref()
    } else {
        target.join.right.as_ref()
    };
    let keys: Vec<Expr> = target
        .key_pairs
        .iter()
        .map(|&i| {
            let (l, r) = &target.join.on[i];
            if target.skewed_left {
                l.clone()
            } else {
                r.clone()
            }
        })
        .collect();
    let err = |e: datafusion::error::DataFusionError| e.to_string();
    let frame = DataFrame::new(state.clone(), side.clone());
    let total = frame.clone().count().await.map_err(err)?;
    if total == 0 {
        return Ok(Vec::new());
    }
    let rows = "__deltagres_rows";
    let top = frame
        .aggregate(keys.clone(), vec![count(lit(1)).alias(rows)])
        .map_err(err)?
        .sort(vec![SortExpr::new(col(rows), false, false)])
        .map_err(err)?
        .limit(0, Some(AUTO_HOT_VALUES))
        .map_err(err)?
        .collect()
        .await
        .map_err(err)?;
    let mut hot = Vec::new();
    for batch in top {
        let counts = batch.column(keys.len());
        for row in 0..batch.num_rows() {
            let n = ScalarValue::try_from_array(counts, row).map_err(|e| e.to_string())?;
            let n = match n {
                ScalarValue::Int64(Some(n)) => n as usize,
                _ => 0,
            };
            if n * partitions > total {
                let values = (0..keys.len())
                    .map(|k| ScalarValue::try_from_array(batch.column(k), row))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.to_string())?;
                if values.iter().all(|v| !v.is_null()) {
                    hot.push(values);
                }
            }
        }
    }
    Ok(hot)
}

/// Salts for one hot value: when the hinted keys are all of the join's keys, salts whose
/// (key, salt) hash lands in distinct partitions; otherwise 0..buckets.
fn choose_salts(values: &[ScalarValue], target: &Target, settings: &SaltSettings) -> Vec<i64> {
    let buckets = settings.buckets.max(1);
    let plain: Vec<i64> = (0..buckets as i64).collect();
    if target.key_pairs.len() != target.join.on.len() || settings.partitions < 2 {
        return plain;
    }
    let mut columns: Vec<ArrayRef> = match values
        .iter()
        .map(|v| v.to_array_of_size(SALT_SEARCH as usize))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(c) => c,
        Err(_) => return plain,
    };
    columns.push(Arc::new(Int64Array::from_iter_values(0..SALT_SEARCH)));
    let mut hashes = vec![0u64; SALT_SEARCH as usize];
    if create_hashes(
        &columns,
        REPARTITION_RANDOM_STATE.random_state(),
        &mut hashes,
    )
    .is_err()
    {
        return plain;
    }
    let partitions = settings.partitions as u64;
    let mut chosen = Vec::with_capacity(buckets);
    // Fill every partition once before using any twice, so buckets spread as evenly as they can.
    let mut round = 0;
    while chosen.len() < buckets && round < buckets {
        let mut used = vec![false; settings.partitions];
        for (salt, hash) in hashes.iter().enumerate() {
            let p = (hash % partitions) as usize;
            if !used[p] && !chosen.contains(&(salt as i64)) {
                used[p] = true;
                chosen.push(salt as i64);
                if chosen.len() == buckets {
                    break;
                }
            }
        }
        round += 1;
    }
    if chosen.len() == buckets {
        chosen
    } else {
        plain
    }
}

/// `CASE WHEN c1 THEN v1 WHEN c2 THEN v2 ... ELSE otherwise END` (just `otherwise` without branches).
fn searched_case(
    branches: impl Iterator<Item = datafusion::error::Result<(Expr, Expr)>>,
    otherwise: Expr,
) -> datafusion::error::Result<Expr> {
    let mut builder: Option<CaseBuilder> = None;
    for branch in branches {
        let (condition, value) = branch?;
        match builder.as_mut() {
            None => builder = Some(when(condition, value)),
            Some(b) => {
                b.when(condition, value);
            }
        }
    }
    match builder {
        Some(mut b) => b.otherwise(otherwise),
        None => Ok(otherwise),
    }
}

/// `plan` with every column it has plus `expr AS name`.
fn with_column(
    plan: &LogicalPlan,
    expr: Expr,
    name: &str,
) -> datafusion::error::Result<LogicalPlanBuilder> {
    let mut exprs: Vec<Expr> = plan
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    exprs.push(expr.alias(name));
    LogicalPlanBuilder::from(plan.clone()).project(exprs)
}

fn build_salted_join(
    join: &Join,
    target: &Target,
    hot: &[Vec<ScalarValue>],
    salts: &[Vec<i64>],
    buckets: usize,
    outcome: &Arc<HintOutcome>,
) -> datafusion::error::Result<LogicalPlan> {
    let (skewed_plan, other_plan) = if target.skewed_left {
        (join.left.as_ref(), join.right.as_ref())
    } else {
        (join.right.as_ref(), join.left.as_ref())
    };
    let key = |side_is_skewed: bool, i: usize| -> Expr {
        let (l, r) = &join.on[i];
        if side_is_skewed == target.skewed_left {
            l.clone()
        } else {
            r.clone()
        }
    };
    let is_hot = |side_is_skewed: bool, values: &[ScalarValue]| -> Expr {
        target
            .key_pairs
            .iter()
            .zip(values)
            .map(|(&i, v)| key(side_is_skewed, i).eq(lit(v.clone())))
            .reduce(Expr::and)
            .unwrap_or(lit(false))
    };

    // The skewed side: a salt from a hash of the whole row for hot keys, 0 for the rest.
    let row_hash = Expr::ScalarFunction(datafusion::logical_expr::expr::ScalarFunction::new_udf(
        Arc::new(ScalarUDF::from(RowHash::new())),
        skewed_plan
            .schema()
            .columns()
            .into_iter()
            .map(Expr::Column)
            .collect(),
    ));
    let bucket = row_hash % lit(buckets as i64);
    let salt = searched_case(
        hot.iter().zip(salts).map(|(values, key_salts)| {
            let mut pick = case(bucket.clone());
            for (b, s) in key_salts.iter().enumerate() {
                pick.when(lit(b as i64), lit(*s));
            }
            Ok((is_hot(true, values), pick.otherwise(lit(0i64))?))
        }),
        lit(0i64),
    )?;
    let skewed = with_column(skewed_plan, salt, SALT)?.build()?;

    // The other side: every salt of a hot key, one row each; salt 0 for the rest.
    let copies = searched_case(
        hot.iter().zip(salts).map(|(values, key_salts)| {
            Ok((
                is_hot(false, values),
                make_array(key_salts.iter().map(|s| lit(*s)).collect()),
            ))
        }),
        make_array(vec![lit(0i64)]),
    )?;
    let other = with_column(other_plan, copies, SALT_COPY)?
        .unnest_column(SALT_COPY)?
        .build()?;
    // Salting only helps a partitioned join: keep it partitioned (statistics of the replicated
    // side are unknown, and DataFusion might otherwise collect the skewed side whole), with the
    // replicated side building the hash tables.
    let other = JoinHintNode::wrap(Some(JoinStrategy::ShuffleHash), other, outcome.clone());

    let (left, right) = if target.skewed_left {
        (skewed, other)
    } else {
        (other, skewed)
    };
    let mut on = join.on.clone();
    let salt_pair = (
        Expr::Column(Column::from_name(SALT)),
        Expr::Column(Column::from_name(SALT_COPY)),
    );
    on.push(if target.skewed_left {
        salt_pair
    } else {
        (salt_pair.1, salt_pair.0)
    });
    let salted = LogicalPlan::Join(Join::try_new(
        Arc::new(left),
        Arc::new(right),
        on,
        join.filter.clone(),
        join.join_type,
        join.join_constraint,
        join.null_equality,
        join.null_aware,
    )?);
    // Back to the join's own columns, without the salts.
    let columns: Vec<Expr> = join
        .schema
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    LogicalPlanBuilder::from(salted).project(columns)?.build()
}
