//! `array_remove(array, element)` as PostgreSQL 15 answers it: every element equal to `element`
//! is removed, and `array_remove(a, NULL)` removes the NULLs. DataFusion's `array_remove` removes
//! only the first match and its `array_remove_all` answers NULL for a NULL element; the dialect
//! plans PostgreSQL's name as this function ([`ARRAY_REMOVE`]).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Scalar};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::kernels::{boolean::not, cmp::not_distinct};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The name the dialect plans PostgreSQL's `array_remove` as.
pub const ARRAY_REMOVE: &str = "pg_array_remove";

/// See the module header.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArrayRemove {
    signature: Signature,
}

impl ArrayRemove {
    /// The function.
    pub fn new() -> Self {
        Self {
            signature: Signature::array_and_element(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for ArrayRemove {
    fn name(&self) -> &str {
        ARRAY_REMOVE
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| remove_all(&arrays[0], &arrays[1]))
    }
}

/// Each row's list without the elements not distinct from that row's element.
fn remove_all(lists: &ArrayRef, elements: &ArrayRef) -> Result<ArrayRef> {
    let DataType::List(field) = lists.data_type() else {
        return datafusion::common::exec_err!(
            "array_remove: expected a list, got {}",
            lists.data_type()
        );
    };
    let lists = lists.as_list::<i32>();
    let mut kept: Vec<ArrayRef> = Vec::with_capacity(lists.len());
    let mut lengths = Vec::with_capacity(lists.len());
    for row in 0..lists.len() {
        if lists.is_null(row) {
            lengths.push(0);
            continue;
        }
        let values = lists.value(row);
        let element = elements.slice(row, 1);
        let element = if element.data_type() == values.data_type() {
            element
        } else {
            datafusion::arrow::compute::cast(&element, values.data_type())?
        };
        let matches: BooleanArray = not_distinct(&values, &Scalar::new(element))?;
        let keep = not(&matches)?;
        let rest = datafusion::arrow::compute::filter(&values, &keep)?;
        lengths.push(rest.len());
        kept.push(rest);
    }
    let refs: Vec<&dyn Array> = kept.iter().map(|a| a.as_ref()).collect();
    let values = if refs.is_empty() {
        datafusion::arrow::array::new_empty_array(field.data_type())
    } else {
        datafusion::arrow::compute::concat(&refs)?
    };
    let list = datafusion::arrow::array::ListArray::try_new(
        Arc::new(Field::clone(field)),
        OffsetBuffer::from_lengths(lengths),
        values,
        lists.nulls().cloned(),
    )?;
    Ok(Arc::new(list))
}
