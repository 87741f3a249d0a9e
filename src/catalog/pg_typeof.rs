//! `pg_typeof(x)`: the name of the type of its argument, as PostgreSQL's `format_type` writes it
//! (`integer[]`, `jsonb`, `character varying`): what people ask a server when a value is not
//! what they expected. The answer is the type deltagres gives the value (an integer constant is
//! a `bigint` here, see the README's deliberate differences), sent as text.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The `pg_typeof` function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgTypeof {
    signature: Signature,
}

impl PgTypeof {
    /// The function, taking one argument of any type.
    pub fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for PgTypeof {
    fn name(&self) -> &str {
        "pg_typeof"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // The name depends only on the argument's field (its metadata marks json and varchar).
        let name = super::format_type_name(&args.arg_fields[0]);
        let name = ScalarValue::Utf8(Some(name));
        Ok(match &args.args[0] {
            ColumnarValue::Array(values) => {
                ColumnarValue::Array(name.to_array_of_size(values.len())?)
            }
            ColumnarValue::Scalar(_) => ColumnarValue::Scalar(name),
        })
    }
}
