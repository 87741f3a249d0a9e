//! `format_type(oid, typmod)` for the types our columns are sent as that the library's function
//! does not name: `record` (a struct column) and `record[]` (a list of structs); and for oids
//! that name no type, PostgreSQL's `-` (oid 0: asyncpg's type introspection asks for it) and
//! `???`. The library answers every other oid; its answer for these would be `oid(2249)`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

/// The library's `format_type` with the names it lacks.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FormatType {
    inner: Arc<ScalarUDF>,
}

impl FormatType {
    /// Wraps the library's `format_type` (registered before this replaces it).
    pub fn new(inner: Arc<ScalarUDF>) -> Self {
        Self { inner }
    }
}

/// The names the library lacks, by type oid.
fn extra_name(oid: i64) -> Option<&'static str> {
    match oid {
        0 => Some("-"),
        2249 => Some("record"),
        2287 => Some("record[]"),
        _ => None,
    }
}

impl ScalarUDFImpl for FormatType {
    fn name(&self) -> &str {
        "format_type"
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let oids = ColumnarValue::values_to_arrays(&args.args[..1])?;
        let oids = datafusion::arrow::compute::cast(&oids[0], &DataType::Int64)?;
        let oids = oids.as_primitive::<Int64Type>();
        let answered = self.inner.invoke_with_args(args)?.into_array(rows)?;
        let answered = datafusion::arrow::compute::cast(&answered, &DataType::Utf8)?;
        let answered = answered.as_string::<i32>();
        let names: StringArray = (0..answered.len())
            .map(|row| {
                let extra = (oids.len() == answered.len() && oids.is_valid(row))
                    .then(|| extra_name(oids.value(row)))
                    .flatten();
                match extra {
                    Some(name) => Some(name.to_string()),
                    None => answered.is_valid(row).then(|| {
                        let name = answered.value(row);
                        // The library's `oid(N)` for an oid that is no type; PostgreSQL's `???`.
                        if name.starts_with("oid(") {
                            "???"
                        } else {
                            name
                        }
                        .to_string()
                    }),
                }
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(names)))
    }
}
