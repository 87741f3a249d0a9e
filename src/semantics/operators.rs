//! PostgreSQL's interval operators, planned where DataFusion would refuse or retype them, at
//! the moment the SQL planner meets the operator with both operands' types known:
//! `interval * number`, `number * interval` and `interval / number` (DataFusion has no such
//! operator), and `date ± interval`, a timestamp in PostgreSQL (DataFusion keeps a date, so a
//! month after January 31st lost its time of day), and `timestamp - timestamp` in days and time.
//! `date ± integer` stays a date, as there. `EXTRACT` is planned as PostgreSQL's `extract`.
//! Array `@>`, `<@` and `&&` are planned with PostgreSQL's NULLs (`array_sets`).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, IntervalUnit, TimeUnit};
use datafusion::common::DFSchema;
use datafusion::error::Result;
use datafusion::logical_expr::expr::{BinaryExpr, Cast};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{Expr, ExprSchemable, Operator};
use datafusion::sql::sqlparser::ast::BinaryOperator;

use super::datetime::{IntervalMultiply, TimestampDifference};

const INTERVAL: DataType = DataType::Interval(IntervalUnit::MonthDayNano);
const TIMESTAMP: DataType = DataType::Timestamp(TimeUnit::Nanosecond, None);

/// The expression planner for those operators; registered ahead of DataFusion's own.
#[derive(Debug, Default)]
pub struct PostgresOperators;

fn is_interval(t: &DataType) -> bool {
    matches!(t, DataType::Interval(_))
}

fn is_date(t: &DataType) -> bool {
    matches!(t, DataType::Date32 | DataType::Date64)
}

fn is_timestamp(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(..))
}

fn cast(e: Expr, to: DataType) -> Expr {
    Expr::Cast(Cast::new(Box::new(e), to))
}

/// An interval operand in the one interval type the functions take.
fn month_day_nano(e: Expr, t: &DataType) -> Expr {
    if t == &INTERVAL { e } else { cast(e, INTERVAL) }
}

impl ExprPlanner for PostgresOperators {
    /// `EXTRACT(field FROM x)` is PostgreSQL's numeric-valued `extract`, not `date_part`.
    fn plan_extract(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        let udf = datafusion::logical_expr::ScalarUDF::from(super::DatePart::new(true));
        Ok(PlannerResult::Planned(Arc::new(udf).call(args)))
    }

