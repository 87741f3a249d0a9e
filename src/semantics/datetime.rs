//! PostgreSQL's interval arithmetic that DataFusion lacks: `interval * number` and
//! `interval / number` (DataFusion has no such operator), and `age(a, b)`, the symbolic
//! difference in years, months and days.

use std::sync::Arc;

use chrono::{Datelike, NaiveDateTime, Timelike};
use datafusion::arrow::array::{ArrayRef, AsArray, IntervalMonthDayNanoArray};
use datafusion::arrow::compute::kernels::arity::try_binary;
use datafusion::arrow::datatypes::{
    DataType, Float64Type, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit, TimeUnit,
    TimestampNanosecondType,
};
use datafusion::arrow::error::ArrowError;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

const INTERVAL: DataType = DataType::Interval(IntervalUnit::MonthDayNano);
const TIMESTAMP: DataType = DataType::Timestamp(TimeUnit::Nanosecond, None);
const DAYS_PER_MONTH: f64 = 30.0;
const SECONDS_PER_DAY: f64 = 86_400.0;

/// `interval * factor` (and `/ divisor`, as the factor's inverse) as PostgreSQL's `interval_mul`:
/// fractional months cascade into days of 30, fractional days into seconds.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IntervalMultiply {
    signature: Signature,
    divide: bool,
}

impl IntervalMultiply {
    /// The call that replaces `interval * number` (or `interval / number` when `divide`).
    pub fn call(interval: Expr, factor: Expr, divide: bool) -> Expr {
        let udf = ScalarUDF::from(Self {
            signature: Signature::exact(vec![INTERVAL, DataType::Float64], Volatility::Immutable),
            divide,
        });
        Arc::new(udf).call(vec![interval, factor])
    }
}

impl ScalarUDFImpl for IntervalMultiply {
    fn name(&self) -> &str {
        if self.divide {
            "pg_interval_divide"
        } else {
            "pg_interval_multiply"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn display_name(&self, args: &[Expr]) -> Result<String> {
        let op = if self.divide { "/" } else { "*" };
        Ok(format!("{} {op} {}", args[0], args[1]))
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(INTERVAL)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let divide = self.divide;
        super::over_arrays(&args, |arrays| {
            let out: IntervalMonthDayNanoArray = try_binary(
                arrays[0].as_primitive::<IntervalMonthDayNanoType>(),
                arrays[1].as_primitive::<Float64Type>(),
                |span, factor| {
                    if divide && factor == 0.0 {
                        return Err(ArrowError::DivideByZero);
                    }
                    multiply(span, if divide { 1.0 / factor } else { factor })
                },
            )?;
            Ok(Arc::new(out) as ArrayRef)
        })
    }
}

/// PostgreSQL 15's `interval_mul`, on microseconds (PostgreSQL's resolution).
fn multiply(span: IntervalMonthDayNano, factor: f64) -> Result<IntervalMonthDayNano, ArrowError> {
    let round_us = |x: f64| (x * 1e6).round_ties_even() / 1e6;
    let out_of_range = || ArrowError::ArithmeticOverflow("interval out of range".into());
    let months = span.months as f64 * factor;
    let days = span.days as f64 * factor;
    if !months.is_finite() || months.abs() > i32::MAX as f64 || days.abs() > i32::MAX as f64 {
        return Err(out_of_range());
    }
    let (mut result_months, mut result_days) = (months.trunc() as i32, days.trunc() as i32);
    let month_remainder_days = round_us((months - result_months as f64) * DAYS_PER_MONTH);
    let mut seconds_remainder = round_us(
        (days - result_days as f64 + month_remainder_days - month_remainder_days.trunc())
            * SECONDS_PER_DAY,
    );
    if seconds_remainder.abs() >= SECONDS_PER_DAY {
        let whole = (seconds_remainder / SECONDS_PER_DAY).trunc();
        result_days += whole as i32;
        seconds_remainder -= whole * SECONDS_PER_DAY;
    }
    result_days += month_remainder_days.trunc() as i32;
    let micros =
        (span.nanoseconds as f64 / 1e3 * factor + seconds_remainder * 1e6).round_ties_even();
    if micros.abs() > i64::MAX as f64 / 1e3 {
        return Err(out_of_range());
    }
    result_months = result_months.checked_add(0).ok_or_else(out_of_range)?;
    Ok(IntervalMonthDayNano::new(
        result_months,
        result_days,
        micros as i64 * 1000,
    ))
}

/// `age(a, b)`: `a - b` in years, months and days, borrowing from months of `b`'s calendar as
/// PostgreSQL's `timestamp_age` does.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Age {
    signature: Signature,
}

impl Age {
    /// The `age` function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for Age {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for Age {
    fn name(&self) -> &str {
        "age"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return datafusion::common::plan_err!(
                "age takes two timestamps or dates (age(a, b) is a - b); the one-argument form is not supported"
            );
        }
        Ok(vec![TIMESTAMP, TIMESTAMP])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(INTERVAL)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let out: IntervalMonthDayNanoArray = try_binary(
                arrays[0].as_primitive::<TimestampNanosecondType>(),
                arrays[1].as_primitive::<TimestampNanosecondType>(),
                |a, b| {
                    let at = |ns: i64| chrono::DateTime::from_timestamp_nanos(ns).naive_utc();
                    Ok::<_, ArrowError>(age(at(a), at(b)))
                },
            )?;
            Ok(Arc::new(out) as ArrayRef)
        })
    }
}

