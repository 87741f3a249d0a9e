//! The analyzer rule that puts PostgreSQL's semantics into a plan after DataFusion's type
//! coercion: checked arithmetic, numeric division, rounding casts to integers, `round` of a
//! float to even, decimal literals with a negative scale (`1e20`) made plain integers, and casts
//! to text that write values as PostgreSQL's output functions do, the text compared with a
//! jsonb value read as jsonb, and texts cast to a timestamp column's type read in PostgreSQL's
//! forms (`timestamp_input`).

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::expr::{BinaryExpr, Cast, TryCast};
use datafusion::logical_expr::{
    Expr, ExprSchemable, LogicalPlan, Operator, WindowFunctionDefinition,
};
use datafusion::optimizer::AnalyzerRule;

use super::array_input::PgArrayIn;
use super::bytea::PgByteaIn;
use super::checked::CheckedArithmetic;
use super::float_cast::FloatCast;
use super::numeric::{Integral, IntegralNumeric, NumericDivide, RoundForIntegerCast};
use super::text_out;
use super::timestamp_input::PgTimestampText;

/// Whether `expr` is already a text put through [`PgTimestampText`].
fn is_timestamp_text(expr: &Expr) -> bool {
    matches!(expr, Expr::ScalarFunction(f) if f.name() == "pg_timestamp_text")
}

/// Rewrites each plan node's expressions to PostgreSQL's semantics (see the module header).
/// Runs after DataFusion's `TypeCoercion`, which runs once more after it, since a rewrite can
/// change a type.
#[derive(Debug, Default)]
pub struct PostgresSemantics;

impl AnalyzerRule for PostgresSemantics {
    fn name(&self) -> &str {
        "postgres_semantics"
    }

    fn analyze(&self, plan: LogicalPlan, config: &ConfigOptions) -> Result<LogicalPlan> {
        let time_zone = config.execution.time_zone.as_deref();
        plan.transform_up_with_subqueries(|node| rewrite_node(node, time_zone))
            .map(|t| t.data)
    }
}

fn rewrite_node(plan: LogicalPlan, time_zone: Option<&str>) -> Result<Transformed<LogicalPlan>> {
    // LIMIT/OFFSET counts and DML targets are not values PostgreSQL computes with.
    if matches!(plan, LogicalPlan::Limit(_) | LogicalPlan::Dml(_)) {
        return Ok(Transformed::no(plan));
    }
    let schema = super::node_rewrite::input_schema(&plan);
    refuse_document_order(&plan, &schema)?;
    super::node_rewrite::rewrite_expressions(plan, &schema, |expr, schema| {
        rewrite_expr(expr, schema, time_zone)
    })
}

