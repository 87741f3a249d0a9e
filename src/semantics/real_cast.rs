//! A cast to `real` (float4) that fails where PostgreSQL's does: a value beyond real's range is
//! 22003 "value out of range: overflow", a nonzero value too small for it 22003 "underflow".
//! Arrow's cast answered `inf` and `0` (`INSERT INTO t (r) VALUES (1e40)` stored Infinity).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::pg_error;
use crate::error::ErrorKind;

/// `pg_real_cast(x)`: `CAST(x AS real)`, checked (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RealCast {
    signature: Signature,
}

impl RealCast {
    /// Whether a cast from `from` to real can go out of range (a number other than a real, or
    /// a text).
    pub fn checks(from: &DataType) -> bool {
        from.is_numeric() && from != &DataType::Float32 || from.is_string()
    }

    /// The call that replaces a cast of `operand` to real.
    pub fn call(operand: Expr) -> Expr {
        Arc::new(ScalarUDF::from(Self {
            signature: Signature::any(1, Volatility::Immutable),
        }))
        .call(vec![operand])
    }
}

impl ScalarUDFImpl for RealCast {
    fn name(&self) -> &str {
        "pg_real_cast"
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
        Ok(DataType::Float32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let real = cast(&arrays[0], &DataType::Float32)?;
            check_range(&real, &arrays[0])?;
            Ok(real)
        })
    }
}

/// 22003 where `real` (the input cast) left the range its `input` had: infinite from a finite
/// value, zero from a nonzero one.
fn check_range(real: &ArrayRef, input: &ArrayRef) -> Result<()> {
    let values = real.as_primitive::<Float32Type>();
    let suspect =
        |i: usize| values.is_valid(i) && (values.value(i).is_infinite() || values.value(i) == 0.0);
    if !(0..values.len()).any(suspect) {
        return Ok(());
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
