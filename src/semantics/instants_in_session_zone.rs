//! `timestamptz` values in the session's zone, as PostgreSQL reads them. A Delta column keeps
//! its instants in UTC (Arrow's zone `UTC`), and DataFusion and Arrow read a value's fields,
//! add days and months, and read a wall-clock text in the value's own zone: after `SET TIME
//! ZONE 'America/New_York'` `extract(hour from ts)` was UTC's hour, `date_trunc('day', ts)` UTC's
//! midnight, `ts + interval '1 day'` 24 hours across a DST change, `now()::timestamp` UTC's
//! clock, and `tz_col >= '2024-02-01'` UTC's midnight. Here such operands are given the
//! session's zone first (the same instants: only the zone changes): the functions that look at
//! wall-clock fields (`date_trunc`, `date_part` / `extract`, `date_bin`, `generate_series`),
//! interval arithmetic, casts to a timestamp, date or time, and texts, timestamps and dates made
//! a timestamptz.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::DFSchema;
use datafusion::logical_expr::expr::{Cast, ScalarFunction, TryCast};
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
        let rezoned = arg
            .get_type(schema)
            .ok()
            .and_then(|t| in_session_zone(arg, &t, session_zone));
        if let Some(rezoned) = rezoned {
            *arg = rezoned;
            changed = true;
        }
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
    let rezoned = |expr: &Expr, t: &DataType| in_session_zone(expr, t, session_zone);
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

/// A text, timestamp or date made a timestamptz in a zone other than the session's (type
/// coercion casts such a value to a column's type: `tz_col >= '2024-02-01'`, `tz_col BETWEEN
/// TIMESTAMP '...' AND ...`, an INSERT of `'2024-01-01 10:00'` into a timestamptz column), read
/// as a wall-clock time in the session's zone as PostgreSQL reads it, then given the column's
/// zone (the same instant). Arrow read it in the column's zone, UTC, so with `SET TIME ZONE
/// 'America/Los_Angeles'` a filter on a month started eight hours early. `None` for any other
/// expression.
pub(super) fn session_zone_input(
    expr: &Expr,
    schema: &DFSchema,
    time_zone: Option<&str>,
) -> Option<Expr> {
    let Expr::Cast(Cast { expr: input, field }) = expr else {
        return None;
    };
    let session_zone = time_zone?;
    let DataType::Timestamp(unit, Some(zone)) = field.data_type() else {
        return None;
    };
    if same_zone(zone, session_zone) {
        return None;
    }
    let input = match input.get_type(schema).ok()? {
        // Read by PostgreSQL's rules first (a time without seconds), as any text cast to a
        // timestamp is.
        t if t.is_string() => match input.as_ref() {
            Expr::ScalarFunction(f) if f.name() == "pg_timestamp_text" => input.clone(),
            _ => Box::new(super::timestamp_input::PgTimestampText::call(
                *input.clone(),
            )),
        },
        DataType::Timestamp(_, None) | DataType::Date32 | DataType::Date64 => input.clone(),
        _ => return None,
    };
    let in_session = Expr::Cast(Cast::new(
        input,
        DataType::Timestamp(*unit, Some(Arc::from(session_zone))),
    ));
    Some(Expr::Cast(Cast::new_from_field(
        Box::new(in_session),
        field.clone(),
    )))
}

/// `expr` (of type `t`) as the same instants in `session_zone`, when it is a timestamptz in
/// another zone; `None` otherwise.
fn in_session_zone(expr: &Expr, t: &DataType, session_zone: &str) -> Option<Expr> {
    match t {
        DataType::Timestamp(unit, Some(zone)) if !same_zone(zone, session_zone) => {
            Some(Expr::Cast(Cast::new(
                Box::new(expr.clone()),
                DataType::Timestamp(*unit, Some(Arc::from(session_zone))),
            )))
        }
        _ => None,
    }
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

/// A timestamptz cast to a timestamp, date or time, as its wall-clock time in the session's
/// zone (Arrow kept the UTC clock: `now()::timestamp` was nine hours off in Tokyo, and a
/// timestamptz column's `::time` and `::date` were UTC's); `None` for any other expression or
/// when the session's zone is UTC (Arrow's answer is then PostgreSQL's).
pub(super) fn wall_clock_cast(
    expr: &Expr,
    schema: &DFSchema,
    time_zone: Option<&str>,
) -> Option<Expr> {
    let (Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field })) = expr else {
        return None;
    };
    let session_zone = time_zone.filter(|z| !z.eq_ignore_ascii_case("UTC"))?;
    if !matches!(
        field.data_type(),
        DataType::Timestamp(_, None)
            | DataType::Date32
            | DataType::Date64
            | DataType::Time32(_)
            | DataType::Time64(_)
    ) {
        return None;
    }
    let Ok(DataType::Timestamp(_, Some(zone))) = expr.get_type(schema) else {
        return None;
    };
    let instant = Expr::Cast(Cast::new(
        expr.clone(),
        DataType::Timestamp(TimeUnit::Nanosecond, Some(zone)),
    ));
    let wall = datafusion::logical_expr::ScalarUDF::from(super::time_zone::AtTimeZone::new())
        .call(vec![instant, datafusion::logical_expr::lit(session_zone)]);
    Some(Expr::Cast(Cast::new_from_field(
        Box::new(wall),
        field.clone(),
    )))
}