/// One expression, its operands already rewritten. Expressions whose types cannot be told (a
/// node whose expressions do not read its inputs) stay as they are. `time_zone` is the
/// session's, the zone of its `timestamptz` values.
fn rewrite_expr(
    expr: Expr,
    schema: &DFSchema,
    time_zone: Option<&str>,
) -> Result<Transformed<Expr>> {
    if let Expr::ScalarFunction(f) = &expr
        && let Some(cast) = super::dates_as_instants::cast_dates(f, schema, time_zone)
    {
        return Ok(Transformed::yes(cast));
    }
    if let Expr::ScalarFunction(f) = &expr
        && let Some(call) = super::instants_in_session_zone::rezone_arguments(f, schema, time_zone)
    {
        return Ok(Transformed::yes(call));
    }
    if let Some(requalified) = super::set_comparison::requalified(&expr)? {
        return Ok(Transformed::yes(requalified));
    }
    if let Some(instant) =
        super::instants_in_session_zone::session_zone_input(&expr, schema, time_zone)
    {
        return Ok(Transformed::yes(instant));
    }
    if let Some(wall) = super::instants_in_session_zone::wall_clock_cast(&expr, schema, time_zone) {
        return Ok(Transformed::yes(wall));
    }
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (Ok(lt), Ok(rt)) = (left.get_type(schema), right.get_type(schema)) else {
                return Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr {
                    left,
                    op,
                    right,
                })));
            };
            if matches!(
                op,
                Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq
            ) && let Some(flavor) =
                document_flavor(&left, schema).or_else(|| document_flavor(&right, schema))
            {
                return Err(document_order_error(flavor, &format!("the operator {op}")));
            }
            if let Some(rezoned) = super::instants_in_session_zone::rezone_interval_arithmetic(
                &left,
                op,
                &right,
                (&lt, &rt),
                time_zone,
            ) {
                return Ok(Transformed::yes(rezoned));
            }
            let (left, right) = jsonb_against_text(*left, op, *right, schema, (&lt, &rt));
            rewrite_binary(left, op, right, (&lt, &rt))
        }
        // A cast to a string writes the value as PostgreSQL's output function does; a
        // document cast to text is text (DataFusion kept the document's mark through the cast,
        // so `doc::text` was still described as jsonb).
        Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field })
            if field.data_type().is_string()
                && expr.to_field(schema).is_ok_and(|(_, from)| {
                    text_out::differs_from_postgres(from.data_type())
                        || super::json_build::flavor_of(&from).is_some()
                }) =>
        {
            let text = text_out::PgTextOut::call(*expr);
            Ok(Transformed::yes(if field.data_type() == &DataType::Utf8 {
                text
            } else {
                Expr::Cast(Cast::new_from_field(Box::new(text), field))
            }))
        }
        // A text read as an array: by PostgreSQL's array input (Arrow wrapped the whole text).
        Expr::Cast(Cast { expr, field })
            if PgArrayIn::reads(field.data_type())
                && expr.get_type(schema).is_ok_and(|from| from.is_string()) =>
        {
            Ok(Transformed::yes(PgArrayIn::call(*expr, field.data_type())))
        }
        // A text read as bytea: by bytea's input function (Arrow takes the text's own bytes).
        Expr::Cast(Cast { expr, field })
            if field.data_type().is_binary()
                && !PgByteaIn::is_call(&expr)
                && expr.get_type(schema).is_ok_and(|from| from.is_string()) =>
        {
            let bytes = PgByteaIn::call(*expr);
            Ok(Transformed::yes(
                if field.data_type() == &DataType::Binary {
                    bytes
                } else {
                    Expr::Cast(Cast::new_from_field(Box::new(bytes), field))
                },
            ))
        }
        // A text read as a timestamp column's value: with PostgreSQL's forms Arrow lacks.
        Expr::Cast(Cast { expr, field })
            if matches!(
                field.data_type(),
                DataType::Timestamp(
                    TimeUnit::Second | TimeUnit::Millisecond | TimeUnit::Microsecond,
                    _
                )
            ) && !is_timestamp_text(&expr)
                && expr.get_type(schema).is_ok_and(|from| from.is_string()) =>
        {
            Ok(Transformed::yes(Expr::Cast(Cast::new_from_field(
                Box::new(PgTimestampText::call(*expr)),
                field,
            ))))
        }
        // A cast to real or double precision: out of the type's range is 22003 (Arrow answered
        // inf and 0).
        Expr::Cast(Cast { expr, field })
            if expr
                .get_type(schema)
                .is_ok_and(|from| FloatCast::checks(&from, field.data_type())) =>
        {
            Ok(Transformed::yes(FloatCast::call(
                *expr,
                field.data_type().clone(),
            )))
        }
        Expr::Cast(Cast { expr, field }) => {
            let rounds = expr
                .get_type(schema)
                .map(|from| RoundForIntegerCast::applies(&expr, &from, field.data_type()))
                .unwrap_or(false);
            if rounds {
                Ok(Transformed::yes(Expr::Cast(Cast::new_from_field(
                    Box::new(RoundForIntegerCast::call(*expr)),
                    field,
                ))))
            } else {
                Ok(Transformed::no(Expr::Cast(Cast { expr, field })))
            }
        }
        Expr::Literal(ScalarValue::Decimal128(Some(v), p, s), meta) if s < 0 => {
            // PostgreSQL shows 1e20 as 100000000000000000000; clients cannot take a negative scale.
            let plain = 10i128
                .checked_pow(s.unsigned_abs() as u32)
                .and_then(|f| v.checked_mul(f));
            let digits = p as i32 - s as i32;
            match plain {
                Some(plain) if digits <= 38 => Ok(Transformed::yes(Expr::Literal(
                    ScalarValue::Decimal128(Some(plain), digits as u8, 0),
                    meta,
                ))),
                _ => Ok(Transformed::no(Expr::Literal(
                    ScalarValue::Decimal128(Some(v), p, s),
                    meta,
                ))),
            }
        }
        // avg of integers is numeric in PostgreSQL (sixteen fractional digits here), and sum of
        // bigints is numeric too, so it cannot wrap around: the argument becomes a numeric.
        Expr::AggregateFunction(mut agg)
            if agg.params.args.len() == 1
                && exact_aggregate_of_integers(
                    &agg.func.name().to_ascii_lowercase(),
                    &agg.params.args[0],
                    schema,
                )
                .is_some() =>
        {
            let name = agg.func.name().to_ascii_lowercase();
            let target = exact_aggregate_of_integers(&name, &agg.params.args[0], schema)
                .expect("checked above");
            let arg = without_float_coercion(agg.params.args.remove(0), schema);
            agg.params
                .args
                .push(Expr::Cast(Cast::new(Box::new(arg), target)));
            Ok(Transformed::yes(Expr::AggregateFunction(agg)))
        }
        // The same for avg as a window function (DataFusion: a double, or six digits).
        Expr::WindowFunction(mut window)
            if window.params.args.len() == 1
                && matches!(
                    &window.fun,
                    WindowFunctionDefinition::AggregateUDF(udaf) if udaf.name() == "avg"
                )
                && exact_aggregate_of_integers("avg", &window.params.args[0], schema).is_some() =>
        {
            let target = exact_aggregate_of_integers("avg", &window.params.args[0], schema)
                .expect("checked above");
            let arg = without_float_coercion(window.params.args.remove(0), schema);
            window
                .params
                .args
                .push(Expr::Cast(Cast::new(Box::new(arg), target)));
            Ok(Transformed::yes(Expr::WindowFunction(window)))
        }
        // concat / concat_ws / format write their arguments with the output functions.
        Expr::ScalarFunction(f) if super::text_args::with_output_text(&f, schema).is_some() => {
            let written = super::text_args::with_output_text(&f, schema).expect("checked above");
            Ok(Transformed::yes(Expr::ScalarFunction(written)))
        }
        // round(numeric, k) has k fractional digits in PostgreSQL (round(3::numeric, 2) is
        // 3.00); DataFusion never adds digits, so the argument gets them first.
        Expr::ScalarFunction(mut f)
            if f.args.len() == 2
                && f.name().eq_ignore_ascii_case("round")
                && round_widening(&f.args, schema).is_some() =>
        {
            let to = round_widening(&f.args, schema).expect("checked above");
            let arg = f.args.remove(0);
            f.args.insert(0, Expr::Cast(Cast::new(Box::new(arg), to)));
            Ok(Transformed::yes(Expr::ScalarFunction(f)))
        }
        // trunc(numeric, k) has k fractional digits in PostgreSQL (trunc(2.567, 2) is 2.56,
        // none for k <= 0); DataFusion keeps the argument's: fewer by a cast of the truncated
        // value (exact), more by widening the argument as for round.
        Expr::ScalarFunction(mut f)
            if f.args.len() == 2
                && f.name().eq_ignore_ascii_case("trunc")
                && (round_widening(&f.args, schema).is_some()
                    || trunc_narrowing(&f.args, schema).is_some()) =>
        {
            if let Some(to) = round_widening(&f.args, schema) {
                let arg = f.args.remove(0);
                f.args.insert(0, Expr::Cast(Cast::new(Box::new(arg), to)));
                return Ok(Transformed::yes(Expr::ScalarFunction(f)));
            }
            let to = trunc_narrowing(&f.args, schema).expect("checked above");
            Ok(Transformed::yes(Expr::Cast(Cast::new(
                Box::new(Expr::ScalarFunction(f)),
                to,
            ))))
        }
        // floor/ceil/trunc/round(x): of a numeric, an integral numeric; of an integer, the
        // double precision PostgreSQL resolves them to; round of a float is rint (to even).
        Expr::ScalarFunction(f) if f.args.len() == 1 && Integral::of(f.name()).is_some() => {
            let mode = Integral::of(f.name()).expect("checked above");
            let Ok(t) = f.args[0].get_type(schema) else {
                return Ok(Transformed::no(Expr::ScalarFunction(f)));
            };
            let arg = f.args[0].clone();
            Ok(match t {
                DataType::Decimal128(_, s) if s > 0 => {
                    Transformed::yes(IntegralNumeric::call(mode, arg))
                }
                t if t.is_floating() && mode == Integral::Round => {
                    Transformed::yes(RoundForIntegerCast::round(arg))
                }
                t if t.is_integer() => {
                    let float = Expr::Cast(Cast::new(Box::new(arg), DataType::Float64));
                    Transformed::yes(if mode == Integral::Round {
                        RoundForIntegerCast::round(float)
                    } else {
                        f.func.call(vec![float])
                    })
                }
                _ => Transformed::no(Expr::ScalarFunction(f)),
            })
        }
        other => Ok(Transformed::no(other)),
    }
}

