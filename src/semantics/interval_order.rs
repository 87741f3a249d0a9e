//! Intervals compared and ordered as PostgreSQL compares them: by one linear value, a month
//! being 30 days and a day 24 hours (`interval_cmp_value`), so `interval '1 day' = interval '24
//! hours'`, `interval '1 month' = interval '30 days'` and `interval '1 day 10:00' < interval '36
//! hours'`. DataFusion compared the (months, days, nanoseconds) fields one after the other, so
//! `WHERE delivered - ordered > interval '36 hours'` kept a delivery of 1 day 10 hours: a silent
//! wrong answer. An analyzer rule (before type coercion) puts [`KEY`] (that value, in
//! nanoseconds) on both sides of `=`, `<>`, `<`, `<=`, `>`, `>=`, `IS [NOT] DISTINCT FROM`,
//! `BETWEEN` and `IN` when the value is an interval (a quoted literal beside one is read as an
//! interval), under the ORDER BY of a query and of a window with a ROWS frame or no offsets,
//! and turns `max` / `min` of an interval into the value with the largest / smallest key
//! (`first_value(x ORDER BY key DESC NULLS LAST)`); an aggregate's own ORDER BY (`array_agg(x
//! ORDER BY i)`) is keyed too, `greatest` / `least` of intervals pick by key, and `count(DISTINCT
//! x)` counts keys. Grouping, DISTINCT, PARTITION BY and the joins of INTERSECT / EXCEPT are
//! [`super::interval_groups`]'.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Decimal128Builder};
use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNanoType, IntervalUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::{
    AggregateFunction, Between, BinaryExpr, InList, ScalarFunction, Sort, WindowFunction,
};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility, WindowFrameBound, WindowFrameUnits, cast,
};
use datafusion::optimizer::AnalyzerRule;

/// The function giving an interval's comparison value.
pub const KEY: &str = "pg_interval_key";

const NANOS_PER_DAY: i128 = 86_400_000_000_000;
const MONTH_DAY_NANO: DataType = DataType::Interval(IntervalUnit::MonthDayNano);

/// `pg_interval_key(interval)`: `(months * 30 + days) * 24 h + time`, in nanoseconds.
#[derive(Debug, PartialEq, Eq, Hash)]
struct IntervalKey {
    signature: Signature,
}

impl ScalarUDFImpl for IntervalKey {
    fn name(&self) -> &str {
        KEY
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Decimal128(38, 0))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let intervals = datafusion::arrow::compute::cast(&arrays[0], &MONTH_DAY_NANO)?;
            let intervals = intervals.as_primitive::<IntervalMonthDayNanoType>();
            let mut out = Decimal128Builder::with_capacity(intervals.len());
            for value in intervals.iter() {
                out.append_option(value.map(|v| {
                    (i128::from(v.months) * 30 + i128::from(v.days)) * NANOS_PER_DAY
                        + i128::from(v.nanoseconds)
                }));
            }
            Ok(Arc::new(out.finish().with_precision_and_scale(38, 0)?) as ArrayRef)
        })
    }
}

/// The key function, for registration.
pub fn function() -> ScalarUDF {
    ScalarUDF::from(IntervalKey {
        signature: Signature::any(1, Volatility::Immutable),
    })
}

/// The analyzer rule; see the module documentation.
#[derive(Debug, Default)]
pub struct IntervalOrder;

impl AnalyzerRule for IntervalOrder {
    fn name(&self) -> &str {
        "deltagres_interval_order"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            if let LogicalPlan::Sort(mut sort) = plan {
                let schema = sort.input.schema().clone();
                let keyed = keyed_sorts(std::mem::take(&mut sort.expr), &schema);
                sort.expr = keyed.data;
                return Ok(Transformed::new_transformed(
                    LogicalPlan::Sort(sort),
                    keyed.transformed,
                ));
            }
            super::node_rewrite::rewrite_wanted(plan, is_candidate, rewrite_expr)
        })
        .map(|t| t.data)
    }
}

fn is_candidate(expr: &Expr) -> bool {
    match expr {
        Expr::BinaryExpr(b) => super::is_comparison(b.op),
        Expr::Between(_) | Expr::InList(_) => true,
        Expr::WindowFunction(w) => !w.params.order_by.is_empty(),
        Expr::AggregateFunction(f) => {
            matches!(f.func.name(), "max" | "min")
                || !f.params.order_by.is_empty()
                || f.params.distinct
        }
        Expr::ScalarFunction(f) => matches!(f.name(), "greatest" | "least"),
        _ => false,
    }
}

/// Aggregates whose ORDER BY gives the values they return (`WITHIN GROUP`): keyed, they would
/// return keys.
fn returns_its_order(function: &str) -> bool {
    [super::PERCENTILE_DISC, super::MODE, "percentile_cont"].contains(&function)
}

pub(super) fn is_interval(expr: &Expr, schema: &DFSchema) -> bool {
    matches!(expr.get_type(schema), Ok(DataType::Interval(_)))
}

/// Whether `expr` is an interval, or a quoted literal that takes that type beside one.
fn interval_or_text(expr: &Expr, schema: &DFSchema) -> bool {
    is_interval(expr, schema) || super::is_quoted_literal(expr)
}

/// `expr`'s comparison value (a quoted literal read as an interval first).
pub(super) fn key(expr: Expr) -> Expr {
    let expr = if super::is_quoted_literal(&expr) {
        cast(expr, MONTH_DAY_NANO)
    } else {
        expr
    };
    Arc::new(function()).call(vec![expr])
}

