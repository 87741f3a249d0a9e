//! A float and a numeric meet as double precision, as in PostgreSQL.
//!
//! Where a comparison, `BETWEEN`, `IN`, `CASE`, `COALESCE`, `NULLIF`, `GREATEST` or `LEAST` (or
//! the columns of a `VALUES` list) mix a float with a numeric (`y > 1.5` with `y DOUBLE`: `1.5`
//! is a numeric, as in PostgreSQL), PostgreSQL converts the numeric to `double precision`.
//! DataFusion converts the float to `Decimal128(30, 15)` instead, which answered wrongly
//! (`0.1::float8 + 0.2 = 0.3` true, `1e20::float8 = 100000000000000000000.0` false) and failed
//! on any NaN, infinity or value of 10^15 or more (`Cannot cast to Decimal128(30, 15)`: a float
//! column with one large value could not be compared with `1.5`). This analyzer rule runs before
//! DataFusion's type coercion and casts the numeric operands (and `real` ones) of such a mix to
//! `double precision`. Arithmetic of a `real` with an integer or a numeric is in double
//! precision too, as PostgreSQL has no such operator for `real`.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::{Between, Case, InList, ScalarFunction};
use std::sync::Arc;

use datafusion::common::Column;
use datafusion::logical_expr::{
    BinaryExpr, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Operator, Union, Values, cast,
};
use datafusion::optimizer::AnalyzerRule;

/// The analyzer rule; see the module documentation.
#[derive(Debug, Default)]
pub struct FloatOverNumeric;

impl AnalyzerRule for FloatOverNumeric {
    fn name(&self) -> &str {
        "deltagres_float_over_numeric"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(rewrite_node)
            .map(|t| t.data)
    }
}

fn rewrite_node(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let plan = match plan {
        LogicalPlan::Values(values) => return values_as_float(values),
        LogicalPlan::Union(union) => return union_as_float(union),
        other => other,
    };
    if matches!(plan, LogicalPlan::Dml(_))
        || plan.inputs().is_empty()
        || !super::node_rewrite::mentions(&plan, joins_types)?
    {
        return Ok(Transformed::no(plan));
    }
    let schema = super::node_rewrite::input_schema(&plan);
    super::node_rewrite::rewrite_expressions(plan, &schema, rewrite_expr)
}

/// Whether `expr` is one of the forms that give its operands one common type.
fn joins_types(expr: &Expr) -> bool {
    match expr {
        Expr::BinaryExpr(BinaryExpr { op, .. }) => super::is_comparison(*op) || is_arithmetic(*op),
        Expr::Between(_) | Expr::InList(_) | Expr::Case(_) => true,
        Expr::ScalarFunction(f) => common_type_function(f),
        _ => false,
    }
}

fn is_arithmetic(op: Operator) -> bool {
    matches!(
        op,
        Operator::Plus | Operator::Minus | Operator::Multiply | Operator::Divide | Operator::Modulo
    )
}

/// `left op right` in double precision when a real meets an integer or a numeric in arithmetic:
/// PostgreSQL has no such operator for real and computes in double precision (`0.1::real * 3`
/// is `0.30000000447034836`, a double; DataFusion answered the real `0.3`).
fn real_arithmetic(left: Expr, op: Operator, right: Expr, schema: &DFSchema) -> Transformed<Expr> {
    let exact = |t: &DataType| t.is_integer() || is_decimal(t);
    let real = |t: &DataType| matches!(t, DataType::Float16 | DataType::Float32);
    let widened = matches!(
        (left.get_type(schema), right.get_type(schema)),
        (Ok(lt), Ok(rt)) if real(&lt) && exact(&rt) || exact(&lt) && real(&rt)
    );
    if widened {
        Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
            Box::new(cast(left, DataType::Float64)),
            op,
            Box::new(cast(right, DataType::Float64)),
        )))
    } else {
        Transformed::no(Expr::BinaryExpr(BinaryExpr::new(
            Box::new(left),
            op,
            Box::new(right),
        )))
    }
}

fn common_type_function(f: &ScalarFunction) -> bool {
    matches!(
        f.name(),
        "coalesce" | "nullif" | "greatest" | "least" | "nvl" | "ifnull"
    )
}

fn is_float(t: &DataType) -> bool {
    matches!(t, DataType::Float16 | DataType::Float32 | DataType::Float64)
}

fn is_decimal(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..)
    )
}

/// Whether `types` (all known) hold both a float and a numeric.
fn mixes(types: &[DataType]) -> bool {
    types.iter().any(is_float) && types.iter().any(is_decimal)
}