/// The numeric type an aggregate's integer argument takes so the aggregate answers as
/// PostgreSQL's: `avg(integer)` (a numeric of sixteen fractional digits once DataFusion adds its
/// four) and `sum(bigint)` (a numeric that cannot overflow where a bigint wrapped around).
fn exact_aggregate_of_integers(name: &str, arg: &Expr, schema: &DFSchema) -> Option<DataType> {
    let t = without_float_coercion(arg.clone(), schema)
        .get_type(schema)
        .ok()?;
    match name {
        "avg" | "mean" if t.is_integer() => Some(DataType::Decimal128(38, 12)),
        // avg of a numeric keeps at least sixteen fractional digits, as PostgreSQL's does.
        "avg" | "mean" if matches!(t, DataType::Decimal128(_, s) if s < 12) => {
            Some(DataType::Decimal128(38, 12))
        }
        "sum"
            if matches!(t, DataType::Int64 | DataType::UInt64) && !widened_integer(arg, schema) =>
        {
            Some(DataType::Decimal128(38, 0))
        }
        _ => None,
    }
}

/// The decimal type `round(x, k)`'s numeric argument needs to carry `k` fractional digits, when
/// it has fewer.
fn round_widening(args: &[Expr], schema: &DFSchema) -> Option<DataType> {
    let DataType::Decimal128(p, s) = args[0].get_type(schema).ok()? else {
        return None;
    };
    let k = constant_digits(&args[1])?;
    (k > s as i64 && k <= 38).then(|| {
        let k = k as i8;
        DataType::Decimal128((p as i16 + (k - s) as i16).min(38) as u8, k)
    })
}

