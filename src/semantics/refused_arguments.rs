//! Arguments PostgreSQL refuses, refused with its SQLSTATE instead of answered. DataFusion's
//! functions answered `(-8) ^ (1.0 / 3)` and `power(0, -1)` with NaN and infinity (PostgreSQL:
//! 2201F), `ln(0)` with `-Infinity` and `ln(-1)` with NaN (2201E), `exp(1000)` with infinity
//! (22003), `chr(0)` with a NUL character (54000), and `sqrt(-1)`, `chr(-1)` and
//! `split_part(s, d, 0)` with 22000 (PostgreSQL: 2201F, 22023, 22023). Each wrapper checks the
//! arguments (and for `power` / `exp` the result) and otherwise answers with DataFusion's
//! function; they are registered over DataFusion's, so `^` (planned as `power`) gets it too.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature,
};

use crate::error::ErrorKind;

/// Which of PostgreSQL's argument rules a wrapper applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Rule {
    /// `power(x, y)` / `x ^ y`.
    Power,
    /// `ln(x)`, `log(x)`, `log10(x)`, `log(b, x)`.
    Logarithm,
    /// `exp(x)`.
    Exp,
    /// `sqrt(x)`.
    Sqrt,
    /// `chr(n)`.
    Chr,
    /// `split_part(s, d, n)`.
    SplitPart,
}

/// DataFusion's function `inner` with PostgreSQL's refusals of `rule`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Refusing {
    inner: Arc<ScalarUDF>,
    rule: Rule,
}

/// `array` as doubles (NULL stays NULL), for checks only.
fn doubles(array: &ArrayRef) -> Result<ArrayRef> {
    Ok(datafusion::arrow::compute::cast(array, &DataType::Float64)?)
}

impl Rule {
    /// The arguments' refusal, if any row has one.
    fn check_arguments(self, args: &[ArrayRef]) -> Result<()> {
        match self {
            Rule::Power => {
                let (x, y) = (doubles(&args[0])?, doubles(&args[1])?);
                let (x, y) = (
                    x.as_primitive::<Float64Type>(),
                    y.as_primitive::<Float64Type>(),
                );
                for row in 0..x.len() {
                    if x.is_null(row) || y.is_null(row) {
                        continue;
                    }
                    let (x, y) = (x.value(row), y.value(row));
                    if x == 0.0 && y < 0.0 {
                        return Err(super::pg_error(
                            ErrorKind::InvalidArgumentForPower,
                            "zero raised to a negative power is undefined",
                        ));
                    }
                    if x < 0.0 && y.is_finite() && y.fract() != 0.0 {
                        return Err(super::pg_error(
                            ErrorKind::InvalidArgumentForPower,
                            "a negative number raised to a non-integer power yields a complex result",
                        ));
                    }
                }
            }
            Rule::Logarithm => {
                for (i, arg) in args.iter().enumerate() {
                    let values = doubles(arg)?;
                    for value in values.as_primitive::<Float64Type>().iter().flatten() {
                        if value == 0.0 {
                            return Err(super::pg_error(
                                ErrorKind::InvalidArgumentForLogarithm,
                                "cannot take logarithm of zero",
                            ));
                        }
                        if value < 0.0 {
                            return Err(super::pg_error(
                                ErrorKind::InvalidArgumentForLogarithm,
                                "cannot take logarithm of a negative number",
                            ));
                        }
                        if args.len() == 2 && i == 0 && value == 1.0 {
                            return Err(super::pg_error(
                                ErrorKind::DivisionByZero,
                                "division by zero",
                            ));
                        }
                    }
                }
            }
            Rule::Sqrt => {
                let values = doubles(&args[0])?;
                if values
                    .as_primitive::<Float64Type>()
                    .iter()
                    .flatten()
                    .any(|v| v < 0.0)
                {
                    return Err(super::pg_error(
                        ErrorKind::InvalidArgumentForPower,
                        "cannot take square root of a negative number",
                    ));
                }
            }
            Rule::Chr => {
                let codes = datafusion::arrow::compute::cast(&args[0], &DataType::Int64)?;
                for code in codes.as_primitive::<Int64Type>().iter().flatten() {
                    if code < 0 {
                        return Err(super::pg_error(
                            ErrorKind::InvalidParameterValue,
                            "character number must be positive",
                        ));
                    }
                    if code == 0 {
                        return Err(super::pg_error(
                            ErrorKind::ProgramLimitExceeded,
                            "null character not permitted",
                        ));
                    }
                    if code > 0x10_ffff {
                        return Err(super::pg_error(
                            ErrorKind::ProgramLimitExceeded,
                            format!("requested character too large for encoding: {code}"),
                        ));
                    }
                    if (0xd800..=0xdfff).contains(&code) {
                        return Err(super::pg_error(
                            ErrorKind::ProgramLimitExceeded,
                            format!("requested character not valid for encoding: {code}"),
                        ));
                    }
                }
            }
            Rule::SplitPart => {
                let positions = datafusion::arrow::compute::cast(&args[2], &DataType::Int64)?;
                if positions
                    .as_primitive::<Int64Type>()
                    .iter()
                    .flatten()
                    .any(|n| n == 0)
                {
                    return Err(super::pg_error(
                        ErrorKind::InvalidParameterValue,
                        "field position must not be zero",
                    ));
                }
            }
            Rule::Exp => {}
        }
        Ok(())
    }

