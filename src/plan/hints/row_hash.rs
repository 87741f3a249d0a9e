//! `deltagres_row_hash(a, b, ...)`: a stable, non-negative 63-bit number per row for salting.
//!
//! Skew salting needs a salt that is the same every time the same data is read (so a rerun gives
//! the same partitions), which `random()` is not. The value is a fixed-seed hash of the arguments
//! plus the row's position in its batch: when the arguments repeat (a query that reads only the
//! hot key itself), the position still spreads the rows round-robin over the buckets.

use std::sync::Arc;

use datafusion::arrow::array::Int64Array;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result as DfResult;
use datafusion::common::hash_utils::create_hashes;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::physical_plan::joins::SeededRandomState;

/// A seed of our own, so the salt is independent of the repartition hash.
const SEED: SeededRandomState = SeededRandomState::with_seed(0x5eed_5a17);

/// The row hash UDF.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RowHash {
    signature: Signature,
}

impl RowHash {
    /// The function, taking any number of arguments of any type.
    pub fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

impl Default for RowHash {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for RowHash {
    fn name(&self) -> &str {
        "deltagres_row_hash"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut hashes = vec![0u64; args.number_rows];
        create_hashes(&arrays, SEED.random_state(), &mut hashes)?;
        Ok(ColumnarValue::Array(Arc::new(
            Int64Array::from_iter_values(
                hashes
                    .into_iter()
                    .enumerate()
                    .map(|(i, h)| ((h >> 1) as i64).wrapping_add(i as i64) & i64::MAX),
            ),
        )))
    }
}