/// The type of `trunc(numeric, k)` for a constant `k` below the numeric's scale: `k` fractional
/// digits (none when `k` is negative).
fn trunc_narrowing(args: &[Expr], schema: &DFSchema) -> Option<DataType> {
    let DataType::Decimal128(p, s) = args[0].get_type(schema).ok()? else {
        return None;
    };
    let k = constant_digits(&args[1])?;
    (k < s as i64).then(|| DataType::Decimal128(p, k.max(0) as i8))
}

/// The value of a constant integer argument (a literal, or a cast of one).
fn constant_digits(arg: &Expr) -> Option<i64> {
    let digits = match arg {
        Expr::Literal(v, _) => v.cast_to(&DataType::Int64).ok()?,
        Expr::Cast(Cast { expr, .. }) => match expr.as_ref() {
            Expr::Literal(v, _) => v.cast_to(&DataType::Int64).ok()?,
            _ => return None,
        },
        _ => return None,
    };
    match digits {
        ScalarValue::Int64(Some(k)) => Some(k),
        _ => None,
    }
}

/// An aggregate's argument without the cast to double precision DataFusion's coercion gives
/// `avg(integer)`: PostgreSQL's avg of integers is exact.
fn without_float_coercion(arg: Expr, schema: &DFSchema) -> Expr {
    match arg {
        Expr::Cast(Cast { expr, field })
            if field.data_type() == &DataType::Float64
                && expr.get_type(schema).is_ok_and(|t| t.is_integer()) =>
        {
            *expr
        }
        other => other,
    }
}

/// Whether `arg` is a smaller integer that DataFusion's coercion widened to bigint for `sum`
/// (PostgreSQL's sum of smallint or integer is a bigint: it stays one).
fn widened_integer(arg: &Expr, schema: &DFSchema) -> bool {
    matches!(arg, Expr::Cast(Cast { expr, .. })
    if expr.get_type(schema).is_ok_and(|t| matches!(
        t,
        DataType::Int8 | DataType::Int16 | DataType::Int32
            | DataType::UInt8 | DataType::UInt16 | DataType::UInt32
    )))
}

/// The JSON type of a value that is a document (a json / jsonb column, a cast, a builder).
fn document_flavor(e: &Expr, schema: &DFSchema) -> Option<super::json_build::Flavor> {
    // A cast is to another type (`doc::text`): DataFusion keeps the input's field metadata
    // through it, but the value is no document any more (casts to json are functions here).
    let mut unaliased = e;
    while let Expr::Alias(alias) = unaliased {
        unaliased = &alias.expr;
    }
    if matches!(unaliased, Expr::Cast(_) | Expr::TryCast(_)) {
        return None;
    }
    e.to_field(schema)
        .ok()
        .and_then(|(_, field)| super::json_build::flavor_of(&field))
}

