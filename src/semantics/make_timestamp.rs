//! PostgreSQL's `make_timestamp(year, month, day, hour, min, sec)`: a `timestamp` from its fields,
//! with PostgreSQL's checks (a day the month has not, or a time past 24:00:00, is 22008: not a
//! day or hour carried into the next one), negative years BC, and seconds with a fraction
//! rounded to the microsecond.

use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondBuilder};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::ErrorKind;

/// The `make_timestamp` function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MakeTimestamp {
    signature: Signature,
}

/// The function of this module.
pub fn function() -> ScalarUDF {
    ScalarUDF::from(MakeTimestamp {
        signature: Signature::any(6, Volatility::Immutable),
    })
}

impl ScalarUDFImpl for MakeTimestamp {
    fn name(&self) -> &str {
        "make_timestamp"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(TimeUnit::Microsecond, None))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let fields: Vec<ArrayRef> = arrays[..5]
                .iter()
                .map(|a| datafusion::arrow::compute::cast(a, &DataType::Int64))
                .collect::<std::result::Result<_, _>>()?;
            let seconds = datafusion::arrow::compute::cast(&arrays[5], &DataType::Float64)?;
            let seconds = seconds.as_primitive::<Float64Type>();
            let fields: Vec<_> = fields
                .iter()
                .map(|f| f.as_primitive::<Int64Type>())
                .collect();
            let mut out = TimestampMicrosecondBuilder::with_capacity(seconds.len());
            for row in 0..seconds.len() {
                if seconds.is_null(row) || fields.iter().any(|f| f.is_null(row)) {
                    out.append_null();
                    continue;
                }
                let [year, month, day, hour, minute] =
                    [0, 1, 2, 3, 4].map(|i| fields[i].value(row));
                out.append_value(micros(year, month, day, hour, minute, seconds.value(row))?);
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// Microseconds since 1970-01-01 00:00:00 of the fields, or PostgreSQL's error.
fn micros(year: i64, month: i64, day: i64, hour: i64, minute: i64, sec: f64) -> Result<i64> {
    let date_error = || {
        super::pg_error(
            ErrorKind::DatetimeFieldOverflow,
            format!("date field value out of range: {year}-{month:02}-{day:02}"),
        )
    };
    // PostgreSQL's year -1 is 1 BC, chrono's year 0; there is no year 0.
    let astronomical = match year {
        0 => return Err(date_error()),
        y if y < 0 => y + 1,
        y => y,
    };
    let date = i32::try_from(astronomical)
        .ok()
        .zip(u32::try_from(month).ok())
        .zip(u32::try_from(day).ok())
        .and_then(|((y, m), d)| NaiveDate::from_ymd_opt(y, m, d))
        .ok_or_else(date_error)?;
    let time_ok = (0..=24).contains(&hour)
        && (0..=59).contains(&minute)
        && (0.0..=60.0).contains(&sec)
        && !(hour == 24 && (minute > 0 || sec > 0.0));
    if !time_ok {
        return Err(super::pg_error(
            ErrorKind::DatetimeFieldOverflow,
            format!("time field value out of range: {hour}:{minute:02}:{sec:02}"),
        ));
    }
    let midnight = date
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_micros();
    let time = (hour * 60 + minute) * 60_000_000 + (sec * 1_000_000.0).round() as i64;
    midnight
        .checked_add(time)
        .ok_or_else(|| super::pg_error(ErrorKind::DatetimeFieldOverflow, "timestamp out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_as_postgresql() {
        assert_eq!(micros(1970, 1, 1, 0, 0, 1.5).unwrap(), 1_500_000);
        assert_eq!(micros(1970, 1, 1, 24, 0, 0.0).unwrap(), 86_400_000_000);
        assert!(micros(2023, 2, 29, 0, 0, 0.0).is_err());
        assert!(micros(2024, 1, 1, 25, 0, 0.0).is_err());
        assert!(micros(0, 1, 1, 0, 0, 0.0).is_err());
    }
}
