//! `avg` of a numeric, rounded at its last digit as PostgreSQL rounds a numeric division.
//! DataFusion's decimal average divides with integer division, which truncates:
//! `avg` of `{1, 2, 2}` was `1.6666666666666666` (PostgreSQL `1.6666666666666667`). This wrapper
//! of DataFusion's `avg` averages a decimal with one more fractional digit than its result has
//! and rounds that digit away (half away from zero, as `numeric` rounds), in grouped, plain and
//! window (sliding) accumulators alike; other argument types go to DataFusion's unchanged.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, BooleanArray, Decimal128Array};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::functions_aggregate::average::Avg;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, ReversedUDAF,
    Signature,
};

/// The widest decimal precision.
const MAX_PRECISION: u8 = 38;

/// The decimal types one average is computed in: DataFusion's, each with one more digit.
#[derive(Debug, Clone)]
struct Widening {
    /// The argument's type, one more fractional digit.
    input: DataType,
    /// The result type the inner average computes.
    inner_result: DataType,
    /// The result type (precision, scale) the caller expects.
    result: (u8, i8),
}

impl Widening {
    /// The widening for an average of `input` answering `result`; `None` when either is no
    /// decimal or has no room for another digit (then DataFusion's average answers).
    fn of(input: &DataType, result: &DataType) -> Option<Self> {
        let (DataType::Decimal128(p, s), DataType::Decimal128(rp, rs)) = (input, result) else {
            return None;
        };
        if *s < 0 || *rs >= MAX_PRECISION as i8 || *rs < 0 {
            return None;
        }
        Some(Self {
            input: DataType::Decimal128((*p + 1).min(MAX_PRECISION), *s + 1),
            inner_result: DataType::Decimal128((*rp + 1).min(MAX_PRECISION), *rs + 1),
            result: (*rp, *rs),
        })
    }

    fn widen(&self, values: &ArrayRef) -> Result<ArrayRef> {
        Ok(datafusion::arrow::compute::cast(values, &self.input)?)
    }

    /// A value of the inner result type rounded to the result's scale.
    fn round(value: i128) -> i128 {
        let (quotient, remainder) = (value / 10, value % 10);
        if remainder >= 5 {
            quotient + 1
        } else if remainder <= -5 {
            quotient - 1
        } else {
            quotient
        }
    }

    fn round_array(&self, array: &ArrayRef) -> Result<ArrayRef> {
        let values = array.as_primitive::<Decimal128Type>();
        let rounded: Decimal128Array = values.unary(Self::round);
        Ok(Arc::new(
            rounded.with_precision_and_scale(self.result.0, self.result.1)?,
        ))
    }

    fn round_scalar(&self, value: ScalarValue) -> ScalarValue {
        match value {
            ScalarValue::Decimal128(v, _, _) => {
                ScalarValue::Decimal128(v.map(Self::round), self.result.0, self.result.1)
            }
            other => other,
        }
    }

    fn field(&self, like: &FieldRef, data_type: &DataType) -> FieldRef {
        Arc::new(Field::new(
            like.name(),
            data_type.clone(),
            like.is_nullable(),
        ))
    }
}

/// PostgreSQL's rounding `avg`; see the module header.
#[derive(Debug, PartialEq, Eq, Hash, Default)]
pub struct RoundedAvg {
    inner: Avg,
}

impl RoundedAvg {
    fn widening(args: &AccumulatorArgs) -> Option<Widening> {
        Widening::of(
            args.expr_fields.first()?.data_type(),
            args.return_field.data_type(),
        )
    }

    /// Calls `f` with `args` as the inner average sees them.
    fn with_inner_args<T>(
        args: AccumulatorArgs,
        widening: &Widening,
        f: impl FnOnce(AccumulatorArgs) -> T,
    ) -> T {
        let expr_fields: Vec<FieldRef> = args
            .expr_fields
            .iter()
            .map(|field| widening.field(field, &widening.input))
            .collect();
        let inner = AccumulatorArgs {
            return_field: widening.field(&args.return_field, &widening.inner_result),
            expr_fields: &expr_fields,
            ..args
        };
        f(inner)
    }
}

impl AggregateUDFImpl for RoundedAvg {
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

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        match Self::widening(&args) {
            Some(widening) => {
                let inner = Self::with_inner_args(args, &widening, |a| self.inner.accumulator(a))?;
                Ok(Box::new(Rounding { inner, widening }))
            }
            None => self.inner.accumulator(args),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let Some(input) = args.input_fields.first() else {
            return self.inner.state_fields(args);
        };
        let Some(widening) = Widening::of(input.data_type(), args.return_field.data_type()) else {
            return self.inner.state_fields(args);
        };
        let input_fields: Vec<FieldRef> = args
            .input_fields
            .iter()
            .map(|field| widening.field(field, &widening.input))
            .collect();
        self.inner.state_fields(StateFieldsArgs {
            input_fields: &input_fields,
            return_field: widening.field(&args.return_field, &widening.inner_result),
            ..args
        })
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        match Self::widening(&args) {
            Some(widening) => Self::with_inner_args(args, &widening, |a| {
                self.inner.groups_accumulator_supported(a)
            }),
            None => self.inner.groups_accumulator_supported(args),
        }
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        match Self::widening(&args) {
            Some(widening) => {
                let inner = Self::with_inner_args(args, &widening, |a| {
                    self.inner.create_groups_accumulator(a)
                })?;
                Ok(Box::new(GroupsRounding { inner, widening }))
            }
            None => self.inner.create_groups_accumulator(args),
        }
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

/// A plain (or sliding) average in the wider types, rounded when evaluated.
#[derive(Debug)]
struct Rounding {
    inner: Box<dyn Accumulator>,
    widening: Widening,
}

impl Accumulator for Rounding {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.inner.update_batch(&[self.widening.widen(&values[0])?])
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.inner
            .retract_batch(&[self.widening.widen(&values[0])?])
    }

    fn supports_retract_batch(&self) -> bool {
        self.inner.supports_retract_batch()
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(self.widening.round_scalar(self.inner.evaluate()?))
    }

    fn size(&self) -> usize {
        self.inner.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.inner.state()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.inner.merge_batch(states)
    }
}

/// A grouped average in the wider types, rounded when evaluated.
struct GroupsRounding {
    inner: Box<dyn GroupsAccumulator>,
    widening: Widening,
}

impl GroupsAccumulator for GroupsRounding {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let wide = self.widening.widen(&values[0])?;
        self.inner
            .update_batch(&[wide], group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let averages = self.inner.evaluate(emit_to)?;
        self.widening.round_array(&averages)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        self.inner.state(emit_to)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.inner
            .merge_batch(values, group_indices, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        self.inner
            .convert_to_state(&[self.widening.widen(&values[0])?], opt_filter)
    }

    fn size(&self) -> usize {
        self.inner.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_the_extra_digit_half_away_from_zero() {
        assert_eq!(Widening::round(16_666), 1_667);
        assert_eq!(Widening::round(16_664), 1_666);
        assert_eq!(Widening::round(-16_665), -1_667);
        assert_eq!(Widening::round(-16_664), -1_666);
    }

    #[test]
    fn widens_decimals_only() {
        let w = Widening::of(&DataType::Decimal128(38, 12), &DataType::Decimal128(38, 16)).unwrap();
        assert_eq!(w.input, DataType::Decimal128(38, 13));
        assert_eq!(w.inner_result, DataType::Decimal128(38, 17));
        assert!(Widening::of(&DataType::Float64, &DataType::Float64).is_none());
    }
}