/// Documents are text here: ordering them would order their texts, where PostgreSQL orders jsonb
/// by its own rules (and json not at all). An error rather than a wrong order: jsonb 0A000, json
/// 42883 as in PostgreSQL.
fn document_order_error(
    flavor: super::json_build::Flavor,
    what: &str,
) -> datafusion::error::DataFusionError {
    match flavor {
        super::json_build::Flavor::Jsonb => super::pg_error(
            crate::error::ErrorKind::FeatureNotSupported,
            format!(
                "ordering jsonb values ({what}) is not supported yet; order by a field, e.g. (doc ->> 'k')::int"
            ),
        ),
        super::json_build::Flavor::Json => super::pg_error(
            crate::error::ErrorKind::UndefinedFunction,
            format!("could not identify an ordering operator for type json ({what})"),
        ),
    }
}

/// ORDER BY a document, in a query, a window or an aggregate (see [`document_order_error`]), and
/// min / max of one (42883: PostgreSQL has neither for json or jsonb).
fn refuse_document_order(plan: &LogicalPlan, schema: &DFSchema) -> Result<()> {
    use datafusion::common::tree_node::TreeNodeRecursion;
    use datafusion::logical_expr::SortExpr;
    let ordered_by_document = |order_by: &[SortExpr]| {
        order_by
            .iter()
            .find_map(|e| document_flavor(&e.expr, schema))
    };
    if let LogicalPlan::Sort(sort) = plan
        && let Some(flavor) = ordered_by_document(&sort.expr)
    {
        return Err(document_order_error(flavor, "ORDER BY"));
    }
    let mut refused = None;
    plan.apply_expressions(|expr| {
        expr.apply(|inner| {
            refused = match inner {
                Expr::WindowFunction(w) => ordered_by_document(&w.params.order_by)
                    .map(|flavor| document_order_error(flavor, "a window's ORDER BY")),
                Expr::AggregateFunction(f) => {
                    let name = f.func.name();
                    match f
                        .params
                        .args
                        .first()
                        .and_then(|a| document_flavor(a, schema))
                    {
                        Some(flavor) if matches!(name, "min" | "max") => Some(super::pg_error(
                            crate::error::ErrorKind::UndefinedFunction,
                            format!("function {name}({}) does not exist", flavor.tag()),
                        )),
                        _ => ordered_by_document(&f.params.order_by).map(|flavor| {
                            document_order_error(flavor, &format!("{name}'s ORDER BY"))
                        }),
                    }
                }
                _ => None,
            };
            Ok(if refused.is_some() {
                TreeNodeRecursion::Stop
            } else {
                TreeNodeRecursion::Continue
            })
        })
    })?;
    if let Some(error) = refused {
        return Err(error);
    }
    Ok(())
}

/// `jsonb = text` / `<>`: the text read as jsonb (checked, and written in jsonb's form), as
/// PostgreSQL reads the other side of a jsonb comparison, so equal documents written differently
/// (`'{"k":[1]}'` against a stored `{"k": [1]}`) compare equal. A jsonb value (a column declared
/// jsonb, a cast, a builder) is always in that form already.
fn jsonb_against_text(
    left: Expr,
    op: Operator,
    right: Expr,
    schema: &DFSchema,
    (lt, rt): (&DataType, &DataType),
) -> (Expr, Expr) {
    if !matches!(op, Operator::Eq | Operator::NotEq) {
        return (left, right);
    }
    use super::json_build::Flavor;
    let jsonb = |text: Expr| super::json::json_cast_udf(Flavor::Jsonb).call(vec![text]);
    match (
        document_flavor(&left, schema),
        document_flavor(&right, schema),
    ) {
        (Some(Flavor::Jsonb), None) if rt.is_string() => (left, jsonb(right)),
        (None, Some(Flavor::Jsonb)) if lt.is_string() => (jsonb(left), right),
        _ => (left, right),
    }
}

fn rewrite_binary(
    left: Expr,
    op: Operator,
    right: Expr,
    (lt, rt): (&DataType, &DataType),
) -> Result<Transformed<Expr>> {
    Ok(Transformed::yes(match op {
        Operator::Divide
            if matches!(lt, DataType::Decimal128(..)) && matches!(rt, DataType::Decimal128(..)) =>
        {
            NumericDivide::call(left, right)
        }
        _ if CheckedArithmetic::applies(op, lt, rt) => {
            CheckedArithmetic::call(op, left, right, lt, rt)
        }
        _ => {
            return Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(left),
                op,
                Box::new(right),
            ))));
        }
    }))
}
