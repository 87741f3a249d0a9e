//! `x AT TIME ZONE z` as PostgreSQL answers it: a `timestamp` read as wall-clock time in `z`
//! gives the instant (`timestamptz`); a `timestamptz` gives the wall-clock time in `z` (a
//! `timestamp`). DataFusion only relabels a timestamptz's zone, so the client saw the same
//! instant in its own zone: the wrong clock time, silently.

use std::str::FromStr;

use chrono::{LocalResult, TimeZone};
use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::array::{AsArray, PrimitiveArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampNanosecondType};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::pg_error;
use crate::error::ErrorKind;

/// The function `x AT TIME ZONE z` is planned as (`pg_at_time_zone(x, z)`).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AtTimeZone {
    signature: Signature,
}

impl AtTimeZone {
    /// The function the dialect calls for `AT TIME ZONE`.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for AtTimeZone {
    fn default() -> Self {
        Self::new()
    }
}

fn zoned(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(_, Some(_)))
}

impl ScalarUDFImpl for AtTimeZone {
    fn name(&self) -> &str {
        "pg_at_time_zone"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let first = match &arg_types[0] {
            DataType::Timestamp(_, Some(z)) => {
                DataType::Timestamp(TimeUnit::Nanosecond, Some(z.clone()))
            }
            _ => DataType::Timestamp(TimeUnit::Nanosecond, None),
        };
        Ok(vec![first, DataType::Utf8])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(if zoned(&arg_types[0]) {
            DataType::Timestamp(TimeUnit::Nanosecond, None)
        } else {
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ColumnarValue::Scalar(zone) = &args.args[1] else {
            return Err(pg_error(
                ErrorKind::FeatureNotSupported,
                "AT TIME ZONE takes a constant zone here (one zone for every row)",
            ));
        };
        let zone = match zone {
            ScalarValue::Utf8(Some(z))
            | ScalarValue::LargeUtf8(Some(z))
            | ScalarValue::Utf8View(Some(z)) => z.clone(),
            _ => {
                return Ok(ColumnarValue::Scalar(ScalarValue::try_from(
                    &self.return_type(&[args.args[0].data_type()])?,
                )?));
            }
        };
        let tz = Tz::from_str(&zone).map_err(|_| {
            pg_error(
                ErrorKind::InvalidParameterValue,
                format!("time zone \"{zone}\" not recognized"),
            )
        })?;
        let input_zoned = zoned(&args.args[0].data_type());
        let target = self.return_type(&[args.args[0].data_type()])?;
        super::over_arrays(&args, |arrays| {
            let nanos = arrays[0].as_primitive::<TimestampNanosecondType>();
            let shifted: PrimitiveArray<TimestampNanosecondType> = nanos.try_unary(|ns| {
                let utc = chrono::DateTime::from_timestamp_nanos(ns);
                let out = if input_zoned {
                    tz.from_utc_datetime(&utc.naive_utc())
                        .naive_local()
                        .and_utc()
                } else {
                    match tz.from_local_datetime(&utc.naive_utc()) {
                        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.to_utc(),
                        // A wall-clock time skipped by a DST change: PostgreSQL moves it forward.
                        LocalResult::None => tz
                            .from_local_datetime(&(utc.naive_utc() + chrono::Duration::hours(1)))
                            .earliest()
                            .map(|t| t.to_utc())
                            .unwrap_or(utc),
                    }
                };
                out.timestamp_nanos_opt().ok_or_else(|| {
                    datafusion::arrow::error::ArrowError::ArithmeticOverflow(
                        "timestamp out of range".into(),
                    )
                })
            })?;
            Ok(cast(&shifted, &target)?)
        })
    }
}
