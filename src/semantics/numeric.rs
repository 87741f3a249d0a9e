//! PostgreSQL's `numeric` where DataFusion's decimals answer otherwise: division keeps at least
//! sixteen fractional digits (DataFusion keeps the dividend's scale plus four, so `1 / 3.0` was
//! `0.3333`), and a cast to an integer rounds (half away from zero for numeric, half to even
//! for floats, as PostgreSQL's `rint`) where DataFusion truncates.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray};
use datafusion::arrow::compute::kernels::arity::try_binary;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Float32Type, Float64Type, i256};
use datafusion::arrow::error::ArrowError;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Fewest fractional digits of a numeric quotient (PostgreSQL's NUMERIC_MIN_SIG_DIGITS).
const MIN_QUOTIENT_SCALE: i8 = 16;

/// The largest precision a Decimal128 holds.
const MAX_PRECISION: u8 = 38;

/// `numeric / numeric` with PostgreSQL's rounding and at least sixteen fractional digits.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NumericDivide {
    signature: Signature,
}

impl NumericDivide {
    /// The call that replaces `left / right` on two decimals.
    pub fn call(left: Expr, right: Expr) -> Expr {
        let udf = ScalarUDF::from(Self {
            signature: Signature::any(2, Volatility::Immutable),
        });
        Arc::new(udf).call(vec![left, right])
    }
}

/// The scale of a quotient: sixteen digits, or more when an operand has more.
fn quotient_scale(left: i8, right: i8) -> i8 {
    MIN_QUOTIENT_SCALE
        .max(left)
        .max(right)
        .min(MAX_PRECISION as i8)
}

fn scale_of(t: &DataType) -> Result<i8> {
    match t {
        DataType::Decimal128(_, s) => Ok(*s),
        other => datafusion::common::exec_err!("numeric division of {other}"),
    }
}

impl ScalarUDFImpl for NumericDivide {
    fn name(&self) -> &str {
        "numeric_divide"
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        Ok(format!(
            "{} / {}",
            args[0].schema_name(),
            args[1].schema_name()
        ))
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn display_name(&self, args: &[Expr]) -> Result<String> {
        Ok(format!("{} / {}", args[0], args[1]))
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let scale = quotient_scale(scale_of(&arg_types[0])?, scale_of(&arg_types[1])?);
        Ok(DataType::Decimal128(MAX_PRECISION, scale))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (ls, rs) = (
            scale_of(&args.args[0].data_type())?,
            scale_of(&args.args[1].data_type())?,
        );
        let scale = quotient_scale(ls, rs);
        // a/10^ls / (b/10^rs) = q/10^scale  =>  q = a * 10^(scale - ls + rs) / b
        let shift = (scale as i32 - ls as i32 + rs as i32).max(0) as u32;
        let factor = i256::from_i128(10).wrapping_pow(shift);
        super::over_arrays(&args, |arrays| {
            let quotient: PrimitiveArray<Decimal128Type> = try_binary(
                arrays[0].as_primitive::<Decimal128Type>(),
                arrays[1].as_primitive::<Decimal128Type>(),
                |a, b| divide_rounded(a, b, factor),
            )?;
            Ok(Arc::new(quotient.with_precision_and_scale(MAX_PRECISION, scale)?) as ArrayRef)
        })
    }
}

/// `a * factor / b` rounded half away from zero, checked against Decimal128's 38 digits.
fn divide_rounded(a: i128, b: i128, factor: i256) -> Result<i128, ArrowError> {
    if b == 0 {
        return Err(ArrowError::DivideByZero);
    }
    let overflow = || ArrowError::ArithmeticOverflow("numeric field overflow".into());
    let numerator = i256::from_i128(a)
        .checked_mul(factor)
        .ok_or_else(overflow)?;
    let divisor = i256::from_i128(b);
    let mut quotient = numerator.wrapping_div(divisor);
    let remainder = numerator.wrapping_rem(divisor);
    if remainder.wrapping_abs().wrapping_mul(i256::from_i128(2)) >= divisor.wrapping_abs() {
        let negative = (a < 0) != (b < 0);
        quotient = if negative {
            quotient.wrapping_sub(i256::ONE)
        } else {
            quotient.wrapping_add(i256::ONE)
        };
    }
    let limit = i256::from_i128(10).wrapping_pow(MAX_PRECISION as u32);
    if quotient.wrapping_abs() >= limit {
        return Err(overflow());
    }
    quotient.to_i128().ok_or_else(overflow)
}

/// Rounds a float or numeric to an integral value the way PostgreSQL does before it casts to an
/// integer type; the value keeps its type, so the cast that follows is exact.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RoundForIntegerCast {
    signature: Signature,
    replaces_round: bool,
}

impl RoundForIntegerCast {
    /// Wraps the operand of a cast to an integer type when it is a float or a numeric.
    pub fn call(operand: Expr) -> Expr {
        Self::build(operand, false)
    }

    /// PostgreSQL's `round(double precision)`: the same rounding, named `round`.
    pub fn round(operand: Expr) -> Expr {
        Self::build(operand, true)
    }

    fn build(operand: Expr, replaces_round: bool) -> Expr {
        let udf = ScalarUDF::from(Self {
            signature: Signature::any(1, Volatility::Immutable),
            replaces_round,
        });
        Arc::new(udf).call(vec![operand])
    }

    /// Whether a cast of `operand` (of type `from`) to `to` truncates where PostgreSQL rounds:
    /// a float or a fractional numeric, unless it is already integral (`floor(x)`).
    pub fn applies(operand: &Expr, from: &DataType, to: &DataType) -> bool {
        let integral = matches!(operand, Expr::ScalarFunction(f)
            if Integral::of(f.name()).is_some() && f.args.len() == 1);
        to.is_integer()
            && !integral
            && (from.is_floating() || matches!(from, DataType::Decimal128(_, s) if *s > 0))
    }
}

