//! PostgreSQL's type resolution where DataFusion's type coercion found a type PostgreSQL does
//! not. Where one expression brings values of several types together:
//! the branches of `CASE`, `COALESCE`, `GREATEST`, `LEAST` and the columns of `UNION`, and a
//! value against the items of an `IN` list or a simple `CASE`'s `WHEN`s. An analyzer rule that
//! runs before DataFusion's type coercion, which turned a text and a number into two texts
//! (`COALESCE(name, 5)` answered `'5'`, `text_col IN (9, 10)` compared texts).
//! - Typed values of different kinds (a text column and a number, a date and a boolean) are
//!   refused as PostgreSQL refuses them: 42804 `CASE types integer and text cannot be matched`,
//!   and 42883 `operator does not exist: text = integer` for an `IN` item or a `WHEN` value.
//! - A quoted literal is of no type yet: beside numbers or booleans it is read as one
//!   (`CASE WHEN c THEN '1' ELSE 0 END` is the integer 1, `int_col IN ('01')` matches 1, and a
//!   literal that is no number is 22P02), as PostgreSQL reads an unknown literal in the type
//!   the other values resolve to.
//!
//! And `max` / `min` of a boolean, which PostgreSQL does not have (42883; `bool_or` and
//! `bool_and` are its aggregates), are refused rather than answered.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue, plan_err};
use datafusion::logical_expr::expr::{Case, InList, ScalarFunction};

use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, Projection, Union, cast};
use datafusion::optimizer::AnalyzerRule;

use crate::error::{Error, ErrorKind, type_words};

/// The analyzer rule; see the module documentation.
#[derive(Debug, Default)]
pub struct TypeResolution;

impl AnalyzerRule for TypeResolution {
    fn name(&self) -> &str {
        "deltagres_type_resolution"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(rewrite_node)
            .map(|t| t.data)
    }
}

/// PostgreSQL's type categories, the level at which it refuses to match two types.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Category {
    Numeric,
    String,
    Boolean,
    DateTime,
    Timespan,
    Bytes,
}

fn category(data_type: &DataType) -> Option<Category> {
    use DataType::*;
    Some(match data_type {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float16 | Float32
        | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => {
            Category::Numeric
        }
        Utf8 | LargeUtf8 | Utf8View => Category::String,
        Boolean => Category::Boolean,
        Date32 | Date64 | Timestamp(..) | Time32(_) | Time64(_) => Category::DateTime,
        Interval(_) | Duration(_) => Category::Timespan,
        Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => Category::Bytes,
        Dictionary(_, values) => return category(values),
        _ => return None,
    })
}

/// Whether `expr` is a value of no type yet in PostgreSQL: a quoted literal, NULL, or a
/// parameter the client did not type.
fn untyped(expr: &Expr) -> bool {
    match expr {
        Expr::Literal(value, _) => matches!(
            value,
            ScalarValue::Null
                | ScalarValue::Utf8(_)
                | ScalarValue::LargeUtf8(_)
                | ScalarValue::Utf8View(_)
        ),
        Expr::Placeholder(p) => p.field.is_none(),
        Expr::Alias(a) => untyped(&a.expr),
        _ => false,
    }
}

/// The typed value's type, `None` for an untyped one or one whose type cannot be told here.
fn typed(expr: &Expr, schema: &DFSchema) -> Option<DataType> {
    if untyped(expr) {
        return None;
    }
    expr.get_type(schema).ok().filter(|t| category(t).is_some())
}

fn is_candidate(expr: &Expr) -> bool {
    match expr {
        Expr::InList(_) | Expr::Case(_) => true,
        Expr::ScalarFunction(f) => construct(f.name()).is_some(),
        Expr::AggregateFunction(f) => matches!(f.func.name(), "max" | "min"),
        _ => false,
    }
}

/// PostgreSQL's name of a function whose arguments resolve to one type.
fn construct(function: &str) -> Option<&'static str> {
    Some(match function {
        "coalesce" => "COALESCE",
        "greatest" => "GREATEST",
        "least" => "LEAST",
        _ => return None,
    })
}

fn rewrite_node(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    if let LogicalPlan::Union(union) = plan {
        return resolve_union(union);
    }
    super::node_rewrite::rewrite_wanted(plan, is_candidate, rewrite_expr)
}

fn rewrite_expr(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    match expr {
        Expr::Case(case) => resolve_case(case, schema),
        Expr::InList(in_list) => resolve_in_list(in_list, schema),
        Expr::ScalarFunction(f) if construct(f.name()).is_some() => resolve_arguments(f, schema),
        Expr::AggregateFunction(f) => {
            let name = f.func.name();
            if matches!(name, "max" | "min")
                && let [arg] = f.params.args.as_slice()
                && arg.get_type(schema).is_ok_and(|t| t == DataType::Boolean)
            {
                return Err(super::external(
                    Error::new(
                    ErrorKind::UndefinedFunction,
                    format!("function {name}(boolean) does not exist"),
                )
                .with_hint("No function matches the given name and argument types. You might need to add explicit type casts."),
                ));
            }
            Ok(Transformed::no(Expr::AggregateFunction(f)))
        }
        other => Ok(Transformed::no(other)),
    }
}

