//! PostgreSQL's array containment and overlap: `a @> b`, `a <@ b` and `a && b`, with its NULLs.
//! An element is contained only by an equal element, and NULL equals nothing, so
//! `ARRAY[1, NULL] @> ARRAY[NULL]` and `ARRAY[NULL] <@ ARRAY[NULL]` are false (DataFusion's
//! `array_has_all` said true), and `ARRAY[1, NULL] && ARRAY[NULL]` is false; a NULL array gives
//! NULL; the empty array is contained by every array. Duplicates do not count
//! (`ARRAY[1, 2] @> ARRAY[2, 2]`). DataFusion had no `&&` for arrays.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Which question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArraySetOp {
    /// `a @> b` (and `b <@ a`): every element of `b` is in `a`.
    Contains,
    /// `a && b`: some element of `b` is in `a`.
    Overlaps,
}

/// `pg_array_contains(a, b)` / `pg_array_overlaps(a, b)` (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArraySet {
    op: ArraySetOp,
    signature: Signature,
}

impl ArraySet {
    /// The function for `op`.
    pub fn new(op: ArraySetOp) -> Self {
        Self {
            op,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }

    /// `op` of `left` and `right` (both lists) as a call of its function.
    pub fn call(op: ArraySetOp, left: Expr, right: Expr) -> Expr {
        Arc::new(ScalarUDF::from(Self::new(op))).call(vec![left, right])
    }
}

impl ScalarUDFImpl for ArraySet {
    fn name(&self) -> &str {
        match self.op {
            ArraySetOp::Contains => "pg_array_contains",
            ArraySetOp::Overlaps => "pg_array_overlaps",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            // One element type for both (`int[] @> bigint[]` compares numbers): the left's,
            // unless it has none (`ARRAY[NULL]`).
            let element = match element_type(&arrays[0])? {
                DataType::Null => element_type(&arrays[1])?,
                other => other,
            };
            let left = large_list(&arrays[0], &element)?;
            let right = large_list(&arrays[1], &element)?;
            let (left, right) = (left.as_list::<i64>(), right.as_list::<i64>());
            let mut out = BooleanBuilder::with_capacity(left.len());
            for row in 0..left.len() {
                if left.is_null(row) || right.is_null(row) {
                    out.append_null();
                    continue;
                }
                let (container, items) = (left.value(row), right.value(row));
                let mut present = HashSet::with_capacity(container.len());
                for i in (0..container.len()).filter(|&i| container.is_valid(i)) {
                    present.insert(ScalarValue::try_from_array(&container, i)?);
                }
                let mut found = (0..items.len())
                    .map(|i| -> Result<bool> {
                        Ok(items.is_valid(i)
                            && present.contains(&ScalarValue::try_from_array(&items, i)?))
                    })
                    .collect::<Result<Vec<bool>>>()?
                    .into_iter();
                out.append_value(match self.op {
                    ArraySetOp::Contains => found.all(|f| f),
                    ArraySetOp::Overlaps => found.any(|f| f),
                });
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// The element type of a list argument (Null for a NULL without a type).
fn element_type(values: &ArrayRef) -> Result<DataType> {
    match (super::list_element(values.data_type()), values.data_type()) {
        (Some(element), _) => Ok(element.clone()),
        (None, DataType::Null) => Ok(DataType::Null),
        (None, other) => Err(datafusion::error::DataFusionError::Plan(format!(
            "array operators take arrays, not {other}"
        ))),
    }
}

/// `values` as a large list of `element`s.
fn large_list(values: &ArrayRef, element: &DataType) -> Result<ArrayRef> {
    let to = DataType::LargeList(Arc::new(
        datafusion::arrow::datatypes::Field::new_list_field(element.clone(), true),
    ));
    Ok(datafusion::arrow::compute::cast(values, &to)?)
}
