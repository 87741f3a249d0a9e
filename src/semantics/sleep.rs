//! `pg_sleep(seconds)`: waits without holding a thread (an async function), so a statement
//! timeout or a cancel request ends the wait as it ends any statement. Returns PostgreSQL's
//! `void`, which clients show as an empty value.

use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::async_udf::AsyncScalarUDFImpl;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The longest single sleep accepted (PostgreSQL has none; a day keeps a typo from parking a
/// session for years).
const MAX_SECONDS: f64 = 86_400.0;

/// `pg_sleep(double precision)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgSleep {
    signature: Signature,
}

impl PgSleep {
    /// The function.
    pub fn new() -> Self {
        Self {
            signature: Signature::uniform(1, vec![DataType::Float64], Volatility::Volatile),
        }
    }
}

impl ScalarUDFImpl for PgSleep {
    fn name(&self) -> &str {
        "pg_sleep"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!("pg_sleep runs asynchronously")
    }
}

#[async_trait]
impl AsyncScalarUDFImpl for PgSleep {
    async fn invoke_async_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let seconds: Vec<f64> = match &args.args[0] {
            ColumnarValue::Scalar(ScalarValue::Float64(value)) => {
                vec![value.unwrap_or(0.0); rows.max(1)]
            }
            ColumnarValue::Scalar(_) => vec![0.0],
            ColumnarValue::Array(array) => {
                let values = array.as_primitive::<Float64Type>();
                (0..values.len())
                    .map(|i| {
                        if values.is_null(i) {
                            0.0
                        } else {
                            values.value(i)
                        }
                    })
                    .collect()
            }
        };
        // One sleep per row, as PostgreSQL evaluates it per row.
        let total: f64 = seconds.iter().map(|s| s.max(0.0)).sum();
        if !total.is_finite() || total > MAX_SECONDS {
            return exec_err!("pg_sleep({total}) is longer than a day");
        }
        tokio::time::sleep(Duration::from_secs_f64(total)).await;
        Ok(ColumnarValue::Array(std::sync::Arc::new(
            StringArray::from_iter_values(std::iter::repeat_n("", rows)),
        )))
    }
}
