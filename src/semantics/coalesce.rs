//! `COALESCE` typed as PostgreSQL types it: a quoted literal beside values of one non-text type
//! takes that type (`COALESCE(day, '2024-01-01')` is a date, `COALESCE(flag, 'f')` a boolean).
//! DataFusion's `coalesce` looks for a common type of a date and a text, finds none, and refused
//! the call while planning. The type of each argument is decided here; whether a text column
//! beside a number is an error (it is, 42804) is decided by `type_resolution`.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature,
};

/// DataFusion's `coalesce` with PostgreSQL's typing of quoted literals.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Coalesce {
    inner: Arc<ScalarUDF>,
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

impl ScalarUDFImpl for Coalesce {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }

    fn conditional_arguments<'a>(
        &self,
        args: &'a [Expr],
    ) -> Option<(Vec<&'a Expr>, Vec<&'a Expr>)> {
        self.inner.conditional_arguments(args)
    }

    fn short_circuits(&self) -> bool {
        self.inner.short_circuits()
    }

    /// Texts read as the common type of the other arguments when that is not text; otherwise
    /// DataFusion's common type.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let typed: Vec<DataType> = arg_types
            .iter()
            .filter(|t| !is_text(t) && !t.is_null())
            .cloned()
            .collect();
        if !typed.is_empty() && arg_types.iter().any(is_text) {
            let common = if typed.iter().all(|t| t == &typed[0]) {
                Some(typed[0].clone())
            } else {
                self.inner
                    .coerce_types(&typed)
                    .ok()
                    .and_then(|types| types.into_iter().next())
            };
            if let Some(common) = common.filter(|c| !is_text(c)) {
                return Ok(arg_types
                    .iter()
                    .map(|t| {
                        if is_text(t) {
                            common.clone()
                        } else {
                            t.clone()
                        }
                    })
                    .collect());
            }
        }
        self.inner.coerce_types(arg_types)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

/// The wrapper, registered over DataFusion's `coalesce`.
pub fn function() -> ScalarUDF {
    ScalarUDF::from(Coalesce {
        inner: datafusion::functions::core::coalesce(),
    })
}
