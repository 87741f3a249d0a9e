//! `assert_true(cond [, message])` and `raise_error(message)`: data checks in plain SQL.
//!
//! Pipeline stages stop on bad data by failing a statement, as in Databricks SQL. The error is
//! SQLSTATE P0001 (PostgreSQL's `RAISE EXCEPTION`) with the given message, so the pipeline runner
//! and any client see what was wrong.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BooleanArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::{Error, ErrorKind};

fn raise(message: String) -> DataFusionError {
    DataFusionError::External(Box::new(Error::new(ErrorKind::RaiseException, message)))
}

fn message_at(args: &[ColumnarValue], row: usize, default: &str) -> String {
    let Some(value) = args.get(1) else {
        return default.to_string();
    };
    let scalar = match value {
        ColumnarValue::Scalar(s) => Ok(s.clone()),
        ColumnarValue::Array(a) => ScalarValue::try_from_array(a, row),
    };
    match scalar {
        Ok(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
        ) => s,
        _ => default.to_string(),
    }
}

/// `assert_true(cond [, message])`: true, or an error (P0001) for a row where cond is not true.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AssertTrue {
    signature: Signature,
}

impl AssertTrue {
    /// The function.
    pub fn new() -> Self {
        Self {
            signature: Signature::one_of(
                vec![
                    datafusion::logical_expr::TypeSignature::Exact(vec![DataType::Boolean]),
                    datafusion::logical_expr::TypeSignature::Exact(vec![
                        DataType::Boolean,
                        DataType::Utf8,
                    ]),
                ],
                Volatility::Volatile,
            ),
        }
    }
}

impl Default for AssertTrue {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for AssertTrue {
    fn name(&self) -> &str {
        "assert_true"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let conditions = args.args[0].to_array(args.number_rows)?;
        let conditions = conditions.as_boolean();
        for row in 0..conditions.len() {
            if conditions.is_null(row) || !conditions.value(row) {
                return Err(raise(message_at(&args.args, row, "assert_true failed")));
            }
        }
        Ok(ColumnarValue::Array(Arc::new(BooleanArray::from(vec![
            true;
            args.number_rows
        ]))))
    }
}

/// `raise_error(message)`: fails the statement with P0001 and the message.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RaiseError {
    signature: Signature,
}

impl RaiseError {
    /// The function.
    pub fn new() -> Self {
        Self {
            signature: Signature::exact(vec![DataType::Utf8], Volatility::Volatile),
        }
    }
}

impl Default for RaiseError {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for RaiseError {
    fn name(&self) -> &str {
        "raise_error"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Null)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        if args.number_rows == 0 {
            return Ok(ColumnarValue::Scalar(ScalarValue::Null));
        }
        let mut with_message = vec![ColumnarValue::Scalar(ScalarValue::Boolean(Some(false)))];
        with_message.extend(args.args.iter().cloned());
        Err(raise(message_at(&with_message, 0, "raise_error")))
    }
}