/// How operands meet, which decides the float type a numeric becomes.
#[derive(Clone, Copy)]
enum Meeting {
    /// Compared (`=`, `<`, `IN`, `BETWEEN`): PostgreSQL's operators take both as double
    /// precision (`0.1::real = 0.1` is false).
    Compared,
    /// Combined into one value (`CASE`, `COALESCE`, `UNION`, `VALUES`): the numeric becomes the
    /// float type there (`real` stays `real`).
    Combined,
}

/// The float type the operands of `types` meet in.
fn target_float(types: &[DataType], meeting: Meeting) -> DataType {
    match meeting {
        Meeting::Compared => DataType::Float64,
        Meeting::Combined if types.contains(&DataType::Float64) => DataType::Float64,
        Meeting::Combined if types.contains(&DataType::Float32) => DataType::Float32,
        Meeting::Combined => DataType::Float64,
    }
}

/// `expr` (of type `t`) as `target` when it is a numeric or a float narrower than `target`.
fn as_float(expr: Expr, t: &DataType, target: &DataType) -> Expr {
    let narrower = |t: &DataType| match t {
        DataType::Float16 => true,
        DataType::Float32 => *target == DataType::Float64,
        _ => false,
    };
    if is_decimal(t) || narrower(t) {
        cast(expr, target.clone())
    } else {
        expr
    }
}

/// The types of `exprs`, or `None` when one cannot be told.
fn types_of<'a>(
    exprs: impl IntoIterator<Item = &'a Expr>,
    schema: &DFSchema,
) -> Option<Vec<DataType>> {
    exprs.into_iter().map(|e| e.get_type(schema).ok()).collect()
}

/// `exprs` in one float type when they mix floats and numerics (and whether they changed).
fn unify(exprs: Vec<Expr>, schema: &DFSchema, meeting: Meeting) -> (Vec<Expr>, bool) {
    match types_of(&exprs, schema) {
        Some(types) if mixes(&types) => {
            let target = target_float(&types, meeting);
            (
                exprs
                    .into_iter()
                    .zip(&types)
                    .map(|(e, t)| as_float(e, t, &target))
                    .collect(),
                true,
            )
        }
        _ => (exprs, false),
    }
}

fn rewrite_expr(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    Ok(match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) if super::is_comparison(op) => {
            let (mut both, changed) = unify(vec![*left, *right], schema, Meeting::Compared);
            let right = both.pop().expect("two operands");
            let left = both.pop().expect("two operands");
            let e = Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right)));
            if changed {
                Transformed::yes(e)
            } else {
                Transformed::no(e)
            }
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) if is_arithmetic(op) => {
            real_arithmetic(*left, op, *right, schema)
        }
        Expr::Between(Between {
            expr,
            negated,
            low,
            high,
        }) => {
            let (mut all, changed) = unify(vec![*expr, *low, *high], schema, Meeting::Compared);
            let high = all.pop().expect("three operands");
            let low = all.pop().expect("three operands");
            let expr = all.pop().expect("three operands");
            let e = Expr::Between(Between::new(
                Box::new(expr),
                negated,
                Box::new(low),
                Box::new(high),
            ));
            if changed {
                Transformed::yes(e)
            } else {
                Transformed::no(e)
            }
        }
        Expr::InList(InList {
            expr,
            list,
            negated,
        }) => {
            let mut all = vec![*expr];
            all.extend(list);
            let (mut all, changed) = unify(all, schema, Meeting::Compared);
            let expr = all.remove(0);
            let e = Expr::InList(InList::new(Box::new(expr), all, negated));
            if changed {
                Transformed::yes(e)
            } else {
                Transformed::no(e)
            }
        }
        Expr::Case(case) => case_as_float(case, schema)?,
        Expr::ScalarFunction(f) if common_type_function(&f) => {
            let (args, changed) = unify(f.args, schema, Meeting::Combined);
            let e = Expr::ScalarFunction(ScalarFunction::new_udf(f.func, args));
            if changed {
                Transformed::yes(e)
            } else {
                Transformed::no(e)
            }
        }
        other => Transformed::no(other),
    })
}