/// The one type `values` resolve to (the first typed value's), or 42804 naming `construct`
/// when two typed values are of different categories. `None` when no value is typed.
fn common_type<'a>(
    construct: &str,
    values: impl IntoIterator<Item = &'a Expr>,
    schema: &DFSchema,
) -> Result<Option<DataType>> {
    let mut common: Option<DataType> = None;
    for value in values {
        let Some(t) = typed(value, schema) else {
            continue;
        };
        match &common {
            None => common = Some(t),
            Some(c) if category(c) != category(&t) => {
                return Err(mismatch(construct, c, &t));
            }
            Some(_) => {}
        }
    }
    Ok(common)
}

fn mismatch(
    construct: &str,
    first: &DataType,
    second: &DataType,
) -> datafusion::error::DataFusionError {
    super::external(Error::new(
        ErrorKind::DatatypeMismatch,
        format!(
            "{construct} types {} and {} cannot be matched",
            type_words(first),
            type_words(second)
        ),
    ))
}

fn no_operator(left: &DataType, right: &DataType) -> datafusion::error::DataFusionError {
    super::external(Error::new(
        ErrorKind::UndefinedFunction,
        format!(
            "operator does not exist: {} = {}",
            type_words(left),
            type_words(right)
        ),
    )
    .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts."))
}

/// `expr` read as a value of `to` when it is a quoted literal and `to` a number or boolean
/// (DataFusion would have read the other values as texts); otherwise as it is.
fn literal_as(expr: Expr, to: Option<&DataType>) -> Expr {
    match to {
        Some(t)
            if super::is_quoted_literal(&expr)
                && matches!(category(t), Some(Category::Numeric | Category::Boolean)) =>
        {
            cast(expr, t.clone())
        }
        _ => expr,
    }
}

fn resolve_case(case: Case, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Case {
        expr,
        when_then_expr,
        else_expr,
    } = case;
    // PostgreSQL resolves the ELSE value first, then the THEN values in order.
    let results = else_expr
        .iter()
        .map(|e| e.as_ref())
        .chain(when_then_expr.iter().map(|(_, then)| then.as_ref()));
    let result_type = common_type("CASE", results, schema)?;
    let operand_type = match &expr {
        Some(operand) => {
            let operand_type = typed(operand, schema);
            if let Some(ot) = &operand_type {
                for (when, _) in &when_then_expr {
                    refuse_comparison(ot, when, schema)?;
                }
            }
            operand_type
        }
        None => None,
    };
    let results_typed = needs_literal_cast(
        result_type.as_ref(),
        else_expr
            .iter()
            .map(|e| e.as_ref())
            .chain(when_then_expr.iter().map(|(_, t)| t.as_ref())),
    );
    // `operand_type` is None without an operand.
    let whens_typed = needs_literal_cast(
        operand_type.as_ref(),
        when_then_expr.iter().map(|(w, _)| w.as_ref()),
    );
    if !results_typed && !whens_typed {
        return Ok(Transformed::no(Expr::Case(Case {
            expr,
            when_then_expr,
            else_expr,
        })));
    }
    let when_then_expr = when_then_expr
        .into_iter()
        .map(|(when, then)| {
            let when = if expr.is_some() {
                Box::new(literal_as(*when, operand_type.as_ref()))
            } else {
                when
            };
            (when, Box::new(literal_as(*then, result_type.as_ref())))
        })
        .collect();
    let else_expr = else_expr.map(|e| Box::new(literal_as(*e, result_type.as_ref())));
    Ok(Transformed::yes(Expr::Case(Case {
        expr,
        when_then_expr,
        else_expr,
    })))
}

/// Whether any of `values` is a quoted literal that [`literal_as`] would read as `to`.
fn needs_literal_cast<'a>(
    to: Option<&DataType>,
    mut values: impl Iterator<Item = &'a Expr>,
) -> bool {
    matches!(
        to.and_then(category),
        Some(Category::Numeric | Category::Boolean)
    ) && values.any(super::is_quoted_literal)
}

/// 42883 when `value` is typed and of another category than `left`, the value it is compared
/// with.
fn refuse_comparison(left: &DataType, value: &Expr, schema: &DFSchema) -> Result<()> {
    match typed(value, schema) {
        Some(right) if category(&right) != category(left) => Err(no_operator(left, &right)),
        _ => Ok(()),
    }
}

