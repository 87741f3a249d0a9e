//! PostgreSQL's `width_bucket(operand, low, high, count)`: which of `count` equal-width buckets
//! between `low` and `high` holds `operand` (0 below the range, `count + 1` above it; the range
//! may run downwards), an `integer`. Numerics and integers are bucketed exactly (a value on a
//! boundary belongs to the bucket it starts: `width_bucket(0.3, 0.1, 0.5, 2)` is 2, where
//! floating point says 1), floats in double precision as PostgreSQL does. Equal bounds or
//! `count <= 0` are 2201G; a NULL argument gives NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Builder};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::ErrorKind;

/// The `width_bucket` function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WidthBucket {
    signature: Signature,
}

/// The function of this module.
pub fn function() -> ScalarUDF {
    ScalarUDF::from(WidthBucket {
        signature: Signature::any(4, Volatility::Immutable),
    })
}

/// How the three values are compared.
enum Values {
    Exact([ArrayRef; 3]),
    Float([ArrayRef; 3]),
}

impl ScalarUDFImpl for WidthBucket {
    fn name(&self) -> &str {
        "width_bucket"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        for t in &args[..3] {
            if !(t.is_numeric() || t.is_null()) {
                return Err(super::pg_error(
                    ErrorKind::UndefinedFunction,
                    "function width_bucket(...) does not exist for these argument types (it takes numbers)",
                ));
            }
        }
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let counts = datafusion::arrow::compute::cast(&arrays[3], &DataType::Int64)?;
            let counts = counts.as_primitive::<Int64Type>();
            let values = values(&arrays[..3])?;
            let mut out = Int32Builder::with_capacity(counts.len());
            for row in 0..counts.len() {
                let valid = counts.is_valid(row)
                    && match &values {
                        Values::Exact(values) | Values::Float(values) => {
                            values.iter().all(|a| a.is_valid(row))
                        }
                    };
                if !valid {
                    out.append_null();
                    continue;
                }
                let count = counts.value(row);
                if count <= 0 {
                    return Err(super::pg_error(
                        ErrorKind::InvalidArgumentForWidthBucket,
                        "count must be greater than zero",
                    ));
                }
                let bucket = match &values {
                    Values::Exact(values) => {
                        let [v, low, high] = values
                            .each_ref()
                            .map(|a| a.as_primitive::<Decimal128Type>().value(row));
                        exact_bucket(v, low, high, count)?
                    }
                    Values::Float(values) => {
                        let [v, low, high] = values
                            .each_ref()
                            .map(|a| a.as_primitive::<Float64Type>().value(row));
                        float_bucket(v, low, high, count)?
                    }
                };
                let bucket = i32::try_from(bucket).map_err(|_| {
                    super::pg_error(ErrorKind::NumericValueOutOfRange, "integer out of range")
                })?;
                out.append_value(bucket);
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// The operand and bounds as decimals of one scale, or as doubles when one is a float.
fn values(arrays: &[ArrayRef]) -> Result<Values> {
    let floating = arrays.iter().any(|a| a.data_type().is_floating());
    let to_array = |t: &DataType| -> Result<[ArrayRef; 3]> {
        let cast = |a: &ArrayRef| datafusion::arrow::compute::cast(a, t);
        Ok([cast(&arrays[0])?, cast(&arrays[1])?, cast(&arrays[2])?])
    };
    if floating {
        return Ok(Values::Float(to_array(&DataType::Float64)?));
    }
    let scale = arrays
        .iter()
        .map(|a| match a.data_type() {
            DataType::Decimal128(_, s) | DataType::Decimal256(_, s) => *s,
            _ => 0,
        })
        .max()
        .unwrap_or(0)
        .max(0);
    Ok(Values::Exact(to_array(&DataType::Decimal128(38, scale))?))
}

fn equal_bounds() -> datafusion::error::DataFusionError {
    super::pg_error(
        ErrorKind::InvalidArgumentForWidthBucket,
        "lower bound cannot equal upper bound",
    )
}

/// The bucket of `v` among decimals of one scale (unscaled values), computed exactly.
fn exact_bucket(v: i128, low: i128, high: i128, count: i64) -> Result<i64> {
    if low == high {
        return Err(equal_bounds());
    }
    let (below, above, offset, width) = if low < high {
        (
            v < low,
            v >= high,
            v.checked_sub(low),
            high.checked_sub(low),
        )
    } else {
        (
            v > low,
            v <= high,
            low.checked_sub(v),
            low.checked_sub(high),
        )
    };
    if below {
        return Ok(0);
    }
    if above {
        return Ok(count + 1);
    }
    let overflow = || {
        super::pg_error(
            ErrorKind::NumericValueOutOfRange,
            "numeric value out of range",
        )
    };
    let numerator = offset
        .and_then(|o| o.checked_mul(i128::from(count)))
        .ok_or_else(overflow)?;
    let width = width.ok_or_else(overflow)?;
    Ok((numerator / width) as i64 + 1)
}

/// The bucket of `v` in double precision, as PostgreSQL's `width_bucket_float8` computes it (the
/// `+ 1` in floating point too, so 0.9999999999999999 + 1 is bucket 2).
fn float_bucket(v: f64, low: f64, high: f64, count: i64) -> Result<i64> {
    if low == high {
        return Err(equal_bounds());
    }
    if v.is_nan() || low.is_nan() || high.is_nan() {
        return Err(super::pg_error(
            ErrorKind::InvalidArgumentForWidthBucket,
            "operand, lower bound, and upper bound cannot be NaN",
        ));
    }
    let count_f = count as f64;
    Ok(if low < high {
        if v < low {
            0
        } else if v >= high {
            count + 1
        } else {
            ((count_f * (v - low) / (high - low) + 1.0) as i64).min(count)
        }
    } else if v > low {
        0
    } else if v <= high {
        count + 1
    } else {
        ((count_f * (low - v) / (low - high) + 1.0) as i64).min(count)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_as_postgresql() {
        // width_bucket(0.3, 0.1, 0.5, 2) at scale 1.
        assert_eq!(exact_bucket(3, 1, 5, 2).unwrap(), 2);
        assert_eq!(exact_bucket(0, 1, 5, 2).unwrap(), 0);
        assert_eq!(exact_bucket(5, 1, 5, 2).unwrap(), 3);
        assert_eq!(exact_bucket(4, 5, 1, 2).unwrap(), 1);
        assert_eq!(float_bucket(5.35, 0.024, 10.06, 5).unwrap(), 3);
        assert!(exact_bucket(1, 2, 2, 3).is_err());
    }
}
