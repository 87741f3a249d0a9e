//! `timestamptz` values read by the functions that look at their wall-clock fields
//! (`date_trunc`, `date_part` / `extract`, `date_bin`, `generate_series`) and given days or
//! months (`ts + interval '1 day'`), in the session's zone as PostgreSQL reads them. A Delta column keeps its instants in UTC (Arrow's zone `UTC`), and DataFusion's
//! functions read the fields in the value's own zone: after `SET TIME ZONE 'America/New_York'`
//! `extract(hour from ts)` was UTC's hour and `date_trunc('day', ts)` UTC's midnight. The value
//! is given the session's zone first (the same instants: only the zone changes).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::logical_expr::expr::{Cast, ScalarFunction};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, Operator};

/// `function` with its `timestamptz` arguments in the session's `time_zone`; `None` when it
/// is not one of the functions above, or nothing needs to change.
pub(super) fn rezone_arguments(
    function: &ScalarFunction,
    schema: &DFSchema,
    time_zone: Option<&str>,
) -> Option<Expr> {
    if !matches!(
        function.name(),
        "date_trunc" | "date_part" | "date_bin" | "pg_extract" | "generate_series" | "range"
    ) {
        return None;
    }
    let session_zone = time_zone?;
    let mut args = function.args.clone();
    let mut changed = false;
    for arg in &mut args {
        let Ok(DataType::Timestamp(unit, Some(zone))) = arg.get_type(schema) else {
            continue;
        };
        if same_zone(&zone, session_zone) {
            continue;
        }
        *arg = Expr::Cast(Cast::new(
            Box::new(arg.clone()),
            DataType::Timestamp(unit, Some(Arc::from(session_zone))),
        ));
        changed = true;
    }
    changed.then(|| Expr::ScalarFunction(ScalarFunction::new_udf(function.func.clone(), args)))
}

/// `instant ± interval` with the instant in the session's zone, where days and months are added
/// as PostgreSQL adds them (across a daylight-saving change `+ interval '1 day'` keeps the
/// wall-clock time; Arrow added them in the value's zone, UTC for a column); `None` when the
/// expression is no such sum or the zones agree.
pub(super) fn rezone_interval_arithmetic(
    left: &Expr,
    op: Operator,
    right: &Expr,
    (left_type, right_type): (&DataType, &DataType),
    time_zone: Option<&str>,
) -> Option<Expr> {
    if !matches!(op, Operator::Plus | Operator::Minus) {
        return None;
    }
    let session_zone = time_zone?;
    let rezoned = |expr: &Expr, t: &DataType| match t {
        DataType::Timestamp(unit, Some(zone)) if !same_zone(zone, session_zone) => {
            Some(Expr::Cast(Cast::new(
                Box::new(expr.clone()),
                DataType::Timestamp(*unit, Some(Arc::from(session_zone))),
            )))
        }
        _ => None,
    };
    let interval = |t: &DataType| matches!(t, DataType::Interval(_));
    let (left, right) = if interval(right_type) {
        (rezoned(left, left_type)?, right.clone())
    } else if interval(left_type) && op == Operator::Plus {
        (left.clone(), rezoned(right, right_type)?)
    } else {
        return None;
    };
    Some(Expr::BinaryExpr(BinaryExpr::new(
        Box::new(left),
        op,
        Box::new(right),
    )))
}

/// Whether two zone names are the same zone for this purpose (UTC has several names).
fn same_zone(a: &str, b: &str) -> bool {
    let utc = |z: &str| {
        matches!(
            z.to_ascii_uppercase().as_str(),
            "UTC" | "+00:00" | "+00" | "Z" | "ETC/UTC" | "GMT" | "ETC/GMT"
        )
    };
    a.eq_ignore_ascii_case(b) || (utc(a) && utc(b))
}