fn resolve_in_list(in_list: InList, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Some(left) = typed(&in_list.expr, schema) else {
        return Ok(Transformed::no(Expr::InList(in_list)));
    };
    for item in &in_list.list {
        refuse_comparison(&left, item, schema)?;
    }
    if !needs_literal_cast(Some(&left), in_list.list.iter()) {
        return Ok(Transformed::no(Expr::InList(in_list)));
    }
    let InList {
        expr,
        list,
        negated,
    } = in_list;
    let list = list
        .into_iter()
        .map(|item| literal_as(item, Some(&left)))
        .collect();
    Ok(Transformed::yes(Expr::InList(InList {
        expr,
        list,
        negated,
    })))
}

fn resolve_arguments(f: ScalarFunction, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let name = construct(f.name()).unwrap_or("COALESCE");
    let common = common_type(name, &f.args, schema)?;
    if !needs_literal_cast(common.as_ref(), f.args.iter()) {
        return Ok(Transformed::no(Expr::ScalarFunction(f)));
    }
    let ScalarFunction { func, args } = f;
    let args = args
        .into_iter()
        .map(|a| literal_as(a, common.as_ref()))
        .collect();
    Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction {
        func,
        args,
    })))
}

/// A UNION as PostgreSQL types its columns: 42804 when a column is a text in one branch and a
/// number in another (DataFusion made the numbers texts), and a quoted literal in a branch read
/// as the type of the column's typed values (`SELECT id ... UNION SELECT '5'` is a column of
/// integers, sorted as numbers). NULL matches anything.
fn resolve_union(union: Union) -> Result<Transformed<LogicalPlan>> {
    let Some(first) = union.inputs.first() else {
        return Ok(Transformed::no(LogicalPlan::Union(union)));
    };
    let mut common_types = Vec::with_capacity(first.schema().fields().len());
    for column in 0..first.schema().fields().len() {
        let mut common: Option<DataType> = None;
        for input in &union.inputs {
            if untyped_output(input, column) {
                continue;
            }
            let Some(field) = input.schema().fields().get(column) else {
                continue;
            };
            let t = field.data_type();
            if category(t).is_none() {
                continue;
            }
            match &common {
                None => common = Some(t.clone()),
                Some(c) if category(c) != category(t) => return Err(mismatch("UNION", c, t)),
                Some(_) => {}
            }
        }
        common_types.push(common.filter(|t| category(t) != Some(Category::String)));
    }
    let literal_columns = |input: &LogicalPlan| -> Vec<usize> {
        match input {
            LogicalPlan::Projection(p) => common_types
                .iter()
                .enumerate()
                .filter(|(i, t)| t.is_some() && p.expr.get(*i).is_some_and(quoted_literal_output))
                .map(|(i, _)| i)
                .collect(),
            _ => Vec::new(),
        }
    };
    if union
        .inputs
        .iter()
        .all(|input| literal_columns(input).is_empty())
    {
        return Ok(Transformed::no(LogicalPlan::Union(union)));
    }
    let mut inputs = Vec::with_capacity(union.inputs.len());
    for input in union.inputs {
        let columns = literal_columns(&input);
        if columns.is_empty() {
            inputs.push(input);
            continue;
        }
        let LogicalPlan::Projection(projection) = Arc::unwrap_or_clone(input) else {
            return plan_err!("a UNION branch with literal columns is a projection");
        };
        let mut exprs = projection.expr;
        for column in columns {
            let Some(to) = &common_types[column] else {
                continue;
            };
            let name = exprs[column].schema_name().to_string();
            let literal =
                std::mem::replace(&mut exprs[column], Expr::Literal(ScalarValue::Null, None));
            let literal = match literal {
                Expr::Alias(alias) => *alias.expr,
                other => other,
            };
            exprs[column] = cast(literal, to.clone()).alias(name);
        }
        inputs.push(Arc::new(LogicalPlan::Projection(Projection::try_new(
            exprs,
            projection.input,
        )?)));
    }
    Ok(Transformed::yes(LogicalPlan::Union(
        Union::try_new_with_loose_types(inputs)?,
    )))
}

/// Whether a projection's expression is a quoted literal (perhaps named).
fn quoted_literal_output(expr: &Expr) -> bool {
    match expr {
        Expr::Alias(alias) => super::is_quoted_literal(&alias.expr),
        other => super::is_quoted_literal(other),
    }
}

/// Whether output `column` of `plan` is an untyped value (a quoted literal, NULL) in every row.
fn untyped_output(plan: &LogicalPlan, column: usize) -> bool {
    match plan {
        LogicalPlan::Projection(p) => p.expr.get(column).is_some_and(untyped),
        LogicalPlan::Values(v) => v
            .values
            .iter()
            .all(|row| row.get(column).is_some_and(untyped)),
        LogicalPlan::SubqueryAlias(s) => untyped_output(&s.input, column),
        LogicalPlan::Distinct(_) | LogicalPlan::Sort(_) | LogicalPlan::Limit(_) => plan
            .inputs()
            .first()
            .is_some_and(|input| untyped_output(input, column)),
        _ => false,
    }
}
