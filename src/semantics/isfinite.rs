//! `isfinite(date | timestamp | timestamptz | interval)`: true for every value but NULL, since
//! deltagres stores no infinite dates, timestamps or intervals (PostgreSQL's `'infinity'` is
//! refused on input). Other argument types are 42883, as in PostgreSQL.

use datafusion::arrow::array::{Array, BooleanArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::scalar::ScalarValue;

use crate::error::{Error, ErrorKind, type_words};

/// `isfinite` (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
struct IsFinite {
    signature: Signature,
}

impl ScalarUDFImpl for IsFinite {
    fn name(&self) -> &str {
        "isfinite"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [
                DataType::Null
                | DataType::Date32
                | DataType::Date64
                | DataType::Timestamp(..)
                | DataType::Interval(_)
                | DataType::Duration(_),
            ] => Ok(DataType::Boolean),
            [other] => Err(super::external(
                Error::new(
                    ErrorKind::UndefinedFunction,
                    format!("function isfinite({}) does not exist", type_words(other)),
                )
                .with_hint(
                    "No function matches the given name and argument types. You might need to add explicit type casts.",
                ),
            )),
            _ => Err(super::pg_error(
                ErrorKind::UndefinedFunction,
                "function isfinite takes one argument",
            )),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(match &args.args[0] {
            ColumnarValue::Scalar(value) => {
                ColumnarValue::Scalar(ScalarValue::Boolean((!value.is_null()).then_some(true)))
            }
            ColumnarValue::Array(values) => ColumnarValue::Array(std::sync::Arc::new(
                (0..values.len())
                    .map(|i| values.is_valid(i).then_some(true))
                    .collect::<BooleanArray>(),
            )),
        })
    }
}

/// The function, for registration.
pub fn function() -> ScalarUDF {
    ScalarUDF::from(IsFinite {
        signature: Signature::any(1, Volatility::Immutable),
    })
}
