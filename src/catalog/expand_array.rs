//! `information_schema._pg_expandarray(array)`: PostgreSQL's set-returning function that yields
//! one `(x, n)` row per element (the element and its position from 1). pgjdbc's
//! `getPrimaryKeys`, `getIndexInfo` and `getBestRowIdentifier` (DBeaver, DataGrip) call it on
//! `pg_index.indkey` in a select list.
//!
//! Here it returns the list of those `(x, n)` structs; the planner unnests it where it stands in
//! a select list (`plan::set_functions`), which gives PostgreSQL's rows.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, ListArray, StructArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The function's name, as the planner knows it once its schema qualifier is gone.
pub const EXPAND_ARRAY: &str = "_pg_expandarray";

/// See the module comment.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ExpandArray {
    signature: Signature,
}

impl ExpandArray {
    /// The function.
    pub fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl Default for ExpandArray {
    fn default() -> Self {
        Self::new()
    }
}

fn struct_fields(element: &DataType) -> Fields {
    Fields::from(vec![
        Field::new("x", element.clone(), true),
        Field::new("n", DataType::Int32, false),
    ])
}

fn element_type(list: &DataType) -> Result<DataType> {
    match list {
        DataType::List(field) | DataType::LargeList(field) => Ok(field.data_type().clone()),
        DataType::Null => Ok(DataType::Null),
        other => exec_err!("_pg_expandarray expects an array, got {other}"),
    }
}

impl ScalarUDFImpl for ExpandArray {
    fn name(&self) -> &str {
        EXPAND_ARRAY
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let element = element_type(&arg_types[0])?;
        Ok(DataType::List(Arc::new(Field::new(
            "item",
            DataType::Struct(struct_fields(&element)),
            true,
        ))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = args.args[0].to_array(args.number_rows)?;
        let element = element_type(input.data_type())?;
        let fields = struct_fields(&element);
        let DataType::List(_) = input.data_type() else {
            // NULL input: every row is NULL.
            let item = Field::new("item", DataType::Struct(fields), true);
            return Ok(ColumnarValue::Array(
                datafusion::arrow::array::new_null_array(
                    &DataType::List(Arc::new(item)),
                    args.number_rows,
                ),
            ));
        };
        let lists = input.as_list::<i32>();
        let values: ArrayRef = lists.values().clone();
        let offsets = lists.value_offsets();
        // Positions from 1 within each list, over the list's whole value buffer.
        let mut positions = vec![0i32; values.len()];
        for row in 0..lists.len() {
            let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
            for (i, position) in positions[start..end].iter_mut().enumerate() {
                *position = i as i32 + 1;
            }
        }
        let structs = StructArray::try_new(
            fields.clone(),
            vec![values, Arc::new(Int32Array::from(positions))],
            None,
        )?;
        let item = Arc::new(Field::new("item", DataType::Struct(fields), true));
        let result = ListArray::try_new(
            item,
            OffsetBuffer::new(lists.offsets().inner().clone()),
            Arc::new(structs),
            lists.nulls().cloned(),
        )?;
        Ok(ColumnarValue::Array(Arc::new(result)))
    }
}