    /// `SUBSTRING(x FROM a FOR b)` of a text or a bytea (DataFusion's takes text only).
    fn plan_substring(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(super::bytea_functions::substring(
            args,
        )))
    }

    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        let (Ok(lt), Ok(rt)) = (expr.left.get_type(schema), expr.right.get_type(schema)) else {
            return Ok(PlannerResult::Original(expr));
        };
        let RawBinaryExpr { op, left, right } = expr;
        refuse_text_against_number(&op, (&left, &lt), (&right, &rt))?;
        if let Some(planned) = super::jsonb_operators::plan_operator(&op, &left, &right, schema)? {
            return Ok(PlannerResult::Planned(planned));
        }
        if matches!(
            op,
            BinaryOperator::Arrow
                | BinaryOperator::LongArrow
                | BinaryOperator::HashArrow
                | BinaryOperator::HashLongArrow
        ) && lt.is_string()
        {
            return super::json::plan_operator(&op, left, right, &rt).map(PlannerResult::Planned);
        }
        // `?|` / `?&` take a text array on the right.
        let keys = matches!(
            op,
            BinaryOperator::QuestionPipe | BinaryOperator::QuestionAnd
        ) && matches!(&rt, DataType::List(f) | DataType::LargeList(f) if f.data_type().is_string() || f.data_type() == &DataType::Null);
        if lt.is_string()
            && (rt.is_string() || keys)
            && let Some(planned) =
                super::json_contains::plan_operator(&op, left.clone(), right.clone())
        {
            return Ok(PlannerResult::Planned(planned));
        }
        // Array containment and overlap with PostgreSQL's NULLs (see `array_sets`); a quoted
        // literal beside an array is an array text of its type (`tags @> '{a}'`).
        let text_literal = |e: &Expr| {
            matches!(
                e,
                Expr::Literal(
                    datafusion::common::ScalarValue::Utf8(_)
                        | datafusion::common::ScalarValue::Utf8View(_)
                        | datafusion::common::ScalarValue::LargeUtf8(_),
                    _
                )
            )
        };
        let array_ops = matches!(
            op,
            BinaryOperator::AtArrow | BinaryOperator::ArrowAt | BinaryOperator::PGOverlap
        );
        let (left, lt) = if array_ops && rt.is_list() && text_literal(&left) {
            (cast(left, rt.clone()), rt.clone())
        } else {
            (left, lt)
        };
        let (right, rt) = if array_ops && lt.is_list() && text_literal(&right) {
            (cast(right, lt.clone()), lt.clone())
        } else {
            (right, rt)
        };
        let listish = |t: &DataType| t.is_list() || t.is_null();
        if listish(&lt) && listish(&rt) && !(lt.is_null() && rt.is_null()) {
            use super::array_sets::{ArraySet, ArraySetOp};
            match op {
                BinaryOperator::AtArrow => {
                    return Ok(PlannerResult::Planned(ArraySet::call(
                        ArraySetOp::Contains,
                        left,
                        right,
                    )));
                }
                BinaryOperator::ArrowAt => {
                    return Ok(PlannerResult::Planned(ArraySet::call(
                        ArraySetOp::Contains,
                        right,
                        left,
                    )));
                }
                BinaryOperator::PGOverlap => {
                    return Ok(PlannerResult::Planned(ArraySet::call(
                        ArraySetOp::Overlaps,
                        left,
                        right,
                    )));
                }
                _ => {}
            }
        }
        let planned = match op {
            BinaryOperator::Multiply if is_interval(&lt) && rt.is_numeric() => {
                IntervalMultiply::call(
                    month_day_nano(left, &lt),
                    cast(right, DataType::Float64),
                    false,
                )
            }
            BinaryOperator::Multiply if lt.is_numeric() && is_interval(&rt) => {
                IntervalMultiply::call(
                    month_day_nano(right, &rt),
                    cast(left, DataType::Float64),
                    false,
                )
            }
            BinaryOperator::Divide if is_interval(&lt) && rt.is_numeric() => {
                IntervalMultiply::call(
                    month_day_nano(left, &lt),
                    cast(right, DataType::Float64),
                    true,
                )
            }
            // `date - date`: whole days as an integer (int4), as PostgreSQL answers it;
            // DataFusion's is a bigint.
            BinaryOperator::Minus if is_date(&lt) && is_date(&rt) => cast(
                Expr::BinaryExpr(BinaryExpr::new(
                    Box::new(left),
                    Operator::Minus,
                    Box::new(right),
                )),
                DataType::Int32,
            ),
            // `timestamp - date` / `date - timestamp`: the date is midnight of that day, as
            // PostgreSQL casts it (DataFusion answered a duration no function takes).
            BinaryOperator::Minus
                if (is_timestamp(&lt) && is_date(&rt)) || (is_date(&lt) && is_timestamp(&rt)) =>
            {
                let (left, right) = if is_date(&lt) {
                    (cast(left, rt.clone()), right)
                } else {
                    (left, cast(right, lt.clone()))
                };
                TimestampDifference::call(Expr::BinaryExpr(BinaryExpr::new(
                    Box::new(left),
                    Operator::Minus,
                    Box::new(right),
                )))
            }
            BinaryOperator::Minus if is_timestamp(&lt) && is_timestamp(&rt) => {
                // Two timestamptz in different zones (a column's UTC, a literal's session
                // zone) are the same kind: DataFusion found no common type for them.
                let right = match (&lt, &rt) {
                    (DataType::Timestamp(_, Some(a)), DataType::Timestamp(_, Some(b)))
                        if a != b =>
                    {
                        cast(right, lt.clone())
                    }
                    _ => right,
                };
                TimestampDifference::call(Expr::BinaryExpr(BinaryExpr::new(
                    Box::new(left),
                    Operator::Minus,
                    Box::new(right),
                )))
            }
            BinaryOperator::Plus | BinaryOperator::Minus if is_date(&lt) && is_interval(&rt) => {
                let op = if op == BinaryOperator::Plus {
                    Operator::Plus
                } else {
                    Operator::Minus
                };
                Expr::BinaryExpr(BinaryExpr::new(
                    Box::new(cast(left, TIMESTAMP)),
                    op,
                    Box::new(right),
                ))
            }
            BinaryOperator::Plus if is_interval(&lt) && is_date(&rt) => {
                Expr::BinaryExpr(BinaryExpr::new(
                    Box::new(left),
                    Operator::Plus,
                    Box::new(cast(right, TIMESTAMP)),
                ))
            }
            op => return Ok(PlannerResult::Original(RawBinaryExpr { op, left, right })),
        };
        Ok(PlannerResult::Planned(planned))
    }
}

/// A text compared with a number or a boolean is 42883, as in PostgreSQL, which has no such
/// operator: DataFusion cast the text to the number, so `text_col = 10` matched `'010'` and
/// failed (with a Parquet error) at the first text that was no number. A quoted literal is of
/// no type yet and stays comparable with anything (`int_col = '10'`).
fn refuse_text_against_number(
    op: &BinaryOperator,
    (left, lt): (&Expr, &DataType),
    (right, rt): (&Expr, &DataType),
) -> Result<()> {
    if !matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
    ) {
        return Ok(());
    }
    let typed_text = |e: &Expr, t: &DataType| t.is_string() && !matches!(e, Expr::Literal(..));
    let number_name = |t: &DataType| {
        Some(match t {
            DataType::Int8 | DataType::Int16 => "smallint",
            DataType::Int32 => "integer",
            DataType::Int64 => "bigint",
            DataType::Float32 => "real",
            DataType::Float64 => "double precision",
            DataType::Decimal128(..) | DataType::Decimal256(..) => "numeric",
            DataType::Boolean => "boolean",
            _ => return None,
        })
    };
    let (text_left, other) = if typed_text(left, lt) {
        (true, number_name(rt))
    } else if typed_text(right, rt) {
        (false, number_name(lt))
    } else {
        return Ok(());
    };
    let Some(other) = other else {
        return Ok(());
    };
    let (l, r) = if text_left {
        ("text", other)
    } else {
        (other, "text")
    };
    Err(datafusion::error::DataFusionError::External(Box::new(
        crate::error::Error::new(
            crate::error::ErrorKind::UndefinedFunction,
            format!("operator does not exist: {l} {op} {r}"),
        )
        .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts."),
    )))
}
