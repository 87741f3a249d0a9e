//! A cast to `real` (float4) or `double precision` (float8) that fails where PostgreSQL's does.
//! A value beyond the type's range is 22003: from a number "value out of range: overflow" /
//! "underflow" (a nonzero value too small for real), from a text `"1e400" is out of range for
//! type double precision`, as `float8in` says. Arrow's cast answered `inf` and `0`
//! (`INSERT INTO t (r) VALUES (1e40)` stored Infinity, `'1e400'::float8` was Infinity). A
//! numeric becomes the nearest double, as in PostgreSQL (see [`exact_doubles`]).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, PrimitiveArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Float64Type};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::pg_error;
use crate::error::ErrorKind;

/// `pg_float_cast(x)`: `CAST(x AS real | double precision)`, checked (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FloatCast {
    signature: Signature,
    /// `Float32` or `Float64`.
    target: DataType,
}

impl FloatCast {
    /// Whether a cast from `from` to `target` needs this function: to real from any number
    /// other than a real, or from a text (out of range); to double precision from a text (out
    /// of range; every Arrow number fits a double) or a numeric (the nearest double).
    pub fn checks(from: &DataType, target: &DataType) -> bool {
        match target {
            DataType::Float32 => {
                from.is_numeric() && from != &DataType::Float32 || from.is_string()
            }
            DataType::Float64 => from.is_string() || matches!(from, DataType::Decimal128(..)),
            _ => false,
        }
    }

    /// The call that replaces a cast of `operand` to `target` (`Float32` or `Float64`).
    pub fn call(operand: Expr, target: DataType) -> Expr {
        Arc::new(ScalarUDF::from(Self {
            signature: Signature::any(1, Volatility::Immutable),
            target,
        }))
        .call(vec![operand])
    }

    /// The type's name in PostgreSQL's words.
    fn type_name(&self) -> &'static str {
        if self.target == DataType::Float32 {
            "real"
        } else {
            "double precision"
        }
    }
}

impl ScalarUDFImpl for FloatCast {
    fn name(&self) -> &str {
        if self.target == DataType::Float32 {
            "pg_real_cast"
        } else {
            "pg_double_cast"
        }
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        // A cast is named by its operand.
        Ok(args[0].schema_name().to_string())
    }

    fn display_name(&self, args: &[Expr]) -> Result<String> {
        Ok(args[0].to_string())
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.target.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let float = match arrays[0].as_primitive_opt::<Decimal128Type>() {
                Some(decimals) => cast(&exact_doubles(decimals)?, &self.target)?,
                None => cast(&arrays[0], &self.target)?,
            };
            self.check_range(&float, &arrays[0])?;
            Ok(float)
        })
    }
}

impl FloatCast {
    /// 22003 where the cast `float` left the range its `input` had: infinite from a finite
    /// value, zero from a nonzero one.
    fn check_range(&self, float: &ArrayRef, input: &ArrayRef) -> Result<()> {
        let values = cast(float, &DataType::Float64)?;
        let values = values.as_primitive::<Float64Type>();
        let suspect = |i: usize| {
            values.is_valid(i) && (values.value(i).is_infinite() || values.value(i) == 0.0)
        };
        if !(0..values.len()).any(suspect) {
            return Ok(());
        }
        if let Some(texts) = input.as_string_opt::<i32>() {
            return self.check_texts(
                (0..values.len())
                    .filter(|&i| suspect(i))
                    .map(|i| texts.value(i)),
            );
        }
        if let Some(texts) = input.as_string_opt::<i64>() {
            return self.check_texts(
                (0..values.len())
                    .filter(|&i| suspect(i))
                    .map(|i| texts.value(i)),
            );
        }
        if let Some(texts) = input.as_string_view_opt() {
            return self.check_texts(
                (0..values.len())
                    .filter(|&i| suspect(i))
                    .map(|i| texts.value(i)),
            );
        }
        let wide = cast(input, &DataType::Float64)?;
        let wide = wide.as_primitive::<Float64Type>();
        for i in (0..values.len()).filter(|&i| suspect(i)) {
            let (narrow, exact) = (values.value(i), wide.value(i));
            if narrow.is_infinite() && exact.is_finite() {
                return Err(pg_error(
                    ErrorKind::NumericValueOutOfRange,
                    "value out of range: overflow",
                ));
            }
            if narrow == 0.0 && exact != 0.0 && !exact.is_nan() {
                return Err(pg_error(
                    ErrorKind::NumericValueOutOfRange,
                    "value out of range: underflow",
                ));
            }
        }
        Ok(())
    }

    /// 22003 for a text that read as infinity without saying so, or as zero with a nonzero digit.
    fn check_texts<'a>(&self, texts: impl Iterator<Item = &'a str>) -> Result<()> {
        for text in texts {
            if !text_in_range(text) {
                return Err(pg_error(
                    ErrorKind::NumericValueOutOfRange,
                    format!("\"{text}\" is out of range for type {}", self.type_name()),
                ));
            }
        }
        Ok(())
    }
}

/// Decimals as the nearest doubles, as PostgreSQL's `numeric` -> `float8` gives them. Arrow
/// divides the unscaled integer by a power of ten, which is exact only while that integer fits
/// a double's 53 bits: `avg(amount)::float8` (a 20-digit numeric) came out one unit in the last
/// place off (`11.833333333333332`, PostgreSQL `11.833333333333334`). Wider values are read
/// from their decimal text, which Rust rounds correctly.
fn exact_doubles(decimals: &PrimitiveArray<Decimal128Type>) -> Result<ArrayRef> {
    const EXACT: i128 = 1 << 53;
    let exact = |v: i128| (-EXACT..=EXACT).contains(&v) && decimals.scale() <= 22;
    let plain = cast(decimals, &DataType::Float64)?;
    if decimals.iter().flatten().all(exact) {
        return Ok(plain);
    }
    let plain = plain.as_primitive::<Float64Type>();
    let doubles: Float64Array = (0..decimals.len())
        .map(|i| {
            if decimals.is_null(i) {
                None
            } else if exact(decimals.value(i)) {
                Some(plain.value(i))
            } else {
                decimals.value_as_string(i).parse::<f64>().ok()
            }
        })
        .collect();
    Ok(Arc::new(doubles))
}

/// Whether `text`, which a float cast read as an infinity or a zero, meant that value: it names
/// an infinity (`Infinity`, `-inf`), or its digits before any exponent are all zeros.
fn text_in_range(text: &str) -> bool {
    let unsigned = text
        .trim()
        .trim_start_matches(['+', '-'])
        .to_ascii_lowercase();
    if unsigned == "inf" || unsigned == "infinity" {
        return true;
    }
    let mantissa = unsigned.split('e').next().unwrap_or("");
    mantissa.bytes().all(|b| b == b'0' || b == b'.') && !mantissa.is_empty()
}

#[cfg(test)]
mod tests {
    use super::text_in_range;

    #[test]
    fn texts_that_meant_their_value() {
        for text in ["Infinity", "-infinity", " +inf ", "0", "-0.000", "0e400"] {
            assert!(text_in_range(text), "{text}");
        }
        for text in ["1e400", "-1e400", "1e-400", "0.5e-330"] {
            assert!(!text_in_range(text), "{text}");
        }
    }
}
