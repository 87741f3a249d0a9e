//! Arithmetic that fails where PostgreSQL's does: integer and numeric overflow is 22003 (DataFusion
//! wraps around), float overflow to infinity is 22003 and float division by zero 22012 (DataFusion
//! answers `inf`).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Float64Type};
use datafusion::arrow::error::ArrowError;
use datafusion::error::Result;
use datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer;
use datafusion::logical_expr::{
    ColumnarValue, Expr, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion::physical_expr_common::datum::apply;

use super::pg_error;
use crate::error::ErrorKind;

/// A left-to-right chain of checked operators (`a + b - c`): one operator for two operands, or
/// a longer chain of one integer or float type flattened into one call, since DataFusion names
/// (and so re-walks) every nested function call each time it asks for a type and a 2,000-term
/// sum of nested calls took minutes to plan.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CheckedArithmetic {
    ops: Vec<Operator>,
    signature: Signature,
}

impl CheckedArithmetic {
    /// The call that replaces `left op right` when [`Self::applies`] says it must; extends
    /// `left` when it is already a chain of the same type.
    pub fn call(
        op: Operator,
        left: Expr,
        right: Expr,
        left_type: &DataType,
        right_type: &DataType,
    ) -> Expr {
        let same_type = left_type == right_type && !is_decimal128(left_type);
        if same_type
            && let Expr::ScalarFunction(f) = &left
            && let Some(chain) = f.func.inner().downcast_ref::<CheckedArithmetic>()
        {
            let mut ops = chain.ops.clone();
            ops.push(op);
            let mut args = f.args.clone();
            args.push(right);
            return Self::build(ops, args);
        }
        Self::build(vec![op], vec![left, right])
    }

    fn build(ops: Vec<Operator>, args: Vec<Expr>) -> Expr {
        let udf = ScalarUDF::from(Self {
            signature: Signature::any(args.len(), Volatility::Immutable),
            ops,
        });
        Arc::new(udf).call(args)
    }

    /// Whether `left op right`, with both sides already of the types type coercion gave them,
    /// can answer differently from PostgreSQL without a check.
    pub fn applies(op: Operator, left: &DataType, right: &DataType) -> bool {
        let wrapping = matches!(op, Operator::Plus | Operator::Minus | Operator::Multiply);
        let both = |f: fn(&DataType) -> bool| f(left) && f(right);
        (wrapping && (both(DataType::is_integer) || both(is_decimal128)))
            || (both(DataType::is_floating) && (wrapping || op == Operator::Divide))
    }
}

fn is_decimal128(t: &DataType) -> bool {
    matches!(t, DataType::Decimal128(..))
}

impl ScalarUDFImpl for CheckedArithmetic {
    fn name(&self) -> &str {
        // Plans show this name: the operator's, when the chain has only one kind.
        let first = self.ops[0];
        match first {
            _ if self.ops.iter().any(|op| *op != first) => "checked_arithmetic",
            Operator::Plus => "checked_add",
            Operator::Minus => "checked_subtract",
            Operator::Multiply => "checked_multiply",
            _ => "checked_divide",
        }
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        // The name `a + b` had, so the rewrite changes no column's name.
        let mut text = args[0].schema_name().to_string();
        for (op, arg) in self.ops.iter().zip(&args[1..]) {
            text = format!("{text} {op} {}", arg.schema_name());
        }
        Ok(text)
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn display_name(&self, args: &[Expr]) -> Result<String> {
        let mut text = args[0].to_string();
        for (op, arg) in self.ops.iter().zip(&args[1..]) {
            text = format!("{text} {op} {arg}");
        }
        Ok(text)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let mut t = arg_types[0].clone();
        for (op, right) in self.ops.iter().zip(&arg_types[1..]) {
            t = BinaryTypeCoercer::new(&t, op, right).get_result_type()?;
        }
        Ok(t)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mut acc = args.args[0].clone();
        for (op, right) in self.ops.iter().zip(&args.args[1..]) {
            acc = step(*op, &acc, right)?;
        }
        Ok(acc)
    }
}

/// One operator of a chain, checked.
fn step(op: Operator, left: &ColumnarValue, right: &ColumnarValue) -> Result<ColumnarValue> {
    let left_type = left.data_type();
    if left_type.is_floating() {
        return float_op(op, left, right);
    }
    let result = apply(left, right, |l, r| match op {
        Operator::Plus => numeric::add(l, r),
        Operator::Minus => numeric::sub(l, r),
        _ => numeric::mul(l, r),
    })
    .map_err(|e| match e {
        datafusion::error::DataFusionError::ArrowError(inner, _)
            if matches!(*inner, ArrowError::ArithmeticOverflow(_)) =>
        {
            out_of_range(&left_type)
        }
        other => other,
    })?;
    if let DataType::Decimal128(precision, _) =
        BinaryTypeCoercer::new(&left_type, &op, &right.data_type()).get_result_type()?
    {
        let array = result.to_array(1)?;
        if array
            .as_primitive::<Decimal128Type>()
            .validate_decimal_precision(precision)
            .is_err()
        {
            return Err(out_of_range(&left_type));
        }
    }
    Ok(result)
}

/// PostgreSQL's message for a value its type cannot hold.
fn out_of_range(t: &DataType) -> datafusion::error::DataFusionError {
    let message = match t {
        DataType::Int16 | DataType::Int8 => "smallint out of range",
        DataType::Int32 => "integer out of range",
        DataType::Int64 => "bigint out of range",
        DataType::Decimal128(..) => "numeric field overflow",
        _ => "value out of range: overflow",
    };
    pg_error(ErrorKind::NumericValueOutOfRange, message)
}

/// Float arithmetic as DataFusion computes it, then PostgreSQL's checks on each row: a finite
/// pair giving infinity overflowed, and a divisor of zero (with a dividend that is not NaN) is
/// an error rather than infinity.
fn float_op(op: Operator, left: &ColumnarValue, right: &ColumnarValue) -> Result<ColumnarValue> {
    let result = apply(left, right, |l, r| match op {
        Operator::Plus => numeric::add(l, r),
        Operator::Minus => numeric::sub(l, r),
        Operator::Multiply => numeric::mul(l, r),
        _ => numeric::div(l, r),
    })?;
    let rows = match &result {
        ColumnarValue::Array(a) => a.len(),
        ColumnarValue::Scalar(_) => 1,
    };
    let as_f64 = |v: &ColumnarValue| -> Result<ArrayRef> {
        Ok(datafusion::arrow::compute::cast(
            &v.to_array(rows)?,
            &DataType::Float64,
        )?)
    };
    let (left, right, out) = (as_f64(left)?, as_f64(right)?, as_f64(&result)?);
    let (left, right, out) = (
        left.as_primitive::<Float64Type>(),
        right.as_primitive::<Float64Type>(),
        out.as_primitive::<Float64Type>(),
    );
    for row in 0..rows {
        if out.is_null(row) {
            continue;
        }
        let (l, r, o) = (left.value(row), right.value(row), out.value(row));
        if op == Operator::Divide && r == 0.0 && !l.is_nan() {
            return Err(pg_error(ErrorKind::DivisionByZero, "division by zero"));
        }
        if o.is_infinite() && l.is_finite() && r.is_finite() {
            return Err(out_of_range(&DataType::Float64));
        }
    }
    Ok(result)
}