/// A CASE whose results (THEN and ELSE) mix floats and numerics, with them in the float type;
/// the operand of `CASE x WHEN ...` and its WHEN values as compared ones.
fn case_as_float(case: Case, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Case {
        expr,
        when_then_expr,
        else_expr,
    } = case;
    let mut changed = false;
    let (whens, thens): (Vec<Expr>, Vec<Expr>) =
        when_then_expr.into_iter().map(|(w, t)| (*w, *t)).unzip();
    // The results.
    let mut results = thens;
    let has_else = else_expr.is_some();
    results.extend(else_expr.map(|e| *e));
    let (mut results, results_changed) = unify(results, schema, Meeting::Combined);
    changed |= results_changed;
    let else_expr = if has_else { results.pop() } else { None };
    // The operand and the values it is compared with.
    let (expr, whens) = match expr {
        Some(operand) => {
            let mut all = vec![*operand];
            all.extend(whens);
            let (mut all, operand_changed) = unify(all, schema, Meeting::Compared);
            changed |= operand_changed;
            let operand = all.remove(0);
            (Some(Box::new(operand)), all)
        }
        None => (None, whens),
    };
    let e = Expr::Case(Case {
        expr,
        when_then_expr: whens
            .into_iter()
            .zip(results)
            .map(|(w, t)| (Box::new(w), Box::new(t)))
            .collect(),
        else_expr: else_expr.map(Box::new),
    });
    Ok(if changed {
        Transformed::yes(e)
    } else {
        Transformed::no(e)
    })
}

/// `expr` without the cast to a numeric the planner put around a VALUES entry to give its
/// column one type (DataFusion's choice, a numeric, for floats and numerics), with its type.
fn before_values_cast(expr: Expr, schema: &DFSchema) -> Option<(Expr, DataType)> {
    match expr {
        Expr::Cast(c) if is_decimal(c.field.data_type()) => {
            let t = c.expr.get_type(schema).ok()?;
            Some((*c.expr, t))
        }
        other => {
            let t = other.get_type(schema).ok()?;
            Some((other, t))
        }
    }
}

/// A VALUES list whose column mixes floats and numerics across its rows, with that column's
/// values in the float type.
fn values_as_float(values: Values) -> Result<Transformed<LogicalPlan>> {
    let empty = DFSchema::empty();
    let width = values.values.first().map_or(0, Vec::len);
    let mut targets: Vec<Option<DataType>> = vec![None; width];
    for (column, target) in targets.iter_mut().enumerate() {
        let types: Option<Vec<DataType>> = values
            .values
            .iter()
            .map(|row| before_values_cast(row[column].clone(), &empty).map(|(_, t)| t))
            .collect();
        *target = types
            .filter(|t| mixes(t))
            .map(|t| target_float(&t, Meeting::Combined));
    }
    if targets.iter().all(Option::is_none) {
        return Ok(Transformed::no(LogicalPlan::Values(values)));
    }
    let rows: Vec<Vec<Expr>> = values
        .values
        .into_iter()
        .map(|row| {
            row.into_iter()
                .zip(&targets)
                .map(|(e, target)| {
                    let Some(target) = target else {
                        return e;
                    };
                    match before_values_cast(e.clone(), &empty) {
                        Some((inner, t)) => as_float(inner, &t, target),
                        None => e,
                    }
                })
                .collect()
        })
        .collect();
    // The planner names the columns `column1`, ...; so does the builder.
    let rebuilt = LogicalPlanBuilder::values(rows)?.build()?;
    Ok(Transformed::yes(rebuilt))
}

/// A UNION whose column is a float in one input and a numeric in another, with that column in
/// the float type in every input.
fn union_as_float(union: Union) -> Result<Transformed<LogicalPlan>> {
    let width = union.schema.fields().len();
    let targets: Vec<Option<DataType>> = (0..width)
        .map(|i| {
            let types: Vec<DataType> = union
                .inputs
                .iter()
                .filter_map(|input| {
                    input
                        .schema()
                        .fields()
                        .get(i)
                        .map(|f| f.data_type().clone())
                })
                .collect();
            mixes(&types).then(|| target_float(&types, Meeting::Combined))
        })
        .collect();
    if targets.iter().all(Option::is_none) {
        return Ok(Transformed::no(LogicalPlan::Union(union)));
    }
    let inputs = union
        .inputs
        .into_iter()
        .map(|input| {
            let exprs: Vec<Expr> = (0..width)
                .map(|i| {
                    let (qualifier, field) = input.schema().qualified_field(i);
                    let column = Expr::Column(Column::from((qualifier, field)));
                    match &targets[i] {
                        Some(target) => {
                            as_float(column, field.data_type(), target).alias(field.name())
                        }
                        None => column,
                    }
                })
                .collect();
            LogicalPlanBuilder::from(Arc::unwrap_or_clone(input))
                .project(exprs)?
                .build()
                .map(Arc::new)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Transformed::yes(LogicalPlan::Union(
        Union::try_new_with_loose_types(inputs)?,
    )))
}
