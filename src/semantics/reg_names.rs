//! `'name'::regclass` (and `regtype`, `regnamespace`) must name an existing object: PostgreSQL's
//! input functions raise 42P01 / 42704 / 3F000 for an unknown name, where the catalog library's
//! lookup answered NULL (so `WHERE attrelid = 'misspelled'::regclass` found no rows, silently).
//! The dialect wraps each such cast in `pg_reg_checked(lookup, kind, name [, schema lookup])`,
//! which passes the OID through and turns a missing one (or a missing schema of a qualified
//! relation name, checked first as there) into PostgreSQL's error. `to_regclass` & co. keep the NULL.

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::ErrorKind;

/// The name the dialect calls the check by.
pub const CHECKED_NAME_FUNCTION: &str = "pg_reg_checked";

/// `pg_reg_checked(oid, kind, name [, schema oid])` (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
struct RegChecked {
    signature: Signature,
}

impl ScalarUDFImpl for RegChecked {
    fn name(&self) -> &str {
        CHECKED_NAME_FUNCTION
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let text = |i: usize| match &args.args[i] {
            ColumnarValue::Scalar(value) => value.try_as_str().flatten().unwrap_or("").to_string(),
            ColumnarValue::Array(_) => String::new(),
        };
        let missing = |i: usize| match &args.args[i] {
            ColumnarValue::Scalar(value) => value.is_null(),
            ColumnarValue::Array(values) => values.null_count() > 0,
        };
        // `'s.t'::regclass` carries the lookup of `s` too: PostgreSQL names the schema first.
        if args.args.len() == 4 && missing(3) {
            let name = text(2);
            let schema = name.split('.').next().unwrap_or_default();
            return Err(missing_object("regnamespace", schema));
        }
        if missing(0) {
            return Err(missing_object(&text(1), &text(2)));
        }
        Ok(args.args[0].clone())
    }
}

/// PostgreSQL's error for a name its `kind` input function does not find.
fn missing_object(kind: &str, name: &str) -> datafusion::error::DataFusionError {
    let (error_kind, message) = match kind {
        "regnamespace" => (
            ErrorKind::UndefinedSchema,
            format!("schema \"{name}\" does not exist"),
        ),
        "regtype" => (
            ErrorKind::UndefinedObject,
            format!("type \"{name}\" does not exist"),
        ),
        _ => (
            ErrorKind::UndefinedTable,
            format!("relation \"{name}\" does not exist"),
        ),
    };
    super::pg_error(error_kind, message)
}

/// The function, for registration.
pub fn function() -> ScalarUDF {
    ScalarUDF::from(RegChecked {
        signature: Signature::variadic_any(Volatility::Immutable),
    })
}