/// An ORDER BY list with every interval key put through [`KEY`].
fn keyed_sorts(sorts: Vec<Sort>, schema: &DFSchema) -> Transformed<Vec<Sort>> {
    let mut changed = false;
    let sorts = sorts
        .into_iter()
        .map(|sort| {
            if is_interval(&sort.expr, schema) {
                changed = true;
                Sort {
                    expr: key(sort.expr),
                    ..sort
                }
            } else {
                sort
            }
        })
        .collect();
    Transformed::new_transformed(sorts, changed)
}

fn rewrite_expr(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    Ok(match expr {
        Expr::BinaryExpr(b)
            if super::is_comparison(b.op)
                && (is_interval(&b.left, schema) && interval_or_text(&b.right, schema)
                    || is_interval(&b.right, schema) && interval_or_text(&b.left, schema)) =>
        {
            Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(key(*b.left)),
                b.op,
                Box::new(key(*b.right)),
            )))
        }
        Expr::Between(b) if is_interval(&b.expr, schema) => {
            Transformed::yes(Expr::Between(Between::new(
                Box::new(key(*b.expr)),
                b.negated,
                Box::new(key(*b.low)),
                Box::new(key(*b.high)),
            )))
        }
        Expr::InList(list) if is_interval(&list.expr, schema) => {
            Transformed::yes(Expr::InList(InList::new(
                Box::new(key(*list.expr)),
                list.list.into_iter().map(key).collect(),
                list.negated,
            )))
        }
        Expr::WindowFunction(mut w) if offsets_free(&w) => {
            let keyed = keyed_sorts(std::mem::take(&mut w.params.order_by), schema);
            w.params.order_by = keyed.data;
            Transformed::new_transformed(Expr::WindowFunction(w), keyed.transformed)
        }
        // `count(DISTINCT x)`: distinct keys.
        Expr::AggregateFunction(mut f)
            if f.func.name() == "count"
                && f.params.distinct
                && f.params.args.len() == 1
                && is_interval(&f.params.args[0], schema) =>
        {
            f.params.args[0] = key(f.params.args[0].clone());
            Transformed::yes(Expr::AggregateFunction(f))
        }
        Expr::AggregateFunction(f)
            if matches!(f.func.name(), "max" | "min")
                && !f.params.distinct
                && f.params.args.len() == 1
                && is_interval(&f.params.args[0], schema) =>
        {
            let largest = f.func.name() == "max";
            let value = f.params.args[0].clone();
            Transformed::yes(Expr::AggregateFunction(AggregateFunction::new_udf(
                datafusion::functions_aggregate::first_last::first_value_udaf(),
                vec![value.clone()],
                false,
                f.params.filter,
                vec![Sort::new(key(value), !largest, false)],
                None,
            )))
        }
        // `array_agg(x ORDER BY i)` and the like: ordered by the key.
        Expr::AggregateFunction(mut f)
            if !returns_its_order(f.func.name()) && !f.params.order_by.is_empty() =>
        {
            let keyed = keyed_sorts(std::mem::take(&mut f.params.order_by), schema);
            f.params.order_by = keyed.data;
            Transformed::new_transformed(Expr::AggregateFunction(f), keyed.transformed)
        }
        // `greatest(a, b, ...)` / `least` of intervals: folded pairwise by key, NULLs skipped.
        Expr::ScalarFunction(f)
            if matches!(f.name(), "greatest" | "least")
                && f.args.iter().any(|a| is_interval(a, schema))
                && f.args
                    .iter()
                    .all(|a| interval_or_text(a, schema) || null_literal(a)) =>
        {
            let larger = f.name() == "greatest";
            let mut args = f.args.into_iter().map(|a| {
                if super::is_quoted_literal(&a) {
                    cast(a, MONTH_DAY_NANO)
                } else {
                    a
                }
            });
            match args.next() {
                Some(first) => {
                    Transformed::yes(args.try_fold(first, |best, next| pick(best, next, larger))?)
                }
                None => Transformed::no(Expr::ScalarFunction(ScalarFunction::new_udf(
                    f.func,
                    Vec::new(),
                ))),
            }
        }
        other => Transformed::no(other),
    })
}

fn null_literal(expr: &Expr) -> bool {
    matches!(expr, Expr::Literal(v, _) if v.is_null())
}

/// Of `a` and `b`, the one with the larger (or smaller) key; the other when one is NULL.
fn pick(a: Expr, b: Expr, larger: bool) -> Result<Expr> {
    let better = if larger {
        key(b.clone()).gt(key(a.clone()))
    } else {
        key(b.clone()).lt(key(a.clone()))
    };
    datafusion::logical_expr::when(a.clone().is_null(), b.clone())
        .when(b.clone().is_null(), a.clone())
        .when(better, b)
        .otherwise(a)
}

/// Whether a window's frame does not measure offsets in its ORDER BY's values (ROWS, or RANGE /
/// GROUPS between unbounded ends and the current row), so its ORDER BY may be keyed.
fn offsets_free(window: &WindowFunction) -> bool {
    let frame = &window.params.window_frame;
    let plain = |bound: &WindowFrameBound| match bound {
        WindowFrameBound::CurrentRow => true,
        WindowFrameBound::Preceding(v) | WindowFrameBound::Following(v) => v.is_null(),
    };
    frame.units == WindowFrameUnits::Rows || plain(&frame.start_bound) && plain(&frame.end_bound)
}
