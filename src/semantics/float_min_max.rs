//! `min` and `max` of floating-point values with NaN, as PostgreSQL 15 answers them: NaN sorts
//! above every number, so `max` is NaN when a NaN is among the values and `min` skips NaN unless
//! every value is one. DataFusion's grouped accumulator for floats compares with `partial_cmp`
//! and takes whichever value came last when one is NaN: `max` of `{NaN, 2}` per group was 2 and
//! `min` of `{1, NaN}` was NaN, depending on row order. Its per-group accumulator (Arrow's
//! kernels, total order) answers right; these wrappers of DataFusion's `min` / `max` use that one
//! for float arguments, never answer a float's min/max from Parquet statistics (which leave NaN
//! out), and delegate everything else.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::functions_aggregate::min_max::{Max, Min};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, ReversedUDAF, SetMonotonicity,
    Signature, StatisticsArgs,
};

fn is_float(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Float16 | DataType::Float32 | DataType::Float64
    )
}

/// DataFusion's `min` or `max`.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Inner {
    Min(Min),
    Max(Max),
}

/// `min` / `max` with PostgreSQL's NaN order for floats (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FloatMinMax {
    inner: Inner,
}

impl FloatMinMax {
    /// `min`.
    pub fn min() -> Self {
        Self {
            inner: Inner::Min(Min::new()),
        }
    }

    /// `max`.
    pub fn max() -> Self {
        Self {
            inner: Inner::Max(Max::new()),
        }
    }

    fn inner(&self) -> &dyn AggregateUDFImpl {
        match &self.inner {
            Inner::Min(min) => min,
            Inner::Max(max) => max,
        }
    }
}

impl AggregateUDFImpl for FloatMinMax {
    fn name(&self) -> &str {
        self.inner().name()
    }

    fn signature(&self) -> &Signature {
        self.inner().signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner().return_type(arg_types)
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        self.inner().accumulator(acc_args)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner().state_fields(args)
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        !is_float(args.return_field.data_type()) && self.inner().groups_accumulator_supported(args)
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        self.inner().create_groups_accumulator(args)
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        self.inner().create_sliding_accumulator(args)
    }

    fn is_descending(&self) -> Option<bool> {
        self.inner().is_descending()
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        self.inner().order_sensitivity()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner().coerce_types(arg_types)
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        self.inner().reverse_expr()
    }

    fn value_from_stats(&self, statistics_args: &StatisticsArgs) -> Option<ScalarValue> {
        // Parquet's statistics leave NaN out: a float's min/max is read from the rows.
        if is_float(statistics_args.return_type) {
            return None;
        }
        self.inner().value_from_stats(statistics_args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner().documentation()
    }

    fn set_monotonicity(&self, data_type: &DataType) -> SetMonotonicity {
        self.inner().set_monotonicity(data_type)
    }
}