    /// The result's refusal (a float overflowing or underflowing), if any row has one.
    fn check_result(self, args: &[ArrayRef], result: &ArrayRef) -> Result<()> {
        if !matches!(self, Rule::Power | Rule::Exp) || result.data_type() != &DataType::Float64 {
            return Ok(());
        }
        let inputs = args.iter().map(doubles).collect::<Result<Vec<_>>>()?;
        let inputs: Vec<_> = inputs
            .iter()
            .map(|a| a.as_primitive::<Float64Type>())
            .collect();
        let result = result.as_primitive::<Float64Type>();
        for row in 0..result.len() {
            if result.is_null(row) || inputs.iter().any(|a| a.is_null(row)) {
                continue;
            }
            let finite_inputs = inputs.iter().all(|a| a.value(row).is_finite());
            let value = result.value(row);
            if value.is_infinite() && finite_inputs {
                return Err(super::pg_error(
                    ErrorKind::NumericValueOutOfRange,
                    "value out of range: overflow",
                ));
            }
            let underflow = match self {
                Rule::Exp => value == 0.0 && finite_inputs,
                _ => value == 0.0 && inputs[0].value(row) != 0.0 && finite_inputs,
            };
            if underflow {
                return Err(super::pg_error(
                    ErrorKind::NumericValueOutOfRange,
                    "value out of range: underflow",
                ));
            }
        }
        Ok(())
    }
}

impl ScalarUDFImpl for Refusing {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(
        &self,
        args: ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows.max(1)))
            .collect::<Result<Vec<_>>>()?;
        self.rule.check_arguments(&arrays)?;
        let answer = self.inner.invoke_with_args(args)?;
        let result = answer.to_array(rows.max(1))?;
        self.rule.check_result(&arrays, &result)?;
        Ok(answer)
    }
}

/// The wrappers, registered over DataFusion's functions of the same names.
pub fn functions() -> Vec<ScalarUDF> {
    use datafusion::functions::{math, string};
    [
        (math::power(), Rule::Power),
        (math::ln(), Rule::Logarithm),
        (math::log(), Rule::Logarithm),
        (math::log10(), Rule::Logarithm),
        (math::exp(), Rule::Exp),
        (math::sqrt(), Rule::Sqrt),
        (string::chr(), Rule::Chr),
        (string::split_part(), Rule::SplitPart),
    ]
    .into_iter()
    .map(|(inner, rule)| ScalarUDF::from(Refusing { inner, rule }))
    .collect()
}