impl ScalarUDFImpl for RoundForIntegerCast {
    fn name(&self) -> &str {
        if self.replaces_round {
            "round"
        } else {
            "round_for_integer_cast"
        }
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        // Transparent inside a cast (whose name is its operand's), `round(x)` when it is round.
        Ok(if self.replaces_round {
            format!("round({})", args[0].schema_name())
        } else {
            args[0].schema_name().to_string()
        })
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn display_name(&self, args: &[Expr]) -> Result<String> {
        Ok(args[0].to_string())
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let input = arrays[0].clone();
            Ok(match input.data_type() {
                DataType::Float64 => Arc::new(
                    input
                        .as_primitive::<Float64Type>()
                        .unary::<_, Float64Type>(f64::round_ties_even),
                ) as ArrayRef,
                DataType::Float32 => Arc::new(
                    input
                        .as_primitive::<Float32Type>()
                        .unary::<_, Float32Type>(f32::round_ties_even),
                ),
                DataType::Decimal128(p, s) => {
                    let unit = 10i128.pow(*s as u32);
                    Arc::new(
                        input
                            .as_primitive::<Decimal128Type>()
                            .unary::<_, Decimal128Type>(|v| round_half_away(v, unit))
                            .with_precision_and_scale(*p, *s)?,
                    )
                }
                _ => input,
            })
        })
    }
}

/// `v` rounded to a multiple of `unit`, halves away from zero (saturating at the extremes,
/// where the cast that follows reports the overflow).
fn round_half_away(v: i128, unit: i128) -> i128 {
    let remainder = v % unit;
    let down = v - remainder;
    if remainder.abs() * 2 >= unit {
        down.saturating_add(unit * v.signum())
    } else {
        down
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotients_round_half_away_from_zero() {
        let f = i256::from_i128(10).wrapping_pow(16);
        // 1 / 3 at scale 16
        assert_eq!(divide_rounded(1, 3, f).unwrap(), 3_333_333_333_333_333);
        // 2 / 3 rounds up, -2 / 3 rounds down
        assert_eq!(divide_rounded(2, 3, f).unwrap(), 6_666_666_666_666_667);
        assert_eq!(divide_rounded(-2, 3, f).unwrap(), -6_666_666_666_666_667);
        assert!(matches!(
            divide_rounded(1, 0, f),
            Err(ArrowError::DivideByZero)
        ));
    }

    #[test]
    fn casts_round_halves_away_from_zero() {
        assert_eq!(round_half_away(25, 10), 30);
        assert_eq!(round_half_away(-35, 10), -40);
        assert_eq!(round_half_away(-34, 10), -30);
        assert_eq!(round_half_away(37, 10), 40);
    }
}

/// Which integral value `floor`, `ceil`, `trunc` or one-argument `round` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Integral {
    Floor,
    Ceil,
    Trunc,
    Round,
}

impl Integral {
    /// The mode a function name denotes (`ceiling` is PostgreSQL's other name for `ceil`).
    pub fn of(name: &str) -> Option<Self> {
        match name {
            "floor" => Some(Self::Floor),
            "ceil" | "ceiling" => Some(Self::Ceil),
            "trunc" => Some(Self::Trunc),
            "round" => Some(Self::Round),
            _ => None,
        }
    }
}

/// `floor`/`ceil`/`trunc`/`round` of a numeric as PostgreSQL answers them: an integral numeric
/// of scale 0 (DataFusion kept the scale, `floor(-1.5)` was `-2.0`, and `ceil(0.125)` overflowed
/// its precision).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IntegralNumeric {
    mode: Integral,
    signature: Signature,
}

impl IntegralNumeric {
    /// The call that replaces `f(x)` for a numeric `x` of positive scale.
    pub fn call(mode: Integral, operand: Expr) -> Expr {
        let udf = ScalarUDF::from(Self {
            mode,
            signature: Signature::any(1, Volatility::Immutable),
        });
        Arc::new(udf).call(vec![operand])
    }
}

impl ScalarUDFImpl for IntegralNumeric {
    fn name(&self) -> &str {
        match self.mode {
            Integral::Floor => "floor",
            Integral::Ceil => "ceil",
            Integral::Trunc => "trunc",
            Integral::Round => "round",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match &arg_types[0] {
            DataType::Decimal128(p, s) => Ok(DataType::Decimal128(
                ((*p as i16 - *s as i16).max(0) + 1).min(MAX_PRECISION as i16) as u8,
                0,
            )),
            other => datafusion::common::exec_err!("integral numeric of {other}"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let DataType::Decimal128(_, scale) = args.args[0].data_type() else {
            return datafusion::common::exec_err!("integral numeric of a non-numeric");
        };
        let DataType::Decimal128(precision, _) = self.return_type(&[args.args[0].data_type()])?
        else {
            unreachable!("return_type gives a decimal")
        };
        let unit = 10i128.pow(scale.max(0) as u32);
        let mode = self.mode;
        super::over_arrays(&args, |arrays| {
            Ok(Arc::new(
                arrays[0]
                    .as_primitive::<Decimal128Type>()
                    .unary::<_, Decimal128Type>(|v| {
                        let (q, r) = (v / unit, v % unit);
                        match mode {
                            Integral::Trunc => q,
                            Integral::Floor if r < 0 => q - 1,
                            Integral::Ceil if r > 0 => q + 1,
                            Integral::Round if r.abs() * 2 >= unit => q + v.signum(),
                            _ => q,
                        }
                    })
                    .with_precision_and_scale(precision, 0)?,
            ) as ArrayRef)
        })
    }
}