fn days_in_month(year: i32, month: u32) -> i64 {
    let next = if month == 12 {
        chrono::NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    let first = chrono::NaiveDate::from_ymd_opt(year, month, 1);
    match (first, next) {
        (Some(f), Some(n)) => (n - f).num_days(),
        _ => 30,
    }
}

/// PostgreSQL 15's `timestamp_age`.
fn age(a: NaiveDateTime, b: NaiveDateTime) -> IntervalMonthDayNano {
    let field = |t: &NaiveDateTime| {
        [
            t.year() as i64,
            t.month() as i64,
            t.day() as i64,
            t.hour() as i64,
            t.minute() as i64,
            t.second() as i64,
            (t.nanosecond() / 1000) as i64,
        ]
    };
    let (fa, fb) = (field(&a), field(&b));
    let mut d: Vec<i64> = fa.iter().zip(fb.iter()).map(|(x, y)| x - y).collect();
    let flip = a < b;
    if flip {
        d.iter_mut().for_each(|x| *x = -*x);
    }
    let [year, month, day, hour, minute, second, micros] = &mut d[..] else {
        unreachable!()
    };
    while *micros < 0 {
        *micros += 1_000_000;
        *second -= 1;
    }
    while *second < 0 {
        *second += 60;
        *minute -= 1;
    }
    while *minute < 0 {
        *minute += 60;
        *hour -= 1;
    }
    while *hour < 0 {
        *hour += 24;
        *day -= 1;
    }
    let earlier = if flip { &a } else { &b };
    while *day < 0 {
        *day += days_in_month(earlier.year(), earlier.month());
        *month -= 1;
    }
    while *month < 0 {
        *month += 12;
        *year -= 1;
    }
    let sign = if flip { -1 } else { 1 };
    let time_ns = ((*hour * 60 + *minute) * 60 + *second) * 1_000_000_000 + *micros * 1000;
    IntervalMonthDayNano::new(
        (sign * (*year * 12 + *month)) as i32,
        (sign * *day) as i32,
        sign * time_ns,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn age_borrows_like_postgresql() {
        // PostgreSQL 15: age('2024-03-07', '2023-01-01 12:00') = 1 year 2 mons 5 days 12:00:00
        let got = age(ts("2024-03-07 00:00:00"), ts("2023-01-01 12:00:00"));
        assert_eq!(
            got,
            IntervalMonthDayNano::new(14, 5, 12 * 3600 * 1_000_000_000)
        );
        // age('2023-01-01', '2024-03-07') = -1 years -2 mons -6 days
        let got = age(ts("2023-01-01 00:00:00"), ts("2024-03-07 00:00:00"));
        assert_eq!(got, IntervalMonthDayNano::new(-14, -6, 0));
    }

    #[test]
    fn interval_multiplication_cascades_fractions() {
        // '1 mon' * 1.5 = 1 mon 15 days; '1 day' * 1.5 = 1 day 12:00:00
        let got = multiply(IntervalMonthDayNano::new(1, 0, 0), 1.5).unwrap();
        assert_eq!(got, IntervalMonthDayNano::new(1, 15, 0));
        let got = multiply(IntervalMonthDayNano::new(0, 1, 0), 1.5).unwrap();
        assert_eq!(
            got,
            IntervalMonthDayNano::new(0, 1, 12 * 3600 * 1_000_000_000)
        );
    }
}

/// `timestamp - timestamp` as PostgreSQL's interval: whole days split off the time
/// (`6 days 01:30:00`, where DataFusion's duration read `145:30:00`).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TimestampDifference {
    signature: Signature,
}

impl TimestampDifference {
    /// Wraps the duration DataFusion computes for `a - b`.
    pub fn call(difference: Expr) -> Expr {
        let udf = ScalarUDF::from(Self {
            signature: Signature::any(1, Volatility::Immutable),
        });
        Arc::new(udf).call(vec![difference])
    }
}

impl ScalarUDFImpl for TimestampDifference {
    fn name(&self) -> &str {
        "pg_timestamp_difference"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn display_name(&self, args: &[Expr]) -> Result<String> {
        Ok(args[0].to_string())
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(INTERVAL)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let nanos = datafusion::arrow::compute::cast(
                &arrays[0],
                &DataType::Duration(TimeUnit::Nanosecond),
            )?;
            let out: IntervalMonthDayNanoArray = nanos
                .as_primitive::<datafusion::arrow::datatypes::DurationNanosecondType>()
                .unary(|ns| {
                    const DAY: i64 = 86_400_000_000_000;
                    IntervalMonthDayNano::new(0, (ns / DAY) as i32, ns % DAY)
                });
            Ok(Arc::new(out) as ArrayRef)
        })
    }
}
