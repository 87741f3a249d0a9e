//! `CAST(x AS numeric)` without a precision, as PostgreSQL types it: the value keeps its own
//! scale. DataFusion casts to `decimal(38, 10)`, so `1::numeric` printed `1.0000000000` and
//! `1.25::numeric` `1.2500000000` where PostgreSQL prints `1` and `1.25`. The dialect plans such a
//! cast as `pg_numeric(x)` (constant texts get their exact precision there instead): a decimal
//! stays as it is, an integer becomes a numeric of scale 0, and anything else (a float, a text
//! column) the engine's default `decimal(38, 10)`, the one place an Arrow column's single scale
//! cannot follow PostgreSQL's per-value scale (see the README).

use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The decimal type `CAST(x AS numeric)` gives a value of type `from`.
pub fn numeric_type_of(from: &DataType) -> DataType {
    match from {
        DataType::Decimal128(p, s) => DataType::Decimal128(*p, *s),
        DataType::Int8 | DataType::UInt8 => DataType::Decimal128(3, 0),
        DataType::Int16 | DataType::UInt16 => DataType::Decimal128(5, 0),
        DataType::Int32 | DataType::UInt32 => DataType::Decimal128(10, 0),
        DataType::Int64 => DataType::Decimal128(19, 0),
        DataType::UInt64 => DataType::Decimal128(20, 0),
        _ => DataType::Decimal128(38, 10),
    }
}

/// `pg_numeric(x)`: the cast above.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CastToNumeric {
    signature: Signature,
}

impl CastToNumeric {
    /// The function, registered as `pg_numeric`.
    pub fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl Default for CastToNumeric {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for CastToNumeric {
    fn name(&self) -> &str {
        "pg_numeric"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn display_name(&self, args: &[datafusion::logical_expr::Expr]) -> Result<String> {
        Ok(format!("CAST({} AS numeric)", args[0]))
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(numeric_type_of(&arg_types[0]))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let to = args.return_field.data_type().clone();
        super::over_arrays(&args, |arrays| {
            let options = CastOptions {
                safe: false,
                ..Default::default()
            };
            cast_with_options(&arrays[0], &to, &options).map_err(Into::into)
        })
    }
}
